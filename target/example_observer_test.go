package target_test

import (
	"context"
	"fmt"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// An Observer of one's own: here it prints each call's outcome and the
// status of each HTTP attempt, where a service would count them or start
// spans (package targetotel does both on OpenTelemetry).
func ExampleObserver() {
	edge := exampleEdge()
	defer edge.Close()
	cfg := edge.ClientConfig()
	cfg.Retry = target.RetryPolicy{MaxAttempts: 2}
	cfg.Observer = &target.Observer{
		AttemptDone: func(_ context.Context, e *target.AttemptEvent) {
			retry := ""
			if e.Backoff > 0 {
				retry = ", retried"
			}
			fmt.Printf("  attempt %d: HTTP %d%s\n", e.Attempt, e.Status, retry)
		},
		CallDone: func(_ context.Context, e *target.CallEvent) {
			outcome := "decided " + string(e.DecidedBy)
			if e.Err != nil {
				outcome = "failed: " + string(e.ErrorKind)
			}
			fmt.Printf("%s of %d mbox: %s, %d HTTP attempt(s)\n", e.Operation, e.Mboxes, outcome, e.Timings.Attempts)
		},
	}
	client, err := target.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	edge.ForceFault(targettest.FaultServerError, 1) // the first answer is a 503
	ctx := context.Background()
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}}
	_, _ = client.GetOffers(ctx, target.GetOffersOptions{Request: req}).Await(ctx)
	_, _ = client.GetOffers(ctx, target.GetOffersOptions{Request: req, SessionID: "not valid"}).Await(ctx)
	// Output:
	//   attempt 1: HTTP 503, retried
	//   attempt 2: HTTP 200
	// GetOffers of 1 mbox: decided server-side, 2 HTTP attempt(s)
	// GetOffers of 1 mbox: failed: invalid_option, 0 HTTP attempt(s)
}

// An Observer that keeps something per Client (here, the version of its
// artifact) forgets it in ClientClosed, which comes after the Client's
// last ArtifactDownload; Instance tells apart Clients that share a
// client code.
func ExampleObserver_clientClosed() {
	edge := exampleEdge()
	defer edge.Close()
	cfg := edge.ClientConfig()
	versions := map[uint64]string{} // the Observer's functions may run concurrently: a real one would lock
	cfg.Observer = &target.Observer{
		ArtifactDownload: func(_ context.Context, e target.ArtifactEvent) {
			versions[e.Instance] = e.Version
			fmt.Printf("artifact of %s: HTTP %d, version %s\n", e.Client, e.Status, e.Version)
		},
		ClientClosed: func(_ context.Context, e target.ClientEvent) {
			delete(versions, e.Instance)
			fmt.Printf("%s closed, %d Client(s) left\n", e.Client, len(versions))
		},
	}
	cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: edge.ArtifactURL(), PollingInterval: -1}
	client, err := target.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := client.Ready().Await(ctx); err != nil {
		panic(err)
	}
	// Close waits for the download's report, and reports the end after it.
	if err := client.Close(ctx); err != nil {
		panic(err)
	}
	// Output:
	// artifact of testclient: HTTP 200, version 1.0.0
	// testclient closed, 0 Client(s) left
}
