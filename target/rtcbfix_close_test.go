package target_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestRTCloseFromCallbackOnCallGoroutine: a Callback (now always on the
// call's goroutine for a slow call) that calls Close, for each kind of
// call, returns, and so does the Close made after; nothing hangs.
func TestRTCloseFromCallbackOnCallGoroutine(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	geoArtifact := strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1)
	geoReq := heroRequest("gold")
	geoReq.Context = &target.Context{Channel: target.ChannelWeb, Geo: &target.Geo{IPAddress: "203.0.113.7"}}
	for _, kind := range []string{"offers", "attributes", "visitor", "visitorattrs", "coalescer", "geo"} {
		t.Run(kind, func(t *testing.T) {
			held := heldEdge{release: make(chan struct{})}
			cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", HTTPClient: &http.Client{Transport: held}}
			if kind == "geo" {
				cfg = edge.ClientConfig()
				gate := &geoGate{edge: edge, release: held.release}
				cfg.HTTPClient = &http.Client{Transport: gate}
				cfg.DecisioningMethod = target.OnDevice
				cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(geoArtifact)}
			}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			closed := make(chan error, 1)
			cb := func() { closed <- c.Close(context.Background()) }
			var done <-chan struct{}
			ctx := context.Background()
			switch kind {
			case "offers":
				done = c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), Callback: func(*target.Response) { cb() }}).Done()
			case "attributes":
				done = c.GetAttributes(ctx, []string{"m"}, target.GetAttributesOptions{Callback: func(*target.Attributes) { cb() }}).Done()
			case "visitor":
				v := c.NewVisitorFromCookies("", "")
				done = v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), Callback: func(*target.Response) { cb() }}).Done()
			case "visitorattrs":
				v := c.NewVisitorFromCookies("", "")
				done = v.GetAttributes(ctx, []string{"m"}, target.GetAttributesOptions{Callback: func(*target.Attributes) { cb() }}).Done()
			case "coalescer":
				k, err := c.NewCoalescer(target.CoalesceOptions{})
				require.NoError(t, err)
				done = k.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1", Callback: func(*target.Response) { cb() }}).Done()
			case "geo":
				done = c.GetOffers(ctx, target.GetOffersOptions{Request: geoReq, Callback: func(*target.Response) { cb() }}).Done()
			}
			close(held.release)
			<-done
			select {
			case err := <-closed:
				t.Logf("%s: Close from the callback returned %v", kind, err)
			case <-time.After(30 * time.Second): // a guard against hanging, not a timing
				t.Fatal("Close from the callback hangs")
			}
			fin := make(chan error, 1)
			go func() { fin <- c.Close(context.Background()) }()
			select {
			case err := <-fin:
				require.NoError(t, err)
			case <-time.After(30 * time.Second): // a guard against hanging, not a timing
				t.Fatal("the final Close hangs")
			}
		})
	}
}
