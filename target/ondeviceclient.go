package target

import (
	"context"
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
	// The request is validated and filled as for the edge, but neither
	// encoded nor given the pending telemetry: it does not go on the wire.
	p, err := c.prepareLocal(opts)
	if err != nil {
		return withCallbacks(future.Rejected[*Response](err), opts.Callback, opts.ErrCallback)
	}
	req := p.req
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
		r := c.onDeviceResponse(p, d, time.Since(start))
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

// prepareLocal is prepare without the wire: the same checks and defaults
// (visitor from the cookie, request id, property, analytics, session id,
// edge cluster), in the same order, but no encoding and no pending
// telemetry, which prepare takes for the wire; with 64 entries pending,
// prepare alone costs 3 times a whole on-device GetOffers. prepare is meant
// to become prepareLocal plus those two steps, so that the sequence lives in
// one place.
func (c *Client) prepareLocal(opts GetOffersOptions) (*prepared, error) {
	if opts.SessionID != "" && !validSessionID(opts.SessionID) {
		return nil, optionError("SessionID", "must be 1 to 128 printable characters without space, '?' or '/'")
	}
	now := time.Now()
	entries, err := parseTargetCookie(opts.TargetCookie, now)
	if err != nil {
		c.log.Warn("target: ignoring malformed parts of the mbox cookie", "error", err)
	}
	req := opts.Request
	if err := normalizeRequest(&req, now); err != nil {
		return nil, err
	}
	if err := validateOffersRequest(&req); err != nil {
		return nil, err
	}
	if err := c.fillVisitor(&req, entries, opts.CustomerIDs); err != nil {
		return nil, err
	}
	if req.RequestID == "" {
		req.RequestID = newUUID()
	}
	if req.EnvironmentID == 0 {
		req.EnvironmentID = c.cfg.EnvironmentID
	}
	if req.Property == nil && c.cfg.PropertyToken != "" {
		req.Property = &Property{Token: c.cfg.PropertyToken}
	}
	req.ExperienceCloud = withServerSideAnalytics(req.ExperienceCloud)
	p := &prepared{req: &req, sessionID: opts.SessionID}
	if req.ID != nil {
		p.tntID = req.ID.TntID
	}
	if e, ok := entries[sessionEntry]; ok && validSessionID(e.value) {
		p.sessionID = e.value
	}
	if p.sessionID == "" {
		p.sessionID = newUUID()
	}
	hint := opts.TargetLocationHint
	if hint != "" && !isHostLabel(hint) {
		c.log.Warn("target: ignoring a location hint that is not a cluster id")
		hint = ""
	}
	_, p.cluster = c.selectHost(p.tntID, hint)
	return p, nil
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
	// The notification belongs to the decision, not to the caller's
	// context: it must go out even when the caller's request has ended.
	f := c.SendNotifications(context.WithoutCancel(ctx), SendNotificationsOptions{
		Request:            *n,
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
