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
// Measured on a shared 2-core machine (3 runs): n=5, 353 µs and 1 346
// allocs separate against 134 µs and 522 coalesced; n=20, 1.8-2.9 ms and
// 5 381 allocs against 0.34-0.38 ms and 1 239; n=100, 9.4-11.6 ms and
// 26 950 allocs against 1.1-1.3 ms and 4 946. Per call that is about 50
// allocations and 5.5 KB coalesced against 270 and 18.6 KB separate: the
// request, its preparation and the edge's work are paid once per batch.
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
