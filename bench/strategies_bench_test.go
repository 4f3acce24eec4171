package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// BenchmarkStrategies runs each strategy's code for one page against a local
// plain-HTTP edge that answers at once, so what is measured is the cost of
// the calls themselves (client, HTTP on loopback, edge) and of the way they
// are made: futures with batch.All next to the errgroup and conc baselines
// making the same calls, and the single request next to both. Compare two
// runs with benchstat (see the README).
//
// The on-device strategy decides from the edge's artifact, in-process; each
// iteration also waits for its display notification request, which a page
// does not wait for but the client sends all the same, so ns/op and
// allocs/op are the whole cost of a page, and decide-ns/op the time the
// page waits for its decisions. Measured on the README's 2-core machine:
// 10 µs of decision for one mbox and 70 µs for twenty, but 66 µs and
// 339 allocations, and 282 µs and 1 204 allocations, per page with the
// notification, against one request's 67 µs and 286, and 222 µs and 818:
// on an edge that answers at once on-device saves the page its wait, not
// the client its work, since the notification is an exchange too.
//
// The coalesced strategy waits for its window (100 µs here) before sending:
// its time is mostly that timer, which fires after 1–2 ms on a busy
// virtual machine (measured on the 2-core machine the README's figures come
// from), so read its allocations rather than its ns/op.
func BenchmarkStrategies(b *testing.B) {
	names := []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17", "m18", "m19", "m20"}
	edge := targettest.NewServer(targettest.Config{Offers: offers(names), RecordLimit: -1})
	defer edge.Close()
	notelemetry := false
	cfg := edge.ClientConfig()
	cfg.TelemetryEnabled = &notelemetry // equal request sizes in every iteration
	c, err := target.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	defer edge.HTTPClient().Transport.(*http.Transport).CloseIdleConnections()
	e, err := newEnv(c, target.GetOffersOptions{SessionID: "bench"}, 10, 100*time.Microsecond)
	if err != nil {
		b.Fatal(err)
	}

	ocfg := edge.ClientConfig()
	ocfg.TelemetryEnabled = &notelemetry
	notes := configureOnDevice(&ocfg, edge.ArtifactURL())
	oc, err := target.NewClient(ocfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = oc.Close(context.Background()) }()
	if _, err := oc.Ready().Await(b.Context()); err != nil {
		b.Fatal(err)
	}
	oe, err := newEnv(oc, target.GetOffersOptions{SessionID: "bench"}, 10, 100*time.Microsecond)
	if err != nil {
		b.Fatal(err)
	}
	oe.notes = notes

	for _, n := range []int{1, 20} {
		for _, s := range strategies {
			if s.Serial && n > 1 {
				continue // its cost is n times the n=1 figure
			}
			env := e
			if s.OnDevice {
				env = oe
			}
			b.Run(fmt.Sprintf("n=%d/%s", n, s.Name), func(b *testing.B) {
				b.ReportAllocs()
				var decide time.Duration
				for b.Loop() {
					rec := &recorder{}
					if env.notes == nil {
						s.run(b.Context(), env, names[:n], rec)
					} else {
						start := time.Now()
						s.run(b.Context(), env, names[:n], rec)
						decide += time.Since(start)
						if err := env.notes.wait(b.Context()); err != nil {
							b.Fatal(err)
						}
					}
					if rec.decided != n {
						b.Fatalf("%d of %d mboxes decided", rec.decided, n)
					}
				}
				if env.notes != nil {
					b.ReportMetric(float64(decide.Nanoseconds())/float64(b.N), "decide-ns/op")
				}
			})
		}
	}
}
