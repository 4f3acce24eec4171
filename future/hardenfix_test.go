package future_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
)

// settleOnGoroutine resolves p on a goroutine of its own, which the
// callbacks may end with runtime.Goexit, and returns what it recovered.
func settleOnGoroutine(p *future.Promise[int]) (recovered any) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recovered = recover() }()
		_ = p.Resolve(1)
	}()
	<-done
	return recovered
}

func requirePanicValue(t *testing.T, recovered, want any) {
	t.Helper()
	pe, ok := recovered.(*future.PanicError)
	require.Truef(t, ok, "recovered %v (%T), want a *future.PanicError", recovered, recovered)
	require.Equal(t, want, pe.Value)
}

func TestPanicRecordedBeforeGoexitIsRaisedAgain(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	ran := false
	p.Future().OnComplete(func(int, error) { panic("first") })
	p.Future().OnComplete(func(int, error) { runtime.Goexit() })
	p.Future().OnComplete(func(int, error) { panic("second") })
	p.Future().OnComplete(func(int, error) { ran = true })
	requirePanicValue(t, settleOnGoroutine(p), "first")
	require.True(t, ran, "the callback after the Goexit did not run")
}

// A Goexit in one callback and a panic in a callback of another future
// settled by the same goroutine: every future's callbacks still run.
func TestGoexitAndPanicLeaveNoFutureDraining(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	var ran [3]bool
	a := future.Then(f, func(v int) (int, error) { return v, nil })
	a.OnComplete(func(int, error) { panic("in a") })
	b := future.Then(f, func(v int) (int, error) { return v, nil })
	b.OnComplete(func(int, error) { ran[0] = true })
	c := future.Then(f, func(v int) (int, error) { return v, nil })
	c.OnComplete(func(int, error) { runtime.Goexit() })
	c.OnComplete(func(int, error) { ran[1] = true })
	f.OnComplete(func(int, error) { runtime.Goexit() })
	d := future.Then(b, func(v int) (int, error) { return v, nil })
	d.OnComplete(func(int, error) { panic("in d") })
	d.OnComplete(func(int, error) { ran[2] = true })
	requirePanicValue(t, settleOnGoroutine(p), "in a")
	require.Equal(t, [3]bool{true, true, true}, ran)
	for _, g := range []*future.Future[int]{a, b, c, d} {
		// Registered after settlement: runs at once only if the future
		// is quiet, not stuck draining.
		called := false
		g.OnComplete(func(int, error) { called = true })
		require.True(t, called, "a future was left draining")
	}
}

// Two Compose results that adopt each other, settled at once on two
// goroutines, must not link into a cycle (root would spin forever).
func TestMutualAdoptionDoesNotCycle(t *testing.T) {
	t.Parallel()
	n := 20_000
	if raceEnabled {
		n = 2_000
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	check := future.Go(ctx, func(context.Context) (struct{}, error) {
		for range n {
			pa, pb := future.NewPromise[int](), future.NewPromise[int]()
			var ga, gb *future.Future[int]
			ga = future.Compose(pa.Future(), func(int) *future.Future[int] { return gb })
			gb = future.Compose(pb.Future(), func(int) *future.Future[int] { return ga })
			var wg sync.WaitGroup
			wg.Go(func() { _ = pa.Resolve(1) })
			wg.Go(func() { _ = pb.Resolve(2) })
			wg.Wait()
			// Each waits for the other: neither settles, but every
			// method returns.
			for _, g := range []*future.Future[int]{ga, gb} {
				if _, err := g.Peek(); !errors.Is(err, future.ErrPending) {
					return struct{}{}, err
				}
				_ = g.Done()
			}
			ga.Cancel()
			if _, err := gb.Peek(); !errors.Is(err, context.Canceled) {
				// gb adopted ga or waits on it: either way it settles.
				gb.Cancel()
			}
		}
		return struct{}{}, nil
	})
	_, err := check.Await(ctx)
	require.NoError(t, err, "mutual adoption hung (a link cycle) or misbehaved")
}

// promiseChainLength is the length of the chains of Promise-based stages
// (Timeout here, the batch combinators there): a million, past where
// settling them by recursion exhausted the 1 GB stack, and 100 000 under
// the race detector. smallStack makes recursion fail far sooner.
func promiseChainLength(t *testing.T) int {
	if raceEnabled {
		return 100_000
	}
	if testing.Short() {
		t.Skip("-short: skipping the million-stage chain")
	}
	return 1_000_000
}

func TestLongTimeoutChainSettlesOnAFlatStack(t *testing.T) {
	n := promiseChainLength(t)
	smallStack(t)
	p := future.NewPromise[int]()
	f := p.Future()
	for range n {
		f = future.Timeout(f, time.Hour)
	}
	require.NoError(t, p.Resolve(7))
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, 7, v)
}

// TestLongPromiseRelayChainSettlesOnAFlatStack: user code settling each
// promise from the callback of the one before, through CompleteDeferred.
func TestLongPromiseRelayChainSettlesOnAFlatStack(t *testing.T) {
	n := promiseChainLength(t)
	smallStack(t)
	first := future.NewPromise[int]()
	f := first.Future()
	for range n {
		next := future.NewPromise[int]()
		f.OnCompleteDeferred(func(v int, err error) future.Deferred {
			d, derr := next.CompleteDeferred(v+1, err)
			if derr != nil {
				panic(derr)
			}
			return d
		})
		f = next.Future()
	}
	require.NoError(t, first.Resolve(0))
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, n, v)
}

func TestCompleteDeferred(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	ran := false
	p.Future().OnComplete(func(int, error) { ran = true })
	d, err := p.CompleteDeferred(3, nil)
	require.NoError(t, err)
	v, err := p.Future().Await(t.Context())
	require.NoError(t, err, "waiters are released at once")
	require.Equal(t, 3, v)
	require.False(t, ran, "callbacks wait for Run")
	d.Run()
	require.True(t, ran)
	d.Run() // again: nothing
	_, err = p.CompleteDeferred(4, nil)
	require.ErrorIs(t, err, future.ErrAlreadySettled)
	future.Deferred{}.Run()

	// A panic in a deferred callback is raised again by the callback's
	// goroutine after the others ran, as with Complete.
	q := future.NewPromise[int]()
	r := future.NewPromise[int]()
	after := false
	q.Future().OnCompleteDeferred(func(v int, err error) future.Deferred {
		d, _ := r.CompleteDeferred(v, err)
		return d
	})
	r.Future().OnComplete(func(int, error) { panic("in r") })
	r.Future().OnComplete(func(int, error) { after = true })
	require.PanicsWithError(t, "future: panic: in r", func() { _ = q.Resolve(1) })
	require.True(t, after)
	q.Future().OnCompleteDeferred(nil) // ignored
}
