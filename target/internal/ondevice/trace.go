package ondevice

import (
	"encoding/json"
	"slices"
	"strings"

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
}

type traceCampaign struct {
	activity      string
	fields        map[string]any
	notifications []any
}

type traceTarget struct {
	activity                 string
	context                  any
	campaignID, campaignType any
	matchedSegments          []any
	unmatchedSegments        []any
	matchedConditions        []any
	unmatchedConditions      []any
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
	if rd == nil || rd.Address != nil || len(rd.Parameters) > 0 || len(rd.ProfileParameters) > 0 || rd.Order != nil || rd.Product != nil {
		m = map[string]any{}
		if b, err := json.Marshal(orig); err == nil {
			_ = json.Unmarshal(b, &m)
		}
	}
	return m
}

func (t *requestTracer) ruleEvaluated(r *rule, scope *ruleScope, satisfied bool) {
	if !t.d.showTrace {
		return
	}
	activityID := r.meta["activity.id"]
	if satisfied && t.campaign(r.activityID) == nil {
		offers := []any{}
		if offer, ok := r.meta["offer.id"]; ok && offer != nil {
			offers = append(offers, offer)
		}
		t.campaigns = append(t.campaigns, &traceCampaign{
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
			activity:     r.activityID,
			context:      withoutNegativeZero(scope.Value()), // a copy, ours to change
			campaignID:   activityID,
			campaignType: r.meta["activity.type"],
		}
		t.targets = append(t.targets, target)
	}
	addUnique := func(list []any, v any) []any {
		if slices.ContainsFunc(list, func(e any) bool { return jsonlogic.StrictEqual(e, v) }) {
			return list
		}
		return append(list, v)
	}
	for _, id := range r.audienceIDs {
		if satisfied {
			target.matchedSegments = addUnique(target.matchedSegments, id)
		} else {
			target.unmatchedSegments = addUnique(target.unmatchedSegments, id)
		}
	}
	if satisfied {
		target.matchedConditions = append(target.matchedConditions, r.rawCondition)
	} else {
		target.unmatchedConditions = append(target.unmatchedConditions, r.rawCondition)
	}
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
	if c := t.campaign(r.activityID); c != nil {
		c.notifications = append(c.notifications, notificationTrace(n))
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

// result is the trace as it stands, or nil when none was asked for. It is
// a snapshot, and the caller's own: later rules do not change a trace
// already handed out, and every map and slice in it is a copy, for the
// rule conditions and meta come from the artifact and the contexts are in
// every trace of the decision; a caller writing into one must change
// neither another trace nor a later decision.
func (t *requestTracer) result() map[string]any {
	if !t.d.showTrace {
		return nil
	}
	campaigns := make([]any, 0, len(t.campaigns))
	for _, c := range t.campaigns {
		m := make(map[string]any, len(c.fields)+1)
		for k, v := range c.fields {
			m[k] = cloneJSON(v)
		}
		if c.notifications != nil {
			m["notifications"] = cloneJSON(c.notifications)
		}
		campaigns = append(campaigns, m)
	}
	targets := make([]any, 0, len(t.targets))
	orEmpty := func(l []any) []any {
		if l == nil {
			return []any{}
		}
		return cloneJSON(l).([]any)
	}
	for _, tt := range t.targets {
		targets = append(targets, map[string]any{
			"context":                 cloneJSON(tt.context),
			"campaignId":              tt.campaignID,
			"campaignType":            tt.campaignType,
			"matchedSegmentIds":       orEmpty(tt.matchedSegments),
			"unmatchedSegmentIds":     orEmpty(tt.unmatchedSegments),
			"matchedRuleConditions":   orEmpty(tt.matchedConditions),
			"unmatchedRuleConditions": orEmpty(tt.unmatchedConditions),
		})
	}
	request := map[string]any{"sessionId": t.d.opts.SessionID}
	for k, v := range t.request {
		request[k] = cloneJSON(v)
	}
	return map[string]any{
		"clientCode":               t.d.engine.Client,
		"artifact":                 t.artifact(),
		"profile":                  traceProfile(t.d.req.ID),
		"request":                  request,
		"campaigns":                campaigns,
		"evaluatedCampaignTargets": targets,
	}
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
