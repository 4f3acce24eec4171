package target_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestCloseLeavesNoConnection: right after Close, no goroutine of the
// client's own transport is left, the keep-alive connection of an
// on-device call's display notification included, over a real TCP edge.
// Not parallel: goleak looks at every goroutine of the process.
func TestCloseLeavesNoConnection(t *testing.T) {
	edge := targettest.NewServer(targettest.Config{})
	defer edge.Close()
	for range 40 {
		ignore := goleak.IgnoreCurrent()
		cfg := edge.ClientConfig()
		cfg.HTTPClient = nil // the client's own transport
		cfg.DecisioningMethod = target.OnDevice
		sent := make(chan error, 1)
		cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact), OnNotificationsSent: func(_ *target.Response, err error) { sent <- err }}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
		require.NoError(t, err)
		c.Close(context.Background())
		require.NoError(t, <-sent)
		// The edge's own connection goroutines end when the client's
		// connection closes; goleak retries for a while.
		goleak.VerifyNone(t, ignore, goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
	}
}

// TestCloseDuringServerSideCall: a server-side call in flight during Close
// does not leave its connection idle in the pool when it ends.
func TestCloseDuringServerSideCall(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":200}`)
	}))
	defer srv.Close()
	for range 20 {
		ignore := goleak.IgnoreCurrent()
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", Insecure: true,
			ServerDomain: strings.TrimPrefix(srv.URL, "http://")})
		require.NoError(t, err)
		f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x")})
		<-entered
		c.Close(context.Background())
		release <- struct{}{}
		_, err = f.Await(t.Context())
		require.NoError(t, err)
		goleak.VerifyNone(t, ignore, goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
	}
}
