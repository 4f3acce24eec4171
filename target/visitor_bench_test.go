package target_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// BenchmarkIdentityOptions is what the identity options add to a call, on
// the on-device path where the call is cheapest (the edge's round trip
// dwarfs it otherwise): the same decision without them, and with a visitor
// cookie, a customer id and a page view's supplemental data ids.
// Measured on a shared 2-core machine under heavy load (go test -bench
// IdentityOptions -benchmem -count=3): 8 more allocations and about 1 KB
// more per call (76 to 84 allocations, 6.9 to 7.9 KB); the time, 36-77 µs
// either way, is within the machine's noise.
func BenchmarkIdentityOptions(b *testing.B) {
	edge := targettest.NewServer(targettest.Config{RecordLimit: -1})
	defer edge.Close()
	cfg := edge.ClientConfig()
	cfg.DecisioningMethod = target.OnDevice
	cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact)}
	c, err := target.NewClient(cfg)
	require.NoError(b, err)
	defer func() { _ = c.Close(context.Background()) }()
	req := heroRequest("gold")
	req.Execute, req.Prefetch = nil, &target.PrefetchRequest{Mboxes: req.Execute.Mboxes}
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	cookie := amcv("MCIDTS|20000", "MCMID|"+secretMCMID, "MCAAMLH-"+later+"|9", "MCAAMB-"+later+"|RKhpRz8krg2tLO6pguXWp5ol", "MCOPTOUT-"+later+"s|NONE")
	ids := []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated}}

	b.Run("without", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetOffers(b.Context(), target.GetOffersOptions{Request: req}).Await(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			opts := target.GetOffersOptions{
				Request: req, VisitorCookie: cookie, CustomerIDs: ids,
				ConsumerID: "hero", SupplementalDataIDs: target.NewSupplementalDataIDs(),
			}
			if _, err := c.GetOffers(b.Context(), opts).Await(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCallWithState is a direct call with a page view's ids and a
// customer id whose VisitorState is read 0, 1 or 2 times: the state is
// built on the first read and kept, so a second read costs nothing.
func BenchmarkCallWithState(b *testing.B) {
	for _, read := range []int{0, 1, 2} {
		b.Run(map[int]string{0: "read=0", 1: "read=1", 2: "read=2"}[read], func(b *testing.B) {
			c, _ := setup(b, targettest.Config{Offers: offers})
			page := target.NewSupplementalDataIDs()
			o := target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s-1", SupplementalDataIDs: page,
				CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1"}}}
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.GetOffers(b.Context(), o).Await(b.Context())
				require.NoError(b, err)
				for range read {
					_ = res.VisitorState()
				}
			}
		})
	}
}
