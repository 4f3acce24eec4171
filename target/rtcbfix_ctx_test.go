package target_test

import (
	"context"
	"net/http"
	"os"
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

// TestRTCoalescerHostileCtxWedgesBatcher: a Coalescer call whose ctx's
// Value panics panics inside batch.Submit with the Batcher's mutex held
// (context.AfterFunc calls Value): every later call of the Coalescer
// blocks forever. Pre-existing on main (batch/coalesce.go submit), not
// made by cbfix.
func TestRTCoalescerHostileCtxWedgesBatcher(t *testing.T) {
	if os.Getenv("RTCBFIX") == "" {
		t.Skip("red team: reproduces a finding of rt-cbfix (set RTCBFIX=1)")
	}
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: instantEdge{}},
	})
	require.NoError(t, err)
	k, err := c.NewCoalescer(target.CoalesceOptions{})
	require.NoError(t, err)
	func() {
		defer func() { t.Logf("hostile call panicked: %v", recover()) }()
		k.GetOffers(valuePanicCtx{context.Background()}, target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"})
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a guard against hanging, not a timing
		t.Fatal("a later Coalescer call blocked: the Batcher's mutex is held forever")
	}
	_ = c.Close(context.Background())
}
