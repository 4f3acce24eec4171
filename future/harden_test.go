package future_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
)

// chainLength is the length of the long-chain tests: ten million stages,
// past where recursion used to exhaust the 1 GB stack (1.6M Then stages),
// and 200 000 under the race detector, which makes each stage far slower.
func chainLength(t *testing.T) int {
	if raceEnabled {
		t.Log("race detector on: 200 000 stages instead of 10 million (too slow otherwise)")
		return 200_000
	}
	if testing.Short() {
		t.Skip("-short: skipping the 10-million-stage chain")
	}
	return 10_000_000
}

// smallStack limits the goroutine stack so that settlement by recursion
// fails at once: 10 MB hold about 60 000 nested stages, far below the
// chain lengths tested.
func smallStack(t *testing.T) {
	old := debug.SetMaxStack(10 << 20)
	t.Cleanup(func() { debug.SetMaxStack(old) })
	// The chains are live until they settle: collecting less often keeps
	// the test from spending most of its time marking them.
	gc := debug.SetGCPercent(800)
	t.Cleanup(func() { debug.SetGCPercent(gc) })
}

func TestLongThenChainSettlesOnAFlatStack(t *testing.T) {
	n := chainLength(t)
	smallStack(t)
	p := future.NewPromise[int]()
	f := p.Future()
	for range n {
		f = future.Then(f, func(v int) (int, error) { return v + 1, nil })
	}
	require.NoError(t, p.Resolve(0))
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

func TestLongComposeChainSettlesOnAFlatStack(t *testing.T) {
	n := chainLength(t)
	smallStack(t)
	p := future.NewPromise[int]()
	f := p.Future()
	for range n {
		f = future.Compose(f, func(v int) *future.Future[int] { return future.Resolved(v + 1) })
	}
	require.NoError(t, p.Resolve(0))
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

// TestRecursiveComposeLoop is a paginator written the natural way: each
// step composes the next from the last, and the outer future settles when
// the last step does, through every level of Compose in between. Here the
// steps are promises the test resolves one after another; the loop over Go
// steps is below.
func TestRecursiveComposeLoop(t *testing.T) {
	n := chainLength(t)
	smallStack(t)
	var step *future.Promise[int]
	var loop func(i int) *future.Future[int]
	loop = func(i int) *future.Future[int] {
		step = future.NewPromise[int]()
		return future.Compose(step.Future(), func(v int) *future.Future[int] {
			if v == n {
				return future.Resolved(v)
			}
			return loop(v)
		})
	}
	f := loop(0)
	for i := 1; i <= n; i++ {
		require.NoError(t, step.Resolve(i))
	}
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

// TestRecursiveComposeLoopOverGo is the same loop over Go steps, so every
// level settles from another goroutine, as a poller would.
func TestRecursiveComposeLoopOverGo(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 10_000
	}
	smallStack(t)
	var loop func(i int) *future.Future[int]
	loop = func(i int) *future.Future[int] {
		step := future.Go(context.Background(), func(context.Context) (int, error) { return i + 1, nil })
		return future.Compose(step, func(v int) *future.Future[int] {
			if v == n {
				return future.Resolved(v)
			}
			return loop(v)
		})
	}
	v, err := loop(0).Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

func TestCallbackRegisteredInCallbackRunsAfterEarlierSiblings(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	var order []string
	f.OnComplete(func(int, error) {
		order = append(order, "A")
		f.OnComplete(func(int, error) { order = append(order, "C, registered by A") })
		future.Then(f, func(v int) (int, error) { order = append(order, "D, a stage registered by A"); return v, nil })
	})
	g := future.Then(f, func(v int) (int, error) { order = append(order, "B"); return v, nil })
	g.OnComplete(func(int, error) { order = append(order, "E, on B's future") })
	require.NoError(t, p.Resolve(1))
	require.Equal(t, []string{"A", "B", "C, registered by A", "D, a stage registered by A", "E, on B's future"}, order)

	// Once the settling goroutine is done, a registration runs at once.
	ran := false
	f.OnComplete(func(int, error) { ran = true })
	require.True(t, ran)
}

func TestCallbacksOfASettledChainRunEvenIfOneGoexits(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	a := future.Then(p.Future(), func(v int) (int, error) { return v + 1, nil })
	a.OnComplete(func(int, error) { runtime.Goexit() })
	b := future.Then(a, func(v int) (int, error) { return v + 1, nil })
	c := future.Then(p.Future(), func(v int) (int, error) { return v * 10, nil })
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Resolve(1)
	}()
	<-done
	for f, want := range map[*future.Future[int]]int{a: 2, b: 3, c: 10} {
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		require.Equal(t, want, v)
	}
}

func TestPanicInChainStillSettlesEveryStage(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	a := future.Then(p.Future(), func(v int) (int, error) { return v + 1, nil })
	a.OnComplete(func(int, error) { panic("in a callback") })
	b := future.Then(a, func(v int) (int, error) { return v + 1, nil })
	require.PanicsWithError(t, "future: panic: in a callback", func() { _ = p.Resolve(1) })
	v, err := b.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, v)
}

func TestAfterFuncStop(t *testing.T) {
	t.Parallel()
	t.Run("stop before settlement", func(t *testing.T) {
		p := future.NewPromise[int]()
		var ran atomic.Int32
		f := p.Future()
		f.OnComplete(func(int, error) { ran.Add(10) })
		stop := f.AfterFunc(func(int, error) { ran.Add(1) })
		f.OnComplete(func(int, error) { ran.Add(100) })
		require.True(t, stop())
		require.False(t, stop(), "a second stop finds nothing")
		require.NoError(t, p.Resolve(1))
		require.Equal(t, int32(110), ran.Load(), "the stopped callback never ran, the others did")
	})
	t.Run("stop after settlement", func(t *testing.T) {
		p := future.NewPromise[int]()
		var ran atomic.Int32
		stop := p.Future().AfterFunc(func(int, error) { ran.Add(1) })
		require.NoError(t, p.Resolve(1))
		require.False(t, stop())
		require.Equal(t, int32(1), ran.Load())
	})
	t.Run("on a settled future", func(t *testing.T) {
		var ran bool
		stop := future.Resolved(1).AfterFunc(func(v int, _ error) { ran = v == 1 })
		require.True(t, ran, "runs at once")
		require.False(t, stop())
	})
	t.Run("order kept", func(t *testing.T) {
		p := future.NewPromise[int]()
		var order []int
		f := p.Future()
		for i := range 5 {
			f.AfterFunc(func(int, error) { order = append(order, i) })
			f.OnComplete(func(int, error) { order = append(order, 10+i) })
		}
		require.NoError(t, p.Resolve(1))
		require.Equal(t, []int{0, 10, 1, 11, 2, 12, 3, 13, 4, 14}, order)
	})
	t.Run("nil fn", func(t *testing.T) {
		require.False(t, future.NewPromise[int]().Future().AfterFunc(nil)())
	})
	t.Run("stop racing settlement runs exactly once or never", func(t *testing.T) {
		for range 2000 {
			p := future.NewPromise[int]()
			var ran atomic.Int32
			stop := p.Future().AfterFunc(func(int, error) { ran.Add(1) })
			var stopped atomic.Bool
			var wg sync.WaitGroup
			wg.Go(func() { stopped.Store(stop()) })
			wg.Go(func() { _ = p.Resolve(1) })
			wg.Wait()
			if stopped.Load() {
				require.Zero(t, ran.Load())
			} else {
				require.Equal(t, int32(1), ran.Load())
			}
		}
	})
}

// TestAfterFuncStopLeavesNothing registers and stops many callbacks on one
// pending future: the heap must not grow with the number of calls.
func TestAfterFuncStopLeavesNothing(t *testing.T) {
	p := future.NewPromise[[]byte]()
	f := p.Future()
	grow := heapGrowth(t, func() {
		buf := make([]byte, 256)
		stop := f.AfterFunc(func(b []byte, _ error) { copy(buf, b) })
		stop()
	})
	require.Less(t, grow, 0.1, "heap growth per 100 000 abandoned registrations, as a fraction of what they would hold")
	_ = p.Resolve(nil)
}

// heapGrowth runs abandon 100 000 times and returns how much the live heap
// grew, as a fraction of 100 000 × 256 bytes: what a leak of the smallest
// registration would cost.
func heapGrowth(t *testing.T, abandon func()) float64 {
	t.Helper()
	const n = 100_000
	before := liveHeap()
	for range n {
		abandon()
	}
	after := liveHeap()
	return (float64(after) - float64(before)) / (n * 256)
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestTimeoutSettledInputAlwaysWins(t *testing.T) {
	t.Parallel()
	for i := range 5000 {
		var f *future.Future[int]
		if i%2 == 0 {
			f = future.Resolved(i)
		} else {
			p := future.NewPromise[int]()
			_ = p.Resolve(i)
			f = p.Future()
		}
		for _, d := range []time.Duration{0, -time.Second} {
			v, err := future.Timeout(f, d).Await(t.Context())
			require.NoError(t, err, "Timeout(settled, %v)", d)
			require.Equal(t, i, v)
		}
	}
}

// TestTimeoutCancelsInputBeforeResultCallbacks: a callback on the result
// that waits for the timed-out work to stop must not deadlock.
func TestTimeoutCancelsInputBeforeResultCallbacks(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	f := future.Go(context.Background(), func(ctx context.Context) (int, error) {
		<-ctx.Done()
		close(stopped)
		return 0, ctx.Err()
	})
	sawStop := make(chan bool, 1)
	future.Timeout(f, time.Millisecond).OnError(func(err error) {
		// The work's context must already be cancelled: wait for it,
		// with a generous bound so that a regression fails, not hangs.
		select {
		case <-stopped:
			sawStop <- true
		case <-time.After(10 * time.Second):
			sawStop <- false
		}
	})
	require.True(t, <-sawStop, "the input's work was told before the result's callbacks ran")
}

func TestTimeoutCancelledLeavesNothingOnInput(t *testing.T) {
	p := future.NewPromise[int]()
	grow := heapGrowth(t, func() {
		future.Timeout(p.Future(), time.Hour).Cancel()
	})
	require.Less(t, grow, 0.1)
	v, err := p.Future().Peek()
	require.ErrorIs(t, err, future.ErrPending, "cancelling the timeout leaves the input alone (%v)", v)
}

// TestUserFunctions runs every exported function taking a user function
// with that function panicking, calling runtime.Goexit, and blocking until
// its context is cancelled: each gives a settled future with a clear error.
func TestUserFunctions(t *testing.T) {
	t.Parallel()
	panicking := func(t *testing.T, err error) {
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "user", pe.Value)
	}
	goexit := func(t *testing.T, err error) { require.ErrorContains(t, err, "runtime.Goexit") }
	// act is what the user function does: it panics or calls Goexit.
	act := map[string]func(){
		"panic":  func() { panic("user") },
		"goexit": runtime.Goexit,
	}
	checks := map[string]func(*testing.T, error){"panic": panicking, "goexit": goexit}
	makers := map[string]func(do func()) *future.Future[int]{
		"Go": func(do func()) *future.Future[int] {
			return future.Go(context.Background(), func(context.Context) (int, error) { do(); return 0, nil })
		},
		"Then": func(do func()) *future.Future[int] {
			return future.Then(future.Resolved(1), func(int) (int, error) { do(); return 0, nil })
		},
		"Compose": func(do func()) *future.Future[int] {
			return future.Compose(future.Resolved(1), func(int) *future.Future[int] { do(); return nil })
		},
		"Recover": func(do func()) *future.Future[int] {
			return future.Recover(future.Rejected[int](errBoom), func(error) (int, error) { do(); return 0, nil })
		},
		"Handle": func(do func()) *future.Future[int] {
			return future.Handle(future.Resolved(1), func(int, error) (int, error) { do(); return 0, nil })
		},
	}
	for mname, mk := range makers {
		for aname, do := range act {
			t.Run(mname+"/"+aname, func(t *testing.T) {
				t.Parallel()
				// On its own goroutine: a Goexit in a continuation run at
				// once ends the registering goroutine, as it would a plain
				// call.
				ch := make(chan *future.Future[int], 1)
				go func() {
					var f *future.Future[int]
					defer func() { ch <- f }()
					f = mk(do)
				}()
				f := <-ch
				if f == nil {
					// Goexit ended the goroutine before mk returned: the
					// future is unreachable, nothing to check but that
					// the goroutine ended (goleak).
					require.Equal(t, "goexit", aname)
					return
				}
				_, err := f.Await(t.Context())
				checks[aname](t, err)
			})
		}
	}
	t.Run("blocking until cancelled", func(t *testing.T) {
		t.Parallel()
		f := future.Go(context.Background(), func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		g := future.Then(f, func(v int) (int, error) { return v, nil })
		require.True(t, f.Cancel())
		_, err := g.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestRecursiveComposeLoopHoldsConstantMemory: the live heap of a pending
// recursive Compose loop must not grow with the number of iterations run.
func TestRecursiveComposeLoopHoldsConstantMemory(t *testing.T) {
	const n = 200_000
	var step *future.Promise[int]
	var loop func(i int) *future.Future[int]
	loop = func(i int) *future.Future[int] {
		step = future.NewPromise[int]()
		return future.Compose(step.Future(), func(v int) *future.Future[int] {
			if v == n {
				return future.Resolved(v)
			}
			return loop(v)
		})
	}
	f := loop(0)
	for i := 1; i < 1000; i++ {
		require.NoError(t, step.Resolve(i))
	}
	before := liveHeap()
	for i := 1000; i < n; i++ {
		require.NoError(t, step.Resolve(i))
	}
	after := liveHeap()
	perIteration := (float64(after) - float64(before)) / (n - 1000)
	require.Less(t, perIteration, 8.0, "bytes of live heap per iteration of a pending loop")
	_, err := f.Peek()
	require.ErrorIs(t, err, future.ErrPending)
	require.NoError(t, step.Resolve(n))
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

// TestComposeAdoption pins down what adoption means for a caller holding
// both futures: one outcome, and cancellation of either settles both.
func TestComposeAdoption(t *testing.T) {
	t.Parallel()
	mk := func() (*future.Promise[int], *future.Future[int], *future.Future[int]) {
		src, step := future.NewPromise[int](), future.NewPromise[int]()
		var inner *future.Future[int]
		g := future.Compose(src.Future(), func(v int) *future.Future[int] {
			inner = future.Then(step.Future(), func(w int) (int, error) { return v + w, nil })
			return inner
		})
		require.NoError(t, src.Resolve(1))
		return step, g, inner
	}
	step, g, inner := mk()
	require.NoError(t, step.Resolve(2))
	for _, h := range []*future.Future[int]{g, inner} {
		v, err := h.Await(t.Context())
		require.NoError(t, err)
		require.Equal(t, 3, v)
	}

	step, g, inner = mk()
	require.True(t, g.Cancel())
	require.False(t, inner.Cancel(), "one future: already cancelled")
	_, err := inner.Peek()
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, step.Resolve(2), "the step is not adopted and goes on")

	_, g, inner = mk()
	var ran []string
	inner.OnComplete(func(int, error) { ran = append(ran, "inner") })
	g.OnComplete(func(int, error) { ran = append(ran, "g") })
	require.True(t, inner.Cancel())
	_, err = g.Peek()
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{"inner", "g"}, ran)

	// A future someone already waits on, or registered on, is not adopted.
	src := future.NewPromise[int]()
	shared := future.NewPromise[int]()
	shared.Future().OnComplete(func(int, error) {})
	g = future.Compose(src.Future(), func(int) *future.Future[int] { return shared.Future() })
	require.NoError(t, src.Resolve(0))
	require.True(t, g.Cancel())
	_, err = shared.Future().Peek()
	require.ErrorIs(t, err, future.ErrPending, "a shared future is left alone")
	require.NoError(t, shared.Resolve(1))

	// Compose returning its own result is not a cycle of links.
	src = future.NewPromise[int]()
	var self *future.Future[int]
	self = future.Compose(src.Future(), func(int) *future.Future[int] { return self })
	require.NoError(t, src.Resolve(0))
	require.True(t, self.Cancel())
}

// TestAdoptionRacesWithInnerSettlement makes the inner future of a Compose
// settle on another goroutine while the Compose result adopts it: an outcome
// (or a waiter, or a callback) arriving in between must reach the root, not
// stay on the adopted future where nobody would ever see it.
func TestAdoptionRacesWithInnerSettlement(t *testing.T) {
	t.Parallel()
	rounds := 20_000
	if raceEnabled {
		rounds = 2_000
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for i := range rounds {
		first := future.Go(context.Background(), func(context.Context) (int, error) { return i, nil })
		g := future.Compose(first, func(v int) *future.Future[int] {
			step := future.Go(context.Background(), func(context.Context) (int, error) { return v + 1, nil })
			return future.Then(step, func(v int) (int, error) { return v, nil })
		})
		v, err := g.Await(ctx)
		require.NoError(t, err, "round %d: the adopted future's outcome was lost", i)
		require.Equal(t, i+1, v)
	}
}
