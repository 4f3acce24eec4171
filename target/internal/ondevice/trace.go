package ondevice

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// Traces of on-device decisions, in the shape the edge gives when a
// request asks for a trace: which activities matched, which audiences did
// and did not, the context each was evaluated against, and the artifact
// used. Nothing is recorded when the request does not ask for a trace, so
// ordinary decisions pay nothing for it.

type requestTracer struct {
	d       *decider
	request map[string]any
	// campaigns and targets are kept in first-seen order.
	campaigns []*traceCampaign
	targets   []*traceTarget
	// seq counts what the tracer has recorded (rules evaluated,
	// notifications); every entry keeps the count when it was recorded,
	// so that a mark (a count) says which entries a trace holds.
	seq int
}

// A trace is a snapshot of the tracer when a rule answered. Taking one
// only records a mark: the maps are built when the answer becomes a
// response (traceMark.result), from the entries recorded before the mark,
// so snapshots that are never used (a page load keeps its last, a view its
// first) cost nothing, and none is a copy of the one before it.
type traceMark struct {
	t       *requestTracer
	request map[string]any
	seq     int
}

// traced is an entry of a trace list and the tracer's count when it was
// recorded.
type traced struct {
	seq  int
	v    any
	plan *copyPlan // copies v, when it is a rule's condition
}

type traceCampaign struct {
	seq           int
	activity      string
	fields        map[string]any
	notifications []traced
}

type traceTarget struct {
	seq                      int
	activity                 string
	context                  contextValues // shared parts: copied by result
	campaignID, campaignType any
	matchedSegments          []traced
	unmatchedSegments        []traced
	matchedConditions        []traced
	unmatchedConditions      []traced
}

func (t *requestTracer) traceRequest(mode requestMode, rt requestType, det *details) {
	if !t.d.showTrace {
		return
	}
	detail := requestTrace(det.orig)
	detail["type"] = string(mode)
	t.request = map[string]any{
		"pageURL":  t.d.page["url"],
		"host":     t.d.page["domain"],
		string(rt): detail,
	}
}

// requestTrace is orig, an *MboxRequest or a *ViewRequest, as JSON decodes
// it into a map. Without request details (the common case) it is built
// directly, as notificationTrace is; with them it goes through JSON.
func requestTrace(orig any) map[string]any {
	var rd *delivery.RequestDetails
	m := make(map[string]any, 4)
	switch o := orig.(type) {
	case *delivery.MboxRequest:
		rd = &o.RequestDetails
		m["index"] = float64(o.Index)
		if o.Name != "" {
			m["name"] = o.Name
		}
	case *delivery.ViewRequest:
		rd = &o.RequestDetails
		if o.Name != "" {
			m["name"] = o.Name
		}
		if o.Key != "" {
			m["key"] = o.Key
		}
	}
	if rd == nil || rd.Address != nil || rd.Order != nil || rd.Product != nil ||
		!addParameters(m, "parameters", rd.Parameters) || !addParameters(m, "profileParameters", rd.ProfileParameters) {
		m = map[string]any{}
		if b, err := json.Marshal(orig); err == nil {
			_ = json.Unmarshal(b, &m)
		}
	}
	return m
}

// addParameters sets m[name] to p as JSON decodes it (an object of
// strings), leaving out an empty p as omitempty does, and reports whether
// it could: a key or value that is not valid UTF-8 is left to the JSON
// round trip, which replaces its bad bytes.
func addParameters(m map[string]any, name string, p delivery.Parameters) bool {
	if len(p) == 0 {
		return true
	}
	out := make(map[string]any, len(p))
	for k, v := range p {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
		out[k] = v
	}
	m[name] = out
	return true
}

func (t *requestTracer) ruleEvaluated(r *rule, scope *ruleScope, satisfied bool) {
	if !t.d.showTrace {
		return
	}
	seq := t.seq
	t.seq++
	activityID := r.meta["activity.id"]
	if satisfied && t.campaign(r.activityID) == nil {
		offers := []any{}
		if offer, ok := r.meta["offer.id"]; ok && offer != nil {
			offers = append(offers, offer)
		}
		t.campaigns = append(t.campaigns, &traceCampaign{
			seq:      seq,
			activity: r.activityID,
			fields: map[string]any{
				"id":           activityID,
				"campaignType": r.meta["activity.type"],
				"branchId":     r.meta["experience.id"],
				"offers":       offers,
				"environment":  t.d.artifact.meta["environment"],
			},
		})
	}
	var target *traceTarget
	for _, tt := range t.targets {
		if tt.activity == r.activityID {
			target = tt
		}
	}
	if target == nil {
		target = &traceTarget{
			seq:          seq,
			activity:     r.activityID,
			campaignID:   activityID,
			campaignType: r.meta["activity.type"],
		}
		scope.values(&target.context)
		t.targets = append(t.targets, target)
	}
	for _, id := range r.audienceIDs {
		if satisfied {
			target.matchedSegments = addUnique(target.matchedSegments, id, seq)
		} else {
			target.unmatchedSegments = addUnique(target.unmatchedSegments, id, seq)
		}
	}
	cond, plan := r.conditionForTrace()
	if satisfied {
		target.matchedConditions = append(target.matchedConditions, traced{seq, cond, plan})
	} else {
		target.unmatchedConditions = append(target.unmatchedConditions, traced{seq, cond, plan})
	}
}

// addUnique adds a segment recorded at seq to list, unless it is listed:
// a segment is listed once, where it was first recorded.
func addUnique(list []traced, v any, seq int) []traced {
	for _, e := range list {
		if jsonlogic.StrictEqual(e.v, v) {
			return list
		}
	}
	return append(list, traced{seq: seq, v: v})
}

func (t *requestTracer) campaign(activity string) *traceCampaign {
	for _, c := range t.campaigns {
		if c.activity == activity {
			return c
		}
	}
	return nil
}

func (t *requestTracer) notified(r *rule, n delivery.Notification) {
	if !t.d.showTrace {
		return
	}
	seq := t.seq
	t.seq++
	if c := t.campaign(r.activityID); c != nil {
		c.notifications = append(c.notifications, traced{seq: seq, v: notificationTrace(n)})
	}
}

// notificationTrace is n as JSON decodes it into a map: numbers as float64,
// omitempty fields left out. The engine's own notifications (ids, type,
// timestamp, tokens, an mbox) are built directly, since a JSON round trip
// was a tenth of a traced decision's time; any other goes through JSON.
func notificationTrace(n delivery.Notification) map[string]any {
	rd := n.RequestDetails
	if rd.Address != nil || len(rd.Parameters) > 0 || len(rd.ProfileParameters) > 0 || rd.Order != nil || rd.Product != nil ||
		n.View != nil || n.PageLoad != nil {
		var m map[string]any
		if b, err := json.Marshal(n); err == nil {
			_ = json.Unmarshal(b, &m)
		}
		return m
	}
	m := make(map[string]any, 6)
	m["id"] = n.ID
	if n.ImpressionID != "" {
		m["impressionId"] = n.ImpressionID
	}
	m["type"] = string(n.Type)
	m["timestamp"] = float64(n.Timestamp)
	if len(n.Tokens) > 0 {
		tokens := make([]any, len(n.Tokens))
		for i, t := range n.Tokens {
			tokens[i] = t
		}
		m["tokens"] = tokens
	}
	if mb := n.Mbox; mb != nil {
		mm := make(map[string]any, 2)
		if mb.Name != "" {
			mm["name"] = mb.Name
		}
		if mb.State != "" {
			mm["state"] = mb.State
		}
		m["mbox"] = mm
	}
	return m
}

// mark is the trace as it stands, to be built by its result; the zero
// mark when none was asked for.
func (t *requestTracer) mark() traceMark {
	if !t.d.showTrace {
		return traceMark{}
	}
	return traceMark{t: t, request: t.request, seq: t.seq}
}

// result is the trace as it stood at the mark, or nil when none was asked
// for. It is the caller's own: every map and slice in it is a copy, for
// the rule conditions and meta come from the artifact and the contexts'
// parts are shared with later rules and requests; a caller writing into
// one must change neither another trace nor a later decision. Its lists
// come from a slab of its own, sized to them: a caller keeping one trace
// of a decision keeps no other. It must be called before the decision ends
// (scratch.release clears the tracer).
func (m traceMark) result() map[string]any {
	t := m.t
	if t == nil {
		return nil
	}
	nc := 0
	for nc < len(t.campaigns) && t.campaigns[nc].seq < m.seq {
		nc++ // campaigns are in the order recorded
	}
	nt := 0
	for nt < len(t.targets) && t.targets[nt].seq < m.seq {
		nt++
	}
	var slab anySlab
	slab.reserve(m.size(nc, nt))
	campaigns := slab.take(nc)[:0]
	for _, c := range t.campaigns[:nc] {
		out := make(map[string]any, len(c.fields)+1)
		for k, v := range c.fields {
			out[k] = withoutNegativeZero(cloneJSON(v)) // a copy, ours to change
		}
		if len(c.notifications) > 0 && c.notifications[0].seq < m.seq {
			out["notifications"] = m.list(c.notifications, &slab)
		}
		campaigns = append(campaigns, out)
	}
	targets := slab.take(nt)[:0]
	for _, tt := range t.targets[:nt] {
		context := make(map[string]any, len(tt.context))
		for i, name := range contextNames {
			context[name] = withoutNegativeZero(cloneJSON(tt.context[i])) // a copy, ours to change
		}
		targets = append(targets, map[string]any{
			"context":                 context,
			"campaignId":              withoutNegativeZero(cloneJSON(tt.campaignID)), // the artifact's meta: copied
			"campaignType":            withoutNegativeZero(cloneJSON(tt.campaignType)),
			"matchedSegmentIds":       m.list(tt.matchedSegments, &slab),
			"unmatchedSegmentIds":     m.list(tt.unmatchedSegments, &slab),
			"matchedRuleConditions":   m.list(tt.matchedConditions, &slab),
			"unmatchedRuleConditions": m.list(tt.unmatchedConditions, &slab),
		})
	}
	request := map[string]any{"sessionId": t.d.opts.SessionID}
	for k, v := range m.request {
		request[k] = cloneJSON(v)
	}
	return map[string]any{
		"clientCode":               t.d.engine.Client,
		"artifact":                 t.artifact(),
		"profile":                  traceProfile(t.d.req.ID),
		"request":                  request,
		"campaigns":                slab.box(campaigns),
		"evaluatedCampaignTargets": slab.box(targets),
	}
}

// size is what result takes from its slab for the first nc campaigns and
// nt targets: how many lists, and how many elements in all.
func (m traceMark) size(nc, nt int) (lists, elems int) {
	lists, elems = 2, nc+nt // campaigns and evaluatedCampaignTargets
	add := func(l []traced) {
		lists++
		for _, e := range l {
			if e.seq >= m.seq {
				break
			}
			elems++
			if e.plan != nil {
				lists += e.plan.lists
				elems += e.plan.elems
			}
		}
	}
	for _, c := range m.t.campaigns[:nc] {
		if len(c.notifications) > 0 && c.notifications[0].seq < m.seq {
			add(c.notifications)
		}
	}
	for _, tt := range m.t.targets[:nt] {
		add(tt.matchedSegments)
		add(tt.unmatchedSegments)
		add(tt.matchedConditions)
		add(tt.unmatchedConditions)
	}
	return lists, elems
}

// list is a copy of the values of l recorded before the mark, never nil,
// as a []any in an interface; its lists come from slab.
func (m traceMark) list(l []traced, slab *anySlab) any {
	n := 0
	for n < len(l) && l[n].seq < m.seq {
		n++
	}
	out := slab.take(n)
	for i := range out {
		if p := l[i].plan; p != nil {
			out[i] = p.copy(l[i].v, slab)
		} else {
			out[i] = cloneJSON(l[i].v)
		}
	}
	return slab.box(out)
}

// artifact describes the artifact: its source as the engine's
// ArtifactTrace gives it, else its version and meta alone.
func (t *requestTracer) artifact() map[string]any {
	if f := t.d.engine.ArtifactTrace; f != nil {
		m := f()
		if m == nil {
			return nil
		}
		// It may hold the artifact's meta, whose values can be objects.
		return cloneJSON(m).(map[string]any)
	}
	m := map[string]any{"artifactVersion": t.d.artifact.version}
	for k, v := range t.d.artifact.meta {
		m[k] = cloneJSON(v)
	}
	return m
}

func traceProfile(id *delivery.VisitorID) map[string]any {
	// The map JSON would decode id into, built directly.
	visitor := map[string]any{}
	if id != nil {
		if id.ThirdPartyID != "" {
			visitor["thirdPartyId"] = id.ThirdPartyID
		}
		if id.MarketingCloudVisitorID != "" {
			visitor["marketingCloudVisitorId"] = id.MarketingCloudVisitorID
		}
		if len(id.CustomerIDs) > 0 {
			ids := make([]any, len(id.CustomerIDs))
			for i, c := range id.CustomerIDs {
				ids[i] = map[string]any{"id": c.ID, "integrationCode": c.IntegrationCode, "authenticatedState": string(c.AuthenticatedState)}
			}
			visitor["customerIds"] = ids
		}
	}
	if id != nil && id.TntID != "" {
		// The id's first two dot-separated parts, as Adobe's engine
		// reports them: "abc.28_0.35_0" is at "28_0".
		tnt, location, found := strings.Cut(id.TntID, ".")
		visitor["tntId"] = tnt
		if found {
			location, _, _ = strings.Cut(location, ".")
			visitor["profileLocation"] = location
		} else {
			delete(visitor, "profileLocation")
		}
	}
	return map[string]any{"visitorId": visitor}
}
