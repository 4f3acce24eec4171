package target_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// rtRepro skips a red-team reproduction unless RT_REPRO=1: each one fails
// on the code it was written against.
func rtRepro(t *testing.T, finding int) {
	t.Helper()
	if os.Getenv("RT_REPRO") == "" {
		t.Skipf("red team: reproduces finding %d (RT_REPRO=1 to run)", finding)
	}
}

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

// TestRTLoggerPanicInDropLeavesCallUnsettled: the queue's drop claims the
// calls, then logs "target: notifications dropped" through Config.Logger
// (user code), then settles them. A handler that panics (or calls
// runtime.Goexit) there sends the sender into rescue, whose claim finds
// the calls claimed already and so settles nothing: the SendNotifications
// future never settles. Expected: it settles once (with the 503's error or
// a *future.PanicError), as it does when the panic comes from an Observer.
// Close(ctx) returns nil meanwhile, although it promises every queued call
// settled. Before obsgoexit the same panic ended the program.
func TestRTLoggerPanicInDropLeavesCallUnsettled(t *testing.T) {
	rtRepro(t, 2)
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
			})
			f := c.SendNotifications(t.Context(), oneNotification("n-1"))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			closeErr := c.Close(ctx)
			select {
			case <-f.Done():
			default:
				t.Errorf("Close returned %v with the call unsettled", closeErr)
			}
			_, err := f.Await(ctx)
			require.NotErrorIs(t, err, context.DeadlineExceeded, "the call never settled")
			require.Error(t, err)
		})
	}
}
