package future

import "errors"

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
