package target_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestCallbacksExactlyOnceUnderCancelAndClose: every call of every kind
// (GetOffers, GetAttributes, a new Visitor's leading and waiting calls, a
// Coalescer's) runs exactly one of Callback and ErrCallback exactly once,
// while its future is cancelled from another goroutine at once, its ctx
// is cancelled, and the client is closed concurrently.
func TestCallbacksExactlyOnceUnderCancelAndClose(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg",
			HTTPClient: &http.Client{Transport: instantEdge{}},
		})
		require.NoError(t, err)
		k, err := c.NewCoalescer(target.CoalesceOptions{MaxMboxes: 3})
		require.NoError(t, err)
		v := c.NewVisitorFromCookies("", "")
		const n = 60
		var counts [5 * n]atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			ctx, cancel := context.WithCancel(t.Context())
			cb := func(j int) (func(any), func(error)) {
				return func(any) { counts[j].Add(1) }, func(error) { counts[j].Add(1) }
			}
			var cancels []func() bool
			ok, bad := cb(5*i + 0)
			f1 := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), Callback: func(r *target.Response) { ok(r) }, ErrCallback: bad})
			cancels = append(cancels, f1.Cancel)
			ok2, bad2 := cb(5*i + 1)
			f2 := c.GetAttributes(ctx, []string{"m"}, target.GetAttributesOptions{Callback: func(a *target.Attributes) { ok2(a) }, ErrCallback: bad2})
			cancels = append(cancels, f2.Cancel)
			ok3, bad3 := cb(5*i + 2)
			f3 := v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), Callback: func(r *target.Response) { ok3(r) }, ErrCallback: bad3})
			cancels = append(cancels, f3.Cancel)
			ok4, bad4 := cb(5*i + 3)
			f4 := v.GetAttributes(ctx, []string{"m"}, target.GetAttributesOptions{Callback: func(a *target.Attributes) { ok4(a) }, ErrCallback: bad4})
			cancels = append(cancels, f4.Cancel)
			ok5, bad5 := cb(5*i + 4)
			f5 := k.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1", Callback: func(r *target.Response) { ok5(r) }, ErrCallback: bad5})
			cancels = append(cancels, f5.Cancel)
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch (i + round) % 3 {
				case 0:
					for _, cf := range cancels {
						cf()
					}
				case 1:
					cancel()
				}
				<-f1.Done()
				<-f2.Done()
				<-f3.Done()
				<-f4.Done()
				<-f5.Done()
				cancel()
			}()
			if i == n/2 {
				wg.Add(1)
				go func() { defer wg.Done(); _ = c.Close(context.Background()) }()
			}
		}
		wg.Wait()
		_ = c.Close(context.Background())
		for j := range counts {
			// Done is closed before the callbacks run: wait for them.
			for counts[j].Load() == 0 {
				runtimeGosched()
			}
		}
		for j := range counts {
			require.EqualValues(t, 1, counts[j].Load(), "round %d call %d kind %d", round, j/5, j%5)
		}
	}
}

func runtimeGosched() { runtime.Gosched() }
