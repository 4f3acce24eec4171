package target_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// resendClient's edge holds the request of "n-warm" until release is
// closed (so that the calls queued meanwhile go out merged in the next
// round) and refuses with a 400 any request carrying "n-bad".
func resendClient(t *testing.T, edit func(*target.Config)) (*target.Client, chan struct{}, chan struct{}) {
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	release, warmArrived := make(chan struct{}), make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte(`"n-warm"`)) {
			close(warmArrived)
			<-release
		}
		if bytes.Contains(b, []byte(`"n-bad"`)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"status":400,"message":"bad token"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	if edit != nil {
		edit(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	return c, release, warmArrived
}

// queueRefusedBatch queues n-a, n-bad and n-b for one visitor behind the
// held n-warm, so that they go out merged and are refused, then lets the
// edge go on.
func queueRefusedBatch(t *testing.T, c *target.Client, release, warmArrived chan struct{}, onA func()) (fa, fbad, fb *future.Future[*target.Response]) {
	warm := oneNotification("n-warm")
	warm.SessionID = "s-warm"
	fw := c.SendNotifications(t.Context(), warm)
	<-warmArrived
	a, bad, b := oneNotification("n-a"), oneNotification("n-bad"), oneNotification("n-b")
	a.SessionID, bad.SessionID, b.SessionID = "s-1", "s-1", "s-1"
	fa = c.SendNotifications(t.Context(), a)
	if onA != nil {
		fa.OnComplete(func(*target.Response, error) { onA() })
	}
	fbad = c.SendNotifications(t.Context(), bad)
	fb = c.SendNotifications(t.Context(), b)
	close(release)
	_, err := fw.Await(t.Context())
	require.NoError(t, err)
	return fa, fbad, fb
}

// A runtime.Goexit in a re-sent call's callback must not leave the other
// calls of the refused batch unsent and unsettled.
func TestNotificationResendGoexitInCallback(t *testing.T) {
	c, release, warmArrived := resendClient(t, nil)
	_, fbad, fb := queueRefusedBatch(t, c, release, warmArrived, func() { runtime.Goexit() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, errBad := fbad.Await(ctx)
	var api *target.APIError
	require.ErrorAs(t, errBad, &api)
	require.Equal(t, http.StatusBadRequest, api.Status)
	_, errB := fb.Await(ctx)
	require.NoError(t, errB, "n-b must be sent and settled")
	require.NoError(t, c.Close(ctx))
}

// The same with a Goexit in Observer.CallDone for a re-sent call.
func TestNotificationResendGoexitInCallDone(t *testing.T) {
	var oks atomic.Int64
	c, release, warmArrived := resendClient(t, func(cfg *target.Config) {
		cfg.Observer = &target.Observer{CallDone: func(_ context.Context, e *target.CallEvent) {
			// The first is n-warm's; the second a re-sent call's.
			if e.Operation == target.OpSendNotifications && e.Err == nil && oks.Add(1) == 2 {
				runtime.Goexit()
			}
		}}
	})
	fa, fbad, fb := queueRefusedBatch(t, c, release, warmArrived, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, errA := fa.Await(ctx)
	_, errBad := fbad.Await(ctx)
	_, errB := fb.Await(ctx)
	require.NoError(t, errA)
	require.NoError(t, errB)
	var api *target.APIError
	require.ErrorAs(t, errBad, &api)
	require.NoError(t, c.Close(ctx))
}

// The calls of a refused batch go again all at once: the edge here holds
// each single until all of them are in flight, which calls re-sent one
// after another never are.
func TestNotificationResendInParallel(t *testing.T) {
	const calls = 4
	release, warmArrived := make(chan struct{}), make(chan struct{})
	var singles atomic.Int64
	allIn := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case bytes.Contains(b, []byte(`"n-warm"`)):
			close(warmArrived)
			<-release
		case bytes.Count(b, []byte(`"type"`)) > 1:
			w.WriteHeader(http.StatusBadRequest)
			return
		default:
			if singles.Add(1) == calls {
				close(allIn)
			}
			select {
			case <-allIn:
			case <-time.After(10 * time.Second):
				w.WriteHeader(http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":200,"requestId":"r"}`)
	}))
	t.Cleanup(front.Close)
	cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(front.URL, "http://"), Insecure: true}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	warm := oneNotification("n-warm")
	warm.SessionID = "s-warm"
	fw := c.SendNotifications(t.Context(), warm)
	<-warmArrived
	var fs []*future.Future[*target.Response]
	for i := range calls {
		o := oneNotification("n-" + string(rune('a'+i)))
		o.SessionID = "s-1"
		fs = append(fs, c.SendNotifications(t.Context(), o))
	}
	close(release)
	_, err = fw.Await(t.Context())
	require.NoError(t, err)
	for i, f := range fs {
		_, err := f.Await(t.Context())
		require.NoError(t, err, "call %d", i)
	}
	require.NoError(t, c.Close(t.Context()))
}

// The calls of a refused batch sent again alone share the queue's bound on
// requests in flight: 50 refused calls of one visitor must not open 50.
func TestNotificationResendBounded(t *testing.T) {
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	release, warmArrived := make(chan struct{}), make(chan struct{})
	var inFlight, peak, singles atomic.Int64
	gate := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case bytes.Contains(b, []byte(`"n-warm"`)):
			close(warmArrived)
			<-release
		case bytes.Count(b, []byte(`"type"`)) > 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"status":400,"message":"refused"}`)
			return
		default:
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			// Held until 16 are in flight at once, so that more than 16
			// would be seen if the re-send were not bounded.
			if singles.Add(1) == 16 {
				close(gate)
			}
			select {
			case <-gate:
			case <-r.Context().Done():
			}
			// Held a little longer so that an unbounded re-send's other
			// requests overlap these (the bound holds whatever the
			// timing; only the check's power depends on it).
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	warm := oneNotification("n-warm")
	warm.SessionID = "s-warm"
	fw := c.SendNotifications(t.Context(), warm)
	<-warmArrived
	var fs []*future.Future[*target.Response]
	for i := range 50 {
		o := oneNotification("n-" + strings.Repeat("x", i+1))
		o.SessionID = "s-1"
		fs = append(fs, c.SendNotifications(t.Context(), o))
	}
	close(release)
	_, err = fw.Await(t.Context())
	require.NoError(t, err)
	for _, f := range fs {
		_, err := f.Await(t.Context())
		require.NoError(t, err)
	}
	require.LessOrEqual(t, peak.Load(), int64(16), "requests in flight at once")
}
