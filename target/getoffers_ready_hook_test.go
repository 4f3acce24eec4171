package target_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/goroutine"
	"github.com/target-go/sdk/target/targettest"
)

// TestGetOffersReadyHookRunsOncePerPath counts the runs of getOffers' hook on
// every path of Client.call (and a Visitor's): exactly once, before
// getOffers returns, on the future it returns, and (where the call
// settles on a goroutine of its own) while that future is still pending.
func TestGetOffersReadyHookRunsOncePerPath(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	geoArtifact := strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1)
	mk := func(method target.DecisioningMethod, artifact string, rt http.RoundTripper) *target.Client {
		cfg := edge.ClientConfig()
		cfg.HTTPClient = &http.Client{Transport: rt}
		cfg.DecisioningMethod = method
		if artifact != "" {
			cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(artifact)}
		}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	remote := mk(target.ServerSide, "", instantEdge{})
	refused := mk(target.ServerSide, "", refusingEdge{})
	od := mk(target.OnDevice, testArtifact, inProcess{edge})
	hybrid := mk(target.Hybrid, testArtifact, inProcess{edge})
	geo := mk(target.OnDevice, geoArtifact, &geoGate{edge: edge, release: closedChan()})
	closed := mk(target.OnDevice, testArtifact, inProcess{edge})
	require.NoError(t, closed.Close(context.Background()))
	closedRemote := mk(target.ServerSide, "", instantEdge{})
	require.NoError(t, closedRemote.Close(context.Background()))

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	nan := heroRequest("gold")
	nan.Context = &target.Context{Channel: target.ChannelWeb, Screen: &target.Screen{PixelRatio: math.NaN()}}
	geoReq := heroRequest("gold")
	geoReq.Context = &target.Context{Channel: target.ChannelWeb, Geo: &target.Geo{IPAddress: "203.0.113.7"}}
	remoteOnly := heroRequest("gold")
	remoteOnly.Execute.Mboxes[0].Name = "checkout" // a remote mbox: Hybrid goes to the edge

	//nolint:staticcheck // a nil ctx on purpose
	var nilCtx context.Context
	cases := []struct {
		name string
		c    *target.Client
		ctx  context.Context
		req  target.DeliveryRequest
	}{
		{"nil ctx", remote, nilCtx, offersRequest("m")},
		{"invalid", remote, context.Background(), offersRequest("")},
		{"encode error remote", remote, context.Background(), nan},
		{"remote ok", remote, context.Background(), offersRequest("m")},
		{"remote cancelled", remote, cancelled, offersRequest("m")},
		{"remote refused", refused, context.Background(), offersRequest("m")},
		{"remote closed", closedRemote, context.Background(), offersRequest("m")},
		{"on-device", od, context.Background(), heroRequest("gold")},
		{"on-device nan", od, context.Background(), nan},
		{"on-device cancelled", od, cancelled, heroRequest("gold")},
		{"on-device closed", closed, context.Background(), heroRequest("gold")},
		{"hybrid local", hybrid, context.Background(), heroRequest("gold")},
		{"hybrid to edge", hybrid, context.Background(), remoteOnly},
		{"geo", geo, context.Background(), geoReq},
		{"geo cancelled", geo, cancelled, geoReq},
	}
	for _, tc := range cases {
		for _, via := range []string{"client", "visitor"} {
			var runs atomic.Int32
			var got *future.Future[*target.Response]
			caller := goroutine.ID()
			var settledOn atomic.Uint64
			hook := func(f *future.Future[*target.Response]) {
				runs.Add(1)
				got = f
				f.OnComplete(func(*target.Response, error) { settledOn.Store(goroutine.ID()) })
			}
			var f *future.Future[*target.Response]
			if via == "client" {
				f = target.GetOffersWithHook(tc.c, tc.ctx, target.GetOffersOptions{Request: tc.req}, hook)
			} else {
				v := tc.c.NewVisitorFromCookies("session#s1#9999999999|PC#t1.28_0#9999999999", "")
				f = target.VisitorGetOffersWithHook(v, tc.ctx, target.GetOffersOptions{Request: tc.req}, hook)
			}
			assert.EqualValues(t, 1, runs.Load(), "%s via %s: hook runs before return", tc.name, via)
			<-f.Done()
			assert.EqualValues(t, 1, runs.Load(), "%s via %s: hook runs", tc.name, via)
			assert.Same(t, f, got, "%s via %s: hook given the returned future", tc.name, via)
			_, err := f.Peek()
			t.Logf("%-22s %-7s err=%v settledOnCaller=%v", tc.name, via, err, settledOn.Load() == caller)
		}
	}
}
