package target

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SDK identification headers, in the form Adobe's SDKs send them.
const (
	sdkName    = "TargetGo"
	sdkVersion = "0.1.0"
)

// MaxResponseSize bounds the body the client reads from the edge; a longer
// body fails the call with ErrResponseTooLarge instead of exhausting memory.
const MaxResponseSize = 8 << 20

// maxErrorBody bounds what is read of a non-2xx answer for its message.
const maxErrorBody = 64 << 10

// Default backoff bounds for a RetryPolicy that leaves them zero.
const (
	defaultMinBackoff = 50 * time.Millisecond
	defaultMaxBackoff = time.Second
)

// ErrResponseTooLarge is the error of a call whose response body exceeds
// MaxResponseSize.
var ErrResponseTooLarge = errors.New("target: response body too large")

// Timings are the measured phases of a call, for logging and the SDK
// telemetry. The fields have different scopes, each stated below: the
// phases are one HTTP attempt's, Total one try's (the Client's own retries
// included), Attempts every request made for the call.
//
// A call answered from a merged request (coalesced GetOffers calls, the
// notifications of several SendNotifications calls sent together) has that
// request's Timings. An on-device decision has only Total.
type Timings struct {
	// DNS, Connect and TLS are the last HTTP attempt's; zero when it
	// reused a kept-alive connection.
	DNS     time.Duration `json:"dns"`
	Connect time.Duration `json:"connect"`
	TLS     time.Duration `json:"tls"`
	// TimeToFirstByte is the last attempt's, from the request written to
	// the first response byte.
	TimeToFirstByte time.Duration `json:"timeToFirstByte"`
	// Download is the last attempt's, from the first response byte to the
	// end of the body.
	Download time.Duration `json:"download"`
	// Total runs from the start of the first HTTP attempt of the last try
	// to the end of its last attempt, the retries by Config.Retry and
	// their backoff included. A GetOffers-style call makes one try. For
	// SendNotifications it covers only the queue's last try: not the time
	// queued, the queue's earlier tries (NotificationsConfig.MaxAttempts)
	// and the waits between them, nor a refused merged request the call's
	// notifications went in before being sent again alone. For an
	// on-device decision it is the decision's time.
	Total time.Duration `json:"total"`
	// Attempts counts every HTTP request made for the call: the Client's
	// retries, and for SendNotifications the queue's tries and the merged
	// request a call was refused in, too. It is zero for an on-device
	// decision.
	Attempts int `json:"attempts"`
	// ConnReused and ResponseSize are the last attempt's.
	ConnReused   bool  `json:"connReused"`
	ResponseSize int64 `json:"responseSize"`
}

// attemptTrace records one attempt's phases. httptrace hooks may run on the
// transport's dialing goroutines, even after the attempt gave up, so every
// field is under mu.
//
// Building the hooks costs ten allocations (the struct and a closure per
// hook), so traces are pooled: one goes back to tracePool only when no hook
// of it can run any more (see recyclable). A trace that may still hear from
// a dial is left to the garbage collector.
type attemptTrace struct {
	mu                            sync.Mutex
	dnsStart, connStart, tlsStart time.Time
	dns, connect, tls             time.Duration
	wrote, firstByte              time.Time
	reused                        bool
	// gotConn is set by GotConn; dialed when a dial hook ran or a GotConn
	// had a connection that did not come straight from the idle pool,
	// when a dial started for this request may still be running.
	gotConn, dialed bool

	trace  httptrace.ClientTrace // hooks bound to this attemptTrace
	pooled bool                  // from tracePool; trace is never composed
}

var tracePool = sync.Pool{New: func() any {
	a := &attemptTrace{pooled: true}
	a.trace = a.hooks()
	// The DNS and connect hooks are the client's own transport's to add,
	// when it dials (see dialTraced): net/http/httptrace wraps them for
	// package net in four more allocations on every request, dial or not.
	a.trace.DNSStart, a.trace.DNSDone, a.trace.ConnectStart, a.trace.ConnectDone = nil, nil, nil, nil
	return a
}}

// dialTraceKey is the context key under which an attempt on the client's
// own transport leaves its pooled trace for dialTraced.
type dialTraceKey struct{}

// dialTraced wraps the DialContext of the client's own transport: a dial
// for an attempt whose pooled trace has no DNS and connect hooks gets
// them, so that the attempt's Timings have those phases; net/http dials
// under the context of the request that asked for the connection, values
// kept.
func dialTraced(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if a, _ := ctx.Value(dialTraceKey{}).(*attemptTrace); a != nil {
			full := a.hooks()
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				DNSStart: full.DNSStart, DNSDone: full.DNSDone,
				ConnectStart: full.ConnectStart, ConnectDone: full.ConnectDone,
			})
		}
		return dial(ctx, network, addr)
	}
}

// newAttemptTrace returns a trace for one attempt under ctx: a pooled one
// when pool is set (the client's own transport, whose hooks are known) and
// ctx has no trace of its own to compose with, which would change the
// hooks for good.
func newAttemptTrace(ctx context.Context, pool bool) *attemptTrace {
	if pool && httptrace.ContextClientTrace(ctx) == nil {
		return tracePool.Get().(*attemptTrace)
	}
	a := &attemptTrace{}
	a.trace = a.hooks()
	return a
}

// release puts a back in the pool when it is pooled and recyclable.
func (a *attemptTrace) release(http1 bool) {
	if a.reset(http1) {
		tracePool.Put(a)
	}
}

// reset readies a for another attempt, keeping its hooks, and reports
// whether it did: only a pooled, recyclable trace is reset.
func (a *attemptTrace) reset(http1 bool) bool {
	if !a.pooled || !a.recyclable(http1) {
		return false
	}
	// No hook can run now (that is what recyclable checks), so the
	// reset needs no lock.
	*a = attemptTrace{pooled: true, trace: a.trace}
	return true
}

// recyclable reports whether no hook of a can run any more, after an
// HTTP/1 attempt whose body was read to its end. net/http's Transport
// calls GotConn with WasIdle only for a connection taken from the idle
// pool before any dial was queued, so a request that only ever got such
// connections started no dial that could call DNS, Connect or TLS hooks
// later; WroteRequest and GotFirstResponseByte run once each, before the
// body's end is seen. HTTP/2 is left out: its connections are shared and
// its GotConn says less.
func (a *attemptTrace) recyclable(http1 bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return http1 && a.gotConn && !a.dialed && !a.wrote.IsZero() && !a.firstByte.IsZero()
}

func (a *attemptTrace) hooks() httptrace.ClientTrace {
	// One closure per hook, each taking the lock itself: a shared helper
	// taking a func would cost a second allocation per hook and call.
	return httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) {
			a.mu.Lock()
			a.dnsStart, a.dialed = time.Now(), true
			a.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			a.mu.Lock()
			a.dns, a.dialed = since(a.dnsStart), true
			a.mu.Unlock()
		},
		ConnectStart: func(string, string) {
			a.mu.Lock()
			a.connStart, a.dialed = time.Now(), true
			a.mu.Unlock()
		},
		ConnectDone: func(string, string, error) {
			a.mu.Lock()
			a.connect, a.dialed = since(a.connStart), true
			a.mu.Unlock()
		},
		TLSHandshakeStart: func() {
			a.mu.Lock()
			a.tlsStart, a.dialed = time.Now(), true
			a.mu.Unlock()
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			a.mu.Lock()
			a.tls, a.dialed = since(a.tlsStart), true
			a.mu.Unlock()
		},
		GotConn: func(i httptrace.GotConnInfo) {
			a.mu.Lock()
			a.reused, a.gotConn = i.Reused, true
			if !i.WasIdle {
				a.dialed = true
			}
			a.mu.Unlock()
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			a.mu.Lock()
			a.wrote = time.Now()
			a.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			a.mu.Lock()
			a.firstByte = time.Now()
			a.mu.Unlock()
		},
	}
}

func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return time.Since(t)
}

// fill copies the attempt's phases into t; end is when the body was read.
func (a *attemptTrace) fill(t *Timings, end time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t.DNS, t.Connect, t.TLS, t.ConnReused = a.dns, a.connect, a.tls, a.reused
	if a.reused {
		// A dial this attempt started while it waited for a connection
		// still reports to it when a kept-alive one was handed over
		// first: the attempt did not wait for that dial.
		t.DNS, t.Connect, t.TLS = 0, 0, 0
	}
	t.TimeToFirstByte, t.Download = 0, 0
	if !a.wrote.IsZero() && !a.firstByte.IsZero() {
		t.TimeToFirstByte = a.firstByte.Sub(a.wrote)
	}
	if !a.firstByte.IsZero() && !end.IsZero() {
		t.Download = end.Sub(a.firstByte)
	}
}

// headerValues are the values of a request's header, in one array.
type headerValues [5]string

// exchange is one call on the wire: where it goes and what it carries.
type exchange struct {
	host      string
	sessionID string
	requestID string
	body      []byte
	// header, when set, is the call's own array for the values of its
	// first attempt's header (one allocation less a call); nil when the
	// exchange has none, and for later attempts, which get their own: the
	// transport may still read an earlier attempt's header.
	header *headerValues
	// secrets are the call's values (session id, visitor ids, tokens) the
	// edge or the network may echo; every error text is redacted with them.
	secrets *callSecrets
}

// post sends ex with retries by the client's policy, under ctx (which
// already carries the call's deadline). It returns the decoded response (an
// empty one for 204), the HTTP status and the timings; on failure the timings
// are in the error too (*APIError, *TransportError or *DecodeError).
func (c *Client) post(ctx context.Context, ex exchange) (*DeliveryResponse, int, Timings, error) {
	start := time.Now()
	var tm Timings
	u := c.deliveryURL(ex.host, ex.sessionID)
	maxAttempts := max(c.cfg.Retry.MaxAttempts, 1)
	var lastErr error
	for attempt := 1; ; attempt++ {
		tm.Attempts = attempt
		rec := c.beginAttempt(ctx, u, &ex, attempt)
		resp, status, err := c.attempt(rec.context(ctx), u, ex, &tm, rec)
		tm.Total = time.Since(start)
		if err == nil {
			c.endAttempt(rec, status, nil, tm, 0)
			return resp, status, tm, nil
		}
		lastErr = annotate(err, &ex, tm)
		if ctx.Err() != nil || !retryable(err) || attempt >= maxAttempts {
			c.endAttempt(rec, status, lastErr, tm, 0)
			break
		}
		wait := c.backoff(attempt, err)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			// Waiting would end past the deadline: give up now with the
			// real error rather than a timeout later.
			c.endAttempt(rec, status, lastErr, tm, 0)
			break
		}
		c.debug(ctx, "target: retrying", "requestId", ex.requestID, "attempt", attempt, "wait", wait, "error", lastErr)
		// The attempt ends here, but its record waits for the backoff: it
		// reports the wait that passed, not one a cancelled call skipped.
		rec.stop()
		waitStart := time.Now()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.endAttempt(rec, status, lastErr, tm, min(time.Since(waitStart), wait))
			tm.Total = time.Since(start)
			return nil, 0, tm, ctxError(ctx, lastErr, &ex, tm)
		case <-t.C:
		}
		c.endAttempt(rec, status, lastErr, tm, wait)
	}
	tm.Total = time.Since(start)
	// An answer (an error status, an undecodable body) is reported as it
	// is even when the deadline passed while it was read; a transport
	// failure under an ended context is the context's doing.
	var te *TransportError
	if ctx.Err() != nil && errors.As(lastErr, &te) {
		return nil, 0, tm, ctxError(ctx, lastErr, &ex, tm)
	}
	return nil, 0, tm, stamp(lastErr, &ex, tm)
}

// ctxError is the error of a call its context ended: a *TransportError
// wrapping ctx.Err() and, when the context was ended with one
// (WithCancelCause, WithTimeoutCause), its cause, so that errors.Is finds
// both context.Canceled or DeadlineExceeded and the cause; the attempt's
// error is Last.
func ctxError(ctx context.Context, last error, ex *exchange, tm Timings) error {
	cause := context.Cause(ctx)
	wrapped := cause
	if cause != ctx.Err() {
		wrapped = fmt.Errorf("%w: %w", ctx.Err(), cause)
	}
	e := &TransportError{Op: "call ended", Err: wrapped}
	var te *TransportError
	if last != nil && !errors.Is(last, cause) && !(errors.As(last, &te) && te.Status == 0 && errors.Is(te.Err, ctx.Err())) {
		e.Last = last
	}
	return annotate(e, ex, tm)
}

// backoff returns the wait before attempt+1: the edge's Retry-After if it
// sent one, else exponential from MinBackoff, capped at MaxBackoff, with
// "equal jitter" (half fixed, half random) so that many clients retrying
// together spread out.
func (c *Client) backoff(attempt int, err error) time.Duration {
	var api *APIError
	if errors.As(err, &api) && api.RetryAfter > 0 {
		return api.RetryAfter
	}
	lo, hi := c.cfg.Retry.MinBackoff, c.cfg.Retry.MaxBackoff
	if lo == 0 {
		lo = defaultMinBackoff
	}
	if hi == 0 {
		hi = max(defaultMaxBackoff, lo)
	}
	// Doubling saturates at hi: with bounds near MaxInt64 it would wrap
	// negative, and rand.N panics on a non-positive bound.
	d := min(lo, hi)
	for i := 1; i < attempt && d < hi; i++ {
		if d > hi/2 {
			d = hi
			break
		}
		d *= 2
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (c *Client) deliveryURL(host, sessionID string) string {
	return c.scheme + "://" + host + c.deliveryQuery + url.QueryEscape(sessionID)
}

// attempt makes one HTTP request. It fills the phase timings of tm.
func (c *Client) attempt(ctx context.Context, u string, ex exchange, tm *Timings, rec *attemptRecord) (*DeliveryResponse, int, error) {
	// The pool is for the client's own transport, unwrapped (the gate
	// passes the hooks on as they are): another RoundTripper may call the
	// hooks when it likes.
	tr := newAttemptTrace(ctx, c.gate != nil && c.gate.next == http.RoundTripper(c.transport))
	// Built when an error needs it: a call that succeeds pays nothing.
	op := func() string { return "POST " + c.scheme + "://" + ex.host + "/rest/v1/delivery" }
	if tr.pooled {
		// Its DNS and connect hooks come with a dial (see dialTraced).
		ctx = context.WithValue(ctx, dialTraceKey{}, tr)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &tr.trace), http.MethodPost, u, bytes.NewReader(ex.body))
	if err != nil {
		// prepare validated every part of the URL; this is a bug, not the
		// network, and another attempt would fail the same way.
		return nil, 0, &TransportError{Op: op(), Err: err}
	}
	// The header is built whole, its keys already in canonical form and its
	// values sharing one array (each slice capped, so that an Add by a
	// wrapping RoundTripper copies instead of overwriting a neighbour):
	// Header.Set would allocate a slice per value, 8 allocations a call.
	vals := ex.header
	if vals == nil || tm.Attempts > 1 {
		vals = new(headerValues)
	}
	*vals = headerValues{"application/json", "application/json", sdkName, sdkVersion, ex.requestID}
	h := req.Header
	h["Content-Type"] = vals[0:1:1]
	h["Accept"] = vals[1:2:2]
	h["X-Exc-Sdk"] = vals[2:3:3]
	h["X-Exc-Sdk-Version"] = vals[3:4:4]
	h["X-Request-Id"] = vals[4:5:5]
	rec.addHeaders(h)

	// The two debug records of every attempt check the level first: the
	// arguments of c.debug are boxed into a slice (3 allocations) before
	// it can see that the logger is off.
	debug := c.log.Enabled(ctx, slog.LevelDebug)
	if debug {
		c.debug(ctx, "target: request", "requestId", ex.requestID, "host", ex.host, "attempt", tm.Attempts)
		c.logBody(ctx, "target: request body", &ex, ex.body, false)
	}
	resp, err := c.send(req)
	if err != nil {
		tr.fill(tm, time.Time{})
		// *url.Error repeats the URL, session id included; keep only its
		// cause (a caller's transport built on an http.Client adds one
		// more; annotate scrubs any left deeper in the chain).
		err = stripURLErrors(err)
		return nil, 0, &TransportError{Op: op(), Err: err, retry: networkError(err)}
	}
	defer resp.Body.Close()

	// An answer from anywhere but where the request was sent is not the
	// edge's: its body is not read and it is not retried.
	if err := answeredElsewhere(req, resp); err != nil {
		tr.fill(tm, time.Now())
		return nil, 0, &TransportError{Op: op(), Err: err}
	}

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// The Delivery API never redirects, and the client follows no
		// redirect (see noRedirect): the body and Location are the
		// redirecting host's, so neither is read or echoed.
		tr.fill(tm, time.Now())
		c.debug(ctx, "target: response", "requestId", ex.requestID, "status", resp.StatusCode, "bytes", 0)
		return nil, resp.StatusCode, &APIError{Status: resp.StatusCode, Message: "redirect refused: " + http.StatusText(resp.StatusCode)}
	}

	limit := int64(MaxResponseSize)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	// The answer is read into a pooled buffer, given back when attempt
	// returns: nothing keeps it (encoding/json copies what it decodes,
	// RawMessage content included; the errors and the debug log copy
	// what they quote).
	buf := getBodyBuf()
	defer putBodyBuf(buf)
	body, err := readBody(resp.Body, resp.ContentLength, limit+1, buf)
	end := time.Now()
	tr.fill(tm, end)
	if err == nil {
		// The body was read to its end: the trace may go back.
		tr.release(resp.ProtoMajor == 1)
	}
	tm.ResponseSize = int64(len(body))
	if err != nil {
		// The edge has answered: the request may have been served, so the
		// broken body is not retried.
		return nil, resp.StatusCode, &TransportError{Op: "reading response", Status: resp.StatusCode, Err: err}
	}
	if debug {
		c.debug(ctx, "target: response", "requestId", ex.requestID, "status", resp.StatusCode, "bytes", len(body))
		c.logBody(ctx, "target: response body", &ex, body, true)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, apiError(resp, body)
	}
	if int64(len(body)) > limit {
		return nil, resp.StatusCode, &DecodeError{Status: resp.StatusCode, Size: int64(len(body)),
			Err: fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, MaxResponseSize)}
	}
	// 204 is the one success without a body; any other 2xx must carry a
	// Delivery response, and an empty one fails to decode below.
	if resp.StatusCode == http.StatusNoContent {
		return &DeliveryResponse{}, resp.StatusCode, nil
	}
	out, err := decodeResponse(body)
	if err != nil {
		return nil, resp.StatusCode, &DecodeError{Status: resp.StatusCode, Size: int64(len(body)), Err: err}
	}
	return out, resp.StatusCode, nil
}

// send sends req through the caller's http.Client when Config.HTTPClient
// gave one (its Jar, Timeout, CheckRedirect and Transport are the
// caller's to apply), else straight to the client's own RoundTripper (the
// gate, see firstconn.go). For the client's own http.Client, Do adds
// nothing the call uses: it has no Jar or Timeout, its CheckRedirect
// (noRedirect) hands a redirect back as the answer, as RoundTrip does,
// and the *url.Error it wraps a failure in is what attempt strips. But it
// copies the request's header on every request, for the redirects it
// would follow, and the URL too: 0.67 KB of a call's 9.5 KB and six
// allocations (BenchmarkRemoteCall). What http.Client checks of a
// RoundTripper's answer is checked here as well, since
// Config.WrapTransport may put the caller's RoundTripper behind the gate,
// and its http.ErrSchemeMismatch is kept. Two differences remain: a
// response that comes with an error is dropped without Do's log line, and
// a 3xx whose Location does not parse is refused as every other redirect
// (an *APIError, as noRedirect promises), where Do fails the call with a
// *TransportError (still so with a Config.HTTPClient).
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.gate == nil {
		return c.http.Do(req)
	}
	resp, err := c.gate.RoundTrip(req)
	switch {
	case err != nil:
		// As http.Client does, a response that comes with an error is
		// ignored, and a TLS record that starts like an HTTP answer (an
		// https client at a plain-HTTP edge or proxy) is reported as
		// http.ErrSchemeMismatch.
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		return nil, err
	case resp == nil:
		return nil, fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", c.gate.next)
	case resp.Body == nil:
		if resp.ContentLength > 0 {
			return nil, fmt.Errorf("http: RoundTripper implementation (%T) returned a *Response with content length %d but a nil Body", c.gate.next, resp.ContentLength)
		}
		resp.Body = http.NoBody
	}
	return resp, nil
}

// readBody reads at most max bytes of a body whose declared length is n
// (-1 when unknown) into *buf, keeping there the buffer it ends with (a
// larger one when *buf was too small), and returns the bytes read. A
// declared length that fits is read in one go into a buffer of at least
// that size: io.ReadAll would start at 512 bytes and grow, some four
// allocations and copies for a typical answer. net/http fails a body that
// ends before its declared length and stops one at it, so reading n bytes
// reads the whole body.
func readBody(r io.Reader, n, max int64, buf *[]byte) ([]byte, error) {
	if n >= 0 && n <= max {
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		k, err := io.ReadFull(r, b)
		return b[:k], err
	}
	// Unknown length: as io.ReadAll does, in the pooled buffer.
	lr := io.LimitReader(r, max)
	b := (*buf)[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
			*buf = b
		}
		k, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err != nil {
			*buf = b
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}

// maxPooledBody keeps the buffer of an unusually large answer out of
// bodyPool, so that the pool does not pin it.
const maxPooledBody = 64 << 10

// bodyPool holds the buffers answers are read into (see attempt): an
// answer read into a fresh buffer cost an allocation the size of the body
// on every call, a tenth of a call's bytes for a one-mbox answer and more
// for larger ones, and the bytes a call allocates set how often the
// garbage collector runs.
var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

func getBodyBuf() *[]byte { return bodyPool.Get().(*[]byte) }

// putBodyBuf gives buf back once nothing refers to its bytes.
func putBodyBuf(buf *[]byte) {
	if cap(*buf) > maxPooledBody {
		*buf = nil
	}
	bodyPool.Put(buf)
}

// errNotObject is the cause of a DecodeError for a body that is valid JSON
// but not an object (null, an array, a string, a number).
var errNotObject = errors.New("the body is not a JSON object")

// decodeResponse decodes a Delivery API response body. Unknown fields are
// accepted (the edge may add some); anything that is not one JSON object
// is an error naming what went wrong. encoding/json decodes null into a
// struct as "nothing", which would pass for an empty answer; so the first
// token must open an object.
func decodeResponse(body []byte) (*DeliveryResponse, error) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		if err := json.Unmarshal(body, new(any)); err != nil {
			return nil, fmt.Errorf("target: decoding response: %w", err)
		}
		return nil, fmt.Errorf("target: decoding response: %w", errNotObject)
	}
	// Unmarshal rejects anything after the object ("invalid character
	// after top-level value"), which a json.Decoder would leave unread; and
	// it reads the body in place, where a Decoder copies it into its own
	// buffer first (5 allocations and a copy of every response).
	var out DeliveryResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("target: decoding response: %w", err)
	}
	return &out, nil
}

// apiError turns a non-2xx answer into an *APIError, taking the message
// from the body when it is the API's {"status","message"} shape. The
// message is redacted by annotate before anyone sees it.
func apiError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	var ue UnexpectedError
	if json.Unmarshal(body, &ue) == nil {
		if ue.Message != "" {
			e.Message = ue.Message
		}
		e.EdgeStatus = ue.Status
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// maxRetryAfterSeconds keeps the conversion to a Duration from
// overflowing; any longer wait is past every deadline anyway.
const maxRetryAfterSeconds = int64(math.MaxInt64 / time.Second)

// parseRetryAfter reads a Retry-After value: delay seconds (digits only,
// as RFC 9110 has them) or an HTTP date. A delay too large for a Duration
// saturates instead of wrapping.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > maxRetryAfterSeconds {
			// Only a number too long for int64 fails here.
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
