package targetotel_test

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
	"github.com/target-go/sdk/target/targettest"
)

// A handler's Target call, traced: the call is a client span under the
// handler's span, with a POST span for its HTTP request, whose traceparent
// the edge received.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}()
	obs, err := targetotel.New(targetotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: propagation.TraceContext{}})
	if err != nil {
		panic(err)
	}

	edge := targettest.NewServer(targettest.Config{Offers: offers})
	defer edge.Close()
	cfg := edge.ClientConfig()
	cfg.Observer = obs
	client, err := target.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	ctx, handler := tp.Tracer("app").Start(context.Background(), "GET /home", trace.WithSpanKind(trace.SpanKindServer))
	_, err = client.GetOffers(ctx, target.GetOffersOptions{Request: mboxRequest("hero")}).Await(ctx)
	if err != nil {
		panic(err)
	}
	handler.End()

	var print func(parent trace.SpanID, depth int)
	print = func(parent trace.SpanID, depth int) {
		for _, s := range spans.Ended() {
			if s.Parent().SpanID() == parent {
				fmt.Printf("%s%s (%s)\n", strings.Repeat("  ", depth), s.Name(), s.SpanKind())
				print(s.SpanContext().SpanID(), depth+1)
			}
		}
	}
	print(trace.SpanID{}, 0)
	traceparent := edge.Requests()[0].Header.Get("traceparent")
	fmt.Println("traceparent sent:", traceparent[:2], len(traceparent))

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "target.client.call.duration" {
			dp := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
			fmt.Println(m.Name, "count:", dp.Count)
		}
	}
	// Output:
	// GET /home (server)
	//   target.GetOffers (client)
	//     POST (client)
	// traceparent sent: 00 55
	// target.client.call.duration count: 1
}
