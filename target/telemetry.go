package target

import "time"

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
// request's features, and the network phases; now is the entry's
// timestamp.
func (c *Client) recordTelemetry(req *DeliveryRequest, tm Timings, now time.Time) {
	if !c.telemetry {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// The entry's two parts in one allocation, with room for the entry
	// itself when nothing else is pending, as between successful calls.
	parts := &struct {
		f TelemetryFeatures
		r TelemetryRequest
		e [1]TelemetryEntry
	}{}
	f := &parts.f
	f.DecisioningMethod = ServerSide
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
		Timestamp: now.UnixMilli(),
		Mode:      ExecutionModeEdge,
		Execution: ms(tm.Total),
		Features:  f,
		Request:   &parts.r,
	}
	parts.r = TelemetryRequest{
		DNS: ms(tm.DNS), TLS: ms(tm.TLS), TimeToFirstByte: ms(tm.TimeToFirstByte),
		Download: ms(tm.Download), ResponseSize: tm.ResponseSize,
	}
	c.mu.Lock()
	if len(c.pending) == 0 {
		parts.e[0] = e
		c.pending = parts.e[:]
	} else {
		c.pending = trimTelemetry(append(c.pending, e))
	}
	c.mu.Unlock()
}
