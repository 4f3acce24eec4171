package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// rejectingEdge answers every request with a 400, which the queue does not
// retry: every notification is dropped at once.
func rejectingEdge(t *testing.T, edit func(*target.Config)) *target.Client {
	t.Helper()
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":400,"message":"bad"}`, http.StatusBadRequest)
	}))
	t.Cleanup(edge.Close)
	cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(edge.URL, "http://"), Insecure: true}
	edit(&cfg)
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func oneNotification(id string) target.SendNotificationsOptions {
	return target.SendNotificationsOptions{Request: target.DeliveryRequest{Notifications: []target.Notification{
		{ID: id, Type: target.MetricTypeClick, Mbox: &target.NotificationMbox{Name: "a"}},
	}}}
}

// TestCloseFromNotificationCallbacks: Client.Close called from OnDropped,
// from the ErrCallback of a SendNotifications call the queue settles, or
// from the Observer's event of the queue's request, returns (nil, waiting for nothing) instead of waiting for the goroutine
// it runs on; the client is closed after it, and a Close from elsewhere
// then returns too.
func TestCloseFromNotificationCallbacks(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"OnDropped", "ErrCallback", "Observer.AttemptDone"} {
		t.Run(where, func(t *testing.T) {
			t.Parallel()
			closed := make(chan error, 1)
			var c *target.Client
			closeFromCallback := func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				closed <- c.Close(ctx)
			}
			c = rejectingEdge(t, func(cfg *target.Config) {
				switch where {
				case "OnDropped":
					cfg.Notifications.OnDropped = func([]target.Notification, error) { closeFromCallback() }
				case "Observer.AttemptDone":
					cfg.Observer = &target.Observer{AttemptDone: func(context.Context, *target.AttemptEvent) { closeFromCallback() }}
				}
			})
			opts := oneNotification("n")
			if where == "ErrCallback" {
				opts.ErrCallback = func(error) { closeFromCallback() }
			}
			f := c.SendNotifications(t.Context(), opts)
			select {
			case err := <-closed:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("Close from " + where + " did not return")
			}
			_, err := f.Await(t.Context())
			var apiErr *target.APIError
			require.ErrorAs(t, err, &apiErr, "the call settled with the edge's answer")

			_, err = c.SendNotifications(t.Context(), oneNotification("late")).Await(t.Context())
			require.ErrorIs(t, err, target.ErrClientClosed, "the client is closed")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			require.NoError(t, c.Close(ctx))
		})
	}
}

// TestOnDroppedPanicLoggedAsOnDropped: a panic in OnDropped is logged
// under its own name, not as a Callback's, and not handed to
// OnCallbackPanic, which is for Callback and ErrCallback.
func TestOnDroppedPanicLoggedAsOnDropped(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	var hooked atomic.Bool
	c := rejectingEdge(t, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.OnCallbackPanic = func(*future.PanicError) { hooked.Store(true) }
		cfg.Notifications.OnDropped = func([]target.Notification, error) { panic(errors.New("bug in OnDropped")) }
	})
	_, err := c.SendNotifications(t.Context(), oneNotification("n")).Await(t.Context())
	require.Error(t, err)
	require.NoError(t, c.Close(t.Context()))
	out := logs.String()
	assert.Contains(t, out, `msg="target: recovered a panic in NotificationsConfig.OnDropped"`)
	assert.Contains(t, out, "bug in OnDropped")
	assert.NotContains(t, out, "Callback or ErrCallback")
	assert.False(t, hooked.Load())
}

// scriptedEdge is a Delivery edge that answers its n-th request as
// script[n] says ("503", "429", "reset-after", "reset-before", then "ok"
// once the script is used up), forwarding what it accepts to a local edge.
// accepted counts, per notification id, the requests the edge took in: all
// but the 5xx, 429 and reset-before ones.
type scriptedEdge struct {
	edge     *targettest.Server
	mu       sync.Mutex
	script   []string
	requests int
	accepted map[string]int
}

func (s *scriptedEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req target.DeliveryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	step := "ok"
	if s.requests < len(s.script) {
		step = s.script[s.requests]
	}
	s.requests++
	if step == "ok" || step == "reset-after" {
		for _, n := range req.Notifications {
			s.accepted[n.ID]++
		}
	}
	s.mu.Unlock()
	switch step {
	case "503":
		http.Error(w, `{"status":503,"message":"unavailable"}`, http.StatusServiceUnavailable)
	case "429":
		http.Error(w, `{"status":429,"message":"slow down"}`, http.StatusTooManyRequests)
	case "reset-before", "reset-after":
		// The connection breaks before an answer: the client sees a
		// network error, whether or not the edge took the request in.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
		}
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.edge.ServeHTTP(w, r)
	}
}

// TestNotificationDuplicatesOnlyAfterANetworkError: a notification the
// edge answered with 5xx or 429 is retried and taken in once; it is taken
// in twice only in the documented case, a connection that broke after the
// edge took the request in; a connection that broke before is not a
// duplicate either.
func TestNotificationDuplicatesOnlyAfterANetworkError(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		script []string
		want   int // times each notification is taken in
	}{
		"5xx and 429":       {[]string{"503", "429", "503", "429"}, 1},
		"reset before":      {[]string{"reset-before", "503"}, 1},
		"reset after (doc)": {[]string{"503", "reset-after"}, 2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			local := targettest.NewServer(targettest.Config{NoCluster: true})
			t.Cleanup(local.Close)
			s := &scriptedEdge{edge: local, script: tc.script, accepted: map[string]int{}}
			front := httptest.NewServer(s)
			t.Cleanup(front.Close)
			cfg := local.ClientConfig()
			cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
			cfg.HTTPClient = nil
			cfg.Timeout = 30 * time.Second
			cfg.Retry = target.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
			cfg.Notifications = target.NotificationsConfig{MaxAttempts: 10}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)

			opts := oneNotification("a")
			opts.Request.Notifications = append(opts.Request.Notifications, oneNotification("b").Request.Notifications...)
			_, err = c.SendNotifications(t.Context(), opts).Await(t.Context())
			require.NoError(t, err)
			require.NoError(t, c.Close(t.Context()))
			s.mu.Lock()
			defer s.mu.Unlock()
			assert.Equal(t, len(tc.script)+1, s.requests, "every scripted failure was retried")
			assert.Equal(t, map[string]int{"a": tc.want, "b": tc.want}, s.accepted)
		})
	}
}

// TestNotificationQueueOf10kBoundedUnderRace is the memory bound of the
// default 10,000-notification queue with the edge down, also under the
// race detector: the heap after GC with the queue full is within a bound
// per queued notification, and does not grow while 50,000 more are
// refused.
func TestNotificationQueueOf10kBoundedUnderRace(t *testing.T) {
	// Not parallel: it compares heap sizes.
	edge := targettest.NewServer(targettest.Config{NoCluster: true, Faults: targettest.Faults{ServerError: 1}, RecordLimit: -1})
	t.Cleanup(edge.Close)
	var full, closed atomic.Int64
	c, _ := setupWith(t, edge, func(cfg *target.Config) {
		cfg.Notifications = target.NotificationsConfig{
			MaxAttempts: 1000, RetryFor: time.Hour, // nothing leaves the queue by itself
			OnDropped: func(ns []target.Notification, err error) {
				switch {
				case errors.Is(err, target.ErrNotificationQueueFull):
					full.Add(int64(len(ns)))
				case errors.Is(err, target.ErrClientClosed):
					closed.Add(int64(len(ns)))
				}
			},
		}
	})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			ns := make([]target.Notification, 10)
			for j := range ns {
				ns[j] = target.Notification{ID: fmt.Sprintf("n-%d-%d", i, j), Type: target.MetricTypeClick, Tokens: []string{strings.Repeat("t", 100)}}
			}
			f := c.SendNotifications(context.Background(), target.SendNotificationsOptions{
				Request: target.DeliveryRequest{Notifications: ns}, SessionID: fmt.Sprintf("v-%d", i%50),
			})
			if i >= target.DefaultNotificationQueueSize/10 {
				_, err := f.Peek()
				require.ErrorIs(t, err, target.ErrNotificationQueueFull, "call %d is refused at once", i)
			}
		}
	}
	empty := heap()
	const calls = target.DefaultNotificationQueueSize / 10
	send(0, calls)
	fullHeap := heap()
	send(calls, calls+5000)
	after := heap()
	perNotification := float64(fullHeap-min(empty, fullHeap)) / target.DefaultNotificationQueueSize
	ratio := float64(after) / float64(fullHeap)
	t.Logf("race=%v: heap after GC %d bytes empty, %d with 10,000 queued (%.0f bytes each), %d after 50,000 more refused (x%.2f)",
		target.RaceDetector, empty, fullHeap, perNotification, after, ratio)
	assert.EqualValues(t, 50000, full.Load(), "every refused notification reported")
	assert.Less(t, perNotification, 4096.0, "a queued notification costs a bounded size")
	assert.Less(t, ratio, 1.25, "refused notifications are not kept")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.Close(ctx), context.DeadlineExceeded)
	// Close's ctx has ended: OnDropped is called, not waited for.
	assert.Eventually(t, func() bool { return closed.Load() == target.DefaultNotificationQueueSize }, time.Minute, time.Millisecond, "what was left is reported when Close gives up")
}

// TestCloseWithQueueLeavesNoGoroutine: Close with a short ctx, a non-empty
// queue and the edge down (refusing connections, or taking requests in and
// never answering) returns, reports what it dropped, and leaves no
// goroutine behind.
func TestCloseWithQueueLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak.VerifyNone sees every goroutine of the process.
	for _, down := range []string{"refusing", "hanging"} {
		t.Run(down, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			stop := make(chan struct{})
			edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-stop:
				}
			}))
			addr := strings.TrimPrefix(edge.URL, "http://")
			if down == "refusing" {
				edge.Close()
			}
			var dropped atomic.Int64
			cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: addr, Insecure: true, Timeout: time.Minute}
			cfg.Notifications = target.NotificationsConfig{
				MaxAttempts: 1000, RetryFor: time.Hour,
				OnDropped: func(ns []target.Notification, err error) {
					assert.ErrorIs(t, err, target.ErrClientClosed)
					dropped.Add(int64(len(ns)))
				},
			}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			var fs []*future.Future[*target.Response]
			for i := range 100 {
				opts := oneNotification(fmt.Sprintf("n-%d", i))
				opts.SessionID = fmt.Sprintf("v-%d", i%30)
				fs = append(fs, c.SendNotifications(t.Context(), opts))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			returned := make(chan error, 1)
			go func() { returned <- c.Close(ctx) }()
			select {
			case err := <-returned:
				require.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(30 * time.Second):
				t.Fatal("Close did not return after its ctx ended")
			}
			for i, f := range fs {
				_, err := f.Peek()
				require.ErrorIs(t, err, target.ErrClientClosed, "call %d settled before Close returned", i)
			}
			// Close's ctx has ended: OnDropped is called, not waited for.
			assert.Eventually(t, func() bool { return dropped.Load() == 100 }, time.Minute, time.Millisecond)
			close(stop)
			if down == "hanging" {
				edge.Close()
			}
		})
	}
}
