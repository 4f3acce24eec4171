package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/target-go/sdk/future"
)

// GetOffersOptions are the options of GetOffers: see CallOptions.
type GetOffersOptions = CallOptions[*Response]

// CallOptions are the options of the calls that ask for decisions, declared
// once for both: GetOffers (GetOffersOptions, whose Callback gets the
// *Response) and GetAttributes (GetAttributesOptions, whose Callback gets
// the *Attributes). They mirror the options of Adobe's SDKs (request,
// visitor_cookie, target_cookie, target_location_hint, consumer_id,
// customer_ids, session_id, decisioning_method, callback, err_callback);
// the page view's state that their visitor option carries is
// SupplementalDataIDs. Write them as GetOffersOptions{...} or
// GetAttributesOptions{...}.
type CallOptions[R any] struct {
	// Request is the Delivery request. It needs Execute or Prefetch with at
	// least one page load, view or mbox. The client fills in what Adobe's SDKs
	// fill in (request id, tntId, context.channel, analytics logging,
	// property, environment id, telemetry) without changing the caller's
	// value; Response.Request holds the request as sent. The client copies
	// the parts it fills in (the request, Context when it sets the
	// channel, Execute, Prefetch, ExperienceCloud, Telemetry), and shares
	// the rest with the caller: the values those point to (mboxes,
	// parameter maps, Geo, Address, ...) may still be read until the
	// future settles (an on-device decision waiting for a geo lookup, a
	// failure's redaction), so, as with an http.Request, do not change them
	// before then. Response.Request shares them too.
	Request DeliveryRequest
	// TargetCookie is the value of the visitor's mbox cookie, if any. Its
	// session entry gives the session id and its PC entry the tntId. Expired
	// and malformed entries are ignored (a browser's cookie must not stop the
	// visitor from getting content); malformed ones are logged, redacted.
	TargetCookie string
	// TargetLocationHint is the value of the visitor's mboxEdgeCluster
	// cookie, if any: the edge cluster to send the request to. A value that
	// is not a cluster id is ignored.
	TargetLocationHint string
	// VisitorCookie is the value of the visitor's AMCV cookie, the
	// Experience Cloud ID service's (see Client.VisitorCookie and
	// VisitorCookieName), if any. Its MCMID goes into
	// Request.ID.MarketingCloudVisitorID, its MCAAMLH and MCAAMB into
	// Request.ExperienceCloud.AudienceManager's LocationHint and Blob, each
	// unless the request sets it. Expired and malformed fields are ignored,
	// and logged by name without their values.
	VisitorCookie string
	// ConsumerID names the consumer of the call's supplemental data id (see
	// SupplementalDataIDs); "" means DefaultConsumerID. It matters only with
	// a SupplementalDataIDs shared by the calls of a page view: without one
	// every call gets a fresh id, as in Adobe's SDKs.
	ConsumerID string
	// SupplementalDataIDs, when set, is the supplemental data id state of
	// the page view this call belongs to: with server-side Analytics logging
	// the call takes its id from it under ConsumerID, unless the request
	// already carries one, and Response.VisitorState shows the state.
	SupplementalDataIDs *SupplementalDataIDs
	// CustomerIDs are the visitor's customer ids in the Visitor API's form.
	// They are sent, with their states mapped to the Delivery API's names,
	// before Request.ID.CustomerIDs (the order of Adobe's SDKs), and go into
	// Response.VisitorState. Integration codes must be unique.
	CustomerIDs []VisitorCustomerID
	// SessionID is used when TargetCookie holds no valid session entry; when
	// both are empty a new UUID v4 is used. It must be 1 to 128 printable
	// characters other than space, '?' and '/'.
	SessionID string
	// DecisioningMethod overrides Config.DecisioningMethod for this call.
	DecisioningMethod DecisioningMethod
	// Callback, when set, is called with the result (the *Response, or
	// for GetAttributes the *Attributes) if the call succeeds.
	// ErrCallback, when set, is called with the error if it fails. Exactly
	// one of them runs, exactly once, right after the future settles, on the
	// goroutine that settled it: they are registered before anything can
	// settle it. For a server-side call that is the call's own goroutine,
	// however soon the call fails (a cancelled ctx, a refused dial); for a
	// call settled at once it is the caller's, before GetOffers or
	// GetAttributes returns: invalid options, and an on-device decision
	// (unless it waits for a geo lookup, which settles it on a goroutine of
	// its own). A waiter in
	// Await may see the result while the callback still runs. A panic in a
	// callback is recovered, as net/http recovers a panicking handler:
	// logged at level Error with its stack (to Config.Logger, else
	// slog.Default()) and handed to Config.OnCallbackPanic; the future's
	// outcome and the client are not affected. The same holds for the
	// callbacks of every call option (SendNotifications, GetAttributes,
	// Coalescer, Visitor); the future's own OnComplete and friends keep
	// their contract (see package future).
	Callback    func(R)
	ErrCallback func(error)
}

// SendNotificationsOptions are the options of SendNotifications; the fields
// mean what they mean in GetOffersOptions.
type SendNotificationsOptions struct {
	// Request must hold at least one notification. Each needs an ID and a
	// Type; a zero Timestamp is set to the current time. The queue encodes
	// it when it sends it, after SendNotifications has returned: the
	// values it points to (notifications' mboxes, parameters, tokens, ...)
	// must not change before the future settles, as in GetOffersOptions.
	Request             DeliveryRequest
	TargetCookie        string
	TargetLocationHint  string
	VisitorCookie       string
	ConsumerID          string
	SupplementalDataIDs *SupplementalDataIDs
	CustomerIDs         []VisitorCustomerID
	SessionID           string
	Callback            func(*Response)
	ErrCallback         func(error)
}

// Response is the result of a call: the request as sent, the edge's answer,
// and what the caller needs to keep the visitor's state.
type Response struct {
	// Request is the request as sent.
	Request *DeliveryRequest `json:"request"`
	// Response is the edge's answer; empty (not nil) for a beacon request,
	// which the edge answers with 204 No Content.
	Response *DeliveryResponse `json:"response"`
	// Status is the HTTP status of the answer (200, or 204 for a beacon).
	Status int `json:"status"`
	// TargetCookie is the mbox cookie to set on the visitor: the session id
	// and the visitor's tntId, with their expiry.
	TargetCookie *Cookie `json:"targetCookie"`
	// TargetLocationHintCookie is the mboxEdgeCluster cookie to set, nil
	// when no edge cluster is known.
	TargetLocationHintCookie *Cookie `json:"targetLocationHintCookie"`
	// AnalyticsDetails are the Analytics payloads of the response's page
	// load, mboxes and views, for client-side Analytics logging.
	AnalyticsDetails []AnalyticsResponse `json:"analyticsDetails,omitempty"`
	// ResponseTokens are the response tokens of every option, in response
	// order (execute page load, execute mboxes, prefetch page load, views,
	// prefetch mboxes). Each is the option's own map (the one in
	// Response), not a copy; no two options share one.
	ResponseTokens []map[string]any `json:"responseTokens,omitempty"`
	// Trace holds the trace objects of the response, in the same order,
	// when the request asked for a trace.
	Trace []map[string]any `json:"trace,omitempty"`
	// Meta says how the call was decided.
	Meta Meta `json:"meta"`
	// Timings are the measured phases of the call. The durations marshal
	// as nanoseconds, as time.Duration does.
	Timings Timings `json:"timings"`

	// visitor holds the VisitorState: built on the first read and kept.
	// A pointer, so that a copy of the Response shares it and no copy
	// holds a lock; nil when there is none.
	visitor *visitorCell
}

// VisitorState returns the Experience Cloud ID service's state after the
// call (customer ids, supplemental data ids), for the browser's Visitor
// API: send it to the page (json.Marshal it), which passes it to
// Visitor.getInstance(orgId, {serverState: ...}). It is the state right
// after this call took its supplemental data id: a direct call takes it
// before GetOffers returns, a Coalescer call when its merged request is
// sent, so with a SupplementalDataIDs shared by several calls, the
// response that settles last need not hold every id. Client.VisitorState
// gives the page view's final state once all its calls have settled.
//
// The state is built on the first read (most callers never read it) and
// kept: every read, and every copy of the Response, returns the same
// maps, which are the Response's, as the exported field it once was held
// them. A caller that changes them changes what later reads and the JSON
// form give, and must not do so while another goroutine reads the
// Response; reads alone are safe from any number of goroutines. It is nil
// for a Response the client did not build, unless SetVisitorState or
// decoding JSON that holds one gave it a state. The Response's JSON form
// holds it under "visitorState"; decoding that JSON restores it.
func (r *Response) VisitorState() VisitorState {
	return r.visitor.get()
}

// SetVisitorState makes s the Response's VisitorState, as it is (not
// copied): VisitorState returns it and the JSON form holds it; nil
// removes it. It is for Responses built outside the client, fakes in a
// caller's tests say. Like setting a field, it must not run while another
// goroutine reads the Response; a copy of the Response made before keeps
// the state it had.
func (r *Response) SetVisitorState(s VisitorState) {
	if s == nil {
		r.visitor = nil
		return
	}
	r.visitor = keptVisitorState(s)
}

// responseJSON is Response without its methods, for its JSON form.
type responseJSON Response

// MarshalJSON encodes r with its VisitorState under "visitorState"
// (omitted when nil or empty: decoding such JSON into a Response keeps the
// state it held, and a customer id's IntegrationCode is read back from its
// key). Its receiver is a value, so that a Response value,
// or one held by value in a map, a slice or an interface, marshals its
// VisitorState too.
func (r Response) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		*responseJSON
		VisitorState VisitorState `json:"visitorState,omitempty"`
	}{(*responseJSON)(&r), r.VisitorState()})
}

// UnmarshalJSON decodes the JSON form MarshalJSON writes, VisitorState
// included (its customer ids' IntegrationCode taken from their keys). As
// encoding/json does with fields, JSON null leaves r as it was, and an
// object without "visitorState" leaves r's VisitorState as it was; a
// "visitorState" of null removes it.
func (r *Response) UnmarshalJSON(data []byte) error {
	var v struct {
		*responseJSON
		VisitorState json.RawMessage `json:"visitorState"`
	}
	v.responseJSON = (*responseJSON)(r)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.VisitorState == nil {
		// JSON null, or no "visitorState" key.
		return nil
	}
	var st VisitorState
	if err := json.Unmarshal(v.VisitorState, &st); err != nil {
		return err
	}
	// The JSON form keys customer ids by their integration code, which
	// it does not repeat.
	for _, os := range st {
		for code, id := range os.CustomerIDs {
			id.IntegrationCode = code
			os.CustomerIDs[code] = id
		}
	}
	r.SetVisitorState(st)
	return nil
}

// Meta describes how a call was decided.
type Meta struct {
	// DecisioningMethod is the method that answered: ServerSide when the
	// edge did, OnDevice when the artifact did (a Hybrid call reports which).
	DecisioningMethod DecisioningMethod `json:"decisioningMethod"`
	// RemoteMboxes and RemoteViews name what an on-device decision could
	// not decide because it needs the edge (the artifact has no rules for
	// it, or its rules need server-side data); ask the edge for them with a
	// server-side call. Empty for server-side answers.
	RemoteMboxes []string `json:"remoteMboxes,omitempty"`
	RemoteViews  []string `json:"remoteViews,omitempty"`
}

// ErrInvalidOption is matched (errors.Is) by every *OptionError.
var ErrInvalidOption = errors.New("target: invalid option")

// OptionError reports an invalid call option. Field is the path of the
// offending field, such as "Request.Execute.Mboxes[1].Name" or "SessionID".
// The error never contains cookie or token values.
type OptionError struct {
	Field  string
	Reason string
}

// Error names the field and the reason; it never quotes cookie or token
// values.
func (e *OptionError) Error() string {
	return "target: invalid option " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidOption) true.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

func optionError(field, format string, args ...any) error {
	return &OptionError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// callOptions are the options GetOffers and SendNotifications share.
type callOptions struct {
	cookie        string
	hint          string
	visitorCookie string
	consumerID    string
	sdids         *SupplementalDataIDs
	customerIDs   []VisitorCustomerID
	sessionID     string
	method        DecisioningMethod
	// direct is set for a GetOffers or GetAttributes call, whose request
	// is encoded once (not a notification's, which may be sent again).
	direct      bool
	callback    func(*Response)
	errCallback func(error)
	// hook, when set, is given the call's future before its callbacks
	// are registered, by an outer call that makes its own future from
	// this one (GetAttributes' Then, a Visitor's): see ready.
	hook func(*future.Future[*Response])
}

// ready registers on f, a direct call's future, what co asks for: the
// hook's registrations, then the callbacks. The call runs it once on every
// path, before anything can settle f: before the call's goroutine starts,
// or right after f is made when it settles at once (invalid options, an
// on-device decision). So the callbacks run on the goroutine that settles
// f, never on the caller's after a call settled elsewhere.
func (co *callOptions) ready(c *Client, f *future.Future[*Response]) *future.Future[*Response] {
	if co.hook != nil {
		co.hook(f)
	}
	return withCallbacks(c, f, co.callback, co.errCallback)
}

// GetOffers asks the edge for the content of the request's mboxes, views
// and page load, or decides it on-device. A server-side call runs on its
// own goroutine; the returned future settles with the result, or with the
// first of: an *OptionError for invalid options (already settled on
// return), an *APIError for an error answer or a redirect, a *DecodeError
// for a 2xx answer that is not a Delivery response, or a *TransportError
// (wrapping the cause) for a network failure or when ctx is cancelled, the
// future is cancelled (Future.Cancel) or the Config.Timeout deadline
// passes, any of which aborts the HTTP request. The three call errors carry
// the request id, host, attempts and timings (see package doc, Errors).
//
// With DecisioningMethod OnDevice (the call's, else the Config's) the
// request is decided from the artifact on the caller's goroutine, in
// microseconds, and the future is settled on return; only a geo lookup,
// needed when the artifact targets on geo and the request carries none,
// moves the decision to a goroutine bounded by Config.Timeout. What the
// artifact cannot decide comes back empty, with Status 206 and the names in
// Response.Meta. Before the first artifact the call fails with
// ErrArtifactNotReady. Display notifications for executed decisions are
// sent to the edge afterwards through the notification queue of
// SendNotifications (batched per visitor, retried, flushed by Close), and
// the caller does not wait for them (see OnDeviceConfig.OnNotificationsSent). With Hybrid
// the call is decided on-device when the artifact is in and can decide
// everything the request asks for, and by the edge otherwise. Both fail
// with ErrOnDeviceUnavailable on a Client without on-device decisioning,
// and with ErrClientClosed after Close.
//
// The future's callbacks registered before it settles run on the goroutine
// that settles it: for a server-side call, or an on-device one that needs
// a geo lookup, the call's own. The future package raises a callback's
// panic again on that goroutine, after the other callbacks ran: there,
// where nothing of the caller's could recover it, the call's goroutine
// recovers it and logs it at level Error with its
// stack (to Config.Logger, else slog.Default()), as SendNotifications'
// queue does, so that it does not end the program. A callback that calls
// runtime.Goexit ends that goroutine only, after the other callbacks ran
// and the call's own cleanup; it is logged too. On a future settled at
// once (on the caller's goroutine), a callback's panic reaches the caller
// as the future package says.
func (c *Client) GetOffers(ctx context.Context, opts GetOffersOptions) *future.Future[*Response] {
	return c.getOffers(ctx, opts, nil)
}

// getOffers is GetOffers with a hook, which is given the call's future
// once, before the call's goroutine can settle it (see callOptions.ready):
// an outer call registers there what must run on that goroutine.
func (c *Client) getOffers(ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	co := callOptions{
		cookie: opts.TargetCookie, hint: opts.TargetLocationHint, customerIDs: opts.CustomerIDs,
		visitorCookie: opts.VisitorCookie, consumerID: opts.ConsumerID, sdids: opts.SupplementalDataIDs,
		sessionID: opts.SessionID, method: opts.DecisioningMethod,
		callback: opts.Callback, errCallback: opts.ErrCallback, hook: hook,
	}
	return c.call(ctx, OpGetOffers, opts.Request, co, validateOffersRequest)
}

// SendNotifications sends display and click notifications for prefetched
// content, always to the edge. A notification is data: losing one skews
// the activity's reporting, so the call is safe to make from a handler
// that returns at once:
//
//   - The notifications outlive ctx: they keep its values (trace ids, for
//     a Config.WrapTransport) but not its cancellation or deadline, since
//     a handler's r.Context() ends when it returns. Cancelling the future
//     gives up waiting, not the delivery.
//   - They go through the client's queue, bounded by
//     Config.Notifications.QueueSize: the notifications queued for one
//     visitor (same session, cookies, ids and request apart from the
//     notifications) go out together, up to MaxBatch per request, in one
//     path shared with the display notifications of on-device decisions.
//   - A request failing for a network error, 429 or 5xx is retried with
//     backoff, up to MaxAttempts within RetryFor, each attempt bounded by
//     Config.Timeout. Retrying after a network error can deliver a
//     notification twice if the edge got it before the connection broke;
//     Target counts events, so a dropped notification is the worse loss.
//   - When the queue is full, the call fails at once with
//     ErrNotificationQueueFull (the newest are refused, so that what was
//     accepted is not lost), reported to NotificationsConfig.OnDropped and
//     logged. What cannot be delivered is reported the same way.
//   - Client.Close(ctx) delivers what is queued before it returns.
//
// The future settles when the notifications are delivered, with the
// Response of the request that carried them (shared by the calls batched
// into it, and read-only), or when they are dropped, with the reason; an
// *OptionError for invalid options, ErrNotificationQueueFull and
// ErrClientClosed after Close come at once. Exactly one of Callback and
// ErrCallback runs then: on the queue's goroutine for an accepted call,
// and on the caller's, before SendNotifications returns, for a call
// refused at once. Nothing else blocks the caller.
//
// The future's callbacks registered before it settles run on the queue's
// goroutine. The future package raises a callback's panic again on the
// goroutine that settled the future, after the other callbacks ran: on the
// queue's goroutine, where nothing of the caller's could recover it, the
// queue recovers it and logs it at level Error with its stack (to
// Config.Logger, else slog.Default()), as net/http does for a handler, so
// that it neither ends the program nor stops the queue. A callback that
// calls runtime.Goexit ends that goroutine only, after the other calls of
// its request are settled and their callbacks ran; it is logged too.
func (c *Client) SendNotifications(ctx context.Context, opts SendNotificationsOptions) *future.Future[*Response] {
	co := callOptions{
		cookie: opts.TargetCookie, hint: opts.TargetLocationHint, customerIDs: opts.CustomerIDs,
		visitorCookie: opts.VisitorCookie, consumerID: opts.ConsumerID, sdids: opts.SupplementalDataIDs,
		sessionID: opts.SessionID, method: ServerSide,
	}
	var f *future.Future[*Response]
	if ctx == nil {
		f = future.Rejected[*Response](optionError("ctx", "nil context"))
	} else if p, err := c.prepare(opts.Request, co, validateNotificationsRequest); err != nil {
		rctx, e := c.beginCall(ctx, OpSendNotifications, co.method, nil, &opts.Request)
		c.endCall(rctx, e, nil, err)
		f = future.Rejected[*Response](err)
	} else {
		// The call's events span its time in the queue and its delivery.
		cctx, e := c.beginCall(ctx, OpSendNotifications, p.method, p, nil)
		// Registered before the queue's goroutine can settle the call, so
		// that the callbacks run there, not on the caller's goroutine
		// (a fast round could settle the call before enqueue returned).
		return c.notes.enqueue(cctx, p, func(f *future.Future[*Response]) {
			if e != nil {
				// Mostly run by the queue's goroutine, outside any call's
				// future: a panic or runtime.Goexit in CallDone is contained
				// and logged there (see notifier.settle for the Goexit).
				f.OnComplete(func(r *Response, err error) {
					returned := false
					defer c.containObserverExit("CallDone", &returned)
					c.endCall(cctx, e, r, err)
					returned = true
				})
			}
			withCallbacks(c, f, opts.Callback, opts.ErrCallback)
		})
	}
	return withCallbacks(c, f, opts.Callback, opts.ErrCallback)
}

// withCallbacks registers the Python-style callbacks on f: exactly one of
// them runs, once, when f settles. A panic in them is recovered and
// reported by c (see Client.recoverCallback); c may be nil, for the calls
// of a zero Coalescer or Visitor.
func withCallbacks[T any](c *Client, f *future.Future[T], onOK func(T), onErr func(error)) *future.Future[T] {
	if onOK == nil && onErr == nil {
		return f
	}
	f.OnComplete(func(v T, err error) {
		defer c.recoverCallback()
		if err != nil {
			if onErr != nil {
				onErr(err)
			}
			return
		}
		if onOK != nil {
			onOK(v)
		}
	})
	return f
}

// recoverCallback, deferred around a Callback or ErrCallback, does for a
// panic in it what net/http does for a panic in a handler: the callback
// runs on the SDK's goroutine, outside any recovery of the caller's, so
// an unrecovered panic would end the whole program. It logs the panic
// with its stack at level Error (to Config.Logger, else slog.Default(),
// since a lost panic must not go unseen) and hands it to
// Config.OnCallbackPanic. The log line and the hook are the user's code
// and each runs contained (see runContained): a panic or runtime.Goexit
// in either reaches neither the callback's goroutine nor the other.
func (c *Client) recoverCallback() {
	v := recover()
	if v == nil {
		return
	}
	p := &future.PanicError{Value: v, Stack: debug.Stack()}
	log := slog.Default()
	var (
		hook  func(*future.PanicError)
		marks []*callbackSet
	)
	if c != nil {
		if c.cfg.Logger != nil {
			log = c.cfg.Logger
		}
		hook = c.cfg.OnCallbackPanic
		marks = c.marks()
	}
	logContained(marks, log, "target: recovered a panic in a Callback or ErrCallback", "panic", v, "stack", string(p.Stack))
	if hook == nil {
		return
	}
	switch hp, goexit := runContained(marks, func() { hook(p) }); {
	case hp != nil:
		logContained(marks, log, "target: recovered a panic in Config.OnCallbackPanic", "panic", hp.Value, "stack", string(hp.Stack))
	case goexit:
		logContained(marks, log, "target: Config.OnCallbackPanic called runtime.Goexit")
	}
}

// marks returns the sets of c's that mark the calling goroutine as running
// a callback or an Observer function (see callbackSet): code run for it
// on another goroutine (runContained) is marked in them too, so that a
// Close from that code knows what it is inside, as it would on the
// calling goroutine. It reads a goroutine id only when a set is not empty.
func (c *Client) marks() []*callbackSet {
	sets := []*callbackSet{&c.observing}
	if c.notes != nil {
		sets = append(sets, &c.notes.callbacks)
	}
	if c.od != nil {
		sets = append(sets, c.od.callbacks())
	}
	var in []*callbackSet
	for _, s := range sets {
		if s.current() {
			in = append(in, s)
		}
	}
	return in
}

// runContained runs fn, the user's code, on a goroutine of its own marked
// in each of marks, and waits for it. A panic in fn is recovered there and
// returned with its stack; a runtime.Goexit ends that goroutine only and is
// reported by goexit. Neither reaches the calling goroutine, where
// a Goexit cannot be stopped: it would end a GetOffers caller's goroutine
// (an invalid request's ErrCallback runs there) or the SDK's before the
// call's work is done, and a panic would be raised again from the
// recovery. Since the calling goroutine waits, fn runs as if on it: a
// Close from fn inside a notification callback, an Observer function or an
// artifact callback waits for nothing, as it would there, rather than for
// the goroutine that waits for fn. It runs only for a recovered panic, so
// the goroutine costs nothing otherwise.
func runContained(marks []*callbackSet, fn func()) (p *future.PanicError, goexit bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		returned := false
		defer func() {
			if returned {
				return
			}
			if v := recover(); v != nil {
				p = &future.PanicError{Value: v, Stack: debug.Stack()}
				return
			}
			goexit = true
		}()
		runMarked(marks, fn)
		returned = true
	}()
	<-done
	return p, goexit
}

// runMarked runs fn marked in each of sets.
func runMarked(sets []*callbackSet, fn func()) {
	if len(sets) == 0 {
		fn()
		return
	}
	sets[0].run(func() { runMarked(sets[1:], fn) })
}

// logContained logs at level Error through log, whose handler is the
// user's code, with runContained: a panic in the handler is dropped (there
// is nowhere left to report it) and a runtime.Goexit ends only the log's
// goroutine. The record is made here, so that its source (with
// slog.HandlerOptions.AddSource) is logContained's caller, as for a
// log.Error there, not the goroutine's function.
func logContained(marks []*callbackSet, log *slog.Logger, msg string, args ...any) {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and logContained
	r := slog.NewRecord(time.Now(), slog.LevelError, msg, pcs[0])
	r.Add(args...)
	h := log.Handler()
	runContained(marks, func() {
		ctx := context.Background()
		if h.Enabled(ctx, slog.LevelError) {
			_ = h.Handle(ctx, r)
		}
	})
}

// call validates and prepares the request on the caller's goroutine, so that
// invalid options give an already failed future, then decides it on-device
// or runs the exchange with the edge on a goroutine of its own.
//
// Every path runs co.ready once on the future it returns, before the
// future can settle or, when it settles at once, right after.
func (c *Client) call(ctx context.Context, op Operation, req DeliveryRequest, co callOptions, check func(*DeliveryRequest) error) *future.Future[*Response] {
	if ctx == nil {
		return co.ready(c, future.Rejected[*Response](optionError("ctx", "nil context")))
	}
	co.direct = true
	p, err := c.prepare(req, co, check)
	if err != nil {
		rctx, e := c.beginCall(ctx, op, co.method, nil, &req)
		c.endCall(rctx, e, nil, err)
		return co.ready(c, future.Rejected[*Response](err))
	}
	ctx, e := c.beginCall(ctx, op, p.method, p, nil)
	if p.method != ServerSide {
		if f := c.decideOnDevice(ctx, p, e, &co); f != nil {
			return f
		}
	}
	if err := c.encode(p); err != nil {
		c.endCall(ctx, e, nil, err)
		return co.ready(c, future.Rejected[*Response](err))
	}
	return c.goRemote(ctx, e, p, &co)
}

// exchange sends p and builds the Response.
func (c *Client) exchange(ctx context.Context, p *prepared) (*Response, error) {
	ex := exchange{host: p.host, sessionID: p.sessionID, requestID: p.req.RequestID, body: p.body, secrets: p.secretSet()}
	if p.into != nil {
		// This call's own exchange (goRemote's), not a copy of p.
		ex.header = &p.remote.header
	}
	dr, status, tm, err := c.post(ctx, ex)
	if err != nil {
		c.giveBackTelemetry(p.sent)
		return nil, err
	}
	c.learn(dr)
	// One clock reading for the telemetry's timestamp and the cookie's
	// expiry.
	now := time.Now()
	c.recordTelemetry(p.req, tm, now)

	tntID := p.tntID
	if dr.ID != nil && dr.ID.TntID != "" {
		tntID = dr.ID.TntID
	}
	r := p.into
	var cell *visitorCell
	if r == nil {
		r = newResponse(p.visitor)
		cell = r.visitor
	} else {
		// goRemote's call: the cell is in the call's allocation too.
		cell = &p.remote.visitor
		cell.src = p.visitor
	}
	*r = Response{
		Request:  p.req,
		Response: dr,
		Status:   status,
		Meta:     Meta{DecisioningMethod: ServerSide},
		Timings:  tm,
		visitor:  cell,
	}
	if p.remote != nil && p.into != nil {
		r.TargetCookie = &p.remote.cookie
		setTargetCookie(r.TargetCookie, p.sessionID, tntID, now)
	} else {
		r.TargetCookie = targetCookie(p.sessionID, tntID, now)
	}
	cluster := p.cluster
	if cluster == "" {
		cluster = clusterFromEdgeHost(dr.EdgeHost)
	}
	if cluster != "" {
		r.TargetLocationHintCookie = &Cookie{Name: LocationHintCookie, Value: cluster, MaxAge: locationHintMaxAge}
	}
	r.collectDetails()
	return r, nil
}

// learn remembers the edge cluster an answer names, so that later calls of
// this client without a visitor cluster go to the same edge.
func (c *Client) learn(dr *DeliveryResponse) {
	var cluster string
	if dr.ID != nil {
		cluster = clusterFromTntID(dr.ID.TntID)
	}
	if cluster == "" {
		cluster = clusterFromEdgeHost(dr.EdgeHost)
	}
	if cluster != "" {
		if p := c.cluster.Load(); p == nil || *p != cluster {
			// A copy, so that cluster itself stays off the heap when
			// nothing changes, as on most calls.
			s := cluster
			c.cluster.Store(&s)
		}
	}
}

// collectDetails gathers analytics payloads, response tokens and traces
// from every part of the answer, in a fixed order.
func (r *Response) collectDetails() {
	dr := r.Response
	add := func(opts []Option, a *AnalyticsResponse, trace map[string]any) {
		if a != nil && a.Payload != nil {
			r.AnalyticsDetails = append(r.AnalyticsDetails, *a)
		}
		if len(trace) > 0 {
			r.Trace = append(r.Trace, trace)
		}
		for _, o := range opts {
			if len(o.ResponseTokens) > 0 {
				r.ResponseTokens = append(r.ResponseTokens, o.ResponseTokens)
			}
		}
	}
	if ex := dr.Execute; ex != nil {
		if pl := ex.PageLoad; pl != nil {
			add(pl.Options, pl.Analytics, pl.Trace)
		}
		for _, m := range ex.Mboxes {
			add(m.Options, m.Analytics, m.Trace)
		}
	}
	if pf := dr.Prefetch; pf != nil {
		if pl := pf.PageLoad; pl != nil {
			add(pl.Options, pl.Analytics, pl.Trace)
		}
		for _, v := range pf.Views {
			add(v.Options, v.Analytics, v.Trace)
		}
		for _, m := range pf.Mboxes {
			add(m.Options, m.Analytics, m.Trace)
		}
	}
}

// debug logs a debug record of the SDK's own (see debugRecord) with args
// as slog.Logger.Log takes them. When the Logger does not want debug
// records it costs the Enabled call (and the boxing of args: a caller on
// a hot path checks Enabled first).
func (c *Client) debug(ctx context.Context, msg string, args ...any) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	r := newRecord(slog.LevelDebug, msg)
	r.Add(args...)
	c.handleContained(ctx, r)
}

// debugAttrs is debug with attributes, for a caller that has checked
// that the Logger wants debug records.
func (c *Client) debugAttrs(ctx context.Context, msg string, attrs ...slog.Attr) {
	r := newRecord(slog.LevelDebug, msg)
	r.AddAttrs(attrs...)
	c.handleContained(ctx, r)
}

// newRecord makes a record whose source (with
// slog.HandlerOptions.AddSource) is the caller of the function that
// calls newRecord, as for a log call there.
func newRecord(level slog.Level, msg string) slog.Record {
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip runtime.Callers, newRecord and its caller
	return slog.NewRecord(time.Now(), level, msg, pcs[0])
}

// handleContained hands r, one of the SDK's own records, to the Logger's
// handler with runContained: a panic in the handler is dropped and a
// runtime.Goexit ends only the handler's goroutine, so that neither ends
// the caller's goroutine or the program, nor changes the call's outcome
// or leaves its future unsettled. It costs a goroutine a record, paid
// only when the Logger wants the record (debug logging is off by
// default).
func (c *Client) handleContained(ctx context.Context, r slog.Record) {
	h := c.log.Handler()
	runContained(c.marks(), func() { _ = h.Handle(ctx, r) })
}

// remoteCall is what a server-side call needs beyond its prepared
// request: its future and the one context its exchange runs under. It
// lives inside the call's prepared state, so that the call's bookkeeping
// is one allocation. future.Go and a context.WithTimeout on its work's
// context would cost some twenty allocations a call between them (the
// future's context links, the deadline's registration on it, the
// transport's own context registering on that), and the deadline would be
// a second context over the first.
type remoteCall struct {
	promise future.Promise[*Response]
	client  *Client
	event   *CallEvent
	// ctx is the call's context (the Observer's CallStart's), for its
	// record; work is ctx with the call's deadline, cancelled when the
	// future settles, by Future.Cancel too.
	ctx    context.Context
	work   context.Context
	cancel context.CancelFunc

	// The call's Response and its mbox cookie, in the call's allocation:
	// the Response's Request points into it anyway, so they keep nothing
	// more alive.
	response Response
	cookie   Cookie
	visitor  visitorCell // the Response's
	// header holds the values of the first attempt's request header (see
	// Client.attempt).
	header headerValues
}

// errCallGoexit settles the future of a call whose work called
// runtime.Goexit (an Observer hook calling t.FailNow, say).
var errCallGoexit = errors.New("target: the call's work called runtime.Goexit")

// goRemote runs p's exchange with the edge on a goroutine of its own and
// returns its future. ctx is the call's context and e its record (nil when
// nobody records it). The future settles once on every path: with the
// exchange's outcome, with a *future.PanicError when the work panics, with
// errCallGoexit when it calls runtime.Goexit, or with context.Canceled
// when it is cancelled first, which also aborts the exchange. The record
// ends before the future settles, as with goGuarded. co.ready registers the
// call's callbacks before the goroutine starts.
func (c *Client) goRemote(ctx context.Context, e *CallEvent, p *prepared, co *callOptions) *future.Future[*Response] {
	rc := p.remote
	rc.client, rc.event, rc.ctx = c, e, ctx
	p.into = &rc.response
	// One context for the caller's cancellation and the deadline: a
	// context.WithTimeout on ctx is a *cancelCtx, on which the transport's
	// own context registers in a map instead of through AfterFunc.
	rc.work, rc.cancel = context.WithTimeout(ctx, c.cfg.Timeout)
	f := rc.promise.Future()
	// Registered first, so it runs before the caller's callbacks: a
	// cancelled future aborts the exchange at once. It holds cancel
	// itself, not rc, whose fields run clears while a Cancel may be
	// running this on another goroutine; the future drops it once run.
	cancel := rc.cancel
	f.OnComplete(func(*Response, error) { cancel() })
	// The caller's callbacks, and the futures of GetAttributes or a
	// Visitor made from this one, are registered before the goroutine
	// starts, so that they run on it however soon it settles the call:
	// registered after, they could run on the caller's goroutine.
	co.ready(c, f)
	go p.run()
	return f
}

// run is the call's goroutine: it settles the future whatever the work
// does, as future.Go does.
func (p *prepared) run() {
	growStack(0)
	var (
		r   *Response
		err error
		ok  bool
	)
	defer func() {
		r, err = workOutcome(r, err, ok, recover())
		rc := p.remote
		rc.cancel()
		// The Response lives in rc: a caller keeping it must not keep
		// the call's context (and its values), its record or the client.
		// Nothing reads these after the work is done. Deferred, so that
		// it runs after a callback's runtime.Goexit too.
		defer func() { rc.ctx, rc.work, rc.cancel, rc.client, rc.event = nil, nil, nil, nil, nil }()
		rc.client.settleGuarded(&rc.promise, r, err)
	}()
	r, err = p.work()
	ok = true
}

// workOutcome is the outcome of a call's work run on a goroutine of the
// SDK's: (r, err) when it returned (ok), else a *future.PanicError when it
// panicked with v (recover's value, from the deferred function that calls
// workOutcome) or errCallGoexit when it called runtime.Goexit (recover
// returns nil only when not panicking: panic(nil) panics with
// *runtime.PanicNilError).
func workOutcome(r *Response, err error, ok bool, v any) (*Response, error) {
	switch {
	case ok:
		return r, err
	case v != nil:
		return nil, &future.PanicError{Value: v, Stack: debug.Stack()}
	default:
		return nil, errCallGoexit
	}
}

// settleGuarded settles p with (r, err) on a goroutine of the SDK's own,
// under recoverSettlement.
func (c *Client) settleGuarded(p *future.Promise[*Response], r *Response, err error) {
	settled := false
	defer c.recoverSettlement(&settled)
	_ = p.Complete(r, err) // fails only if p's future was cancelled first
	settled = true
}

// recoverSettlement, deferred by settleGuarded around the settlement of a
// call's future on a goroutine of the SDK's own (the call's, a geo
// lookup's, the one that ends a Visitor call's wait, a Coalescer's batch)
// with *settled set once it returned, does what the notification queue does (see
// notifier.rescue): the future package raises a panic of the future's
// callbacks (the caller's OnComplete and friends, a Then continuation's
// callbacks) again on the goroutine that settled it, after the others
// ran, and on a goroutine of the SDK's nothing of the caller's could
// recover it: the program would end. It is logged at level Error with its
// stack, to Config.Logger, else slog.Default(), contained (see
// logContained). A runtime.Goexit in such a callback cannot be stopped:
// it ends this goroutine, after the other callbacks ran, and is logged
// too.
func (c *Client) recoverSettlement(settled *bool) {
	if *settled {
		return
	}
	v := recover()
	log := c.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	marks := c.marks()
	if v == nil {
		// recover returns nil only when not panicking (panic(nil) panics
		// with *runtime.PanicNilError): this is Goexit.
		logContained(marks, log, "target: runtime.Goexit called by a callback of a call's future, on the SDK's goroutine that settled it")
		return
	}
	pe, ok := v.(*future.PanicError) // a callback's, raised again
	if !ok {
		pe = &future.PanicError{Value: v, Stack: debug.Stack()}
	}
	logContained(marks, log, "target: recovered a panic in a callback of a call's future, on the SDK's goroutine that settled it", "panic", pe.Value, "stack", string(pe.Stack))
}

// work runs the exchange and ends the call's record, also when the
// exchange panics (the record then reports errWorkPanicked, as recordCall's).
func (p *prepared) work() (r *Response, err error) {
	rc := p.remote
	finished := false
	defer func() {
		rc.cancel()
		if !finished {
			r, err = nil, errWorkPanicked
		}
		rc.client.endCall(rc.ctx, rc.event, r, err)
	}()
	r, err = rc.client.exchange(rc.work, p)
	finished = true
	// The Response keeps p alive (its Request points into it): not the
	// encoded body as well.
	p.body = nil
	return r, err
}

// callStack is the stack a call's goroutine grows to at once: with it, no
// stack copy was left in a call's callgrind profile (net/http's round trip
// and the JSON decoding are the deep parts of the exchange). See growStack
// for why 16 KB and not 8.
const callStack = 16 << 10

// growStack grows the calling goroutine's stack to callStack in one step,
// while it is shallow. A new goroutine starts with 2 KB, and the runtime
// doubles a stack that runs out by copying it, walking every frame on it
// (pcvalue lookups per frame): a call's exchange grew its goroutine's
// stack more than once, deep in net/http and encoding/json, and those
// copies were about a third of the client's instructions a call
// (callgrind: 330k a call with them, 229k without). One
// frame of callStack bytes makes the runtime size the stack for it at
// once, with two frames to copy. i only keeps the frame from being
// optimized away (the function is not inlined, so it cannot know i); the
// call passes 0, which returns before the array is declared, so its 14 KB
// are reserved but not zeroed (zeroing them was 1.8k instructions a call,
// callgrind).
//
// The cost is memory while a call is in flight: every call holds 16 KB
// of stack until it settles, where growing as needed it holds 8 KB while
// it waits for the edge (the deep parts come after the answer). 10,000
// calls parked in the transport at once: 164 MB of StackInuse with 16 KB,
// 82 MB with 8 KB (runtime.MemStats after two GCs, in a program whose
// RoundTripper blocks until all are in; a growth to 4 KB parks at 8 KB
// too). Growing to 8 KB instead leaves one copy, of a deep
// stack, late in the exchange, and costs about 50k instructions a call
// more, a fifth of the client's (callgrind, BenchmarkRemoteCall at
// concurrency 1, whole runs of 1000 calls divided by 1000: 248k-249k a
// call with 16 KB in three runs, 299k-302k with 8 KB in two; slopes over
// 100-call runs, 196k-229k against 270k-280k; see
// bench/cost_bench_test.go on the method). 16 KB was kept: the instructions are paid by every call, the
// memory only by those in flight at once, and it goes when they settle.
//
//go:noinline
func growStack(i int) byte {
	if i == 0 {
		// The call that grows: the frame below is reserved (the stack
		// check at entry makes room for all of it) but never written.
		return 0
	}
	var b [callStack - 2<<10]byte
	b[i%len(b)] = 1
	return b[(i+1)%len(b)]
}
