package target_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/goroutine"
)

// refusingEdge fails every request at once, without a network, as a
// refused dial does.
type refusingEdge struct{}

var errRefused = errors.New("test: connection refused")

func (refusingEdge) RoundTrip(*http.Request) (*http.Response, error) { return nil, errRefused }

// callbackCounter counts the Callback and ErrCallback runs of many calls,
// and those that ran on the goroutine that made the call.
type callbackCounter struct {
	ran, onCaller atomic.Int64
	wg            sync.WaitGroup
}

// callbacksFor returns the callbacks of one call made on the calling goroutine.
func callbacksFor[R any](n *callbackCounter) (func(R), func(error)) {
	caller := goroutine.ID()
	n.wg.Add(1)
	mark := func() {
		defer n.wg.Done()
		n.ran.Add(1)
		if goroutine.ID() == caller {
			n.onCaller.Add(1)
		}
	}
	return func(R) { mark() }, func(error) { mark() }
}

// TestCallCallbacksNeverOnCallersGoroutine: the Callback or ErrCallback of
// a remote call runs on the goroutine that settles it, the call's own,
// never on the caller's inside GetOffers, however fast the call settles:
// the callbacks are registered before the call's goroutine starts. They
// used to be registered after, so a call that settled at once (an
// in-memory transport, a refused dial, a cancelled ctx) could run them on
// the caller's goroutine, where a Callback that blocks blocked GetOffers.
// The same holds for GetAttributes, whose Attributes future is made from
// the call's, for the calls of a Visitor, and for a Coalescer's, whose
// batch waits for their registration before it delivers them.
func TestCallCallbacksNeverOnCallersGoroutine(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	transports := map[string]http.RoundTripper{"instant": instantEdge{}, "refused": refusingEdge{}}
	for name, rt := range transports {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := target.NewClient(target.Config{
				Client: "c", OrganizationID: "O@AdobeOrg",
				HTTPClient: &http.Client{Transport: rt},
			})
			require.NoError(t, err)
			defer c.Close(t.Context())
			// A returning visitor: its calls start at once.
			v := c.NewVisitorFromCookies("session#s1#9999999999|PC#t1.28_0#9999999999", "")
			// Each call a batch of its own, sent at once.
			k, err := c.NewCoalescer(target.CoalesceOptions{MaxMboxes: 1})
			require.NoError(t, err)
			const calls = 2000
			var offers, attrs, visitor, visitorAttrs, coalesced callbackCounter
			for i := range calls {
				ctx := t.Context()
				if i%2 == 1 {
					ctx = cancelled
				}
				o := target.GetOffersOptions{Request: offersRequest("m")}
				o.Callback, o.ErrCallback = callbacksFor[*target.Response](&offers)
				f := c.GetOffers(ctx, o)

				a := target.GetAttributesOptions{}
				a.Callback, a.ErrCallback = callbacksFor[*target.Attributes](&attrs)
				g := c.GetAttributes(ctx, []string{"m"}, a)

				vo := target.GetOffersOptions{Request: offersRequest("m")}
				vo.Callback, vo.ErrCallback = callbacksFor[*target.Response](&visitor)
				vf := v.GetOffers(ctx, vo)

				va := target.GetAttributesOptions{}
				va.Callback, va.ErrCallback = callbacksFor[*target.Attributes](&visitorAttrs)
				vg := v.GetAttributes(ctx, []string{"m"}, va)

				// With a live ctx: a Coalescer call whose ctx has already
				// ended fails at once, on the caller's goroutine.
				ko := target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"}
				ko.Callback, ko.ErrCallback = callbacksFor[*target.Response](&coalesced)
				kf := k.GetOffers(t.Context(), ko)

				for _, d := range []<-chan struct{}{f.Done(), g.Done(), vf.Done(), vg.Done(), kf.Done()} {
					<-d
				}
			}
			require.NoError(t, c.Close(t.Context()))
			for what, n := range map[string]*callbackCounter{
				"GetOffers": &offers, "GetAttributes": &attrs,
				"Visitor.GetOffers": &visitor, "Visitor.GetAttributes": &visitorAttrs,
				"Coalescer.GetOffers": &coalesced,
			} {
				// Done is closed before the callbacks run.
				n.wg.Wait()
				require.EqualValues(t, calls, n.ran.Load(), what)
				assert.Zero(t, n.onCaller.Load(), "%s: callbacks ran on the caller's goroutine", what)
			}
		})
	}
}
