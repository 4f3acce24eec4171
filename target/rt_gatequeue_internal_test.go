package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
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

// TestRTGateManyWaitersCancelled: 2000 requests wait for a probe whose
// handshake is held; every third is cancelled at some moment (before it
// waits, while it waits, as the probe lets go); then the probe gets its
// connection. Each request returns once, a success or its context's
// error, and the waiters' count is back to zero. (The probe fails here,
// so the waiters dial for themselves: the edge saw 32 to 1463
// connections, as documented for a failed first connection.)
func TestRTGateManyWaitersCancelled(t *testing.T) {
	if os.Getenv("RT_REPRO") == "" {
		t.Skip("red team: held, but slow (15-60 s under -race); RT_REPRO=1 to run")
	}
	const n = 2000
	g, hl, url := gateEdge(t)
	probeDone := make(chan error, 1)
	go func() {
		resp, err := g.RoundTrip(gateRequest(t, t.Context(), url, nil))
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		probeDone <- err
	}()
	held := <-hl.first
	results := make(chan error, n)
	cancels := make([]context.CancelFunc, n)
	for i := range n {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		if i%6 == 0 {
			cancel() // before it waits
		}
		go func() {
			resp, err := g.RoundTrip(gateRequest(t, ctx, url, nil))
			if resp != nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			results <- err
		}()
	}
	for i := 3; i < n; i += 6 {
		cancels[i]() // while it waits, or racing the release below
		if i > n/2 && i%12 == 3 {
			runtime.Gosched()
		}
	}
	// Release the probe: serve the held connection by handing it back.
	go func() { _ = held.Close() }()
	require.Error(t, <-probeDone, "the held probe fails")
	ok, cancelled, other := 0, 0, 0
	for range n {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, context.Canceled):
			cancelled++
		default:
			// A dial of its own failing on a loaded machine (1000
			// handshakes at once): still one answer.
			if other++; other == 1 {
				t.Logf("first other error: %v", err)
			}
		}
	}
	for _, c := range cancels {
		c()
	}
	o, _ := g.origins.Load(strings.TrimPrefix(url, "https://"))
	assert.Zero(t, o.(*originGate).waiters.Load())
	t.Logf("%d succeeded, %d cancelled, %d other errors; the edge accepted %d connections", ok, cancelled, other, hl.accepted.Load())
	assert.Equal(t, n, ok+cancelled+other)
	assert.GreaterOrEqual(t, cancelled, n/3, "every cancelled request returns its context's error")
}
