package target_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// closingHandler calls Close on the client once, from the first debug
// record it handles.
type closingHandler struct {
	once   *sync.Once
	client *target.Client
	closed chan error
}

func (h *closingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *closingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *closingHandler) WithGroup(string) slog.Handler            { return h }
func (h *closingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelDebug {
		h.once.Do(func() { h.closed <- h.client.Close(context.Background()) })
	}
	return nil
}

// TestRTDebugHandlerCallsClose: a Logger's handler that calls Close from
// a debug record of a call (on-device: on the deciding goroutine; remote:
// on the call's) neither hangs the call nor Close.
func TestRTDebugHandlerCallsClose(t *testing.T) {
	if os.Getenv("RTCBFIX") == "" {
		t.Skip("red team: probe of rt-cbfix (set RTCBFIX=1)")
	}
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	for _, method := range []target.DecisioningMethod{target.OnDevice, target.ServerSide} {
		t.Run(string(method), func(t *testing.T) {
			h := &closingHandler{once: new(sync.Once), closed: make(chan error, 1)}
			cfg := edge.ClientConfig()
			cfg.HTTPClient = &http.Client{Transport: inProcess{edge}}
			cfg.Logger = slog.New(h)
			cfg.DecisioningMethod = method
			if method == target.OnDevice {
				cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact)}
			}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			h.client = c
			done := make(chan error, 1)
			go func() {
				_, err := c.GetOffers(context.Background(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(context.Background())
				done <- err
			}()
			select {
			case err := <-done:
				t.Logf("%s: call: %v", method, err)
			case <-time.After(20 * time.Second): // a guard against hanging, not a timing
				t.Fatal("the call hangs: its debug record's handler is in Close")
			}
			select {
			case err := <-h.closed:
				t.Logf("%s: Close from the handler: %v", method, err)
			case <-time.After(20 * time.Second): // a guard against hanging, not a timing
				t.Fatal("Close from the handler hangs")
			}
		})
	}
}
