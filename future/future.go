package future

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"
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
	// state is pending, draining or quiet (see the constants). It leaves
	// pending after val and err are written, under mu; reading it not
	// pending makes val and err safe to read without the lock.
	state atomic.Uint32

	mu sync.Mutex
	// done is made on first need (Done, a blocking Await) so that a future
	// nobody selects on costs no channel. After settlement it is closed, or
	// closedChan when nobody asked for it before.
	done chan struct{}
	val  T
	err  error
	// cb0 holds the oldest callback inline: a single Then stage or callback
	// then costs no allocation for the list. It is set only while more is
	// empty, so it always comes first.
	cb0 callbackFunc[T]
	// more holds the later callbacks, newest first.
	more *callback[T]

	// work is the context of the work this future owns (set by Go), or nil.
	work *workCtx
}

// The states of a future. A settled future is draining while the goroutine
// that settled it runs its callbacks: a callback registered then joins the
// end of the list instead of running at once, so that a callback registered
// by another callback runs after the ones registered before it, as in
// JavaScript's job queue. It is quiet once the list is empty.
//
// A pending future that a [Compose] result has adopted is linked: it has no
// state of its own any more, and every method defers to its root, the
// future it is an alias of, found by following the links from cb0.
const (
	pending uint32 = iota
	linked
	draining
	quiet
)

// settled reports whether f has its outcome; a linked future never does,
// its root has.
func (f *Future[T]) settled() bool { return f.state.Load() >= draining }

// root returns the future a linked f is an alias of. cb0 is written before
// the state becomes linked, and never again.
func (f *Future[T]) root() *Future[T] {
	for f.state.Load() == linked {
		f = f.cb0.(linkTo[T]).root
	}
	return f
}

// linkTo is the cb0 of a linked future. It is never called.
type linkTo[T any] struct{ root *Future[T] }

func (linkTo[T]) call(T, error) drainer { return nil }

// adopt makes f, if it is pending with nothing registered on it and no
// waiter, an alias of r, a pending future that is not linked, and reports
// whether it did.
//
// Both states are checked under both locks, taken in address order (nothing
// else holds two futures' locks, so the order cannot deadlock): two Compose
// results adopting each other on two goroutines would otherwise both see the
// other pending and link into a cycle that root would follow forever. With
// the locks, the second to lock sees the first linked and declines.
func (f *Future[T]) adopt(r *Future[T]) bool {
	if f == r {
		return false
	}
	a, b := f, r
	if uintptr(unsafe.Pointer(a)) > uintptr(unsafe.Pointer(b)) {
		a, b = b, a
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.state.Load() != pending || f.cb0 != nil || f.more != nil || f.done != nil || f.work != nil || r.state.Load() != pending {
		return false
	}
	f.cb0 = linkTo[T]{r}
	f.state.Store(linked)
	return true
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
	f.state.Store(quiet)
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
	f.state.Store(quiet)
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
	if f.state.Load() == linked {
		return f.root().Done()
	}
	f.mu.Lock()
	if f.state.Load() == linked {
		// Adopted between the check above and the lock.
		f.mu.Unlock()
		return f.root().Done()
	}
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
	if f.settled() {
		return f.val, f.err
	}
	if f.state.Load() == linked {
		return f.root().Await(ctx)
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
		if f.settled() {
			return f.val, f.err
		}
		var zero T
		return zero, ctx.Err()
	}
}

// Peek returns the future's value and error without blocking, or the zero
// value and [ErrPending] if it has not settled yet.
func (f *Future[T]) Peek() (T, error) {
	switch f.state.Load() {
	case draining, quiet:
		return f.val, f.err
	case linked:
		return f.root().Peek()
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
	f.onSettle(userFunc[T](func(v T, err error) {
		if err == nil {
			fn(v)
		}
	}))
}

// OnError arranges for fn to run once with the error, if the future settles
// with one. See [Future.OnComplete] for when and where callbacks run.
func (f *Future[T]) OnError(fn func(error)) {
	if fn == nil {
		return
	}
	f.onSettle(userFunc[T](func(_ T, err error) {
		if err != nil {
			fn(err)
		}
	}))
}

// OnComplete arranges for fn to run once with the value and error when the
// future settles.
//
// Callbacks registered before settlement run on the goroutine that settles
// the future (the goroutine of [Go], or the caller of a [Promise] method),
// after Done is closed and waiters are released, in the order they were
// registered. A callback registered after that goroutine has run them all
// runs at once on the registering goroutine. A callback registered while it
// is still running them (by one of those callbacks, typically) joins the end
// of the list and runs on that goroutine after the callbacks registered
// before it, as a JavaScript then inside a then does: so a callback that
// registers another never has it run nested inside itself, ahead of its
// siblings. Either way a callback runs exactly once and no goroutine is
// started for it, so a slow callback delays the ones after it: hand long
// work to [Go].
//
// Continuations ([Then] and friends) settle their futures from such a
// callback. The goroutine runs the callbacks of those futures in turn, after
// the ones of the future it settled (breadth first, from a work list), not
// inside them: the stack stays flat however long a chain of stages is.
//
// A callback that panics does not stop the others: every callback still
// runs, those of futures it settles included, and then the first panic is
// raised again, as a [*PanicError] with the original value and stack, on the
// goroutine that ran them. The future itself is settled before any callback
// runs and is not affected. A callback that calls runtime.Goexit does not
// stop the others either, however many do: they run before the goroutine
// ends, and the first panic is raised on its way out.
//
// A nil fn is ignored, here and in OnSuccess and OnError. OnComplete costs no
// allocation beyond the growth of the callback list; OnSuccess and OnError
// cost one. To take a callback back, use [Future.AfterFunc].
func (f *Future[T]) OnComplete(fn func(T, error)) {
	if fn == nil {
		return
	}
	f.onSettle(userFunc[T](fn))
}

// AfterFunc arranges for fn to run once with the value and error when the
// future settles, as [Future.OnComplete] does, and returns a function that
// takes the registration back, in the manner of [context.AfterFunc].
//
// Calling stop before fn has been taken up to run removes fn from the
// future, so that it holds nothing of fn any more, and returns true: fn will
// never run. Otherwise (fn has run, is running or is about to, on the
// settling goroutine, or stop was called before) stop returns false and
// does nothing. stop may be called any number of times from any goroutine.
//
// Use it when the code that registers may stop caring before the future
// settles (a wait that times out, a loop left early): a future that stays
// pending for long keeps every callback registered on it. AfterFunc costs
// two allocations (the list node and stop); OnComplete, which cannot be
// taken back, costs nothing extra. A nil fn gives a stop that returns false.
func (f *Future[T]) AfterFunc(fn func(T, error)) (stop func() bool) {
	if fn == nil {
		return func() bool { return false }
	}
	return f.afterFunc(userFunc[T](fn))
}

// afterFunc is AfterFunc for any callback, continuations included.
func (f *Future[T]) afterFunc(cb callbackFunc[T]) (stop func() bool) {
	if f.state.Load() == linked {
		return f.root().afterFunc(cb)
	}
	c := &callback[T]{fn: cb}
	if f.state.Load() != quiet {
		f.mu.Lock()
		if f.state.Load() == linked {
			// Adopted between the check above and the lock.
			f.mu.Unlock()
			return f.root().afterFunc(cb)
		}
		if f.state.Load() != quiet {
			// Never in cb0: only nodes in more can be found and removed.
			c.next = f.more
			f.more = c
			f.mu.Unlock()
			return func() bool { return f.remove(c) }
		}
		f.mu.Unlock()
	}
	runNow(c.fn, f.val, f.err)
	return func() bool { return false }
}

// remove unlinks c from the callbacks not yet taken up to run and reports
// whether it found it.
func (f *Future[T]) remove(c *callback[T]) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := &f.more; *p != nil; p = &(*p).next {
		if *p == c {
			*p = c.next
			c.next, c.fn = nil, nil
			return true
		}
	}
	return false
}

// Cancel settles a pending future with [context.Canceled] and, for a future
// started with [Go], cancels the context of its work. It reports whether it
// settled the future; on a settled future it does nothing and returns false.
//
// Cancel does not wait for the work to return: the work's goroutine ends when
// its function notices the cancelled context, and its late result is dropped.
// Cancelling a future made by [Then] or another composition settles that
// future only; the future it was derived from, and that future's work, go on.
// The one exception is a [Compose] result and the future it adopted, which
// are one future (see Compose).
func (f *Future[T]) Cancel() bool {
	return f.cancel(context.Canceled, context.Canceled)
}

// cancel settles f with cause and ends its work's context with err.
func (f *Future[T]) cancel(err, cause error) bool {
	var zero T
	return f.settleAndEnd(zero, cause, err)
}

// onSettle runs cb after settlement: later on the settling goroutine if f is
// pending or its callbacks are running, or now on this one.
func (f *Future[T]) onSettle(cb callbackFunc[T]) {
	if f.state.Load() == linked {
		f.root().onSettle(cb)
		return
	}
	if f.state.Load() != quiet {
		f.mu.Lock()
		if f.state.Load() == linked {
			// Adopted between the check above and the lock.
			f.mu.Unlock()
			f.root().onSettle(cb)
			return
		}
		if f.state.Load() != quiet {
			if f.cb0 == nil && f.more == nil {
				f.cb0 = cb
			} else {
				f.more = &callback[T]{fn: cb, next: f.more}
			}
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
	}
	runNow(cb, f.val, f.err)
}

// settle stores the outcome if f is pending, wakes every waiter and runs the
// callbacks. It reports whether this call settled f.
func (f *Future[T]) settle(v T, err error) bool {
	return f.settleAndEnd(v, err, context.Canceled)
}

// settleAndEnd settles f and, for a Go future, ends its work's context with
// workErr under the same lock: once the future has settled, its work has
// either returned or been given up. It then runs the callbacks.
func (f *Future[T]) settleAndEnd(v T, err, workErr error) bool {
	d, ok := f.complete(v, err, workErr)
	if d != nil {
		runQueue(d)
	}
	return ok
}

// complete settles f, wakes every waiter and returns f as a drainer if it has
// callbacks to run, leaving them to the caller. ok reports whether this call
// settled f.
func (f *Future[T]) complete(v T, err, workErr error) (d drainer, ok bool) {
	if f.state.Load() == linked {
		return f.root().complete(v, err, workErr)
	}
	f.mu.Lock()
	if st := f.state.Load(); st != pending {
		f.mu.Unlock()
		if st == linked {
			// Adopted between the check above and the lock: the outcome
			// belongs to the root now, or it would be lost.
			return f.root().complete(v, err, workErr)
		}
		return nil, false
	}
	s := f.settleLocked(v, err, workErr)
	f.mu.Unlock()
	return s.finish(f), true
}

// settling is what settleLocked leaves to do once the lock is released.
type settling struct {
	done  chan struct{} // to close: somebody waits on it
	links *workLinks    // the work's context's links to undo and notify
	has   bool          // there are callbacks to run
}

// settleLocked stores the outcome of f, which is pending, with f.mu held.
func (f *Future[T]) settleLocked(v T, err, workErr error) settling {
	f.val, f.err = v, err
	// The store publishes val and err to lock-free readers (Await, Peek,
	// callbacks registered later), so it must come after them.
	s := settling{done: f.done, has: f.cb0 != nil || f.more != nil}
	if s.has {
		f.state.Store(draining)
	} else {
		f.state.Store(quiet)
	}
	if s.done == nil {
		f.done = closedChan
	}
	if f.work != nil {
		s.links = f.work.endLocked(workErr)
	}
	return s
}

// finish wakes f's waiters and ends its work's links, after f.mu is
// released, and returns f as a drainer if it has callbacks to run.
func (s settling) finish(f drainer) drainer {
	if s.done != nil {
		close(s.done)
	}
	s.links.run()
	if s.has {
		return f
	}
	return nil
}

// lockPair locks a and b in address order, the order every holder of two
// futures' locks takes them in ([Future.adopt], [Timeout]'s timer), so that
// two of them cannot deadlock. It returns them in that order: unlock the
// second, then the first.
func lockPair[T any](a, b *Future[T]) (first, second *Future[T]) {
	if uintptr(unsafe.Pointer(a)) > uintptr(unsafe.Pointer(b)) {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
	return a, b
}

// A drainer is a settled future whose callbacks are waiting to be run by the
// goroutine that settled it.
type drainer interface {
	// drain runs the callbacks, those registered meanwhile included, and
	// leaves the future quiet. It returns the futures the callbacks settled
	// (first, then rest) whose own callbacks are waiting, and the first
	// panic of a callback.
	drain() (first drainer, rest []drainer, p *PanicError)
}

// runQueue runs the callbacks of d and of every future they settle, breadth
// first, then raises the first panic of any of them again. The queue is the
// trampoline that keeps the stack depth of a settlement independent of the
// length of the chain it settles.
func runQueue(d drainer) {
	// Most settlements settle nothing further: they need no list, whose
	// buffer would escape to the heap. A Goexit or panic out of this first
	// drain leaves nothing queued behind it to finish, as in the runner.
	first, rest, p := d.drain()
	if first == nil && len(rest) == 0 {
		if p != nil {
			panic(p)
		}
		return
	}
	q := make([]drainer, 0, 1+len(rest))
	if first != nil {
		q = append(q, first)
	}
	runAll(append(q, rest...), p)
}

// runAll runs the callbacks of every future in ds as runQueue does, and
// raises p, a panic recorded before them, or else their first panic.
func runAll(ds []drainer, p *PanicError) {
	r := runner{q: ds, panicked: p}
	r.runToEnd()
}

// A runner is the work list of runQueue.
//
// runtime.Goexit in a callback cannot be stopped, and a panic raised on the
// way out of it is the only way to hand anything up the stack: the return
// values of the frames it unwinds are thrown away. So on that path a frame
// with a panic to report raises it, and the runner's deferred afterRun
// recovers it, keeps the first panic, runs the rest of the list, and only
// then raises the first panic again.
//
// A callback may call Goexit again while the list is being finished, any
// number of times. Once a deferred call is cut short by a Goexit, no
// statement after the call it was making runs: only deferred calls do. So
// every step left to do on that path, the rest of the list and raising the
// panic alike, is taken from a deferred call (afterRun), never from the
// statement after one.
type runner struct {
	q        []drainer
	head     int
	panicked *PanicError
	done     bool
}

func (r *runner) record(p *PanicError) {
	if p != nil && r.panicked == nil {
		r.panicked = p
	}
}

// run drains the list until it is empty and then sets done.
func (r *runner) run() {
	for r.head < len(r.q) {
		d := r.q[r.head]
		r.q[r.head] = nil // a finished stage is not kept reachable
		r.head++
		first, rest, p := d.drain()
		r.record(p)
		if r.head == len(r.q) {
			r.q, r.head = r.q[:0], 0
		}
		if first != nil {
			r.q = append(r.q, first)
		}
		r.q = append(r.q, rest...)
	}
	r.done = true
}

// runToEnd runs the list to its end and then raises the first panic,
// whatever Goexits and panics cut run short on the way.
func (r *runner) runToEnd() {
	defer r.afterRun()
	r.run()
}

// afterRun is deferred by runToEnd. If run was cut short (a Goexit, or a
// panic handed up on the way out of one), it takes up the panic and runs
// the rest of the list, under a defer of its own; once the list is done,
// it raises the first panic.
func (r *runner) afterRun() {
	if !r.done {
		r.record(asPanicError(recover()))
		r.runToEnd()
		return
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
}

// asPanicError returns the panic value raised on a Goexit path (always a
// *PanicError, from runQueue or runAll) as one, and nil for nil.
func asPanicError(v any) *PanicError {
	switch v := v.(type) {
	case nil:
		return nil
	case *PanicError:
		return v
	default:
		return newPanicError(v)
	}
}

// runNow runs cb at once, with the callbacks of any future it settles, and
// raises its panic again after them.
//
// The panic is raised from a deferred call registered before cb runs: a
// panic recovered while a Goexit unwinds (one handed up by a settlement
// inside cb) resumes the Goexit, and only a deferred call still runs then.
func runNow[T any](cb callbackFunc[T], v T, err error) {
	var n nowRun
	defer n.raise()
	if d := try(&n, cb, v, err); d != nil {
		runQueue(d)
	}
}

// nowRun holds the panic of runNow's callback.
type nowRun struct{ p *PanicError }

func (n *nowRun) raise() {
	if n.p != nil {
		panic(n.p)
	}
}

// try runs cb and returns the future it settled, if it has callbacks
// waiting, and records its panic, if any, as a *PanicError.
func try[T any](n *nowRun, cb callbackFunc[T], v T, err error) drainer {
	defer n.recoverCall()
	return cb.call(v, err)
}

func (n *nowRun) recoverCall() {
	if r := recover(); r != nil {
		n.p = newPanicError(r)
	}
}

// drain implements drainer. Callbacks registered while it runs go to the
// list, which it takes again until it finds it empty.
func (f *Future[T]) drain() (first drainer, rest []drainer, panicked *PanicError) {
	s := drainRun[T]{f: f, v: f.val, err: f.err}
	defer s.finish()
	s.run()
	return s.first, s.rest, s.panicked
}

// drainRun is the state of a drain, kept in a struct so that the Goexit
// path can finish it.
type drainRun[T any] struct {
	f        *Future[T]
	v        T
	err      error
	cb0      callbackFunc[T] // the first of the batch, if not run yet
	batch    *callback[T]    // the rest of the batch being run
	first    drainer
	rest     []drainer
	panicked *PanicError
	done     bool // every callback has run
	handed   bool // the Goexit path has handed first and rest to runAll
}

func (s *drainRun[T]) add(d drainer, p *PanicError) {
	if p != nil && s.panicked == nil {
		s.panicked = p
	}
	switch {
	case d == nil:
	case s.first == nil:
		s.first = d
	default:
		s.rest = append(s.rest, d)
	}
}

// run runs the callbacks until the list is empty and then sets done. Each
// is unlinked before it runs, so that a run taken up again after a Goexit
// starts with the next one.
func (s *drainRun[T]) run() {
	for {
		if s.cb0 == nil && s.batch == nil {
			if s.cb0, s.batch = s.f.take(); s.cb0 == nil && s.batch == nil {
				break
			}
		}
		if s.cb0 != nil {
			c := s.cb0
			s.cb0 = nil
			s.call(c)
		}
		for s.batch != nil {
			c := s.batch
			s.batch = c.next
			s.call(c.fn)
		}
	}
	s.done = true
}

// call runs one callback and records what it settled and its panic in s
// itself, not through return values: a panic recovered while a Goexit
// unwinds (one handed up by a runner nested in the callback) resumes the
// Goexit, and return values would be lost with the frame.
func (s *drainRun[T]) call(c callbackFunc[T]) {
	defer s.recoverCall()
	s.add(c.call(s.v, s.err), nil)
}

func (s *drainRun[T]) recoverCall() {
	if r := recover(); r != nil {
		s.add(nil, newPanicError(r))
	}
}

// finish is deferred by drain. If a callback called runtime.Goexit, it runs
// the remaining callbacks, then the callbacks of the futures they settled,
// before the goroutine ends, and raises the first panic of any of them (the
// ones recorded before the Goexit included) for the runner above to take up.
func (s *drainRun[T]) finish() {
	if s.done {
		return
	}
	s.finishRest()
}

// finishRest runs the remaining callbacks. Its deferred afterRest takes the
// run up again after each further Goexit and, once every callback has run,
// hands what they settled to runAll: from the deferred call, since after a
// second Goexit no statement after finishRest would run.
func (s *drainRun[T]) finishRest() {
	defer s.afterRest()
	s.run()
}

func (s *drainRun[T]) afterRest() {
	if !s.done {
		s.add(nil, asPanicError(recover()))
		s.finishRest()
		return
	}
	if s.handed {
		return
	}
	s.handed = true
	ds := s.rest
	if s.first != nil {
		ds = append([]drainer{s.first}, s.rest...)
	}
	p := s.panicked
	s.first, s.rest, s.panicked = nil, nil, nil
	runAll(ds, p)
}

// take returns the callbacks registered and not yet run, oldest first (the
// inline one, then the list), and leaves none; with none, it marks f quiet.
func (f *Future[T]) take() (callbackFunc[T], *callback[T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cb0, more := f.cb0, f.more
	f.cb0, f.more = nil, nil
	if cb0 == nil && more == nil {
		f.state.Store(quiet)
	}
	return cb0, more.reverse()
}

// A callbackFunc is a callback in a future's list: a user's function, or a
// continuation of this package, which returns the future it settled instead
// of running that future's callbacks inside its own call.
type callbackFunc[T any] interface {
	call(v T, err error) drainer
}

// userFunc is a user's callback. Being a func type, it is stored in a
// callbackFunc without an allocation.
type userFunc[T any] func(T, error)

func (fn userFunc[T]) call(v T, err error) drainer {
	fn(v, err)
	return nil
}

// contFunc is a continuation: it settles its future with complete and
// returns it, so that the queue, not the stack, runs its callbacks.
type contFunc[T any] func(T, error) drainer

func (fn contFunc[T]) call(v T, err error) drainer { return fn(v, err) }

// callback is a node of a future's list of callbacks after the first.
// A list of nodes rather than a slice keeps a future two words smaller;
// most futures have one callback, held inline.
type callback[T any] struct {
	fn   callbackFunc[T]
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
