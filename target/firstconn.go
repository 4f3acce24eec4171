package target

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// firstConnGate is the RoundTripper in front of the transport a Client
// makes for itself (and of the caller's Config.WrapTransport around it,
// which receives the *http.Transport itself). It makes the first burst of parallel calls to an
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
// (a sync.Map lookup, the clock and an atomic load) until it has gone
// unused for the transport's IdleConnTimeout, after which its connections
// are closed and the next request probes again. Plain-HTTP origins are
// never gated: the client's transport speaks only HTTP/1.1 to them. The
// gate starts no goroutine, and a waiter whose context ends leaves nothing
// behind: it only selected on a channel.
//
// The gate keeps an entry per origin, and visitors choose origins (an
// mboxEdgeCluster cookie names a host), so the entries are bounded: an
// origin whose probe got no connection is forgotten when the probe ends
// (it taught nothing), CloseIdleConnections forgets every origin without a
// probe in flight, and past maxGatedOrigins entries (a soft bound: new
// origins that arrive at once may each pass the check) the origins whose
// connections have expired are swept (at most once a second) and, if the
// map is still full, the requests to new origins go ungated, as they would
// without the gate. Host names are folded to lower case and ":443" is
// dropped, as the transport does for its connection pool, so that
// mboxedgeAB and mboxedgeab are one origin (the transport's IDNA
// conversion is not repeated: a Unicode host and its xn-- form are two
// origins of one pool, each with its own probe).
type firstConnGate struct {
	// next sends the requests: the transport the Client made, or the
	// caller's Config.WrapTransport around it. The gate learns of the
	// probe's connection through httptrace's GotConn, which the
	// transport calls when the wrapper passes the request's context on.
	next http.RoundTripper
	idle time.Duration // how long an origin's probe stays valid unused

	origins   sync.Map     // origin key (see originKey) -> *originGate
	entries   atomic.Int64 // entries in origins
	lastSweep atomic.Int64 // UnixNano of the last sweep of expired origins
}

// maxGatedOrigins bounds the gate's entries. A client calls its edge and
// the few clusters (tens) its visitors' location hints name; an entry is
// about 150 bytes.
const maxGatedOrigins = 256

// originGate is the gate's state for one origin.
type originGate struct {
	key string // its key in origins

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
	// gone is set when the entry left origins: a request that found it
	// before looks again.
	gone bool
}

func newFirstConnGate(t *http.Transport) *firstConnGate {
	idle := t.IdleConnTimeout
	if idle <= 0 {
		idle = 90 * time.Second
	}
	return &firstConnGate{next: t, idle: idle}
}

// originKey is the key of a URL's host in the gate's map: lower case,
// without the default port. It allocates only for a host with capitals.
func originKey(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ":443")
}

// RoundTrip sends req through the transport, as the probe of its origin,
// after the probe, or at once (see firstConnGate).
func (g *firstConnGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return g.next.RoundTrip(req)
	}
	key := originKey(req.URL.Host)
	for {
		og := g.origin(key)
		if og == nil { // the map is full: ungated
			return g.next.RoundTrip(req)
		}
		now := time.Now().UnixNano()
		if until := og.connectedUntil.Load(); now < until {
			// Pushed at most once a second, so that parallel calls do not
			// all write the same word; a compare-and-swap, so that a
			// forget in between is not undone.
			if next := now + int64(g.idle); next-until > int64(time.Second) {
				og.connectedUntil.CompareAndSwap(until, next)
			}
			return g.next.RoundTrip(req)
		}

		og.mu.Lock()
		if og.gone { // forgotten meanwhile: look again
			og.mu.Unlock()
			continue
		}
		if now < og.connectedUntil.Load() { // a probe got through meanwhile
			og.mu.Unlock()
			return g.next.RoundTrip(req)
		}
		if probe := og.probe; probe != nil {
			og.mu.Unlock()
			ctx := req.Context()
			og.waiters.Add(1)
			select {
			case <-probe:
				og.waiters.Add(-1)
				return g.next.RoundTrip(req)
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
}

// origin returns the entry of key, adding it if there is room; nil when
// the map is full.
func (g *firstConnGate) origin(key string) *originGate {
	if o, ok := g.origins.Load(key); ok {
		return o.(*originGate)
	}
	if g.entries.Load() >= maxGatedOrigins {
		g.sweep()
		if g.entries.Load() >= maxGatedOrigins {
			return nil
		}
	}
	o, loaded := g.origins.LoadOrStore(key, &originGate{key: key})
	if !loaded {
		g.entries.Add(1)
	}
	return o.(*originGate)
}

// sweep removes the origins whose connections have expired and that have
// no probe in flight, at most once a second: a full map of live origins
// costs a new origin's request one atomic load, not a walk over them.
func (g *firstConnGate) sweep() {
	now := time.Now().UnixNano()
	last := g.lastSweep.Load()
	if now-last < int64(time.Second) || !g.lastSweep.CompareAndSwap(last, now) {
		return
	}
	g.origins.Range(func(_, o any) bool {
		og := o.(*originGate)
		og.mu.Lock()
		if og.probe == nil && now >= og.connectedUntil.Load() {
			g.remove(og)
		}
		og.mu.Unlock()
		return true
	})
}

// remove takes og out of the map; og.mu is held.
func (g *firstConnGate) remove(og *originGate) {
	if !og.gone && g.origins.CompareAndDelete(og.key, og) {
		g.entries.Add(-1)
	}
	og.gone = true
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
			} else if time.Now().UnixNano() >= og.connectedUntil.Load() {
				// No connection, none before: nothing learnt. Its
				// waiters go on; the next request adds the origin again.
				g.remove(og)
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
	resp, err := g.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if resp != nil {
		resp.Request = req
	}
	if err == nil {
		// An answer came, so a connection did, even through a wrapper
		// that did not pass the request's context (and so the trace) on.
		finish(true)
	}
	return resp, err
}

// forget makes the next request to every origin probe again, for
// CloseIdleConnections, and removes the origins without a probe in
// flight. A probe in flight goes on and lets its waiters go.
func (g *firstConnGate) forget() {
	g.origins.Range(func(_, o any) bool {
		og := o.(*originGate)
		og.mu.Lock()
		og.connectedUntil.Store(0)
		if og.probe == nil {
			g.remove(og)
		}
		og.mu.Unlock()
		return true
	})
}
