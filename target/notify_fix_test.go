package target_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
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
// or from the ErrCallback of a SendNotifications call the queue settles,
// returns (nil, waiting for nothing) instead of waiting for the goroutine
// it runs on; the client is closed after it, and a Close from elsewhere
// then returns too.
func TestCloseFromNotificationCallbacks(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"OnDropped", "ErrCallback"} {
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
				if where == "OnDropped" {
					cfg.Notifications.OnDropped = func([]target.Notification, error) { closeFromCallback() }
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
