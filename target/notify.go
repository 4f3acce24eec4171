package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/delivery"
)

// Defaults for the zero fields of NotificationsConfig.
const (
	DefaultNotificationQueueSize   = 10000
	DefaultNotificationBatch       = 50
	DefaultNotificationMaxAttempts = 5
	DefaultNotificationRetryFor    = 30 * time.Second
)

// notificationSenders bounds the requests the queue has in flight at once:
// enough for the visitors of a busy server, few enough that a queue
// draining after an outage does not open a connection per visitor. The
// calls of refused batches sent again one by one have as many of their own
// (notifier.resends): at most twice this in all.
const notificationSenders = 16

// ErrNotificationQueueFull is the error of a SendNotifications call whose
// notifications do not fit in the queue (NotificationsConfig.QueueSize).
var ErrNotificationQueueFull = errors.New("target: notification queue full")

// NotificationsConfig configures the queue through which notifications
// reach the edge (see Client.SendNotifications).
type NotificationsConfig struct {
	// QueueSize bounds the notifications accepted and not yet delivered or
	// dropped, so that memory stays bounded while the edge is down. Zero
	// means DefaultNotificationQueueSize; negative is an error.
	QueueSize int
	// MaxBatch is the most notifications one request carries: the
	// notifications queued for one visitor go out together. The edge
	// refuses a whole request for one bad notification: when it refuses a
	// merged one (a 4xx other than 429), each call in it is sent again
	// alone, once, so that only the call at fault fails, and the limits of
	// the spec it is known to enforce are checked by SendNotifications
	// itself (ErrInvalidOption). Zero means DefaultNotificationBatch;
	// negative is an error.
	MaxBatch int
	// MaxAttempts is the most attempts for one request, the first
	// included; only network errors, 429 and 5xx answers are retried. Each
	// attempt is bounded by Config.Timeout and makes the retries of
	// Config.Retry, if any, itself.
	// Zero means DefaultNotificationMaxAttempts; negative is an error.
	MaxAttempts int
	// RetryFor bounds the time from a request's first attempt to the start
	// of its last retry. Zero means DefaultNotificationRetryFor; negative
	// is an error.
	RetryFor time.Duration
	// OnDropped, when set, is called with notifications that will not be
	// delivered and the reason: ErrNotificationQueueFull (on the caller's
	// goroutine, before SendNotifications returns), the last error once
	// retries are exhausted or for a failure that is not transient, or an
	// error wrapping ErrClientClosed for those sent after Close or left
	// when Close's context ended. Drops are logged too, at level Warn, to
	// Config.Logger, else slog.Default(): they are never silent. It runs
	// on a goroutine of its own that the queue's goroutine (or the
	// caller's) waits for, except once Close's context has ended: the
	// queue then settles the calls without waiting for it (see
	// Client.Close). Client.Close called from it marks the client
	// closed and waits for nothing (see Client.Close). A panic or
	// runtime.Goexit in it is logged at level Error, with a message naming
	// OnDropped, and changes nothing else: the calls still settle and
	// their room in the queue is freed.
	OnDropped func(notifications []Notification, err error)
}

func (n *NotificationsConfig) validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "Notifications." + field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case n.QueueSize < 0:
		return bad("QueueSize", "negative (%d)", n.QueueSize)
	case n.MaxBatch < 0:
		return bad("MaxBatch", "negative (%d)", n.MaxBatch)
	case n.MaxAttempts < 0:
		return bad("MaxAttempts", "negative (%d)", n.MaxAttempts)
	case n.RetryFor < 0:
		return bad("RetryFor", "negative (%v)", n.RetryFor)
	}
	return nil
}

// notifier is a Client's notification queue: SendNotifications adds to
// it, one worker goroutine, started when the queue fills and gone when it
// is empty, sends what is pending grouped by visitor.
type notifier struct {
	c   *Client
	cfg NotificationsConfig // defaults applied
	log *slog.Logger

	// base ends when Close's context ends before the queue is empty: the
	// requests in flight are aborted and the rest dropped.
	// resends bounds the requests of refused batches' calls sent again
	// alone: a sender waiting for its batch's singles holds its own slot.
	resends chan struct{}
	base    context.Context
	abort   context.CancelFunc

	// callbacks are the goroutines running OnDropped, the callbacks of
	// the calls the queue settles, or a send with its Observer events,
	// which Close must not wait for.
	callbacks callbackSet

	mu      sync.Mutex
	pending []*queuedNotifications
	count   int           // notifications accepted and not yet settled
	done    chan struct{} // closed when the running worker exits; nil when none runs
	closed  bool
}

// queuedNotifications is one SendNotifications call in the queue.
type queuedNotifications struct {
	ctx context.Context // the caller's values, not its cancellation
	p   *prepared
	out *future.Promise[*Response]
	// claimed is set by whoever settles the call (see notifier.claim): its
	// sender, or the worker once Close's ctx has ended while the sender is
	// held in the user's code.
	claimed atomic.Bool
}

func newNotifier(c *Client) *notifier {
	cfg := c.cfg.Notifications
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultNotificationQueueSize
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultNotificationBatch
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultNotificationMaxAttempts
	}
	if cfg.RetryFor == 0 {
		cfg.RetryFor = DefaultNotificationRetryFor
	}
	log := c.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	base, abort := context.WithCancel(context.Background())
	return &notifier{c: c, cfg: cfg, log: log, base: base, abort: abort, resends: make(chan struct{}, notificationSenders)}
}

// enqueue accepts a prepared SendNotifications call, or settles it at once
// when the queue is full or closed. register, when not nil, is called with
// the call's future before the queue can settle it (an accepted call is
// registered before the queue's goroutine sees it), so that what it
// registers runs on the goroutine that settles the call, as the callbacks'
// doc promises; for a call refused at once it is called after the call
// settled, on the caller's goroutine.
func (q *notifier) enqueue(ctx context.Context, p *prepared, register func(*future.Future[*Response])) *future.Future[*Response] {
	item := &queuedNotifications{ctx: context.WithoutCancel(ctx), p: p, out: future.NewPromise[*Response]()}
	f := item.out.Future()
	n := len(p.req.Notifications)
	q.mu.Lock()
	var err error
	switch {
	case q.closed:
		err = ErrClientClosed
	case q.count+n > q.cfg.QueueSize:
		err = fmt.Errorf("%w: %d notifications queued, %d more do not fit in %d", ErrNotificationQueueFull, q.count, n, q.cfg.QueueSize)
	}
	if err != nil {
		q.mu.Unlock()
		q.drop([]*queuedNotifications{item}, err, false, nil)
		if register != nil {
			register(f)
		}
		return f
	}
	if register != nil {
		// Nothing else holds the call yet, so it cannot settle here:
		// registering runs no user code under q.mu.
		register(f)
	}
	q.count += n
	q.pending = append(q.pending, item)
	if q.done == nil {
		q.done = make(chan struct{})
		go q.run(q.done)
	}
	q.mu.Unlock()
	return f
}

// notificationKey is what calls must share to go out in one request: the
// host, the session and the request without its notifications and the
// per-call ids prepare made up.
func notificationKey(p *prepared) string {
	k := *p.req
	k.RequestID, k.Notifications = "", nil
	if ec := k.ExperienceCloud; ec != nil && ec.Analytics != nil {
		e, a := *ec, *ec.Analytics
		a.SupplementalDataID = ""
		e.Analytics = &a
		k.ExperienceCloud = &e
	}
	e := encoderPool.Get().(*pooledEncoder)
	defer e.put()
	b := append(e.scratch[:0], p.host...)
	b = append(append(b, 0), p.sessionID...)
	b, err := delivery.AppendRequest(append(b, 0), &k)
	if err != nil {
		// Not mergeable; encode reports the error when the call is sent.
		return p.req.RequestID
	}
	if cap(b) <= maxPooledEncoderBuf {
		e.scratch = b[:0]
	}
	return string(b)
}

// run is the worker: it sends what is pending, again and again, and ends
// when the queue is empty. What is added while it sends waits for the next
// round and is batched with the rest.
//
// The Observer functions that run on the queue's goroutines run inside
// q.callbacks (a send, the settlement of the calls), which is what a
// Close from them reads: they need no mark of Client.observed, which
// would cost another goroutine id per request.
func (q *notifier) run(done chan struct{}) {
	defer close(done)
	q.rounds()
}

// rounds is run's loop, on the worker goroutine.
func (q *notifier) rounds() {
	for {
		q.mu.Lock()
		items := q.pending
		q.pending = nil
		if len(items) == 0 {
			q.done = nil
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		bs := [][]*queuedNotifications{items}
		if q.base.Err() == nil {
			bs = q.batches(items)
		}
		// sdk counts the senders still doing the queue's own work: each
		// leaves it when it is done or about to run the calls' callbacks
		// (release; sdkDone closes at zero). left counts those not yet
		// returned. Once Close's ctx has ended, the round waits for
		// neither: a callback of the user's, or an Observer function in a
		// sender's exchange, that blocks must not hold Close; what the
		// senders have not settled by then is dropped (strand).
		sem := make(chan struct{}, notificationSenders)
		var sdk, left atomic.Int64
		sdk.Store(int64(len(bs)))
		left.Store(int64(len(bs)))
		sdkDone, finished := make(chan struct{}), make(chan struct{})
		for _, b := range bs {
			held := true
			select {
			case sem <- struct{}{}:
			case <-q.base.Done():
				// The senders may all be in callbacks: what is left
				// only has to be dropped.
				held = false
			}
			go func() {
				released := false
				release := func() {
					if !released {
						released = true
						if held {
							<-sem
						}
						if sdk.Add(-1) == 0 {
							close(sdkDone)
						}
					}
				}
				defer func() {
					release()
					if left.Add(-1) == 0 {
						close(finished)
					}
				}()
				// Everything on this goroutine (the Observer's attempt
				// events, the calls' callbacks) runs where Close must not
				// wait for the queue.
				q.callbacks.run(func() {
					returned := false
					defer q.rescue(b, release, &returned)
					if q.base.Err() != nil {
						q.drop(b, fmt.Errorf("%w before these notifications were sent", ErrClientClosed), true, release)
					} else {
						q.send(b, release, time.Time{}, 0)
					}
					returned = true
				})
			}()
		}
		select {
		case <-sdkDone:
		case <-q.base.Done():
			// A sender can be held in the user's code inside its own
			// work (an Observer function that blocks in an exchange):
			// Close's ctx has ended, so what it still holds is dropped
			// here, and the sender finds its calls settled when it
			// comes back.
			q.strand(bs)
		}
		select {
		case <-finished:
		case <-q.base.Done():
		}
	}
}

// batches groups items by visitor, in queue order, at most MaxBatch
// notifications per request; a call with more than that goes alone.
func (q *notifier) batches(items []*queuedNotifications) [][]*queuedNotifications {
	if len(items) == 1 {
		// Nothing to group with: the key, a JSON encoding of the request,
		// would cost a tenth of an on-device decision with notifications.
		return [][]*queuedNotifications{items}
	}
	var order []string
	groups := map[string][][]*queuedNotifications{}
	size := map[string]int{}
	for _, it := range items {
		key := notificationKey(it.p)
		n := len(it.p.req.Notifications)
		g := groups[key]
		if len(g) == 0 {
			order = append(order, key)
		}
		if len(g) == 0 || size[key]+n > q.cfg.MaxBatch {
			g = append(g, nil)
			size[key] = 0
		}
		g[len(g)-1] = append(g[len(g)-1], it)
		size[key] += n
		groups[key] = g
	}
	var out [][]*queuedNotifications
	for _, k := range order {
		out = append(out, groups[k]...)
	}
	return out
}

// send delivers one batch in one request, retrying transient failures
// within MaxAttempts and until deadline (RetryFor from now if zero), and
// settles every call in it. release marks the end of the queue's own work
// (see rounds and settle). made counts the requests already made for these
// calls (a refused batch's, for its calls sent again alone): the attempts
// their Response or error report count them all.
func (q *notifier) send(batch []*queuedNotifications, release func(), deadline time.Time, made int) {
	c := q.c
	mp := *batch[0].p
	req := *mp.req
	req.Notifications = nil
	for _, it := range batch {
		req.Notifications = append(req.Notifications, it.p.req.Notifications...)
	}
	mp.req = &req
	if err := c.encode(&mp); err != nil {
		q.drop(batch, err, true, release)
		return
	}
	// The pending telemetry the request carries goes back only if it is
	// never delivered: between attempts it stays in the body.
	sent := mp.sent
	mp.sent = nil
	// The first call's values (trace ids, say) go with the request; the
	// queue's context, not the callers', can end it.
	ctx, cancel := context.WithCancel(batch[0].ctx)
	defer cancel()
	stop := context.AfterFunc(q.base, cancel)
	defer stop()

	if deadline.IsZero() {
		deadline = time.Now().Add(q.cfg.RetryFor)
	}
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, c.cfg.Timeout)
		r, err := c.exchange(actx, &mp)
		acancel()
		made = countAttempts(r, err, made)
		if err == nil {
			q.settle(q.claim(batch), r, nil, release)
			return
		}
		wait := c.backoff(attempt, err)
		if q.base.Err() != nil {
			err = fmt.Errorf("%w before these notifications were delivered (last attempt: %v)", ErrClientClosed, err)
		}
		if q.base.Err() != nil || !retryable(err) || attempt >= q.cfg.MaxAttempts || time.Now().Add(wait).After(deadline) {
			c.giveBackTelemetry(sent)
			if len(batch) > 1 && q.base.Err() == nil && refused(err) {
				// The edge refuses a whole request for one bad
				// notification: each call goes again alone, so that only
				// the one at fault fails. Each on a goroutine of its own,
				// all at once and within the batch's deadline: a Goexit or
				// a panic in one call's callbacks must not leave the
				// others unsent, and k calls must not take k RetryFors.
				// The singles' own work ends before this sender's does;
				// their callbacks are waited for as this sender's are
				// (not once Close's ctx has ended).
				var sdk sync.WaitGroup
				var left atomic.Int64
				left.Store(int64(len(batch)))
				finished := make(chan struct{})
				// A copy for the goroutines: made itself would go to
				// the heap on every send.
				made := made
				for _, it := range batch {
					single := []*queuedNotifications{it}
					sdk.Add(1)
					go func() {
						defer func() {
							if left.Add(-1) == 0 {
								close(finished)
							}
						}()
						held := false
						select {
						case q.resends <- struct{}{}:
							held = true
						case <-q.base.Done():
							// Closing: the send fails at once.
						}
						// done ends the queue's own work for this call,
						// before its callbacks run: a callback that
						// blocks holds no slot.
						var once sync.Once
						done := func() {
							once.Do(func() {
								if held {
									<-q.resends
								}
								sdk.Done()
							})
						}
						defer done()
						q.callbacks.run(func() {
							returned := false
							defer q.rescue(single, done, &returned)
							q.send(single, done, deadline, made)
							returned = true
						})
					}()
				}
				sdk.Wait()
				if release != nil {
					release()
				}
				select {
				case <-finished:
				case <-q.base.Done():
				}
				return
			}
			q.drop(batch, err, true, release)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// refused reports whether err is the edge refusing the request as it is
// (a 4xx other than 429): the same request would be refused again, but
// the calls merged into it might not be, each on its own.
func refused(err error) bool {
	var api *APIError
	return errors.As(err, &api) && api.Status >= 400 && api.Status < 500 && api.Status != http.StatusTooManyRequests
}

// settle settles the calls of a batch, which the caller has claimed (see
// claim), and frees their room in the queue, then calls release (when not
// nil) and only then runs the calls' callbacks: what waits for the queue's own work sees every call settled,
// and does not wait for the callbacks once Close's ctx has ended.
// It runs on a goroutine already marked in q.callbacks (send's, or the
// worker's dropping a batch), so that a Close from the calls' callbacks
// does not wait for the queue: marking it again would read the goroutine
// id once more per batch for nothing.
func (q *notifier) settle(batch []*queuedNotifications, r *Response, err error, release func()) {
	n := 0
	for _, it := range batch {
		n += len(it.p.req.Notifications)
	}
	q.mu.Lock()
	q.count -= n
	q.mu.Unlock()
	ds := make([]future.Deferred, len(batch))
	for i, it := range batch {
		ds[i], _ = it.out.CompleteDeferred(r, err)
	}
	if release != nil {
		release()
	}
	runAll(ds)
}

// runAll runs the callbacks of the settled calls, every one of them even
// when one (an Observer's CallDone, a callback of the caller's) calls
// runtime.Goexit or panics: the rest run on the way out, before the
// Goexit or the panic goes on.
func runAll(ds []future.Deferred) {
	i := 0
	defer func() {
		if i < len(ds) {
			runAll(ds[i+1:])
		}
	}()
	for ; i < len(ds); i++ {
		ds[i].Run()
	}
}

// claim marks the calls of batch as the caller's to settle and returns
// those no one had claimed before. Two may come to settle a call: its
// sender, and the worker, which drops the calls of a sender held in the
// user's code once Close's ctx has ended (see strand); a call must settle,
// free its room and reach OnDropped once. It allocates only when some call
// was claimed before.
func (q *notifier) claim(batch []*queuedNotifications) []*queuedNotifications {
	for i, it := range batch {
		if it.claimed.CompareAndSwap(false, true) {
			continue
		}
		out := append([]*queuedNotifications(nil), batch[:i]...)
		for _, it := range batch[i+1:] {
			if it.claimed.CompareAndSwap(false, true) {
				out = append(out, it)
			}
		}
		return out
	}
	return batch
}

// strand drops, with an error wrapping ErrClientClosed, the calls of bs
// that their senders have not claimed once Close's ctx has ended: a sender
// may be held in the user's code (an Observer function that blocks in an
// exchange, say), which Close must not wait for. Every call of bs is
// settled before strand returns: those it drops, and those their senders
// claimed, which they settle without running the user's code first (the
// logger, which they may run, cannot keep them from settling: see drop). The callbacks of those it drops, and OnDropped, run on
// a goroutine of their own, which ends when they return.
func (q *notifier) strand(bs [][]*queuedNotifications) {
	defer func() {
		for _, b := range bs {
			for _, it := range b {
				<-it.out.Future().Done()
			}
		}
	}()
	var left []*queuedNotifications
	for _, b := range bs {
		for _, it := range b {
			if !it.claimed.Load() {
				left = append(left, it)
			}
		}
	}
	if len(left) == 0 {
		return
	}
	settled := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(settled) }) }
	go func() {
		defer release()
		q.callbacks.run(func() {
			returned := false
			defer q.rescue(left, release, &returned)
			q.drop(left, fmt.Errorf("%w: Close's context ended before these notifications were delivered", ErrClientClosed), true, release)
			returned = true
		})
	}()
	<-settled
}

// rescue, deferred with *returned set once the work returned, on each
// goroutine of the queue that runs the user's code (the Observer's attempt
// events in an exchange, the callbacks of the calls it settles, among
// them OnNotificationsSent and the callers' own OnComplete), keeps a
// panic or runtime.Goexit in that code from leaving a call unsettled or
// ending the program:
//   - the calls of batch not settled yet (the panic or Goexit came in an
//     exchange) are settled now, with a *future.PanicError carrying the
//     panic's value and stack or with errCallGoexit, as a GetOffers call
//     whose work panics or exits is, and their room freed;
//   - a panic is recovered and logged at level Error with its stack, to
//     Config.Logger, else slog.Default(), as net/http does for a handler:
//     the future package raises a callback's panic again on the goroutine
//     that settled the future, after every other callback ran, and this
//     goroutine is the SDK's, where nobody could recover it. A Goexit,
//     which cannot be stopped, is logged too and ends this goroutine only.
//
// Either way the worker goes on and the next notifications are sent.
func (q *notifier) rescue(batch []*queuedNotifications, release func(), returned *bool) {
	if *returned {
		return
	}
	var err error
	if v := recover(); v != nil {
		pe, ok := v.(*future.PanicError) // a callback's, raised again
		if !ok {
			pe = &future.PanicError{Value: v, Stack: debug.Stack()}
		}
		// Logged once the calls are settled (deferred, so on every path):
		// the logger is the user's code too.
		defer q.logSafely(slog.LevelError, "target: recovered a panic on the notification queue's goroutine (in an Observer function or a callback of a SendNotifications call)", "panic", pe.Value, "stack", string(pe.Stack))
		err = pe
	} else {
		// recover returns nil only when not panicking (panic(nil) panics
		// with *runtime.PanicNilError): this is Goexit.
		defer q.logSafely(slog.LevelError, "target: runtime.Goexit called on the notification queue's goroutine (in an Observer function or a callback of a SendNotifications call)")
		err = errCallGoexit
	}
	if batch = q.claim(batch); len(batch) == 0 {
		return
	}
	// Their callbacks run here, on the way out: a panic in one of them is
	// recovered as well.
	defer func() {
		if v := recover(); v != nil {
			q.logSafely(slog.LevelError, "target: recovered a panic on the notification queue's goroutine (in a callback of a SendNotifications call)", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	q.settle(batch, nil, err, release)
}

// logSafely logs a record of the queue's through Config.Logger, whose
// handler is the user's code: a panic in it is recovered and dropped
// (there is nowhere left to report it), so that it cannot stop the queue
// from settling its calls. A runtime.Goexit in it cannot be stopped; the
// queue logs only where a claimed call is settled on that path too (see
// drop and rescue).
func (q *notifier) logSafely(level slog.Level, msg string, args ...any) {
	defer func() { _ = recover() }()
	q.log.Log(context.Background(), level, msg, args...)
}

// countAttempts adds made, the requests made for a batch's calls before
// this exchange, to the attempts that the exchange's Response r or error
// err reports, so that they count every request made for the calls, not
// only the last exchange's (the queue's own retries make one exchange
// each). It returns the new total.
func countAttempts(r *Response, err error, made int) int {
	if err == nil {
		r.Timings.Attempts += made
		return r.Timings.Attempts
	}
	return countErrAttempts(err, made)
}

// countErrAttempts is countAttempts for a failed exchange, apart so that
// the targets of errors.As, which go to the heap, cost a delivery nothing.
func countErrAttempts(err error, made int) int {
	var (
		api *APIError
		te  *TransportError
		de  *DecodeError
	)
	switch {
	case errors.As(err, &api):
		api.Attempts += made
		api.Timings.Attempts += made
		return api.Attempts
	case errors.As(err, &te):
		te.Attempts += made
		te.Timings.Attempts += made
		return te.Attempts
	case errors.As(err, &de):
		de.Attempts += made
		de.Timings.Attempts += made
		return de.Attempts
	}
	return made + 1
}

// drop reports notifications that will not be delivered: the log, then
// OnDropped, then the calls' futures; the futures are settled also when
// the logger calls runtime.Goexit (a panic in it is recovered). queued says whether they held room
// in the queue; such a drop runs on a goroutine marked in q.callbacks, as
// settle does.
func (q *notifier) drop(batch []*queuedNotifications, err error, queued bool, release func()) {
	if queued {
		if batch = q.claim(batch); len(batch) == 0 {
			// Settled already, by the worker once Close's ctx ended.
			if release != nil {
				release()
			}
			return
		}
	}
	// From here on the calls are this goroutine's to settle, and no one
	// else will (the worker's strand waits for them): a runtime.Goexit in
	// the logger must not leave them unsettled and their room taken.
	settled := false
	defer func() {
		if settled {
			return
		}
		if queued {
			q.settle(batch, nil, err, release)
			return
		}
		for _, it := range batch {
			_ = it.out.Reject(err)
		}
	}()
	var ns []Notification
	for _, it := range batch {
		ns = append(ns, it.p.req.Notifications...)
	}
	q.logSafely(slog.LevelWarn, "target: notifications dropped", "count", len(ns), "error", err)
	if q.cfg.OnDropped != nil {
		// On a goroutine of its own, waited for: a runtime.Goexit in
		// OnDropped must end neither the queue's worker nor this drop
		// before the futures below are settled and their room freed.
		done := make(chan struct{})
		go func() {
			defer close(done)
			returned := false
			defer func() {
				if !returned {
					if v := recover(); v != nil {
						q.logSafely(slog.LevelError, "target: recovered a panic in NotificationsConfig.OnDropped", "panic", v, "stack", string(debug.Stack()))
					} else {
						q.logSafely(slog.LevelError, "target: NotificationsConfig.OnDropped called runtime.Goexit")
					}
				}
			}()
			q.callbacks.run(func() { q.cfg.OnDropped(ns, err) })
			returned = true
		}()
		if queued {
			// Once Close's ctx has ended, Close waits for no user code:
			// an OnDropped that blocks holds only its own goroutine.
			select {
			case <-done:
			case <-q.base.Done():
			}
		} else {
			<-done
		}
	}
	settled = true
	if queued {
		q.settle(batch, nil, err, release)
		return
	}
	for _, it := range batch {
		_ = it.out.Reject(err)
	}
}

// closeNoWait stops accepting notifications; those queued are still
// delivered, by a worker nobody waits for.
func (q *notifier) closeNoWait() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// close stops accepting notifications and waits until those accepted are
// delivered or dropped. When ctx ends first, the requests in flight are
// aborted and what is left is dropped, with an error wrapping
// ErrClientClosed; close still waits for the worker to end, which is then
// a matter of its goroutines noticing (the worker no longer waits for
// those running the user's code: callbacks, OnDropped), and returns an
// error wrapping ctx's.
func (q *notifier) close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	done := q.done
	left := q.count
	q.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	q.abort()
	<-done
	return fmt.Errorf("target: Close: %d notifications were not all delivered: %w", left, context.Cause(ctx))
}
