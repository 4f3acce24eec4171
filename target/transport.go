package target

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
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
// telemetry. DNS, Connect and TLS are zero when a kept-alive connection was
// reused. Phases describe the last attempt; Total and Attempts cover the
// whole call, backoff included.
type Timings struct {
	DNS             time.Duration `json:"dns"`
	Connect         time.Duration `json:"connect"`
	TLS             time.Duration `json:"tls"`
	TimeToFirstByte time.Duration `json:"timeToFirstByte"` // from the request written to the first response byte
	Download        time.Duration `json:"download"`        // from the first response byte to the end of the body
	Total           time.Duration `json:"total"`
	Attempts        int           `json:"attempts"`
	ConnReused      bool          `json:"connReused"`
	ResponseSize    int64         `json:"responseSize"`
}

// attemptTrace records one attempt's phases. httptrace hooks may run on the
// transport's dialing goroutines, even after the attempt gave up, so every
// field is under mu.
type attemptTrace struct {
	mu                            sync.Mutex
	dnsStart, connStart, tlsStart time.Time
	dns, connect, tls             time.Duration
	wrote, firstByte              time.Time
	reused                        bool
}

func (a *attemptTrace) clientTrace() *httptrace.ClientTrace {
	// One closure per hook, each taking the lock itself: a shared helper
	// taking a func would cost a second allocation per hook and call.
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) {
			a.mu.Lock()
			a.dnsStart = time.Now()
			a.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			a.mu.Lock()
			a.dns = since(a.dnsStart)
			a.mu.Unlock()
		},
		ConnectStart: func(string, string) {
			a.mu.Lock()
			a.connStart = time.Now()
			a.mu.Unlock()
		},
		ConnectDone: func(string, string, error) {
			a.mu.Lock()
			a.connect = since(a.connStart)
			a.mu.Unlock()
		},
		TLSHandshakeStart: func() {
			a.mu.Lock()
			a.tlsStart = time.Now()
			a.mu.Unlock()
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			a.mu.Lock()
			a.tls = since(a.tlsStart)
			a.mu.Unlock()
		},
		GotConn: func(i httptrace.GotConnInfo) {
			a.mu.Lock()
			a.reused = i.Reused
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
	t.TimeToFirstByte, t.Download = 0, 0
	if !a.wrote.IsZero() && !a.firstByte.IsZero() {
		t.TimeToFirstByte = a.firstByte.Sub(a.wrote)
	}
	if !a.firstByte.IsZero() && !end.IsZero() {
		t.Download = end.Sub(a.firstByte)
	}
}

// exchange is one call on the wire: where it goes and what it carries.
type exchange struct {
	host      string
	sessionID string
	requestID string
	body      []byte
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
		resp, status, err := c.attempt(ctx, u, ex, &tm)
		tm.Total = time.Since(start)
		if err == nil {
			return resp, status, tm, nil
		}
		lastErr = annotate(err, &ex, tm)
		if ctx.Err() != nil || !retryable(err) || attempt >= maxAttempts {
			break
		}
		wait := c.backoff(attempt, err)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			// Waiting would end past the deadline: give up now with the
			// real error rather than a timeout later.
			break
		}
		c.debug(ctx, "target: retrying", "requestId", ex.requestID, "attempt", attempt, "wait", wait, "error", lastErr)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			tm.Total = time.Since(start)
			return nil, 0, tm, ctxError(ctx, lastErr, &ex, tm)
		case <-t.C:
		}
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
// wrapping the context's cause, so that errors.Is finds context.Canceled or
// DeadlineExceeded, with the attempt's error as Last.
func ctxError(ctx context.Context, last error, ex *exchange, tm Timings) error {
	cause := context.Cause(ctx)
	e := &TransportError{Op: "call ended", Err: cause}
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
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(d-half+1)
}

func (c *Client) deliveryURL(host, sessionID string) string {
	return c.scheme + "://" + host + "/rest/v1/delivery?imsOrgId=" + url.QueryEscape(c.cfg.OrganizationID) +
		"&sessionId=" + url.QueryEscape(sessionID)
}

// attempt makes one HTTP request. It fills the phase timings of tm.
func (c *Client) attempt(ctx context.Context, u string, ex exchange, tm *Timings) (*DeliveryResponse, int, error) {
	var tr attemptTrace
	op := "POST " + c.scheme + "://" + ex.host + "/rest/v1/delivery"
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), http.MethodPost, u, bytes.NewReader(ex.body))
	if err != nil {
		// prepare validated every part of the URL; this is a bug, not the
		// network, and another attempt would fail the same way.
		return nil, 0, &TransportError{Op: op, Err: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("X-EXC-SDK", sdkName)
	h.Set("X-EXC-SDK-Version", sdkVersion)
	h.Set("X-Request-Id", ex.requestID)

	c.debug(ctx, "target: request", "requestId", ex.requestID, "host", ex.host, "attempt", tm.Attempts)
	resp, err := c.http.Do(req)
	if err != nil {
		tr.fill(tm, time.Time{})
		// *url.Error repeats the URL, session id included; keep only its
		// cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, &TransportError{Op: op, Err: err, retry: networkError(err)}
	}
	defer resp.Body.Close()

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
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	end := time.Now()
	tr.fill(tm, end)
	tm.ResponseSize = int64(len(body))
	if err != nil {
		// The edge has answered: the request may have been served, so the
		// broken body is not retried.
		return nil, resp.StatusCode, &TransportError{Op: "reading response", Status: resp.StatusCode, Err: err}
	}
	c.debug(ctx, "target: response", "requestId", ex.requestID, "status", resp.StatusCode, "bytes", len(body))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, apiError(resp, body)
	}
	if int64(len(body)) > limit {
		return nil, resp.StatusCode, &DecodeError{Status: resp.StatusCode, Size: int64(len(body)),
			Err: fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, MaxResponseSize)}
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 && resp.StatusCode != http.StatusOK {
		return &DeliveryResponse{}, resp.StatusCode, nil
	}
	out, err := decodeResponse(body)
	if err != nil {
		return nil, resp.StatusCode, &DecodeError{Status: resp.StatusCode, Size: int64(len(body)), Err: err}
	}
	return out, resp.StatusCode, nil
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
	var out DeliveryResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("target: decoding response: %w", err)
	}
	// Decoder.More stops at a stray ']' or '}': look at the rest itself.
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return nil, errors.New("target: decoding response: data after the JSON object")
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
