package target_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// valuePanicCtx is a hostile ctx: it can be cancelled (Done is not nil)
// but its Value panics, as context.AfterFunc calls it.
type valuePanicCtx struct{ context.Context }

func (valuePanicCtx) Done() <-chan struct{} { return make(chan struct{}) }
func (valuePanicCtx) Value(any) any         { panic("hostile Value") }

// A Coalescer call whose ctx's Value panics used to panic inside
// batch.Submit with the Batcher's mutex held (context.AfterFunc calls
// Value): every later call of the Coalescer blocked forever. The panic
// now reaches only its own caller, and the Coalescer goes on serving.
func TestCoalescerHostileCtxFailsOnlyItsOwnCall(t *testing.T) {
	t.Parallel()
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: instantEdge{}},
	})
	require.NoError(t, err)
	k, err := c.NewCoalescer(target.CoalesceOptions{})
	require.NoError(t, err)
	require.PanicsWithValue(t, "hostile Value", func() {
		k.GetOffers(valuePanicCtx{context.Background()}, target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"})
	})
	done := make(chan error, 1)
	go func() {
		_, err := k.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"}).Await(t.Context())
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second): // a guard against hanging, not a timing
		t.Fatal("a later Coalescer call blocked: the Batcher's mutex is held forever")
	}
	_ = c.Close(context.Background())
}
