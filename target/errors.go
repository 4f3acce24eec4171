package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
)

// A failed call comes back as one of three error types, each carrying what
// an operator needs to find the call in the edge's logs and in their own:
// the request id sent (X-Request-Id and requestId), the host asked, the
// number of attempts and the timings of the call so far. None of them holds
// a session id, visitor id or token, under any fmt verb: every text the
// edge or the network produced is redacted with the call's secrets (see
// callSecrets) before it is stored.

// APIError is an answer other than 2xx from the edge. Status is the HTTP
// status; Message is the edge's message ({"status":N,"message":"..."}), or
// the status text when the body has none. A redirect (3xx) is an APIError
// too: the Delivery API never redirects, so the client follows none, sends
// nothing to the Location and reads nothing of the body.
type APIError struct {
	Status int
	// Message is the edge's message with the request's session id, visitor
	// ids and tokens replaced by "[redacted]", since the edge may quote the
	// request in it.
	Message string
	// EdgeStatus is the status field of the edge's error body, zero when
	// the body has none.
	EdgeStatus int
	// RetryAfter is the wait the edge asked for with a Retry-After header
	// (429, 503), zero when absent or unparsable; a delay too large for a
	// Duration saturates. The client never waits past the call's deadline:
	// a Retry-After longer than the time left ends the call at once with
	// this error.
	RetryAfter time.Duration
	// RequestID is the request id the call sent.
	RequestID string
	// Host is the host the call was sent to.
	Host string
	// Attempts is how many requests the call made, this answer's included.
	Attempts int
	// Timings are the call's measured phases, each field with the scope
	// its doc states (the phases are the last attempt's).
	Timings Timings
}

// Error gives the status, the edge's message (redacted), the request id,
// host and attempts.
func (e *APIError) Error() string {
	return fmt.Sprintf("target: edge answered %d: %s (%s)", e.Status, e.Message, callSummary(e.RequestID, e.Host, e.Attempts))
}

// TransportError is a call that got no usable answer: the connection
// failed, the request could not be written, the body broke off, or the
// call's context ended (deadline, cancellation). Err is the cause, so that
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, &opErr) with
// opErr a *net.OpError see through it.
type TransportError struct {
	// Op says what failed: "POST https://{host}/rest/v1/delivery" (the
	// query, which holds the session id, is left out), "reading response"
	// or "call ended"; for an artifact download or a geo lookup whose
	// answer came from another host, "GET {location}" (an artifact
	// location shown as in ArtifactDownloadError), without a RequestID.
	Op string
	// Status is the HTTP status when the failure came after the answer's
	// headers (reading its body), zero otherwise.
	Status    int
	RequestID string
	Host      string
	Attempts  int
	Timings   Timings
	// Err is the cause, behind a wrapper whose text is redacted; errors.Is
	// and errors.As see through it, errors.Unwrap does not reach the raw
	// cause.
	Err error
	// Last is, for a call its context ended, the error of the last attempt
	// before it, if any; errors.Is and errors.As do not look at it.
	Last error

	text  string // the rendering of Err and Last, redacted
	retry bool   // a network error before any answer: worth another attempt
}

// Error names the operation, the cause (redacted) and the call.
func (e *TransportError) Error() string {
	text := e.text
	if text == "" && e.Err != nil {
		text = e.Err.Error()
	}
	return "target: " + e.Op + ": " + text + " (" + callSummary(e.RequestID, e.Host, e.Attempts) + ")"
}

// Unwrap returns Err.
func (e *TransportError) Unwrap() error { return e.Err }

// DecodeError is a 2xx answer that is not a Delivery response: not one JSON
// object (null, an array, trailing data), JSON that does not fit the model,
// or a body over MaxResponseSize (then errors.Is(err, ErrResponseTooLarge)).
// Err is the cause (*json.SyntaxError, *json.UnmarshalTypeError, ...).
type DecodeError struct {
	Status    int
	RequestID string
	Host      string
	Attempts  int
	Timings   Timings
	// Size is how many bytes of the body were read.
	Size int64
	Err  error

	text string // the rendering of Err, redacted
}

// Error names the status, the cause (redacted) and the call.
func (e *DecodeError) Error() string {
	text := e.text
	if text == "" && e.Err != nil {
		text = e.Err.Error()
	}
	return fmt.Sprintf("target: decoding response (status %d): %s (%s)", e.Status, text, callSummary(e.RequestID, e.Host, e.Attempts))
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

func callSummary(requestID, host string, attempts int) string {
	if requestID == "" {
		// An artifact download or a geo lookup sends no request id.
		return "host " + host + ", attempts " + strconv.Itoa(attempts)
	}
	return "request " + requestID + ", host " + host + ", attempts " + strconv.Itoa(attempts)
}

// retryable reports whether a failed attempt may be repeated, as the
// RetryPolicy names it: 429, 5xx and network errors before any answer. A
// request the client could not build or write the same way twice (a bad
// header, a redirect, a TLS certificate) is not retried, nor any answer
// that would come back the same.
func retryable(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.Status == http.StatusTooManyRequests || api.Status >= 500
	}
	var te *TransportError
	return errors.As(err, &te) && te.retry
}

// networkError reports whether err, returned by http.Client.Do, is the
// network failing (a dial, a reset, a timeout of a connection, a connection
// closed before the answer) rather than the request being refused before
// it left: only those are retried.
func networkError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// answeredElsewhere returns the cause of a *TransportError when resp is
// not the answer to req itself, nil when it is. The client's http.Client
// follows no redirect (noRedirect), but a caller's Transport may follow
// them itself (one built on an http.Client, as retry and tracing wrappers
// are), out of reach of CheckRedirect: the request has then already gone
// elsewhere, and the answer must not pass for the edge's, the CDN's or the
// geo service's. A redirect is known by the request that got the answer:
// net/http sets its Response (the redirect's) on every request it makes to
// follow one, so a same-host 302 (the POST turned into a GET of another
// path) and a bounce back (edge, other host, edge) are refused as well as
// an answer from another host or scheme. Every request the SDK makes goes
// through this check. Only schemes and hosts are named: paths and queries
// may hold a token or a signature.
func answeredElsewhere(req *http.Request, resp *http.Response) error {
	got := resp.Request
	if got == nil || got.URL == nil {
		return nil
	}
	if got.Response == nil && got.Method == req.Method && got.URL.Scheme == req.URL.Scheme && got.URL.Host == req.URL.Host {
		return nil
	}
	// The hosts the request went through, latest first, as far as the
	// redirects' requests tell.
	var via []string
	for r := got.Response; r != nil && r.Request != nil && r.Request.URL != nil && len(via) < 10; r = r.Request.Response {
		via = append(via, r.Request.URL.Scheme+"://"+r.Request.URL.Host)
	}
	msg := fmt.Sprintf("the answer (%d) came from %s://%s", resp.StatusCode, got.URL.Scheme, got.URL.Host)
	if got.Method != req.Method {
		msg += " to a " + got.Method
	}
	if len(via) > 0 {
		slices.Reverse(via)
		msg += " after a redirect from " + strings.Join(via, " then ")
	}
	return errors.New(msg + ": the transport followed a redirect")
}

// callSecrets are the values of one call that must never appear in an
// error or a log record: the session id and every visitor id, token and
// parameter value the request carries, in every form the edge may quote them (a tntId also
// without its ".{cluster}_{node}" suffix, values also URL-encoded). It is
// built on first use, only when a call fails, and then shared by every
// redaction of that call.
//
// Ids, tokens and parameter values that look like ids (with a digit, an
// '@' or any other character than letters, '-', '_' and spaces: emails,
// numbers, codes) are replaced wherever they appear. A parameter value
// that is only words ("hero", "true", "Home page") is replaced only as a
// whole token (not inside a longer word), and not at all when it is a JSON
// literal (true, false, null) or a name that is no secret in the same
// request: an mbox or view name, a parameter name, or a constant of the
// SDK's wire format (a field name such as "parameters", an enumerated
// value such as "server_side"). Such a value says nothing about the
// visitor that the message would not say anyway, and replacing it would
// garble every message that uses the word.
type callSecrets struct {
	p        *prepared
	list     []string
	words    []string // word-like parameter values, replaced as whole tokens
	replacer *strings.Replacer
	done     bool
}

// redact replaces every secret of the call in msg with "[redacted]", in
// one pass: a short secret is not looked for inside the "[redacted]" that
// replaced a longer one.
func (s *callSecrets) redact(msg string) string {
	s.get()
	if s.replacer != nil {
		msg = s.replacer.Replace(msg)
	}
	for _, w := range s.words {
		msg = replaceToken(msg, w)
	}
	return msg
}

// replaceToken replaces w in msg with "[redacted]" where it is a whole
// token: neither the byte before nor the byte after is a letter, digit or
// '_'.
func replaceToken(msg, w string) string {
	var b strings.Builder
	rest := msg
	for {
		i := strings.Index(rest, w)
		if i < 0 {
			break
		}
		end := i + len(w)
		before := len(msg) - len(rest) + i
		if (before == 0 || !wordByte(msg[before-1])) && (end == len(rest) || !wordByte(rest[end])) {
			b.WriteString(rest[:i])
			b.WriteString("[redacted]")
		} else {
			b.WriteString(rest[:end])
		}
		rest = rest[end:]
	}
	if b.Len() == 0 {
		return msg
	}
	b.WriteString(rest)
	return b.String()
}

func wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// wordLike reports whether v is made of letters, '-', '_' and spaces
// only: a word, not an id, email or number.
func wordLike(v string) bool {
	for _, r := range v {
		if !(unicode.IsLetter(r) || r == '-' || r == '_' || r == ' ') {
			return false
		}
	}
	return true
}

// wireNames are the field names of the Delivery request's JSON and the
// enumerated values the SDK sends: no secret, whatever a parameter value
// equal to one of them means.
var wireNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, v := range []string{"web", "mobile", "phone", "tablet", "android", "ios", "portrait", "landscape",
		"server_side", "client_side", "click", "display", "html", "json", "redirect", "dynamic", "actions"} {
		names[v] = true
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				names[name] = true
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[DeliveryRequest]())
	return names
})

func (s *callSecrets) get() []string {
	if s.done || s.p == nil {
		return s.list
	}
	s.done = true
	var out []string
	add := func(v string) {
		if !redactable(v) {
			return
		}
		out = append(out, v)
		if q := url.QueryEscape(v); q != v {
			out = append(out, q)
		}
		if q := url.PathEscape(v); q != v {
			out = append(out, q)
		}
		// As a JSON string's content, with and without HTML escaping: the
		// edge may quote the request's JSON in its message.
		if b, err := json.Marshal(v); err == nil {
			if q := string(b[1 : len(b)-1]); q != v {
				out = append(out, q)
			}
		}
		if b, err := encodeJSON(v); err == nil {
			if q := string(b[1 : len(b)-1]); q != v {
				out = append(out, q)
			}
		}
	}
	add(s.p.sessionID)
	r := s.p.req
	var params []string
	addParam := func(v string) {
		if !wordLike(v) {
			add(v)
		} else if redactable(v) {
			params = append(params, v)
		}
	}
	if id := r.ID; id != nil {
		add(id.TntID)
		// The edge may quote a tntId without its ".{cluster}_{node}"
		// location hint, or without the node.
		if base, _, ok := strings.Cut(id.TntID, "."); ok {
			add(base)
		}
		if i := strings.LastIndexByte(id.TntID, '_'); i > 0 {
			add(id.TntID[:i])
		}
		add(id.ThirdPartyID)
		add(id.MarketingCloudVisitorID)
		for _, c := range id.CustomerIDs {
			add(c.ID)
		}
	}
	if s.p.tntID != "" && (r.ID == nil || r.ID.TntID != s.p.tntID) {
		add(s.p.tntID)
	}
	// The visitor's address identifies them as well as an id does.
	if r.Context != nil && r.Context.Geo != nil {
		add(r.Context.Geo.IPAddress)
	}
	if r.Property != nil {
		add(r.Property.Token)
	}
	if r.Trace != nil {
		add(r.Trace.AuthorizationToken)
	}
	if r.QAMode != nil {
		add(r.QAMode.Token)
	}
	if r.Preview != nil {
		add(r.Preview.Token)
	}
	if ec := r.ExperienceCloud; ec != nil && ec.AudienceManager != nil {
		add(ec.AudienceManager.Blob)
	}
	details := func(d *RequestDetails) {
		if d == nil {
			return
		}
		if d.Order != nil {
			add(d.Order.ID)
		}
		// Parameter values are the visitor's: profile attributes (an
		// email, a loyalty number), search terms, at.js's mbox3rdPartyId.
		// Their names are the customer's, the same for every visitor, and
		// stay readable (see callSecrets for word-like values).
		for _, v := range d.Parameters {
			addParam(v)
		}
		for _, v := range d.ProfileParameters {
			addParam(v)
		}
	}
	if ex := r.Execute; ex != nil {
		details(ex.PageLoad)
		for i := range ex.Mboxes {
			details(&ex.Mboxes[i].RequestDetails)
		}
	}
	if pf := r.Prefetch; pf != nil {
		details(pf.PageLoad)
		for i := range pf.Mboxes {
			details(&pf.Mboxes[i].RequestDetails)
		}
		for i := range pf.Views {
			details(&pf.Views[i].RequestDetails)
		}
	}
	for i := range r.Notifications {
		n := &r.Notifications[i]
		details(&n.RequestDetails)
		for _, t := range n.Tokens {
			add(t)
		}
		// A state token replays the decision it was issued for.
		if n.Mbox != nil {
			add(n.Mbox.State)
		}
		if n.View != nil {
			add(n.View.State)
		}
		if n.PageLoad != nil {
			add(n.PageLoad.State)
		}
	}
	if r.Telemetry != nil {
		for _, e := range r.Telemetry.Entries {
			add(e.TelemetryServerToken)
		}
	}
	if len(params) > 0 {
		names := requestNames(r)
		for _, v := range params {
			if t := strings.TrimSpace(v); names[t] || wireNames()[t] || t == "true" || t == "false" || t == "null" {
				continue
			}
			// Escaped forms differ from v only where it has spaces.
			s.words = append(s.words, v, url.QueryEscape(v), url.PathEscape(v))
		}
		slices.SortFunc(s.words, func(a, b string) int { return len(b) - len(a) })
		s.words = slices.Compact(s.words)
	}
	// Longest first, so that a tntId is replaced whole before its shorter
	// base would leave the suffix, and duplicates go.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	s.list = slices.Compact(out)
	if len(s.list) > 0 {
		pairs := make([]string, 0, 2*len(s.list))
		for _, v := range s.list {
			pairs = append(pairs, v, "[redacted]")
		}
		s.replacer = strings.NewReplacer(pairs...)
	}
	return s.list
}

// requestNames are the names in r that are no secret: its mboxes' and
// views' names and its parameters' names.
func requestNames(r *DeliveryRequest) map[string]bool {
	names := map[string]bool{}
	details := func(d *RequestDetails) {
		if d == nil {
			return
		}
		for k := range d.Parameters {
			names[k] = true
		}
		for k := range d.ProfileParameters {
			names[k] = true
		}
	}
	mboxes := func(ms []MboxRequest) {
		for i := range ms {
			names[ms[i].Name] = true
			details(&ms[i].RequestDetails)
		}
	}
	if ex := r.Execute; ex != nil {
		details(ex.PageLoad)
		mboxes(ex.Mboxes)
	}
	if pf := r.Prefetch; pf != nil {
		details(pf.PageLoad)
		mboxes(pf.Mboxes)
		for i := range pf.Views {
			names[pf.Views[i].Name] = true
			details(&pf.Views[i].RequestDetails)
		}
	}
	for i := range r.Notifications {
		n := &r.Notifications[i]
		details(&n.RequestDetails)
		if n.Mbox != nil {
			names[n.Mbox.Name] = true
		}
		if n.View != nil {
			names[n.View.Name] = true
		}
	}
	return names
}

// minRedactLen is the shortest value redaction looks for. A shorter value
// (a one-character customer id, a blank blob) identifies nobody but turns up
// by chance in any message, so replacing it would garble the message (every
// space, every digit "1") while hiding nothing.
const minRedactLen = 4

// redactable reports whether v is worth looking for in a message: at least
// minRedactLen bytes once surrounding white space is trimmed.
func redactable(v string) bool { return len(strings.TrimSpace(v)) >= minRedactLen }

// redact replaces every secret in msg with "[redacted]".
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if redactable(s) && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// annotate stores in err, a new error of one attempt, what the operator
// needs (request id, host, attempts, timings) and the redacted rendering
// of its cause, so that the error can be logged and returned as it is.
func annotate(err error, ex *exchange, tm Timings) error {
	switch e := err.(type) {
	case *APIError:
		e.Message = ex.secrets.redact(e.Message)
	case *TransportError:
		// The cause is scrubbed first: its text then shows every URL it
		// quotes without the query.
		e.Err = redactCause(e.Err, ex.secrets)
		var text string
		if e.Err != nil {
			text = e.Err.Error()
		}
		if e.Last != nil {
			text += " (last attempt: " + e.Last.Error() + ")"
		}
		e.text = ex.secrets.redact(text)
	case *DecodeError:
		e.Err = redactCause(e.Err, ex.secrets)
		if e.Err != nil {
			e.text = e.Err.Error()
		}
	}
	return stamp(err, ex, tm)
}

// redactedError stands for the cause of a TransportError, DecodeError or
// failed artifact download or geo lookup: its text is redacted, and
// errors.Is and errors.As see the cause through its Is and As methods. It
// has no Unwrap: a caller walking the chain with errors.Unwrap, and
// printing each link, would print the cause's raw text (a caller's
// transport may quote the URL, session id or signature included).
type redactedError struct {
	err   error
	text  string
	scrub scrubber
}

// scrubber says how a cause is shown: a transport built on an
// http.Client returns its own *url.Error, which the client's http.Client
// wraps in another, so a cause may hold any number of them, each quoting
// the URL, and be wrapped by the caller's errors in between.
type scrubber struct {
	url  func(string) string // a URL a *url.Error of the cause quotes, as it may be shown
	text func(string) string // the cause's text once its URLs are replaced; nil keeps it
}

// wrap returns err behind a redactedError (err itself when nil or
// already one).
func (s scrubber) wrap(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	msg := err.Error()
	for _, u := range urlsIn(err, nil) {
		if u == "" {
			continue
		}
		shown := s.url(u)
		msg = strings.ReplaceAll(msg, u, shown)
		// url.Error quotes the URL with %q.
		if q := strconv.Quote(u); q[1:len(q)-1] != u {
			msg = strings.ReplaceAll(msg, q[1:len(q)-1], shown)
		}
	}
	if s.text != nil {
		msg = s.text(msg)
	}
	return &redactedError{err: err, text: msg, scrub: s}
}

// urlsIn appends the URL of every *url.Error in err's chain to out.
func urlsIn(err error, out []string) []string {
	for depth := 0; err != nil && depth < 100; depth++ {
		if ue, ok := err.(*url.Error); ok {
			out = append(out, ue.URL)
		}
		switch e := err.(type) {
		case *redactedError:
			err = e.err
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				out = urlsIn(inner, out)
			}
			return out
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return out
		}
	}
	return out
}

// stripURLErrors returns the cause of err when err is a *url.Error, of
// its cause when that is one too, and so on: each repeats the whole URL.
func stripURLErrors(err error) error {
	for {
		ue, ok := err.(*url.Error)
		if !ok || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

// withoutQuery returns location without its user info, query and
// fragment, where signatures, tokens and session ids go.
func withoutQuery(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return "[unparsable URL]"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

func redactCause(err error, secrets *callSecrets) error {
	return scrubber{
		url:  func(u string) string { return secrets.redact(withoutQuery(u)) },
		text: secrets.redact,
	}.wrap(err)
}

func (e *redactedError) Error() string { return e.text }

// GoString keeps %#v from printing the cause's fields.
func (e *redactedError) GoString() string { return strconv.Quote(e.text) }

// Is reports whether the cause matches target, as errors.Is would.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// As finds the first error in the cause's chain that matches target. A
// *url.Error found (asked for as one, or as an interface it implements,
// such as net.Error) is handed out as a copy whose URL and cause are
// scrubbed: the raw one quotes the URL.
func (e *redactedError) As(target any) bool {
	if !errors.As(e.err, target) {
		return false
	}
	v := reflect.ValueOf(target).Elem()
	if ue, ok := v.Interface().(*url.Error); ok && ue != nil {
		v.Set(reflect.ValueOf(&url.Error{Op: ue.Op, URL: e.scrub.url(ue.URL), Err: e.scrub.wrap(ue.Err)}))
	}
	return true
}

// stamp sets the call's fields of err, already annotated, again: the
// attempts and timings grow until the call ends.
func stamp(err error, ex *exchange, tm Timings) error {
	switch e := err.(type) {
	case *APIError:
		e.RequestID, e.Host, e.Attempts, e.Timings = ex.requestID, ex.host, tm.Attempts, tm
	case *TransportError:
		e.RequestID, e.Host, e.Attempts, e.Timings = ex.requestID, ex.host, tm.Attempts, tm
	case *DecodeError:
		e.RequestID, e.Host, e.Attempts, e.Timings = ex.requestID, ex.host, tm.Attempts, tm
	}
	return err
}
