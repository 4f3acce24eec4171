package target_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

type traceKey struct{}

// valueTransport checks that every request's context carries the caller's
// trace value, as an otelhttp transport would read it.
type valueTransport struct {
	next    http.RoundTripper
	missing atomic.Int64
}

func (v *valueTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Context().Value(traceKey{}) == nil {
		v.missing.Add(1)
	}
	return v.next.RoundTrip(r)
}

// TestNotificationsOutliveTheirHandlers: 10,000 notifications from
// handlers that return at once, which cancels their contexts, while the
// edge fails 10% of requests transiently: after Close, every notification
// was delivered exactly once (by id), with the handlers' context values.
func TestNotificationsOutliveTheirHandlers(t *testing.T) {
	// Not parallel: its 10,000 notifications would slow the timed calls of
	// the other tests on a shared machine.
	const visitors, perVisitor, perCall = 50, 40, 5 // 2,000 handler calls, 10,000 notifications
	edge := targettest.NewServer(targettest.Config{
		NoCluster:   true,
		RecordLimit: 100000,
		Seed:        7,
		Faults:      targettest.Faults{ServerError: 0.05, TooManyRequests: 0.02, Reset: 0.03},
	})
	t.Cleanup(edge.Close)
	var dropped atomic.Int64
	vt := &valueTransport{}
	cfg := edge.ClientConfig()
	cfg.HTTPClient = nil
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { vt.next = rt; return vt }
	cfg.Timeout = 10 * time.Second
	cfg.Notifications = target.NotificationsConfig{
		MaxAttempts: 10, // 10% failures: a batch is lost with odds of 1e-10
		OnDropped:   func(ns []target.Notification, _ error) { dropped.Add(int64(len(ns))) },
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), traceKey{}, r.URL.Query().Get("call"))
		var ns []target.Notification
		for id := range strings.SplitSeq(r.URL.Query().Get("ids"), ",") {
			ns = append(ns, target.Notification{ID: id, Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t-" + id}})
		}
		c.SendNotifications(ctx, target.SendNotificationsOptions{
			Request:   target.DeliveryRequest{Notifications: ns},
			SessionID: "visitor-" + r.URL.Query().Get("visitor"),
		})
		w.WriteHeader(http.StatusAccepted) // and return: r.Context() ends now
	}))
	t.Cleanup(site.Close)

	calls := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range calls {
				ids := make([]string, perCall)
				for j := range ids {
					ids[j] = fmt.Sprintf("n-%d-%d", i, j)
				}
				u := fmt.Sprintf("%s/?call=%d&visitor=%d&ids=%s", site.URL, i, i%visitors, strings.Join(ids, ","))
				resp, err := site.Client().Get(u)
				if !assert.NoError(t, err) {
					continue
				}
				_ = resp.Body.Close()
				assert.Equal(t, http.StatusAccepted, resp.StatusCode)
			}
		})
	}
	for i := range visitors * perVisitor {
		calls <- i
	}
	close(calls)
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.Close(ctx), "every notification delivered before Close returned")

	seen := map[string]int{}
	requests, failed := 0, 0
	for _, rec := range edge.Requests() {
		if rec.Fault != targettest.NoFault {
			failed++
			continue
		}
		requests++
		for _, n := range rec.Delivery.Notifications {
			seen[n.ID]++
		}
	}
	const total = visitors * perVisitor * perCall
	assert.Len(t, seen, total, "0 lost")
	for id, n := range seen {
		if n != 1 {
			t.Errorf("notification %s delivered %d times", id, n)
		}
	}
	assert.Zero(t, dropped.Load())
	assert.Zero(t, vt.missing.Load(), "every request carried its handler's context values")
	assert.Less(t, requests, visitors*perVisitor, "calls for one visitor are batched")
	t.Logf("%d notifications from %d handler calls: %d requests delivered them, %d failed attempts retried", total, visitors*perVisitor, requests, failed)
}

// TestNotificationQueueBoundedWhenEdgeDown: with the edge down the queue
// holds QueueSize notifications and refuses the rest, reporting each;
// memory does not grow with what is refused; Close with a deadline drops
// and reports what is left.
func TestNotificationQueueBoundedWhenEdgeDown(t *testing.T) {
	// Not parallel: it compares heap sizes.
	edge := targettest.NewServer(targettest.Config{NoCluster: true, Faults: targettest.Faults{ServerError: 1}, RecordLimit: -1})
	t.Cleanup(edge.Close)
	var full, closed atomic.Int64
	c, _ := setupWith(t, edge, func(cfg *target.Config) {
		cfg.Notifications = target.NotificationsConfig{
			QueueSize: 500, MaxAttempts: 1000, RetryFor: time.Hour, // nothing leaves the queue by itself
			OnDropped: func(ns []target.Notification, err error) {
				switch {
				case errors.Is(err, target.ErrNotificationQueueFull):
					full.Add(int64(len(ns)))
				case errors.Is(err, target.ErrClientClosed):
					closed.Add(int64(len(ns)))
				default:
					t.Errorf("dropped for %v", err)
				}
			},
		}
	})
	send := func(from, to int) {
		for i := from; i < to; i++ {
			ns := make([]target.Notification, 10)
			for j := range ns {
				ns[j] = target.Notification{ID: fmt.Sprintf("n-%d-%d", i, j), Type: target.MetricTypeClick, Tokens: []string{strings.Repeat("t", 200)}}
			}
			f := c.SendNotifications(context.Background(), target.SendNotificationsOptions{
				Request: target.DeliveryRequest{Notifications: ns}, SessionID: fmt.Sprintf("v-%d", i%20),
			})
			if i >= 50 {
				_, err := f.Peek()
				require.ErrorIs(t, err, target.ErrNotificationQueueFull, "call %d is refused at once", i)
			}
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	send(0, 50) // fills the queue
	before := heap()
	send(50, 2050)
	after := heap()
	assert.EqualValues(t, 2000*10, full.Load(), "every refused notification reported")
	ratio := float64(after) / float64(before)
	t.Logf("heap after GC: %d bytes with the queue full, %d after 20,000 more refused (x%.2f)", before, after, ratio)
	assert.Less(t, ratio, 1.5, "refused notifications are not kept")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := c.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// Once ctx has ended Close waits for no user code, OnDropped included:
	// it has been called for what was left, and returns on its own time.
	assert.Eventually(t, func() bool { return closed.Load() == 500 }, time.Minute, time.Millisecond, "what was left is reported when Close gives up")

	_, err = c.SendNotifications(t.Context(), target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: []target.Notification{{ID: "late", Type: target.MetricTypeClick}}},
	}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrClientClosed)
	assert.EqualValues(t, 501, closed.Load())
}

// setupWith is setup for an edge the test made itself.
func setupWith(t *testing.T, edge *targettest.Server, edit func(*target.Config)) (*target.Client, *targettest.Server) {
	t.Helper()
	cfg := edge.ClientConfig()
	edit(&cfg)
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, edge
}

// TestNotificationsBatchedPerVisitor: calls queued together for one
// visitor share a request; each future gets it.
func TestNotificationsBatchedPerVisitor(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{NoCluster: true})
	t.Cleanup(edge.Close)
	// Hold the first request so that the next calls queue up behind it.
	release, arrived := make(chan struct{}), make(chan struct{})
	var first sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first.Do(func() { close(arrived); <-release })
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Notifications.MaxBatch = 4
	c, err := target.NewClient(cfg)
	require.NoError(t, err)

	note := func(id, session string) *future.Future[*target.Response] {
		return c.SendNotifications(t.Context(), target.SendNotificationsOptions{
			Request:   target.DeliveryRequest{Notifications: []target.Notification{{ID: id, Type: target.MetricTypeClick}}},
			SessionID: session,
		})
	}
	fs := []*future.Future[*target.Response]{note("held", "a")}
	<-arrived // the queue's worker waits for this request's answer
	for i := range 6 {
		fs = append(fs, note(fmt.Sprintf("a-%d", i), "a"), note(fmt.Sprintf("b-%d", i), "b"))
	}
	close(release)
	for _, f := range fs {
		_, err := f.Await(t.Context())
		require.NoError(t, err)
	}
	require.NoError(t, c.Close(t.Context()))
	var sizes []int
	for _, rec := range edge.Requests() {
		sizes = append(sizes, len(rec.Delivery.Notifications))
		session := rec.Query.Get("sessionId")
		for _, n := range rec.Delivery.Notifications {
			assert.True(t, n.ID == "held" || strings.HasPrefix(n.ID, session+"-"), "%s in a request for %s", n.ID, session)
		}
	}
	assert.ElementsMatch(t, []int{1, 4, 2, 4, 2}, sizes, "one request per visitor and MaxBatch, after the held one")
	r, _ := fs[1].Peek()
	r2, _ := fs[3].Peek()
	assert.Same(t, r, r2, "calls batched together share the Response")
}

// TestNotificationWithEndedContext: the call a handler makes just as its
// request ends (the "call ended: context canceled") is delivered.
func TestNotificationWithEndedContext(t *testing.T) {
	t.Parallel()
	c, edge := setup(t, targettest.Config{})
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), traceKey{}, "v"))
	cancel()
	r, err := c.SendNotifications(ctx, target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: []target.Notification{{ID: "n1", Type: target.MetricTypeClick}}},
	}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "n1", r.Response.Notifications[0].ID)
	assert.Len(t, edge.Requests(), 1)
	require.NoError(t, c.Close(t.Context()))
}

func TestNotificationsConfigValidated(t *testing.T) {
	t.Parallel()
	for field, nc := range map[string]target.NotificationsConfig{
		"Notifications.QueueSize":   {QueueSize: -1},
		"Notifications.MaxBatch":    {MaxBatch: -1},
		"Notifications.MaxAttempts": {MaxAttempts: -1},
		"Notifications.RetryFor":    {RetryFor: -time.Second},
	} {
		_, err := target.NewClient(target.Config{Client: "c", OrganizationID: "o", Notifications: nc})
		var ce *target.ConfigError
		require.ErrorAs(t, err, &ce, field)
		assert.Equal(t, field, ce.Field)
	}
}
