package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redTeam skips a red-team reproduction unless RT_REPRO=1: each one fails
// on the code it was written against.
func redTeam(t *testing.T, finding int) {
	t.Helper()
	if os.Getenv("RT_REPRO") == "" {
		t.Skipf("red team: reproduces finding %d (RT_REPRO=1 to run)", finding)
	}
}

// TestRTGateOriginsGrowWithVisitorClusters: every distinct mboxEdgeCluster
// cookie value a visitor sends (any host label of up to 63 characters,
// case kept) adds an entry to the gate's map that is never removed, even
// when the host does not exist (the dial fails). A site's visitors choose
// those values, so a client serving them grows without bound; before the
// gate, a failed host left nothing behind in the transport.
func TestRTGateOriginsGrowWithVisitorClusters(t *testing.T) {
	redTeam(t, 1)
	const visitors = 20000
	c, err := NewClient(Config{Client: "acme", OrganizationID: "org", Retry: RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	defer c.Close(context.Background())
	c.transport.DialContext = func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no such host (test)")
	}
	req := DeliveryRequest{Execute: &ExecuteRequest{Mboxes: []MboxRequest{{Name: "hero", Index: 1}}}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range visitors {
		v := c.NewVisitorFromCookies("", fmt.Sprintf("attacker-%d", i))
		_, err := v.GetOffers(t.Context(), GetOffersOptions{Request: req}).Await(t.Context())
		require.Error(t, err)
	}
	c.CloseIdleConnections() // the documented way to let go of connections
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := 0
	c.gate.origins.Range(func(any, any) bool { n++; return true })
	t.Logf("%d origins held after %d visitors with distinct clusters; heap grew %d bytes (%.0f B/visitor)",
		n, visitors, int64(after.HeapAlloc)-int64(before.HeapAlloc), float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/visitors)
	c.gate.origins.Range(func(k, _ any) bool { c.gate.origins.Delete(k); return true })
	var cleared runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&cleared)
	t.Logf("of which the gate's map: %d bytes (%.0f B/origin)", int64(after.HeapAlloc)-int64(cleared.HeapAlloc),
		float64(int64(after.HeapAlloc)-int64(cleared.HeapAlloc))/float64(n))
	assert.Less(t, n, 1000, "origins held for hosts that were never connected to")
}
