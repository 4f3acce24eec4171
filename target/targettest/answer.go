package targettest

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/target-go/sdk/target"
)

// respond builds the answer to a valid request.
func (s *Server) respond(r *http.Request, req *target.DeliveryRequest) *target.DeliveryResponse {
	resp := &target.DeliveryResponse{
		Status:    http.StatusOK,
		RequestID: req.RequestID,
		Client:    s.cfg.Client,
	}
	if resp.RequestID == "" {
		resp.RequestID = s.newUUID()
	}
	id := target.VisitorID{}
	if req.ID != nil {
		id = *req.ID
	}
	if id.TntID == "" {
		id.TntID = s.newUUID()
		if !s.cfg.NoCluster {
			id.TntID += "." + s.cfg.Cluster + "_0"
		}
	}
	resp.ID = &id
	if !s.cfg.NoCluster {
		resp.EdgeHost = "mboxedge" + s.cfg.Cluster + ".tt.omtrdc.net"
	}

	a := answerer{offers: s.cfg.Offers}
	if req.Trace != nil {
		a.tr = &tracer{client: s.cfg.Client, sessionID: r.URL.Query().Get("sessionId"), tntID: id.TntID}
	}
	// Analytics payloads go only to clients that log to Analytics themselves.
	if ec := req.ExperienceCloud; ec != nil && ec.Analytics != nil {
		a.analytics = ec.Analytics.Logging == target.LoggingClientSide
	}
	if ex := req.Execute; ex != nil {
		out := &target.ExecuteResponse{}
		if ex.PageLoad != nil {
			out.PageLoad = a.pageLoad(false)
		}
		for _, m := range ex.Mboxes {
			out.Mboxes = append(out.Mboxes, a.mbox(m, false))
		}
		resp.Execute = out
	}
	if pf := req.Prefetch; pf != nil {
		out := &target.PrefetchResponse{}
		if pf.PageLoad != nil {
			out.PageLoad = a.pageLoad(true)
		}
		for _, m := range pf.Mboxes {
			out.Mboxes = append(out.Mboxes, target.PrefetchMboxResponse{MboxResponse: a.mbox(m, true)})
		}
		out.Views = a.views(pf.Views)
		resp.Prefetch = out
	}
	for _, n := range req.Notifications {
		resp.Notifications = append(resp.Notifications, target.NotificationResponse{
			ID: n.ID, Trace: a.tr.trace("notification", map[string]any{"id": n.ID, "type": n.Type}),
		})
	}
	return resp
}

// answerer answers the locations of one request.
type answerer struct {
	offers    Offers
	tr        *tracer // nil when the request asked for no trace
	analytics bool    // whether to include analytics payloads
}

func (a *answerer) mbox(m target.MboxRequest, prefetch bool) target.MboxResponse {
	out := target.MboxResponse{Index: m.Index, Name: m.Name}
	if offer, ok := a.offers.Mboxes[m.Name]; ok {
		out.Options, out.Metrics = offer.answer("mbox/"+m.Name, prefetch)
		out.Analytics = a.payload(offer)
	}
	out.Trace = a.tr.trace(requestType(prefetch), map[string]any{"mbox": map[string]any{"name": m.Name, "index": m.Index}})
	return out
}

func (a *answerer) pageLoad(prefetch bool) *target.PageLoadResponse {
	out := &target.PageLoadResponse{}
	if offer := a.offers.PageLoad; offer != nil {
		out.Options, out.Metrics = offer.answer("pageLoad", prefetch)
		out.Analytics = a.payload(*offer)
	}
	out.Trace = a.tr.trace(requestType(prefetch), map[string]any{"pageLoad": map[string]any{}})
	return out
}

// views answers the prefetch view requests: a named view if there is an
// offer for it, every view for a request without a name, each view once.
func (a *answerer) views(reqs []target.ViewRequest) []target.View {
	var names []string
	keys := map[string]string{}
	for _, v := range reqs {
		if v.Name == "" {
			for name := range a.offers.Views {
				names = append(names, name)
			}
			continue
		}
		if _, ok := a.offers.Views[v.Name]; ok {
			names = append(names, v.Name)
			keys[v.Name] = v.Key
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []target.View
	for _, name := range names {
		offer := a.offers.Views[name]
		v := target.View{Name: name, Key: keys[name], Analytics: a.payload(offer)}
		v.Options, v.Metrics = offer.answer("view/"+name, true)
		v.Trace = a.tr.trace("prefetch", map[string]any{"view": map[string]any{"name": name}})
		out = append(out, v)
	}
	return out
}

func (a *answerer) payload(o Offer) *target.AnalyticsResponse {
	if !a.analytics {
		return nil
	}
	return o.Analytics
}

func requestType(prefetch bool) string {
	if prefetch {
		return "prefetch"
	}
	return "execute"
}

// tracer builds the trace objects of a request that asked for a trace. A
// nil tracer builds none. The real edge's trace describes its decision
// making in detail; this one says which request, location and visitor a
// decision was for, which is what a client can check.
type tracer struct {
	client, sessionID, tntID string
}

func (t *tracer) trace(kind string, location map[string]any) map[string]any {
	if t == nil {
		return nil
	}
	request := map[string]any{"sessionId": t.sessionID, "requestType": kind}
	for k, v := range location {
		request[k] = v
	}
	return map[string]any{
		"clientCode": t.client,
		"request":    request,
		"profile":    map[string]any{"tntId": t.tntID},
	}
}

// newUUID mints a version 4 UUID from the server's id generator, seeded
// like the latency and fault draws so that runs agree on ids too.
func (s *Server) newUUID() string {
	s.mu.Lock()
	hi, lo := s.ids.Uint64(), s.ids.Uint64()
	s.mu.Unlock()
	var b [16]byte
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
