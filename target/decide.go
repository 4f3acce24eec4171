package target

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// The on-device decision: the Delivery API's answer computed from the
// artifact instead of the edge. The wire shapes below carry exactly what
// decisions read and write; they marshal to the Delivery API's JSON.

// ErrArtifactNotReady is returned by an on-device decision before the
// first artifact has loaded.
var ErrArtifactNotReady = errors.New("target: on-device decisioning artifact not loaded yet")

type odRequest struct {
	RequestID       string          `json:"requestId,omitempty"`
	ID              *odVisitorID    `json:"id,omitempty"`
	Context         *odContext      `json:"context,omitempty"`
	ExperienceCloud json.RawMessage `json:"experienceCloud,omitempty"`
	Property        *odProperty     `json:"property,omitempty"`
	Trace           json.RawMessage `json:"trace,omitempty"`
	Execute         *odRequestSet   `json:"execute,omitempty"`
	Prefetch        *odRequestSet   `json:"prefetch,omitempty"`
}

type odVisitorID struct {
	TntID                   string           `json:"tntId,omitempty"`
	ThirdPartyID            string           `json:"thirdPartyId,omitempty"`
	MarketingCloudVisitorID string           `json:"marketingCloudVisitorId,omitempty"`
	CustomerIDs             []map[string]any `json:"customerIds,omitempty"`
}

type odProperty struct {
	Token string `json:"token,omitempty"`
}

type odContext struct {
	Channel     string          `json:"channel,omitempty"`
	UserAgent   string          `json:"userAgent,omitempty"`
	ClientHints *odClientHints  `json:"clientHints,omitempty"`
	Address     *odAddress      `json:"address,omitempty"`
	Geo         *odGeo          `json:"geo,omitempty"`
	Browser     json.RawMessage `json:"browser,omitempty"`
	Beacon      *bool           `json:"beacon,omitempty"`
	// Carried through to notifications unread.
	Screen              json.RawMessage `json:"screen,omitempty"`
	Window              json.RawMessage `json:"window,omitempty"`
	MobilePlatform      json.RawMessage `json:"mobilePlatform,omitempty"`
	Application         json.RawMessage `json:"application,omitempty"`
	TimeOffsetInMinutes *float64        `json:"timeOffsetInMinutes,omitempty"`
}

type odClientHints struct {
	Platform                  string `json:"platform,omitempty"`
	BrowserUAWithFullVersion  string `json:"browserUAWithFullVersion,omitempty"`
	BrowserUAWithMajorVersion string `json:"browserUAWithMajorVersion,omitempty"`
}

type odAddress struct {
	URL          string `json:"url,omitempty"`
	ReferringURL string `json:"referringUrl,omitempty"`
}

type odGeo struct {
	IPAddress   string   `json:"ipAddress,omitempty"`
	Latitude    *float64 `json:"latitude,omitempty"`
	Longitude   *float64 `json:"longitude,omitempty"`
	CountryCode string   `json:"countryCode,omitempty"`
	StateCode   string   `json:"stateCode,omitempty"`
	City        string   `json:"city,omitempty"`
	Zip         string   `json:"zip,omitempty"`
}

func (g *odGeo) missingFields() bool {
	return g == nil || g.Latitude == nil && g.Longitude == nil && g.CountryCode == "" && g.StateCode == "" && g.City == ""
}

type odRequestSet struct {
	Mboxes   []odDetails `json:"mboxes,omitempty"`
	Views    []odDetails `json:"views,omitempty"`
	PageLoad *odDetails  `json:"pageLoad,omitempty"`
}

// odDetails is an mbox, view or page-load request.
type odDetails struct {
	Index             *int            `json:"index,omitempty"`
	Name              string          `json:"name,omitempty"`
	Key               string          `json:"key,omitempty"`
	Parameters        map[string]any  `json:"parameters,omitempty"`
	ProfileParameters map[string]any  `json:"profileParameters,omitempty"`
	Order             json.RawMessage `json:"order,omitempty"`
	Product           json.RawMessage `json:"product,omitempty"`
	Address           *odAddress      `json:"address,omitempty"`
}

type odResponse struct {
	Status    int            `json:"status"`
	RequestID string         `json:"requestId,omitempty"`
	ID        *odVisitorID   `json:"id,omitempty"`
	Client    string         `json:"client,omitempty"`
	Execute   *odResponseSet `json:"execute,omitempty"`
	Prefetch  *odResponseSet `json:"prefetch,omitempty"`
}

type odResponseSet struct {
	PageLoad *odMboxResponse  `json:"pageLoad,omitempty"`
	Mboxes   []odMboxResponse `json:"mboxes,omitzero"`
	Views    []odMboxResponse `json:"views,omitzero"`
}

// odMboxResponse is an mbox, view or page-load answer.
type odMboxResponse struct {
	Index   *int           `json:"index,omitempty"`
	Name    string         `json:"name,omitempty"`
	Key     string         `json:"key,omitempty"`
	Options []option       `json:"options,omitzero"`
	Metrics []metric       `json:"metrics,omitzero"`
	Trace   map[string]any `json:"trace,omitempty"`
}

// odNotification is a display notification for an on-device execute
// decision; Target counts the impression when it receives it.
type odNotification struct {
	ID           string       `json:"id"`
	ImpressionID string       `json:"impressionId"`
	Timestamp    int64        `json:"timestamp"`
	Type         string       `json:"type"`
	Mbox         *odNotifMbox `json:"mbox,omitempty"`
	Tokens       []string     `json:"tokens"`
}

type odNotifMbox struct {
	Name string `json:"name"`
}

// odTelemetryEntry describes one on-device decision for Target's telemetry.
type odTelemetryEntry struct {
	RequestID string          `json:"requestId"`
	Timestamp int64           `json:"timestamp"`
	Mode      string          `json:"mode"`
	Execution float64         `json:"execution"`
	Features  odTelemetryFeat `json:"features"`
}

type odTelemetryFeat struct {
	DecisioningMethod string `json:"decisioningMethod"`
	ExecuteMboxCount  int    `json:"executeMboxCount,omitempty"`
	ExecutePageLoad   bool   `json:"executePageLoad,omitempty"`
	PrefetchMboxCount int    `json:"prefetchMboxCount,omitempty"`
	PrefetchPageLoad  bool   `json:"prefetchPageLoad,omitempty"`
	PrefetchViewCount int    `json:"prefetchViewCount,omitempty"`
}

// decision is the outcome of one on-device decision.
type decision struct {
	request  *odRequest // the request as decided: ids, request id and geo filled in
	response *odResponse
	// remoteMboxes and remoteViews need the edge: the artifact does not
	// hold their rules, or marks them as needing server-side data.
	remoteMboxes []string
	remoteViews  []string
	// notifications are the display notifications for execute decisions;
	// telemetry is nil when telemetry is off. Both go to the edge in one
	// request, sent by the caller without making the caller wait.
	notifications []odNotification
	telemetry     *odTelemetryEntry
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
	lookupGeo func(ctx context.Context, ip string) (*odGeo, error)
	artifacts *artifactProvider
	logger    *slog.Logger
}

// decideOptions are the per-call inputs that are not in the request.
type decideOptions struct {
	sessionID    string
	locationHint string
}

// decide makes an on-device decision for req. It never modifies req. It
// fails only when no artifact is loaded; the cost is a few microseconds per rule evaluated, plus the geo lookup's
// round trip when one is needed.
func (e *decisionEngine) decide(ctx context.Context, req *odRequest, opts decideOptions) (*decision, error) {
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
	if a.geoTargetingEnabled && e.lookupGeo != nil {
		var geo *odGeo
		if r.Context != nil {
			geo = r.Context.Geo
		}
		if geo.missingFields() {
			ip := ""
			if geo != nil {
				ip = geo.IPAddress
			}
			// A failed lookup leaves geo conditions false, as when the
			// edge knows nothing about an address; it does not fail the
			// decision.
			found, err := e.lookupGeo(ctx, ip)
			if err != nil && e.logger != nil {
				e.logger.Warn("target: geo lookup for on-device decisioning failed", "error", err)
			}
			merged := odGeo{}
			if geo != nil {
				merged = *geo
			}
			mergeGeo(&merged, found)
			c := odContext{}
			if r.Context != nil {
				c = *r.Context
			}
			c.Geo = &merged
			r.Context = &c
		}
	}

	d := &decider{
		engine:        e,
		artifact:      a,
		req:           &r,
		opts:          opts,
		timestamp:     now().UnixMilli(),
		visitorID:     allocationVisitorID(r.ID),
		propertyToken: e.propertyToken,
		showTrace:     len(r.Trace) > 0,
	}
	if r.Property != nil && r.Property.Token != "" {
		d.propertyToken = r.Property.Token
	}
	d.base = map[string]any{}
	timingContext(now(), d.base)
	var address *odAddress
	if r.Context != nil {
		address = r.Context.Address
		d.base["geo"] = geoContext(r.Context.Geo)
	} else {
		d.base["geo"] = map[string]any{}
	}
	d.base["user"] = userContext(r.Context)
	if address != nil {
		d.page = pageContext(address.URL)
		d.referring = pageContext(address.ReferringURL)
	} else {
		d.page = pageContext("")
		d.referring = pageContext("")
	}
	d.responseTokens = responseTokenBase(a, d.base["geo"].(map[string]any))

	resp := &odResponse{Status: 200, RequestID: r.RequestID, ID: r.ID, Client: e.client}
	out := &decision{request: &r, response: resp}
	out.remoteMboxes, out.remoteViews = remoteDependencies(a, &r)
	if len(out.remoteMboxes) > 0 || len(out.remoteViews) > 0 {
		resp.Status = 206
	}
	if r.Execute != nil {
		resp.Execute = d.decideSet(modeExecute, r.Execute)
	}
	if r.Prefetch != nil {
		resp.Prefetch = d.decideSet(modePrefetch, r.Prefetch)
	}
	out.notifications = d.notifications
	if e.telemetryEnabled {
		out.telemetry = telemetryFor(&r, d.timestamp, time.Since(start))
	}
	return out, nil
}

// odNotificationRequest is the Delivery request that reports a decision's
// display notifications and telemetry to the edge.
type odNotificationRequest struct {
	ID              *odVisitorID     `json:"id,omitempty"`
	Context         *odContext       `json:"context,omitempty"`
	ExperienceCloud json.RawMessage  `json:"experienceCloud,omitempty"`
	Notifications   []odNotification `json:"notifications,omitempty"`
	Telemetry       *odTelemetry     `json:"telemetry,omitempty"`
}

type odTelemetry struct {
	Entries []odTelemetryEntry `json:"entries"`
}

// notificationRequest is the one request that reports the decision, or nil
// when there is nothing to report (no execute decision with an event token,
// telemetry off).
func (d *decision) notificationRequest() *odNotificationRequest {
	if len(d.notifications) == 0 && d.telemetry == nil {
		return nil
	}
	n := &odNotificationRequest{
		ID:              d.request.ID,
		Context:         d.request.Context,
		ExperienceCloud: d.request.ExperienceCloud,
		Notifications:   d.notifications,
	}
	if d.telemetry != nil {
		n.Telemetry = &odTelemetry{Entries: []odTelemetryEntry{*d.telemetry}}
	}
	return n
}

// mergeGeo fills the fields a geo lookup found.
func mergeGeo(dst, found *odGeo) {
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

func telemetryFor(r *odRequest, timestamp int64, took time.Duration) *odTelemetryEntry {
	t := &odTelemetryEntry{
		RequestID: r.RequestID,
		Timestamp: timestamp,
		Mode:      "local",
		Execution: float64(took.Microseconds()) / 1000,
		Features:  odTelemetryFeat{DecisioningMethod: "on-device"},
	}
	if r.Execute != nil {
		t.Features.ExecuteMboxCount = len(r.Execute.Mboxes)
		t.Features.ExecutePageLoad = r.Execute.PageLoad != nil
	}
	if r.Prefetch != nil {
		t.Features.PrefetchMboxCount = len(r.Prefetch.Mboxes)
		t.Features.PrefetchPageLoad = r.Prefetch.PageLoad != nil
		t.Features.PrefetchViewCount = len(r.Prefetch.Views)
	}
	return t
}

// validVisitorID returns the visitor id to decide for: a copy of id, with a
// new tntId (carrying the location hint, as the edge would mint it) when
// the request identifies nobody.
func validVisitorID(id *odVisitorID, locationHint string) *odVisitorID {
	out := odVisitorID{}
	if id != nil {
		out = *id
	}
	if out.TntID == "" && out.MarketingCloudVisitorID == "" && out.ThirdPartyID == "" && authenticatedCustomerID(out.CustomerIDs) == "" {
		out.TntID = newUUID()
		if locationHint != "" {
			out.TntID += "." + locationHint + "_0"
		}
	}
	return &out
}

func authenticatedCustomerID(ids []map[string]any) string {
	for _, c := range ids {
		if c["authenticatedState"] == "authenticated" {
			if s, ok := c["id"].(string); ok {
				return s
			}
		}
	}
	return ""
}

// allocationVisitorID picks the id visitors are bucketed by: the Experience
// Cloud id, else the tntId without its location suffix, else the
// third-party id. Customer ids are never used: they change when a visitor
// logs in, and the bucket must not.
func allocationVisitorID(id *odVisitorID) string {
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
func remoteDependencies(a *artifact, r *odRequest) (mboxes, views []string) {
	var requested, requestedViews []string
	hasViews := false
	for _, set := range []*odRequestSet{r.Execute, r.Prefetch} {
		if set == nil {
			continue
		}
		for _, m := range set.Mboxes {
			if m.Name != "" {
				requested = append(requested, m.Name)
			}
		}
		for _, v := range set.Views {
			hasViews = true
			if v.Name != "" {
				requestedViews = append(requestedViews, v.Name)
			}
		}
	}
	add := func(list []string, name string) []string {
		if slices.Contains(list, name) {
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
	typeMbox     requestType = "mbox"
	typeView     requestType = "view"
	typePageLoad requestType = "pageLoad"
)

// decider holds the state of one decision.
type decider struct {
	engine         *decisionEngine
	artifact       *artifact
	req            *odRequest
	opts           decideOptions
	timestamp      int64
	visitorID      string
	propertyToken  string
	showTrace      bool
	base           map[string]any
	page           map[string]any
	referring      map[string]any
	responseTokens map[string]any

	notifications []odNotification
	notifiedKeys  map[string]bool
	tracer        *requestTracer

	// Per request detail and per activity, computed once: a page load
	// evaluates dozens of rules against the same parameters and visitor.
	lastDetails *odDetails
	lastContext detailsContext
	allocations map[string]float64
}

// detailsContext is the part of the rule context an mbox, view or page
// load request sets.
type detailsContext struct {
	page, referring, mbox map[string]any
}

func (d *decider) detailsContext(details *odDetails) detailsContext {
	if details == d.lastDetails {
		return d.lastContext
	}
	dc := detailsContext{page: d.page, referring: d.referring, mbox: mboxContext(details.Parameters)}
	if details.Address != nil {
		// An mbox's own address replaces the page's, for both the page and
		// the referring page (as Adobe's engines do).
		p := pageContext(details.Address.URL)
		dc.page, dc.referring = p, p
	}
	d.lastDetails, d.lastContext = details, dc
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

func (d *decider) decideSet(mode requestMode, set *odRequestSet) *odResponseSet {
	d.tracer = &requestTracer{d: d}
	out := &odResponseSet{}
	if set.Mboxes != nil {
		out.Mboxes = []odMboxResponse{}
		for i := range set.Mboxes {
			out.Mboxes = append(out.Mboxes, d.decideMbox(mode, &set.Mboxes[i], typeMbox)...)
		}
	}
	if mode == modePrefetch && set.Views != nil {
		out.Views = []odMboxResponse{}
		for i := range set.Views {
			out.Views = append(out.Views, d.decideViews(mode, &set.Views[i])...)
		}
	}
	if set.PageLoad != nil {
		out.PageLoad = d.decidePageLoad(mode, set.PageLoad)
	}
	return out
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
func (d *decider) decideMbox(mode requestMode, m *odDetails, rt requestType) []odMboxResponse {
	global := m.Name == d.artifact.globalMbox
	d.tracer.traceRequest(mode, rt, m)
	var out []odMboxResponse
	matched := map[string]bool{}
	for _, r := range d.artifact.mboxRules[m.Name] {
		if !d.ruleApplies(r) || global && matched[r.key] {
			continue
		}
		res, ok := d.evaluate(mode, r, m, rt)
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
		out = append(out, odMboxResponse{Name: m.Name, Index: m.Index, Trace: d.tracer.result()})
	}
	return out
}

// decidePageLoad answers a page load with every satisfied rule of the
// global mbox, options concatenated and metrics de-duplicated.
func (d *decider) decidePageLoad(mode requestMode, p *odDetails) *odMboxResponse {
	m := *p
	m.Name = d.artifact.globalMbox
	results := d.decideMbox(mode, &m, typeMbox)
	out := &odMboxResponse{Options: []option{}}
	seen := map[string]bool{}
	for _, r := range results {
		out.Options = append(out.Options, r.Options...)
		if r.Trace != nil {
			out.Trace = r.Trace
		}
		for _, mt := range r.Metrics {
			if !seen[mt.EventToken] {
				seen[mt.EventToken] = true
				out.Metrics = append(out.Metrics, mt)
			}
		}
	}
	return out
}

// decideViews answers a view request (or, without a name, every view) with
// every satisfied rule, one answer per view.
func (d *decider) decideViews(mode requestMode, v *odDetails) []odMboxResponse {
	d.tracer.traceRequest(mode, typeView, v)
	rules := d.artifact.allViewRules
	if v.Name != "" {
		rules = d.artifact.viewRules[v.Name]
	}
	var out []odMboxResponse
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
		if i, seen := byName[res.Name]; seen {
			out[i].Options = append(out[i].Options, res.Options...)
			out[i].Metrics = append(out[i].Metrics, res.Metrics...)
			continue
		}
		byName[res.Name] = len(out)
		out = append(out, res)
	}
	return out
}

// evaluate runs one rule; when it is satisfied, it returns the answer
// post-processed for the mode: event tokens, notifications, response
// tokens, campaign macros and the trace.
func (d *decider) evaluate(mode requestMode, r *rule, details *odDetails, rt requestType) (odMboxResponse, bool) {
	dc := d.detailsContext(details)
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
		return odMboxResponse{}, false
	}
	c := r.consequence
	res := odMboxResponse{Name: c.name, Index: details.Index, Key: details.Key}
	if rt == typeView {
		res.Index = nil
	}
	switch mode {
	case modeExecute:
		d.notify(r, c)
		for _, o := range c.options {
			if o.Type == "" && o.Content == nil {
				continue
			}
			o.EventToken = ""
			res.Options = append(res.Options, o)
		}
		for _, m := range c.metrics {
			if m.Type == "click" {
				res.Metrics = append(res.Metrics, m)
			}
		}
	default:
		res.Options = make([]option, len(c.options))
		for i, o := range c.options {
			if o.EventToken == "" && i < len(c.metrics) && c.metrics[i].Type == "display" {
				o.EventToken = c.metrics[i].EventToken
			}
			res.Options[i] = o
		}
		if rt == typeView {
			res.Metrics = slices.Clone(c.metrics)
			if res.Metrics == nil && c.metrics != nil {
				res.Metrics = []metric{}
			}
		}
	}
	if c.options == nil {
		res.Options = nil
	} else if res.Options == nil {
		res.Options = []option{}
	}
	tokens := d.ruleResponseTokens(r)
	for i := range res.Options {
		res.Options[i].ResponseTokens = tokens
		if content, changed := replaceMacros(res.Options[i].Type, res.Options[i].Content, r, details); changed {
			res.Options[i].Content = content
			res.Options[i].contentJSON = nil
		}
	}
	res.Trace = d.tracer.result()
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
	n := odNotification{
		ID:           newUUID(),
		ImpressionID: newUUID(),
		Timestamp:    d.timestamp,
		Type:         "display",
		Mbox:         &odNotifMbox{Name: c.name},
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
		if v, ok := geo[field]; ok && a.responseTokens[token] && jsTruthy(v) {
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
