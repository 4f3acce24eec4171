package target_test

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// hookHandler is a slog handler that runs fn for the records whose
// message is msg, and discards everything.
type hookHandler struct {
	msg string
	fn  func()
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hookHandler) WithGroup(string) slog.Handler      { return h }

// TestLoggerFailingOnDropStillSettles: a Logger whose handler panics or
// calls runtime.Goexit on "target: notifications dropped" (user code,
// run while the queue holds the dropped calls) does not leave the call
// unsettled or its room in the queue taken, and Close does not return
// with it unsettled. Before the fix the call never settled (the drop had
// claimed it, so rescue settled nothing) and Close returned nil.
func TestLoggerFailingOnDropStillSettles(t *testing.T) {
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			fn := func() { panic("handler bug") }
			if how == "Goexit" {
				fn = runtime.Goexit
			}
			c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
				cfg.HTTPClient = &http.Client{Transport: &status503{}}
				cfg.Logger = slog.New(hookHandler{msg: "target: notifications dropped", fn: fn})
				cfg.Retry = target.RetryPolicy{MaxAttempts: 1}
				cfg.Notifications.MaxAttempts = 1
				cfg.Notifications.QueueSize = 1
			})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			for i := range 2 {
				// The second fits only if the first gave its room back.
				f := c.SendNotifications(t.Context(), oneNotification("n-1"))
				_, err := f.Await(ctx)
				require.NotErrorIs(t, err, context.DeadlineExceeded, "call %d never settled", i)
				require.NotErrorIs(t, err, target.ErrNotificationQueueFull, "call %d", i)
				require.Error(t, err)
			}
			f := c.SendNotifications(t.Context(), oneNotification("n-3"))
			closeErr := c.Close(ctx)
			select {
			case <-f.Done():
			default:
				t.Fatalf("Close returned %v with the call unsettled", closeErr)
			}
		})
	}
}
