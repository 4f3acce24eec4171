package batch_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

func itoa(_ context.Context, i int) (string, error) { return strconv.Itoa(i), nil }

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestMapBadInput(t *testing.T) {
	t.Parallel()
	_, err := batch.Map(t.Context(), seq(3), 0, itoa).Await(t.Context())
	require.ErrorIs(t, err, batch.ErrLimit)
	assert.Contains(t, err.Error(), "got 0")
	_, err = batch.Map[int, string](t.Context(), seq(3), 1, nil).Await(t.Context())
	require.ErrorContains(t, err, "nil function")
	got, err := batch.Map(t.Context(), nil, 1, itoa).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{}, got)
}

func TestMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		n       int
		limit   int
		fail    map[int]error // inputs that fail, with their error
		panic   map[int]bool
		collect bool
		wantErr error
	}{
		{name: "one", n: 1, limit: 1},
		{name: "all succeed", n: 50, limit: 3},
		{name: "limit above the inputs", n: 3, limit: 10},
		{name: "first error", n: 50, limit: 3, fail: map[int]error{7: errA}, wantErr: errA},
		{name: "all fail", n: 5, limit: 2, fail: map[int]error{0: errA, 1: errA, 2: errA, 3: errA, 4: errA}, wantErr: errA},
		{name: "panicking call", n: 5, limit: 2, panic: map[int]bool{3: true}, wantErr: errB},
		{name: "collect all, mixed", n: 6, limit: 2, fail: map[int]error{1: errA, 4: errB}, collect: true, wantErr: errB},
		{name: "collect all, all succeed", n: 6, limit: 2, collect: true},
		{name: "collect all, panicking call", n: 4, limit: 4, panic: map[int]bool{0: true}, collect: true, wantErr: errB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var running, peak atomic.Int64
			fn := func(_ context.Context, i int) (string, error) {
				n := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				if tt.panic[i] {
					panic(errB)
				}
				if err := tt.fail[i]; err != nil {
					return "", err
				}
				return strconv.Itoa(i), nil
			}
			var opts []batch.MapOption
			if tt.collect {
				opts = append(opts, batch.CollectAll())
			}
			got, err := batch.Map(t.Context(), seq(tt.n), tt.limit, fn, opts...).Await(t.Context())
			assert.LessOrEqual(t, peak.Load(), int64(tt.limit))
			if tt.wantErr == nil {
				require.NoError(t, err)
				want, _ := batch.Map(t.Context(), seq(tt.n), 1, itoa).Await(t.Context())
				assert.Equal(t, want, got, "results in input order")
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			if len(tt.panic) > 0 {
				var pe *future.PanicError
				require.ErrorAs(t, err, &pe)
			}
			if !tt.collect {
				assert.Nil(t, got)
				return
			}
			var me *batch.MapError
			require.ErrorAs(t, err, &me)
			require.Len(t, me.Errs, tt.n)
			for i := range tt.n {
				switch {
				case tt.fail[i] != nil:
					require.ErrorIs(t, me.Errs[i], tt.fail[i])
					assert.Empty(t, got[i])
				case tt.panic[i]:
					require.ErrorIs(t, me.Errs[i], errB)
				default:
					require.NoError(t, me.Errs[i])
					assert.Equal(t, strconv.Itoa(i), got[i])
				}
			}
		})
	}
}

// waitForCancel is a call that only returns when its context ends: the
// kind of task that deadlocks a pool whose submitter blocks on a full
// limit while the error that should cancel it waits behind.
func waitForCancel(ctx context.Context, _ int) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// The conc #88/#107 scenario: a concurrency limit, an early error, and
// tasks that wait for the context. Map must fail with the error and leave
// nothing running. synctest reports a deadlock instead of hanging.
func TestMapNoDeadlockLimitErrorAndWaitingTasks(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 3, 8} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var started atomic.Int64
				fn := func(ctx context.Context, i int) (string, error) {
					started.Add(1)
					// The failing input comes after the waiting ones that
					// fill the limit (except with a limit of 1, where the
					// first input fails); the rest wait on ctx.
					if i == limit-1 {
						<-time.After(time.Millisecond) // fake time: the waiters block first
						return "", errA
					}
					return waitForCancel(ctx, i)
				}
				_, err := batch.Map(t.Context(), seq(100), limit, fn).Await(t.Context())
				require.ErrorIs(t, err, errA)
				assert.Equal(t, int64(limit), started.Load(), "no input started after the error")
			})
		})
	}
}

// The same tasks with no error: only the parent context ends the run.
func TestMapParentContextEndsWaitingTasks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := batch.Map(ctx, seq(10), 2, waitForCancel).Await(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded)

		got, err := batch.Map(ctx, seq(3), 1, itoa, batch.CollectAll()).Await(t.Context())
		var me *batch.MapError
		require.ErrorAs(t, err, &me)
		for _, e := range me.Errs {
			require.ErrorIs(t, e, context.DeadlineExceeded, "never started")
		}
		assert.Len(t, got, 3)
	})
}

// Cancelling Map's future cancels the calls' context.
func TestMapCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var returned atomic.Int64
		f := batch.Map(t.Context(), seq(10), 3, func(ctx context.Context, i int) (string, error) {
			defer returned.Add(1)
			return waitForCancel(ctx, i)
		})
		synctest.Wait()
		require.True(t, f.Cancel())
		synctest.Wait()
		assert.Equal(t, int64(3), returned.Load())
	})
}

func TestMapProgress(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got []batch.Progress
	)
	report := func(p batch.Progress) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, p)
	}
	fn := func(_ context.Context, i int) (int, error) {
		if i%3 == 0 {
			return 0, errA
		}
		return i, nil
	}
	_, err := batch.Map(t.Context(), seq(9), 4, fn, batch.CollectAll(), batch.WithProgress(report)).Await(t.Context())
	require.Error(t, err)
	require.Len(t, got, 9)
	for i, p := range got {
		assert.Equal(t, i+1, p.Done, "serialized, one step at a time")
		assert.Equal(t, 9, p.Total)
	}
	assert.Equal(t, 3, got[8].Failed)

	t.Run("panicking report", func(t *testing.T) {
		t.Parallel()
		_, err := batch.Map(t.Context(), seq(4), 1, itoa, batch.WithProgress(func(batch.Progress) { panic(errB) })).Await(t.Context())
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.ErrorIs(t, err, errB)
	})
}

func TestMapErrorText(t *testing.T) {
	t.Parallel()
	err := (&batch.MapError{Errs: []error{nil, errA, errors.New("x")}}).Error()
	assert.Equal(t, "batch: 2 of 3 calls failed\n\ta failed\n\tx", err)
}
