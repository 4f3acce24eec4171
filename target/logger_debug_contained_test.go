package target_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// faultyHandler wants every record and panics, or calls runtime.Goexit,
// on each debug record; seen counts those.
type faultyHandler struct {
	goexit bool
	seen   *atomic.Int64
}

func (h faultyHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h faultyHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h faultyHandler) WithGroup(string) slog.Handler            { return h }
func (h faultyHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level != slog.LevelDebug {
		return nil
	}
	h.seen.Add(1)
	if h.goexit {
		runtime.Goexit()
	}
	panic("handler failed on " + r.Message)
}

// unavailableOnce answers 503 to the first request and like instantEdge
// after, so that a call retries once.
type unavailableOnce struct{ n atomic.Int64 }

func (u *unavailableOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.n.Add(1) > 1 {
		return instantEdge{}.RoundTrip(r)
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	const body = `{"status":503,"message":"busy"}`
	return &http.Response{
		StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// onOwnGoroutine runs fn on a goroutine of its own and reports how it
// ended: "returned", "panicked" or "goexit", so that a test sees a panic
// or runtime.Goexit that would otherwise end its own goroutine.
func onOwnGoroutine(fn func()) string {
	how := make(chan string, 1)
	go func() {
		returned := false
		defer func() {
			switch {
			case returned:
				how <- "returned"
			case recover() != nil:
				how <- "panicked"
			default:
				how <- "goexit"
			}
		}()
		fn()
		returned = true
	}()
	return <-how
}

// TestDebugLogHandlerFailureContained: a Logger handler that panics or
// calls runtime.Goexit on the SDK's own debug records ("target: request",
// "target: response", "target: retrying", "target: call", the bodies) does
// not reach the caller's goroutine or the SDK's, and changes no call's
// outcome: a remote call, one that retries, an on-device decision (made
// on the caller's goroutine) with its display notification, and a
// SendNotifications call through the queue all succeed, and goleak (in
// TestMain) finds nothing left running. Before, the panic failed a remote
// call with a *future.PanicError and came out of an on-device GetOffers,
// and a Goexit ended the caller's goroutine.
func TestDebugLogHandlerFailureContained(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"panic", "goexit"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Int64
			logger := slog.New(faultyHandler{goexit: mode == "goexit", seen: &seen})

			t.Run("remote", func(t *testing.T) {
				c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
					cfg.Logger = logger
					cfg.LogBodies = true
				})
				var r *target.Response
				var err error
				how := onOwnGoroutine(func() {
					r, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
				})
				require.Equal(t, "returned", how)
				require.NoError(t, err)
				_, ok := r.Mbox("hero")
				assert.True(t, ok)
			})

			t.Run("retry", func(t *testing.T) {
				rt := &unavailableOnce{}
				c, err := target.NewClient(target.Config{
					Client: "c", OrganizationID: "O@AdobeOrg", Logger: logger,
					HTTPClient: &http.Client{Transport: rt},
					Retry:      target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond},
				})
				require.NoError(t, err)
				defer c.Close(context.Background())
				var r *target.Response
				how := onOwnGoroutine(func() {
					r, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m")}).Await(t.Context())
				})
				require.Equal(t, "returned", how)
				require.NoError(t, err)
				assert.Equal(t, 2, r.Timings.Attempts)
				assert.EqualValues(t, 2, rt.n.Load())
			})

			t.Run("on-device", func(t *testing.T) {
				s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.Logger = logger })
				var r *target.Response
				var err error
				how := onOwnGoroutine(func() {
					r, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
				})
				require.Equal(t, "returned", how)
				require.NoError(t, err)
				assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
				n := s.notification(t) // through the queue
				require.NoError(t, n.err)
			})

			t.Run("notifications", func(t *testing.T) {
				c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Logger = logger })
				var err error
				how := onOwnGoroutine(func() {
					_, err = c.SendNotifications(t.Context(), oneNotification("n1")).Await(t.Context())
				})
				require.Equal(t, "returned", how)
				require.NoError(t, err)
			})
			assert.Positive(t, seen.Load(), "the handler saw debug records")
		})
	}
}
