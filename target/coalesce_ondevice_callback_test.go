package target_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/goroutine"
	"github.com/target-go/sdk/target/targettest"
)

// An on-device call through a Coalescer is not merged: it is a plain
// GetOffers, decided at once, and its Callback runs on the caller's
// goroutine before GetOffers returns, as Coalescer.GetOffers' doc says
// (it used to say that happened only for a call that fails at once).
func TestCoalescerOnDeviceCallbackRunsOnCallersGoroutine(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: inProcess{edge}}
	cfg.DecisioningMethod = target.OnDevice
	cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact)}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	defer c.Close(context.Background())
	k, err := c.NewCoalescer(target.CoalesceOptions{})
	require.NoError(t, err)
	caller := goroutine.ID()
	var on uint64
	f := k.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), SessionID: "s1",
		Callback: func(*target.Response) { on = goroutine.ID() }})
	_, err = f.Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, caller, on, "an on-device call's Callback runs on the caller's goroutine")
}
