package target

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldListener holds the first connection it accepts without serving it
// (so that the TLS handshake on it waits) until release, which closes it;
// it hands the later ones to the server.
type heldListener struct {
	net.Listener
	first    chan net.Conn // receives the held connection
	accepted atomic.Int64
}

func (l *heldListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.accepted.Add(1) == 1 {
			l.first <- c
			continue
		}
		return c, nil
	}
}

// gateEdge is an HTTPS server offering HTTP/2 behind a heldListener, and a
// gate over a transport that trusts it.
func gateEdge(t *testing.T) (*firstConnGate, *heldListener, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	hl := &heldListener{Listener: srv.Listener, first: make(chan net.Conn, 1)}
	srv.Listener = hl
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return newFirstConnGate(tr), hl, srv.URL
}

// closeCounter is a request body that records its Close.
type closeCounter struct {
	io.Reader
	closed atomic.Int32
}

func (b *closeCounter) Close() error { b.closed.Add(1); return nil }

func gateRequest(t *testing.T, ctx context.Context, url string, body io.ReadCloser) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	require.NoError(t, err)
	return req
}

// waitFor yields until cond holds (no clock: the test's deadline bounds it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatal("gave up waiting")
		}
		runtime.Gosched()
	}
}

// TestFirstConnGateCancelledWaiter: a request that waits for the probe
// and whose context ends returns its context's error at once, closes its
// body, dials nothing and leaves nothing registered; the probe, cancelled
// in turn, leaves the origin to probe again.
func TestFirstConnGateCancelledWaiter(t *testing.T) {
	t.Parallel()
	g, hl, url := gateEdge(t)
	host := strings.TrimPrefix(url, "https://")

	probeCtx, cancelProbe := context.WithCancel(t.Context())
	probeDone := make(chan error, 1)
	go func() {
		resp, err := g.RoundTrip(gateRequest(t, probeCtx, url, nil))
		if resp != nil {
			_ = resp.Body.Close()
		}
		probeDone <- err
	}()
	held := <-hl.first // the probe's handshake is waiting on it

	ctx, cancel := context.WithCancel(t.Context())
	body := &closeCounter{Reader: strings.NewReader("{}")}
	waiterDone := make(chan error, 1)
	go func() {
		_, err := g.RoundTrip(gateRequest(t, ctx, url, body))
		waiterDone <- err
	}()
	o, _ := g.origins.Load(host)
	og := o.(*originGate)
	waitFor(t, func() bool { return og.waiters.Load() == 1 })
	cancel()
	require.ErrorIs(t, <-waiterDone, context.Canceled)
	assert.EqualValues(t, 1, body.closed.Load(), "the waiter's body is closed")
	assert.EqualValues(t, 0, og.waiters.Load(), "nothing left registered")
	assert.EqualValues(t, 1, hl.accepted.Load(), "the waiter dialled nothing")

	cancelProbe()
	require.ErrorIs(t, <-probeDone, context.Canceled)
	_ = held.Close()
	og.mu.Lock()
	assert.Nil(t, og.probe, "no probe in flight")
	og.mu.Unlock()
	assert.Zero(t, og.connectedUntil.Load(), "the next request probes again")
}

// TestFirstConnGateFailedProbe: when the first connection fails, the
// requests that waited for it do not fail with it: they go at once and
// dial for themselves, and succeed on an edge that now answers.
func TestFirstConnGateFailedProbe(t *testing.T) {
	t.Parallel()
	const waiters = 8
	g, hl, url := gateEdge(t)
	host := strings.TrimPrefix(url, "https://")

	probeDone := make(chan error, 1)
	go func() {
		resp, err := g.RoundTrip(gateRequest(t, t.Context(), url, nil))
		if resp != nil {
			_ = resp.Body.Close()
		}
		probeDone <- err
	}()
	held := <-hl.first

	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			resp, err := g.RoundTrip(gateRequest(t, t.Context(), url, nil))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			errs <- err
		}()
	}
	o, _ := g.origins.Load(host)
	og := o.(*originGate)
	waitFor(t, func() bool { return og.waiters.Load() == waiters })
	assert.EqualValues(t, 1, hl.accepted.Load(), "the waiters wait for the probe")

	_ = held.Close() // the probe's handshake fails
	require.Error(t, <-probeDone)
	for range waiters {
		require.NoError(t, <-errs)
	}
	// The failure taught nothing: the origin is forgotten, and the next
	// request probes, finds a connection up, and lets the origin's
	// requests through.
	assert.Zero(t, og.connectedUntil.Load())
	_, kept := g.origins.Load(host)
	assert.False(t, kept, "an origin never connected to is forgotten")
	resp, err := g.RoundTrip(gateRequest(t, t.Context(), url, nil))
	require.NoError(t, err)
	_ = resp.Body.Close()
	o, _ = g.origins.Load(host)
	assert.Positive(t, o.(*originGate).connectedUntil.Load())
}
