package target

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Observer is how a Client reports what it does, for traces, metrics and
// logs: it calls these functions at the start and end of each call, each
// HTTP attempt and each on-device decision, and after each notification
// delivery and artifact download. Package targetotel builds one on
// OpenTelemetry; any field may be nil.
//
// The functions run synchronously on the goroutine doing the work, so they
// must be quick and must not block; they may run concurrently with each
// other. A Start function returns the context the work goes on with (the
// ctx it was given, or one derived from it, carrying a span say): the
// matching Done function gets that context back, and the nested steps of a
// call (its attempts, its decision) start from it. Each Start is followed
// by exactly one Done with the same event pointer, also when the call fails
// or its work panics, before the call's future settles; so a caller that
// has awaited a call sees its events complete. Events hold no secret of
// the call: the session id, visitor ids and tokens are left out, or
// replaced by "[redacted]" in error texts (the rule of the client's
// errors), and "REDACTED" in URLs (the rule of OpenTelemetry's semantic
// conventions).
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
	// failed, and the client has decided whether to retry.
	AttemptDone func(ctx context.Context, e *AttemptEvent)
	// DecisionStart is called before an on-device decision.
	DecisionStart func(ctx context.Context, e *DecisionEvent) context.Context
	// DecisionDone is called when the on-device decision is made.
	DecisionDone func(ctx context.Context, e *DecisionEvent)
	// Notifications is called when display notifications of on-device
	// decisions are queued for delivery, sent, or dropped.
	Notifications func(ctx context.Context, e NotificationEvent)
	// ArtifactDownload is called after each download of the on-device
	// artifact, successful, unchanged (304) or failed.
	ArtifactDownload func(ctx context.Context, e ArtifactEvent)
}

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
	case errors.Is(err, errWorkPanicked):
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
	// the Config's).
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
	// Timings are the call's measured phases (Attempts counts the HTTP
	// attempts, zero for an on-device decision).
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

	// Status is the HTTP status of the answer, zero when none came.
	Status int
	// Err is the attempt's error, nil when its answer was a usable 2xx;
	// ErrorKind classifies it.
	Err       error
	ErrorKind ErrorKind
	// Timings are the attempt's phases (DNS to Download, ConnReused,
	// ResponseSize).
	Timings Timings
	// Duration is the attempt's time, from the request to the end of the
	// answer or the failure.
	Duration time.Duration
	// Backoff is the wait before the next attempt; zero when none follows.
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
