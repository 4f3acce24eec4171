package target_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// BenchmarkCoalescer compares n concurrent one-mbox calls for one visitor
// made as n GetOffers ("separate") with the same calls made through a
// Coalescer ("coalesced"), against a local edge with no latency: one op is
// n calls started and awaited. MaxMboxes is n, so the coalesced batch goes
// out as soon as the last call joins it and no window is waited out.
// requests/op is what the edge received.
//
// Re-measured on 2 Dec 2026 with -benchmem -count=3 (each n's separate
// and coalesced runs back to back, on a 2-core machine shared with other
// jobs, so the times are only good for the ratio within one n):
// allocations and bytes per op (exact up to connection reuse) are n=5,
// 1 411-1 418 allocs and 106 KB separate against 564 and 47 KB coalesced;
// n=20, 5 635-5 656 and 423 KB against 1 395 and 132 KB; n=100, 28 263-
// 30 074 and 2.1-2.7 MB against 5 739 and 557 KB. Coalesced took 0.25-0.5x
// the time of separate at n=5, 0.06-0.5x at n=20 and 0.04-0.12x at n=100.
// Per call that is about 57 allocations and 5.6 KB coalesced against 283
// and 21 KB separate: the request, its preparation and the edge's work are
// paid once per batch.
func BenchmarkCoalescer(b *testing.B) {
	for _, n := range []int{5, 20, 100} {
		notelemetry := false
		c, srv := setup(b, targettest.Config{Offers: offers, NoCluster: true, RecordLimit: -1}, func(cfg *target.Config) {
			cfg.TelemetryEnabled = &notelemetry // keep request sizes equal across iterations
		})
		k := newCoalescer(b, c, target.CoalesceOptions{Window: time.Second, MaxMboxes: n})
		run := func(b *testing.B, get func(target.GetOffersOptions) *future.Future[*target.Response]) {
			fs := make([]*future.Future[*target.Response], n)
			srv.Reset()
			ops := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range fs {
					fs[i] = get(target.GetOffersOptions{SessionID: "s1", Request: offersRequest("hero")})
				}
				for _, f := range fs {
					if _, err := f.Await(b.Context()); err != nil {
						b.Fatal(err)
					}
				}
				ops++
			}
			b.ReportMetric(float64(srv.Stats().Requests)/float64(ops), "requests/op")
		}
		b.Run(fmt.Sprintf("n=%d/separate", n), func(b *testing.B) {
			run(b, func(o target.GetOffersOptions) *future.Future[*target.Response] { return c.GetOffers(b.Context(), o) })
		})
		b.Run(fmt.Sprintf("n=%d/coalesced", n), func(b *testing.B) {
			run(b, func(o target.GetOffersOptions) *future.Future[*target.Response] { return k.GetOffers(b.Context(), o) })
		})
	}
}
