package target_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestCloseBoundedByContextDuringArtifactCallback: Close(ctx) while
// OnArtifactDownloaded blocks returns ctx's error once ctx ends instead of
// waiting for the callback; once the callback returns, the polling
// goroutine ends (goleak checks it) and a later Close returns nil.
func TestCloseBoundedByContextDuringArtifactCallback(t *testing.T) {
	t.Parallel()
	cdn := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, testArtifact) })
	in := make(chan struct{})
	release := make(chan struct{})
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: "127.0.0.1:1", Insecure: true,
		DecisioningMethod: target.OnDevice,
		OnDevice: target.OnDeviceConfig{ArtifactLocation: cdn.URL + "/rules.json", OnArtifactDownloaded: func(string) {
			close(in)
			<-release
		}}})
	require.NoError(t, err)
	<-in
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Close(ctx) }()
	cancel()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		close(release)
		t.Fatal("Close ignored its ctx while an artifact callback blocked")
	}
	assert.ErrorIs(t, err, context.Canceled)
	close(release)
	assert.NoError(t, c.Close(t.Context()), "the polling ended once the callback returned")
}

// TestCloseFromGoroutineAnArtifactCallbackWaitsFor: an artifact callback
// that starts Close on another goroutine and waits for it (a shutdown
// handled elsewhere) does not deadlock: Close returns ctx's error when
// ctx ends, the callback returns, and nothing is left running.
func TestCloseFromGoroutineAnArtifactCallbackWaitsFor(t *testing.T) {
	t.Parallel()
	cdn := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, testArtifact) })
	var c *target.Client
	ready := make(chan struct{})
	done := make(chan error, 1)
	cfg := target.Config{Client: "acme", OrganizationID: "org", ServerDomain: "127.0.0.1:1", Insecure: true,
		DecisioningMethod: target.OnDevice,
		OnDevice: target.OnDeviceConfig{ArtifactLocation: cdn.URL + "/rules.json", OnArtifactDownloaded: func(string) {
			<-ready
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			ch := make(chan error, 1)
			go func() { ch <- c.Close(ctx) }()
			done <- <-ch
		}}}
	var err error
	c, err = target.NewClient(cfg)
	require.NoError(t, err)
	close(ready)
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Close from a goroutine the artifact callback waits for deadlocked")
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, c.Close(t.Context()))
}

// TestCloseFromSendNotificationsCallback: Close called from the Callback
// of a SendNotifications call that succeeded returns nil at once instead
// of waiting for the queue that runs the Callback; the client is closed
// after it and a later Close returns nil too.
func TestCloseFromSendNotificationsCallback(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{})
	done := make(chan error, 1)
	f := c.SendNotifications(t.Context(), target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: []target.Notification{{ID: "n1", Type: "display",
			Timestamp: time.Now().UnixMilli(), Tokens: []string{"tok-123456"}, Mbox: &target.NotificationMbox{Name: "hero"}}}},
		Callback:    func(*target.Response) { done <- c.Close(context.Background()) },
		ErrCallback: func(err error) { t.Errorf("the notification failed: %v", err); done <- nil },
	})
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Close from SendNotifications' Callback did not return")
	}
	_, err := f.Await(t.Context())
	require.NoError(t, err)
	_, err = c.SendNotifications(t.Context(), oneNotification("late")).Await(t.Context())
	require.ErrorIs(t, err, target.ErrClientClosed)
	require.NoError(t, c.Close(t.Context()))
}
