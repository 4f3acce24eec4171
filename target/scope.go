package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
)

// ErrNoVisitorClient fails the calls of a Visitor not made by
// [Client.NewVisitor] or [Client.NewVisitorFromCookies].
var ErrNoVisitorClient = errors.New("target: Visitor has no client; make it with Client.NewVisitor")

// A Visitor is the identity of one visitor for the calls made while
// serving one of its requests: make one per incoming request with
// [Client.NewVisitor], make every Target call of that request through it,
// and write its cookies back with [Visitor.SetCookies].
//
// Calls through a Visitor act as one visitor, however many run at once:
//
//   - They share one session id: the one in the mbox cookie's session
//     entry, else a new one, pinned when the Visitor is made.
//   - A returning visitor (its tntId is in the mbox cookie) pays nothing:
//     every call starts at once, with that tntId and the edge cluster of
//     the mboxEdgeCluster cookie or the tntId.
//   - For a first-time visitor, the first GetOffers or GetAttributes call
//     goes out at once and establishes the identity: the tntId the edge
//     gives it, and the cluster that holds its profile. Such calls made
//     while it is in flight wait for its answer, then all start at once
//     with that tntId, so the page costs at most one extra round trip. If
//     the first call is cancelled (its ctx ended, or Future.Cancel), the
//     next waiting call takes its place and the others wait for it. The
//     same happens once if it fails in a way the next attempt may not (a
//     429, a 5xx, a network error); if the call that took over fails that
//     way too, or the edge did not answer within Config.Timeout, or
//     refused the call (a 4xx, say), the waiting calls all start at once, in
//     parallel, with the pinned session id and no tntId, rather than each
//     waiting out the one before: the first of them to be answered
//     establishes the identity. If its answer names no tntId (the request
//     carried another visitor id, say), there is nothing to wait for: the
//     waiting calls are released together, and every later call starts at
//     once, all with the pinned session id.
//     BenchmarkStrategies' "visitor-new" strategy measures the cost against
//     the one-round-trip "futures" strategy.
//
// Merging the concurrent first calls into one request (what a [Coalescer]
// does) would save that round trip, but only for calls that can share a
// request: page loads, views, notifications and calls with different
// contexts cannot, and every call would wait for the merge window even
// for a returning visitor. Waiting for the first answer works for every
// call.
//
// Only the calls answered in line (GetOffers, GetAttributes) establish
// the identity or wait for it; [Visitor.SendNotifications] goes at once
// with what is known.
//
// The call options' TargetCookie, TargetLocationHint and SessionID are
// replaced by the Visitor's; the rest of the options, callbacks included,
// behave as in the Client's methods. Config.Timeout bounds every call
// from when it is made, its wait included: a waiting call that has not
// been released when it passes fails with an error for which
// errors.Is(err, context.DeadlineExceeded) holds, and one released late
// has what is left of it, so no call outlives its Timeout however the
// calls before it fare. A waiting call's ctx bounds its wait too: when it
// ends first the call fails with the context's error and sends nothing. Each call's outcome depends only on its own work: the
// waiting calls are started as soon as the first call's answer is learned,
// before that call's callbacks (its Callback, or an OnComplete on its
// future) run, and the callbacks of those that settle at once when
// released run after every waiting call has started, so a callback that panics, calls
// runtime.Goexit or blocks changes no other call's outcome or start. The
// callbacks of a call that waited run, as any call's, on the goroutine
// that settles it: its own call's, or, when that call settles as soon as
// it starts, the goroutine that released it (the one that settled the
// call it waited for), or, when its ctx ends or its Timeout passes during
// the wait, a goroutine of the SDK's own (context.AfterFunc's). As on a
// call's goroutine, a panic of the caller's callbacks raised again there
// is logged at level Error, not left to end the program (see
// Client.GetOffers). A
// Visitor is safe for concurrent use. It holds no goroutine: a waiting
// call is a callback on the first call's future.
type Visitor struct {
	c *Client
	// r is the incoming request, for the Secure attribute of the cookies;
	// nil for a Visitor made from cookie values.
	r       *http.Request
	session string

	mu      sync.Mutex
	tntID   string
	cluster string
	cookie  string // the mbox cookie value calls get, rebuilt when tntID changes
	// answered is set by the first answer: from then on calls start at
	// once, with the tntId it named or, if it named none, without one.
	answered bool
	// leader is the call establishing the identity; nil when no such
	// call is in flight.
	leader *lead
	// handedOver is set once an edge failure has handed the lead over:
	// the next such failure releases every waiting call.
	handedOver bool
}

// NewVisitor returns the Visitor of the incoming request r, from its mbox
// and mboxEdgeCluster cookies ([RequestCookies]); a request without them
// is a first-time visitor. Malformed cookie entries are ignored and
// logged, redacted, as calls do.
func (c *Client) NewVisitor(r *http.Request) *Visitor {
	mbox, hint := RequestCookies(r)
	v := c.NewVisitorFromCookies(mbox, hint)
	v.r = r
	return v
}

// NewVisitorFromCookies returns the Visitor whose mbox and mboxEdgeCluster
// cookies have the given values, for servers that do not speak net/http;
// empty values make a first-time visitor. Its [Visitor.SetCookies] treats
// the request as plain HTTP (Config.Cookies.Secure still applies).
func (c *Client) NewVisitorFromCookies(targetCookie, locationHint string) *Visitor {
	entries, err := parseTargetCookie(targetCookie, time.Now())
	if err != nil {
		// err names entry positions and reasons, never values.
		c.log.Warn("target: ignoring malformed parts of the mbox cookie", "error", err)
	}
	v := &Visitor{c: c}
	if e, ok := entries[sessionEntry]; ok && validSessionID(e.value) {
		v.session = e.value
	} else {
		v.session = newUUID()
	}
	switch {
	case isHostLabel(locationHint):
		v.cluster = locationHint
	case locationHint != "":
		c.log.Warn("target: ignoring a location hint that is not a cluster id")
	}
	if e, ok := entries[deviceEntry]; ok {
		v.setTntIDLocked(e.value)
	} else {
		v.setTntIDLocked("")
	}
	return v
}

// setTntIDLocked records the visitor's tntId and the cookie value calls
// carry from now on.
func (v *Visitor) setTntIDLocked(tntID string) {
	v.tntID = tntID
	if v.cluster == "" {
		v.cluster = clusterFromTntID(tntID)
	}
	v.cookie = targetCookie(v.session, tntID, time.Now()).Value
}

// SessionID returns the visitor's session id, the same for every call.
func (v *Visitor) SessionID() string { return v.session }

// TntID returns the visitor's tntId: from its cookie, or from the first
// answer that named one; "" before that. An answer naming another tntId
// for a call that carried this one (a profile merge at the edge) replaces
// it, for the calls made after it and for [Visitor.Cookies].
func (v *Visitor) TntID() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.tntID
}

// Cookies returns the mbox cookie (the session and, once known, the
// tntId) and, once an edge cluster is known, the mboxEdgeCluster cookie:
// one pair for all of the Visitor's calls, to set on the response.
func (v *Visitor) Cookies() []*Cookie {
	v.mu.Lock()
	tnt, cluster := v.tntID, v.cluster
	v.mu.Unlock()
	out := []*Cookie{targetCookie(v.session, tnt, time.Now())}
	if cluster != "" {
		out = append(out, &Cookie{Name: LocationHintCookie, Value: cluster, MaxAge: locationHintMaxAge})
	}
	return out
}

// SetCookies writes [Visitor.Cookies] to w, as [Cookie.HTTPCookie] makes
// them for the Visitor's request with the client's Config.Cookies. Call it
// once the calls whose answers matter have settled, before the handler
// writes the status or the body.
func (v *Visitor) SetCookies(w http.ResponseWriter) {
	if v == nil || v.c == nil {
		return
	}
	for _, ck := range v.Cookies() {
		http.SetCookie(w, ck.HTTPCookie(v.r, v.c.cfg.Cookies))
	}
}

// GetOffers is [Client.GetOffers] as this visitor (see [Visitor]).
func (v *Visitor) GetOffers(ctx context.Context, opts GetOffersOptions) *future.Future[*Response] {
	return v.getOffers(ctx, opts, nil)
}

// visitorCall is a call of the Visitor's with its identity: it gives hook
// the call's future before the call's goroutine can settle it (see
// Client.getOffers).
type visitorCall func(ctx context.Context, id visitorIdentity, hook func(*future.Future[*Response])) *future.Future[*Response]

// getOffers is GetOffers with a hook, which is given the returned future
// once, before anything can settle it, and before getOffers returns, as
// Client.getOffers does.
func (v *Visitor) getOffers(ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	onOK, onErr := opts.Callback, opts.ErrCallback
	var c *Client
	if v != nil {
		c = v.c
	}
	// Registered on the future the caller gets as soon as it is made,
	// before the call that settles it starts.
	ready := func(f *future.Future[*Response]) {
		if hook != nil {
			hook(f)
		}
		withCallbacks(c, f, onOK, onErr)
	}
	if c == nil {
		f := future.Rejected[*Response](ErrNoVisitorClient)
		ready(f)
		return f
	}
	opts.Callback, opts.ErrCallback = nil, nil
	return v.do(ctx, ready, func(ctx context.Context, id visitorIdentity, hook func(*future.Future[*Response])) *future.Future[*Response] {
		o := opts
		o.TargetCookie, o.TargetLocationHint, o.SessionID = id.cookie, id.cluster, id.session
		return c.getOffers(ctx, o, hook)
	})
}

// GetAttributes is [Client.GetAttributes] as this visitor (see [Visitor]).
func (v *Visitor) GetAttributes(ctx context.Context, mboxNames []string, opts GetAttributesOptions) *future.Future[*Attributes] {
	var c *Client
	if v != nil {
		c = v.c
	}
	return attributes(ctx, c, mboxNames, opts, v.getOffers)
}

// SendNotifications is [Client.SendNotifications] as this visitor (see
// [Visitor]), with what the Visitor knows when it is called: the session
// id, and the tntId and cluster once an answer has named them. It never
// waits for the call establishing the identity, nor establishes it: its
// answer comes from the notification queue, which may hold it for
// batching and retries far longer than a page should wait, and a
// notification must outlive the request it was made for, where a waiting
// call ends with its ctx.
func (v *Visitor) SendNotifications(ctx context.Context, opts SendNotificationsOptions) *future.Future[*Response] {
	if v == nil || v.c == nil {
		return withCallbacks(nil, future.Rejected[*Response](ErrNoVisitorClient), opts.Callback, opts.ErrCallback)
	}
	id := v.identity()
	opts.TargetCookie, opts.TargetLocationHint, opts.SessionID = id.cookie, id.cluster, id.session
	return v.c.SendNotifications(ctx, opts)
}

// lead is one call establishing a Visitor's identity, as the calls
// waiting for it see it.
type lead struct {
	// done settles once the call has been answered and its answer
	// learned, with whether the next waiting call takes its place (see
	// handsOverLocked).
	done *future.Future[bool]
	// next is the lead that took this one's place, under Visitor.mu; nil
	// until a waiting call took it. The waiting calls whose turn comes
	// after that go on from it, whether or not it has settled since: it
	// may have been answered before their turn came, and then none of
	// them may lead anew, or the rest would wait for it rather than
	// start together.
	next *lead
}

// visitorIdentity is what a call of the Visitor carries: the mbox cookie
// value (session, and tntId when known), the cluster and the session id.
type visitorIdentity struct {
	cookie, cluster, session string
}

// identity returns what the Visitor knows now.
func (v *Visitor) identity() visitorIdentity {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.identityLocked()
}

func (v *Visitor) identityLocked() visitorIdentity {
	return visitorIdentity{cookie: v.cookie, cluster: v.cluster, session: v.session}
}

// do runs call with the visitor's identity: at once when the tntId is
// known, an answer came without one, or no call is establishing it (this
// call then establishes it), and after the establishing call's answer
// otherwise. It gives ready the returned future as soon as it is made,
// before the call starts.
func (v *Visitor) do(ctx context.Context, ready func(*future.Future[*Response]), call visitorCall) *future.Future[*Response] {
	v.mu.Lock()
	id := v.identityLocked()
	switch {
	case v.tntID != "" || v.answered || ctx == nil:
		// A nil ctx is reported by the call itself, which fails at once.
		v.mu.Unlock()
		return v.learning(ctx, id, call, ready, nil) // a later cluster, say from an edgeHost
	case v.leader == nil:
		return v.leadLocked(ctx, id, nil, ready, call)
	}
	leader := v.leader
	v.mu.Unlock()
	return v.after(ctx, leader, ready, call)
}

// leadLocked makes call, with identity id, the call establishing the
// identity, in prev's place when it takes over from a waited-for lead,
// and starts it. It is called with v.mu held and releases it.
func (v *Visitor) leadLocked(ctx context.Context, id visitorIdentity, prev *lead, ready func(*future.Future[*Response]), call visitorCall) *future.Future[*Response] {
	p := future.NewPromise[bool]()
	l := &lead{done: p.Future()}
	v.leader = l
	if prev != nil {
		prev.next = l
	}
	// The call must start outside the lock: it may settle before it
	// returns (invalid options, an on-device decision), running the
	// continuation in learning on this goroutine.
	v.mu.Unlock()
	return v.learning(ctx, id, call, ready, &leading{p, ctx})
}

// leading is the lead a call establishing the identity settles (see
// learning), and the call's ctx, for handsOverLocked.
type leading struct {
	done *future.Promise[bool]
	ctx  context.Context
}

// takeOver runs call, waiting for prev, once prev has settled and handed
// over: at once when an answer has come meanwhile, else after the call
// that took prev's place (see lead.next), else as that call. A call made
// meanwhile that leads takes prev's place for all of them.
func (v *Visitor) takeOver(ctx context.Context, prev *lead, call visitorCall) *future.Future[*Response] {
	v.mu.Lock()
	id := v.identityLocked()
	if v.tntID != "" || v.answered {
		v.mu.Unlock()
		return v.learning(ctx, id, call, nil, nil)
	}
	if prev.next == nil && v.leader != nil {
		prev.next = v.leader
	}
	if next := prev.next; next != nil {
		v.mu.Unlock()
		return v.after(ctx, next, nil, call)
	}
	return v.leadLocked(ctx, id, prev, nil, call)
}

// learning starts call with identity id and returns its future f as the
// caller sees it: settled only once its answer has been learned, so that
// a handler that awaits its calls and then writes the cookies sees the
// identity they established. Cancelling the returned future cancels f.
// ready, when set, is given the returned future before the call starts,
// and the continuations below are registered on f before the call's
// goroutine can settle it (call's hook), so that the callbacks run on
// that goroutine.
//
// For the call establishing the identity (leads set), the waiting calls
// are released before the returned future's callbacks run, and from the
// work list of the goroutine that settles f rather than inside its
// continuation: a callback of this call that blocks must not hold up
// their start, and a waiting call may settle at once when released
// (invalid options, an on-device decision), where a panic or
// runtime.Goexit in its callbacks must not become this call's outcome.
func (v *Visitor) learning(ctx context.Context, id visitorIdentity, call visitorCall, ready func(*future.Future[*Response]), leads *leading) *future.Future[*Response] {
	p := future.NewPromise[*Response]()
	out := p.Future()
	// f is set by the hook, which call runs before anything can settle
	// f, out included (out settles from f, or by a Cancel once it is
	// returned).
	var f *future.Future[*Response]
	// out owns no work: cancelling it must reach the call, whose
	// settlement then releases the waiters. After f settled this does
	// nothing.
	out.OnError(func(error) { f.Cancel() })
	if ready != nil {
		ready(out)
	}
	call(ctx, id, func(g *future.Future[*Response]) {
		f = g
		if leads != nil {
			// f's callbacks run in order and each returned Deferred joins
			// the work list in that order: the waiters' continuations,
			// which only start their calls, run before out's callbacks,
			// and the callbacks of a waiting call that settled at once
			// run after those.
			f.OnCompleteDeferred(func(r *Response, err error) future.Deferred {
				if err == nil {
					v.learn(r)
				}
				v.mu.Lock()
				v.leader = nil
				next := v.handsOverLocked(leads.ctx, err)
				v.mu.Unlock()
				d, _ := leads.done.CompleteDeferred(next, nil)
				return d
			})
		}
		f.OnCompleteDeferred(func(r *Response, err error) future.Deferred {
			if err == nil && leads == nil {
				v.learn(r)
			}
			d, _ := p.CompleteDeferred(r, err)
			return d
		})
	})
	return out
}

// errVisitorWait fails a waiting call whose Config.Timeout, counted from
// when it was made, passed before it could start or finish.
var errVisitorWait = fmt.Errorf("target: Config.Timeout passed since the Visitor call was made, its wait for the visitor's first call included: %w", context.DeadlineExceeded)

// after runs call once leader has settled, unless ctx ends first, the
// call's Config.Timeout passes first (counted from now: the wait is part
// of the call), or the returned future is cancelled. leader settles with
// whether the next waiting call takes its place and the others wait for
// that one (see handsOverLocked and takeOver); otherwise the waiting calls all start at once, in
// parallel, rather than each trying alone in turn.
func (v *Visitor) after(ctx context.Context, leader *lead, ready func(*future.Future[*Response]), call visitorCall) *future.Future[*Response] {
	p := future.NewPromise[*Response]()
	out := p.Future()
	wctx, cancel := context.WithTimeoutCause(ctx, v.c.cfg.Timeout, errVisitorWait)
	out.OnComplete(func(*Response, error) { cancel() })
	var inner atomic.Pointer[future.Future[*Response]]
	// Cancelling out must reach the call once it runs; before that, the
	// check below keeps it from starting.
	out.OnError(func(error) {
		if f := inner.Load(); f != nil {
			f.Cancel()
		}
	})
	// Before anything below can settle out.
	if ready != nil {
		ready(out)
	}
	// The wait's end settles out on context.AfterFunc's goroutine, the
	// SDK's: a panic raised again there from the caller's callbacks is
	// logged, as on a call's goroutine, rather than ending the program.
	stop := context.AfterFunc(wctx, func() {
		v.c.settleGuarded(p, nil, context.Cause(wctx))
	})
	leader.done.OnCompleteDeferred(func(next bool, _ error) future.Deferred {
		if !stop() {
			return future.Deferred{} // wctx ended first: out has failed with its cause
		}
		select {
		case <-out.Done():
			return future.Deferred{} // cancelled while waiting
		default:
		}
		var f *future.Future[*Response]
		if next {
			f = v.takeOver(wctx, leader, call)
		} else {
			f = v.learning(wctx, v.identity(), call, nil, nil)
		}
		inner.Store(f)
		select {
		case <-out.Done():
			f.Cancel() // cancelled between the check above and the Store
		default:
		}
		settle := func(r *Response, err error) future.Deferred {
			d, _ := p.CompleteDeferred(r, err)
			return d
		}
		select {
		case <-f.Done():
			// Settled at once (invalid options, an on-device decision):
			// out's callbacks run from the work list once every waiting
			// call has started, so that one that blocks delays none.
			return settle(f.Peek())
		default:
			f.OnCompleteDeferred(settle)
			return future.Deferred{}
		}
	})
	return out
}

// handsOverLocked reports whether a waiting call may take the lead after
// the call establishing the identity, made with ctx, settled with err.
// After a success the waiting calls start at once anyway. They hand over
// when the call's own caller ended it (Future.Cancel, its ctx cancelled
// or past its deadline): that says nothing of the edge. They hand over
// once when the edge may answer the next attempt (a 429, a 5xx, a network
// error before an answer); a second such failure releases them all at
// once, so that an edge answering 503 does not make the page's calls go
// one after another. Not after a timeout (Config.Timeout, a waiting call's
// included): the edge is not answering, and each waiting call leading in
// turn would wait out a Timeout of its own. Nor after a refusal, which
// the next call would likely get too.
func (v *Visitor) handsOverLocked(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ctx != nil && ctx.Err() != nil && !errors.Is(context.Cause(ctx), errVisitorWait)
	}
	if !retryable(err) || v.handedOver {
		return false
	}
	v.handedOver = true
	return true
}

// learn records the tntId and cluster of a successful answer. The first
// answer naming a tntId establishes the identity, and the later calls
// carry it. An answer to a call that carried the Visitor's current tntId
// and names another (the edge merged the visitor's profile into another
// one) moves the Visitor to it, as Client.GetOffers' cookie follows its
// answer: calls made from then on carry the new one. Answers to calls
// that carried another tntId, or none, change nothing, so that calls in
// flight across such a move, or released together without a tntId, do
// not make the identity flip back and forth. Any answer ends the waiting,
// whether or not it named a tntId.
func (v *Visitor) learn(r *Response) {
	var tnt, sent, cluster string
	if r.Response != nil && r.Response.ID != nil {
		tnt = r.Response.ID.TntID
	}
	if r.Request != nil && r.Request.ID != nil {
		sent = r.Request.ID.TntID
	}
	if r.TargetLocationHintCookie != nil {
		cluster = r.TargetLocationHintCookie.Value
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.answered = true
	if v.cluster == "" && cluster != "" {
		v.cluster = cluster
	}
	switch {
	case tnt == "" || tnt == v.tntID:
	case v.tntID == "", sent == v.tntID:
		v.setTntIDLocked(tnt)
	}
}
