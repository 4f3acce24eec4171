package batch_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// after returns a future that settles with v, or err if not nil, once d
// has passed, or with its context's error when cancelled first.
func after(ctx context.Context, d time.Duration, v int, err error) *future.Future[int] {
	return future.Go(ctx, func(ctx context.Context) (int, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return v, err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
}

type pair struct {
	i int
	r batch.Result[int]
}

func collect(seq func(func(int, batch.Result[int]) bool)) []pair {
	var got []pair
	for i, r := range seq {
		got = append(got, pair{i, r})
	}
	return got
}

func TestCompleted(t *testing.T) {
	t.Parallel()
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		assert.Empty(t, collect(batch.Completed[int]()))
	})
	t.Run("one", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, []pair{{0, batch.Result[int]{Value: 1}}}, collect(batch.Completed(future.Resolved(1))))
	})
	t.Run("completion order, settled ones first", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: later, v: 0}, in{kind: failed, err: errA}, in{kind: later, v: 2}, in{kind: ok, v: 3})
		var got []pair
		// Each step settles the next input from inside the loop, so the
		// completion order is fixed: 1 and 3 (already settled), then 2, 0.
		next := []int{2, 0}
		for i, r := range batch.Completed(x.fs...) {
			got = append(got, pair{i, r})
			if len(next) > 0 && len(got) >= 2 {
				x.settle(next[0])
				next = next[1:]
			}
		}
		assert.Equal(t, []pair{
			{1, batch.Result[int]{Err: errA}},
			{3, batch.Result[int]{Value: 3}},
			{2, batch.Result[int]{Value: 2}},
			{0, batch.Result[int]{Value: 0}},
		}, got)
	})
	t.Run("all fail, panicking and nil inputs", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: panics, err: errA}, in{kind: null}, in{kind: failed, err: errB})
		got := map[int]error{}
		for i, r := range batch.Completed(x.fs...) {
			got[i] = r.Err
		}
		var pe *future.PanicError
		require.ErrorAs(t, got[0], &pe)
		require.ErrorIs(t, got[1], batch.ErrNilFuture)
		require.ErrorIs(t, got[2], errB)
	})
	t.Run("early break leaves the rest running", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: ok, v: 1}, in{kind: blocks}, in{kind: later, v: 3})
		for i := range batch.Completed(x.fs...) {
			require.Equal(t, 0, i)
			break
		}
		x.requirePending(t)
		// The callbacks left behind must not block the settling goroutine.
		x.settle(2)
		_, err := x.fs[2].Await(t.Context())
		require.NoError(t, err)
	})
	t.Run("ranges twice", func(t *testing.T) {
		t.Parallel()
		seq := batch.Completed(future.Resolved(1), future.Rejected[int](errA))
		assert.Equal(t, collect(seq), collect(seq))
	})
}

func TestCompletedContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		fs := []*future.Future[int]{after(t.Context(), 3*time.Second, 0, nil), after(t.Context(), time.Second, 1, nil)}
		got := collect(batch.CompletedContext(ctx, fs...))
		assert.Equal(t, []pair{{1, batch.Result[int]{Value: 1}}}, got)
		assert.Equal(t, 2*time.Second, time.Since(start))
		require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
		// The input goes on: ctx bounded the loop only.
		v, err := fs[0].Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 0, v)
	})
}

func TestWait(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name          string
		opts          batch.WaitOptions
		ins           []time.Duration // settle times; a negative one fails
		done, pending []int
		took          time.Duration
	}{
		{name: "empty", done: []int{}, pending: []int{}},
		{name: "one", ins: []time.Duration{s}, done: []int{0}, pending: []int{}, took: s},
		{name: "all fail", ins: []time.Duration{-3 * s, -s}, done: []int{0, 1}, pending: []int{}, took: 3 * s},
		{name: "all completed", ins: []time.Duration{3 * s, s, -2 * s}, done: []int{0, 1, 2}, pending: []int{}, took: 3 * s},
		{name: "timeout", opts: batch.WaitOptions{Timeout: 2 * s}, ins: []time.Duration{3 * s, s, 5 * s}, done: []int{1}, pending: []int{0, 2}, took: 2 * s},
		{name: "first completed", opts: batch.WaitOptions{Until: batch.FirstCompleted}, ins: []time.Duration{3 * s, 2 * s, 5 * s}, done: []int{1}, pending: []int{0, 2}, took: 2 * s},
		{name: "first completed, a failure counts", opts: batch.WaitOptions{Until: batch.FirstCompleted}, ins: []time.Duration{3 * s, -s}, done: []int{1}, pending: []int{0}, took: s},
		{name: "first error", opts: batch.WaitOptions{Until: batch.FirstError}, ins: []time.Duration{s, -2 * s, 5 * s}, done: []int{0, 1}, pending: []int{2}, took: 2 * s},
		{name: "first error, none fails", opts: batch.WaitOptions{Until: batch.FirstError}, ins: []time.Duration{s, 2 * s}, done: []int{0, 1}, pending: []int{}, took: 2 * s},
		{name: "first error before the timeout", opts: batch.WaitOptions{Until: batch.FirstError, Timeout: 4 * s}, ins: []time.Duration{s, 5 * s, -3 * s}, done: []int{0, 2}, pending: []int{1}, took: 3 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				fs := make([]*future.Future[int], len(tt.ins))
				for i, d := range tt.ins {
					var err error
					if d < 0 {
						d, err = -d, errA
					}
					fs[i] = after(t.Context(), d, i, err)
				}
				start := time.Now()
				done, pending := batch.Wait(t.Context(), tt.opts, fs...)
				assert.Equal(t, tt.took, time.Since(start))
				assert.Equal(t, tt.done, done)
				assert.Equal(t, tt.pending, pending)
				// Nothing was cancelled: every pending input finishes.
				for _, i := range pending {
					_, err := fs[i].Await(t.Context())
					require.NoError(t, err)
				}
			})
		})
	}
}

func TestWaitCancelPending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fs := []*future.Future[int]{after(t.Context(), time.Second, 0, nil), after(t.Context(), time.Hour, 1, nil), nil}
		done, pending := batch.Wait(t.Context(), batch.WaitOptions{Timeout: 2 * time.Second, CancelPending: true}, fs...)
		assert.Equal(t, []int{0, 2}, done, "a nil input counts as settled")
		assert.Equal(t, []int{1}, pending)
		_, err := fs[1].Peek()
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestWaitContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		fs := []*future.Future[int]{after(t.Context(), 2*time.Second, 0, nil), future.Resolved(1)}
		done, pending := batch.Wait(ctx, batch.WaitOptions{}, fs...)
		assert.Equal(t, []int{1}, done)
		assert.Equal(t, []int{0}, pending)
		require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
		_, err := fs[0].Await(t.Context())
		require.NoError(t, err, "the pending input goes on")
	})
}

func TestWaitPanickingAndSettledInputs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		x := build(t, in{kind: panics, err: errA}, in{kind: ok, v: 1}, in{kind: blocks})
		start := time.Now()
		done, pending := batch.Wait(t.Context(), batch.WaitOptions{Until: batch.FirstError, Timeout: time.Hour}, x.fs...)
		assert.Zero(t, time.Since(start), "the panic is the first error")
		assert.Equal(t, []int{0, 1}, done)
		assert.Equal(t, []int{2}, pending)
		x.requirePending(t)

		// Already settled inputs satisfy FirstCompleted at once.
		done, pending = batch.Wait(t.Context(), batch.WaitOptions{Until: batch.FirstCompleted}, x.fs[1:]...)
		assert.Equal(t, []int{0}, done)
		assert.Equal(t, []int{1}, pending)
	})
}
