package future_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

func TestGoSettlesWithResult(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v    int
		err  error
	}{
		{"value", 42, nil},
		{"error", 0, errBoom},
		{"value and error", 7, errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := future.Go(t.Context(), func(context.Context) (int, error) { return tc.v, tc.err })
			v, err := f.Await(t.Context())
			require.Equal(t, tc.v, v)
			require.ErrorIs(t, err, tc.err)
			if tc.err == nil {
				require.NoError(t, err)
			}
		})
	}
}

func TestAwaitEveryReaderSeesTheSamePair(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	const readers = 64
	var wg sync.WaitGroup
	vals := make([]int, readers)
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() { vals[i], errs[i] = f.Await(t.Context()) })
	}
	require.NoError(t, p.Complete(5, errBoom))
	wg.Wait()
	for i := range readers {
		require.Equal(t, 5, vals[i])
		require.ErrorIs(t, errs[i], errBoom)
	}
	v, err := f.Await(t.Context())
	require.Equal(t, 5, v)
	require.ErrorIs(t, err, errBoom)
}

func TestAwaitContextBoundsTheWaitNotTheWork(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var workCtxErr error
	f := future.Go(t.Context(), func(ctx context.Context) (string, error) {
		<-release
		workCtxErr = ctx.Err()
		return "done", nil
	})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	v, err := f.Await(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, v)
	_, err = f.Peek()
	require.ErrorIs(t, err, future.ErrPending, "a timed-out Await must not settle the future")

	close(release)
	v, err = f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "done", v)
	require.NoError(t, workCtxErr, "the work's context must not end because a waiter gave up")
}

func TestAwaitDeadlineReturnsDeadlineExceeded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := future.NewPromise[int]()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := p.Future().Await(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestAwaitSettledFutureIgnoresEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	v, err := future.Resolved(3).Await(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, v)
}

func TestAwaitNilContext(t *testing.T) {
	t.Parallel()
	var nilCtx context.Context // a caller's mistake the future must report
	_, err := future.NewPromise[int]().Future().Await(nilCtx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "nil context")
}

func TestDoneIsTheSameChannel(t *testing.T) {
	t.Parallel()
	t.Run("asked before settlement", func(t *testing.T) {
		t.Parallel()
		p := future.NewPromise[int]()
		d1, d2 := p.Future().Done(), p.Future().Done()
		require.Equal(t, d1, d2)
		select {
		case <-d1:
			t.Fatal("Done closed before settlement")
		default:
		}
		require.NoError(t, p.Resolve(1))
		<-d1
		require.Equal(t, d1, p.Future().Done())
	})
	t.Run("asked after settlement", func(t *testing.T) {
		t.Parallel()
		f := future.Resolved(1)
		d1 := f.Done()
		<-d1
		require.Equal(t, d1, f.Done())
	})
}

func TestPeek(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	_, err := p.Future().Peek()
	require.ErrorIs(t, err, future.ErrPending)
	require.NoError(t, p.Complete(9, errBoom))
	v, err := p.Future().Peek()
	require.Equal(t, 9, v)
	require.ErrorIs(t, err, errBoom)
}

func TestResolvedAndRejected(t *testing.T) {
	t.Parallel()
	v, err := future.Resolved("x").Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "x", v)

	_, err = future.Rejected[string](errBoom).Await(t.Context())
	require.ErrorIs(t, err, errBoom)

	_, err = future.Rejected[string](nil).Await(t.Context())
	require.Error(t, err, "a rejected future always carries an error")
}

func TestCallbacksRunOnceInRegistrationOrder(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	var order []string
	f.OnComplete(func(v int, err error) { order = append(order, fmt.Sprintf("complete %d %v", v, err)) })
	f.OnSuccess(func(v int) { order = append(order, fmt.Sprintf("success %d", v)) })
	f.OnError(func(err error) { order = append(order, "error") })
	f.OnComplete(func(int, error) { order = append(order, "complete again") })

	require.NoError(t, p.Resolve(4))
	// Callbacks registered before settlement ran inside Resolve, on this goroutine.
	require.Equal(t, []string{"complete 4 <nil>", "success 4", "complete again"}, order)
	require.ErrorIs(t, p.Resolve(5), future.ErrAlreadySettled)
	require.Len(t, order, 3, "callbacks run once")
}

func TestCallbacksSelectByOutcome(t *testing.T) {
	t.Parallel()
	var success, failure atomic.Int32
	for _, f := range []*future.Future[int]{future.Resolved(1), future.Rejected[int](errBoom)} {
		f.OnSuccess(func(int) { success.Add(1) })
		f.OnError(func(err error) {
			assert.ErrorIs(t, err, errBoom)
			failure.Add(1)
		})
	}
	require.Equal(t, int32(1), success.Load())
	require.Equal(t, int32(1), failure.Load())
}

func TestCallbackAfterSettlementRunsAtOnce(t *testing.T) {
	t.Parallel()
	f := future.Resolved(8)
	ran := false
	f.OnSuccess(func(v int) { ran = v == 8 })
	require.True(t, ran, "a callback registered after settlement runs before the registration returns")
}

func TestCallbackPanicDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	var ran []int
	f.OnSuccess(func(int) { ran = append(ran, 1) })
	f.OnSuccess(func(int) { panic("first") })
	f.OnSuccess(func(int) { ran = append(ran, 3) })
	f.OnSuccess(func(int) { panic("second") })
	f.OnSuccess(func(int) { ran = append(ran, 5) })

	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = p.Resolve(1)
	}()
	require.Equal(t, []int{1, 3, 5}, ran)
	var pe *future.PanicError
	require.ErrorAs(t, recovered.(error), &pe)
	require.Equal(t, "first", pe.Value, "the first panic is raised again")
	require.NotEmpty(t, pe.Stack)

	v, err := f.Await(t.Context())
	require.NoError(t, err, "the future settled before the callbacks ran")
	require.Equal(t, 1, v)
}

func TestCallbackPanicAfterSettlement(t *testing.T) {
	t.Parallel()
	f := future.Resolved(1)
	require.PanicsWithError(t, "future: panic: late", func() {
		f.OnComplete(func(int, error) { panic("late") })
	})
}

func TestCallbackGoexitDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	f.OnSuccess(func(int) { runtime.Goexit() })
	later := future.Then(f, func(v int) (int, error) { return v + 1, nil })
	var cbRan atomic.Bool
	f.OnSuccess(func(int) { cbRan.Store(true) })

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Resolve(1)
	}()
	<-done
	v, err := later.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, v)
	require.True(t, cbRan.Load())
}

func TestPromiseSettlesOnce(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[string]()
	require.Same(t, p.Future(), p.Future())
	require.NoError(t, p.Resolve("first"))
	require.ErrorIs(t, p.Resolve("second"), future.ErrAlreadySettled)
	require.ErrorIs(t, p.Reject(errBoom), future.ErrAlreadySettled)
	require.ErrorIs(t, p.Complete("third", nil), future.ErrAlreadySettled)
	v, err := p.Future().Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "first", v)
}

func TestPromiseRejectNilStillFails(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	require.NoError(t, p.Reject(nil))
	_, err := p.Future().Await(t.Context())
	require.Error(t, err)
}

func TestPromiseConcurrentSettleExactlyOneWins(t *testing.T) {
	t.Parallel()
	for range 200 {
		p := future.NewPromise[int]()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if p.Resolve(i) == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load())
	}
}

func TestThen(t *testing.T) {
	t.Parallel()
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		f := future.Then(future.Resolved(2), func(v int) (string, error) { return fmt.Sprint(v * 21), nil })
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		require.Equal(t, "42", v)
	})
	t.Run("error passes through without calling fn", func(t *testing.T) {
		t.Parallel()
		called := false
		f := future.Then(future.Rejected[int](errBoom), func(int) (int, error) { called = true; return 0, nil })
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, errBoom)
		require.False(t, called)
	})
	t.Run("fn error", func(t *testing.T) {
		t.Parallel()
		f := future.Then(future.Resolved(1), func(int) (int, error) { return 0, errBoom })
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, errBoom)
	})
	t.Run("panic", func(t *testing.T) {
		t.Parallel()
		f := future.Then(future.Resolved(1), func(int) (int, error) { panic("in then") })
		_, err := f.Await(t.Context())
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "in then", pe.Value)
	})
	t.Run("runs on the settling goroutine", func(t *testing.T) {
		t.Parallel()
		p := future.NewPromise[int]()
		ran := false
		g := future.Then(p.Future(), func(v int) (int, error) { ran = true; return v, nil })
		require.False(t, ran)
		require.NoError(t, p.Resolve(1))
		require.True(t, ran, "the continuation ran inside Resolve")
		_, err := g.Peek()
		require.NoError(t, err)
	})
	t.Run("goexit settles the stage", func(t *testing.T) {
		t.Parallel()
		p := future.NewPromise[int]()
		g := future.Then(p.Future(), func(int) (int, error) { runtime.Goexit(); return 0, nil })
		go func() { _ = p.Resolve(1) }()
		_, err := g.Await(t.Context())
		require.ErrorContains(t, err, "Goexit")
	})
}

func TestThenKeepsContextErrorsInspectable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f := future.Go(ctx, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, fmt.Errorf("fetch: %w", ctx.Err())
	})
	g := future.Then(f, func(v int) (int, error) { return v, nil })
	_, err := g.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
}

func TestCompose(t *testing.T) {
	t.Parallel()
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		f := future.Compose(future.Resolved(2), func(v int) *future.Future[int] {
			return future.Go(t.Context(), func(context.Context) (int, error) { return v * 3, nil })
		})
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		require.Equal(t, 6, v)
	})
	t.Run("inner failure", func(t *testing.T) {
		t.Parallel()
		f := future.Compose(future.Resolved(2), func(int) *future.Future[int] { return future.Rejected[int](errBoom) })
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, errBoom)
	})
	t.Run("outer failure", func(t *testing.T) {
		t.Parallel()
		called := false
		f := future.Compose(future.Rejected[int](errBoom), func(int) *future.Future[int] { called = true; return nil })
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, errBoom)
		require.False(t, called)
	})
	t.Run("nil inner future", func(t *testing.T) {
		t.Parallel()
		f := future.Compose(future.Resolved(2), func(int) *future.Future[int] { return nil })
		_, err := f.Await(t.Context())
		require.ErrorContains(t, err, "nil future")
	})
	t.Run("panic", func(t *testing.T) {
		t.Parallel()
		f := future.Compose(future.Resolved(2), func(int) *future.Future[int] { panic("compose") })
		_, err := f.Await(t.Context())
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
	})
}

func TestRecover(t *testing.T) {
	t.Parallel()
	f := future.Recover(future.Rejected[int](errBoom), func(err error) (int, error) {
		if errors.Is(err, errBoom) {
			return -1, nil
		}
		return 0, err
	})
	v, err := f.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, -1, v)

	called := false
	g := future.Recover(future.Resolved(5), func(error) (int, error) { called = true; return 0, nil })
	v, err = g.Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, 5, v)
	require.False(t, called, "Recover does not run on success")

	h := future.Recover(future.Rejected[int](errBoom), func(error) (int, error) { panic("recover") })
	_, err = h.Await(t.Context())
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
}

func TestHandleSeesBothOutcomes(t *testing.T) {
	t.Parallel()
	describe := func(v int, err error) (string, error) { return fmt.Sprintf("%d/%v", v, err), nil }
	v, err := future.Handle(future.Resolved(1), describe).Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "1/<nil>", v)
	v, err = future.Handle(future.Rejected[int](errBoom), describe).Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "0/boom", v)

	_, err = future.Handle(future.Resolved(1), func(int, error) (int, error) { panic("handle") }).Await(t.Context())
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	t.Run("times out and stops the work", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			workErr := make(chan error, 1)
			f := future.Go(t.Context(), func(ctx context.Context) (int, error) {
				<-ctx.Done()
				workErr <- ctx.Err()
				return 0, ctx.Err()
			})
			g := future.Timeout(f, 2*time.Second)
			start := time.Now()
			_, err := g.Await(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, 2*time.Second, time.Since(start))
			_, err = f.Await(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded, "the source settles with the timeout too")
			require.ErrorIs(t, <-workErr, context.DeadlineExceeded, "the work sees its context end")
		})
	})
	t.Run("settles in time", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			f := future.Go(t.Context(), func(ctx context.Context) (int, error) {
				time.Sleep(time.Second) // the synctest bubble's fake clock
				return 1, nil
			})
			v, err := future.Timeout(f, 2*time.Second).Await(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, v)
			synctest.Wait()
		})
	})
	t.Run("settled future wins over zero timeout", func(t *testing.T) {
		t.Parallel()
		v, err := future.Timeout(future.Resolved(3), 0).Await(t.Context())
		require.NoError(t, err)
		require.Equal(t, 3, v)
	})
}

func TestGoPanicBecomesPanicError(t *testing.T) {
	t.Parallel()
	f := future.Go(t.Context(), func(context.Context) (int, error) { panicHere(); return 0, nil })
	_, err := f.Await(t.Context())
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "deliberate", pe.Value)
	require.Contains(t, string(pe.Stack), "panicHere", "the stack is the one at the panic")
	require.Contains(t, err.Error(), "deliberate")
}

func panicHere() { panic("deliberate") }

func TestPanicErrorUnwrapsErrorValues(t *testing.T) {
	t.Parallel()
	f := future.Go(t.Context(), func(context.Context) (int, error) { panic(errBoom) })
	_, err := f.Await(t.Context())
	require.ErrorIs(t, err, errBoom)
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
}

func TestGoGoexitSettles(t *testing.T) {
	t.Parallel()
	f := future.Go(t.Context(), func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
	_, err := f.Await(t.Context())
	require.ErrorContains(t, err, "Goexit")
}

func TestCancel(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	workDone := make(chan error, 1)
	f := future.Go(t.Context(), func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		workDone <- ctx.Err()
		return 1, nil
	})
	<-started
	require.True(t, f.Cancel())
	_, err := f.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, <-workDone, context.Canceled)
	require.False(t, f.Cancel(), "a settled future is not cancelled again")
	_, err = f.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled, "the work's late result is dropped")

	require.False(t, future.Resolved(1).Cancel())
	p := future.NewPromise[int]()
	require.True(t, p.Future().Cancel())
	require.ErrorIs(t, p.Resolve(1), future.ErrAlreadySettled)
}

func TestParentCancellationEndsTheWork(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(t.Context())
	f := future.Go(parent, func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "stopped", ctx.Err()
	})
	cancel()
	v, err := f.Await(t.Context())
	require.Equal(t, "stopped", v, "the future settles with what the work returns")
	require.ErrorIs(t, err, context.Canceled)
}

func TestParentAlreadyCancelled(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancelCause(t.Context())
	cancel(errBoom)
	for range 200 {
		f := future.Go(parent, func(ctx context.Context) (int, error) {
			return 0, ctx.Err() // no waiting: the context is ended from the start
		})
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
	}
}

func TestNilCallbacksAreIgnored(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	p.Future().OnComplete(nil)
	p.Future().OnSuccess(nil)
	p.Future().OnError(nil)
	require.NoError(t, p.Resolve(1))
	future.Rejected[int](errBoom).OnError(nil)
}

type ctxKey struct{}

func TestWorkContext(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(t.Context(), ctxKey{}, "v"), deadline)
	defer cancel()

	var workCtx context.Context
	ready := make(chan struct{})
	release := make(chan struct{})
	f := future.Go(parent, func(ctx context.Context) (int, error) {
		workCtx = ctx
		close(ready)
		<-release
		return 0, nil
	})
	<-ready
	require.Equal(t, "v", workCtx.Value(ctxKey{}))
	d, ok := workCtx.Deadline()
	require.True(t, ok)
	require.Equal(t, deadline, d)
	require.NoError(t, workCtx.Err())
	require.Contains(t, fmt.Sprint(workCtx), "WithFuture")

	// Contexts derived from the work context end with it.
	child, childCancel := context.WithTimeout(workCtx, time.Hour)
	defer childCancel()
	afterRan := make(chan struct{})
	context.AfterFunc(workCtx, func() { close(afterRan) })
	stopped, stopCancel := context.WithCancel(workCtx)
	stopCancel() // a derived context cancelled on its own leaves the parent alone
	require.NoError(t, workCtx.Err())
	require.ErrorIs(t, stopped.Err(), context.Canceled)

	require.True(t, f.Cancel())
	<-child.Done()
	<-afterRan
	require.ErrorIs(t, child.Err(), context.Canceled)
	require.ErrorIs(t, context.Cause(workCtx), context.Canceled)
	close(release)

	// A context derived after cancellation is cancelled at once.
	late, lateCancel := context.WithCancel(workCtx)
	defer lateCancel()
	<-late.Done()
}

func TestWorkContextReleasedWhenWorkReturns(t *testing.T) {
	t.Parallel()
	var workCtx context.Context
	f := future.Go(t.Context(), func(ctx context.Context) (int, error) {
		workCtx = ctx
		return 1, nil
	})
	_, err := f.Await(t.Context())
	require.NoError(t, err)
	<-workCtx.Done()
	require.ErrorIs(t, workCtx.Err(), context.Canceled)
}

func TestCancelAbortsHTTPRequest(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	client := &http.Client{Timeout: time.Minute} // a client timeout derives a context from the work's
	defer client.CloseIdleConnections()

	reqErr := make(chan error, 1)
	f := future.Go(t.Context(), func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		reqErr <- err
		return 0, err
	})
	<-arrived
	f.Cancel()
	require.ErrorIs(t, <-reqErr, context.Canceled)
}

func TestNilArguments(t *testing.T) {
	t.Parallel()
	ok := func(int) (int, error) { return 0, nil }
	var nilCtx context.Context
	for name, f := range map[string]*future.Future[int]{
		"Go nil ctx":       future.Go(nilCtx, func(context.Context) (int, error) { return 0, nil }),
		"Go nil fn":        future.Go[int](t.Context(), nil),
		"Then nil future":  future.Then[int, int](nil, ok),
		"Then nil fn":      future.Then[int, int](future.Resolved(1), nil),
		"Compose nil fn":   future.Compose[int, int](future.Resolved(1), nil),
		"Recover nil fn":   future.Recover(future.Resolved(1), nil),
		"Handle nil fn":    future.Handle[int, int](future.Resolved(1), nil),
		"Timeout nil":      future.Timeout[int](nil, time.Second),
		"Compose nil from": future.Compose[int, int](nil, func(int) *future.Future[int] { return nil }),
	} {
		_, err := f.Await(t.Context())
		require.Error(t, err, name)
		require.Regexp(t, "nil (context|function|future)", err.Error(), name)
	}
}

// TestConcurrentSettleRegisterAwait races settlement against callback
// registration, continuations and waiters: every callback must run exactly
// once and every waiter see the one outcome.
func TestConcurrentSettleRegisterAwait(t *testing.T) {
	t.Parallel()
	const iterations = 2000
	for i := range iterations {
		p := future.NewPromise[int]()
		f := p.Future()
		var calls atomic.Int32
		var wg sync.WaitGroup
		stages := make([]*future.Future[int], 4)
		for j := range 4 {
			wg.Go(func() {
				f.OnComplete(func(v int, err error) {
					if v == i && err == nil {
						calls.Add(1)
					}
				})
				stages[j] = future.Then(f, func(v int) (int, error) { return v + 1, nil })
			})
		}
		wg.Go(func() { _ = p.Resolve(i) })
		wg.Go(func() {
			v, err := f.Await(t.Context())
			assert.NoError(t, err)
			assert.Equal(t, i, v)
		})
		wg.Go(func() { <-f.Done() })
		wg.Wait()
		require.Equal(t, int32(4), calls.Load())
		for _, s := range stages {
			v, err := s.Await(t.Context())
			require.NoError(t, err)
			require.Equal(t, i+1, v)
		}
	}
}

// TestConcurrentCancelVersusWork races Cancel against the work returning.
func TestConcurrentCancelVersusWork(t *testing.T) {
	t.Parallel()
	for range 1000 {
		f := future.Go(t.Context(), func(ctx context.Context) (int, error) { return 1, nil })
		var settledBy atomic.Int32
		ran := make(chan struct{})
		f.OnComplete(func(int, error) {
			settledBy.Add(1)
			close(ran) // a second run would panic here
		})
		cancelled := f.Cancel()
		v, err := f.Await(t.Context())
		if cancelled {
			require.ErrorIs(t, err, context.Canceled)
		} else {
			require.NoError(t, err)
			require.Equal(t, 1, v)
		}
		// Callbacks run after Done is closed, so Await may return first.
		<-ran
		require.Equal(t, int32(1), settledBy.Load())
	}
}

func TestCallbacksRunAfterDoneIsClosed(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	f := p.Future()
	done := f.Done()
	var closedFirst, valueSeen bool
	f.OnComplete(func(int, error) {
		select {
		case <-done:
			closedFirst = true
		default:
		}
		v, err := f.Peek()
		valueSeen = v == 3 && err == nil
	})
	require.NoError(t, p.Resolve(3))
	require.True(t, closedFirst, "waiters are released before callbacks run")
	require.True(t, valueSeen, "a callback sees the settled future")
}

func TestAwaitOnSettledFutureDoesNotAllocate(t *testing.T) {
	f := future.Resolved(1)
	ctx := t.Context()
	allocs := testing.AllocsPerRun(100, func() { _, _ = f.Await(ctx) })
	require.Zero(t, allocs)
}
