package target

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// Observer is how a Client reports what it does, for traces, metrics and
// logs: it calls these functions at the start and end of each call, each
// HTTP attempt and each on-device decision, and after each notification
// delivery and artifact download. Package targetotel builds one on
// OpenTelemetry; any field may be nil.
//
// The functions run synchronously on the goroutine doing the work (the
// caller's for invalid options and on-device decisions, the call's own
// otherwise, the polling goroutine for artifact downloads), so they must
// be quick, must not block and must not panic; they may run concurrently
// with each other. A Start function returns the context the work goes on
// with (the ctx it was given, or one derived from it, carrying a span say):
// the matching Done function gets that context back, and the nested steps
// of a call (its attempts, its decision) start from it. Each Start is
// followed by exactly one Done with the same event pointer, before the
// call's future settles, so a caller that has awaited a call sees its
// events complete; CallDone runs even when the call's work panics (with
// ErrorKindPanic), while a panic inside an attempt or a decision, a bug of
// the client, skips their Done. A panic or runtime.Goexit in AttemptStart
// or AttemptDone fails the call, on its own goroutine as on the
// notification queue's: with a *future.PanicError carrying the panic's
// value and stack, or with an error saying that its work called
// runtime.Goexit (ErrorKindPanic either way); the calls sent with it in
// one queued request fail the same way, and the queue goes on with the
// next ones. One that blocks in a queued request holds that request only:
// Client.Close(ctx) does not wait for it once ctx has ended (the calls are
// then dropped with ErrClientClosed). A Start function that returns a nil
// context leaves the work with the one it was given. A panic in
// Notifications, ArtifactDownload, or the CallDone of a SendNotifications
// call, which run outside any call's future, is recovered and logged with
// its stack (to Config.Logger, else slog.Default()), and the work goes on;
// a runtime.Goexit in that CallDone ends the goroutine it runs on (it
// cannot be stopped) but is logged too, and the other calls the queue
// settles with it still settle. Events hold no secret of the call: the
// session id, visitor ids and tokens are left out, replaced by
// "[redacted]" in error texts (the rule of the client's errors), and by
// "REDACTED" in URLs (the rule of OpenTelemetry's semantic conventions).
//
// The functions must not call the Client's Close: some run in work that
// Close waits for (a decision, the notification queue, the artifact
// polling). Close called from one of those does not deadlock: it marks the
// Client closed, waits for nothing and returns ErrCloseInObserver.
//
// A Config without an Observer pays for none of this: the client checks one
// pointer per step (BenchmarkGetOffers: the same allocations per call with
// and without this hook in the code).
type Observer struct {
	// CallStart is called when a GetOffers or SendNotifications call starts,
	// after its options were read; a call with invalid options gets its
	// CallStart and CallDone at once.
	CallStart func(ctx context.Context, e *CallEvent) context.Context
	// CallDone is called when the call's outcome is known, before its
	// future settles.
	CallDone func(ctx context.Context, e *CallEvent)
	// AttemptStart is called before each HTTP request to the edge, with the
	// request's headers: an observer may add to them (a trace context, say)
	// but must not change what the client set.
	AttemptStart func(ctx context.Context, e *AttemptEvent) context.Context
	// AttemptDone is called when the attempt's answer was read or it
	// failed and the client has decided whether to retry; when it retries,
	// after the wait before the next attempt (see AttemptEvent.Backoff).
	AttemptDone func(ctx context.Context, e *AttemptEvent)
	// DecisionStart is called before an on-device decision.
	DecisionStart func(ctx context.Context, e *DecisionEvent) context.Context
	// DecisionDone is called when the on-device decision is made.
	DecisionDone func(ctx context.Context, e *DecisionEvent)
	// Notifications is called when display notifications of on-device
	// decisions are queued for delivery, sent, or dropped. Queued comes
	// on the call's goroutine, before its CallDone, with the call's
	// context; sent and dropped come with the call's context too, on the
	// notification queue's goroutine (or the call's, when the queue was
	// quicker), in no order against the call's CallDone: they may come
	// before it.
	Notifications func(ctx context.Context, e NotificationEvent)
	// ArtifactDownload is called after each download of the on-device
	// artifact, successful, unchanged (304) or failed.
	ArtifactDownload func(ctx context.Context, e ArtifactEvent)
	// ClientClosed is called once per Client, by its Close, when the
	// artifact polling has ended: no ArtifactDownload of that Client
	// follows, and what an observer keeps for it (the age of its
	// artifact, say) can go. Other functions may still be called for the
	// calls made after Close (server-side GetOffers keep working). A
	// Close that waits for nothing (called from a callback) leaves it to
	// run when the polling goroutine ends, on a goroutine of its own. ctx
	// is Close's context, without its cancellation. A panic in it is
	// recovered and logged, as in Notifications.
	ClientClosed func(ctx context.Context, e ClientEvent)
}

// ClientEvent names the Client that ended, for Observer.ClientClosed.
type ClientEvent struct {
	// Client is the Target client code of the Client.
	Client string
	// Instance is the Client's number, as in ArtifactEvent.
	Instance uint64
}

// ErrCloseInObserver is the error of a Client.Close called from an
// Observer function: the Client is marked closed, but Close waited for
// nothing (see Observer).
var ErrCloseInObserver = errors.New("target: Close called from an Observer function: it waited for nothing")

// clientInstances numbers the Clients of the process, from 1.
var clientInstances atomic.Uint64

// Operation names a Client call in CallEvent.
type Operation string

// The Client's calls. GetAttributes is a GetOffers call.
const (
	OpGetOffers         Operation = "GetOffers"
	OpSendNotifications Operation = "SendNotifications"
)

// ErrorKind classifies why a call, an attempt or a download failed, for
// metrics and spans: a short, fixed set of values, unlike error texts.
type ErrorKind string

// The kinds of failure. The empty ErrorKind means no failure.
const (
	// ErrorKindInvalidOption: *OptionError, or OnDevice or Hybrid asked of
	// a Client without on-device decisioning.
	ErrorKindInvalidOption ErrorKind = "invalid_option"
	// ErrorKindAPI: an *APIError, the edge answered with a non-2xx status.
	ErrorKindAPI ErrorKind = "api"
	// ErrorKindTransport: no answer (dial, reset, broken body).
	ErrorKindTransport ErrorKind = "transport"
	// ErrorKindDecode: an answer that is not a Delivery response, or is
	// too large.
	ErrorKindDecode ErrorKind = "decode"
	// ErrorKindTimeout: the call's deadline passed.
	ErrorKindTimeout ErrorKind = "timeout"
	// ErrorKindCanceled: the call's context was cancelled.
	ErrorKindCanceled ErrorKind = "canceled"
	// ErrorKindClosed: the Client was closed.
	ErrorKindClosed ErrorKind = "closed"
	// ErrorKindNotReady: on-device decisioning has no artifact yet.
	ErrorKindNotReady ErrorKind = "not_ready"
	// ErrorKindArtifact: an artifact download failed or the artifact is
	// unusable.
	ErrorKindArtifact ErrorKind = "artifact"
	// ErrorKindPanic: the call's work panicked or called runtime.Goexit.
	ErrorKindPanic ErrorKind = "panic"
	// ErrorKindOther: anything else.
	ErrorKindOther ErrorKind = "other"
)

// errorKind classifies err; "" for nil. The context's errors come first:
// an attempt cut short by the deadline fails with a transport error that
// wraps it.
func errorKind(err error) ErrorKind {
	var (
		opt    *OptionError
		api    *APIError
		te     *TransportError
		de     *DecodeError
		dl     *ArtifactDownloadError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		pe     *future.PanicError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorKindTimeout
	case errors.Is(err, context.Canceled):
		return ErrorKindCanceled
	case errors.As(err, &opt), errors.Is(err, ErrOnDeviceUnavailable):
		return ErrorKindInvalidOption
	case errors.As(err, &api):
		return ErrorKindAPI
	case errors.As(err, &te):
		return ErrorKindTransport
	case errors.As(err, &de), errors.Is(err, ErrResponseTooLarge), errors.As(err, &syntax), errors.As(err, &typ):
		return ErrorKindDecode
	case errors.Is(err, ErrClientClosed), errors.Is(err, ErrProviderClosed):
		return ErrorKindClosed
	case errors.Is(err, ErrArtifactNotReady):
		return ErrorKindNotReady
	case errors.As(err, &dl), errors.Is(err, ErrArtifactInvalid), errors.Is(err, ErrArtifactVersion):
		return ErrorKindArtifact
	case errors.Is(err, errWorkPanicked), errors.Is(err, errCallGoexit), errors.As(err, &pe):
		// The last two: a queued call whose exchange's Observer function
		// panicked or exited (see notifier.rescue).
		return ErrorKindPanic
	}
	return ErrorKindOther
}

// errWorkPanicked is the error CallDone reports for a call whose work
// panicked or called runtime.Goexit; the caller gets the future's own
// error for it (*future.PanicError).
var errWorkPanicked = errors.New("target: the call's work panicked or exited")

// CallEvent describes a call, for Observer.CallStart and CallDone. The
// fields above Status are set at the start, the others at the end.
type CallEvent struct {
	Operation Operation
	// Client is the Target client code of the Client.
	Client string
	// Method is the decisioning method the call asked for (its own, else
	// the Config's), or "invalid" when that is none of ServerSide, OnDevice
	// and Hybrid (the call then fails with ErrorKindInvalidOption): the
	// values are a fixed set, fit for a metric attribute.
	Method DecisioningMethod
	// RequestID is the request's id, sent as X-Request-Id.
	RequestID string
	// Host is the edge host a server-side request goes to.
	Host string
	// Mboxes counts the execute and prefetch mboxes, Views the prefetched
	// views, Notifications the notifications; PageLoad is true when the
	// request asks for the page load (execute or prefetch).
	Mboxes, Views, Notifications int
	PageLoad                     bool
	// Start is when the call started.
	Start time.Time

	// Status is the HTTP status of the answer: the edge's, or the one an
	// on-device decision reports (200, or 206 with remote mboxes); zero
	// without an answer.
	Status int
	// DecidedBy is ServerSide when the edge answered and OnDevice when the
	// artifact did; empty when the call failed before either.
	DecidedBy DecisioningMethod
	// Err is the call's error, as its future reports it, nil on success;
	// ErrorKind classifies it.
	Err       error
	ErrorKind ErrorKind
	// Timings are the call's measured phases, each field with the scope
	// its doc states (Attempts counts every HTTP request made for the
	// call, zero for an on-device decision).
	Timings Timings
	// Duration is the call's time from Start to its outcome.
	Duration time.Duration
}

// AttemptEvent describes one HTTP request to the edge, for
// Observer.AttemptStart and AttemptDone.
type AttemptEvent struct {
	// Attempt numbers the call's attempts from 1.
	Attempt int
	// Method is the HTTP method; URL is the request URL with the session
	// id replaced by "REDACTED".
	Method, URL string
	Host        string
	// Header is the request's header, which an observer may add to in
	// AttemptStart (to propagate a trace context) and must not keep.
	Header http.Header
	// RequestSize is the length of the request body.
	RequestSize int
	// Start is when the attempt started.
	Start time.Time

	// Status is the HTTP status of the answer, zero when none came.
	Status int
	// Err is the attempt's error, nil when its answer was a usable 2xx;
	// ErrorKind classifies it.
	Err       error
	ErrorKind ErrorKind
	// Timings are the attempt's phases (DNS to Download, ConnReused,
	// ResponseSize).
	Timings Timings
	// Duration is the attempt's time, from Start to the end of the answer
	// or the failure; the wait after it is not part of it.
	Duration time.Duration
	// Backoff is the time the client waited before the next attempt, zero
	// when it chose to stop (success, an error not worth a retry, the last
	// attempt, or a wait that would pass the call's deadline). AttemptDone
	// runs after the wait, so Backoff is the wait that passed: when the
	// call's context ends during it, only the part waited, and no attempt
	// follows (the call's CallDone reports ErrorKindCanceled or
	// ErrorKindTimeout).
	Backoff time.Duration
}

// DecisionEvent describes an on-device decision, for
// Observer.DecisionStart and DecisionDone.
type DecisionEvent struct {
	// Mboxes, Views and PageLoad are what the request asks for, as in
	// CallEvent.
	Mboxes, Views int
	PageLoad      bool
	// ArtifactVersion is the version of the artifact the decision uses.
	ArtifactVersion string

	// RemoteMboxes and RemoteViews name what the artifact could not decide
	// (see Meta).
	RemoteMboxes, RemoteViews []string
	// Notifications counts the display notifications the decision sends.
	Notifications int
	Err           error
	ErrorKind     ErrorKind
	Duration      time.Duration
}

// NotificationState says what became of on-device display notifications.
type NotificationState string

// The states of NotificationEvent.
const (
	// NotificationsQueued: handed over for delivery to the edge.
	NotificationsQueued NotificationState = "queued"
	// NotificationsSent: the edge accepted them.
	NotificationsSent NotificationState = "sent"
	// NotificationsDropped: they will not be delivered (the request failed
	// or the Client was closed); Err says why.
	NotificationsDropped NotificationState = "dropped"
)

// NotificationEvent reports display notifications of on-device decisions,
// for Observer.Notifications.
type NotificationEvent struct {
	State NotificationState
	// Count is the number of notifications.
	Count     int
	Err       error
	ErrorKind ErrorKind
}

// ArtifactEvent reports one download of the on-device artifact, for
// Observer.ArtifactDownload.
type ArtifactEvent struct {
	// Client is the Target client code of the Client.
	Client string
	// Instance numbers the Client, from 1, among the Clients of the
	// process: it tells apart Clients with the same client code, and is
	// the one ClientClosed reports when the Client ends.
	Instance uint64
	// Location is the artifact's URL.
	Location string
	// Status is the HTTP status of the download (200, or 304 when the
	// artifact in use is still current), zero when none came.
	Status int
	// Version is the version of the artifact in use after the download,
	// empty when there is none.
	Version string
	// Current is when the artifact in use was last known to be current:
	// the end of its download or of the last 304, which a failed download
	// leaves unchanged. Zero when no artifact is in use.
	Current   time.Time
	Err       error
	ErrorKind ErrorKind
	Start     time.Time
	Duration  time.Duration
}

// redactedURL returns u with the value of its sessionId parameter replaced
// by "REDACTED", the query value that identifies the visitor's session.
func redactedURL(u string) string {
	const key = "sessionId="
	i := strings.Index(u, "?")
	if i < 0 {
		return u
	}
	for q := u[i+1:]; ; {
		start := len(u) - len(q)
		amp := strings.IndexByte(q, '&')
		param := q
		if amp >= 0 {
			param = q[:amp]
		}
		if strings.HasPrefix(param, key) {
			end := start + len(param)
			u = u[:start+len(key)] + "REDACTED" + u[end:]
			return u
		}
		if amp < 0 {
			return u
		}
		q = q[amp+1:]
	}
}

// beginCall starts the record of a call for the Observer and the debug
// log. It returns ctx unchanged and a nil event when neither wants it, so
// that an unobserved call pays one pointer test and one Enabled call. p is
// nil for a call whose options were rejected; req is then the caller's.
func (c *Client) beginCall(ctx context.Context, op Operation, method DecisioningMethod, p *prepared, req *DeliveryRequest) (context.Context, *CallEvent) {
	if c.obs == nil && !c.log.Enabled(ctx, slog.LevelDebug) {
		return ctx, nil
	}
	e := &CallEvent{Operation: op, Client: c.cfg.Client, Method: method, Start: time.Now()}
	if p != nil {
		req = p.req
		e.Method, e.RequestID, e.Host = p.method, req.RequestID, p.host
	}
	if e.Method == "" {
		e.Method = c.cfg.DecisioningMethod
	}
	if validDecisioningMethod(e.Method) != nil {
		// The caller's text would give metrics one series per typo.
		e.Method = methodInvalid
	}
	if ex := req.Execute; ex != nil {
		e.Mboxes += len(ex.Mboxes)
		e.PageLoad = ex.PageLoad != nil
	}
	if pf := req.Prefetch; pf != nil {
		e.Mboxes += len(pf.Mboxes)
		e.Views = len(pf.Views)
		e.PageLoad = e.PageLoad || pf.PageLoad != nil
	}
	e.Notifications = len(req.Notifications)
	if c.obs != nil && c.obs.CallStart != nil {
		ctx = orCtx(c.obs.CallStart(ctx, e), ctx)
	}
	return ctx, e
}

// methodInvalid is CallEvent.Method for a method that is not one.
const methodInvalid DecisioningMethod = "invalid"

// orCtx returns got, the context a Start function returned, or ctx when
// that is nil: a nil context would make the work fail or panic before the
// matching Done, which must follow every Start.
func orCtx(got, ctx context.Context) context.Context {
	if got == nil {
		return ctx
	}
	return got
}

// endCall completes e, when the call is recorded, with its outcome: it
// tells the Observer and writes the call's debug record. It runs before
// the call's future settles.
func (c *Client) endCall(ctx context.Context, e *CallEvent, r *Response, err error) {
	if e == nil {
		return
	}
	e.Duration = time.Since(e.Start)
	if r != nil {
		e.Status, e.DecidedBy, e.Timings = r.Status, r.Meta.DecisioningMethod, r.Timings
	}
	if err != nil {
		e.Err, e.ErrorKind = err, errorKind(err)
		if tm, ok := errorTimings(err); ok {
			e.Timings = tm
		}
	}
	if c.obs != nil && c.obs.CallDone != nil {
		c.obs.CallDone(ctx, e)
	}
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", string(e.Operation)),
		slog.String("requestId", e.RequestID),
		slog.String("method", string(e.Method)),
		slog.String("outcome", outcome(err)),
		slog.Duration("duration", e.Duration),
	}
	if e.DecidedBy != "" {
		attrs = append(attrs, slog.String("decidedBy", string(e.DecidedBy)))
	}
	if e.Host != "" {
		attrs = append(attrs, slog.String("host", e.Host))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	if t := e.Timings; t.Attempts > 0 {
		attrs = append(attrs, slog.Group("timings",
			slog.Int("attempts", t.Attempts),
			slog.Duration("total", t.Total),
			slog.Duration("dns", t.DNS),
			slog.Duration("connect", t.Connect),
			slog.Duration("tls", t.TLS),
			slog.Duration("ttfb", t.TimeToFirstByte),
			slog.Duration("download", t.Download),
			slog.Bool("connReused", t.ConnReused),
			slog.Int64("responseSize", t.ResponseSize),
		))
	}
	if err != nil {
		attrs = append(attrs, slog.String("errorKind", string(e.ErrorKind)), slog.String("error", err.Error()))
	}
	c.debugAttrs(ctx, "target: call", attrs...)
}

// errorTimings returns the timings a failed call's error carries.
func errorTimings(err error) (Timings, bool) {
	var (
		api *APIError
		te  *TransportError
		de  *DecodeError
	)
	switch {
	case errors.As(err, &api):
		return api.Timings, true
	case errors.As(err, &te):
		return te.Timings, true
	case errors.As(err, &de):
		return de.Timings, true
	}
	return Timings{}, false
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "success"
}

// recordCall runs work with wctx and ends the call's record e (begun with
// ctx) with its outcome, also when work panics or calls runtime.Goexit:
// the record then reports errWorkPanicked, and the panic or Goexit goes on
// to the caller.
func (c *Client) recordCall(ctx, wctx context.Context, e *CallEvent, work func(context.Context) (*Response, error)) (r *Response, err error) {
	finished := false
	defer func() {
		if !finished {
			err = errWorkPanicked
		}
		c.endCall(ctx, e, r, err)
	}()
	r, err = work(wctx)
	finished = true
	return r, err
}

// attemptRecord is one attempt's event and the context its Start returned.
type attemptRecord struct {
	AttemptEvent
	ctx context.Context
	// end is when the attempt ended, set by stop when its record is
	// completed later (after the backoff); zero means at endAttempt.
	end time.Time
}

// stop marks the end of the attempt, whose record is completed later.
func (a *attemptRecord) stop() {
	if a != nil {
		a.end = time.Now()
	}
}

// beginAttempt starts the record of an attempt; nil when the Observer has
// no AttemptStart or AttemptDone.
func (c *Client) beginAttempt(ctx context.Context, u string, ex *exchange, attempt int) *attemptRecord {
	if c.obs == nil || c.obs.AttemptStart == nil && c.obs.AttemptDone == nil {
		return nil
	}
	a := &attemptRecord{ctx: ctx}
	a.Start = time.Now()
	a.Attempt, a.Method, a.URL, a.Host = attempt, http.MethodPost, redactedURL(u), ex.host
	a.Header, a.RequestSize = http.Header{}, len(ex.body)
	if c.obs.AttemptStart != nil {
		a.ctx = orCtx(c.obs.AttemptStart(ctx, &a.AttemptEvent), ctx)
	}
	return a
}

// context is the context the attempt goes on with: the one AttemptStart
// returned, else ctx.
func (a *attemptRecord) context(ctx context.Context) context.Context {
	if a == nil {
		return ctx
	}
	return a.ctx
}

// addHeaders copies the headers the Observer added to h, leaving those the
// client set.
func (a *attemptRecord) addHeaders(h http.Header) {
	if a == nil {
		return
	}
	for k, v := range a.Header {
		// An observer may set a key directly in the map, not in its
		// canonical form: compare the canonical form, or "x-request-id"
		// would slip past the client's own X-Request-Id.
		k = http.CanonicalHeaderKey(k)
		if _, set := h[k]; !set {
			h[k] = v
		}
	}
}

// end completes the attempt's record; backoff is the wait before the next
// attempt, zero when none follows.
func (c *Client) endAttempt(a *attemptRecord, status int, err error, tm Timings, backoff time.Duration) {
	if a == nil {
		return
	}
	if a.end.IsZero() {
		a.end = time.Now()
	}
	a.Duration = a.end.Sub(a.Start)
	a.Status, a.Err, a.ErrorKind, a.Timings, a.Backoff = status, err, errorKind(err), tm, backoff
	a.Header = nil // the request is gone: the observer must not keep it
	if c.obs.AttemptDone != nil {
		c.obs.AttemptDone(a.ctx, &a.AttemptEvent)
	}
}

// callNow runs work on the caller's goroutine and ends the call's record,
// as recordCall does; a panic in work goes on to the caller.
func (c *Client) callNow(ctx context.Context, e *CallEvent, work func(context.Context) (*Response, error)) (*Response, error) {
	if e == nil {
		return work(ctx)
	}
	return c.recordCall(ctx, ctx, e, work)
}

// beginDecision starts the record of an on-device decision from artifact
// a (nil before the first one); nil when the Observer does not want it.
func (c *Client) beginDecision(ctx context.Context, req *DeliveryRequest, a *ondevice.Artifact) (context.Context, *decisionRecord) {
	if c.obs == nil || c.obs.DecisionStart == nil && c.obs.DecisionDone == nil {
		return ctx, nil
	}
	e := &decisionRecord{start: time.Now()}
	if ex := req.Execute; ex != nil {
		e.Mboxes += len(ex.Mboxes)
		e.PageLoad = ex.PageLoad != nil
	}
	if pf := req.Prefetch; pf != nil {
		e.Mboxes += len(pf.Mboxes)
		e.Views = len(pf.Views)
		e.PageLoad = e.PageLoad || pf.PageLoad != nil
	}
	if a != nil {
		e.ArtifactVersion = a.Version()
	}
	if c.obs.DecisionStart != nil {
		ctx = orCtx(c.obs.DecisionStart(ctx, &e.DecisionEvent), ctx)
	}
	return ctx, e
}

// decisionRecord is a decision's event and when it started.
type decisionRecord struct {
	DecisionEvent
	start time.Time
}

// endDecision completes the decision's record: d is the decision (nil
// when it failed with err), notifications the display notifications it
// sends.
func (c *Client) endDecision(ctx context.Context, e *decisionRecord, d *ondevice.Decision, notifications int, err error) {
	if e == nil {
		return
	}
	e.Duration = time.Since(e.start)
	if d != nil {
		e.RemoteMboxes, e.RemoteViews = d.RemoteMboxes, d.RemoteViews
	}
	e.Notifications, e.Err, e.ErrorKind = notifications, err, errorKind(err)
	if c.obs.DecisionDone != nil {
		c.obs.DecisionDone(ctx, &e.DecisionEvent)
	}
}

// notified tells the Observer what became of count display notifications.
func (c *Client) notified(ctx context.Context, state NotificationState, count int, err error) {
	if c.obs != nil && c.obs.Notifications != nil {
		defer c.containObserver("Notifications")
		c.obs.Notifications(ctx, NotificationEvent{State: state, Count: count, Err: err, ErrorKind: errorKind(err)})
	}
}

// observeArtifact tells the Observer of an artifact download.
func (c *Client) observeArtifact(ctx context.Context, e ArtifactEvent) {
	e.Instance = c.instance
	c.observed(func() {
		defer c.containObserver("ArtifactDownload")
		c.obs.ArtifactDownload(ctx, e)
	})
}

// observed runs fn, work that Close waits for, with the goroutine marked
// as such when there is an Observer (whose functions fn may call), so that
// a Close from one of them can tell (see Observer). Without an Observer
// it costs nothing; with one, a goroutine id read per run (see
// callbackSet: a few nanoseconds on amd64 and arm64, elsewhere about doubling
// an on-device decision's time).
func (c *Client) observed(fn func()) {
	if c.obs == nil {
		fn()
		return
	}
	c.observing.run(fn)
}

// reportClosed calls Observer.ClientClosed, once, after the artifact
// polling has ended: now, or when a Close that waited for nothing let it
// run on, as soon as it ends.
func (c *Client) reportClosed(ctx context.Context) {
	if c.obs == nil || c.obs.ClientClosed == nil || !c.closeReported.CompareAndSwap(false, true) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	e := ClientEvent{Client: c.cfg.Client, Instance: c.instance}
	report := func() {
		defer c.containObserver("ClientClosed")
		c.obs.ClientClosed(ctx, e)
	}
	if c.od != nil {
		polling := c.od.engine.artifacts.done
		select {
		case <-polling:
		default:
			// Close was called from a callback or an Observer function of
			// the polling goroutine, which ends when that returns.
			go func() {
				<-polling
				report()
			}()
			return
		}
	}
	report()
}

// containObserver, deferred around an Observer function that runs outside
// any call (on the notification queue's or the polling goroutine, or in a
// call's cleanup), keeps its panic from ending the program or the
// goroutine's work, as a panicking CallDone of a GetOffers call is
// contained by the call's future: it logs the panic with its stack at level Error, to
// Config.Logger, else slog.Default(), since a lost panic must not go
// unseen.
func (c *Client) containObserver(name string) {
	if v := recover(); v != nil {
		c.logObserverPanic(name, v)
	}
}

// logObserverPanic logs v, a panic recovered from Observer function name,
// with its stack.
func (c *Client) logObserverPanic(name string, v any) {
	c.observerLog().Error("target: recovered a panic in Observer."+name, "panic", v, "stack", string(debug.Stack()))
}

// observerLog is where contained Observer failures go: Config.Logger,
// else slog.Default().
func (c *Client) observerLog() *slog.Logger {
	if c.cfg.Logger != nil {
		return c.cfg.Logger
	}
	return slog.Default()
}

// containObserverExit is containObserver for an Observer function that
// may also call runtime.Goexit, which cannot be stopped: deferred after
// it with *returned set once it returned, it logs the panic or the Goexit
// (the goroutine then ends, and the caller's defers must finish its work).
func (c *Client) containObserverExit(name string, returned *bool) {
	if *returned {
		return
	}
	if v := recover(); v != nil {
		c.logObserverPanic(name, v)
		return
	}
	c.observerLog().Error("target: Observer." + name + " called runtime.Goexit")
}

// logBody writes body to the debug log when Config.LogBodies asks for it,
// redacted with the call's secrets (in every form they take in JSON, as in
// errors) and, for an answer, with the visitor ids it gives.
func (c *Client) logBody(ctx context.Context, msg string, ex *exchange, body []byte, response bool) {
	if !c.cfg.LogBodies || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	text := ex.secrets.redact(string(body))
	if response {
		text = redact(text, jsonForms(responseSecrets(body)))
	}
	c.debugAttrs(ctx, msg, slog.String("requestId", ex.requestID), slog.String("body", text))
}

// responseSecrets returns the visitor ids an answer's body gives, nil when
// it has none or is not JSON.
func responseSecrets(body []byte) []string {
	var r struct {
		ID *VisitorID `json:"id"`
	}
	if json.Unmarshal(body, &r) != nil || r.ID == nil {
		return nil
	}
	out := []string{r.ID.TntID, r.ID.ThirdPartyID, r.ID.MarketingCloudVisitorID}
	if base, _, ok := strings.Cut(r.ID.TntID, "."); ok {
		out = append(out, base)
	}
	for _, c := range r.ID.CustomerIDs {
		out = append(out, c.ID)
	}
	return out
}

// jsonForms returns secrets with the forms they take inside a JSON string
// added, longest first, so that a secret is replaced whole before a
// shorter one inside it.
func jsonForms(secrets []string) []string {
	out := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		if s == "" {
			continue
		}
		out = append(out, s)
		if b, err := json.Marshal(s); err == nil {
			if q := string(b[1 : len(b)-1]); q != s {
				out = append(out, q)
			}
		}
		if b, err := encodeJSON(s); err == nil {
			if q := string(b[1 : len(b)-1]); q != s {
				out = append(out, q)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}
