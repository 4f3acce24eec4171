package future

import (
	"context"
	"errors"
)

// ErrAlreadySettled is returned by the [Promise] methods when the future has
// already settled. The earlier outcome stands.
var ErrAlreadySettled = errors.New("future: already settled")

// A Promise is the settling side of a pending future: it adapts code that
// reports results through callbacks, in the manner of the
//
//	callback=on_ok, err_callback=on_err
//
// options of callback-style APIs:
//
//	p := future.NewPromise[Offer]()
//	legacy.Fetch(req, func(o Offer) { p.Resolve(o) }, func(err error) { p.Reject(err) })
//	return p.Future()
//
// The first Resolve, Reject or Complete settles the future; every later call
// returns [ErrAlreadySettled] and changes nothing. The methods are safe for
// concurrent use. Callbacks registered on the future before settlement run
// on the goroutine that settles it, inside the settling call.
type Promise[T any] struct {
	f Future[T]
}

// NewPromise returns a promise whose future is pending. It costs one
// allocation.
func NewPromise[T any]() *Promise[T] {
	return &Promise[T]{}
}

// Future returns the promise's future. It is the same future on every call.
func (p *Promise[T]) Future() *Future[T] { return &p.f }

// Resolve settles the future with v and a nil error.
func (p *Promise[T]) Resolve(v T) error {
	return p.Complete(v, nil)
}

// Reject settles the future with err. A nil err is replaced by an error
// saying so, so that a rejected future always fails.
func (p *Promise[T]) Reject(err error) error {
	if err == nil {
		err = errNilReject
	}
	var zero T
	return p.Complete(zero, err)
}

// Complete settles the future with v and err, as a function returning
// (v, err) would.
func (p *Promise[T]) Complete(v T, err error) error {
	if !p.f.settle(v, err) {
		return ErrAlreadySettled
	}
	return nil
}

// CompleteDeferred settles the future as [Promise.Complete] does, but does
// not run its callbacks: it returns them as a [Deferred], for the callback
// that settled the promise to hand back to [Future.OnCompleteDeferred].
// The goroutine that runs that callback then runs them from its work list,
// after the callback returns, instead of inside it: a chain of promises
// each settled from a callback of the one before (a combinator over a
// combinator's result, say) settles on a flat stack, as a chain of [Then]
// stages does.
//
// Complete called from a callback runs the callbacks nested inside it, and
// a long enough chain of those exhausts the goroutine's stack. The package
// cannot tell a call from inside a callback from any other without
// goroutine ids, so Complete cannot defer them on its own: settle through
// CompleteDeferred where a promise is settled from a callback.
//
// The returned Deferred must be handed back or run ([Deferred.Run]):
// otherwise the future's callbacks never run (its waiters are released
// either way).
func (p *Promise[T]) CompleteDeferred(v T, err error) (Deferred, error) {
	d, ok := p.f.complete(v, err, context.Canceled)
	if !ok {
		return Deferred{}, ErrAlreadySettled
	}
	return Deferred{d}, nil
}

// A Deferred holds the callbacks of a future settled by
// [Promise.CompleteDeferred] that have not run yet. The zero Deferred holds
// none.
type Deferred struct{ d drainer }

// Run runs the callbacks held by d now, with those of the futures they
// settle, and then raises the first panic of any of them again, as
// [Promise.Complete] does. Running d again after Run returned does
// nothing. Run d on one goroutine, once: a second Run on another goroutine
// while the first is still in a callback runs the callbacks registered
// since then at once, on that goroutine, out of their order.
func (d Deferred) Run() {
	if d.d != nil {
		runQueue(d.d)
	}
}

// OnCompleteDeferred arranges for fn to run once with the value and error
// when the future settles, as [Future.OnComplete] does, and then for the
// callbacks fn returns, from [Promise.CompleteDeferred], to run on the same
// goroutine from its work list, after fn has returned rather than inside
// it. A nil fn is ignored. It costs what OnComplete costs.
func (f *Future[T]) OnCompleteDeferred(fn func(T, error) Deferred) {
	if fn == nil {
		return
	}
	f.onSettle(deferredFunc[T](fn))
}

// AfterFuncDeferred is to [Future.AfterFunc] what
// [Future.OnCompleteDeferred] is to [Future.OnComplete]: fn runs once when
// the future settles, the callbacks it returns run from the goroutine's work
// list after it, and the returned stop takes fn back as AfterFunc's does. A
// combinator that may give up on its inputs without cancelling them uses it.
// A nil fn gives a stop that returns false. It costs what AfterFunc costs.
func (f *Future[T]) AfterFuncDeferred(fn func(T, error) Deferred) (stop func() bool) {
	if fn == nil {
		return func() bool { return false }
	}
	return f.afterFunc(deferredFunc[T](fn))
}

// deferredFunc is a user's callback that settles a promise with
// CompleteDeferred. Being a func type, it is stored in a callbackFunc
// without an allocation.
type deferredFunc[T any] func(T, error) Deferred

func (fn deferredFunc[T]) call(v T, err error) drainer { return fn(v, err).d }
