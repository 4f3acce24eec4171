// Package targetotel reports what a target.Client does to OpenTelemetry:
// a span per call, per HTTP attempt and per on-device decision, metrics
// for dashboards, and the trace context propagated to the edge. It is the
// only package of the SDK that imports OpenTelemetry; package target only
// defines the hook, target.Observer, that this package implements.
//
//	obs, err := targetotel.New(targetotel.Options{}) // the global providers
//	if err != nil { ... }
//	client, err := target.NewClient(target.Config{..., Observer: obs})
//
// # Spans
//
// Each call is a span of kind client named after it ("target.GetOffers",
// "target.SendNotifications"), a child of the span in the call's context
// (the request handler's, typically). Under it, each HTTP attempt to the
// edge is a span of kind client named "POST" with the attributes of the
// OpenTelemetry HTTP client semantic conventions (http.request.method,
// url.full, server.address, server.port, http.response.status_code,
// http.request.resend_count, error.type, body sizes), and the request
// carries the attempt's trace context in its headers (W3C traceparent with
// the default propagator), so that the edge's spans join the trace. An
// on-device decision, which makes no request, is an internal span named
// "target.decide". Each artifact download is a span of its own trace,
// "target.artifact.download". The display notifications a decision queues
// are a "target.notifications" event on the call's span; what became of
// them (sent or dropped), reported by the notification queue's goroutine,
// before or after the call's span has ended, is always a span of its own
// named "target.notifications", under the call's span.
//
// Call spans carry the client code (target.client_code), the decisioning
// method asked for and the one that answered, the mbox, view and
// notification counts, the request id, the edge host and the retry count.
// A failed call or attempt has status Error, an error.type attribute (the
// target.ErrorKind, or the HTTP status of an error answer) and the error
// recorded as an exception event. No attribute holds a secret of the
// call: target.Observer's events leave out the session id, visitor ids
// and tokens, redact them from error texts, and redact the session id in
// URLs.
//
// # Metrics
//
//	target.client.call.duration       histogram, s     target.operation, target.decisioning_method, target.outcome, error.type
//	target.client.calls.active        up-down counter  target.operation, target.decisioning_method
//	target.client.attempts            counter          target.operation, target.outcome, http.response.status_code
//	target.client.retries             counter          target.operation
//	target.client.errors              counter          target.operation, error.type
//	http.client.request.duration      histogram, s     the HTTP semantic conventions' attributes
//	target.client.notifications       counter          target.notification.state (queued, sent, dropped)
//	target.client.artifact.age        gauge, s         target.client_code, target.client.instance: time since the artifact in use was last known current
//	target.client.artifact.refresh_failures counter    target.client_code, error.type
//
// The decisioning method of a finished call is the one that answered
// (server-side or on-device), else the one asked for; a method that is
// none of ServerSide, OnDevice and Hybrid is "invalid", and the
// server.address of http.client.request.duration is the configured host
// (Config.ServerDomain, or the client code's host) or, for the host of
// an edge cluster that a visitor's location hint chose,
// EdgeClusterHost, so that every metric attribute takes its values from
// a bounded set. Spans keep the full host.
//
// The artifact age is a series per Client: Clients that share a client
// code are told apart by target.client.instance (target.ArtifactEvent's
// Instance, a number per Client of the process), and a Client's series
// ends with the Client (target.Observer's ClientClosed), so that the
// attribute takes as many values as there are live Clients downloading
// an artifact.
//
// # Module
//
// This package is in the SDK's module, not a module of its own as
// aws-sdk-go-v2's OpenTelemetry adapters are; the decision was made with a
// scratch module that requires the SDK (through a replace) and imports
// only package target. Such a user builds and links no OpenTelemetry
// package (go list -deps lists none), and its go.mod requires none; but
// its module graph holds the SDK's requirements (9 of the 33 edges of
// go mod graph lead to go.opentelemetry.io modules, and go.sum gets 14
// of its 42 lines for them), and minimal version selection applies them:
// a user that also requires go.opentelemetry.io/otel v1.30.0 is moved to
// the v1.47.0 this package needs. A module of its own would spare
// non-users that, at a cost: package target's tests and examples/webapp
// import this package, so they would move out of the root module too, CI
// would run in each module, and each would be versioned and tagged on
// its own. While the SDK has no release (no version tag yet) the one
// module stays; the split is to be made before a first release if the
// minimum OpenTelemetry version matters to users by then.
package targetotel

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/target-go/sdk/target"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/target-go/sdk/target/targetotel"

// Attribute keys of the SDK's own attributes; the others come from the
// OpenTelemetry semantic conventions.
const (
	ClientCodeKey        = attribute.Key("target.client_code")
	OperationKey         = attribute.Key("target.operation")
	DecisioningMethodKey = attribute.Key("target.decisioning_method")
	DecidedByKey         = attribute.Key("target.decided_by")
	OutcomeKey           = attribute.Key("target.outcome")
	RequestIDKey         = attribute.Key("target.request_id")
	MboxCountKey         = attribute.Key("target.mbox_count")
	ViewCountKey         = attribute.Key("target.view_count")
	PageLoadKey          = attribute.Key("target.page_load")
	NotificationCountKey = attribute.Key("target.notification_count")
	RetryCountKey        = attribute.Key("target.retry_count")
	ArtifactVersionKey   = attribute.Key("target.artifact.version")
	RemoteMboxCountKey   = attribute.Key("target.remote_mbox_count")
	RemoteViewCountKey   = attribute.Key("target.remote_view_count")
	NotificationStateKey = attribute.Key("target.notification.state")
	InstanceKey          = attribute.Key("target.client.instance")
)

// Values of OutcomeKey.
const (
	OutcomeSuccess = "success"
	OutcomeError   = "error"
)

// Options choose where spans, metrics and the trace context go. Nil fields
// mean OpenTelemetry's global ones (otel.GetTracerProvider and so on),
// looked up once, in New; the global providers forward to the ones set
// later with otel.SetTracerProvider.
type Options struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Propagator writes the trace context into the edge requests' headers.
	// The global default propagates nothing: set
	// propagation.TraceContext{} (W3C traceparent) here or globally.
	Propagator propagation.TextMapPropagator
}

// New returns an Observer for target.Config.Observer that reports to the
// providers of o. It fails only when an instrument cannot be created. One
// Observer may serve several Clients; it is safe for concurrent use and
// starts no goroutine.
func New(o Options) (*target.Observer, error) {
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	if o.Propagator == nil {
		o.Propagator = otel.GetTextMapPropagator()
	}
	a := &adapter{
		tracer:     o.TracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		propagator: o.Propagator,
		current:    map[uint64]artifactAge{},
	}
	if err := a.instruments(o.MeterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))); err != nil {
		return nil, err
	}
	return &target.Observer{
		CallStart:        a.callStart,
		CallDone:         a.callDone,
		AttemptStart:     a.attemptStart,
		AttemptDone:      a.attemptDone,
		DecisionStart:    a.decisionStart,
		DecisionDone:     a.decisionDone,
		Notifications:    a.notifications,
		ArtifactDownload: a.artifactDownload,
		ClientClosed:     a.clientClosed,
	}, nil
}

type adapter struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator

	callDuration, httpDuration                  metric.Float64Histogram
	active                                      metric.Int64UpDownCounter
	attempts, retries, errs, notes, artifactErr metric.Int64Counter

	mu sync.Mutex
	// current maps a Client (target.ArtifactEvent.Instance) to when its
	// artifact was last known current, for the artifact age gauge, until
	// the Client is closed.
	current map[uint64]artifactAge
}

// artifactAge is a Client's entry in the artifact age gauge.
type artifactAge struct {
	client  string
	current time.Time
}

// Bucket bounds in seconds: on-device decisions take microseconds and edge
// calls tens of milliseconds, so the call histogram reaches lower than the
// HTTP one, whose bounds are the semantic conventions' advice.
var (
	callBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10}
	httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
)

func (a *adapter) instruments(m metric.Meter) error {
	var err, e error
	keep := func() {
		err = errors.Join(err, e)
	}
	a.callDuration, e = m.Float64Histogram("target.client.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of Target calls, from the call to its outcome."),
		metric.WithExplicitBucketBoundaries(callBuckets...))
	keep()
	a.active, e = m.Int64UpDownCounter("target.client.calls.active", metric.WithUnit("{call}"),
		metric.WithDescription("Target calls in flight."))
	keep()
	a.attempts, e = m.Int64Counter("target.client.attempts", metric.WithUnit("{attempt}"),
		metric.WithDescription("HTTP attempts made to the Target edge."))
	keep()
	a.retries, e = m.Int64Counter("target.client.retries", metric.WithUnit("{attempt}"),
		metric.WithDescription("HTTP attempts that repeated a failed one."))
	keep()
	a.errs, e = m.Int64Counter("target.client.errors", metric.WithUnit("{call}"),
		metric.WithDescription("Failed Target calls, by kind of failure."))
	keep()
	a.httpDuration, e = m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(httpBuckets...))
	keep()
	a.notes, e = m.Int64Counter("target.client.notifications", metric.WithUnit("{notification}"),
		metric.WithDescription("Display notifications of on-device decisions, queued, sent or dropped."))
	keep()
	a.artifactErr, e = m.Int64Counter("target.client.artifact.refresh_failures", metric.WithUnit("{download}"),
		metric.WithDescription("Failed downloads of the on-device decisioning artifact."))
	keep()
	_, e = m.Float64ObservableGauge("target.client.artifact.age", metric.WithUnit("s"),
		metric.WithDescription("Time since the on-device artifact in use was last known to be current."),
		metric.WithFloat64Callback(a.observeAge))
	keep()
	return err
}

// callKey keys the call's event in the context the call goes on with, so
// that its attempts and decision are counted under its operation.
type callKey struct{}

func operation(ctx context.Context) attribute.KeyValue {
	if e, ok := ctx.Value(callKey{}).(*target.CallEvent); ok {
		return OperationKey.String(string(e.Operation))
	}
	return OperationKey.String("")
}

// method returns m as a metric attribute: one of the decisioning methods,
// else "invalid", so that the attribute has a bounded set of values
// whatever text a caller passed.
func method(m target.DecisioningMethod) attribute.KeyValue {
	switch m {
	case target.ServerSide, target.OnDevice, target.Hybrid:
		return DecisioningMethodKey.String(string(m))
	}
	return DecisioningMethodKey.String("invalid")
}

func (a *adapter) callStart(ctx context.Context, e *target.CallEvent) context.Context {
	ctx = context.WithValue(ctx, callKey{}, e)
	ctx, _ = a.tracer.Start(ctx, "target."+string(e.Operation),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(e.Start),
		trace.WithAttributes(
			ClientCodeKey.String(e.Client),
			OperationKey.String(string(e.Operation)),
			method(e.Method),
			MboxCountKey.Int(e.Mboxes),
			ViewCountKey.Int(e.Views),
			PageLoadKey.Bool(e.PageLoad),
			NotificationCountKey.Int(e.Notifications),
		))
	if e.RequestID != "" {
		trace.SpanFromContext(ctx).SetAttributes(RequestIDKey.String(e.RequestID))
	}
	if e.Host != "" {
		trace.SpanFromContext(ctx).SetAttributes(semconv.ServerAddress(hostOnly(e.Host)))
	}
	a.active.Add(ctx, 1, metric.WithAttributes(OperationKey.String(string(e.Operation)), method(e.Method)))
	return ctx
}

func (a *adapter) callDone(ctx context.Context, e *target.CallEvent) {
	op := OperationKey.String(string(e.Operation))
	a.active.Add(ctx, -1, metric.WithAttributes(op, method(e.Method)))

	m := e.DecidedBy
	if m == "" {
		m = e.Method
	}
	attrs := []attribute.KeyValue{op, method(m), OutcomeKey.String(OutcomeSuccess)}
	if e.Err != nil {
		attrs[2] = OutcomeKey.String(OutcomeError)
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(e.ErrorKind)))
		a.errs.Add(ctx, 1, metric.WithAttributes(op, semconv.ErrorTypeKey.String(string(e.ErrorKind))))
	}
	a.callDuration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(attrs...))

	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if e.DecidedBy != "" {
		span.SetAttributes(DecidedByKey.String(string(e.DecidedBy)))
	}
	if e.Timings.Attempts > 0 {
		span.SetAttributes(RetryCountKey.Int(e.Timings.Attempts - 1))
	}
	if e.Status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(e.Status))
	}
	if e.Err != nil {
		fail(span, e.Err, string(e.ErrorKind), e.Start.Add(e.Duration))
	}
	span.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}

// fail marks span as failed with err, whose text the client has redacted.
// end is when the span ends, which its exception event must not follow
// (the events of the client come after what they report); zero means now.
func fail(span trace.Span, err error, errorType string, end time.Time) {
	span.SetAttributes(semconv.ErrorTypeKey.String(errorType))
	recordError(span, err, end)
	span.SetStatus(codes.Error, err.Error())
}

// recordError records err as an exception event of span, at end unless
// that is zero.
func recordError(span trace.Span, err error, end time.Time) {
	if end.IsZero() {
		span.RecordError(err)
		return
	}
	span.RecordError(err, trace.WithTimestamp(end))
}

func (a *adapter) attemptStart(ctx context.Context, e *target.AttemptEvent) context.Context {
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(e.Method),
		semconv.URLFull(e.URL),
		semconv.ServerAddress(hostOnly(e.Host)),
		semconv.ServerPort(port(e.URL, e.Host)),
		semconv.HTTPRequestBodySize(e.RequestSize),
	}
	if e.Attempt > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(e.Attempt-1))
		a.retries.Add(ctx, 1, metric.WithAttributes(operation(ctx)))
	}
	ctx, _ = a.tracer.Start(ctx, e.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(e.Start), trace.WithAttributes(attrs...))
	if e.Header != nil {
		a.propagator.Inject(ctx, propagation.HeaderCarrier(e.Header))
	}
	return ctx
}

func (a *adapter) attemptDone(ctx context.Context, e *target.AttemptEvent) {
	errorType := ""
	switch {
	case e.Status >= 400:
		errorType = strconv.Itoa(e.Status)
	case e.Err != nil:
		errorType = string(e.ErrorKind)
	}
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(e.Method),
		semconv.ServerAddress(metricHost(e.Host)),
		semconv.ServerPort(port(e.URL, e.Host)),
	}
	if e.Status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(e.Status))
	}
	if errorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType))
	}
	a.httpDuration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(attrs...))
	outcome := OutcomeSuccess
	if e.Err != nil {
		outcome = OutcomeError
	}
	counted := []attribute.KeyValue{operation(ctx), OutcomeKey.String(outcome)}
	if e.Status != 0 {
		counted = append(counted, semconv.HTTPResponseStatusCode(e.Status))
	}
	a.attempts.Add(ctx, 1, metric.WithAttributes(counted...))

	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if e.Status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(e.Status), semconv.HTTPResponseBodySize(int(e.Timings.ResponseSize)))
	}
	if errorType != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType))
		if e.Err != nil {
			// Reported after the backoff of a retried attempt: stamped
			// with the attempt's end, within its span.
			recordError(span, e.Err, attemptEnd(e))
			span.SetStatus(codes.Error, e.Err.Error())
		} else {
			span.SetStatus(codes.Error, "")
		}
	}
	if e.Start.IsZero() {
		span.End()
		return
	}
	// AttemptDone of a retried attempt comes after the backoff, which is
	// not the attempt's time.
	span.End(trace.WithTimestamp(attemptEnd(e)))
}

// attemptEnd is when the attempt ended, zero when its start is unknown.
func attemptEnd(e *target.AttemptEvent) time.Time {
	if e.Start.IsZero() {
		return time.Time{}
	}
	return e.Start.Add(e.Duration)
}

// EdgeClusterHost is the server.address of the HTTP duration metric for
// the requests to an edge cluster's host, mboxedge{cluster}.tt.omtrdc.net.
const EdgeClusterHost = "mboxedge*.tt.omtrdc.net"

// metricHost is host[:port] as a metric attribute: the host without its
// port, or EdgeClusterHost for an edge cluster's host, which the visitor
// chooses (the location hint of its tntId or cookie), so that the
// attribute takes its values from the configured hosts only.
func metricHost(host string) string {
	h := hostOnly(host)
	if rest, ok := strings.CutPrefix(h, "mboxedge"); ok && strings.HasSuffix(rest, ".tt.omtrdc.net") {
		return EdgeClusterHost
	}
	return h
}

// hostOnly strips the port from host[:port].
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// port is the port of host[:port], else the default of the URL's scheme.
func port(rawURL, host string) int {
	if _, p, err := net.SplitHostPort(host); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
	}
	if u, err := url.Parse(rawURL); err == nil && u.Scheme == "http" {
		return 80
	}
	return 443
}

func (a *adapter) decisionStart(ctx context.Context, e *target.DecisionEvent) context.Context {
	ctx, _ = a.tracer.Start(ctx, "target.decide", trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		MboxCountKey.Int(e.Mboxes),
		ViewCountKey.Int(e.Views),
		PageLoadKey.Bool(e.PageLoad),
		ArtifactVersionKey.String(e.ArtifactVersion),
	))
	return ctx
}

func (a *adapter) decisionDone(ctx context.Context, e *target.DecisionEvent) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		RemoteMboxCountKey.Int(len(e.RemoteMboxes)),
		RemoteViewCountKey.Int(len(e.RemoteViews)),
		NotificationCountKey.Int(e.Notifications),
	)
	if e.Err != nil {
		fail(span, e.Err, string(e.ErrorKind), time.Time{})
	}
	span.End()
}

func (a *adapter) notifications(ctx context.Context, e target.NotificationEvent) {
	a.notes.Add(ctx, int64(e.Count), metric.WithAttributes(NotificationStateKey.String(string(e.State))))
	span := trace.SpanFromContext(ctx)
	attrs := []attribute.KeyValue{NotificationStateKey.String(string(e.State)), NotificationCountKey.Int(e.Count)}
	if e.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(e.ErrorKind)))
	}
	switch {
	case e.State == target.NotificationsQueued:
		span.AddEvent("target.notifications", trace.WithAttributes(attrs...))
	case span.SpanContext().IsSampled():
		// Sent and dropped are reported by the queue's goroutine, with no
		// order against the end of the call's span: the choice goes by the
		// state, not by span.IsRecording(), which would make them an event
		// of the call when the queue is quicker than the caller's
		// goroutine, and a span of their own otherwise.
		_, own := a.tracer.Start(ctx, "target.notifications", trace.WithAttributes(attrs...))
		if e.Err != nil {
			own.SetStatus(codes.Error, e.Err.Error())
		}
		own.End()
	}
}

func (a *adapter) artifactDownload(ctx context.Context, e target.ArtifactEvent) {
	if !e.Current.IsZero() {
		a.mu.Lock()
		if e.Current.After(a.current[e.Instance].current) {
			a.current[e.Instance] = artifactAge{client: e.Client, current: e.Current}
		}
		a.mu.Unlock()
	}
	if e.Err != nil {
		a.artifactErr.Add(ctx, 1, metric.WithAttributes(ClientCodeKey.String(e.Client), semconv.ErrorTypeKey.String(string(e.ErrorKind))))
	}
	// The download has ended: its span is recorded with its real times,
	// in a trace of its own, since the polling goroutine serves no request.
	_, span := a.tracer.Start(ctx, "target.artifact.download",
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(e.Start),
		trace.WithAttributes(
			ClientCodeKey.String(e.Client),
			semconv.HTTPRequestMethodGet,
			semconv.URLFull(e.Location),
		))
	if span.IsRecording() {
		if e.Status != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(e.Status))
		}
		if e.Version != "" {
			span.SetAttributes(ArtifactVersionKey.String(e.Version))
		}
		if e.Err != nil {
			fail(span, e.Err, string(e.ErrorKind), e.Start.Add(e.Duration))
		}
	}
	span.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}

func (a *adapter) observeAge(_ context.Context, o metric.Float64Observer) error {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for instance, age := range a.current {
		o.Observe(now.Sub(age.current).Seconds(), metric.WithAttributes(ClientCodeKey.String(age.client), InstanceKey.Int64(int64(instance))))
	}
	return nil
}

// clientClosed ends the Client's artifact age series: no download of it
// is reported after this.
func (a *adapter) clientClosed(_ context.Context, e target.ClientEvent) {
	a.mu.Lock()
	delete(a.current, e.Instance)
	a.mu.Unlock()
}
