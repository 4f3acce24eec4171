package target

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
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
// SendNotifications call, started without making the caller wait.

// onDevice is a Client's on-device decisioning: the engine, what it
// reports to, and the notifications in flight that Close waits for.
type onDevice struct {
	engine *decisionEngine
	cfg    OnDeviceConfig

	closed  atomic.Bool    // set under mu, read without it on every call
	mu      sync.Mutex     // orders begin against Close
	sending sync.WaitGroup // display notifications in flight
}

// newOnDevice starts on-device decisioning for a client configured with
// cfg: the artifact provider begins loading the artifact.
func newOnDevice(c *Client, od OnDeviceConfig) (*onDevice, error) {
	e, err := newDecisionEngine(od, engineOptions{
		client:           c.cfg.Client,
		organizationID:   c.cfg.OrganizationID,
		propertyToken:    c.cfg.PropertyToken,
		telemetryEnabled: c.telemetry,
		httpClient:       c.http,
		logger:           c.log,
	})
	if err != nil {
		return nil, err
	}
	return &onDevice{engine: e, cfg: od}, nil
}

// Ready settles when the first artifact is in use.
func (od *onDevice) Ready() *future.Future[struct{}] { return od.engine.artifacts.Ready() }

// stop stops polling for new artifacts. Later decisions fail with
// ErrClientClosed; Client.Close then waits for the notifications in
// flight, which go through the client's notification queue.
func (od *onDevice) stop() {
	od.mu.Lock()
	od.closed.Store(true)
	od.mu.Unlock()
	od.engine.Close()
}

// begin counts a notification request in, unless Close has begun: Close
// must not start waiting while a request may still be added.
func (od *onDevice) begin() bool {
	od.mu.Lock()
	defer od.mu.Unlock()
	if od.closed.Load() {
		return false
	}
	od.sending.Add(1)
	return true
}

// decideOnDevice serves a prepared OnDevice or Hybrid call. It returns nil
// when a Hybrid call is for the edge: the artifact is not in yet, or the
// request asks for something only the edge can decide. An on-device
// decision takes microseconds and runs on the caller's goroutine, so the
// future is settled on return unless a geo lookup is needed.
func (c *Client) decideOnDevice(ctx context.Context, p *prepared) *future.Future[*Response] {
	od := c.od
	if od.closed.Load() {
		return future.Rejected[*Response](ErrClientClosed)
	}
	a := od.engine.artifacts.current()
	if p.method == Hybrid {
		if a == nil {
			return nil
		}
		if mboxes, views := remoteDependencies(a, p.req); len(mboxes) > 0 || len(views) > 0 {
			return nil
		}
	}
	start := time.Now()
	decide := func(ctx context.Context) (*Response, error) {
		d, err := od.engine.decide(ctx, p.req, decideOptions{sessionID: p.sessionID, locationHint: p.cluster})
		if err != nil {
			return nil, err
		}
		r := c.onDeviceResponse(p, d, time.Since(start))
		c.report(ctx, od, p, d)
		return r, nil
	}
	if a != nil && a.geoTargetingEnabled && geoMissing(p.req) {
		return future.Go(ctx, func(ctx context.Context) (*Response, error) {
			ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			return decide(ctx)
		})
	}
	r, err := decide(ctx)
	if err != nil {
		return future.Rejected[*Response](err)
	}
	return future.Resolved(r)
}

// onDeviceResponse builds the call's result from a decision, as exchange
// does from the edge's answer.
func (c *Client) onDeviceResponse(p *prepared, d *decision, took time.Duration) *Response {
	dr := d.response
	req := *d.request
	req.Telemetry = nil
	r := &Response{
		Request:      &req,
		Response:     dr,
		Status:       dr.Status,
		TargetCookie: targetCookie(p.sessionID, dr.ID.TntID, time.Now()),
		Meta: Meta{
			DecisioningMethod: OnDevice,
			RemoteMboxes:      d.remoteMboxes,
			RemoteViews:       d.remoteViews,
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
// client's next request instead, as the timings of edge calls do.
func (c *Client) report(ctx context.Context, od *onDevice, p *prepared, d *decision) {
	n := d.notificationRequest()
	if n == nil {
		return
	}
	if len(n.Notifications) == 0 {
		if n.Telemetry != nil {
			c.mu.Lock()
			c.pending = trimTelemetry(append(c.pending, n.Telemetry.Entries...))
			c.mu.Unlock()
		}
		return
	}
	if !od.begin() {
		// Close began while this call was deciding: its notification
		// cannot be sent without outliving Close.
		c.log.Warn("target: on-device display notifications not sent: client closed", "requestId", d.request.RequestID)
		if od.cfg.OnNotificationsSent != nil {
			od.cfg.OnNotificationsSent(nil, ErrClientClosed)
		}
		return
	}
	// The notification belongs to the decision, not to the caller's
	// context: it must go out even when the caller's request has ended.
	f := c.SendNotifications(context.WithoutCancel(ctx), SendNotificationsOptions{
		Request:            *n,
		SessionID:          p.sessionID,
		TargetLocationHint: p.cluster,
	})
	f.OnComplete(func(r *Response, err error) {
		defer od.sending.Done() // even if the callback panics: Close waits for it
		if err != nil {
			c.log.Warn("target: on-device display notifications failed", "requestId", d.request.RequestID, "error", err)
		}
		if od.cfg.OnNotificationsSent != nil {
			od.cfg.OnNotificationsSent(r, err)
		}
	})
}
