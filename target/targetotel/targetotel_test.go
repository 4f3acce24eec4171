package targetotel_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// telemetry is an in-memory OpenTelemetry pipeline: spans recorded as they
// end, metrics read on demand.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	obs    *target.Observer
}

func newTelemetry(t testing.TB) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := targetotel.New(targetotel.Options{TracerProvider: tel.tp, MeterProvider: mp, Propagator: propagation.TraceContext{}})
	require.NoError(t, err)
	tel.obs = obs
	return tel
}

// handlerSpan starts the span a request handler would have.
func (tel *telemetry) handlerSpan(ctx context.Context) (context.Context, trace.Span) {
	return tel.tp.Tracer("test").Start(ctx, "handler", trace.WithSpanKind(trace.SpanKindServer))
}

// metrics collects the metrics, by name.
func (tel *telemetry) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func attrs(kv []attribute.KeyValue) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range kv {
		out[a.Key] = a.Value
	}
	return out
}

func setAttrs(s attribute.Set) map[attribute.Key]attribute.Value { return attrs(s.ToSlice()) }

// sumOf returns the counter's value for the data point whose attributes
// include want, failing when there is none.
func sumOf(t testing.TB, m metricdata.Metrics, want ...attribute.KeyValue) int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	var total int64
	found := false
next:
	for _, dp := range sum.DataPoints {
		got := setAttrs(dp.Attributes)
		for _, kv := range want {
			if got[kv.Key] != kv.Value {
				continue next
			}
		}
		total += dp.Value
		found = true
	}
	require.True(t, found, "%s has no data point with %v: %+v", m.Name, want, sum.DataPoints)
	return total
}

// TestCallWithRetry drives the hooks as a GetOffers call whose first attempt
// gets a 503 and whose retry succeeds, under a handler's span: the call span
// is a client span under the handler's, with a POST span per attempt, the
// traceparent of each attempt is written into its request's header, and the
// metrics count the attempts, the retry and one successful call.
func TestCallWithRetry(t *testing.T) {
	tel := newTelemetry(t)
	ctx, handler := tel.handlerSpan(t.Context())

	call := &target.CallEvent{
		Operation: target.OpGetOffers, Client: "acme", Method: target.ServerSide,
		RequestID: "req-1", Host: "mboxedge35.tt.omtrdc.net", Mboxes: 2, PageLoad: true, Start: time.Now(),
	}
	cctx := tel.obs.CallStart(ctx, call)
	url := "https://mboxedge35.tt.omtrdc.net/rest/v1/delivery?imsOrgId=org&sessionId=REDACTED"
	var headers []http.Header
	for i, status := range []int{503, 200} {
		a := &target.AttemptEvent{Attempt: i + 1, Method: http.MethodPost, URL: url, Host: "mboxedge35.tt.omtrdc.net", Header: http.Header{}, RequestSize: 120}
		actx := tel.obs.AttemptStart(cctx, a)
		headers = append(headers, a.Header)
		require.Equal(t, trace.SpanFromContext(actx).SpanContext().TraceID(), handler.SpanContext().TraceID())
		a.Status, a.Duration = status, time.Millisecond
		if status != 200 {
			a.Err = &target.APIError{Status: status, Message: "Service Unavailable"}
			a.ErrorKind, a.Backoff = target.ErrorKindAPI, 50*time.Millisecond
		}
		tel.obs.AttemptDone(actx, a)
	}
	call.Status, call.DecidedBy, call.Duration = 200, target.ServerSide, 60*time.Millisecond
	call.Timings.Attempts = 2
	tel.obs.CallDone(cctx, call)
	handler.End()

	spans := tel.spans.Ended()
	require.Len(t, spans, 4)
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	require.Len(t, byName["target.GetOffers"], 1)
	require.Len(t, byName["POST"], 2)
	cs := byName["target.GetOffers"][0]
	assert.Equal(t, handler.SpanContext().SpanID(), cs.Parent().SpanID())
	assert.Equal(t, trace.SpanKindClient, cs.SpanKind())
	assert.Equal(t, codes.Unset, cs.Status().Code)
	ca := attrs(cs.Attributes())
	assert.Equal(t, "acme", ca[targetotel.ClientCodeKey].AsString())
	assert.Equal(t, "server-side", ca[targetotel.DecisioningMethodKey].AsString())
	assert.Equal(t, int64(2), ca[targetotel.MboxCountKey].AsInt64())
	assert.Equal(t, int64(1), ca[targetotel.RetryCountKey].AsInt64())
	assert.Equal(t, "req-1", ca[targetotel.RequestIDKey].AsString())
	assert.Equal(t, "mboxedge35.tt.omtrdc.net", ca["server.address"].AsString())
	assert.Equal(t, call.Start, cs.StartTime())
	assert.Equal(t, call.Start.Add(call.Duration), cs.EndTime())

	for i, s := range byName["POST"] {
		assert.Equal(t, cs.SpanContext().SpanID(), s.Parent().SpanID())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		a := attrs(s.Attributes())
		assert.Equal(t, "POST", a["http.request.method"].AsString())
		assert.Equal(t, url, a["url.full"].AsString())
		assert.Equal(t, int64(443), a["server.port"].AsInt64())
		// The recorder keeps spans in the order they ended: the 503 first.
		if i == 0 {
			assert.Equal(t, int64(503), a["http.response.status_code"].AsInt64())
			assert.Equal(t, "503", a["error.type"].AsString())
			assert.Equal(t, codes.Error, s.Status().Code)
			require.Len(t, s.Events(), 1)
			assert.Equal(t, "exception", s.Events()[0].Name)
			assert.NotContains(t, a, attribute.Key("http.request.resend_count"))
		} else {
			assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
			assert.Equal(t, int64(1), a["http.request.resend_count"].AsInt64())
			assert.Equal(t, codes.Unset, s.Status().Code)
		}
		// The traceparent of the request is the attempt's span.
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(headers[i])))
		assert.Equal(t, s.SpanContext().SpanID(), sc.SpanID(), "traceparent %q", headers[i].Get("traceparent"))
		assert.Equal(t, s.SpanContext().TraceID(), sc.TraceID())
	}

	m := tel.metrics(t)
	op := targetotel.OperationKey.String("GetOffers")
	assert.Equal(t, int64(2), sumOf(t, m["target.client.attempts"], op))
	assert.Equal(t, int64(1), sumOf(t, m["target.client.attempts"], op, targetotel.OutcomeKey.String("error"), attribute.Int("http.response.status_code", 503)))
	assert.Equal(t, int64(1), sumOf(t, m["target.client.retries"], op))
	assert.Equal(t, int64(0), sumOf(t, m["target.client.calls.active"], op))
	assert.NotContains(t, m, "target.client.errors")
	hist, ok := m["target.client.call.duration"].Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	require.Len(t, hist.DataPoints, 1)
	dp := hist.DataPoints[0]
	assert.Equal(t, uint64(1), dp.Count)
	assert.InDelta(t, 0.06, dp.Sum, 1e-9)
	da := setAttrs(dp.Attributes)
	assert.Equal(t, "GetOffers", da[targetotel.OperationKey].AsString())
	assert.Equal(t, "server-side", da[targetotel.DecisioningMethodKey].AsString())
	assert.Equal(t, "success", da[targetotel.OutcomeKey].AsString())
	httpHist, ok := m["http.client.request.duration"].Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	var n uint64
	for _, dp := range httpHist.DataPoints {
		n += dp.Count
	}
	assert.Equal(t, uint64(2), n)
}

// TestFailedCall: a call that fails has an error status, the error as an
// exception event, error.type set to its kind, and counts in the errors
// metric and the duration histogram under outcome "error".
func TestFailedCall(t *testing.T) {
	tel := newTelemetry(t)
	call := &target.CallEvent{Operation: target.OpSendNotifications, Client: "acme", Method: target.ServerSide, Start: time.Now()}
	ctx := tel.obs.CallStart(t.Context(), call)
	call.Err = errors.New("target: call ended: context deadline exceeded")
	call.ErrorKind = target.ErrorKindTimeout
	call.Duration = time.Second
	tel.obs.CallDone(ctx, call)

	spans := tel.spans.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "target.SendNotifications", s.Name())
	assert.False(t, s.Parent().IsValid())
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, call.Err.Error(), s.Status().Description)
	assert.Equal(t, "timeout", attrs(s.Attributes())["error.type"].AsString())
	require.Len(t, s.Events(), 1)
	assert.Equal(t, call.Err.Error(), attrs(s.Events()[0].Attributes)["exception.message"].AsString())

	m := tel.metrics(t)
	op := targetotel.OperationKey.String("SendNotifications")
	assert.Equal(t, int64(1), sumOf(t, m["target.client.errors"], op, attribute.String("error.type", "timeout")))
	hist := m["target.client.call.duration"].Data.(metricdata.Histogram[float64])
	require.Len(t, hist.DataPoints, 1)
	assert.Equal(t, "error", setAttrs(hist.DataPoints[0].Attributes)[targetotel.OutcomeKey].AsString())
}

// TestOnDeviceDecision: an on-device call has a "target.decide" child
// span, its histogram point says on-device, and its notifications are
// counted by state.
func TestOnDeviceDecision(t *testing.T) {
	tel := newTelemetry(t)
	call := &target.CallEvent{Operation: target.OpGetOffers, Client: "acme", Method: target.Hybrid, Mboxes: 1, Start: time.Now()}
	ctx := tel.obs.CallStart(t.Context(), call)
	d := &target.DecisionEvent{Mboxes: 1, ArtifactVersion: "1.0.0"}
	dctx := tel.obs.DecisionStart(ctx, d)
	d.RemoteMboxes, d.Notifications, d.Duration = []string{"remote"}, 1, 30*time.Microsecond
	tel.obs.DecisionDone(dctx, d)
	tel.obs.Notifications(ctx, target.NotificationEvent{State: target.NotificationsQueued, Count: 1})
	call.Status, call.DecidedBy, call.Duration = 206, target.OnDevice, 40*time.Microsecond
	tel.obs.CallDone(ctx, call)
	tel.obs.Notifications(context.Background(), target.NotificationEvent{State: target.NotificationsSent, Count: 1})
	tel.obs.Notifications(context.Background(), target.NotificationEvent{State: target.NotificationsDropped, Count: 2, Err: target.ErrClientClosed, ErrorKind: target.ErrorKindClosed})

	spans := tel.spans.Ended()
	require.Len(t, spans, 2)
	ds, cs := spans[0], spans[1]
	assert.Equal(t, "target.decide", ds.Name())
	assert.Equal(t, trace.SpanKindInternal, ds.SpanKind())
	assert.Equal(t, cs.SpanContext().SpanID(), ds.Parent().SpanID())
	da := attrs(ds.Attributes())
	assert.Equal(t, "1.0.0", da[targetotel.ArtifactVersionKey].AsString())
	assert.Equal(t, int64(1), da[targetotel.RemoteMboxCountKey].AsInt64())
	ca := attrs(cs.Attributes())
	assert.Equal(t, "hybrid", ca[targetotel.DecisioningMethodKey].AsString())
	assert.Equal(t, "on-device", ca[targetotel.DecidedByKey].AsString())
	assert.Equal(t, int64(206), ca["http.response.status_code"].AsInt64())
	assert.NotContains(t, ca, targetotel.RetryCountKey, "no HTTP attempt, no retry count")
	require.Len(t, cs.Events(), 1)
	assert.Equal(t, "target.notifications", cs.Events()[0].Name)
	assert.Equal(t, "queued", attrs(cs.Events()[0].Attributes)[targetotel.NotificationStateKey].AsString())

	m := tel.metrics(t)
	hist := m["target.client.call.duration"].Data.(metricdata.Histogram[float64])
	require.Len(t, hist.DataPoints, 1)
	assert.Equal(t, "on-device", setAttrs(hist.DataPoints[0].Attributes)[targetotel.DecisioningMethodKey].AsString())
	assert.Equal(t, uint64(1), hist.DataPoints[0].BucketCounts[0], "40µs falls in the first bucket")
	for state, want := range map[string]int64{"queued": 1, "sent": 1, "dropped": 2} {
		assert.Equal(t, want, sumOf(t, m["target.client.notifications"], targetotel.NotificationStateKey.String(state)), state)
	}
}

// TestArtifactDownloads: each download is a root span with its real
// times; failures are counted, and the age gauge measures from the last
// time the artifact was known current, which a failure does not move.
func TestArtifactDownloads(t *testing.T) {
	tel := newTelemetry(t)
	loc := "https://assets.adobetarget.com/acme/production/v1/rules.json"
	current := time.Now().Add(-time.Minute)
	tel.obs.ArtifactDownload(t.Context(), target.ArtifactEvent{Client: "acme", Location: loc, Status: 200, Version: "1.0.0", Current: current, Start: current.Add(-time.Second), Duration: time.Second})
	failed := &target.ArtifactDownloadError{Location: loc, Status: 500}
	tel.obs.ArtifactDownload(t.Context(), target.ArtifactEvent{Client: "acme", Location: loc, Status: 500, Version: "1.0.0", Current: current, Err: failed, ErrorKind: target.ErrorKindArtifact, Start: time.Now(), Duration: time.Millisecond})

	spans := tel.spans.Ended()
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.Equal(t, "target.artifact.download", s.Name())
		assert.False(t, s.Parent().IsValid())
		assert.Equal(t, loc, attrs(s.Attributes())["url.full"].AsString())
	}
	assert.Equal(t, current, spans[0].EndTime())
	assert.Equal(t, codes.Unset, spans[0].Status().Code)
	assert.Equal(t, codes.Error, spans[1].Status().Code)

	m := tel.metrics(t)
	assert.Equal(t, int64(1), sumOf(t, m["target.client.artifact.refresh_failures"], targetotel.ClientCodeKey.String("acme"), attribute.String("error.type", "artifact")))
	gauge, ok := m["target.client.artifact.age"].Data.(metricdata.Gauge[float64])
	require.True(t, ok)
	require.Len(t, gauge.DataPoints, 1)
	assert.GreaterOrEqual(t, gauge.DataPoints[0].Value, 60.0)
	assert.Less(t, gauge.DataPoints[0].Value, 3600.0)
}

// TestNoSampling: with spans not sampled the hooks still count metrics and
// write no traceparent that claims a sampled trace.
func TestNoSampling(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	obs, err := targetotel.New(targetotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: propagation.TraceContext{}})
	require.NoError(t, err)

	call := &target.CallEvent{Operation: target.OpGetOffers, Method: target.ServerSide, Start: time.Now()}
	ctx := obs.CallStart(t.Context(), call)
	a := &target.AttemptEvent{Attempt: 1, Method: "POST", URL: "http://localhost:1/x", Host: "localhost:1", Header: http.Header{}}
	actx := obs.AttemptStart(ctx, a)
	a.Status = 200
	obs.AttemptDone(actx, a)
	obs.CallDone(ctx, call)
	assert.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-00$`, a.Header.Get("traceparent"))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	names := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names[m.Name] = true
		}
	}
	assert.True(t, names["target.client.call.duration"])
	assert.True(t, names["target.client.attempts"])
}
