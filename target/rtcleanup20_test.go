package target_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// funcHandler runs fn for each record of a recovered panic.
type funcHandler struct{ fn func() }

func (h funcHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h funcHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "target: recovered a panic in ") {
		h.fn()
	}
	return nil
}
func (h funcHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h funcHandler) WithGroup(string) slog.Handler      { return h }

// Red team finding 1: a Logger handler that calls Close while recording
// the panic of a SendNotifications Callback (which runs on the
// notification queue's callback goroutine, where Close "waits for
// nothing") now runs on logContained's goroutine, which Close does not
// know as a callback's: Close waits for the queue, the queue for the
// callback, the callback for the log goroutine. On main, Close returned nil
// at once.
func TestRTCloseFromLoggerDuringCallbackPanic(t *testing.T) {
	rtFindings(t, 1)
	t.Parallel()
	closed := make(chan error, 1)
	var c *target.Client
	c, _ = setup(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.Logger = slog.New(funcHandler{fn: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			closed <- c.Close(ctx)
		}})
	})
	f := c.SendNotifications(t.Context(), target.SendNotificationsOptions{
		Request:  target.DeliveryRequest{Notifications: []target.Notification{{ID: "n1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t"}}}},
		Callback: func(*target.Response) { panic("callback bug") },
	})
	_, err := f.Await(t.Context())
	require.NoError(t, err)
	select {
	case err := <-closed:
		require.NoError(t, err, "Close from the Logger, while recording a callback's panic, waited for the callback")
	case <-time.After(10 * time.Second):
		t.Fatal("Close from the Logger never returned")
	}
}

// Red team finding 2 (also on main): OnCallbackPanic that calls runtime.Goexit (as
// t.FailNow / require.* do in a test's hook) on the caller's goroutine.
func TestRTHookGoexitSync(t *testing.T) {
	rtFindings(t, 2)
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.OnCallbackPanic = func(*future.PanicError) { runtime.Goexit() }
	})
	returned := make(chan bool, 1)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		c.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) { panic("x") }})
		ok = true
	}()
	require.True(t, <-returned, "GetOffers never returned: OnCallbackPanic's Goexit ended its caller")
}

type badErr struct{}

func (badErr) Error() string { panic("Error method bug") }

// Red team probe 3: a blocking handler does not stop a remote call from
// settling; a panic value whose Error panics reaches the hook; many
// callbacks panicking at once (-race).
func TestRTLoggerBlocksAndOddValues(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var logs syncBuffer
	hooked := make(chan *future.PanicError, 64)
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		text := slog.NewTextHandler(&logs, nil)
		cfg.Logger = slog.New(funcHandler{fn: func() { <-release }})
		_ = text
		cfg.OnCallbackPanic = func(p *future.PanicError) { hooked <- p }
	})
	f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), Callback: func(*target.Response) { panic(badErr{}) }})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := f.Await(ctx)
	require.NoError(t, err, "a blocked Logger held the call's outcome")
	close(release)
	select {
	case p := <-hooked:
		require.Equal(t, badErr{}, p.Value)
	case <-ctx.Done():
		t.Fatal("hook never ran")
	}
	const n = 20
	fs := make([]*future.Future[*target.Response], n)
	for i := range fs {
		fs[i] = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), Callback: func(*target.Response) { panic(i) }})
	}
	for _, f := range fs {
		_, err := f.Await(ctx)
		require.NoError(t, err)
	}
	for range n {
		select {
		case <-hooked:
		case <-ctx.Done():
			t.Fatal("a hook never ran")
		}
	}
}

// Red team probe 4: no goroutine is left after a Logger that panics or
// Goexits while recording callback panics (goleak; not parallel).
func TestRTLoggerFailsNoLeak(t *testing.T) {
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			edge := targettest.NewServer(targettest.Config{Offers: offers})
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			defer edge.Close()
			cfg := edge.ClientConfig()
			fn := func() { panic("handler bug") }
			if how == "Goexit" {
				fn = runtime.Goexit
			}
			cfg.Logger = slog.New(funcHandler{fn: fn})
			cfg.OnCallbackPanic = func(*future.PanicError) { panic("hook bug") }
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			for range 5 {
				_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), Callback: func(*target.Response) { panic("cb") }}).Await(t.Context())
				require.NoError(t, err)
				c.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) { panic("sync") }})
			}
			require.NoError(t, c.Close(t.Context()))
			c.CloseIdleConnections()
		})
	}
}

func rtFindings(t *testing.T, n int) {
	if os.Getenv("RT_FINDINGS") == "" {
		t.Skipf("red team: reproduces finding %d (set RT_FINDINGS=1 to run)", n)
	}
}
