package batch_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// bounded awaits f with a generous bound, so that a regression that would
// leave f pending forever fails the test instead of hanging it.
func bounded[T any](t *testing.T, f *future.Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the future was left pending")
	return v, err
}

func TestUnhashableKeys(t *testing.T) {
	t.Parallel()
	bad := []int{1, 2}
	t.Run("Group", func(t *testing.T) {
		t.Parallel()
		var g batch.Group[any, int]
		_, err := bounded(t, g.Do(t.Context(), bad, func(context.Context) (int, error) { return 1, nil }))
		require.ErrorIs(t, err, batch.ErrUnhashableKey)
		require.ErrorContains(t, err, "[]int")
		g.Forget(bad) // ignored, not a panic
		v, err := bounded(t, g.Do(t.Context(), "fine", func(context.Context) (int, error) { return 2, nil }))
		require.NoError(t, err, "the Group goes on serving")
		require.Equal(t, 2, v)
	})
	t.Run("Coalescer", func(t *testing.T) {
		t.Parallel()
		c := batch.NewCoalescer(func(_ context.Context, keys []any) (map[any]int, error) {
			m := map[any]int{}
			for _, k := range keys {
				m[k] = len(k.(string))
			}
			return m, nil
		}, batch.BatchOptions{})
		_, err := bounded(t, c.Load(t.Context(), bad))
		require.ErrorIs(t, err, batch.ErrUnhashableKey)
		v, err := bounded(t, c.Load(t.Context(), "four"))
		require.NoError(t, err, "the Coalescer goes on serving")
		require.Equal(t, 4, v)
	})
	t.Run("Batcher", func(t *testing.T) {
		t.Parallel()
		b := batch.NewBatcher(func(_ context.Context, _ any, reqs []int) ([]int, error) {
			return reqs, nil
		}, batch.BatchOptions{})
		_, err := bounded(t, b.Submit(t.Context(), bad, 1))
		require.ErrorIs(t, err, batch.ErrUnhashableKey)
		v, err := bounded(t, b.Submit(t.Context(), "group", 5))
		require.NoError(t, err, "the Batcher goes on serving")
		require.Equal(t, 5, v)
	})
}

// TestGroupDoAfterSettlementStartsAfresh: once a caller has seen the
// shared future settle, Do must not hand out that settled future again.
func TestGroupDoAfterSettlementStartsAfresh(t *testing.T) {
	t.Parallel()
	var g batch.Group[string, int]
	var n atomic.Int64
	fn := func(context.Context) (int, error) { return int(n.Add(1)), nil }
	for range 20_000 {
		f := g.Do(t.Context(), "k", fn)
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		h := g.Do(t.Context(), "k", fn)
		require.NotSame(t, f, h, "a settled future is not shared")
		w, err := h.Await(t.Context())
		require.NoError(t, err)
		require.Greater(t, w, v, "the work ran again")
	}
}

// TestMapWaitsForEveryCallWhenFnCallsGoexit: a Goexit in one call must not
// settle Map while other calls are still running, and Map's own error
// names it.
func TestMapWaitsForEveryCallWhenFnCallsGoexit(t *testing.T) {
	t.Parallel()
	for range 200 {
		var running atomic.Int64
		started := make(chan struct{}, 4)
		f := batch.Map(t.Context(), []int{0, 1, 2, 3}, 4, func(ctx context.Context, i int) (int, error) {
			running.Add(1)
			defer running.Add(-1)
			started <- struct{}{}
			if i == 0 {
				for range 3 {
					<-started // the others are running too (they refill)
					started <- struct{}{}
				}
				runtime.Goexit()
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		_, err := bounded(t, f)
		require.ErrorContains(t, err, "batch: Map function called runtime.Goexit")
		require.Zero(t, running.Load(), "Map settled while calls it started were running")
	}
}

func TestMapUserFunction(t *testing.T) {
	t.Parallel()
	run := func(fn func(context.Context, int) (int, error)) error {
		_, err := bounded(t, batch.Map(t.Context(), []int{1, 2, 3}, 2, fn))
		return err
	}
	err := run(func(context.Context, int) (int, error) { panic("user") })
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "user", pe.Value)

	err = run(func(context.Context, int) (int, error) { runtime.Goexit(); return 0, nil })
	require.ErrorContains(t, err, "runtime.Goexit")

	// Blocking until cancelled: cancelling the result releases the calls.
	released := make(chan struct{}, 3)
	var started sync.WaitGroup
	started.Add(3)
	f := batch.Map(t.Context(), []int{1, 2, 3}, 3, func(ctx context.Context, _ int) (int, error) {
		started.Done()
		<-ctx.Done()
		released <- struct{}{}
		return 0, ctx.Err()
	})
	started.Wait()
	require.True(t, f.Cancel())
	for range 3 {
		<-released
	}
}

// TestBulkUserFunction runs the bulk functions of Batcher and Coalescer, and
// Group's work, panicking, calling runtime.Goexit, and blocking until their
// context is cancelled: every caller gets an error, none is left pending.
func TestBulkUserFunction(t *testing.T) {
	t.Parallel()
	behaviours := map[string]func(ctx context.Context){
		"panic":  func(context.Context) { panic("user") },
		"goexit": func(context.Context) { runtime.Goexit() },
	}
	checks := map[string]func(t *testing.T, err error){
		"panic": func(t *testing.T, err error) {
			var pe *future.PanicError
			require.ErrorAs(t, err, &pe)
		},
		"goexit": func(t *testing.T, err error) { require.ErrorContains(t, err, "runtime.Goexit") },
	}
	for name, do := range behaviours {
		t.Run("Batcher/"+name, func(t *testing.T) {
			t.Parallel()
			b := batch.NewBatcher(func(ctx context.Context, _ string, reqs []int) ([]int, error) {
				do(ctx)
				return reqs, nil
			}, batch.BatchOptions{Window: time.Millisecond})
			fs := []*future.Future[int]{b.Submit(t.Context(), "g", 1), b.Submit(t.Context(), "g", 2)}
			for _, f := range fs {
				_, err := bounded(t, f)
				checks[name](t, err)
			}
		})
		t.Run("Coalescer/"+name, func(t *testing.T) {
			t.Parallel()
			c := batch.NewCoalescer(func(ctx context.Context, keys []string) (map[string]int, error) {
				do(ctx)
				return nil, nil
			}, batch.BatchOptions{MaxSize: 2})
			fs := []*future.Future[int]{c.Load(t.Context(), "a"), c.Load(t.Context(), "b")}
			for _, f := range fs {
				_, err := bounded(t, f)
				checks[name](t, err)
			}
		})
		t.Run("Group/"+name, func(t *testing.T) {
			t.Parallel()
			var g batch.Group[string, int]
			_, err := bounded(t, g.Do(t.Context(), "k", func(ctx context.Context) (int, error) {
				do(ctx)
				return 1, nil
			}))
			checks[name](t, err)
		})
	}
	t.Run("blocking until cancelled", func(t *testing.T) {
		t.Parallel()
		ended := make(chan error, 2)
		started := make(chan struct{}, 2)
		block := func(ctx context.Context) { started <- struct{}{}; <-ctx.Done(); ended <- ctx.Err() }
		b := batch.NewBatcher(func(ctx context.Context, _ string, reqs []int) ([]int, error) {
			block(ctx)
			return nil, ctx.Err()
		}, batch.BatchOptions{MaxSize: 1})
		ctx, cancel := context.WithCancel(t.Context())
		f := b.Submit(ctx, "g", 1)
		<-started // a batch every caller left before it was sent is not sent
		cancel()
		_, err := bounded(t, f)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, <-ended, context.Canceled, "the bulk call is told when every caller gave up")

		var g batch.Group[string, int]
		h := g.Do(t.Context(), "k", func(ctx context.Context) (int, error) { block(ctx); return 0, ctx.Err() })
		require.True(t, h.Cancel())
		require.ErrorIs(t, <-ended, context.Canceled)
	})
}

// TestCompletedContextNilContextConcurrentRanges ranges one iterator from
// two goroutines; the race detector catches a write to shared state.
func TestCompletedContextNilContextConcurrentRanges(t *testing.T) {
	t.Parallel()
	//lint:ignore SA1012 a nil ctx is the documented input under test
	seq := batch.CompletedContext[int](nil, future.Resolved(1), future.Resolved(2))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			n := 0
			for range seq {
				n++
			}
			require.Equal(t, 2, n)
		})
	}
	wg.Wait()
}

// heapGrowth runs abandon 20 000 times and returns how much the live heap
// grew, as a fraction of 20 000 × 90 bytes, the smallest registration a
// leak used to cost per call.
func heapGrowth(abandon func()) float64 {
	const n = 20_000
	before := liveHeap()
	for range n {
		abandon()
	}
	after := liveHeap()
	return (float64(after) - float64(before)) / (n * 90)
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAbandonedWaitsLeaveNothingOnPendingInputs abandons each API that
// registers on its inputs, many times, on inputs that stay pending: the
// heap must not grow with the number of calls.
func TestAbandonedWaitsLeaveNothingOnPendingInputs(t *testing.T) {
	long := future.NewPromise[int]()
	other := future.NewPromise[int]()
	ins := []*future.Future[int]{long.Future(), other.Future()}
	cases := map[string]func(){
		"Completed (break)": func() {
			for range batch.Completed(append(ins, future.Resolved(1))...) {
				break
			}
		},
		"CompletedContext (ctx ends)": func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			for range batch.CompletedContext(ctx, ins...) {
			}
		},
		"Wait (timeout)": func() {
			batch.Wait(context.Background(), batch.WaitOptions{Timeout: time.Nanosecond}, ins...)
		},
		"Wait (ctx ends)": func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			batch.Wait(ctx, batch.WaitOptions{}, ins...)
		},
		"Settled (result cancelled)": func() { batch.Settled(ins...).Cancel() },
		"Timeout (result cancelled)": func() { future.Timeout(long.Future(), time.Hour).Cancel() },
	}
	for name, abandon := range cases {
		grow := heapGrowth(abandon)
		require.Less(t, grow, 0.1, "%s: heap growth as a fraction of a leak", name)
		_, err := long.Future().Peek()
		require.ErrorIs(t, err, future.ErrPending, "%s left the input alone", name)
	}
	// All, Any, Race and Quorum cancel their inputs when their result is
	// cancelled or settles early: nothing stays registered on a pending
	// input. Abandoning each on fresh pending inputs leaves nothing either.
	for name, combine := range map[string]func(fs ...*future.Future[int]) interface{ Cancel() bool }{
		"All":    func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.All(fs...) },
		"Any":    func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Any(fs...) },
		"Race":   func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Race(fs...) },
		"Quorum": func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Quorum(1, fs...) },
	} {
		in := future.NewPromise[int]()
		grow := heapGrowth(func() {
			combine(in.Future(), future.NewPromise[int]().Future()).Cancel()
		})
		require.Less(t, grow, 0.1, "%s", name)
	}
	_ = long.Resolve(1)
	_ = other.Resolve(1)
}
