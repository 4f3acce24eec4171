package target

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// On-device and hybrid decisioning for the Client.
//
// OnDevice answers every call from the artifact: what the artifact cannot
// decide (mboxes and views it has no rules for, or marks as needing the
// edge) comes back empty, the answer's status is 206 Partial Content, and
// Response.Meta names them. Hybrid decides on-device when the artifact can
// answer the whole request and asks the edge otherwise, and also while the
// first artifact is not loaded yet. Notifications are always sent to the
// edge: an on-device execute decision reports its impressions with one
// SendNotifications call, through the client's notification queue,
// without making the caller wait.

// onDevice is a Client's on-device decisioning: the engine, what it
// reports to, and the work in flight that Close waits for.
type onDevice struct {
	engine *decisionEngine
	cfg    OnDeviceConfig

	closed atomic.Bool // set under mu, read without it on every call
	mu     sync.Mutex  // orders begin against Close
	// work counts the on-device decisions in flight; their notifications
	// are the notification queue's, which Close flushes after work.Wait.
	work sync.WaitGroup
}

// newOnDevice starts on-device decisioning for a client configured with
// cfg: the artifact provider begins loading the artifact.
func newOnDevice(c *Client, od OnDeviceConfig) (*onDevice, error) {
	o := engineOptions{
		client:           c.cfg.Client,
		organizationID:   c.cfg.OrganizationID,
		propertyToken:    c.cfg.PropertyToken,
		telemetryEnabled: c.telemetry,
		httpClient:       c.http,
		logger:           c.log,
	}
	if c.obs != nil && c.obs.ArtifactDownload != nil {
		o.observe = c.observeArtifact
	}
	e, err := newDecisionEngine(od, o)
	if err != nil {
		return nil, err
	}
	return &onDevice{engine: e, cfg: od}, nil
}

// callbacks are the goroutines running a callback of the client; the
// artifact provider owns the set, made before its goroutine starts.
func (od *onDevice) callbacks() *callbackSet { return od.engine.artifacts.callbacks }

// Ready settles when the first artifact is in use.
func (od *onDevice) Ready() *future.Future[struct{}] { return od.engine.artifacts.Ready() }

// stop stops polling for new artifacts and, unless it is called from one
// of the client's callbacks or Observer functions, waits for the polling
// goroutine to end and for the decisions in flight (a geo lookup is
// bounded by Config.Timeout), which queue their notifications before they
// end. Later decisions fail with ErrClientClosed. It reports
// whether it was called from a callback (inCallback is true when Close
// already knows it is, from a notification callback): Client.Close then
// waits for nothing, since the callback may be what the rest waits for.
func (od *onDevice) stop(ctx context.Context, inCallback bool) (bool, error) {
	od.mu.Lock()
	od.closed.Store(true)
	od.mu.Unlock()
	inCallback = inCallback || od.callbacks().current()
	if inCallback {
		// Waiting for nothing, not even the polling goroutine: it may be
		// in an Observer function or a callback waiting for this one.
		// Its context is cancelled, so no callback starts, and it ends on
		// its own (Observer.ClientClosed comes then).
		od.engine.artifacts.stop()
		_ = od.engine.artifacts.ready.Reject(ErrProviderClosed)
		return true, nil
	}
	err := od.engine.Close(ctx)
	od.work.Wait()
	return false, err
}

// begin counts a decision in, unless Close has begun: Close must not start
// waiting while work may still be added from zero.
func (od *onDevice) begin() bool {
	od.mu.Lock()
	defer od.mu.Unlock()
	if od.closed.Load() {
		return false
	}
	od.work.Add(1)
	return true
}

// decideOnDevice serves a prepared OnDevice or Hybrid call. It returns nil
// when a Hybrid call is for the edge: the artifact is not in yet, or the
// request asks for something only the edge can decide. An on-device
// decision takes microseconds and runs on the caller's goroutine, so the
// future is settled on return unless a geo lookup is needed. It runs
// co.ready on every future it returns: before the geo lookup's goroutine
// can settle it, else once it is settled.
func (c *Client) decideOnDevice(ctx context.Context, p *prepared, e *CallEvent, co *callOptions) *future.Future[*Response] {
	od := c.od
	if od.closed.Load() {
		c.endCall(ctx, e, nil, ErrClientClosed)
		return co.ready(c, future.Rejected[*Response](ErrClientClosed))
	}
	a := od.engine.artifacts.current()
	if p.method == Hybrid {
		if a == nil {
			return nil
		}
		if mboxes, views := a.RemoteDependencies(p.req); len(mboxes) > 0 || len(views) > 0 {
			return nil
		}
	}
	// Counted from here to the end of the decision, on whichever goroutine
	// it ends, so that Close waits for it and its notification.
	if !od.begin() {
		c.endCall(ctx, e, nil, ErrClientClosed)
		return co.ready(c, future.Rejected[*Response](ErrClientClosed))
	}
	c.takeSDID(p)
	start := time.Now()
	// The decision's count is released only once its notification's
	// outcome is registered: Close, which waits for the count and then
	// for the queue, then waits for that outcome's handling too
	// (OnNotificationsSent, the Observer's sent or dropped), which runs on
	// the goroutine that settles the notification, before it ends.
	decide := func(ctx context.Context) (r *Response, err error) {
		defer od.work.Done() // even if the decision panics
		dctx, de := c.beginDecision(ctx, p.req, a)
		d, err := od.engine.decide(dctx, p.req, ondevice.Options{SessionID: p.sessionID, LocationHint: p.cluster})
		if err != nil {
			c.endDecision(dctx, de, nil, 0, err)
			return nil, err
		}
		r = c.onDeviceResponse(p, d, time.Since(start))
		n, notify := c.report(ctx, od, p, d)
		c.endDecision(dctx, de, d, n, nil)
		if notify != nil {
			notify()
		}
		return r, nil
	}
	decideAndNotify := func(ctx context.Context) (r *Response, err error) {
		if c.obsInDecision {
			c.observed(func() { r, err = decide(ctx) })
		} else {
			r, err = decide(ctx)
		}
		if c.afterDecision != nil {
			c.afterDecision()
		}
		return r, err
	}
	if a != nil && a.GeoTargetingEnabled() && ondevice.GeoMissing(p.req) {
		return c.goGuarded(ctx, e, co, decideAndNotify)
	}
	r, err := c.callNow(ctx, e, decideAndNotify)
	if err != nil {
		return co.ready(c, future.Rejected[*Response](err))
	}
	return co.ready(c, future.Resolved(r))
}

// onDeviceResponse builds the call's result from a decision, as exchange
// does from the edge's answer.
func (c *Client) onDeviceResponse(p *prepared, d *ondevice.Decision, took time.Duration) *Response {
	dr := d.Response
	req := *d.Request
	req.Telemetry = nil
	r := newResponse(p.visitor)
	*r = Response{
		Request:      &req,
		Response:     dr,
		Status:       dr.Status,
		TargetCookie: targetCookie(p.sessionID, dr.ID.TntID, time.Now()),
		visitor:      r.visitor,
		Meta: Meta{
			DecisioningMethod: OnDevice,
			RemoteMboxes:      d.RemoteMboxes,
			RemoteViews:       d.RemoteViews,
		},
		Timings: Timings{Total: took},
	}
	cluster := clusterFromTntID(dr.ID.TntID)
	if cluster == "" {
		cluster = p.cluster
	}
	if cluster != "" {
		r.TargetLocationHintCookie = &Cookie{Name: LocationHintCookie, Value: cluster, MaxAge: locationHintMaxAge}
	}
	r.collectDetails()
	return r
}

// report sends the decision's display notifications, with its telemetry,
// in one SendNotifications call that the caller does not wait for; its
// outcome goes to OnDeviceConfig.OnNotificationsSent and, on failure, to
// the log. Telemetry of a decision without notifications waits for the
// client's next request instead, as the timings of edge calls do. report
// returns the number of notifications sent and what registers the
// outcome's handling, nil when nothing was sent; the caller runs it before
// releasing the decision's count.
func (c *Client) report(ctx context.Context, od *onDevice, p *prepared, d *ondevice.Decision) (int, func()) {
	n := d.NotificationRequest()
	if n == nil {
		return 0, nil
	}
	if len(n.Notifications) == 0 {
		if n.Telemetry != nil {
			c.mu.Lock()
			c.pending = trimTelemetry(append(c.pending, n.Telemetry.Entries...))
			c.mu.Unlock()
		}
		return 0, nil
	}
	count := len(n.Notifications)
	c.notified(ctx, NotificationsQueued, count, nil)
	// The notification belongs to the decision, not to the caller's
	// context: it must go out even when the caller's request has ended.
	// It goes through the notification queue, which Close flushes after
	// the decisions in flight (this one included) have ended; its
	// callback below runs on the goroutine that settles it, a goroutine
	// of the queue or this one, before that goroutine ends, so Close's
	// waits cover it.
	ctx = context.WithoutCancel(ctx)
	f := c.SendNotifications(ctx, SendNotificationsOptions{
		Request:            *n,
		SessionID:          p.sessionID,
		TargetLocationHint: p.cluster,
	})
	return count, func() {
		outcome := func(r *Response, err error) {
			if err != nil {
				c.log.Warn("target: on-device display notifications failed", "requestId", d.Request.RequestID, "error", err)
				c.notified(ctx, NotificationsDropped, count, err)
			} else {
				c.notified(ctx, NotificationsSent, count, nil)
			}
			if od.cfg.OnNotificationsSent != nil {
				od.callbacks().run(func() { od.cfg.OnNotificationsSent(r, err) })
			}
		}
		// Settled before registration (a full or closed queue, or a quick
		// one), the outcome runs here, in the decision: it is marked as
		// the queue's callback, as on the queue's goroutine, so that a
		// Close from it returns nil and waits for nothing, wherever it
		// runs. A queue goroutine that settles it before registered is set
		// is marked twice, which changes nothing.
		var registered atomic.Bool
		f.OnComplete(func(r *Response, err error) {
			if registered.Load() {
				outcome(r, err)
				return
			}
			c.notes.callbacks.run(func() { outcome(r, err) })
		})
		registered.Store(true)
	}
}

// goGuarded runs work (a decision that needs a geo lookup) on a goroutine
// of its own, bounded by Config.Timeout, and returns its future, built as
// goRemote's: co.ready registers the call's callbacks before the goroutine
// starts, so that they run on it; cancelling the future cancels work's
// context; the future settles once on every path, with a
// *future.PanicError when work panics and errCallGoexit when it calls
// runtime.Goexit; and a panic that the settlement raises again from the
// caller's own callbacks is logged (recoverSettlement), not left to end
// the program on this goroutine, which nothing of the caller's could
// recover. work always runs, even cancelled, so the decision's count is
// always released. The call's record, when there is one, ends before the
// future settles.
func (c *Client) goGuarded(ctx context.Context, e *CallEvent, co *callOptions, work func(context.Context) (*Response, error)) *future.Future[*Response] {
	p := future.NewPromise[*Response]()
	f := p.Future()
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	f.OnComplete(func(*Response, error) { cancel() })
	co.ready(c, f)
	go func() {
		var (
			r   *Response
			err error
			ok  bool
		)
		defer func() {
			r, err = workOutcome(r, err, ok, recover())
			cancel()
			c.settleGuarded(p, r, err)
		}()
		r, err = c.recordCall(ctx, wctx, e, work)
		ok = true
	}()
	return f
}
