package target_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func BenchmarkRTCallWithState(b *testing.B) {
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
