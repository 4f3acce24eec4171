package future

import (
	"context"
	"fmt"
	"time"
)

// Then returns a future that settles with fn's result once f succeeds. If f
// fails, the returned future fails with the same error and fn is not called.
// A panic in fn fails the returned future with a [*PanicError].
//
// fn runs as a callback of f (see [Future.OnComplete]): on the goroutine that
// settles f, or at once if f has settled. No goroutine is started, so fn
// should be quick; for slow or blocking work use [Compose] with [Go].
//
// Cost: two allocations (the new future and its callback) and about 90 ns
// on a settled future, against 530 ns and five allocations for a stage
// written as a goroutine (BenchmarkThen).
func Then[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	if g := checkArgs[U](f == nil, fn == nil); g != nil {
		return g
	}
	g := &Future[U]{}
	f.onSettle(contFunc[T](func(v T, err error) drainer {
		if err != nil {
			var zero U
			return g.settleLater(zero, err)
		}
		u, err := protect(g, func() (U, error) { return fn(v) })
		return g.settleLater(u, err)
	}))
	return g
}

// settleLater settles g, leaving its callbacks to the caller's work list.
func (f *Future[T]) settleLater(v T, err error) drainer {
	d, _ := f.complete(v, err, context.Canceled)
	return d
}

// Compose returns a future that settles with the outcome of the future fn
// returns once f succeeds (flatMap, thenCompose). If f fails, the returned
// future fails with the same error and fn is not called. A nil future from
// fn, or a panic in fn, fails the returned future.
//
// fn runs like a [Then] continuation. However long a chain of Compose
// stages, or a loop that composes the next step from the last, settling
// it takes a constant depth of stack (see [Future.OnComplete]).
//
// When the future fn returns is pending and nobody has registered a
// callback on it or waited for it yet (typically, fn has just made it with
// Compose or Then), the returned future adopts it: from then on the two are
// one future, with one outcome, and every method of either acts on both.
// That is what keeps a recursive loop (each step composing the next, a
// paginator or poller) in constant memory: the outer future does not hold
// a chain of inner ones, nor they a chain of outer ones. The one visible
// difference is cancellation: cancelling the returned future also settles
// an adopted future with context.Canceled (though not the work behind it:
// a Go future, which owns work, is never adopted), and cancelling an
// adopted future settles the returned one.
func Compose[T, U any](f *Future[T], fn func(T) *Future[U]) *Future[U] {
	if g := checkArgs[U](f == nil, fn == nil); g != nil {
		return g
	}
	g := &Future[U]{}
	f.onSettle(contFunc[T](func(v T, err error) drainer {
		var zero U
		if err != nil {
			return g.settleLater(zero, err)
		}
		inner, err := protect(g, func() (*Future[U], error) { return fn(v), nil })
		if err == nil && inner == nil {
			err = errNilFuture
		}
		if err != nil {
			return g.settleLater(zero, err)
		}
		if inner.settled() {
			return g.settleLater(inner.val, inner.err)
		}
		if inner.adopt(g.root()) {
			return nil
		}
		inner.onSettle(contFunc[U](g.settleLater))
		return nil
	}))
	return g
}

// Recover returns a future that settles with f's value if f succeeds, and
// with fn's result if f fails: fn turns an error into a value, or into
// another error. A panic in fn fails the returned future with a
// [*PanicError]. fn runs like a [Then] continuation.
func Recover[T any](f *Future[T], fn func(error) (T, error)) *Future[T] {
	if g := checkArgs[T](f == nil, fn == nil); g != nil {
		return g
	}
	g := &Future[T]{}
	f.onSettle(contFunc[T](func(v T, err error) drainer {
		if err == nil {
			return g.settleLater(v, nil)
		}
		v, err = protect(g, func() (T, error) { return fn(err) })
		return g.settleLater(v, err)
	}))
	return g
}

// Handle returns a future that settles with fn's result, called with f's
// value and error whichever way f settles (handle, finally). A panic in fn
// fails the returned future with a [*PanicError]. fn runs like a [Then]
// continuation.
func Handle[T, U any](f *Future[T], fn func(T, error) (U, error)) *Future[U] {
	if g := checkArgs[U](f == nil, fn == nil); g != nil {
		return g
	}
	g := &Future[U]{}
	f.onSettle(contFunc[T](func(v T, err error) drainer {
		u, err := protect(g, func() (U, error) { return fn(v, err) })
		return g.settleLater(u, err)
	}))
	return g
}

// Timeout returns a future that settles with f's outcome if f settles within
// d, and otherwise, when d has passed, with an error for which
// errors.Is(err, context.DeadlineExceeded) holds.
//
// At that moment f is cancelled with the same error: it settles with it,
// and the context of the work it owns (a [Go] future's) ends with
// context.DeadlineExceeded. The returned future settles in the same step,
// under both futures' locks, so that a Cancel of either cannot come in
// between; f's waiters are then woken and the contexts derived from its
// work's context cancelled before the returned future's waiters are, and
// f's callbacks run before the returned future's, so a callback on it may
// wait for that work to stop.
//
// A future already settled wins over any d, zero and negative included.
// The timer is stopped as soon as f settles, and no goroutine waits in
// between. Cancelling the returned future stops the timer and takes its
// callback off f (f goes on), so a Timeout given up on a long-lived future
// leaves nothing behind.
func Timeout[T any](f *Future[T], d time.Duration) *Future[T] {
	if f == nil {
		return Rejected[T](errNilFuture)
	}
	if f.settled() {
		return settledCopy(f)
	}
	g := &Future[T]{}
	// A continuation, not a user callback: g's callbacks then run from the
	// settling goroutine's work list, so a chain of Timeouts settles on a
	// flat stack as a chain of Then stages does.
	stop := f.afterFunc(contFunc[T](g.settleLater))
	t := time.AfterFunc(d, func() {
		err := fmt.Errorf("future: timed out after %v: %w", d, context.DeadlineExceeded)
		timeOut(f.root(), g, err)
	})
	g.onSettle(userFunc[T](func(T, error) {
		t.Stop()
		stop()
	}))
	return g
}

// timeOut is the timer of a Timeout: it cancels f, the root of the input,
// with err and then settles g, the result, with it, if both are pending.
//
// Both are checked and settled under both locks: with g checked first and
// f cancelled after, a Cancel of g in between would win (g settles with
// context.Canceled, Cancel returns true) and still see f cancelled, though
// cancelling g promises to leave f going on. f's waiters are released and
// its work told first, then g's waiters; f's callbacks (g's continuation
// among them, which finds g settled) run before g's, so that a callback on
// g may wait for f's work to stop. If f settled first, its continuation
// settles g with its outcome; if g did, f goes on.
func timeOut[T any](f, g *Future[T], err error) {
	first, second := lockPair(f, g)
	ok := f.state.Load() == pending && g.state.Load() == pending
	var fs, gs settling
	if ok {
		var zero T
		fs = f.settleLocked(zero, err, context.DeadlineExceeded)
		gs = g.settleLocked(zero, err, context.Canceled)
	}
	second.mu.Unlock()
	first.mu.Unlock()
	if !ok {
		return
	}
	var ds []drainer
	if d := fs.finish(f); d != nil {
		ds = append(ds, d)
	}
	if d := gs.finish(g); d != nil {
		ds = append(ds, d)
	}
	runAll(ds, nil)
}

// settledCopy returns a new future settled like f, which has settled.
func settledCopy[T any](f *Future[T]) *Future[T] {
	g := &Future[T]{val: f.val, err: f.err, done: closedChan}
	g.state.Store(quiet)
	return g
}

// checkArgs returns a failed future naming a nil argument, or nil if there
// is none.
func checkArgs[U any](nilFuture, nilFunc bool) *Future[U] {
	switch {
	case nilFuture:
		return Rejected[U](errNilFuture)
	case nilFunc:
		return Rejected[U](errNilFunc)
	}
	return nil
}
