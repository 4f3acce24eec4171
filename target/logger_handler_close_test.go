package target_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// closingHandler calls Close on the client once, from the first debug
// record it handles. It holds no lock across Close (see Config.Logger):
// the notification queue's records come to it while Close waits.
type closingHandler struct {
	once   atomic.Bool
	client atomic.Pointer[target.Client]
	closed chan error
}

func (h *closingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *closingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *closingHandler) WithGroup(string) slog.Handler            { return h }
func (h *closingHandler) Handle(_ context.Context, r slog.Record) error {
	if c := h.client.Load(); c != nil && r.Level == slog.LevelDebug && h.once.CompareAndSwap(false, true) {
		h.closed <- c.Close(context.Background())
	}
	return nil
}

// A Logger's handler that calls Close from a call's debug record (an
// on-device call's, on the caller's goroutine, while the decision's
// display notification is in the queue; a remote call's, on the call's
// goroutine) hangs neither the call nor Close, as Config.Logger says.
func TestLoggerHandlerCallsClose(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	for _, method := range []target.DecisioningMethod{target.OnDevice, target.ServerSide} {
		t.Run(string(method), func(t *testing.T) {
			h := &closingHandler{closed: make(chan error, 1)}
			cfg := edge.ClientConfig()
			cfg.HTTPClient = &http.Client{Transport: inProcess{edge}}
			cfg.Logger = slog.New(h)
			cfg.DecisioningMethod = method
			if method == target.OnDevice {
				cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact)}
			}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			h.client.Store(c)
			done := make(chan error, 1)
			go func() {
				_, err := c.GetOffers(context.Background(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(context.Background())
				done <- err
			}()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(20 * time.Second): // a guard against hanging, not a timing
				t.Fatal("the call hangs: its debug record's handler is in Close")
			}
			select {
			case err := <-h.closed:
				require.NoError(t, err)
			case <-time.After(20 * time.Second): // a guard against hanging, not a timing
				t.Fatal("Close from the handler hangs")
			}
		})
	}
}
