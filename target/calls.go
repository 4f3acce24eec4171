package target

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/target-go/sdk/future"
)

// GetOffersOptions are the options of GetOffers. They mirror the options of
// Adobe's SDKs (request, target_cookie, target_location_hint, consumer_id,
// customer_ids, session_id, decisioning_method, callback, err_callback).
type GetOffersOptions struct {
	// Request is the Delivery request. It needs Execute or Prefetch with at
	// least one page load, view or mbox. The client fills in what Adobe's SDKs
	// fill in (request id, tntId, context.channel, analytics logging,
	// property, environment id, telemetry) without changing the caller's
	// value; Response.Request holds the request as sent.
	Request DeliveryRequest
	// TargetCookie is the value of the visitor's mbox cookie, if any. Its
	// session entry gives the session id and its PC entry the tntId. Expired
	// and malformed entries are ignored (a browser's cookie must not stop the
	// visitor from getting content); malformed ones are logged, redacted.
	TargetCookie string
	// TargetLocationHint is the value of the visitor's mboxEdgeCluster
	// cookie, if any: the edge cluster to send the request to. A value that
	// is not a cluster id is ignored.
	TargetLocationHint string
	// ConsumerID names the consumer of the supplemental data id, for
	// stitching several calls of one page view in Analytics. Today every call
	// gets a fresh supplemental data id; the field is kept for parity with
	// Adobe's SDKs.
	ConsumerID string
	// CustomerIDs are appended to Request.ID.CustomerIDs.
	CustomerIDs []CustomerID
	// SessionID is used when TargetCookie holds no valid session entry; when
	// both are empty a new UUID v4 is used. It must be 1 to 128 printable
	// characters other than space, '?' and '/'.
	SessionID string
	// DecisioningMethod overrides Config.DecisioningMethod for this call.
	DecisioningMethod DecisioningMethod
	// Callback, when set, is called with the result if the call succeeds.
	// ErrCallback, when set, is called with the error if it fails. Exactly
	// one of them runs, exactly once, right after the future settles, on the
	// goroutine that settled it: the call's own goroutine, or the caller's
	// for invalid options (then before GetOffers returns). A waiter in
	// Await may see the result while the callback still runs. A panic in a
	// callback is raised again on that goroutine (see package future), as
	// in any goroutine: callbacks should not panic.
	Callback    func(*Response)
	ErrCallback func(error)
}

// SendNotificationsOptions are the options of SendNotifications; the fields
// mean what they mean in GetOffersOptions.
type SendNotificationsOptions struct {
	// Request must hold at least one notification. Each needs an ID and a
	// Type; a zero Timestamp is set to the current time.
	Request            DeliveryRequest
	TargetCookie       string
	TargetLocationHint string
	ConsumerID         string
	CustomerIDs        []CustomerID
	SessionID          string
	Callback           func(*Response)
	ErrCallback        func(error)
}

// Response is the result of a call: the request as sent, the edge's answer,
// and what the caller needs to keep the visitor's state.
type Response struct {
	// Request is the request as sent.
	Request *DeliveryRequest
	// Response is the edge's answer; empty (not nil) for a beacon request,
	// which the edge answers with 204 No Content.
	Response *DeliveryResponse
	// Status is the HTTP status of the answer (200, or 204 for a beacon).
	Status int
	// TargetCookie is the mbox cookie to set on the visitor: the session id
	// and the visitor's tntId, with their expiry.
	TargetCookie *Cookie
	// TargetLocationHintCookie is the mboxEdgeCluster cookie to set, nil
	// when no edge cluster is known.
	TargetLocationHintCookie *Cookie
	// AnalyticsDetails are the Analytics payloads of the response's page
	// load, mboxes and views, for client-side Analytics logging.
	AnalyticsDetails []AnalyticsResponse
	// ResponseTokens are the response tokens of every option, in response
	// order (execute page load, execute mboxes, prefetch page load, views,
	// prefetch mboxes).
	ResponseTokens []map[string]any
	// Trace holds the trace objects of the response, in the same order,
	// when the request asked for a trace.
	Trace []map[string]any
	// Meta says how the call was decided.
	Meta Meta
	// Timings are the measured phases of the call.
	Timings Timings
}

// Meta describes how a call was decided.
type Meta struct {
	// DecisioningMethod is the method that answered: ServerSide today.
	DecisioningMethod DecisioningMethod
	// RemoteMboxes and RemoteViews name what on-device decisioning could
	// not decide and sent to the edge; empty for server-side calls.
	RemoteMboxes []string
	RemoteViews  []string
}

// ErrInvalidOption is matched (errors.Is) by every *OptionError.
var ErrInvalidOption = errors.New("target: invalid option")

// OptionError reports an invalid call option. Field is the path of the
// offending field, such as "Request.Execute.Mboxes[1].Name" or "SessionID".
// The error never contains cookie or token values.
type OptionError struct {
	Field  string
	Reason string
}

func (e *OptionError) Error() string {
	return "target: invalid option " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidOption) true.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

func optionError(field, format string, args ...any) error {
	return &OptionError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// callOptions are the options GetOffers and SendNotifications share.
type callOptions struct {
	cookie      string
	hint        string
	customerIDs []CustomerID
	sessionID   string
	method      DecisioningMethod
	callback    func(*Response)
	errCallback func(error)
}

// GetOffers asks the edge for the content of the request's mboxes, views
// and page load. The call runs on its own goroutine; the returned future
// settles with the result, or with the first of: an *OptionError for
// invalid options (already settled on return), an *APIError for an error
// answer, a transport error (wrapping the cause), or the context's error
// when ctx is cancelled, the future is cancelled (Future.Cancel) or the
// Config.Timeout deadline passes, any of which aborts the HTTP request.
//
// On-device decisioning is not implemented: with DecisioningMethod OnDevice
// the future fails with ErrOnDeviceUnavailable; Hybrid is served by the edge,
// as Adobe's SDKs do while their on-device rules are not loaded.
func (c *Client) GetOffers(ctx context.Context, opts GetOffersOptions) *future.Future[*Response] {
	co := callOptions{
		cookie: opts.TargetCookie, hint: opts.TargetLocationHint, customerIDs: opts.CustomerIDs,
		sessionID: opts.SessionID, method: opts.DecisioningMethod,
		callback: opts.Callback, errCallback: opts.ErrCallback,
	}
	f := c.call(ctx, opts.Request, co, validateOffersRequest)
	return withCallbacks(f, co.callback, co.errCallback)
}

// SendNotifications sends display and click notifications for prefetched
// content. It is always served by the edge. Its future settles like
// GetOffers'. Notifications do not block the caller: the call runs on its
// own goroutine and failures are reported through the future and
// ErrCallback.
func (c *Client) SendNotifications(ctx context.Context, opts SendNotificationsOptions) *future.Future[*Response] {
	co := callOptions{
		cookie: opts.TargetCookie, hint: opts.TargetLocationHint, customerIDs: opts.CustomerIDs,
		sessionID: opts.SessionID, method: ServerSide,
		callback: opts.Callback, errCallback: opts.ErrCallback,
	}
	f := c.call(ctx, opts.Request, co, validateNotificationsRequest)
	return withCallbacks(f, co.callback, co.errCallback)
}

// withCallbacks registers the Python-style callbacks on f: exactly one of
// them runs, once, when f settles.
func withCallbacks[T any](f *future.Future[T], onOK func(T), onErr func(error)) *future.Future[T] {
	if onOK == nil && onErr == nil {
		return f
	}
	f.OnComplete(func(v T, err error) {
		if err != nil {
			if onErr != nil {
				onErr(err)
			}
			return
		}
		if onOK != nil {
			onOK(v)
		}
	})
	return f
}

// call validates and prepares the request on the caller's goroutine, so that
// invalid options give an already failed future, then runs the exchange on
// a goroutine of its own.
func (c *Client) call(ctx context.Context, req DeliveryRequest, co callOptions, check func(*DeliveryRequest) error) *future.Future[*Response] {
	if ctx == nil {
		return future.Rejected[*Response](optionError("ctx", "nil context"))
	}
	p, err := c.prepare(req, co, check)
	if err != nil {
		return future.Rejected[*Response](err)
	}
	return future.Go(ctx, func(ctx context.Context) (*Response, error) {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		return c.exchange(ctx, p)
	})
}

// prepared is a validated request ready to go on the wire.
type prepared struct {
	req       *DeliveryRequest
	body      []byte
	host      string
	cluster   string // the edge cluster the request goes to, "" for none
	sessionID string
	tntID     string
	sent      []TelemetryEntry // telemetry entries the request carries
}

func (c *Client) prepare(in DeliveryRequest, co callOptions, check func(*DeliveryRequest) error) (*prepared, error) {
	method := co.method
	if method == "" {
		method = c.cfg.DecisioningMethod
	}
	if err := validDecisioningMethod(method); err != nil {
		return nil, optionError("DecisioningMethod", "%v", err)
	}
	if method == OnDevice {
		return nil, ErrOnDeviceUnavailable
	}
	if co.sessionID != "" && !validSessionID(co.sessionID) {
		return nil, optionError("SessionID", "must be 1 to 128 printable characters without space, '?' or '/'")
	}
	now := time.Now()
	entries, err := parseTargetCookie(co.cookie, now)
	if err != nil {
		// err names entry positions and reasons, never values.
		c.log.Warn("target: ignoring malformed parts of the mbox cookie", "error", err)
	}

	req := in // shallow copy; every field changed below is replaced, not mutated
	if err := normalizeRequest(&req, now); err != nil {
		return nil, err
	}
	if err := check(&req); err != nil {
		return nil, err
	}
	if err := c.fillVisitor(&req, entries, co.customerIDs); err != nil {
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

	p := &prepared{req: &req}
	if req.ID != nil {
		p.tntID = req.ID.TntID
	}
	p.sessionID = co.sessionID
	if e, ok := entries[sessionEntry]; ok && validSessionID(e.value) {
		p.sessionID = e.value
	}
	if p.sessionID == "" {
		p.sessionID = newUUID()
	}
	hint := co.hint
	if hint != "" && !isHostLabel(hint) {
		c.log.Warn("target: ignoring a location hint that is not a cluster id")
		hint = ""
	}
	p.host, p.cluster = c.selectHost(p.tntID, hint)

	if c.telemetry {
		p.sent = c.takeTelemetry()
		if len(p.sent) > 0 {
			t := &Telemetry{}
			if req.Telemetry != nil {
				t.Entries = append(t.Entries, req.Telemetry.Entries...)
			}
			t.Entries = append(t.Entries, p.sent...)
			req.Telemetry = t
		}
	}
	if p.body, err = encodeJSON(&req); err != nil {
		c.giveBackTelemetry(p.sent)
		return nil, fmt.Errorf("target: encoding request: %w", err)
	}
	return p, nil
}

// encodeJSON encodes v without HTML escaping: option content and URLs go to
// the edge byte for byte, as Adobe's SDKs send them.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// selectHost picks the edge host: the cluster from the tntId, else the
// caller's location hint, else the cluster learned from earlier answers,
// else the configured hint; with no cluster, the server domain, else
// {client}.tt.omtrdc.net.
func (c *Client) selectHost(tntID, hint string) (host, cluster string) {
	cluster = clusterFromTntID(tntID)
	if cluster == "" {
		cluster = hint
	}
	if cluster == "" {
		if p := c.cluster.Load(); p != nil {
			cluster = *p
		}
	}
	if cluster == "" {
		cluster = c.cfg.LocationHint
	}
	switch {
	case cluster != "":
		return "mboxedge" + cluster + "." + edgeDomain, cluster
	case c.cfg.ServerDomain != "":
		return c.cfg.ServerDomain, ""
	}
	return c.cfg.Client + "." + edgeDomain, ""
}

// fillVisitor sets the visitor ids: the tntId from the cookie's PC entry
// unless the request has one, and the extra customer ids.
func (c *Client) fillVisitor(req *DeliveryRequest, entries map[string]cookieEntry, extra []CustomerID) error {
	var id VisitorID
	if req.ID != nil {
		id = *req.ID
	}
	for i, cid := range extra {
		field := fmt.Sprintf("CustomerIDs[%d]", i)
		switch {
		case cid.ID == "":
			return optionError(field+".ID", "required")
		case cid.IntegrationCode == "":
			return optionError(field+".IntegrationCode", "required")
		}
		switch cid.AuthenticatedState {
		case "":
			cid.AuthenticatedState = AuthenticatedStateUnknown
		case AuthenticatedStateUnknown, AuthenticatedStateAuthenticated, AuthenticatedStateLoggedOut:
		default:
			return optionError(field+".AuthenticatedState", "%q is not unknown, authenticated or logged_out", cid.AuthenticatedState)
		}
		if i == 0 {
			id.CustomerIDs = append([]CustomerID(nil), id.CustomerIDs...)
		}
		id.CustomerIDs = append(id.CustomerIDs, cid)
	}
	if e, ok := entries[deviceEntry]; ok && id.TntID == "" && e.value != "" {
		id.TntID = e.value
	}
	if id.TntID != "" || id.ThirdPartyID != "" || id.MarketingCloudVisitorID != "" || len(id.CustomerIDs) > 0 {
		req.ID = &id
	}
	return nil
}

// withServerSideAnalytics returns ec with analytics logging set to
// server_side and a supplemental data id, as Adobe's SDKs send on every
// request, keeping whatever the caller set.
func withServerSideAnalytics(ec *ExperienceCloud) *ExperienceCloud {
	out := ExperienceCloud{}
	if ec != nil {
		out = *ec
	}
	a := AnalyticsRequest{}
	if out.Analytics != nil {
		a = *out.Analytics
	}
	if a.Logging == "" {
		a.Logging = LoggingServerSide
	}
	if a.SupplementalDataID == "" && a.Logging == LoggingServerSide {
		a.SupplementalDataID = newSupplementalDataID()
	}
	out.Analytics = &a
	return &out
}

// normalizeRequest applies the defaults every request gets and checks what
// both calls share: the channel, mbox names and indexes.
func normalizeRequest(req *DeliveryRequest, now time.Time) error {
	switch {
	case req.Context == nil:
		req.Context = &Context{Channel: ChannelWeb}
	case req.Context.Channel == "":
		cx := *req.Context
		cx.Channel = ChannelWeb
		req.Context = &cx
	case req.Context.Channel != ChannelWeb && req.Context.Channel != ChannelMobile:
		return optionError("Request.Context.Channel", "%q is not web or mobile", req.Context.Channel)
	}
	if req.Execute != nil && len(req.Execute.Mboxes) > 0 {
		mboxes, err := normalizeMboxes(req.Execute.Mboxes, "Request.Execute.Mboxes")
		if err != nil {
			return err
		}
		ex := *req.Execute
		ex.Mboxes = mboxes
		req.Execute = &ex
	}
	if req.Prefetch != nil && len(req.Prefetch.Mboxes) > 0 {
		mboxes, err := normalizeMboxes(req.Prefetch.Mboxes, "Request.Prefetch.Mboxes")
		if err != nil {
			return err
		}
		pf := *req.Prefetch
		pf.Mboxes = mboxes
		req.Prefetch = &pf
	}
	if len(req.Notifications) > 0 {
		ns := make([]Notification, len(req.Notifications))
		for i, n := range req.Notifications {
			field := fmt.Sprintf("Request.Notifications[%d]", i)
			switch {
			case n.ID == "":
				return optionError(field+".ID", "required")
			case n.Type != MetricTypeDisplay && n.Type != MetricTypeClick:
				return optionError(field+".Type", "%q is not display or click", n.Type)
			case n.Mbox != nil && n.View != nil:
				return optionError(field, "Mbox and View are mutually exclusive")
			case n.Timestamp < 0:
				return optionError(field+".Timestamp", "negative")
			}
			if n.Timestamp == 0 {
				n.Timestamp = now.UnixMilli()
			}
			ns[i] = n
		}
		req.Notifications = ns
	}
	return nil
}

// normalizeMboxes checks names and indexes. Go cannot tell an unset index
// from index 0, so a list whose indexes are all zero gets positions 0..n-1
// (what Adobe's SDKs do for mboxes without an index); otherwise indexes
// must be unique, since they correlate requests with responses.
func normalizeMboxes(in []MboxRequest, field string) ([]MboxRequest, error) {
	allZero := true
	seen := make(map[int]int, len(in))
	for i, m := range in {
		if m.Name == "" {
			return nil, optionError(fmt.Sprintf("%s[%d].Name", field, i), "required")
		}
		if m.Index < 0 {
			return nil, optionError(fmt.Sprintf("%s[%d].Index", field, i), "negative")
		}
		if m.Index != 0 {
			allZero = false
		}
	}
	if allZero && len(in) > 1 {
		out := make([]MboxRequest, len(in))
		for i, m := range in {
			m.Index = i
			out[i] = m
		}
		return out, nil
	}
	for i, m := range in {
		if j, dup := seen[m.Index]; dup {
			return nil, optionError(fmt.Sprintf("%s[%d].Index", field, i), "%d is also the index of %s[%d]", m.Index, field, j)
		}
		seen[m.Index] = i
	}
	return in, nil
}

func validateOffersRequest(req *DeliveryRequest) error {
	ex, pf := req.Execute, req.Prefetch
	hasExecute := ex != nil && (ex.PageLoad != nil || len(ex.Mboxes) > 0)
	hasPrefetch := pf != nil && (pf.PageLoad != nil || len(pf.Mboxes) > 0 || len(pf.Views) > 0)
	if !hasExecute && !hasPrefetch {
		return optionError("Request", "needs Execute or Prefetch with a page load, view or mbox")
	}
	return nil
}

func validateNotificationsRequest(req *DeliveryRequest) error {
	if len(req.Notifications) == 0 {
		return optionError("Request.Notifications", "at least one notification is required")
	}
	return nil
}

// exchange sends p and builds the Response.
func (c *Client) exchange(ctx context.Context, p *prepared) (*Response, error) {
	dr, status, tm, err := c.post(ctx, exchange{host: p.host, sessionID: p.sessionID, requestID: p.req.RequestID, body: p.body})
	if err != nil {
		c.giveBackTelemetry(p.sent)
		c.log.LogAttrs(ctx, slog.LevelDebug, "target: call failed", slog.String("requestId", p.req.RequestID), slog.Any("error", err))
		return nil, err
	}
	c.learn(dr)
	c.recordTelemetry(p.req, tm)

	tntID := p.tntID
	if dr.ID != nil && dr.ID.TntID != "" {
		tntID = dr.ID.TntID
	}
	r := &Response{
		Request:      p.req,
		Response:     dr,
		Status:       status,
		TargetCookie: targetCookie(p.sessionID, tntID, time.Now()),
		Meta:         Meta{DecisioningMethod: ServerSide},
		Timings:      tm,
	}
	cluster := p.cluster
	if cluster == "" {
		cluster = clusterFromEdgeHost(dr.EdgeHost)
	}
	if cluster != "" {
		r.TargetLocationHintCookie = &Cookie{Name: LocationHintCookie, Value: cluster, MaxAge: locationHintMaxAge}
	}
	r.collectDetails()
	return r, nil
}

// learn remembers the edge cluster an answer names, so that later calls of
// this client without a visitor cluster go to the same edge.
func (c *Client) learn(dr *DeliveryResponse) {
	var cluster string
	if dr.ID != nil {
		cluster = clusterFromTntID(dr.ID.TntID)
	}
	if cluster == "" {
		cluster = clusterFromEdgeHost(dr.EdgeHost)
	}
	if cluster != "" {
		if p := c.cluster.Load(); p == nil || *p != cluster {
			c.cluster.Store(&cluster)
		}
	}
}

// collectDetails gathers analytics payloads, response tokens and traces
// from every part of the answer, in a fixed order.
func (r *Response) collectDetails() {
	dr := r.Response
	add := func(opts []Option, a *AnalyticsResponse, trace map[string]any) {
		if a != nil && a.Payload != nil {
			r.AnalyticsDetails = append(r.AnalyticsDetails, *a)
		}
		if len(trace) > 0 {
			r.Trace = append(r.Trace, trace)
		}
		for _, o := range opts {
			if len(o.ResponseTokens) > 0 {
				r.ResponseTokens = append(r.ResponseTokens, o.ResponseTokens)
			}
		}
	}
	if ex := dr.Execute; ex != nil {
		if pl := ex.PageLoad; pl != nil {
			add(pl.Options, pl.Analytics, pl.Trace)
		}
		for _, m := range ex.Mboxes {
			add(m.Options, m.Analytics, m.Trace)
		}
	}
	if pf := dr.Prefetch; pf != nil {
		if pl := pf.PageLoad; pl != nil {
			add(pl.Options, pl.Analytics, pl.Trace)
		}
		for _, v := range pf.Views {
			add(v.Options, v.Analytics, v.Trace)
		}
		for _, m := range pf.Mboxes {
			add(m.Options, m.Analytics, m.Trace)
		}
	}
}

// maxPendingTelemetry bounds the telemetry kept between calls; the oldest
// entries go first when calls keep failing.
const maxPendingTelemetry = 64

func (c *Client) takeTelemetry() []TelemetryEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.pending
	c.pending = nil
	return out
}

// giveBackTelemetry returns entries a failed request carried, so that they
// ride on the next one instead of being lost.
func (c *Client) giveBackTelemetry(entries []TelemetryEntry) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = trimTelemetry(append(entries, c.pending...))
}

func trimTelemetry(e []TelemetryEntry) []TelemetryEntry {
	if len(e) > maxPendingTelemetry {
		e = e[len(e)-maxPendingTelemetry:]
	}
	return e
}

// recordTelemetry keeps the timings of a successful server-side call for
// the next request, in the shape Adobe's SDKs send: milliseconds, the
// request's features, and the network phases.
func (c *Client) recordTelemetry(req *DeliveryRequest, tm Timings) {
	if !c.telemetry {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	f := &TelemetryFeatures{DecisioningMethod: ServerSide}
	if ex := req.Execute; ex != nil {
		f.ExecuteMboxCount = len(ex.Mboxes)
		f.ExecutePageLoad = ex.PageLoad != nil
	}
	if pf := req.Prefetch; pf != nil {
		f.PrefetchMboxCount = len(pf.Mboxes)
		f.PrefetchPageLoad = pf.PageLoad != nil
		f.PrefetchViewCount = len(pf.Views)
	}
	e := TelemetryEntry{
		RequestID: req.RequestID,
		Timestamp: time.Now().UnixMilli(),
		Mode:      ExecutionModeEdge,
		Execution: ms(tm.Total),
		Features:  f,
		Request: &TelemetryRequest{
			DNS: ms(tm.DNS), TLS: ms(tm.TLS), TimeToFirstByte: ms(tm.TimeToFirstByte),
			Download: ms(tm.Download), ResponseSize: tm.ResponseSize,
		},
	}
	c.mu.Lock()
	c.pending = trimTelemetry(append(c.pending, e))
	c.mu.Unlock()
}

func (c *Client) debug(ctx context.Context, msg string, args ...any) {
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.DebugContext(ctx, msg, args...)
	}
}

// newUUID returns a random (version 4) UUID from crypto/rand.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// newSupplementalDataID returns a random id in the Analytics format: 16 hex
// digits, '-', 16 hex digits (33 characters, as the spec requires).
func newSupplementalDataID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var s [33]byte
	hex.Encode(s[0:16], b[0:8])
	s[16] = '-'
	hex.Encode(s[17:], b[8:])
	return string(bytes.ToUpper(s[:]))
}
