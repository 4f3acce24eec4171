package target_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestCloseBoundedByContextWhileNotificationCallbackBlocks: Close(ctx)
// returns an error wrapping ctx's once ctx ends although a
// SendNotifications Callback, or OnDropped, blocks on the queue's
// goroutine; what was still queued is dropped (ErrClientClosed) and
// settled before Close returns, and once the user's code returns no
// goroutine is left.
func TestCloseBoundedByContextWhileNotificationCallbackBlocks(t *testing.T) {
	// Not parallel: goleak.VerifyNone sees every goroutine of the process.
	for _, where := range []string{"Callback", "OnDropped"} {
		t.Run(where, func(t *testing.T) {
			var cfg target.Config
			var closeEdge func()
			if where == "Callback" {
				edge := targettest.NewServer(targettest.Config{})
				closeEdge = edge.Close
				cfg = edge.ClientConfig()
			} else {
				edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					http.Error(w, `{"status":400,"message":"bad"}`, http.StatusBadRequest)
				}))
				closeEdge = edge.Close
				cfg = target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(edge.URL, "http://"), Insecure: true}
			}
			// The edge's connections end with it, before goleak looks.
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			defer closeEdge()

			unblock := make(chan struct{})
			ran := make(chan struct{})
			var calls, dropped atomic.Int64
			block := func() {
				if calls.Add(1) == 1 {
					close(ran)
				}
				<-unblock
			}
			cfg.Notifications.OnDropped = func(ns []target.Notification, err error) {
				dropped.Add(int64(len(ns)))
				if where == "OnDropped" {
					block()
				}
			}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			opts := oneNotification("n-1")
			if where == "Callback" {
				opts.Callback = func(*target.Response) { block() }
			}
			first := c.SendNotifications(t.Context(), opts)
			<-ran
			// Queued while the first call's round is held by the user's
			// code: Close drops it.
			later := c.SendNotifications(t.Context(), oneNotification("n-2"))

			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			returned := make(chan error, 1)
			go func() { returned <- c.Close(ctx) }()
			select {
			case err := <-returned:
				require.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(30 * time.Second):
				close(unblock)
				t.Fatalf("Close did not return after its ctx ended while %s blocked", where)
			}
			_, err = later.Peek()
			assert.ErrorIs(t, err, target.ErrClientClosed, "the call still queued is dropped before Close returns")
			_, err = first.Peek()
			if where == "Callback" {
				assert.NoError(t, err, "the first call was delivered")
				assert.Eventually(t, func() bool { return dropped.Load() == 1 }, time.Minute, time.Millisecond, "the call still queued is reported")
			} else {
				assert.Error(t, err, "the first call was refused")
				assert.Eventually(t, func() bool { return dropped.Load() == 2 }, time.Minute, time.Millisecond, "each call is reported")
			}
			close(unblock)
			assert.NoError(t, c.Close(t.Context()), "a later Close has nothing left to wait for")
			_, err = first.Await(t.Context())
			if where == "Callback" {
				assert.NoError(t, err)
				assert.EqualValues(t, 1, dropped.Load(), "the call still queued is reported once")
			} else {
				assert.Error(t, err)
				assert.EqualValues(t, 2, dropped.Load(), "each call is reported once")
			}
			c.CloseIdleConnections()
		})
	}
}
