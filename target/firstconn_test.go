package target_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// tlsOwnClient is a Client over the transport it makes for itself (only
// the trust of the edge's certificate added) to a TLS edge.
func tlsOwnClient(t *testing.T, ecfg targettest.Config) (*target.Client, *targettest.Server) {
	t.Helper()
	edge := targettest.NewTLSServer(ecfg)
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second // a cold burst on a busy machine; this counts connections
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	pool := x509.NewCertPool()
	pool.AddCert(edge.Certificate())
	target.OwnTransport(c).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return c, edge
}

// TestFirstBurstOverHTTP2OpensOneConnection: 50 parallel first calls to
// an edge that speaks HTTP/2 share one connection, counted at the edge;
// so do the bursts after them, and after CloseIdleConnections the next
// burst opens one again. Without the gate the first burst opened 50.
func TestFirstBurstOverHTTP2OpensOneConnection(t *testing.T) {
	t.Parallel()
	const parallel = 50
	c, edge := tlsOwnClient(t, targettest.Config{Offers: offers, NoCluster: true, Latency: targettest.Latency{Fixed: 5 * time.Millisecond}})
	assert.EqualValues(t, 1, burst(t, c, edge, parallel, 1), "the first burst")
	assert.EqualValues(t, 1, burst(t, c, edge, parallel, 2), "later bursts reuse it")
	c.CloseIdleConnections()
	assert.EqualValues(t, 2, burst(t, c, edge, parallel, 1), "a first burst again")
}

// TestFirstBurstOverHTTP1IsNotSerialised: over HTTP/1.1 the calls that
// waited for the first connection then dial their own, in parallel, as
// without the gate: with every answer 200 ms late, a burst going through
// one connection (MaxConnsPerHost=1, say) would open one; this one opens
// one per call, and the next burst reuses them.
func TestFirstBurstOverHTTP1IsNotSerialised(t *testing.T) {
	t.Parallel()
	const parallel = 20
	c, edge := tlsOwnClient(t, targettest.Config{Offers: offers, NoCluster: true, HTTP1Only: true, Latency: targettest.Latency{Fixed: 200 * time.Millisecond}})
	first := burst(t, c, edge, parallel, 1)
	// A call may find a connection back in the pool on a slow machine:
	// half is far from the one of a serialised burst.
	assert.Greater(t, first, int64(parallel/2))
	assert.LessOrEqual(t, first, int64(parallel))
	assert.LessOrEqual(t, burst(t, c, edge, parallel, 1), first+parallel/10, "the next burst reuses them")
	t.Logf("HTTP/1.1: %d connections for a first burst of %d", first, parallel)
}

// wrappedTLSClient is tlsOwnClient through a Config.WrapTransport: the
// wrapper receives the *http.Transport (it adds the trust of the edge's
// certificate itself) and returns wrap of it.
func wrappedTLSClient(t *testing.T, ecfg targettest.Config, wrap func(http.RoundTripper) http.RoundTripper) (*target.Client, *targettest.Server) {
	t.Helper()
	edge := targettest.NewTLSServer(ecfg)
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	pool := x509.NewCertPool()
	pool.AddCert(edge.Certificate())
	var got http.RoundTripper
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		got = rt
		if tr, ok := rt.(*http.Transport); ok {
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		return wrap(rt)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	require.IsType(t, &http.Transport{}, got, "WrapTransport receives the transport the Client made")
	return c, edge
}

// TestFirstBurstThroughWrapperOpensOneConnection: the wrapper sees the
// *http.Transport (before h2burst's fix it saw the gate, so a wrapper
// type-asserting the transport changed nothing), and the gate still makes
// a first burst over HTTP/2 open one connection through it.
func TestFirstBurstThroughWrapperOpensOneConnection(t *testing.T) {
	t.Parallel()
	const parallel = 50
	counting := &countingTransport{}
	c, edge := wrappedTLSClient(t, targettest.Config{Offers: offers, NoCluster: true, Latency: targettest.Latency{Fixed: 5 * time.Millisecond}},
		func(rt http.RoundTripper) http.RoundTripper { counting.next = rt; return counting })
	assert.EqualValues(t, 1, burst(t, c, edge, parallel, 1), "the first burst")
	assert.EqualValues(t, parallel, counting.n.Load(), "the wrapper sees every request")
}

// contextDropper sends each request with a context of its own, so that
// the trace hooks on the caller's never run.
type contextDropper struct{ next http.RoundTripper }

func (d contextDropper) RoundTrip(r *http.Request) (*http.Response, error) {
	return d.next.RoundTrip(r.WithContext(context.WithoutCancel(context.Background())))
}

// TestFirstBurstThroughContextDroppingWrapper: a wrapper that does not
// pass the request's context on hides the first connection from the
// gate; the burst still completes (the gate lets its waiters go with the
// first answer), and the later calls pass straight through.
func TestFirstBurstThroughContextDroppingWrapper(t *testing.T) {
	t.Parallel()
	const parallel = 20
	c, edge := wrappedTLSClient(t, targettest.Config{Offers: offers, NoCluster: true, Latency: targettest.Latency{Fixed: 5 * time.Millisecond}},
		func(rt http.RoundTripper) http.RoundTripper { return contextDropper{next: rt} })
	assert.EqualValues(t, 1, burst(t, c, edge, parallel, 2))
}
