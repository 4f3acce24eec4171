// Package ondevice is the on-device decision engine: it answers a Delivery
// API request from Target's rules artifact instead of the edge, in the
// Delivery API's own models (package delivery).
//
// Contract: ParseArtifact (after Deobfuscate, for rules.bin) validates an
// artifact and compiles its rules once; an Artifact is immutable and may
// be shared by concurrent decisions while a newer one loads. Engine.Decide
// takes an artifact, a request and the per-call inputs the request does
// not carry (session id, location hint), and returns the response, the
// display notifications and telemetry to report, and the mboxes and views
// only the edge can decide. The engine does no I/O: downloading and
// polling the artifact, the HTTP geo lookup and sending notifications are
// the client's (package target), which hands the engine its clock, its id
// source and the geo lookup as functions.
//
// Source of truth: Adobe's decisioning engines (the Node.js SDK's
// target-decisioning-engine first). The conformance suite
// (TARGET_SDK_TESTING_DIR) and the differential fuzzer against Adobe's
// Node.js engine (TestOnDeviceDifferential), both run from package target,
// pin the answers; where Adobe's engine is wrong, this one differs on
// purpose, and the fuzzer lists each such difference with its reason.
// Where the two languages differ, the engine does what JavaScript does:
// URLs are split as text (pageurl.go), "_lc" values are lower-cased as
// String.prototype.toLowerCase does (jsstring.go), the mbox context is
// built in JavaScript's property order (mboxcontext.go), and user-agent
// patterns match as JavaScript's regular expressions (package useragent).
//
// Why the engine does not import the client: the client depends on it, and
// keeping the models in package delivery lets both speak the same types
// with no conversion at the boundary. Why internal: users reach it through
// target.Client (DecisioningMethod OnDevice or Hybrid), so its API can
// change with the client's.
package ondevice

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/artifact"
	"github.com/target-go/sdk/target/internal/jsonlogic"
	"github.com/target-go/sdk/target/internal/murmur3"
)

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
	req     *delivery.RequestDetails
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
	trace   traceMark
}

// Decision is the outcome of one on-device decision.
type Decision struct {
	Request  *delivery.Request // the request as decided: ids, request id and geo filled in
	Response *delivery.Response
	// RemoteMboxes and RemoteViews need the edge: the artifact does not
	// hold their rules, or marks them as needing server-side data.
	RemoteMboxes []string
	RemoteViews  []string
	// Notifications are the display notifications for execute decisions;
	// Telemetry is nil when telemetry is off. Both go to the edge in one
	// request (NotificationRequest), which the client sends.
	Notifications []delivery.Notification
	Telemetry     *delivery.TelemetryEntry
}

// Engine decides Delivery requests from an artifact. Set its fields before
// the first Decide and leave them alone afterwards: Decide is then safe
// for concurrent use. It does no I/O of its own; the geo lookup and the
// artifact's source are the caller's.
type Engine struct {
	Client           string // the Target client code, part of allocation keys
	PropertyToken    string // the default property; a request's own wins
	TelemetryEnabled bool
	// Now is the clock rules see and the decision's timestamps carry,
	// read once a decision (nil: the wall clock).
	Now func() time.Time
	// NewID mints the ids a decision needs (request, visitor, notification
	// and impression ids): random UUIDs in the client. Required.
	NewID func() string
	// NewIDs, when set, mints len(dst) ids into dst at once (a decision
	// needs up to three together); nil: NewID is called for each.
	NewIDs func(dst []string)
	// LookupGeo resolves an IP address (possibly empty: the caller's own)
	// to geo data, when the artifact targets on geo and the request has
	// none. Nil: no lookup, geo conditions are false.
	LookupGeo func(ctx context.Context, ip string) (*delivery.Geo, error)
	// ArtifactTrace describes the artifact's source for traces (location,
	// polling, retrievals); nil leaves those out.
	ArtifactTrace func() map[string]any
	Logger        *slog.Logger // nil: failed geo lookups and over-budget conditions are not logged
}

// Options are the per-call inputs that are not in the request.
type Options struct {
	SessionID    string
	LocationHint string // the edge cluster, for minted tntIds
}

// mintIDs fills dst with new ids.
func (e *Engine) mintIDs(dst []string) {
	if len(dst) == 0 {
		return
	}
	if e.NewIDs != nil {
		e.NewIDs(dst)
		return
	}
	for i := range dst {
		dst[i] = e.NewID()
	}
}

// errNoNewID is a misconfigured Engine: without ids a decision cannot be
// reported.
var errNoNewID = errors.New("ondevice: Engine.NewID is nil")

// Decide makes an on-device decision for req from a. It never modifies req
// or a. It fails only when a is nil (ErrArtifactNotReady), NewID is unset,
// or ctx ends before the decision is made (ctx is checked between rules;
// one rule's condition is bounded by jsonlogic.DefaultBudget, and a
// condition over it does not match); the cost is about a microsecond per rule evaluated, plus the geo
// lookup's round trip when one is needed.
func (e *Engine) Decide(ctx context.Context, a *Artifact, req *delivery.Request, opts Options) (*Decision, error) {
	start := time.Now()
	if a == nil {
		return nil, ErrArtifactNotReady
	}
	if e.NewID == nil {
		return nil, errNoNewID
	}
	blk := &decisionBlock{req: *req}
	r := &blk.req
	// The decider's state lives in a scratch of the pool, not in the
	// block: the caller keeps the block, and the scratch is only needed
	// while deciding (see scratch).
	s := scratchPool.Get().(*scratch)
	defer s.release()
	blk.id = validVisitorID(req.ID, opts.LocationHint, e.NewID)
	r.ID = &blk.id
	// The request id and, for an execute request, the two ids of its
	// first notification are minted together: with NewIDs, one call and
	// one string for the three.
	ids := blk.ids[:0]
	if r.RequestID == "" {
		ids = blk.ids[:1]
	}
	if r.Execute != nil {
		ids = ids[:len(ids)+2]
	}
	e.mintIDs(ids)
	if r.RequestID == "" {
		r.RequestID, ids = ids[0], ids[1:]
	}
	// One reading of the clock serves the rules and the timestamps: the
	// one that times the decision, unless a clock is given or a geo
	// lookup (a round trip) came between.
	now := start
	if a.geoTargetingEnabled && e.LookupGeo != nil && GeoMissing(r) {
		e.fillGeo(ctx, r)
		now = time.Now()
	}
	if e.Now != nil {
		now = e.Now()
	}

	// The scratch is zero: its fields are set one by one, for a
	// composite literal would be built aside and copied in whole, every
	// word of it behind a write barrier while the collector marks.
	d := &s.d
	d.ctx = ctx
	d.engine = e
	d.artifact = a
	d.req = r
	d.opts = opts
	d.timestamp = now.UnixMilli()
	d.visitorID = allocationVisitorID(r.ID, e.NewID)
	d.propertyToken = e.PropertyToken
	d.showTrace = r.Trace != nil
	d.spareIDs = ids
	d.notifications = blk.notifications[:0]
	d.notifyMboxes = blk.notifyMboxes[:0]
	d.freeDetails = s.details[:]
	d.freeAnswers = s.answers[:]
	d.freeOptions = s.options[:]
	d.freeResults = blk.results[:]
	d.freeTokens = blk.tokens[:]
	d.allocations = &s.allocations
	d.notifiedBuf = &s.notified
	d.responseTokensBuf = &s.tokens
	d.matched = &s.matched
	if r.Property != nil && r.Property.Token != "" {
		d.propertyToken = r.Property.Token
	}
	d.base = requestContext{now: now, context: r.Context}
	var address *delivery.Address
	if r.Context != nil {
		address = r.Context.Address
	}
	if address != nil {
		d.page = pageContext(address.URL)
		d.referring = pageContext(address.ReferringURL)
	} else {
		d.page = pageContext("")
		d.referring = pageContext("")
	}

	resp := &blk.resp
	*resp = delivery.Response{Status: 200, RequestID: r.RequestID, ID: r.ID, Client: e.Client}
	out := &blk.out
	*out = Decision{Request: r, Response: resp}
	out.RemoteMboxes, out.RemoteViews = a.RemoteDependencies(r)
	if len(out.RemoteMboxes) > 0 || len(out.RemoteViews) > 0 {
		resp.Status = 206
	}
	if ex := r.Execute; ex != nil {
		s.executeTracer.d = d
		d.tracer = &s.executeTracer
		resp.Execute = &blk.execute
		if n := len(ex.Mboxes); n > 0 && n <= len(blk.mboxes) {
			resp.Execute.Mboxes = blk.mboxes[:0:n]
		} else if n > 0 {
			resp.Execute.Mboxes = make([]delivery.MboxResponse, 0, n)
		}
		for i := range ex.Mboxes {
			for _, a := range d.decideMbox(modeExecute, d.mboxDetails(&ex.Mboxes[i])) {
				resp.Execute.Mboxes = append(resp.Execute.Mboxes, d.mboxResponse(&a))
			}
		}
		if ex.PageLoad != nil {
			resp.Execute.PageLoad = d.decidePageLoad(modeExecute, ex.PageLoad)
		}
	}
	if pf := r.Prefetch; pf != nil {
		s.prefetchTracer.d = d
		d.tracer = &s.prefetchTracer
		resp.Prefetch = &blk.prefetch
		// Requested mboxes and views are answered with a list, even an
		// empty one, as Adobe's engines answer.
		if len(pf.Mboxes) > 0 {
			resp.Prefetch.Mboxes = make([]delivery.PrefetchMboxResponse, 0, len(pf.Mboxes))
		}
		if len(pf.Views) > 0 {
			resp.Prefetch.Views = []delivery.View{}
		}
		for i := range pf.Mboxes {
			for _, a := range d.decideMbox(modePrefetch, d.mboxDetails(&pf.Mboxes[i])) {
				resp.Prefetch.Mboxes = append(resp.Prefetch.Mboxes, delivery.PrefetchMboxResponse{MboxResponse: d.mboxResponse(&a)})
			}
		}
		for i := range pf.Views {
			v := &pf.Views[i]
			for _, a := range d.decideViews(modePrefetch, &details{name: v.Name, key: v.Key, req: &v.RequestDetails, orig: v}) {
				resp.Prefetch.Views = append(resp.Prefetch.Views, d.view(&a))
			}
		}
		if pf.PageLoad != nil {
			resp.Prefetch.PageLoad = d.decidePageLoad(modePrefetch, pf.PageLoad)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err // rules were skipped: the answer would be wrong
	}
	if n := len(d.notifications); n > 0 {
		out.Notifications = d.notifications[:n:n]
	}
	if e.TelemetryEnabled {
		blk.telemetry = telemetryFor(r, d.timestamp, time.Since(start), &blk.features)
		out.Telemetry = &blk.telemetry
	}
	return out, nil
}

// scratch is what a decision needs only while deciding: the decider, its
// tracers and the room for its intermediate lists. It comes from a pool and
// goes back cleared when the decision ends (release), so that a decision
// allocates and zeroes only what the caller keeps (the decision block), and
// the garbage collector has a small block to scan; nothing the caller keeps
// points into a scratch.
type scratch struct {
	d              decider
	executeTracer  requestTracer
	prefetchTracer requestTracer
	details        [2]details
	answers        [1]answer
	options        [4]option
	// The decider's fixed-size tables, apart from it so that release
	// clears only the entries a decision used.
	allocations [32]allocationEntry
	notified    [8]notifiedKey
	tokens      [5]tokenValue
	// matched is the set of rule keys that answered (see matchedSet),
	// kept from one decision to the next up to maxKeptKeyWords.
	matched keySet
}

// maxKeptKeyWords bounds the key set a pooled scratch keeps: 4,096 words
// (32 KB) hold an artifact of 262,144 rule keys. A larger set is dropped
// when the decision ends, so that a scratch does not hold it forever; with
// an artifact that large, a decision that sets a key (a page load or a view
// request) allocates the set again, keys/8 bytes.
const maxKeptKeyWords = 1 << 12

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release clears s, which reaches the artifact, the engine, the context and
// the request, and puts it back in the pool.
func (s *scratch) release() {
	s.clear()
	if releaseHook != nil {
		releaseHook(s)
	}
	scratchPool.Put(s)
}

// releaseHook, set only by a test that runs alone, sees each scratch as
// release puts it back (sync.Pool under -race drops some Puts, so that the
// next Get is not the same scratch).
var releaseHook func(*scratch)

// clear empties s where a decision wrote, and drops a key set larger than
// maxKeptKeyWords.
func (s *scratch) clear() {
	d := &s.d
	for used := d.allocationsUsed; used != 0; used &= used - 1 {
		s.allocations[bits.TrailingZeros32(used)] = allocationEntry{}
	}
	clear(s.notified[:min(len(d.notified), len(s.notified))])
	clear(s.tokens[:len(d.responseTokens)])
	*d = decider{}
	s.executeTracer = requestTracer{}
	s.prefetchTracer = requestTracer{}
	clear(s.details[:])
	clear(s.answers[:])
	clear(s.options[:])
	s.matched.reset()
	if len(s.matched.words) > maxKeptKeyWords {
		s.matched = keySet{}
	}
}

// decisionBlock is everything a decision makes exactly once that the
// caller keeps, allocated together: the response, the request as decided,
// the notifications and the telemetry point into it, so it lives as long as
// the caller keeps any of them. It holds nothing that reaches the artifact
// or the engine: the decider's state is in a scratch (see scratch).
type decisionBlock struct {
	out       Decision
	req       delivery.Request
	id        delivery.VisitorID
	resp      delivery.Response
	execute   delivery.ExecuteResponse
	prefetch  delivery.PrefetchResponse
	telemetry delivery.TelemetryEntry
	features  delivery.TelemetryFeatures

	// Room for what a small decision (an mbox or two) makes, so that it
	// makes it without allocating; larger ones take chunks (see take).
	// The response's slices point into the block, which lives as long as
	// they do.
	ids           [3]string
	results       [4]delivery.Option
	tokens        [4]string
	mboxes        [2]delivery.MboxResponse
	notifications [2]delivery.Notification
	notifyMboxes  [4]delivery.NotificationMbox // the first notifications' Mbox
}

// take returns n elements from the room *free has left, capped at n so
// that an append to one never writes into the next; when the room is
// short, it allocates a chunk for this take and the next few. For n == 0
// it returns an empty list, not nil: what it returns goes into the
// response, where an empty list is written [] and a nil one left out.
func take[T any](free *[]T, n int) []T {
	if n == 0 {
		return []T{} // no allocation: zero-sized
	}
	if len(*free) < n {
		*free = make([]T, max(n, 8))
	}
	s := (*free)[:n:n]
	*free = (*free)[n:]
	return s
}

// mboxDetails is the details of an mbox request, each at an address of its
// own (detailsContext remembers the last one by address).
func (d *decider) mboxDetails(m *delivery.MboxRequest) *details {
	det := &take(&d.freeDetails, 1)[0]
	*det = details{name: m.Name, index: m.Index, indexed: true, req: &m.RequestDetails, orig: m}
	return det
}

func (d *decider) mboxResponse(a *answer) delivery.MboxResponse {
	return delivery.MboxResponse{Index: a.index, Name: a.name, Options: d.toOptions(a.options), Metrics: toMetrics(a.metrics), Trace: a.trace.result()}
}

func (d *decider) view(a *answer) delivery.View {
	metrics := toMetrics(a.metrics)
	if metrics == nil {
		metrics = []delivery.Metric{} // Adobe's SDKs answer a view with "metrics": [], never without the list
	}
	return delivery.View{Name: a.name, Key: a.key, Options: d.toOptions(a.options), Metrics: metrics, Trace: a.trace.result()}
}

// toOptions converts options to the models; content encoded when the
// artifact loaded is reused as is. The list is the response's own (from
// the decision block, see take); nil stays nil and an empty list stays an
// empty list (a satisfied rule answers "options": [], as Adobe's engine
// does).
func (d *decider) toOptions(in []option) []delivery.Option {
	if in == nil {
		return nil
	}
	out := take(&d.freeResults, len(in))
	// contentJSON belongs to the artifact, shared by every decision: the
	// response gets copies, all in one buffer, so that a caller changing
	// its response cannot change later decisions.
	var shared []byte
	if n := sharedContentLen(in); n > 0 {
		shared = make([]byte, 0, n)
	}
	for i, o := range in {
		var content []byte
		if o.contentJSON != nil {
			start := len(shared)
			shared = append(shared, o.contentJSON...)
			content = shared[start:len(shared):len(shared)] // an append must not reach the next copy
		} else if o.Content != nil {
			// Content came from JSON and macros only put strings in it:
			// it always encodes, into a buffer of this response's own.
			content, _ = delivery.Marshal(o.Content)
		}
		out[i] = delivery.Option{Type: delivery.OptionType(o.Type), Content: content, EventToken: o.EventToken, ResponseTokens: o.ResponseTokens}
	}
	return out
}

// sharedContentLen is the length of the artifact's encoded contents in.
func sharedContentLen(in []option) int {
	n := 0
	for _, o := range in {
		n += len(o.contentJSON)
	}
	return n
}

func toMetrics(in []metric) []delivery.Metric {
	if in == nil {
		return nil
	}
	out := make([]delivery.Metric, len(in))
	for i, m := range in {
		out[i] = delivery.Metric{Type: delivery.MetricType(m.Type), Selector: m.Selector, EventToken: m.EventToken}
	}
	return out
}

// GeoMissing reports whether r's geo is to be looked up: with a
// geo-targeting artifact, Decide then calls LookupGeo (see
// geoLookupAddress).
func GeoMissing(r *delivery.Request) bool {
	_, lookup := geoLookupAddress(r)
	return lookup
}

// fillGeo looks up the request's geo. A failed lookup leaves geo conditions
// false, as when the edge knows nothing about an address; it does not fail
// the decision.
func (e *Engine) fillGeo(ctx context.Context, r *delivery.Request) {
	var geo delivery.Geo
	c := delivery.Context{Channel: delivery.ChannelWeb}
	if r.Context != nil {
		c = *r.Context
		if c.Geo != nil {
			geo = *c.Geo
		}
	}
	ip, _ := geoLookupAddress(r)
	found, err := e.LookupGeo(ctx, ip)
	if err != nil {
		if e.Logger != nil {
			e.Logger.Warn("target: geo lookup for on-device decisioning failed", "error", err)
		}
		return
	}
	mergeGeo(&geo, found)
	c.Geo = &geo
	r.Context = &c
}

// NotificationRequest is the one request that reports the decision, or nil
// when there is nothing to report (no execute decision with an event token,
// telemetry off).
func (d *Decision) NotificationRequest() *delivery.Request {
	if len(d.Notifications) == 0 && d.Telemetry == nil {
		return nil
	}
	n := &delivery.Request{
		ID:              d.Request.ID,
		Context:         d.Request.Context,
		ExperienceCloud: d.Request.ExperienceCloud,
		Notifications:   d.Notifications,
	}
	if d.Telemetry != nil {
		n.Telemetry = &delivery.Telemetry{Entries: []delivery.TelemetryEntry{*d.Telemetry}}
	}
	return n
}

// mergeGeo fills the fields a geo lookup found.
func mergeGeo(dst, found *delivery.Geo) {
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

func telemetryFor(r *delivery.Request, timestamp int64, took time.Duration, f *delivery.TelemetryFeatures) delivery.TelemetryEntry {
	*f = delivery.TelemetryFeatures{DecisioningMethod: delivery.OnDevice}
	if r.Execute != nil {
		f.ExecuteMboxCount = len(r.Execute.Mboxes)
		f.ExecutePageLoad = r.Execute.PageLoad != nil
	}
	if r.Prefetch != nil {
		f.PrefetchMboxCount = len(r.Prefetch.Mboxes)
		f.PrefetchPageLoad = r.Prefetch.PageLoad != nil
		f.PrefetchViewCount = len(r.Prefetch.Views)
	}
	return delivery.TelemetryEntry{
		RequestID: r.RequestID,
		Timestamp: timestamp,
		Mode:      delivery.ExecutionModeLocal,
		Execution: float64(took.Microseconds()) / 1000,
		Features:  f,
	}
}

// validVisitorID returns the visitor id to decide for: a copy of id, with a
// new tntId (carrying the location hint, as the edge would mint it) when
// the request identifies nobody.
func validVisitorID(id *delivery.VisitorID, locationHint string, newID func() string) delivery.VisitorID {
	out := delivery.VisitorID{}
	if id != nil {
		out = *id
	}
	if out.TntID == "" && out.MarketingCloudVisitorID == "" && out.ThirdPartyID == "" && !hasAuthenticatedCustomer(out.CustomerIDs) {
		out.TntID = newID()
		if locationHint != "" {
			out.TntID += "." + locationHint + "_0"
		}
	}
	return out
}

func hasAuthenticatedCustomer(ids []delivery.CustomerID) bool {
	return slices.ContainsFunc(ids, func(c delivery.CustomerID) bool {
		return c.AuthenticatedState == delivery.AuthenticatedStateAuthenticated && c.ID != ""
	})
}

// allocationVisitorID picks the id visitors are bucketed by: the Experience
// Cloud id, else the tntId without its location suffix, else the
// third-party id. Customer ids are never used: they change when a visitor
// logs in, and the bucket must not.
func allocationVisitorID(id *delivery.VisitorID, newID func() string) string {
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
	return newID()
}

// RemoteDependencies lists the mboxes and views r asks for that a cannot
// decide: a Hybrid client sends such a request to the edge.
func (a *Artifact) RemoteDependencies(r *delivery.Request) (mboxes, views []string) {
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
		requested = append(requested, artifact.DefaultGlobalMbox)
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
	ctx           context.Context // checked between rules
	engine        *Engine
	artifact      *Artifact
	req           *delivery.Request
	opts          Options
	timestamp     int64
	visitorID     string
	propertyToken string
	showTrace     bool
	base          requestContext
	page          map[string]any
	referring     map[string]any
	// responseTokens are the tokens every option carries (see
	// responseTokenBase), set by the first satisfied rule.
	responseTokens      []tokenValue
	responseTokensReady bool
	responseTokensBuf   *[5]tokenValue // the geo tokens (the scratch's)

	notifications []delivery.Notification
	notified      []notifiedKey
	notifiedBuf   *[8]notifiedKey // the scratch's
	// notifyMboxes is the room for the first notifications' Mbox, in
	// the decision block.
	notifyMboxes []delivery.NotificationMbox
	tracer       *requestTracer
	// spareIDs are ids minted with the request id, for the first
	// notification (see Decide).
	spareIDs []string

	// The room left in the buffers (see take): details, answers and
	// options are the scratch's, used only while deciding; results and
	// tokens are the decision block's, for the response keeps them.
	freeDetails []details
	freeAnswers []answer
	freeOptions []option
	freeResults []delivery.Option
	freeTokens  []string

	// Per request detail and per activity, computed once: a page load
	// evaluates dozens of rules against the same parameters and visitor.
	lastDetails *details
	lastContext detailsContext
	// allocations holds the buckets already computed, by rule.activity
	// modulo its size; an activity whose slot is taken goes to
	// moreAllocations. A decision touches a few activities of an artifact
	// that may have thousands: its cost must not grow with the artifact.
	// allocationsUsed has bit i set when allocations[i] is (release
	// clears those). Both are the scratch's.
	allocations     *[32]allocationEntry
	allocationsUsed uint32
	matched         *keySet // the scratch's (see matchedSet)
	moreAllocations map[int]any
	// scope is the rule context, reset for each rule: conditions and
	// traces do not keep it.
	scope ruleScope
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
	dc := detailsContext{page: d.page, referring: d.referring, mbox: emptyMbox}
	if det.req != nil {
		if len(det.req.Parameters) > 0 {
			dc.mbox = sharedParamsContext(det.req.Parameters)
		}
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

// emptyMbox is the mbox context of a request without parameters, shared:
// conditions only read it, and traces copy it (ruleScope.Value).
var emptyMbox = map[string]any{}

// allocationEntry is one activity's bucket; value is nil in an empty entry.
type allocationEntry struct {
	activity int
	value    any
}

// allocation is the visitor's bucket for r's activity, as conditions read
// it, computed once per activity and decision.
func (d *decider) allocation(r *rule) any {
	e := &d.allocations[r.activity%len(d.allocations)]
	if e.value != nil {
		if e.activity == r.activity {
			return e.value
		}
		if v, ok := d.moreAllocations[r.activity]; ok {
			return v
		}
	}
	v := bucketAny(allocationSlot(d.engine.Client, r.activityID, d.visitorID))
	switch {
	case e.value == nil:
		*e = allocationEntry{r.activity, v}
		d.allocationsUsed |= 1 << (r.activity % len(d.allocations))
	case d.moreAllocations == nil:
		d.moreAllocations = map[int]any{r.activity: v}
	default:
		d.moreAllocations[r.activity] = v
	}
	return v
}

// keySet is a set of rule keys, by rule.keyIndex: a bit per key, in words
// allocated when the first key is added and kept for the next sets.
// touched lists the words that have a bit set, so that emptying the set
// costs what was added, not the artifact's number of keys (a decision's
// cost must not grow with the artifact, see decider.allocations).
type keySet struct {
	words   []uint64
	touched []int32
}

func (k *keySet) has(i int) bool {
	w := i / 64
	return w < len(k.words) && k.words[w]&(1<<(i%64)) != 0
}

// add puts key i, of an artifact with keyCount keys, in the set.
func (k *keySet) add(i, keyCount int) {
	w := i / 64
	if w >= len(k.words) {
		// A larger artifact than the last one: the set is empty (see
		// matchedSet), so the old words are dropped, not copied.
		k.words = make([]uint64, (keyCount+63)/64)
		k.touched = k.touched[:0]
	}
	if k.words[w] == 0 {
		k.touched = append(k.touched, int32(w))
	}
	k.words[w] |= 1 << (i % 64)
}

// reset empties the set, clearing only the words that were set.
func (k *keySet) reset() {
	for _, w := range k.touched {
		k.words[w] = 0
	}
	k.touched = k.touched[:0]
}

// matchedSet is an empty set of the artifact's rule keys, in the scratch's
// room: a decideMbox or decideViews uses it until it returns, and the next
// one starts empty.
func (d *decider) matchedSet() *keySet {
	d.matched.reset()
	return d.matched
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
	// Callers use the answers before deciding again: the scratch's room
	// holds an mbox's single answer.
	out := take(&d.freeAnswers, 1)[:0]
	matched := d.matchedSet()
	for _, r := range d.artifact.mboxRules[m.name] {
		if !d.ruleApplies(r) || global && matched.has(r.keyIndex) {
			continue
		}
		res, ok := d.evaluate(mode, r, m, typeMbox)
		if !ok {
			continue
		}
		out = append(out, res)
		if !global {
			break // the first satisfied rule answers: no key is looked up
		}
		matched.add(r.keyIndex, d.artifact.keyCount)
	}
	if !global && len(out) == 0 {
		out = append(out, answer{name: m.name, index: m.index, trace: d.tracer.mark()})
	}
	return out
}

// decidePageLoad answers a page load with every satisfied rule of the
// global mbox, options concatenated and metrics de-duplicated.
func (d *decider) decidePageLoad(mode requestMode, p *delivery.RequestDetails) *delivery.PageLoadResponse {
	m := &delivery.MboxRequest{RequestDetails: *p, Name: d.artifact.globalMbox}
	answers := d.decideMbox(mode, &details{name: m.Name, req: p, orig: m})
	n := 0
	for _, a := range answers {
		n += len(a.options)
	}
	options := take(&d.freeOptions, n)[:0]
	var metrics []metric
	var trace traceMark
	seen := map[string]bool{}
	for _, a := range answers {
		options = append(options, a.options...)
		if a.trace.t != nil {
			trace = a.trace
		}
		for _, mt := range a.metrics {
			if !seen[mt.EventToken] {
				seen[mt.EventToken] = true
				metrics = append(metrics, mt)
			}
		}
	}
	// A page load always answers with its list of options: options is
	// never nil (take).
	return &delivery.PageLoadResponse{Options: d.toOptions(options), Metrics: toMetrics(metrics), Trace: trace.result()}
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
	matched := d.matchedSet()
	for _, r := range rules {
		if !d.ruleApplies(r) || matched.has(r.keyIndex) {
			continue
		}
		res, ok := d.evaluate(mode, r, v, typeView)
		if !ok {
			continue
		}
		matched.add(r.keyIndex, d.artifact.keyCount)
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
	scope := &d.scope
	*scope = ruleScope{
		req:        &d.base,
		page:       dc.page,
		referring:  dc.referring,
		mbox:       dc.mbox,
		allocation: d.allocation(r),
	}
	if d.ctx.Err() != nil {
		return answer{}, false // Decide returns the context's error
	}
	v, err := r.condition.Evaluate(scope, jsonlogic.DefaultBudget)
	if err != nil {
		d.overBudget(r, err)
	}
	ok := err == nil && jsonlogic.Truthy(v)
	d.tracer.ruleEvaluated(r, scope, ok)
	if !ok {
		return answer{}, false
	}
	c := r.consequence
	res := answer{name: c.name, index: det.index, key: det.key}
	switch mode {
	case modeExecute:
		d.notify(r, c)
		n := 0
		for _, o := range c.options {
			if o.Type != "" || o.Content != nil {
				n++
			}
		}
		// Never nil (take): a satisfied rule answers with a list, even an
		// empty one, in either mode.
		res.options = take(&d.freeOptions, n)[:0]
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
		res.options = take(&d.freeOptions, len(c.options))
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
	for i := range res.options {
		// Each option has a map of its own: a caller writing into one
		// option's tokens must not change its siblings'. Most rules
		// answer with one option, which costs nothing more.
		res.options[i].ResponseTokens = d.ruleResponseTokens(r)
		if content, changed := replaceMacros(res.options[i].Type, res.options[i].Content, r, det); changed {
			res.options[i].Content = content
			res.options[i].contentJSON = nil
		}
	}
	res.trace = d.tracer.mark()
	return res, true
}

// notify records the display notification for an execute decision, once
// per mbox and event token.
func (d *decider) notify(r *rule, c consequence) {
	var tokens []string
	for i, o := range c.options {
		if o.EventToken == "" {
			continue
		}
		if tokens == nil {
			// The most tokens this rule can add, from the block's room.
			tokens = take(&d.freeTokens, len(c.options)-i)[:0]
		}
		if slices.ContainsFunc(d.notified, func(k notifiedKey) bool { return k.is(c.name, o.EventToken) }) {
			continue
		}
		if d.notified == nil {
			d.notified = d.notifiedBuf[:0]
		}
		d.notified = append(d.notified, notifiedKey{c.name, o.EventToken})
		tokens = append(tokens, o.EventToken)
	}
	if len(tokens) == 0 {
		return
	}
	ids := d.spareIDs
	if len(ids) >= 2 {
		d.spareIDs = ids[2:]
	} else {
		ids = take(&d.freeTokens, 2) // not a local array: NewIDs would move it to the heap
		d.engine.mintIDs(ids)
	}
	n := delivery.Notification{
		ID:           ids[0],
		ImpressionID: ids[1],
		Timestamp:    d.timestamp,
		Type:         delivery.MetricTypeDisplay,
		Tokens:       tokens,
	}
	if i := len(d.notifyMboxes); i < cap(d.notifyMboxes) {
		// The notifications point into the decision's block, which
		// lives as long as they do (see decisionBlock).
		d.notifyMboxes = append(d.notifyMboxes, delivery.NotificationMbox{Name: c.name})
		n.Mbox = &d.notifyMboxes[i]
	} else {
		n.Mbox = &delivery.NotificationMbox{Name: c.name}
	}
	d.notifications = append(d.notifications, n)
	d.tracer.notified(r, n)
}

// notifiedKey is an mbox name and event token already notified. Adobe's
// engines key them as name + "-" + token; is compares the same joined text
// without building it.
type notifiedKey struct{ name, token string }

func (k notifiedKey) is(name, token string) bool {
	if len(k.name)+len(k.token) != len(name)+len(token) {
		return false
	}
	if len(k.name) == len(name) {
		return k.name == name && k.token == token
	}
	at := func(n, t string, i int) byte {
		switch {
		case i < len(n):
			return n[i]
		case i == len(n):
			return '-'
		}
		return t[i-len(n)-1]
	}
	for i := range len(name) + 1 + len(token) {
		if at(k.name, k.token, i) != at(name, token, i) {
			return false
		}
	}
	return true
}

// responseTokenKeys are the rule meta entries that become response tokens
// when the artifact lists them.
var responseTokenKeys = []string{
	"activity.id", "activity.name", "activity.type", "experience.id", "experience.name",
	"location.id", "location.name", "location.type", "offer.id", "offer.name", "option.id", "option.name",
}

// ruleResponseTokenBase is the part of a rule's response tokens that does
// not depend on the request, made when the artifact loads.
//
// The map is sized for its entries and the geo tokens the artifact lists,
// no more: each decision clones it (ruleResponseTokens), and a clone has
// the table of the map it copies, so room never used would be allocated,
// zeroed and scanned once per option answered.
func ruleResponseTokenBase(meta map[string]any, listed map[string]bool) map[string]any {
	n := 1
	for _, k := range responseTokenKeys {
		if _, ok := meta[k]; ok && listed[k] {
			n++
		}
	}
	for _, t := range geoResponseTokens {
		if listed[t.token] {
			n++
		}
	}
	m := make(map[string]any, n)
	for _, k := range responseTokenKeys {
		if v, ok := meta[k]; ok && listed[k] {
			if _, isNumber := v.(float64); !isNumber {
				v = cloneJSON(v) // the meta stays as the artifact has it
			}
			m[k] = withoutNegativeZero(v)
		}
	}
	m["activity.decisioningMethod"] = "on-device"
	return m
}

// responseTokenBase holds the tokens every option of a decision carries.
func responseTokenBase(a *Artifact, c *requestContext, buf []tokenValue) []tokenValue {
	out := buf[:0]
	if len(a.geoTokens) == 0 {
		return out
	}
	geo := c.geoContext()
	for _, t := range a.geoTokens {
		if v, ok := geo[t.field]; ok {
			out = append(out, tokenValue{t.token, withoutNegativeZero(v)})
		}
	}
	return out
}

// withoutNegativeZero gives v with every -0 in it made 0, rewriting its
// maps and slices in place (callers pass values they own). Adobe's engine
// writes its answers with JSON.stringify, which writes -0 as 0, where
// encoding/json keeps the sign; the engine's own values are made the same
// where it produces them (tokens, traces) rather than in delivery's
// encoder, whose bytes are the wire's. Rules still read -0 as the request
// or artifact has it, as Adobe's do.
func withoutNegativeZero(v any) any {
	switch x := v.(type) {
	case float64:
		if x == 0 {
			return 0.0
		}
	case map[string]any:
		// Only a -0 is written back: maps and slices are changed in
		// place, and writing every key again hashed it for nothing.
		for k, e := range x {
			switch e := e.(type) {
			case float64:
				if e == 0 && math.Signbit(e) {
					x[k] = 0.0
				}
			case map[string]any, []any:
				withoutNegativeZero(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = withoutNegativeZero(e)
		}
	}
	return v
}

// hasNestedValue reports whether a value of m is an object or a list.
func hasNestedValue(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return true
		}
	}
	return false
}

// tokenValue is one response token.
type tokenValue struct {
	name  string
	value any
}

// geoToken is a response token read from the geo context's field.
type geoToken struct{ token, field string }

// geoResponseTokens are the response tokens read from the geo context.
var geoResponseTokens = []geoToken{
	{"geo.city", "city"}, {"geo.country", "country"}, {"geo.state", "region"},
	{"geo.latitude", "latitude"}, {"geo.longitude", "longitude"},
}

func (d *decider) ruleResponseTokens(r *rule) map[string]any {
	if !d.responseTokensReady {
		d.responseTokens = responseTokenBase(d.artifact, &d.base, d.responseTokensBuf[:])
		d.responseTokensReady = true
	}
	// Cloning the rule's own tokens copies the map's table in one go,
	// much faster than adding its entries one by one; the geo tokens, if
	// any, fit in the room the table has left.
	m := maps.Clone(r.responseTokens)
	if r.nestedResponseTokens {
		// The values are the artifact's: a caller writing into one must
		// not change later decisions.
		for k, v := range m {
			m[k] = cloneJSON(v)
		}
	}
	for _, t := range d.responseTokens {
		m[t.name] = t.value
	}
	return m
}

// allocationBucket maps a visitor to a percentage in [0, 100) with two
// decimals, the value the artifact's "allocation" conditions compare against.
//
// The steps and the float arithmetic follow Adobe's engines exactly (signed
// 32-bit hash, absolute value, modulo 10000, scaled to a percentage, rounded
// half up to two decimals): a visitor must land in the same experience
// whichever SDK decides for it.
func allocationBucket(client, activityID, visitorID string) float64 {
	return bucketValue(allocationSlot(client, activityID, visitorID))
}

// allocationSlot is the bucket's slot in [0, 10000), the hash of
// client.activityID.visitorID.0. The key is built in a stack buffer when
// it fits: the hash does not keep it, and a decision computes one per
// activity.
func allocationSlot(client, activityID, visitorID string) int {
	n := len(client) + len(activityID) + len(visitorID) + 3 + len(campaignBucketSalt)
	var buf [192]byte
	var key []byte
	if n <= len(buf) {
		key = buf[:0]
	} else {
		key = make([]byte, 0, n)
	}
	key = append(key, client...)
	key = append(key, '.')
	key = append(key, activityID...)
	key = append(key, '.')
	key = append(key, visitorID...)
	key = append(key, '.')
	key = append(key, campaignBucketSalt...)
	return slotOf(unsafe.String(unsafe.SliceData(key), len(key)))
}

// bucketOf is allocationBucket for a whole key.
func bucketOf(key string) float64 {
	return bucketValue(slotOf(key))
}

func slotOf(key string) int {
	signed := int64(int32(murmur3.UTF16(key, 0)))
	if signed < 0 {
		signed = -signed
	}
	return int(signed % 10000)
}

func bucketValue(slot int) float64 {
	v := float64(slot) / 10000 * 100
	return math.Floor(v*100+0.5) / 100
}

// bucketValues holds every bucket value, 10,000 float64s (80 KB) made by
// the first decision, in a table without pointers: the collector neither
// scans it nor marks its entries, where a table of 10,000 separately boxed
// floats (what conditions read) was marked again on every cycle.
var bucketValues = sync.OnceValue(func() *[10000]float64 {
	out := new([10000]float64)
	for i := range out {
		out[i] = bucketValue(i)
	}
	return out
})

// bucketAny is bucketValues()[slot] in an interface, as conditions read
// it, without allocating: boxing a float64 allocates, and a page load reads
// one per activity. An interface holding a float64 is a type word and a
// pointer to 8 bytes nobody writes (the language gives no way to); bucketAny
// builds one from the type word of any(0.0), which is static data, and a
// pointer into the table, which is never written after it is made.
func bucketAny(slot int) any {
	return pointAt(any(0.0), unsafe.Pointer(&bucketValues()[slot]))
}

// campaignBucketSalt is the last component of the allocation key.
const campaignBucketSalt = "0"

// overBudget reports a rule whose condition took more than its budget of
// steps: it does not match, and the artifact's author needs to know.
func (d *decider) overBudget(r *rule, err error) {
	if l := d.engine.Logger; l != nil {
		l.Warn("target: on-device rule condition not evaluated, treated as not matching", "ruleKey", r.key, "error", err)
	}
}
