package target_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestOnDroppedPanicOrGoexit: an OnDropped that panics or calls
// runtime.Goexit costs neither the call's future (it settles with the
// drop's error) nor the queue (its room is freed, the next call is
// accepted and settles too), and Close delivers nothing left.
func TestOnDroppedPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]func(){
		"panic":  func() { panic("user bug") },
		"goexit": func() { runtime.Goexit() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, `{"status":400,"message":"bad"}`, http.StatusBadRequest)
			}))
			t.Cleanup(edge.Close)
			cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(edge.URL, "http://"), Insecure: true}
			cfg.Notifications.QueueSize = 1
			cfg.Notifications.OnDropped = func([]target.Notification, error) { bad() }
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			opts := target.SendNotificationsOptions{Request: target.DeliveryRequest{Notifications: []target.Notification{
				{ID: "n", Type: target.MetricTypeClick, Mbox: &target.NotificationMbox{Name: "a"}},
			}}}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			for i := range 3 {
				_, err := c.SendNotifications(ctx, opts).Await(ctx)
				require.Error(t, err, "call %d", i)
				require.NotErrorIs(t, err, context.DeadlineExceeded, "call %d: its future never settled", i)
				require.NotErrorIs(t, err, target.ErrNotificationQueueFull, "call %d: the dropped call's room was not freed", i)
			}
			require.NoError(t, c.Close(ctx))
		})
	}
}
