package target_test

import (
	"context"
	"log/slog"
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

type badErr struct{}

func (badErr) Error() string { panic("Error method bug") }

// A blocking handler does not stop a remote call from
// settling; a panic value whose Error panics reaches the hook; many
// callbacks panicking at once (-race).
func TestLoggerBlockingOrOddPanicValues(t *testing.T) {
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

// No goroutine is left after a Logger that panics or
// Goexits while recording callback panics (goleak; not parallel).
func TestLoggerFailuresLeaveNoGoroutine(t *testing.T) {
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
