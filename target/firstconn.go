package target

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// firstConnGate is the RoundTripper in front of the transport a Client
// makes for itself. It makes the first burst of parallel calls to an
// HTTPS origin open one connection when the edge speaks HTTP/2, instead
// of one per call.
//
// net/http's Transport dials for every request that finds no connection
// up, before the TLS handshake (ALPN) says whether the connection could
// be shared (golang/go#13957, #25761): 100 parallel first calls opened 8
// to 100 TLS connections to an HTTP/2 edge, of which all but one were then
// closed or left idle. MaxConnsPerHost=1 would avoid that over HTTP/2 but
// would put every HTTP/1.1 call of the client through one connection, and
// the Transport has no knob for "one dial until the protocol is known".
//
// So the gate lets the first request to an origin go alone (the probe);
// the requests that come while it has no connection wait for it, each
// bounded by its own context. As soon as the probe has a connection
// (httptrace's GotConn, after the handshake), they all go: over HTTP/2
// they find that connection in the HTTP/2 pool, which it joined during
// the handshake; over HTTP/1.1 they dial at once, as they would have
// without the gate, one handshake later. If the probe gets no connection
// (the dial or handshake fails, or its context ends first) its waiters go
// at once too, each dialling for itself: a failed first connection says
// nothing about the protocol, and handing the probe on to one waiter at a
// time would turn one slow failure into a queue of them that only each
// caller's deadline would end.
//
// Once an origin has had a connection its requests pass straight through
// (a sync.Map lookup, the clock and an atomic load) until it has gone unused for the transport's
// IdleConnTimeout, after which its connections are closed and the next
// request probes again; Client.CloseIdleConnections forgets every origin
// too. Plain-HTTP origins are never gated: the client's transport speaks
// only HTTP/1.1 to them. The gate starts no goroutine, and a waiter whose
// context ends leaves nothing behind: it only selected on a channel.
type firstConnGate struct {
	t    *http.Transport
	idle time.Duration // how long an origin's probe stays valid unused

	// origins holds one small entry per host called, never removed: a
	// client calls its edge and the few location-hint clusters it learns.
	origins sync.Map // URL host (host:port as given) -> *originGate
}

// originGate is the gate's state for one origin.
type originGate struct {
	// connectedUntil is the time (UnixNano) until which requests pass
	// straight through: the probe got a connection, and every request
	// pushes it further. Zero means probe first.
	connectedUntil atomic.Int64

	// waiters counts the requests waiting for the probe, for the tests.
	waiters atomic.Int32

	mu sync.Mutex
	// probe is closed when the probe in flight got a connection or
	// failed; nil when no probe is in flight.
	probe chan struct{}
}

func newFirstConnGate(t *http.Transport) *firstConnGate {
	idle := t.IdleConnTimeout
	if idle <= 0 {
		idle = 90 * time.Second
	}
	return &firstConnGate{t: t, idle: idle}
}

// RoundTrip sends req through the transport, as the probe of its origin,
// after the probe, or at once (see firstConnGate).
func (g *firstConnGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return g.t.RoundTrip(req)
	}
	o, ok := g.origins.Load(req.URL.Host)
	if !ok {
		o, _ = g.origins.LoadOrStore(req.URL.Host, &originGate{})
	}
	og := o.(*originGate)
	now := time.Now().UnixNano()
	if until := og.connectedUntil.Load(); now < until {
		// Pushed at most once a second, so that parallel calls do not all
		// write the same word; a compare-and-swap, so that a forget in
		// between is not undone.
		if next := now + int64(g.idle); next-until > int64(time.Second) {
			og.connectedUntil.CompareAndSwap(until, next)
		}
		return g.t.RoundTrip(req)
	}

	og.mu.Lock()
	if now < og.connectedUntil.Load() { // a probe got through meanwhile
		og.mu.Unlock()
		return g.t.RoundTrip(req)
	}
	if probe := og.probe; probe != nil {
		og.mu.Unlock()
		ctx := req.Context()
		og.waiters.Add(1)
		select {
		case <-probe:
			og.waiters.Add(-1)
			return g.t.RoundTrip(req)
		case <-ctx.Done():
			og.waiters.Add(-1)
			// A RoundTripper closes the body on every path.
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, context.Cause(ctx)
		}
	}
	probe := make(chan struct{})
	og.probe = probe
	og.mu.Unlock()
	return g.roundTripProbe(og, probe, req)
}

// roundTripProbe sends req as the probe of og, and lets og's waiters go
// when it has a connection, or when it ends without one.
func (g *firstConnGate) roundTripProbe(og *originGate, probe chan struct{}, req *http.Request) (*http.Response, error) {
	var once sync.Once
	finish := func(connected bool) {
		once.Do(func() {
			og.mu.Lock()
			if connected {
				og.connectedUntil.Store(time.Now().UnixNano() + int64(g.idle))
			}
			og.probe = nil
			og.mu.Unlock()
			close(probe)
		})
	}
	// Deferred, so that the waiters go on every path, a panic included.
	defer finish(false)
	// WithClientTrace composes: the hooks already on the request (the
	// attempt's timings, a caller's) still run, in the same order.
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { finish(true) }}
	resp, err := g.t.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// forget makes the next request to every origin probe again, for
// CloseIdleConnections. A probe in flight goes on and lets its waiters go.
func (g *firstConnGate) forget() {
	g.origins.Range(func(_, o any) bool {
		o.(*originGate).connectedUntil.Store(0)
		return true
	})
}
