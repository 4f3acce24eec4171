package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/target-go/sdk/future"
)

var (
	// ErrMissingKey fails a [Coalescer.Load] whose key the bulk function
	// left out of its result.
	ErrMissingKey = errors.New("batch: bulk result has no value for the key")
	// ErrBulkResult fails every request of a [Batcher] batch whose bulk
	// function returned a number of responses other than one per request.
	ErrBulkResult = errors.New("batch: bulk result does not match the requests")
)

// BatchOptions says when a batch is sent. The zero value sends each batch
// as soon as the timer fires, with no size limit.
type BatchOptions struct {
	// Window is how long the first request of a batch waits for others
	// before the batch is sent. The clock starts with that first request,
	// so a request never waits longer than Window.
	Window time.Duration
	// MaxSize, if positive, sends a batch as soon as it holds this many
	// requests (distinct keys for a [Coalescer]), without waiting for the
	// window to end. A request whose callers have all given up (ctx ended,
	// future cancelled) before the batch is sent does not count, and is
	// left out of the bulk call.
	MaxSize int
}

// A Batcher merges requests submitted close together into one call of a
// bulk function and hands each caller its own response: the shape of a
// client that sends many requests as one and splits the answer (a Delivery
// request with many mboxes, split back by mbox index).
//
// Requests are grouped by a key of type G: requests with the same key that
// arrive within [BatchOptions.Window], or until [BatchOptions.MaxSize] of
// them, go to one bulk call; requests with different keys are never
// merged. Use struct{} for G when every request may be merged with every
// other.
//
// A Batcher is safe for concurrent use and must not be copied after first
// use. It starts no goroutine while idle: an open batch is a
// [time.AfterFunc] timer, and the bulk call runs on that timer's goroutine
// (or on a new one when MaxSize fills a batch), which ends when the call
// returns. Batches whose bulk calls overlap in time run concurrently.
type Batcher[G comparable, Req, Resp any] struct {
	c core[G, Req, Resp]
}

// NewBatcher returns a Batcher that sends batches to bulk. bulk receives
// the group key and the requests in the order they were submitted, and
// must return one response per request, in the same order, or an error
// that fails every request of the batch.
//
// The context bulk receives carries the values of the first request's
// context but not its cancellation, since the batch serves other callers
// too; it is cancelled when every caller of the batch has given up (their
// contexts ended) and when bulk returns. A panic in bulk fails every
// request of the batch with a [*future.PanicError], and a call of
// runtime.Goexit (t.FailNow, say) with an error saying so; a result of the
// wrong length fails them with [ErrBulkResult]; a nil bulk fails every
// Submit. A group key that cannot be hashed fails its Submit with
// [ErrUnhashableKey], one not equal to itself (a NaN) with [ErrNaNKey], and
// either leaves the Batcher serving the others.
func NewBatcher[G comparable, Req, Resp any](bulk func(ctx context.Context, group G, reqs []Req) ([]Resp, error), opts BatchOptions) *Batcher[G, Req, Resp] {
	b := &Batcher[G, Req, Resp]{}
	b.c.opts = opts
	if bulk != nil {
		b.c.bulk = func(ctx context.Context, g G, reqs []Req) ([]Result[Resp], error) {
			resps, err := bulk(ctx, g, reqs)
			if err != nil {
				return nil, err
			}
			if len(resps) != len(reqs) {
				return nil, fmt.Errorf("%w: %d responses for %d requests", ErrBulkResult, len(resps), len(reqs))
			}
			out := make([]Result[Resp], len(resps))
			for i, r := range resps {
				out[i].Value = r
			}
			return out, nil
		}
	}
	return b
}

// Submit adds req to the open batch of its group, starting one if there is
// none, and returns a future of req's own response or of the error that
// failed its batch.
//
// ctx bounds this caller's wait: when it ends first, the future fails with
// ctx.Err() and the others in the batch are unaffected; if every caller of
// a batch gives up before it is sent, it is not sent. A ctx already ended
// fails the future at once. The future is this caller's alone: cancelling
// it is giving up. Submit watches ctx with context.AfterFunc, which calls
// its Done and Value: a ctx whose Done or Value panics panics out of
// Submit, on the caller's goroutine, with req left out of the batch, and
// the Batcher goes on serving the others.
func (b *Batcher[G, Req, Resp]) Submit(ctx context.Context, group G, req Req) *future.Future[Resp] {
	return b.c.submit(ctx, group, req, nil)
}

// Flush sends every open batch now instead of at the end of its window.
// It does not wait for the bulk calls.
func (b *Batcher[G, Req, Resp]) Flush() { b.c.flush() }

// A Coalescer is a keyed loader (the DataLoader pattern): [Coalescer.Load]
// calls made close together become one call of a bulk function over their
// distinct keys, and each caller gets the value of its own key.
//
// It is a [Batcher] whose requests are the keys themselves, all in one
// group, with one difference: a key requested twice in the same batch takes
// one slot, and both callers get its outcome. Keys already sent in a batch
// that has not returned are sent again; put a [Group] in front to share
// those too. The goroutine and concurrency contracts are the Batcher's.
type Coalescer[K comparable, V any] struct {
	c core[struct{}, K, V]
}

// NewCoalescer returns a Coalescer that loads batches with bulk. bulk
// receives distinct keys in the order they were first requested and
// returns the values it found; a key missing from the map fails its
// callers with [ErrMissingKey], and an error fails every key of the batch.
// The context bulk receives, and panics in it, are as for [NewBatcher]. A
// key that cannot be hashed fails its Load with [ErrUnhashableKey], one not
// equal to itself (a NaN) with [ErrNaNKey], and either leaves the Coalescer
// serving the others.
func NewCoalescer[K comparable, V any](bulk func(ctx context.Context, keys []K) (map[K]V, error), opts BatchOptions) *Coalescer[K, V] {
	c := &Coalescer[K, V]{}
	c.c.opts = opts
	c.c.dedup = true
	if bulk != nil {
		c.c.bulk = func(ctx context.Context, _ struct{}, keys []K) ([]Result[V], error) {
			m, err := bulk(ctx, keys)
			if err != nil {
				return nil, err
			}
			out := make([]Result[V], len(keys))
			for i, k := range keys {
				v, ok := m[k]
				if !ok {
					out[i].Err = ErrMissingKey
				}
				out[i].Value = v
			}
			return out, nil
		}
	}
	return c
}

// Load returns a future of key's value, loaded in the batch open when Load
// is called, that fails with the batch's bulk error or [ErrMissingKey].
// ctx bounds this caller's wait only, and a ctx that panics fails only
// this Load, as for [Batcher.Submit].
func (c *Coalescer[K, V]) Load(ctx context.Context, key K) *future.Future[V] {
	return c.c.submit(ctx, struct{}{}, key, any(key))
}

// Flush sends the open batch now instead of at the end of its window.
func (c *Coalescer[K, V]) Flush() { c.c.flush() }

// core is the machinery of Batcher and Coalescer.
type core[G comparable, Req, Resp any] struct {
	bulk  func(context.Context, G, []Req) ([]Result[Resp], error)
	opts  BatchOptions
	dedup bool // Req is comparable and equal requests share a slot

	mu   sync.Mutex
	open map[G]*pendingBatch[G, Req, Resp]
}

// pendingBatch is one batch, from its first request until it is delivered.
// Its fields are guarded by core.mu.
type pendingBatch[G comparable, Req, Resp any] struct {
	group G
	slots []*slot[Req, Resp]
	byKey map[any]int // slot index by request, when deduplicating
	timer *time.Timer
	sent  bool
	live  int // callers still waiting
	// liveSlots counts the slots with a caller still waiting: what
	// MaxSize compares with, since slots whose callers all gave up are
	// left out of the bulk call.
	liveSlots int
	ctx       context.Context
	cancel    context.CancelFunc
}

type slot[Req, Resp any] struct {
	req     Req
	waiters []*waiter[Resp]
}

type waiter[Resp any] struct {
	p    future.Promise[Resp]
	gone bool        // answered or given up; under core.mu
	stop func() bool // unregisters the ctx watch
}

var errNilBulk = errors.New("batch: nil bulk function")

func (c *core[G, Req, Resp]) submit(ctx context.Context, g G, req Req, key any) *future.Future[Resp] {
	switch {
	case c.bulk == nil:
		return future.Rejected[Resp](errNilBulk)
	case ctx == nil:
		return future.Rejected[Resp](errors.New("batch: nil context"))
	case ctx.Err() != nil:
		return future.Rejected[Resp](ctx.Err())
	}
	// Checked before the lock: hashing them in the maps below would panic
	// with the lock held.
	if err := keyError(g); err != nil {
		return future.Rejected[Resp](fmt.Errorf("batch: group: %w", err))
	}
	if err := keyError(key); err != nil {
		return future.Rejected[Resp](err)
	}
	w := &waiter[Resp]{}
	c.mu.Lock()
	b := c.open[g]
	if b == nil {
		b = &pendingBatch[G, Req, Resp]{group: g}
		// The bulk call keeps the values of the first caller's context
		// (trace ids, say) but not its cancellation: others rely on it.
		b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
		if c.dedup {
			b.byKey = make(map[any]int)
		}
		if c.open == nil {
			c.open = make(map[G]*pendingBatch[G, Req, Resp])
		}
		c.open[g] = b
		b.timer = time.AfterFunc(max(c.opts.Window, 0), func() { c.send(b) })
	}
	var s *slot[Req, Resp]
	if c.dedup {
		if i, ok := b.byKey[key]; ok {
			s = b.slots[i]
		} else {
			b.byKey[key] = len(b.slots)
		}
	}
	if s == nil {
		s = &slot[Req, Resp]{req: req}
		b.slots = append(b.slots, s)
	}
	if len(s.waiters) == 0 {
		b.liveSlots++ // a new slot, or a deduplicated one given up on
	}
	s.waiters = append(s.waiters, w)
	b.live++
	// Registered under the lock so that deliver, which reads w.stop under
	// it, sees it. AfterFunc never calls back synchronously. Before the
	// batch may be closed below: a ctx whose Done or Value panics (both
	// are the caller's code, and AfterFunc calls them) panics out of watch
	// with w taken out again and c.mu released, so that it fails this call
	// only, on the caller's goroutine, and the batch is sent as if w had
	// never joined.
	c.watch(ctx, b, s, w)
	full := c.opts.MaxSize > 0 && b.liveSlots >= c.opts.MaxSize
	if full {
		c.close(b)
	}
	c.mu.Unlock()
	// Giving up through the future (Cancel) is giving up too.
	w.p.Future().OnError(func(err error) { c.giveUp(b, s, w, err) })
	if full {
		go c.run(b)
	}
	return w.p.Future()
}

// close takes b out of the open batches so that no request joins it; c.mu
// is held. It reports whether this call did it.
func (c *core[G, Req, Resp]) close(b *pendingBatch[G, Req, Resp]) bool {
	if b.sent {
		return false
	}
	b.sent = true
	b.timer.Stop()
	if c.open[b.group] == b {
		delete(c.open, b.group)
	}
	return true
}

// send is the timer's flush.
func (c *core[G, Req, Resp]) send(b *pendingBatch[G, Req, Resp]) {
	c.mu.Lock()
	ok := c.close(b)
	c.mu.Unlock()
	if ok {
		c.run(b)
	}
}

func (c *core[G, Req, Resp]) flush() {
	c.mu.Lock()
	var bs []*pendingBatch[G, Req, Resp]
	for _, b := range c.open {
		if c.close(b) {
			bs = append(bs, b)
		}
	}
	c.mu.Unlock()
	for _, b := range bs {
		go c.run(b)
	}
}

// run makes the bulk call for a closed batch and delivers the outcomes.
func (c *core[G, Req, Resp]) run(b *pendingBatch[G, Req, Resp]) {
	defer b.cancel()
	c.mu.Lock()
	// Slots whose callers all gave up before the batch closed are left
	// out; a batch with none left is not sent.
	var (
		slots = make([]*slot[Req, Resp], 0, len(b.slots))
		reqs  = make([]Req, 0, len(b.slots))
	)
	for _, s := range b.slots {
		if len(s.waiters) > 0 {
			slots = append(slots, s)
			reqs = append(reqs, s.req)
		}
	}
	c.mu.Unlock()
	if len(reqs) == 0 {
		return
	}
	normal := false
	defer func() {
		if !normal {
			// bulk called runtime.Goexit, which recover does not see and
			// nothing stops: answer every caller before the goroutine ends.
			c.deliver(slots, nil, errBulkGoexit)
		}
	}()
	res, err := callBulk(b.ctx, c.bulk, b.group, reqs)
	normal = true
	c.deliver(slots, res, err)
}

var errBulkGoexit = errors.New("batch: bulk function called runtime.Goexit")

func callBulk[G, Req, Resp any](ctx context.Context, bulk func(context.Context, G, []Req) ([]Result[Resp], error), g G, reqs []Req) (res []Result[Resp], err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, &future.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return bulk(ctx, g, reqs)
}

// deliver settles every caller still waiting in slots with its outcome.
func (c *core[G, Req, Resp]) deliver(slots []*slot[Req, Resp], res []Result[Resp], err error) {
	type answer struct {
		w *waiter[Resp]
		r Result[Resp]
	}
	var answers []answer
	c.mu.Lock()
	for i, s := range slots {
		r := Result[Resp]{Err: err}
		if err == nil {
			r = res[i]
		}
		for _, w := range s.waiters {
			if !w.gone {
				w.gone = true
				answers = append(answers, answer{w, r})
			}
		}
		s.waiters = nil
	}
	c.mu.Unlock()
	// Outside the lock: settling runs the callers' callbacks.
	forEach(answers, func(a answer) {
		if a.w.stop != nil {
			a.w.stop()
		}
		_ = a.w.p.Complete(a.r.Value, a.r.Err)
	})
}

// watch registers w's give-up on ctx's end; c.mu is held. When ctx
// panics (or calls runtime.Goexit) in its Done or Value, w leaves b again
// and c.mu is released before the panic goes on to submit's caller: held,
// it would wedge every later call of the Batcher.
func (c *core[G, Req, Resp]) watch(ctx context.Context, b *pendingBatch[G, Req, Resp], s *slot[Req, Resp], w *waiter[Resp]) {
	ok := false
	defer func() {
		if ok {
			return
		}
		w.gone = true
		if c.leaveLocked(b, s, w) {
			b.cancel() // closed by leaveLocked: nobody is left to send it for
		}
		c.mu.Unlock()
	}()
	if ctx.Done() != nil {
		w.stop = context.AfterFunc(ctx, func() { c.giveUp(b, s, w, ctx.Err()) })
	}
	ok = true
}

// leaveLocked takes w out of s and b; c.mu is held. When w was b's last
// caller and b was still open, it closes b, which is then dropped without
// a call, and reports true; the caller cancels b.
func (c *core[G, Req, Resp]) leaveLocked(b *pendingBatch[G, Req, Resp], s *slot[Req, Resp], w *waiter[Resp]) (dropped bool) {
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			break
		}
	}
	if len(s.waiters) == 0 {
		b.liveSlots--
	}
	b.live--
	return b.live == 0 && c.close(b)
}

// giveUp removes a caller whose context ended, or whose future was
// cancelled, and fails its future with err.
func (c *core[G, Req, Resp]) giveUp(b *pendingBatch[G, Req, Resp], s *slot[Req, Resp], w *waiter[Resp], err error) {
	c.mu.Lock()
	if w.gone {
		c.mu.Unlock()
		return
	}
	w.gone = true
	dropped := c.leaveLocked(b, s, w)
	if dropped {
		// Nobody is left to send the batch for: drop it without a call.
		b.cancel()
	}
	abandoned := !dropped && b.live == 0
	c.mu.Unlock()
	if abandoned {
		// The bulk call is running for nobody: tell it.
		b.cancel()
	}
	if w.stop != nil {
		w.stop()
	}
	var zero Resp
	_ = w.p.Complete(zero, err)
}
