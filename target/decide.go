package target

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// The on-device decision: the Delivery API's answer computed from the
// artifact instead of the edge, in the client's models.

// ErrArtifactNotReady is returned by an on-device decision before the
// first artifact has loaded.
var ErrArtifactNotReady = errors.New("target: on-device decisioning artifact not loaded yet")

// details is an mbox, view or page-load request, as rules see it.
type details struct {
	name  string
	index int
	// indexed is true for mbox requests: page loads and views have no
	// index (a macro ${mbox.index} in their offers stays as written).
	indexed bool
	key     string
	req     *RequestDetails
	orig    any // the request as given, for traces
}

// answer is what rules decide for one details, before it becomes an
// MboxResponse, View or PageLoadResponse.
type answer struct {
	index   int
	name    string
	key     string
	options []option
	metrics []metric
	trace   map[string]any
}

// decision is the outcome of one on-device decision.
type decision struct {
	request  *DeliveryRequest // the request as decided: ids, request id and geo filled in
	response *DeliveryResponse
	// remoteMboxes and remoteViews need the edge: the artifact does not
	// hold their rules, or marks them as needing server-side data.
	remoteMboxes []string
	remoteViews  []string
	// notifications are the display notifications for execute decisions;
	// telemetry is nil when telemetry is off. Both go to the edge in one
	// request, sent by the caller without making the caller wait.
	notifications []Notification
	telemetry     *TelemetryEntry
}

// decisionEngine decides Delivery requests from the artifact. It is safe
// for concurrent use; the artifact it reads is swapped atomically by its
// provider.
type decisionEngine struct {
	client           string
	propertyToken    string
	telemetryEnabled bool
	now              func() time.Time
	// lookupGeo resolves an IP address (possibly empty: the caller's own)
	// to geo data, when the artifact targets on geo and the request has
	// none.
	lookupGeo func(ctx context.Context, ip string) (*Geo, error)
	artifacts *artifactProvider
	logger    *slog.Logger
}

// decideOptions are the per-call inputs that are not in the request.
type decideOptions struct {
	sessionID    string
	locationHint string
}

// decide makes an on-device decision for req. It never modifies req. It
// fails only when no artifact is loaded; the cost is about a microsecond
// per rule evaluated, plus the geo lookup's round trip when one is needed.
func (e *decisionEngine) decide(ctx context.Context, req *DeliveryRequest, opts decideOptions) (*decision, error) {
	start := time.Now()
	a := e.artifacts.current()
	if a == nil {
		return nil, ErrArtifactNotReady
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	r := *req
	r.ID = validVisitorID(req.ID, opts.locationHint)
	if r.RequestID == "" {
		r.RequestID = newUUID()
	}
	if a.geoTargetingEnabled && e.lookupGeo != nil && geoMissing(&r) {
		e.fillGeo(ctx, &r)
	}

	d := &decider{
		engine:        e,
		artifact:      a,
		req:           &r,
		opts:          opts,
		timestamp:     now().UnixMilli(),
		visitorID:     allocationVisitorID(r.ID),
		propertyToken: e.propertyToken,
		showTrace:     r.Trace != nil,
	}
	if r.Property != nil && r.Property.Token != "" {
		d.propertyToken = r.Property.Token
	}
	d.base = map[string]any{}
	timingContext(now(), d.base)
	var address *Address
	var geo *Geo
	if r.Context != nil {
		address, geo = r.Context.Address, r.Context.Geo
	}
	geoCtx := geoContext(geo)
	d.base["geo"] = geoCtx
	d.base["user"] = userContext(r.Context)
	if address != nil {
		d.page = pageContext(address.URL)
		d.referring = pageContext(address.ReferringURL)
	} else {
		d.page = pageContext("")
		d.referring = pageContext("")
	}
	d.responseTokens = responseTokenBase(a, geoCtx)

	resp := &DeliveryResponse{Status: 200, RequestID: r.RequestID, ID: r.ID, Client: e.client}
	out := &decision{request: &r, response: resp}
	out.remoteMboxes, out.remoteViews = remoteDependencies(a, &r)
	if len(out.remoteMboxes) > 0 || len(out.remoteViews) > 0 {
		resp.Status = 206
	}
	if ex := r.Execute; ex != nil {
		d.tracer = &requestTracer{d: d}
		resp.Execute = &ExecuteResponse{}
		if len(ex.Mboxes) > 0 {
			resp.Execute.Mboxes = []MboxResponse{}
		}
		for i := range ex.Mboxes {
			for _, a := range d.decideMbox(modeExecute, mboxDetails(&ex.Mboxes[i])) {
				resp.Execute.Mboxes = append(resp.Execute.Mboxes, a.mboxResponse())
			}
		}
		if ex.PageLoad != nil {
			resp.Execute.PageLoad = d.decidePageLoad(modeExecute, ex.PageLoad)
		}
	}
	if pf := r.Prefetch; pf != nil {
		d.tracer = &requestTracer{d: d}
		resp.Prefetch = &PrefetchResponse{}
		// Requested mboxes and views are answered with a list, even an
		// empty one, as Adobe's engines answer.
		if len(pf.Mboxes) > 0 {
			resp.Prefetch.Mboxes = []PrefetchMboxResponse{}
		}
		if len(pf.Views) > 0 {
			resp.Prefetch.Views = []View{}
		}
		for i := range pf.Mboxes {
			for _, a := range d.decideMbox(modePrefetch, mboxDetails(&pf.Mboxes[i])) {
				resp.Prefetch.Mboxes = append(resp.Prefetch.Mboxes, PrefetchMboxResponse{MboxResponse: a.mboxResponse()})
			}
		}
		for i := range pf.Views {
			v := &pf.Views[i]
			for _, a := range d.decideViews(modePrefetch, &details{name: v.Name, key: v.Key, req: &v.RequestDetails, orig: v}) {
				resp.Prefetch.Views = append(resp.Prefetch.Views, a.view())
			}
		}
		if pf.PageLoad != nil {
			resp.Prefetch.PageLoad = d.decidePageLoad(modePrefetch, pf.PageLoad)
		}
	}
	out.notifications = d.notifications
	if e.telemetryEnabled {
		out.telemetry = telemetryFor(&r, d.timestamp, time.Since(start))
	}
	return out, nil
}

func mboxDetails(m *MboxRequest) *details {
	return &details{name: m.Name, index: m.Index, indexed: true, req: &m.RequestDetails, orig: m}
}

func (a *answer) mboxResponse() MboxResponse {
	return MboxResponse{Index: a.index, Name: a.name, Options: toOptions(a.options), Metrics: toMetrics(a.metrics), Trace: a.trace}
}

func (a *answer) view() View {
	metrics := toMetrics(a.metrics)
	if metrics == nil {
		metrics = []Metric{} // Adobe's SDKs answer a view with "metrics": [], never without the list
	}
	return View{Name: a.name, Key: a.key, Options: toOptions(a.options), Metrics: metrics, Trace: a.trace}
}

// toOptions converts options to the models; content encoded when the
// artifact loaded is reused as is.
func toOptions(in []option) []Option {
	if in == nil {
		return nil
	}
	out := make([]Option, len(in))
	for i, o := range in {
		content := o.contentJSON
		if content == nil && o.Content != nil {
			// Content came from JSON and macros only put strings in it:
			// it always encodes.
			content, _ = encodeJSON(o.Content)
		}
		out[i] = Option{Type: OptionType(o.Type), Content: content, EventToken: o.EventToken, ResponseTokens: o.ResponseTokens}
	}
	return out
}

func toMetrics(in []metric) []Metric {
	if in == nil {
		return nil
	}
	out := make([]Metric, len(in))
	for i, m := range in {
		out[i] = Metric{Type: MetricType(m.Type), Selector: m.Selector, EventToken: m.EventToken}
	}
	return out
}

// geoMissing reports whether the request's geo is to be looked up.
func geoMissing(r *DeliveryRequest) bool {
	_, lookup := geoLookupAddress(r)
	return lookup
}

// fillGeo looks up the request's geo. A failed lookup leaves geo conditions
// false, as when the edge knows nothing about an address; it does not fail
// the decision.
func (e *decisionEngine) fillGeo(ctx context.Context, r *DeliveryRequest) {
	var geo Geo
	c := Context{Channel: ChannelWeb}
	if r.Context != nil {
		c = *r.Context
		if c.Geo != nil {
			geo = *c.Geo
		}
	}
	ip, _ := geoLookupAddress(r)
	found, err := e.lookupGeo(ctx, ip)
	if err != nil {
		if e.logger != nil {
			e.logger.Warn("target: geo lookup for on-device decisioning failed", "error", err)
		}
		return
	}
	mergeGeo(&geo, found)
	c.Geo = &geo
	r.Context = &c
}

// notificationRequest is the one request that reports the decision, or nil
// when there is nothing to report (no execute decision with an event token,
// telemetry off).
func (d *decision) notificationRequest() *DeliveryRequest {
	if len(d.notifications) == 0 && d.telemetry == nil {
		return nil
	}
	n := &DeliveryRequest{
		ID:              d.request.ID,
		Context:         d.request.Context,
		ExperienceCloud: d.request.ExperienceCloud,
		Notifications:   d.notifications,
	}
	if d.telemetry != nil {
		n.Telemetry = &Telemetry{Entries: []TelemetryEntry{*d.telemetry}}
	}
	return n
}

// mergeGeo fills the fields a geo lookup found.
func mergeGeo(dst, found *Geo) {
	if found == nil {
		return
	}
	if found.Latitude != nil {
		dst.Latitude = found.Latitude
	}
	if found.Longitude != nil {
		dst.Longitude = found.Longitude
	}
	if found.CountryCode != "" {
		dst.CountryCode = found.CountryCode
	}
	if found.StateCode != "" {
		dst.StateCode = found.StateCode
	}
	if found.City != "" {
		dst.City = found.City
	}
}

func telemetryFor(r *DeliveryRequest, timestamp int64, took time.Duration) *TelemetryEntry {
	f := &TelemetryFeatures{DecisioningMethod: OnDevice}
	if r.Execute != nil {
		f.ExecuteMboxCount = len(r.Execute.Mboxes)
		f.ExecutePageLoad = r.Execute.PageLoad != nil
	}
	if r.Prefetch != nil {
		f.PrefetchMboxCount = len(r.Prefetch.Mboxes)
		f.PrefetchPageLoad = r.Prefetch.PageLoad != nil
		f.PrefetchViewCount = len(r.Prefetch.Views)
	}
	return &TelemetryEntry{
		RequestID: r.RequestID,
		Timestamp: timestamp,
		Mode:      ExecutionModeLocal,
		Execution: float64(took.Microseconds()) / 1000,
		Features:  f,
	}
}

// validVisitorID returns the visitor id to decide for: a copy of id, with a
// new tntId (carrying the location hint, as the edge would mint it) when
// the request identifies nobody.
func validVisitorID(id *VisitorID, locationHint string) *VisitorID {
	out := VisitorID{}
	if id != nil {
		out = *id
	}
	if out.TntID == "" && out.MarketingCloudVisitorID == "" && out.ThirdPartyID == "" && !hasAuthenticatedCustomer(out.CustomerIDs) {
		out.TntID = newUUID()
		if locationHint != "" {
			out.TntID += "." + locationHint + "_0"
		}
	}
	return &out
}

func hasAuthenticatedCustomer(ids []CustomerID) bool {
	return slices.ContainsFunc(ids, func(c CustomerID) bool {
		return c.AuthenticatedState == AuthenticatedStateAuthenticated && c.ID != ""
	})
}

// allocationVisitorID picks the id visitors are bucketed by: the Experience
// Cloud id, else the tntId without its location suffix, else the
// third-party id. Customer ids are never used: they change when a visitor
// logs in, and the bucket must not.
func allocationVisitorID(id *VisitorID) string {
	switch {
	case id.MarketingCloudVisitorID != "":
		return id.MarketingCloudVisitorID
	case id.TntID != "":
		tnt, _, _ := strings.Cut(id.TntID, ".")
		if tnt != "" {
			return tnt
		}
	}
	if id.ThirdPartyID != "" {
		return id.ThirdPartyID
	}
	return newUUID()
}

// remoteDependencies lists the requested mboxes and views the artifact
// cannot decide.
func remoteDependencies(a *artifact, r *DeliveryRequest) (mboxes, views []string) {
	var requested, requestedViews []string
	hasViews := false
	if r.Execute != nil {
		for _, m := range r.Execute.Mboxes {
			requested = append(requested, m.Name)
		}
	}
	if r.Prefetch != nil {
		for _, m := range r.Prefetch.Mboxes {
			requested = append(requested, m.Name)
		}
	}
	// A page load is decided by the global mbox's rules: Adobe's engines
	// check it under the default global mbox name, whatever the artifact
	// calls its global mbox.
	if r.Execute != nil && r.Execute.PageLoad != nil || r.Prefetch != nil && r.Prefetch.PageLoad != nil {
		requested = append(requested, defaultGlobalMbox)
	}
	if r.Prefetch != nil {
		for _, v := range r.Prefetch.Views {
			hasViews = true
			if v.Name != "" {
				requestedViews = append(requestedViews, v.Name)
			}
		}
	}
	add := func(list []string, name string) []string {
		if name == "" || slices.Contains(list, name) {
			return list
		}
		return append(list, name)
	}
	for _, m := range a.remoteMboxes {
		if slices.Contains(requested, m) {
			mboxes = add(mboxes, m)
		}
	}
	for _, m := range requested {
		if !a.localMboxes[m] {
			mboxes = add(mboxes, m)
		}
	}
	if hasViews && len(requestedViews) == 0 {
		for _, v := range a.remoteViews {
			views = add(views, v)
		}
		return mboxes, views
	}
	for _, v := range a.remoteViews {
		if slices.Contains(requestedViews, v) {
			views = add(views, v)
		}
	}
	for _, v := range requestedViews {
		if !a.localViews[v] {
			views = add(views, v)
		}
	}
	return mboxes, views
}

type requestMode string

const (
	modeExecute  requestMode = "execute"
	modePrefetch requestMode = "prefetch"
)

type requestType string

const (
	typeMbox requestType = "mbox"
	typeView requestType = "view"
)

// decider holds the state of one decision.
type decider struct {
	engine         *decisionEngine
	artifact       *artifact
	req            *DeliveryRequest
	opts           decideOptions
	timestamp      int64
	visitorID      string
	propertyToken  string
	showTrace      bool
	base           map[string]any
	page           map[string]any
	referring      map[string]any
	responseTokens map[string]any

	notifications []Notification
	notifiedKeys  map[string]bool
	tracer        *requestTracer

	// Per request detail and per activity, computed once: a page load
	// evaluates dozens of rules against the same parameters and visitor.
	lastDetails *details
	lastContext detailsContext
	allocations map[string]float64
}

// detailsContext is the part of the rule context an mbox, view or page
// load request sets.
type detailsContext struct {
	page, referring, mbox map[string]any
}

func (d *decider) detailsContext(det *details) detailsContext {
	if det == d.lastDetails {
		return d.lastContext
	}
	dc := detailsContext{page: d.page, referring: d.referring, mbox: map[string]any{}}
	if det.req != nil {
		dc.mbox = mboxContext(det.req.Parameters)
		if det.req.Address != nil {
			// An mbox's own address replaces the page's, for both the page
			// and the referring page (as Adobe's engines do).
			p := pageContext(det.req.Address.URL)
			dc.page, dc.referring = p, p
		}
	}
	d.lastDetails, d.lastContext = det, dc
	return dc
}

func (d *decider) allocation(activityID string) float64 {
	if v, ok := d.allocations[activityID]; ok {
		return v
	}
	if d.allocations == nil {
		d.allocations = map[string]float64{}
	}
	v := allocationBucket(d.engine.client, activityID, d.visitorID)
	d.allocations[activityID] = v
	return v
}

// byPropertyToken keeps the rules for the request's property: rules with no
// property tokens apply everywhere; with tokens, only to those properties.
func (d *decider) ruleApplies(r *rule) bool {
	if len(r.propertyTokens) == 0 {
		return true
	}
	return d.propertyToken != "" && slices.Contains(r.propertyTokens, d.propertyToken)
}

// decideMbox evaluates an mbox's rules: the first satisfied rule answers,
// except for the global mbox (page load), where every satisfied rule does.
func (d *decider) decideMbox(mode requestMode, m *details) []answer {
	global := m.name == d.artifact.globalMbox
	d.tracer.traceRequest(mode, typeMbox, m)
	var out []answer
	matched := map[string]bool{}
	for _, r := range d.artifact.mboxRules[m.name] {
		if !d.ruleApplies(r) || global && matched[r.key] {
			continue
		}
		res, ok := d.evaluate(mode, r, m, typeMbox)
		if !ok {
			continue
		}
		out = append(out, res)
		matched[r.key] = true
		if !global {
			break
		}
	}
	if !global && len(out) == 0 {
		out = append(out, answer{name: m.name, index: m.index, trace: d.tracer.result()})
	}
	return out
}

// decidePageLoad answers a page load with every satisfied rule of the
// global mbox, options concatenated and metrics de-duplicated.
func (d *decider) decidePageLoad(mode requestMode, p *RequestDetails) *PageLoadResponse {
	m := &MboxRequest{RequestDetails: *p, Name: d.artifact.globalMbox}
	answers := d.decideMbox(mode, &details{name: m.Name, req: p, orig: m})
	var options []option
	var metrics []metric
	var trace map[string]any
	seen := map[string]bool{}
	for _, a := range answers {
		options = append(options, a.options...)
		if a.trace != nil {
			trace = a.trace
		}
		for _, mt := range a.metrics {
			if !seen[mt.EventToken] {
				seen[mt.EventToken] = true
				metrics = append(metrics, mt)
			}
		}
	}
	opts := toOptions(options)
	if opts == nil {
		opts = []Option{} // a page load always answers with its list of options
	}
	return &PageLoadResponse{Options: opts, Metrics: toMetrics(metrics), Trace: trace}
}

// decideViews answers a view request (or, without a name, every view) with
// every satisfied rule, one answer per view.
func (d *decider) decideViews(mode requestMode, v *details) []answer {
	d.tracer.traceRequest(mode, typeView, v)
	rules := d.artifact.allViewRules
	if v.name != "" {
		rules = d.artifact.viewRules[v.name]
	}
	var out []answer
	byName := map[string]int{}
	matched := map[string]bool{}
	for _, r := range rules {
		if !d.ruleApplies(r) || matched[r.key] {
			continue
		}
		res, ok := d.evaluate(mode, r, v, typeView)
		if !ok {
			continue
		}
		matched[r.key] = true
		if i, seen := byName[res.name]; seen {
			out[i].options = append(out[i].options, res.options...)
			out[i].metrics = append(out[i].metrics, res.metrics...)
			continue
		}
		byName[res.name] = len(out)
		out = append(out, res)
	}
	return out
}

// evaluate runs one rule; when it is satisfied, it returns the answer
// post-processed for the mode: event tokens, notifications, response
// tokens, campaign macros and the trace.
func (d *decider) evaluate(mode requestMode, r *rule, det *details, rt requestType) (answer, bool) {
	dc := d.detailsContext(det)
	scope := &ruleScope{
		base:       d.base,
		page:       dc.page,
		referring:  dc.referring,
		mbox:       dc.mbox,
		allocation: d.allocation(r.activityID),
	}
	ok := jsTruthy(r.condition.eval(scope))
	d.tracer.ruleEvaluated(r, scope, ok)
	if !ok {
		return answer{}, false
	}
	c := r.consequence
	res := answer{name: c.name, index: det.index, key: det.key}
	switch mode {
	case modeExecute:
		d.notify(r, c)
		for _, o := range c.options {
			if o.Type == "" && o.Content == nil {
				continue
			}
			o.EventToken = ""
			res.options = append(res.options, o)
		}
		for _, m := range c.metrics {
			if m.Type == "click" {
				res.metrics = append(res.metrics, m)
			}
		}
	default:
		res.options = make([]option, len(c.options))
		for i, o := range c.options {
			if o.EventToken == "" && i < len(c.metrics) && c.metrics[i].Type == "display" {
				o.EventToken = c.metrics[i].EventToken
			}
			res.options[i] = o
		}
		if rt == typeView {
			res.metrics = slices.Clone(c.metrics)
			if res.metrics == nil && c.metrics != nil {
				res.metrics = []metric{}
			}
		}
	}
	if res.options == nil {
		res.options = []option{} // a satisfied rule answers with a list, even an empty one
	}
	tokens := d.ruleResponseTokens(r)
	for i := range res.options {
		res.options[i].ResponseTokens = tokens
		if content, changed := replaceMacros(res.options[i].Type, res.options[i].Content, r, det); changed {
			res.options[i].Content = content
			res.options[i].contentJSON = nil
		}
	}
	res.trace = d.tracer.result()
	return res, true
}

// notify records the display notification for an execute decision, once
// per mbox and event token.
func (d *decider) notify(r *rule, c consequence) {
	var tokens []string
	for _, o := range c.options {
		if o.EventToken == "" {
			continue
		}
		key := c.name + "-" + o.EventToken
		if d.notifiedKeys[key] {
			continue
		}
		if d.notifiedKeys == nil {
			d.notifiedKeys = map[string]bool{}
		}
		d.notifiedKeys[key] = true
		tokens = append(tokens, o.EventToken)
	}
	if len(tokens) == 0 {
		return
	}
	n := Notification{
		ID:           newUUID(),
		ImpressionID: newUUID(),
		Timestamp:    d.timestamp,
		Type:         MetricTypeDisplay,
		Mbox:         &NotificationMbox{Name: c.name},
		Tokens:       tokens,
	}
	d.notifications = append(d.notifications, n)
	d.tracer.notified(r, n)
}

// responseTokenKeys are the rule meta entries that become response tokens
// when the artifact lists them.
var responseTokenKeys = []string{
	"activity.id", "activity.name", "activity.type", "experience.id", "experience.name",
	"location.id", "location.name", "location.type", "offer.id", "offer.name", "option.id", "option.name",
}

// responseTokenBase holds the tokens every option of a decision carries.
func responseTokenBase(a *artifact, geo map[string]any) map[string]any {
	m := map[string]any{"activity.decisioningMethod": "on-device"}
	for token, field := range map[string]string{
		"geo.city": "city", "geo.country": "country", "geo.state": "region",
		"geo.latitude": "latitude", "geo.longitude": "longitude",
	} {
		if v, ok := geo[field]; ok && a.responseTokens[token] {
			m[token] = v
		}
	}
	return m
}

func (d *decider) ruleResponseTokens(r *rule) map[string]any {
	m := make(map[string]any, len(responseTokenKeys)+len(d.responseTokens))
	for _, k := range responseTokenKeys {
		if v, ok := r.meta[k]; ok && d.artifact.responseTokens[k] {
			m[k] = v
		}
	}
	for k, v := range d.responseTokens {
		m[k] = v
	}
	return m
}
