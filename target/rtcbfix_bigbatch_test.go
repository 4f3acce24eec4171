package target_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestRTCoalescerBigBatchMixedCtx: 3000 calls in one batch from as many
// goroutines, a third with a context.Background (Done nil), a third
// cancelled while the batch is open, a third cancelled through the
// future: every call settles, each callback runs once, and none on the
// caller's goroutine after GetOffers returned.
func TestRTCoalescerBigBatchMixedCtx(t *testing.T) {
	t.Parallel()
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: instantEdge{}},
	})
	require.NoError(t, err)
	defer c.Close(context.Background())
	k, err := c.NewCoalescer(target.CoalesceOptions{Window: time.Hour})
	require.NoError(t, err)
	const n = 3000
	var ran atomic.Int64
	var wg sync.WaitGroup
	dones := make([]<-chan struct{}, n)
	var mu sync.Mutex
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { go cancel() }()
			if i%3 == 0 {
				ctx = context.Background()
			}
			f := k.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1",
				Callback: func(*target.Response) { ran.Add(1) }, ErrCallback: func(error) { ran.Add(1) }})
			switch i % 3 {
			case 2:
				go f.Cancel()
			}
			mu.Lock()
			dones[i] = f.Done()
			mu.Unlock()
		}()
	}
	wg.Wait()
	k.Flush()
	for _, d := range dones {
		select {
		case <-d:
		case <-time.After(time.Minute): // a guard against hanging, not a timing
			t.Fatal("a call of the batch never settled")
		}
	}
	for ran.Load() < n {
		time.Sleep(time.Millisecond)
	}
	require.EqualValues(t, n, ran.Load())
}
