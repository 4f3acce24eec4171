package target_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// gatedEdge is a local edge whose Delivery answers are held until release
// is closed, so that a test knows which Visitor calls are waiting; arrived
// counts the requests that reached it.
func gatedEdge(t *testing.T, ecfg targettest.Config, edit ...func(*target.Config)) (c *target.Client, edge *targettest.Server, release chan struct{}, arrived *atomic.Int64) {
	t.Helper()
	edge = targettest.NewServer(ecfg)
	t.Cleanup(edge.Close)
	release = make(chan struct{})
	arrived = &atomic.Int64{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, edge, release, arrived
}

// TestVisitorWaitingCallbackCannotFailTheFirstCall: a waiting call that
// settles at once when released (here, invalid options) and whose
// callback calls runtime.Goexit or panics changes the outcome of no other
// call: the first call and the other waiting call succeed.
func TestVisitorWaitingCallbackCannotFailTheFirstCall(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]func(){
		"goexit": func() { runtime.Goexit() },
		"panic":  func() { panic("user bug in a waiting call's callback") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var recovered atomic.Int64
			c, edge, release, _ := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true}, func(cfg *target.Config) {
				cfg.OnCallbackPanic = func(*future.PanicError) { recovered.Add(1) }
			})
			v := c.NewVisitorFromCookies("", "")
			first := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
			var ran atomic.Bool
			invalid := v.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) {
				ran.Store(true)
				bad()
			}})
			other := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})
			close(release)

			_, err := invalid.Await(t.Context())
			require.ErrorIs(t, err, target.ErrInvalidOption, "the waiting call fails with its own error")
			r, err := first.Await(t.Context())
			require.NoError(t, err, "the first call's outcome is its own")
			require.NotNil(t, r.Response.ID)
			r2, err := other.Await(t.Context())
			require.NoError(t, err, "the other waiting call's outcome is its own")
			assert.Equal(t, r.Response.ID.TntID, r2.Request.ID.TntID)
			assert.True(t, ran.Load())
			if name == "panic" {
				assert.EqualValues(t, 1, recovered.Load(), "the panic is recovered as a Callback's")
			}
			assert.Len(t, edge.Requests(), 2)
		})
	}
}
