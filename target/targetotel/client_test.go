package targetotel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
	"github.com/target-go/sdk/target/targettest"
)

var offers = targettest.Offers{
	Mboxes: map[string]targettest.Offer{
		"hero":  {Options: []target.Option{{Type: target.OptionTypeHTML, Content: []byte(`"<h1>Hello</h1>"`)}}},
		"flags": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(`{"color":"red"}`)}}},
	},
}

// setup starts a local edge and a client observed by tel; the client can
// decide on-device from the edge's artifact, and is ready when setup
// returns. The client is closed before the edge.
func setup(t *testing.T, tel *telemetry, ecfg targettest.Config, edit ...func(*target.Config)) (*target.Client, *targettest.Server) {
	t.Helper()
	if ecfg.Offers.Mboxes == nil {
		ecfg.Offers = offers
	}
	srv := targettest.NewServer(ecfg)
	t.Cleanup(srv.Close)
	cfg := srv.ClientConfig()
	cfg.Observer = tel.obs
	cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: srv.ArtifactURL(), PollingInterval: -1}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err)
	return c, srv
}

func mboxRequest(names ...string) target.DeliveryRequest {
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{}}
	for i, n := range names {
		req.Execute.Mboxes = append(req.Execute.Mboxes, target.MboxRequest{Name: n, Index: i})
	}
	return req
}

// tree indexes recorded spans by id and by parent.
type tree struct {
	byID     map[trace.SpanID]sdktrace.ReadOnlySpan
	children map[trace.SpanID][]sdktrace.ReadOnlySpan
	named    map[string][]sdktrace.ReadOnlySpan
}

func newTree(spans []sdktrace.ReadOnlySpan) *tree {
	tr := &tree{byID: map[trace.SpanID]sdktrace.ReadOnlySpan{}, children: map[trace.SpanID][]sdktrace.ReadOnlySpan{}, named: map[string][]sdktrace.ReadOnlySpan{}}
	for _, s := range spans {
		tr.byID[s.SpanContext().SpanID()] = s
		tr.children[s.Parent().SpanID()] = append(tr.children[s.Parent().SpanID()], s)
		tr.named[s.Name()] = append(tr.named[s.Name()], s)
	}
	return tr
}

func (tr *tree) childrenNamed(parent sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.children[parent.SpanContext().SpanID()] {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestPageOfParallelCalls is a page handler that makes 20 calls at once,
// every fifth decided on-device, while the edge answers three requests
// with 503: under the handler's span there is one client span per call;
// an edge call has a POST span per attempt, an on-device call a
// target.decide span and the SendNotifications call that carries its
// display notification; each request the edge received carried the
// traceparent of its own POST span; the retries and the notifications are
// counted.
func TestPageOfParallelCalls(t *testing.T) {
	tel := newTelemetry(t)
	c, srv := setup(t, tel, targettest.Config{}, func(cfg *target.Config) {
		cfg.Retry = target.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	})
	srv.Reset()
	srv.ForceFault(targettest.FaultServerError, 3)

	const calls = 20
	ctx, handler := tel.handlerSpan(t.Context())
	fs := make([]*future.Future[*target.Response], calls)
	for i := range calls {
		method := target.ServerSide
		if i%5 == 0 {
			method = target.OnDevice
		}
		fs[i] = c.GetOffers(ctx, target.GetOffersOptions{Request: mboxRequest("hero", "flags"), DecisioningMethod: method})
	}
	for i, f := range fs {
		r, err := f.Await(t.Context())
		require.NoError(t, err, "call %d", i)
		require.NotNil(t, r)
	}
	handler.End()
	// The artifact age series ends with the Client. The download is
	// reported after Ready, on the polling goroutine: poll for it.
	var age metricdata.Metrics
	require.Eventually(t, func() bool {
		var ok bool
		age, ok = tel.metrics(t)["target.client.artifact.age"]
		return ok
	}, 10*time.Second, 5*time.Millisecond, "the artifact age series")
	require.NoError(t, c.Close(context.Background())) // waits for the display notifications in flight

	spans := tel.spans.Ended()
	tr := newTree(spans)
	for _, s := range spans {
		if s.Name() != "target.artifact.download" {
			assert.Equal(t, handler.SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in the page's trace", s.Name())
		}
	}
	h := tr.byID[handler.SpanContext().SpanID()]
	require.NotNil(t, h)
	callSpans := tr.children[h.SpanContext().SpanID()]
	require.Len(t, callSpans, calls, "one span per call under the handler's")
	var onDevice, notifyCalls int
	for _, cs := range callSpans {
		require.Equal(t, "target.GetOffers", cs.Name())
		assert.Equal(t, trace.SpanKindClient, cs.SpanKind())
		assert.Equal(t, codes.Unset, cs.Status().Code)
		a := attrs(cs.Attributes())
		assert.Equal(t, targettest.DefaultClient, a[targetotel.ClientCodeKey].AsString())
		assert.Equal(t, int64(2), a[targetotel.MboxCountKey].AsInt64())
		assert.NotEmpty(t, a[targetotel.RequestIDKey].AsString())
		switch a[targetotel.DecidedByKey].AsString() {
		case "on-device":
			onDevice++
			assert.Equal(t, "on-device", a[targetotel.DecisioningMethodKey].AsString())
			assert.Len(t, tr.childrenNamed(cs, "target.decide"), 1)
			assert.Empty(t, tr.childrenNamed(cs, "POST"))
			notes := tr.childrenNamed(cs, "target.SendNotifications")
			require.Len(t, notes, 1, "the display notification is a call of its own under the decision's")
			notifyCalls++
			assert.NotEmpty(t, tr.childrenNamed(notes[0], "POST"))
		case "server-side":
			posts := tr.childrenNamed(cs, "POST")
			require.NotEmpty(t, posts)
			assert.Equal(t, int64(len(posts)-1), a[targetotel.RetryCountKey].AsInt64())
			assert.Empty(t, tr.childrenNamed(cs, "target.decide"))
		default:
			t.Errorf("call span decided by %q", a[targetotel.DecidedByKey].AsString())
		}
	}
	assert.Equal(t, calls/5, onDevice)

	// Every POST span is one request the edge received, with its
	// traceparent; three of them got the forced 503 and were retried.
	posts := tr.named["POST"]
	var failed, resent int
	postIDs := map[trace.SpanID]bool{}
	for _, s := range posts {
		postIDs[s.SpanContext().SpanID()] = true
		a := attrs(s.Attributes())
		assert.Equal(t, "POST", a["http.request.method"].AsString())
		assert.Contains(t, a["url.full"].AsString(), "sessionId=REDACTED")
		if a["http.response.status_code"].AsInt64() == 503 {
			failed++
			assert.Equal(t, codes.Error, s.Status().Code)
			assert.Equal(t, "503", a["error.type"].AsString())
		}
		if a["http.request.resend_count"].AsInt64() > 0 {
			resent++
		}
	}
	assert.Equal(t, 3, failed)
	assert.Equal(t, 3, resent)
	var delivered int
	for _, r := range srv.Requests() {
		if r.Path != targettest.DeliveryPath {
			continue
		}
		delivered++
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(r.Header)))
		require.True(t, sc.IsValid(), "traceparent %q", r.Header.Get("traceparent"))
		assert.Equal(t, handler.SpanContext().TraceID(), sc.TraceID())
		assert.True(t, postIDs[sc.SpanID()], "the edge's traceparent names a POST span")
		delete(postIDs, sc.SpanID())
	}
	assert.Equal(t, len(posts), delivered)
	assert.Empty(t, postIDs, "every POST span reached the edge")

	m := tel.metrics(t)
	get := targetotel.OperationKey.String("GetOffers")
	hist := m["target.client.call.duration"].Data.(metricdata.Histogram[float64])
	counts := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		a := setAttrs(dp.Attributes)
		counts[a[targetotel.OperationKey].AsString()+"/"+a[targetotel.DecisioningMethodKey].AsString()+"/"+a[targetotel.OutcomeKey].AsString()] += dp.Count
	}
	assert.Equal(t, map[string]uint64{
		"GetOffers/server-side/success":         calls - calls/5,
		"GetOffers/on-device/success":           calls / 5,
		"SendNotifications/server-side/success": uint64(notifyCalls),
	}, counts)
	assert.Equal(t, int64(3), sumOf(t, m["target.client.retries"]))
	assert.Equal(t, int64(len(posts)), sumOf(t, m["target.client.attempts"]))
	assert.Equal(t, int64(3), sumOf(t, m["target.client.attempts"], targetotel.OutcomeKey.String("error")))
	assert.Equal(t, int64(0), sumOf(t, m["target.client.calls.active"], get))
	var notifications int64
	for _, d := range tr.named["target.decide"] {
		notifications += attrs(d.Attributes())[targetotel.NotificationCountKey].AsInt64()
	}
	assert.Equal(t, int64(2*notifyCalls), notifications, "one display notification per executed mbox")
	assert.Equal(t, notifications, sumOf(t, m["target.client.notifications"], targetotel.NotificationStateKey.String("queued")))
	assert.Equal(t, notifications, sumOf(t, m["target.client.notifications"], targetotel.NotificationStateKey.String("sent")))
	assert.NotContains(t, m, "target.client.errors")
	gauge := age.Data.(metricdata.Gauge[float64])
	require.Len(t, gauge.DataPoints, 1)
	assert.GreaterOrEqual(t, gauge.DataPoints[0].Value, 0.0)
	assert.NotContains(t, m, "target.client.artifact.age", "no series after Close")

	downloads := tr.named["target.artifact.download"]
	require.Len(t, downloads, 1)
	assert.Equal(t, int64(200), attrs(downloads[0].Attributes())["http.response.status_code"].AsInt64())
	assert.False(t, downloads[0].Parent().IsValid())
}

// TestFailuresAreRecorded: a call whose attempts all fail, one the edge
// rejects and one with invalid options each end their span with an error
// status and error.type, and count under their kind.
func TestFailuresAreRecorded(t *testing.T) {
	tel := newTelemetry(t)
	c, srv := setup(t, tel, targettest.Config{}, func(cfg *target.Config) {
		cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	})
	srv.ForceFault(targettest.FaultServerError, 2)
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: mboxRequest("hero")}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)

	srv.ForceFault(targettest.FaultReset, 2)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: mboxRequest("hero"), DecisioningMethod: target.ServerSide}).Await(t.Context())
	require.Error(t, err)
	require.False(t, errors.As(err, &api))

	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: mboxRequest("hero"), SessionID: "has space"}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption)

	tr := newTree(tel.spans.Ended())
	calls := tr.named["target.GetOffers"]
	require.Len(t, calls, 3)
	kinds := map[string]int{}
	for _, cs := range calls {
		assert.Equal(t, codes.Error, cs.Status().Code)
		require.NotEmpty(t, cs.Events())
		assert.Equal(t, "exception", cs.Events()[0].Name)
		kinds[attrs(cs.Attributes())["error.type"].AsString()]++
	}
	assert.Equal(t, map[string]int{"api": 1, "transport": 1, "invalid_option": 1}, kinds)
	var withPosts []int
	for _, cs := range calls {
		withPosts = append(withPosts, len(tr.childrenNamed(cs, "POST")))
	}
	assert.ElementsMatch(t, []int{2, 2, 0}, withPosts)

	m := tel.metrics(t)
	for _, kind := range []string{"api", "transport", "invalid_option"} {
		assert.Equal(t, int64(1), sumOf(t, m["target.client.errors"], attribute.String("error.type", kind)), kind)
	}
	assert.Equal(t, int64(2), sumOf(t, m["target.client.retries"]))
}

// TestWithoutObserverNoTraceparent: a client without an Observer sends no
// traceparent, even from a traced context; the hook is what propagates.
func TestWithoutObserverNoTraceparent(t *testing.T) {
	tel := newTelemetry(t)
	srv := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	c, err := target.NewClient(srv.ClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, span := tel.handlerSpan(t.Context())
	_, err = c.GetOffers(ctx, target.GetOffersOptions{Request: mboxRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	span.End()
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Empty(t, reqs[0].Header.Get("traceparent"))
	assert.Len(t, tel.spans.Ended(), 1, "only the handler's span")
}

// TestConcurrentClientsShareObserver: one Observer serves clients used
// from many goroutines (run with -race).
func TestConcurrentClientsShareObserver(t *testing.T) {
	tel := newTelemetry(t)
	c1, _ := setup(t, tel, targettest.Config{})
	c2, _ := setup(t, tel, targettest.Config{})
	var wg sync.WaitGroup
	for i := range 40 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Go(func() {
			_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: mboxRequest("hero")}).Await(t.Context())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	m := tel.metrics(t)
	hist := m["target.client.call.duration"].Data.(metricdata.Histogram[float64])
	var n uint64
	for _, dp := range hist.DataPoints {
		n += dp.Count
	}
	assert.Equal(t, uint64(40), n)
}
