package target_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestVisitorBlockingFirstCallbackDelaysNoWaiter: a Callback of the call
// establishing the identity, or an OnComplete put on its future, that
// blocks holds up no waiting call: the waiting call reaches the edge and
// settles while the first call's callback is still blocked.
func TestVisitorBlockingFirstCallbackDelaysNoWaiter(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"Callback", "OnComplete"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			c, _, release, _ := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true})
			v := c.NewVisitorFromCookies("", "")
			unblock := make(chan struct{})
			blocked := make(chan struct{})
			block := func() {
				close(blocked)
				<-unblock
			}
			opts := target.GetOffersOptions{Request: offersRequest("hero")}
			if how == "Callback" {
				opts.Callback = func(*target.Response) { block() }
			}
			first := v.GetOffers(t.Context(), opts)
			if how == "OnComplete" {
				first.OnComplete(func(*target.Response, error) { block() })
			}
			waiter := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})
			close(release)
			defer close(unblock)
			<-blocked
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			r, err := waiter.Await(ctx)
			require.NoError(t, err, "the waiting call ran while the first call's %s blocked", how)
			require.NotNil(t, r.Request.ID)
			require.Equal(t, v.TntID(), r.Request.ID.TntID, "the waiting call carried the learned tntId")
		})
	}
}
