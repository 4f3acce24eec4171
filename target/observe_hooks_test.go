package target_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestObserverNilStartContext: Start functions that return a nil context
// do not break the call: the work goes on with the caller's context and
// every Start is followed by one Done, server-side and on-device.
func TestObserverNilStartContext(t *testing.T) {
	t.Parallel()
	nilObserver := func(starts, dones *[3]atomic.Int32) *target.Observer {
		return &target.Observer{
			CallStart: func(context.Context, *target.CallEvent) context.Context { starts[0].Add(1); return nil },
			CallDone: func(ctx context.Context, _ *target.CallEvent) {
				assert.NotNil(t, ctx)
				dones[0].Add(1)
			},
			AttemptStart: func(context.Context, *target.AttemptEvent) context.Context { starts[1].Add(1); return nil },
			AttemptDone: func(ctx context.Context, _ *target.AttemptEvent) {
				assert.NotNil(t, ctx)
				dones[1].Add(1)
			},
			DecisionStart: func(context.Context, *target.DecisionEvent) context.Context { starts[2].Add(1); return nil },
			DecisionDone: func(ctx context.Context, _ *target.DecisionEvent) {
				assert.NotNil(t, ctx)
				dones[2].Add(1)
			},
		}
	}
	t.Run("server-side", func(t *testing.T) {
		var starts, dones [3]atomic.Int32
		c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Observer = nilObserver(&starts, &dones) })
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, [3]int32{1, 1, 0}, load(&starts))
		assert.Equal(t, load(&starts), load(&dones))
	})
	t.Run("on-device", func(t *testing.T) {
		var starts, dones [3]atomic.Int32
		s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.Observer = nilObserver(&starts, &dones) })
		_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
		require.NoError(t, err)
		require.NoError(t, s.notification(t).err)
		require.NoError(t, s.c.Close(context.Background()))
		assert.Equal(t, int32(2), starts[0].Load(), "the call and the SendNotifications call")
		assert.Equal(t, int32(1), starts[2].Load())
		assert.Equal(t, load(&starts), load(&dones))
	})
}

// TestObserverHeaderNonCanonicalKey: a header an observer sets straight in
// the map, in lower case, does not replace the client's own.
func TestObserverHeaderNonCanonicalKey(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Observer = &target.Observer{AttemptStart: func(ctx context.Context, e *target.AttemptEvent) context.Context {
			e.Header["x-request-id"] = []string{"observer-id"}
			e.Header["content-type"] = []string{"text/plain"}
			e.Header["traceparent"] = []string{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
			return ctx
		}}
	})
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	h := reqs[0].Header
	assert.Equal(t, []string{res.Request.RequestID}, h.Values("X-Request-Id"))
	assert.Equal(t, []string{"application/json"}, h.Values("Content-Type"))
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h.Get("Traceparent"))
}

func load(a *[3]atomic.Int32) [3]int32 { return [3]int32{a[0].Load(), a[1].Load(), a[2].Load()} }

// TestObserverInvalidMethod: a call with a method that is none reports
// "invalid", not the caller's text, so that the values are a fixed set.
func TestObserverInvalidMethod(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Observer = rec.observer() })
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), DecisioningMethod: "from-user-input"}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption)
	require.Len(t, rec.calls, 1)
	assert.Equal(t, target.DecisioningMethod("invalid"), rec.calls[0].Method)
	assert.Equal(t, target.ErrorKindInvalidOption, rec.calls[0].ErrorKind)
}

// TestObserverPanicsContained: a panicking Notifications or
// ArtifactDownload function, which run outside any call's future, is
// recovered and logged with its stack; the client goes on (the artifact
// is in use, the notification is delivered).
func TestObserverPanicsContained(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.DecisioningMethod = target.OnDevice
	sent := make(chan error, 1)
	cfg.OnDevice = target.OnDeviceConfig{
		ArtifactLocation:    edge.ArtifactURL(),
		PollingInterval:     -1,
		OnNotificationsSent: func(_ *target.Response, err error) { sent <- err },
	}
	cfg.Observer = &target.Observer{
		Notifications:    func(context.Context, target.NotificationEvent) { panic("notifications observer bug") },
		ArtifactDownload: func(context.Context, target.ArtifactEvent) { panic("artifact observer bug") },
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err, "the download's panicking observer does not stop the artifact")
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err, "the queued notification's panicking observer does not fail the call")
	select {
	case err := <-sent:
		require.NoError(t, err)
	case <-t.Context().Done():
		t.Fatal("no display notification was sent")
	}
	require.NoError(t, c.Close(context.Background()))
	out := logs.String()
	assert.Contains(t, out, "recovered a panic in Observer.ArtifactDownload")
	assert.Contains(t, out, "artifact observer bug")
	assert.Contains(t, out, "recovered a panic in Observer.Notifications")
	assert.Contains(t, out, "notifications observer bug")
	assert.Contains(t, out, "runtime/debug.Stack", "the stack is logged")
}

// TestObserverBackoffCancelled: a call cancelled while it waits to retry
// reports in AttemptDone the part of the wait that passed, not the wait
// the client chose, and no further attempt: cancelled as the wait starts
// (nothing passed), and 300 ms into it.
func TestObserverBackoffCancelled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		after    time.Duration // from the decision to retry to the cancellation
		min, max time.Duration // the Backoff reported
	}{
		{name: "at the start", after: 0, min: 0, max: 2 * time.Second},
		// The wait starts right after the client logs its decision: a
		// little less than 300 ms of it passed, and far less than the
		// 5 s or more the client chose.
		{name: "during the wait", after: 300 * time.Millisecond, min: 250 * time.Millisecond, max: 4 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var (
				mu       sync.Mutex
				attempts []target.AttemptEvent
			)
			cancelLater := func() {
				if tc.after == 0 {
					cancel()
					return
				}
				time.AfterFunc(tc.after, cancel)
			}
			c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
				cfg.Observer = &target.Observer{AttemptDone: func(_ context.Context, e *target.AttemptEvent) {
					mu.Lock()
					attempts = append(attempts, *e)
					mu.Unlock()
				}}
				// A wait of 5 to 10 s, well within the call's deadline;
				// the client logs its decision to retry before it waits.
				cfg.Timeout = time.Minute
				cfg.Retry = target.RetryPolicy{MaxAttempts: 3, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}
				cfg.Logger = slog.New(onMessage{"target: retrying", cancelLater})
			})
			srv.ForceFault(targettest.FaultServerError, 1)
			_, err := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
			require.ErrorIs(t, err, context.Canceled)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, attempts, 1, "no attempt after the cancelled wait")
			assert.Equal(t, http.StatusServiceUnavailable, attempts[0].Status)
			assert.GreaterOrEqual(t, attempts[0].Backoff, tc.min, "the time waited before the cancellation")
			assert.Less(t, attempts[0].Backoff, tc.max, "only the time waited before the cancellation (the client chose 5 s or more)")
			assert.Less(t, attempts[0].Duration, 2*time.Second, "the wait is not the attempt's time")
		})
	}
}

// onMessage is a slog handler that calls fn at each record with message
// msg, at every level.
type onMessage struct {
	msg string
	fn  func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }
