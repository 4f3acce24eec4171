package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerOK answers every request 200 without a network.
func answerOK(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
}

func gateOrigins(g *firstConnGate) int {
	n := 0
	g.origins.Range(func(any, any) bool { n++; return true })
	return n
}

// TestFirstConnGateForgetsFailedOrigins: visitors choose the hosts a
// client calls (the mboxEdgeCluster cookie); 20,000 distinct hosts whose
// dial fails leave no entry in the gate and no memory behind. Before the
// bound every one stayed, about 150 bytes each, for the client's life.
//
// Not parallel: it measures the heap.
func TestFirstConnGateForgetsFailedOrigins(t *testing.T) {
	const hosts = 20000
	dialErr := errors.New("no such host (test)")
	g := &firstConnGate{idle: time.Minute, next: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, dialErr })}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range hosts {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("https://mboxedge%d.example/rest/v1/delivery", i), nil)
		require.NoError(t, err)
		_, err = g.RoundTrip(req)
		require.ErrorIs(t, err, dialErr)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d origins held after %d failed hosts; heap grew %d bytes", gateOrigins(g), hosts, grew)
	assert.Zero(t, gateOrigins(g), "origins held for hosts never connected to")
	assert.Zero(t, g.entries.Load())
	assert.Less(t, grew, int64(hosts*50), "the gate keeps memory per failed host")
}

// TestFirstConnGateOriginsCapped: past maxGatedOrigins connected origins,
// requests to new ones go ungated, and still go; CloseIdleConnections's
// forget empties the map.
func TestFirstConnGateOriginsCapped(t *testing.T) {
	t.Parallel()
	const hosts = 4 * maxGatedOrigins
	g := &firstConnGate{idle: time.Hour, next: roundTripFunc(answerOK)}
	for i := range hosts {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("https://mboxedge%d.example/", i), nil)
		require.NoError(t, err)
		resp, err := g.RoundTrip(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	assert.Equal(t, maxGatedOrigins, gateOrigins(g))
	assert.EqualValues(t, maxGatedOrigins, g.entries.Load())
	g.forget()
	assert.Zero(t, gateOrigins(g))
	assert.Zero(t, g.entries.Load())
}

// TestFirstConnGateSweepsExpiredOrigins: a full map of origins whose
// connections have expired makes room for new ones.
func TestFirstConnGateSweepsExpiredOrigins(t *testing.T) {
	t.Parallel()
	g := &firstConnGate{idle: time.Nanosecond, next: roundTripFunc(answerOK)}
	for i := range maxGatedOrigins + 1 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("https://mboxedge%d.example/", i), nil)
		require.NoError(t, err)
		resp, err := g.RoundTrip(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	// The last one found the map full of expired origins, swept them and
	// took a place.
	assert.Equal(t, 1, gateOrigins(g))
	_, ok := g.origins.Load(fmt.Sprintf("mboxedge%d.example", maxGatedOrigins))
	assert.True(t, ok)
}

// TestFirstConnGateFoldsCase: host names differing in case, or in an
// explicit default port, are one origin, as they are one connection pool.
func TestFirstConnGateFoldsCase(t *testing.T) {
	t.Parallel()
	g := &firstConnGate{idle: time.Hour, next: roundTripFunc(answerOK)}
	for _, u := range []string{"https://mboxedgeAB.example/", "https://mboxedgeab.example/", "https://MBOXEDGEAB.EXAMPLE:443/"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, nil)
		require.NoError(t, err)
		resp, err := g.RoundTrip(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	assert.Equal(t, 1, gateOrigins(g))
}

// TestClientGateBoundedByVisitorClusters: through the client, visitors
// with 2,000 distinct mboxEdgeCluster cookies naming hosts that do not
// exist leave nothing in the gate (before the bound: 2,000 entries).
func TestClientGateBoundedByVisitorClusters(t *testing.T) {
	t.Parallel()
	const visitors = 2000
	c, err := NewClient(Config{Client: "acme", OrganizationID: "org", Retry: RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	defer c.Close(context.Background())
	c.transport.DialContext = func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no such host (test)")
	}
	req := DeliveryRequest{Execute: &ExecuteRequest{Mboxes: []MboxRequest{{Name: "hero", Index: 1}}}}
	for i := range visitors {
		v := c.NewVisitorFromCookies("", fmt.Sprintf("Attacker-%d", i))
		_, err := v.GetOffers(t.Context(), GetOffersOptions{Request: req}).Await(t.Context())
		require.Error(t, err)
	}
	assert.Zero(t, gateOrigins(c.gate), "origins held for hosts never connected to")
}
