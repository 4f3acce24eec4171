package target

import (
	"context"
	"encoding/json"
	"fmt"
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

// onDevice is a Client's on-device decisioning: the engine and what it
// reports to.
type onDevice struct {
	engine *decisionEngine
	cfg    OnDeviceConfig
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

// Close stops polling for new artifacts.
func (od *onDevice) Close() { od.engine.Close() }

// getOffersOnDevice is GetOffers with method OnDevice or Hybrid. Its future
// settles like GetOffers'; an on-device decision takes microseconds and runs
// on the caller's goroutine, so the future is already settled on return
// unless the call goes to the edge or needs a geo lookup.
func (c *Client) getOffersOnDevice(ctx context.Context, od *onDevice, opts GetOffersOptions, method DecisioningMethod) *future.Future[*Response] {
	serverSide := func() *future.Future[*Response] {
		opts.DecisioningMethod = ServerSide
		return c.GetOffers(ctx, opts)
	}
	if ctx == nil {
		return withCallbacks(future.Rejected[*Response](optionError("ctx", "nil context")), opts.Callback, opts.ErrCallback)
	}
	co := callOptions{
		cookie: opts.TargetCookie, hint: opts.TargetLocationHint, customerIDs: opts.CustomerIDs,
		sessionID: opts.SessionID, method: ServerSide,
	}
	// prepare validates and fills the request exactly as for the edge; the
	// telemetry it took for the wire goes back, since nothing is sent.
	p, err := c.prepare(opts.Request, co, validateOffersRequest)
	if err != nil {
		return withCallbacks(future.Rejected[*Response](err), opts.Callback, opts.ErrCallback)
	}
	c.giveBackTelemetry(p.sent)
	req, err := toODRequest(p.req)
	if err != nil {
		return withCallbacks(future.Rejected[*Response](err), opts.Callback, opts.ErrCallback)
	}
	a := od.engine.artifacts.current()
	if method == Hybrid {
		if a == nil {
			return serverSide()
		}
		if mboxes, views := remoteDependencies(a, req); len(mboxes) > 0 || len(views) > 0 {
			return serverSide()
		}
	}
	start := time.Now()
	decide := func(ctx context.Context) (*Response, error) {
		d, err := od.engine.decide(ctx, req, decideOptions{sessionID: p.sessionID, locationHint: p.cluster})
		if err != nil {
			return nil, err
		}
		r, err := c.onDeviceResponse(p, d, time.Since(start))
		if err != nil {
			return nil, err
		}
		c.report(ctx, od, p, d)
		return r, nil
	}
	var f *future.Future[*Response]
	if a != nil && a.geoTargetingEnabled && geoMissing(req) {
		f = future.Go(ctx, func(ctx context.Context) (*Response, error) {
			ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			return decide(ctx)
		})
	} else {
		r, err := decide(ctx)
		if err != nil {
			f = future.Rejected[*Response](err)
		} else {
			f = future.Resolved(r)
		}
	}
	return withCallbacks(f, opts.Callback, opts.ErrCallback)
}

// getAttributesOnDevice is GetAttributes with method OnDevice or Hybrid.
func (c *Client) getAttributesOnDevice(ctx context.Context, od *onDevice, mboxNames []string, opts GetOffersOptions, method DecisioningMethod) *future.Future[*Attributes] {
	onOK, onErr := opts.Callback, opts.ErrCallback
	opts.Callback, opts.ErrCallback = nil, nil
	var f *future.Future[*Attributes]
	if req, err := withMboxes(opts.Request, mboxNames); err != nil {
		f = future.Rejected[*Attributes](err)
	} else {
		opts.Request = req
		f = future.Then(c.getOffersOnDevice(ctx, od, opts, method), newAttributes)
	}
	var ok func(*Attributes)
	if onOK != nil {
		ok = func(a *Attributes) { onOK(a.Response) }
	}
	return withCallbacks(f, ok, onErr)
}

func geoMissing(r *odRequest) bool {
	return r.Context == nil || r.Context.Geo.missingFields()
}

// toODRequest converts the prepared request to the engine's form. The JSON
// round trip costs a few microseconds and keeps the engine independent of
// the models' Go layout.
func toODRequest(req *DeliveryRequest) (*odRequest, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("target: on-device request: %w", err)
	}
	var r odRequest
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("target: on-device request: %w", err)
	}
	return &r, nil
}

// onDeviceResponse builds the call's result from a decision, as exchange
// does from the edge's answer.
func (c *Client) onDeviceResponse(p *prepared, d *decision, took time.Duration) (*Response, error) {
	b, err := json.Marshal(d.response)
	if err != nil {
		return nil, fmt.Errorf("target: on-device response: %w", err)
	}
	var dr DeliveryResponse
	if err := json.Unmarshal(b, &dr); err != nil {
		return nil, fmt.Errorf("target: on-device response: %w", err)
	}
	req := *p.req
	req.Telemetry = nil
	if dr.ID != nil {
		id := *dr.ID
		req.ID = &id
	}
	tntID := ""
	if dr.ID != nil {
		tntID = dr.ID.TntID
	}
	r := &Response{
		Request:      &req,
		Response:     &dr,
		Status:       dr.Status,
		TargetCookie: targetCookie(p.sessionID, tntID, time.Now()),
		Meta: Meta{
			DecisioningMethod: OnDevice,
			RemoteMboxes:      d.remoteMboxes,
			RemoteViews:       d.remoteViews,
		},
		Timings: Timings{Total: took},
	}
	if cluster := clusterFromTntID(tntID); cluster != "" || p.cluster != "" {
		if cluster == "" {
			cluster = p.cluster
		}
		r.TargetLocationHintCookie = &Cookie{Name: LocationHintCookie, Value: cluster, MaxAge: locationHintMaxAge}
	}
	r.collectDetails()
	return r, nil
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
	var entries []TelemetryEntry
	if n.Telemetry != nil {
		b, err := json.Marshal(n.Telemetry.Entries)
		if err == nil {
			err = json.Unmarshal(b, &entries)
		}
		if err != nil {
			c.log.Warn("target: dropping on-device telemetry", "error", err)
		}
	}
	if len(n.Notifications) == 0 {
		if len(entries) > 0 {
			c.mu.Lock()
			c.pending = trimTelemetry(append(c.pending, entries...))
			c.mu.Unlock()
		}
		return
	}
	b, err := json.Marshal(n)
	var req DeliveryRequest
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		c.log.Warn("target: on-device notifications not sent", "error", err)
		return
	}
	// The notification belongs to the decision, not to the caller's
	// context: it must go out even when the caller's request has ended.
	f := c.SendNotifications(context.WithoutCancel(ctx), SendNotificationsOptions{
		Request:            req,
		SessionID:          p.sessionID,
		TargetLocationHint: p.cluster,
	})
	f.OnComplete(func(r *Response, err error) {
		if err != nil {
			c.log.Warn("target: on-device display notifications failed", "requestId", d.request.RequestID, "error", err)
		}
		if od.cfg.OnNotificationsSent != nil {
			od.cfg.OnNotificationsSent(r, err)
		}
	})
}
