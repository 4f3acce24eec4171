// Package targettest runs a local Adobe Target Delivery API edge, in the
// manner of net/http/httptest, for tests, examples and benchmarks.
//
// The edge answers POST /rest/v1/delivery as the real one does on the paths
// the SDK uses: it validates the request as the API specification says
// (400 with {"status":400,"message":"..."} naming the problem), answers
// mboxes, views and the page load from configured offers, gives prefetched
// options event tokens and leaves them off executed ones, mints a tntId with
// a location hint and names its edge host, echoes notification ids, and
// answers a beacon request with 204.
//
// For on-device decisioning it serves a rules artifact (version 1.0.0)
// built from the same offers, at GET /{client}/{environment}/v1/rules.json
// (and with a property token before rules.json), the path of Target's CDN:
// one rule per mbox, view and page load, targeting every visitor, with the
// event tokens the edge gives prefetched options, so that an on-device
// client decides locally what the edge would answer and notifies with the
// same tokens. It carries an ETag and answers If-None-Match with 304 Not
// Modified; neither latency nor faults apply to it. [Server.ArtifactURL]
// is its URL.
//
// Around that it injects what real networks do: latency, fixed or drawn
// from a distribution with a long tail, and faults (5xx, 429 with
// Retry-After, connection resets, slow bodies, malformed JSON), all drawn
// from one seeded generator so a failing test fails the same way again.
// [Server.ForceFault] makes the next answers fail a chosen way for tests
// that need an exact sequence.
//
// It records every request it receives ([Server.Requests]) and counts
// requests and connections ([Server.Stats]), so tests assert on the wire:
// which host the client meant (the Host header), which query, which body,
// how many connections a burst of calls opened.
//
// [Server.HTTPClient] dials this edge whatever host a URL names, so a client
// that routes to mboxedge35.tt.omtrdc.net after learning its location hint
// still reaches the local edge; [NewTLSServer] serves a certificate for
// *.tt.omtrdc.net (and assets.adobetarget.com, the artifact's default
// host) that this client trusts. A TLS edge negotiates HTTP/2 by ALPN, as
// a real edge can, and HTTP/1.1 with clients that do not offer HTTP/2
// (Config.HTTP1Only offers only HTTP/1.1); over HTTP/2 a reset fault resets
// the call's stream rather than the connection, which other calls share.
// [Server.ClientConfig] returns a target.Config wired to all of it.
//
// The same server runs standalone, for other clients such as Adobe's own
// SDKs: go run ./target/targettest/cmd/edge -h.
//
// # Validation
//
// A Delivery request is answered 400 when the imsOrgId query parameter is
// missing or not the configured organization; when sessionId is missing or
// not 1 to 128 printable characters without space, '?' or '/'; when the
// body is empty, not JSON, or has a value of the wrong JSON type; when
// context or context.channel is missing or the channel is not "web" or
// "mobile"; when an execute or prefetch mbox has no name or no index, or
// repeats an index of its list; when mbox parameters break the
// specification's limits (50 entries, names up to 128 characters, no
// "profile." prefix, values up to 5000 characters); when a notification
// lacks its id, type ("click" or "display") or timestamp, or names both an
// mbox and a view; when a customer id lacks a field; and on the other
// length and enum limits of the specification. The message names the
// field, such as "Invalid request: execute.mboxes[1].index 1 is not unique:
// execute.mboxes[0] has it too". Fields the edge does not know are ignored,
// as the real edge ignores them. A Content-Type other than
// application/json gets a 415, other paths a 404, other methods a 405.
//
// # Differences from the real edge
//
// Every visitor gets the configured offers: there are no activities,
// audiences or profiles, and qaMode, preview and property tokens change
// nothing; the artifact's rules say the same, and it has no obfuscated
// rules.bin form. Executed options never carry an event token (the real edge's
// answers sometimes do). There are no state tokens, no telemetry server
// token, and a requested trace says only which request, location and
// visitor a decision was for.
package targettest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/target"
)

// Defaults for the zero fields of [Config].
const (
	DefaultClient         = "testclient"
	DefaultOrganizationID = "0123456789ABCDEF01234567@AdobeOrg"
	DefaultCluster        = "35"
	DefaultRecordLimit    = 10000
)

// DeliveryPath is the Delivery API's path; the edge also serves the
// on-device artifact ([Server.ArtifactURL]).
const DeliveryPath = "/rest/v1/delivery"

// maxBodyBytes bounds a request body; a Delivery request is a few KB.
const maxBodyBytes = 1 << 20

// Config describes an edge. The zero Config is a working edge with no
// offers, no latency and no faults.
type Config struct {
	// Client is the client code the edge answers for, echoed as "client";
	// empty means DefaultClient.
	Client string
	// OrganizationID is the IMS organization the edge accepts in the
	// imsOrgId query parameter; another value gets a 400, as from the real
	// edge. Empty means DefaultOrganizationID.
	OrganizationID string
	// Cluster is the location hint in minted tntIds ("{uuid}.{Cluster}_0")
	// and in edgeHost ("mboxedge{Cluster}.tt.omtrdc.net"); empty means
	// DefaultCluster.
	Cluster string
	// NoCluster mints tntIds without a location hint and leaves edgeHost
	// out, for clients (such as Adobe's SDKs) that would otherwise send
	// their next calls to mboxedge{cluster}.tt.omtrdc.net and so away from
	// a standalone edge. A tntId given in a request is kept as it is.
	NoCluster bool

	// Offers is what the edge answers with.
	Offers Offers
	// Latency is added to every Delivery answer.
	Latency Latency
	// Faults are injected into Delivery answers.
	Faults Faults
	// Seed seeds the generator of latencies and faults. Two edges with the
	// same Config answer the n-th Delivery request with the same delay and
	// fault. Which concurrent request is the n-th is up to the scheduler.
	Seed uint64

	// RecordLimit is how many requests [Server.Requests] keeps, the most
	// recent; zero means DefaultRecordLimit, negative keeps none (for long
	// benchmarks).
	RecordLimit int
	// Logger receives the server's errors, an info line for each request
	// the edge rejects (4xx, with the message) and a debug line for every
	// other request; nil discards them.
	Logger *slog.Logger
	// Listener, when set, is the listener the edge serves on (NewServer
	// takes ownership and closes it); nil means a new one on a free
	// loopback port.
	Listener net.Listener
	// HTTP1Only makes a TLS edge offer only HTTP/1.1 in its TLS handshake
	// (ALPN), as an old proxy in front of an edge would. By default a TLS
	// edge offers HTTP/2 and HTTP/1.1 and [Server.HTTPClient] takes HTTP/2,
	// as Go's default transport does with a real edge. A plain-HTTP edge
	// always speaks HTTP/1.1: nothing negotiates HTTP/2 over cleartext
	// there.
	HTTP1Only bool
}

// Validate reports the first problem with c, naming the field.
// [NewServer] panics with it; a standalone server checks it first.
func (c Config) Validate() error {
	for _, r := range c.Client {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("targettest: Config.Client %q is not a client code (letters, digits, '-')", c.Client)
		}
	}
	if c.NoCluster && c.Cluster != "" {
		return errors.New("targettest: Config.Cluster is set together with Config.NoCluster")
	}
	for _, r := range c.Cluster {
		if r < '0' || r > '9' {
			return fmt.Errorf("targettest: Config.Cluster %q is not a number", c.Cluster)
		}
	}
	if err := c.Latency.validate(); err != nil {
		return err
	}
	if err := c.Faults.validate(); err != nil {
		return err
	}
	return c.Offers.validate()
}

func (c Config) withDefaults() Config {
	if c.Client == "" {
		c.Client = DefaultClient
	}
	if c.OrganizationID == "" {
		c.OrganizationID = DefaultOrganizationID
	}
	if c.Cluster == "" && !c.NoCluster {
		c.Cluster = DefaultCluster
	}
	if c.RecordLimit == 0 {
		c.RecordLimit = DefaultRecordLimit
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Faults = c.Faults.withDefaults()
	return c
}

// RecordedRequest is one request as the edge received it.
type RecordedRequest struct {
	// Time is when the edge finished reading the request.
	Time time.Time
	// Method, Host, Path and Query are from the request line and the Host
	// header: Host is where the client meant to go, whatever address it
	// dialled.
	Method string
	Host   string
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the raw body.
	Body []byte
	// Delivery is Body decoded, or nil when it is not a JSON
	// DeliveryRequest (then the edge answered 400).
	Delivery *target.DeliveryRequest
	// Fault is the fault injected into the answer, or NoFault.
	Fault Fault
}

// Stats counts what the edge has seen since it started or was last Reset.
type Stats struct {
	// Requests is the number of HTTP requests received, on any path.
	Requests int64
	// Connections is the number of connections accepted.
	Connections int64
	// OpenConnections is the number of connections open now; Reset leaves
	// it alone.
	OpenConnections int64
	// Faults is the number of Delivery answers a fault was injected into.
	Faults int64
}

// Server is a running local edge. Its methods are safe for concurrent use.
//
// Server is also an http.Handler: it can be mounted in another server, or
// driven with httptest.NewRecorder, for instance inside a testing/synctest
// bubble where its latency runs on the bubble's fake clock.
//
// Cost: answering a request with three mboxes and a view takes about 35µs
// and 170 allocations in the handler (BenchmarkEdge/handler), 48µs for a
// loopback round trip against 19µs for a handler that does nothing, so a
// client benchmark against the edge spends some 30µs per call in it.
type Server struct {
	// URL is the edge's base URL, http://ip:port or https://ip:port, with
	// no trailing slash.
	URL string

	cfg      Config
	ts       *httptest.Server
	client   *http.Client
	cert     *x509.Certificate // nil for plain HTTP
	artifact servedArtifact
	stop     context.CancelFunc
	closing  sync.Once

	requests, conns, open, faults atomic.Int64

	mu       sync.Mutex
	rng      *rand.Rand // latency and fault draws
	ids      *rand.Rand // minted ids, apart so they do not shift the draws
	forced   []Fault
	recorded []RecordedRequest
}

// NewServer starts a plain-HTTP edge on a loopback port (or on
// cfg.Listener). The caller must Close it. It panics if cfg is invalid
// (see [Config.Validate]) or no port can be opened, as httptest.NewServer
// does: a test cannot go on without its server.
func NewServer(cfg Config) *Server {
	return start(cfg, false)
}

// NewTLSServer starts an HTTPS edge, serving a self-signed ECDSA
// certificate for *.tt.omtrdc.net, tt.omtrdc.net, assets.adobetarget.com,
// localhost, 127.0.0.1 and ::1 generated for this server. Only [Server.HTTPClient] (and clients
// given [Server.Certificate]) trust it. It panics like [NewServer].
func NewTLSServer(cfg Config) *Server {
	return start(cfg, true)
}

func start(cfg Config, useTLS bool) *Server {
	if err := cfg.Validate(); err != nil {
		if cfg.Listener != nil {
			_ = cfg.Listener.Close() // it was handed over
		}
		panic(err)
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, artifact: buildArtifact(cfg)}
	s.rng, s.ids = newRand(cfg.Seed), newRand(^cfg.Seed)

	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
				panic(fmt.Sprintf("targettest: cannot listen on a loopback port: %v", err))
			}
		}
	}
	addr := ln.Addr().String()

	// Every request context descends from base, so Close ends the waits of
	// requests in flight (latency, slow bodies) instead of waiting them out.
	base, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.ts = &httptest.Server{
		Listener: ln,
		Config: &http.Server{
			Handler:           s,
			BaseContext:       func(net.Listener) context.Context { return base },
			ConnState:         s.connState,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		},
	}

	transport := &http.Transport{
		// Whatever host the URL names, the connection goes to this edge; the
		// Host header and TLS server name still carry the name.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		// Sized for fan-out: a burst of parallel calls keeps its
		// connections for the next burst instead of opening new ones.
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if useTLS {
		cert, leaf, err := newCertificate(time.Now())
		if err != nil {
			panic(fmt.Sprintf("targettest: generating the certificate: %v", err))
		}
		s.cert = leaf
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		// Offered in the server's order of preference, as a real edge
		// does: a client that offers HTTP/2 gets it, one that does not (or
		// sends no ALPN, as Node's https module) gets HTTP/1.1.
		protos := []string{"h2", "http/1.1"}
		if cfg.HTTP1Only {
			protos = protos[1:]
		}
		s.ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: protos}
		s.ts.EnableHTTP2 = !cfg.HTTP1Only
		// A transport with its own DialContext and TLS config attempts
		// HTTP/2 only when told to.
		transport.ForceAttemptHTTP2 = !cfg.HTTP1Only
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.client = &http.Client{Transport: transport}
	s.URL = s.ts.URL
	return s
}

func newRand(seed uint64) *rand.Rand {
	// The second word is fixed so that one number is the whole seed.
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// Close stops the edge: it stops accepting connections, ends the latency
// waits and slow bodies of requests in flight, waits for their handlers
// to return, and closes the idle connections of [Server.HTTPClient]. No
// goroutine of the server is left. Calling Close again does nothing.
func (s *Server) Close() {
	s.closing.Do(func() {
		s.stop()
		s.ts.Close()
		s.client.CloseIdleConnections()
	})
}

// HTTPClient returns the client for this edge: its transport dials this
// edge for every host and port, so edge routing (a call to
// mboxedge35.tt.omtrdc.net) reaches it, trusts the edge's certificate
// (as a root, not by skipping verification), and keeps up to 256 idle
// connections per host for parallel calls. Every call returns the same
// client; Close closes its idle connections.
func (s *Server) HTTPClient() *http.Client { return s.client }

// ClientConfig returns a target.Config for this edge: its client code and
// organization, ServerDomain set to the edge's host:port, Insecure for a
// plain-HTTP edge, and HTTPClient set to [Server.HTTPClient], so that calls
// routed to an edge cluster host reach this edge too. Set the other fields
// (Timeout, Retry, Logger, ...) on the result.
func (s *Server) ClientConfig() target.Config {
	return target.Config{
		Client:         s.cfg.Client,
		OrganizationID: s.cfg.OrganizationID,
		ServerDomain:   s.Addr(),
		Insecure:       s.cert == nil,
		HTTPClient:     s.client,
	}
}

// Certificate returns the certificate of a TLS edge, nil for plain HTTP.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Addr returns the host:port the edge listens on.
func (s *Server) Addr() string { return s.ts.Listener.Addr().String() }

// ForceFault makes the next n Delivery answers fail with f, ahead of the
// random draws (which still happen, so the seeded sequence is unchanged).
// Calls queue up: ForceFault(FaultReset, 1) then ForceFault(NoFault, 2)
// resets one answer and then lets two through untouched.
func (s *Server) ForceFault(f Fault, n int) {
	if f < 0 || int(f) >= faultCount {
		panic(fmt.Sprintf("targettest: ForceFault with unknown fault %d", f))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.forced = append(s.forced, f)
	}
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.recorded))
	copy(out, s.recorded)
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:        s.requests.Load(),
		Connections:     s.conns.Load(),
		OpenConnections: s.open.Load(),
		Faults:          s.faults.Load(),
	}
}

// Reset forgets the recorded requests and forced faults, zeroes the
// counters (except open connections) and restarts the seeded sequence, so
// that a test sees the edge as new.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded = nil
	s.forced = nil
	s.rng, s.ids = newRand(s.cfg.Seed), newRand(^s.cfg.Seed)
	s.requests.Store(0)
	s.conns.Store(0)
	s.faults.Store(0)
}

func (s *Server) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.conns.Add(1)
		s.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.open.Add(-1)
	}
}

// ServeHTTP answers one request: see the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	received := time.Now()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
		}
		// Otherwise the client is gone: there is nobody to answer.
		return
	}
	delivery := r.URL.Path == DeliveryPath && r.Method == http.MethodPost
	var decoded *target.DeliveryRequest
	var decodeErr error
	if delivery {
		decoded, decodeErr = decode(body)
	}

	s.mu.Lock()
	var delay time.Duration
	fault := NoFault
	if delivery {
		// Both draws happen for every Delivery request, forced or not, so the
		// n-th request's draws depend only on the seed and n.
		delay = s.cfg.Latency.sample(s.rng)
		fault = s.cfg.Faults.draw(s.rng)
		if len(s.forced) > 0 {
			fault, s.forced = s.forced[0], s.forced[1:]
		}
	}
	if s.cfg.RecordLimit > 0 {
		rec := RecordedRequest{
			Time: received, Method: r.Method, Host: r.Host, Path: r.URL.Path,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Delivery: decoded, Fault: fault,
		}
		if len(s.recorded) >= s.cfg.RecordLimit {
			// Appending to the tail slice reuses its array until it is full,
			// so dropping the oldest costs O(1) amortised.
			s.recorded = s.recorded[1:]
		}
		s.recorded = append(s.recorded, rec)
	}
	s.mu.Unlock()

	if fault != NoFault {
		s.faults.Add(1)
	}
	status, message := s.answer(w, r, body, decoded, decodeErr, delay, fault)
	if status == 0 && r.ProtoMajor == 2 {
		// The answer was dropped, but an HTTP/2 connection cannot be
		// taken over to close it: aborting the handler resets the stream
		// instead (RST_STREAM), which the client sees as a transport
		// error, as it sees a reset connection over HTTP/1. The log line
		// goes out first.
		defer panic(http.ErrAbortHandler)
	}

	// Client errors are what a client author needs to see; the rest is
	// detail.
	level := slog.LevelDebug
	if status >= 400 && status < 500 && fault == NoFault {
		level = slog.LevelInfo
	}
	s.cfg.Logger.LogAttrs(r.Context(), level, "request",
		slog.String("method", r.Method), slog.String("host", r.Host), slog.String("path", r.URL.Path),
		slog.Duration("latency", delay), slog.String("fault", fault.String()),
		slog.Int("status", status), slog.String("message", message))
}

// answer writes the answer to one request, after the delay and with the
// fault, and returns its status (0 for none) and error message.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, body []byte, decoded *target.DeliveryRequest, decodeErr error, delay time.Duration, fault Fault) (int, string) {
	switch {
	case r.URL.Path != DeliveryPath && s.isArtifactPath(r.URL.Path):
		return s.serveArtifact(w, r)
	case r.URL.Path != DeliveryPath:
		msg := fmt.Sprintf("no such endpoint: %s (the Delivery API is POST %s)", r.URL.Path, DeliveryPath)
		writeError(w, http.StatusNotFound, msg)
		return http.StatusNotFound, msg
	case r.Method != http.MethodPost:
		msg := fmt.Sprintf("method %s not allowed: the Delivery API is POST %s", r.Method, DeliveryPath)
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, msg)
		return http.StatusMethodNotAllowed, msg
	}
	if !sleep(r.Context(), delay) {
		// The client gave up or the server is closing: returning would
		// send an empty 200, so the connection goes instead.
		dropConnection(w, false)
		return 0, "gave up waiting: " + context.Cause(r.Context()).Error()
	}

	f := s.cfg.Faults
	switch fault {
	case FaultServerError:
		msg := "Service unavailable (fault injected by the local edge)"
		writeError(w, f.ServerErrorStatus, msg)
		return f.ServerErrorStatus, msg
	case FaultTooManyRequests:
		msg := "Too many requests (fault injected by the local edge)"
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		writeError(w, http.StatusTooManyRequests, msg)
		return http.StatusTooManyRequests, msg
	case FaultReset:
		dropConnection(w, true)
		return 0, ""
	}

	status, answer, msg := s.deliver(r, body, decoded, decodeErr)
	switch fault {
	case FaultMalformedJSON:
		if status == http.StatusNoContent {
			status = http.StatusOK // a beacon's empty answer has nothing to break
		}
		answer = truncate(answer)
	case FaultSlowBody:
		writeHeader(w, status, len(answer))
		writeSlowly(r.Context(), w, answer, f.SlowBodyChunk, f.SlowBodyInterval)
		return status, msg
	}
	writeHeader(w, status, len(answer))
	_, _ = w.Write(answer)
	return status, msg
}

// truncate cuts a JSON answer in half, which leaves it unbalanced and so
// rejected by every JSON decoder; an empty answer becomes an unfinished
// object.
func truncate(answer []byte) []byte {
	if len(answer) < 2 {
		return []byte(`{"status":`)
	}
	return bytes.Clone(answer[:len(answer)/2])
}

func writeHeader(w http.ResponseWriter, status, size int) {
	if status != http.StatusNoContent {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Content-Length", fmt.Sprint(size))
	}
	w.WriteHeader(status)
}
