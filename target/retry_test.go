package target_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// inProcess is a RoundTripper that serves requests with the edge's handler
// directly, so that a client inside a synctest bubble runs its backoff on
// the bubble's fake clock.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// fakeClockClient returns an edge and a config whose client reaches the
// edge in process.
func fakeClockClient(t *testing.T, ecfg targettest.Config) (*targettest.Server, target.Config) {
	t.Helper()
	srv := targettest.NewServer(ecfg)
	t.Cleanup(srv.Close)
	cfg := srv.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: inProcess{srv}}
	return srv, cfg
}

func TestBackoffTiming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		faults   []targettest.Fault
		policy   target.RetryPolicy
		timeout  time.Duration
		min, max time.Duration // bounds of the fake time the call takes
		attempts int
		ok       bool
	}{
		{
			name:   "exponential with equal jitter",
			faults: []targettest.Fault{targettest.FaultServerError, targettest.FaultServerError, targettest.FaultServerError},
			policy: target.RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond},
			// waits in [50,100] + [100,200] + [200,400]
			min: 350 * time.Millisecond, max: 700 * time.Millisecond, attempts: 4, ok: true,
		},
		{
			name:   "capped at MaxBackoff",
			faults: []targettest.Fault{targettest.FaultServerError, targettest.FaultServerError, targettest.FaultServerError},
			policy: target.RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
			min:    150 * time.Millisecond, max: 300 * time.Millisecond, attempts: 4, ok: true,
		},
		{
			name:   "Retry-After honoured",
			faults: []targettest.Fault{targettest.FaultTooManyRequests},
			policy: target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
			min:    time.Second, max: time.Second, attempts: 2, ok: true,
		},
		{
			name:    "no wait past the deadline",
			faults:  []targettest.Fault{targettest.FaultTooManyRequests, targettest.FaultTooManyRequests},
			policy:  target.RetryPolicy{MaxAttempts: 3},
			timeout: 1500 * time.Millisecond,
			// The first Retry-After (1s) fits in the deadline; the second
			// would end past it, so the call gives up at once with the 429.
			min: time.Second, max: time.Second, attempts: 2, ok: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := fakeClockClient(t, targettest.Config{})
			cfg.Retry = tt.policy
			cfg.Timeout = tt.timeout
			for _, f := range tt.faults {
				srv.ForceFault(f, 1)
			}
			synctest.Test(t, func(t *testing.T) {
				c, err := target.NewClient(cfg)
				require.NoError(t, err)
				start := time.Now()
				res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
				took := time.Since(start)
				assert.GreaterOrEqual(t, took, tt.min)
				assert.LessOrEqual(t, took, tt.max)
				if tt.ok {
					require.NoError(t, err)
					assert.Equal(t, tt.attempts, res.Timings.Attempts)
				} else {
					var api *target.APIError
					require.ErrorAs(t, err, &api, "the last answer, not a timeout")
				}
			})
			assert.Len(t, srv.Requests(), tt.attempts)
		})
	}
}

// TestBackoffCancelled: cancelling during a backoff wait ends the call at
// once; the wait is a select on the context.
func TestBackoffCancelled(t *testing.T) {
	t.Parallel()
	srv, cfg := fakeClockClient(t, targettest.Config{})
	cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Second, MaxBackoff: time.Second}
	srv.ForceFault(targettest.FaultServerError, 1)
	synctest.Test(t, func(t *testing.T) {
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		f := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("a")})
		synctest.Wait() // the call is parked in its backoff wait
		cancel()
		_, err = f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		var api *target.APIError
		assert.NotErrorAs(t, err, &api, "the context's error, the 503 only in the text")
		assert.Zero(t, time.Since(start), "no fake time passed")
	})
	assert.Len(t, srv.Requests(), 1)
}

// TestGetAttributesCancelAbortsRequest: cancelling the attributes future
// (a Then stage, which owns no work) cancels the request under it.
func TestGetAttributesCancelAbortsRequest(t *testing.T) {
	t.Parallel()
	srv, cfg := fakeClockClient(t, targettest.Config{Latency: targettest.Latency{Fixed: time.Hour}})
	var aborted atomic.Bool
	cfg.HTTPClient = &http.Client{Transport: inProcess{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		aborted.Store(r.Context().Err() != nil)
	})}}
	synctest.Test(t, func(t *testing.T) {
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		start := time.Now()
		f := c.GetAttributes(t.Context(), []string{"flags"}, target.GetAttributesOptions{})
		synctest.Wait() // the edge is holding the request
		assert.True(t, f.Cancel())
		_, err = f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		synctest.Wait() // the request's goroutines have reacted
		assert.True(t, aborted.Load(), "the request was cancelled")
		assert.Zero(t, time.Since(start), "nobody waited out the edge's latency")
	})
}
