package target_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestNotificationSpecLimitsCheckedLocally: a notification the edge would
// refuse for the spec's limits (an id longer than 200 characters, an
// impressionId longer than 128, an mbox without a name) fails at once
// with ErrInvalidOption, never reaching the queue where it would be
// merged with other calls' notifications.
func TestNotificationSpecLimitsCheckedLocally(t *testing.T) {
	t.Parallel()
	c, edge := setup(t, targettest.Config{Offers: offers})
	long := oneNotification(strings.Repeat("n", 201))
	impression := oneNotification("n-imp")
	impression.Request.Notifications[0].ImpressionID = strings.Repeat("i", 129)
	noName := oneNotification("n-noname")
	noName.Request.Notifications[0].Mbox.Name = ""
	for name, opts := range map[string]target.SendNotificationsOptions{"id": long, "impressionId": impression, "mbox name": noName} {
		opts.SessionID = "s-1"
		_, err := c.SendNotifications(t.Context(), opts).Await(t.Context())
		require.ErrorIs(t, err, target.ErrInvalidOption, name)
	}
	ok := oneNotification(strings.Repeat("n", 200))
	ok.SessionID = "s-1"
	_, err := c.SendNotifications(t.Context(), ok).Await(t.Context())
	require.NoError(t, err, "200 characters is within the limit")
	assert.Len(t, edge.Requests(), 1)
}

// TestNotificationRefusedBatchResentSeparately: when the edge refuses a
// request that merged several calls' notifications (a 400), each call is
// sent again alone, once: only the call at fault fails; the other's
// notification is delivered.
func TestNotificationRefusedBatchResentSeparately(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	release, warmArrived := make(chan struct{}), make(chan struct{})
	var merged atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if !assert.NoError(t, err) {
			return
		}
		if bytes.Contains(b, []byte(`"n-warm"`)) {
			// Holds the queue's first round while the test queues the
			// calls that the next round merges.
			close(warmArrived)
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		if bytes.Contains(b, []byte(`"n-good"`)) && bytes.Contains(b, []byte(`"n-bad"`)) {
			merged.Add(1)
		}
		if bytes.Contains(b, []byte(`"n-bad"`)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"status":400,"message":"notifications[1].tokens: invalid token"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	var dropped atomic.Int64
	cfg.Notifications.OnDropped = func(ns []target.Notification, _ error) {
		for _, n := range ns {
			assert.Equal(t, "n-bad", n.ID, "only the call at fault is dropped")
			dropped.Add(1)
		}
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	warm := oneNotification("n-warm")
	warm.SessionID = "s-warm"
	fw := c.SendNotifications(t.Context(), warm)
	<-warmArrived // the first round holds only this one
	good, bad := oneNotification("n-good"), oneNotification("n-bad")
	good.SessionID, bad.SessionID = "s-1", "s-1"
	fg := c.SendNotifications(t.Context(), good)
	fb := c.SendNotifications(t.Context(), bad)
	close(release)

	_, err = fw.Await(t.Context())
	require.NoError(t, err)
	_, err = fb.Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api, "the call at fault fails with the edge's answer")
	assert.Equal(t, http.StatusBadRequest, api.Status)
	_, err = fg.Await(t.Context())
	require.NoError(t, err, "the other call's notification is delivered")
	assert.Equal(t, int64(1), merged.Load(), "the calls were merged, then the bad one went alone")
	assert.Equal(t, int64(1), dropped.Load())
	var delivered []string
	for _, rec := range edge.Requests() {
		for _, n := range rec.Delivery.Notifications {
			delivered = append(delivered, n.ID)
		}
	}
	assert.ElementsMatch(t, []string{"n-warm", "n-good"}, delivered)
}
