package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
)

// metricsInterval is how often the -otel flag prints the metrics; they are
// printed once more at exit.
const metricsInterval = 10 * time.Second

// telemetry is the -otel flag's OpenTelemetry pipeline: spans printed to
// out as each ends, metrics every metricsInterval.
type telemetry struct {
	tp       *sdktrace.TracerProvider
	mp       *sdkmetric.MeterProvider
	observer *target.Observer
}

func newTelemetry(out io.Writer) (*telemetry, error) {
	spans, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
	if err != nil {
		return nil, err
	}
	metrics, err := stdoutmetric.New(stdoutmetric.WithWriter(out), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return nil, err
	}
	// A syncer prints each span as it ends, which suits a demo; a service
	// would batch (sdktrace.WithBatcher) and export elsewhere.
	res := resource.NewSchemaless(semconv.ServiceName("target-webapp"))
	t := &telemetry{
		tp: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans), sdktrace.WithResource(res)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics, sdkmetric.WithInterval(metricsInterval)))),
	}
	t.observer, err = targetotel.New(targetotel.Options{TracerProvider: t.tp, MeterProvider: t.mp, Propagator: propagation.TraceContext{}})
	if err != nil {
		return nil, errors.Join(err, t.shutdown(context.Background()))
	}
	return t, nil
}

// handler gives each request a server span, under which the page's
// Target calls appear, as an instrumented server would (otelhttp does the
// same with more attributes).
func (t *telemetry) handler(next http.Handler) http.Handler {
	tracer := t.tp.Tracer("github.com/target-go/sdk/examples/webapp")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), r.Method+" "+r.URL.Path,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// shutdown prints what is left: the spans still open and the metrics.
func (t *telemetry) shutdown(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}
