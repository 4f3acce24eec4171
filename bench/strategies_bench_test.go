package main

import (
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
	defer c.Close()
	defer edge.HTTPClient().Transport.(*http.Transport).CloseIdleConnections()
	e, err := newEnv(c, target.GetOffersOptions{SessionID: "bench"}, 10, 100*time.Microsecond)
	if err != nil {
		b.Fatal(err)
	}

	for _, n := range []int{1, 20} {
		for _, s := range strategies {
			if s.Serial && n > 1 {
				continue // its cost is n times the n=1 figure
			}
			b.Run(fmt.Sprintf("n=%d/%s", n, s.Name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rec := &recorder{}
					s.run(b.Context(), e, names[:n], rec)
					if rec.decided != n {
						b.Fatalf("%d of %d mboxes decided", rec.decided, n)
					}
				}
			})
		}
	}
}
