package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/target-go/sdk/future"
)

// A Group de-duplicates work in flight: concurrent [Group.Do] calls with the
// same key share one future, so the work runs once (singleflight, typed and
// returning a future). The zero Group is ready to use; a Group is safe for
// concurrent use and must not be copied after first use.
type Group[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*future.Future[V]
}

// Do returns the future of the work in flight for key, or starts fn with
// [future.Go] and returns its future when there is none; it fails as fn
// does. The key is forgotten as soon as the future settles, so a later Do
// starts fn again: Group shares work, it does not cache results.
//
// The callers share one future, and fn serves all of them, so fn runs under
// a context with the values of the first caller's ctx but not its
// cancellation: one caller giving up must not fail the others. Each caller
// bounds its own wait with Await's context. Cancelling the shared future
// ([future.Future.Cancel]) cancels fn for every caller; use [future.Then]
// or a Promise for a caller's own handle if that is not wanted.
//
// A panic in fn fails the shared future with a [*future.PanicError], and so
// does a call of runtime.Goexit. A nil ctx or fn, or a key that cannot be
// hashed (a slice in a key of interface type: [ErrUnhashableKey]) or is
// not equal to itself (a NaN: [ErrNaNKey]), gives an already failed future that is not shared, and the Group goes on serving
// other keys.
//
// Cost: a lock, a map look-up and, for a new key, a [future.Go] and one
// callback.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) *future.Future[V] {
	if ctx == nil || fn == nil {
		return future.Go(ctx, fn) // already failed, naming the nil argument
	}
	if err := keyError(key); err != nil {
		return future.Rejected[V](err)
	}
	g.mu.Lock()
	// A future that has settled is forgotten even if its callback, which
	// deletes it, has not run yet: callers released by its settlement may
	// call Do again before that.
	if f, ok := g.m[key]; ok {
		if _, err := f.Peek(); err == future.ErrPending {
			g.mu.Unlock()
			return f
		}
	}
	f := future.Go(context.WithoutCancel(ctx), fn)
	if g.m == nil {
		g.m = make(map[K]*future.Future[V])
	}
	g.m[key] = f
	g.mu.Unlock()
	// Outside the lock: on a future that has already settled the callback
	// runs at once, and it takes the lock.
	f.OnComplete(func(V, error) { g.forget(key, f) })
	return f
}

// Forget makes the next Do for key start new work even if work for key is
// in flight; callers already holding its future keep it. An unhashable or
// NaN key is ignored.
func (g *Group[K, V]) Forget(key K) {
	if keyError(key) != nil {
		return
	}
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
}

// forget removes key if it still maps to f: after a Forget, a newer future
// may have taken the key.
func (g *Group[K, V]) forget(key K, f *future.Future[V]) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
}

// ErrUnhashableKey fails a [Group.Do], [Coalescer.Load] or [Batcher.Submit]
// whose key (or group) cannot be used as a map key: a key type of interface
// type is comparable to the compiler, but a slice, map or function in it
// makes the runtime panic when the key is hashed.
var ErrUnhashableKey = errors.New("batch: key is not hashable")

// ErrNaNKey fails a [Group.Do], [Coalescer.Load] or [Batcher.Submit] whose
// key (or group) is not equal to itself: a NaN float or complex, or a
// struct, array or interface holding one. Such a key could be stored in a
// map but never found or deleted again, so every call would leave an entry
// behind for the life of the component.
var ErrNaNKey = errors.New("batch: key is not equal to itself (it holds a NaN)")

// keyError returns an error wrapping ErrUnhashableKey if key cannot be
// hashed, and ErrNaNKey if it is not equal to itself. It checks before any
// lock is taken: the panic of a map operation under a lock would leave the
// lock held and the component wedged. For key types that cannot hold an
// unhashable value the look-up does not hash at all, so the check costs
// next to nothing.
func keyError[K comparable](key K) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrUnhashableKey, r)
		}
	}()
	var m map[K]struct{}
	_, _ = m[key]
	// After the look-up: comparing an interface holding a slice panics too,
	// and that is the hashing error.
	if key != key {
		return fmt.Errorf("%w: %v", ErrNaNKey, key)
	}
	return nil
}
