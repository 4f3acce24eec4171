package target_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// countingTransport stands for otelhttp.NewTransport: it sees every
// request and hands it to the transport it wraps.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// burst makes n parallel calls, rounds times, and returns the connections
// the edge saw opened.
func burst(t *testing.T, c *target.Client, edge *targettest.Server, n, rounds int) int64 {
	t.Helper()
	for range rounds {
		fs := make([]*future.Future[*target.Response], n)
		for i := range fs {
			fs[i] = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
		}
		for _, f := range fs {
			_, err := f.Await(t.Context())
			require.NoError(t, err)
		}
	}
	return edge.Stats().Connections
}

func TestWrapTransportKeepsThePool(t *testing.T) {
	t.Parallel()
	const parallel, rounds = 20, 3
	edgeCfg := targettest.Config{Offers: offers, NoCluster: true, Latency: targettest.Latency{Fixed: 5 * time.Millisecond}}

	wrapped := &countingTransport{}
	c, edge := setup(t, edgeCfg, func(cfg *target.Config) {
		cfg.HTTPClient = nil
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			wrapped.next = rt
			return wrapped
		}
	})
	conns := burst(t, c, edge, parallel, rounds)
	assert.EqualValues(t, parallel*rounds, wrapped.n.Load(), "the wrapper sees every request")
	// As in TestParallelCallsReuseConnections: a tenth of slack for a call
	// racing a connection's return to the pool.
	assert.LessOrEqual(t, conns, int64(parallel+parallel/10))

	// The trap the option avoids: wrapping http.DefaultTransport, with its
	// two idle connections per host, dials again on every burst.
	dt := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(dt.CloseIdleConnections)
	c2, edge2 := setup(t, edgeCfg, func(cfg *target.Config) {
		cfg.HTTPClient = &http.Client{Transport: &countingTransport{next: dt}}
	})
	conns2 := burst(t, c2, edge2, parallel, rounds)
	t.Logf("%d calls in bursts of %d: %d connections with WrapTransport, %d wrapping a clone of http.DefaultTransport", parallel*rounds, parallel, conns, conns2)
	assert.Greater(t, conns2, conns)
}

func TestWrapTransportConfig(t *testing.T) {
	t.Parallel()
	base := target.Config{Client: "c", OrganizationID: "o"}
	cfg := base
	cfg.HTTPClient = http.DefaultClient
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return rt }
	_, err := target.NewClient(cfg)
	var ce *target.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WrapTransport", ce.Field)
	assert.True(t, strings.Contains(ce.Reason, "HTTPClient"), ce.Reason)

	cfg = base
	cfg.WrapTransport = func(http.RoundTripper) http.RoundTripper { return nil }
	_, err = target.NewClient(cfg)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WrapTransport", ce.Field)
}
