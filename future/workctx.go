package future

import (
	"context"
	"slices"
	"sync"
	"time"
)

// workCtx is the context a [Go] future's work runs under. It is cancelled
// when its parent is, when the future is cancelled, and when the work
// returns. It lives inside the future's allocation, which is what keeps Go at
// three allocations: context.WithCancel would add two more per future.
//
// It implements AfterFunc, the hook the context package looks for on
// non-standard parents, so that contexts derived from it (an HTTP request's
// timeout, say) are cancelled synchronously instead of by a watcher
// goroutine each.
type workCtx struct {
	parent context.Context

	// mu is the future's own lock: settling the future and ending its
	// work's context then take one lock, not two.
	mu    *sync.Mutex
	done  chan struct{} // made on first Done; closedChan if ended first
	err   error
	links *workLinks // nil until the context has something to undo or notify
}

// workLinks are what ending a workCtx must undo or notify. They are rare
// (a cancellable parent, a derived context), so they live in their own
// allocation and keep the common future small: a smaller allocation is most
// of what separates Go from a bare goroutine and channel.
type workLinks struct {
	afters     []*afterEntry
	stopParent func() bool
}

type afterEntry struct{ f func() }

// start links c to parent. Nothing is registered on a parent that can never
// be cancelled, such as context.Background.
func (c *workCtx) start(parent context.Context) {
	c.parent = parent
	if parent.Done() == nil {
		return
	}
	if err := parent.Err(); err != nil {
		// context.AfterFunc would report this on another goroutine, possibly
		// after the work has started with a live context.
		c.err, c.done = err, closedChan
		return
	}
	stop := context.AfterFunc(parent, c.parentDone)
	c.mu.Lock()
	if c.err == nil {
		c.linksLocked().stopParent = stop
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	stop()
}

func (c *workCtx) linksLocked() *workLinks {
	if c.links == nil {
		c.links = &workLinks{}
	}
	return c.links
}

func (c *workCtx) parentDone() { c.cancel(c.parent.Err()) }

// cancel ends c with err; later calls do nothing.
func (c *workCtx) cancel(err error) {
	c.mu.Lock()
	links := c.endLocked(err)
	c.mu.Unlock()
	links.run()
}

// endLocked ends c with err, with c.mu held, and returns what must run
// after the lock is released: the derived contexts' cancellations call back
// into c (Err), and the parent's stop takes the parent's lock.
func (c *workCtx) endLocked(err error) *workLinks {
	if c.err != nil {
		return nil
	}
	c.err = err
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	links := c.links
	c.links = nil
	return links
}

// run undoes and notifies what l links; a nil l does nothing.
func (l *workLinks) run() {
	if l == nil {
		return
	}
	if l.stopParent != nil {
		l.stopParent()
	}
	for _, a := range l.afters {
		a.f()
	}
}

// Deadline returns the parent's deadline.
func (c *workCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Value returns the parent's value for key.
func (c *workCtx) Value(key any) any { return c.parent.Value(key) }

// Done returns a channel closed when the context is cancelled.
func (c *workCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

// Err returns nil before cancellation and the reason after it.
func (c *workCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc registers f to run when c is cancelled and returns a function
// that unregisters it, reporting whether it did so before f ran. The context
// package calls it for every context derived from c; f runs synchronously
// at cancellation, outside c's lock, or on a new goroutine if c is already
// cancelled (the caller may hold locks that f needs).
func (c *workCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	e := &afterEntry{f: f}
	links := c.linksLocked()
	links.afters = append(links.afters, e)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.links != links { // ended: f has run or is about to
			return false
		}
		i := slices.Index(links.afters, e)
		if i < 0 {
			return false
		}
		links.afters = slices.Delete(links.afters, i, i+1)
		return true
	}
}

// String names the context the way the context package names its own.
func (c *workCtx) String() string {
	if s, ok := c.parent.(interface{ String() string }); ok {
		return s.String() + ".WithFuture"
	}
	return "context.WithFuture"
}
