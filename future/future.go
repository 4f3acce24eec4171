package future

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrPending is returned by [Future.Peek] while the future has not settled.
var ErrPending = errors.New("future: not settled yet")

// errNilFunc and errNilFuture name the caller's mistake instead of panicking
// later on a nil dereference in another goroutine.
var (
	errNilFunc    = errors.New("future: nil function")
	errNilFuture  = errors.New("future: nil future")
	errNilContext = errors.New("future: nil context")
)

// A Future is a read-only handle to a value of type T that is being computed.
// It settles exactly once, with a value and an error, and every reader sees
// that same pair. All methods are safe for concurrent use.
//
// Futures are made by [Go], [Resolved], [Rejected], [NewPromise] and the
// composition functions ([Then], [Compose], [Recover], [Handle], [Timeout]);
// the zero Future is not usable.
type Future[T any] struct {
	// settled is set after val and err are written, under mu; reading it
	// true makes val and err safe to read without the lock.
	settled atomic.Bool

	mu sync.Mutex
	// done is made on first need (Done, a blocking Await) so that a future
	// nobody selects on costs no channel. After settlement it is closed, or
	// closedChan when nobody asked for it before.
	done chan struct{}
	val  T
	err  error
	// cb0 holds the first callback inline: a single Then stage or callback
	// then costs no allocation for the list.
	cb0 func(T, error)
	// more holds the later callbacks, newest first.
	more *callback[T]

	// work is the context of the work this future owns (set by Go), or nil.
	work *workCtx
}

// closedChan is the Done channel of futures that settled before anybody
// asked for one.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Resolved returns a future already settled with v and a nil error.
func Resolved[T any](v T) *Future[T] {
	f := &Future[T]{val: v, done: closedChan}
	f.settled.Store(true)
	return f
}

// Rejected returns a future already settled with err and the zero value of T.
// A nil err is replaced by an error saying so, so that a rejected future
// always carries an error.
func Rejected[T any](err error) *Future[T] {
	if err == nil {
		err = errNilReject
	}
	f := &Future[T]{err: err, done: closedChan}
	f.settled.Store(true)
	return f
}

// Done returns a channel that is closed when the future settles. It is the
// same channel on every call, so a future composes with select:
//
//	select {
//	case <-f.Done():
//		v, err := f.Await(ctx) // does not block
//	case <-ctx.Done():
//	}
func (f *Future[T]) Done() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

// Await blocks until the future settles or ctx ends, whichever comes first.
// It returns the future's value and error, or the zero value and ctx.Err()
// when ctx ended first.
//
// ctx bounds the wait, never the work: an Await that gives up changes
// nothing for the future or its other readers, and the work goes on. To stop
// the work, cancel the context the work was started with, or call
// [Future.Cancel]. Await may be called any number of times from any
// goroutine; once the future has settled it returns at once, without
// allocating.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if f.settled.Load() {
		return f.val, f.err
	}
	if ctx == nil {
		var zero T
		return zero, errNilContext
	}
	cancel := ctx.Done()
	if cancel == nil {
		// A context that never ends (Background): a plain receive is
		// cheaper than a select.
		<-f.Done()
		return f.val, f.err
	}
	select {
	case <-f.Done():
		return f.val, f.err
	case <-cancel:
		// Both may be ready; a settled future wins so that a caller whose
		// deadline coincides with settlement still gets the result.
		if f.settled.Load() {
			return f.val, f.err
		}
		var zero T
		return zero, ctx.Err()
	}
}

// Peek returns the future's value and error without blocking, or the zero
// value and [ErrPending] if it has not settled yet.
func (f *Future[T]) Peek() (T, error) {
	if f.settled.Load() {
		return f.val, f.err
	}
	var zero T
	return zero, ErrPending
}

// OnSuccess arranges for fn to run once with the value, if the future
// settles without an error. See [Future.OnComplete] for when and where
// callbacks run.
func (f *Future[T]) OnSuccess(fn func(T)) {
	if fn == nil {
		return
	}
	f.onSettle(func(v T, err error) {
		if err == nil {
			fn(v)
		}
	})
}

// OnError arranges for fn to run once with the error, if the future settles
// with one. See [Future.OnComplete] for when and where callbacks run.
func (f *Future[T]) OnError(fn func(error)) {
	if fn == nil {
		return
	}
	f.onSettle(func(_ T, err error) {
		if err != nil {
			fn(err)
		}
	})
}

// OnComplete arranges for fn to run once with the value and error when the
// future settles.
//
// Callbacks registered before settlement run on the goroutine that settles
// the future (the goroutine of [Go], or the caller of a [Promise] method),
// after Done is closed and waiters are released, in the order they were
// registered. A callback registered after settlement runs at once on the
// registering goroutine. Either way a callback runs exactly once and no
// goroutine is started for it, so a slow callback delays the ones after it:
// hand long work to [Go].
//
// A callback that panics does not stop the others: every callback still
// runs, and then the first panic is raised again, as a [*PanicError] with
// the original value and stack, on the goroutine that ran them. The future
// itself is settled before any callback runs and is not affected.
//
// A nil fn is ignored, here and in OnSuccess and OnError. OnComplete costs no
// allocation beyond the growth of the callback list; OnSuccess and OnError
// cost one.
func (f *Future[T]) OnComplete(fn func(T, error)) {
	if fn == nil {
		return
	}
	f.onSettle(fn)
}

// Cancel settles a pending future with [context.Canceled] and, for a future
// started with [Go], cancels the context of its work. It reports whether it
// settled the future; on a settled future it does nothing and returns false.
//
// Cancel does not wait for the work to return: the work's goroutine ends when
// its function notices the cancelled context, and its late result is dropped.
// Cancelling a future made by [Then] or another composition settles that
// future only; the future it was derived from, and that future's work, go on.
func (f *Future[T]) Cancel() bool {
	return f.cancel(context.Canceled, context.Canceled)
}

// cancel settles f with cause and ends its work's context with err.
func (f *Future[T]) cancel(err, cause error) bool {
	var zero T
	return f.settleAndEnd(zero, cause, err)
}

// onSettle runs cb after settlement: later on the settling goroutine if f is
// pending, or now on this one.
func (f *Future[T]) onSettle(cb func(T, error)) {
	if !f.settled.Load() {
		f.mu.Lock()
		if !f.settled.Load() {
			if f.cb0 == nil {
				f.cb0 = cb
			} else {
				f.more = &callback[T]{fn: cb, next: f.more}
			}
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
	}
	runCallbacks(cb, nil, f.val, f.err)
}

// settle stores the outcome if f is pending, wakes every waiter and runs the
// callbacks. It reports whether this call settled f.
func (f *Future[T]) settle(v T, err error) bool {
	return f.settleAndEnd(v, err, context.Canceled)
}

// settleAndEnd settles f and, for a Go future, ends its work's context with
// workErr under the same lock: once the future has settled, its work has
// either returned or been given up.
func (f *Future[T]) settleAndEnd(v T, err, workErr error) bool {
	f.mu.Lock()
	if f.settled.Load() {
		f.mu.Unlock()
		return false
	}
	f.val, f.err = v, err
	// The store publishes val and err to lock-free readers (Await, Peek,
	// callbacks registered later), so it must come after them.
	f.settled.Store(true)
	done := f.done
	if done == nil {
		f.done = closedChan
	}
	cb0, more := f.cb0, f.more
	f.cb0, f.more = nil, nil
	var links *workLinks
	if f.work != nil {
		links = f.work.endLocked(workErr)
	}
	f.mu.Unlock()

	if done != nil {
		close(done)
	}
	links.run()
	if cb0 != nil {
		runCallbacks(cb0, more.reverse(), v, err)
	}
	return true
}

// runCallbacks runs first and then rest, each exactly once, recovering
// panics so that one callback cannot stop the others, and raises the first
// panic again at the end.
func runCallbacks[T any](first func(T, error), rest *callback[T], v T, err error) {
	var panicked *PanicError
	defer func() {
		// rest is not empty here only if a callback called runtime.Goexit:
		// run the remaining ones before the goroutine ends, so that no
		// future derived from this one is left pending.
		for ; rest != nil; rest = rest.next {
			if p := try(rest.fn, v, err); p != nil && panicked == nil {
				panicked = p
			}
		}
		if panicked != nil {
			panic(panicked)
		}
	}()
	// first is not in rest, so a Goexit in it is covered by the loop above.
	if p := try(first, v, err); p != nil {
		panicked = p
	}
	for rest != nil {
		cb := rest.fn
		rest = rest.next
		if p := try(cb, v, err); p != nil && panicked == nil {
			panicked = p
		}
	}
}

// callback is a node of a future's list of callbacks after the first.
// A list of nodes rather than a slice keeps a future two words smaller;
// most futures have one callback, held inline.
type callback[T any] struct {
	fn   func(T, error)
	next *callback[T]
}

// reverse reverses the list in place and returns its new head.
func (c *callback[T]) reverse() *callback[T] {
	var head *callback[T]
	for c != nil {
		next := c.next
		c.next = head
		head, c = c, next
	}
	return head
}

// try runs cb and returns its panic, if any, as a *PanicError.
func try[T any](cb func(T, error), v T, err error) (p *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			p = newPanicError(r)
		}
	}()
	cb(v, err)
	return nil
}

// Go runs fn on a new goroutine and returns a future that settles with its
// result.
//
// fn receives a context derived from ctx: it is cancelled when ctx is, when
// the future is cancelled ([Future.Cancel], [Timeout]), and after fn returns,
// so that work fn started under it is released. The context lives inside the
// future's own allocation; deriving it costs nothing when ctx can never be
// cancelled (context.Background) and a registration on ctx otherwise.
//
// A panic in fn settles the future with a [*PanicError]; see the package
// documentation for why. A nil ctx or fn gives an already failed future.
//
// Cost: Go and a later Await take three allocations (the future with its
// context, the goroutine's closure, and the Done channel the waiter parks
// on) and one goroutine, which exits when fn returns: 1.18x the time of a
// bare goroutine and buffered channel for one task, 0.89x for 10000
// (BenchmarkGo).
func Go[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	switch {
	case ctx == nil:
		return Rejected[T](errNilContext)
	case fn == nil:
		return Rejected[T](errNilFunc)
	}
	w := &goFuture[T]{}
	f := &w.Future
	f.work = &w.ctx
	w.ctx.mu = &f.mu
	w.ctx.start(ctx)
	go w.run(fn)
	return f
}

// run is the goroutine of Go. As a method it captures two words, w and fn,
// for the go statement's closure: the smallest size class.
func (w *goFuture[T]) run(fn func(context.Context) (T, error)) {
	v, err := protect(&w.Future, func() (T, error) { return fn(&w.ctx) })
	w.settle(v, err) // also ends the work's context
}

// goFuture puts a future and the context of its work in one allocation.
type goFuture[T any] struct {
	Future[T]
	ctx workCtx
}

// protect calls fn, turning a panic into a *PanicError. If fn calls
// runtime.Goexit, which cannot be stopped, g is settled with errGoexit on the
// way out so that it does not stay pending.
func protect[T, S any](g *Future[S], fn func() (T, error)) (v T, err error) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			err = newPanicError(r)
			return
		}
		// recover returns nil only when not panicking (panic(nil) panics
		// with *runtime.PanicNilError since Go 1.21): this is Goexit.
		var zero S
		g.settle(zero, errGoexit)
	}()
	v, err = fn()
	normal = true
	return v, err
}
