package batch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// TestBatcherStress: many goroutines submit to a Batcher while
// others flush, give up (ctx) or cancel their futures; the bulk function
// sometimes fails, panics, returns the wrong number of responses or
// blocks until its context ends. Every future must settle, with its own
// response when it succeeds, and bulk must see requests of one group in
// submission order per submitter.
func TestBatcherStress(t *testing.T) {
	var calls atomic.Int64
	b := batch.NewBatcher(func(ctx context.Context, g int, reqs []string) ([]string, error) {
		n := calls.Add(1)
		for _, r := range reqs {
			var gg int
			if _, err := fmt.Sscanf(r, "g%d-", &gg); err != nil || gg != g {
				return nil, fmt.Errorf("request %q in group %d", r, g)
			}
		}
		switch n % 11 {
		case 3:
			return nil, errA
		case 5:
			panic("bulk panic")
		case 7:
			return reqs[:len(reqs)-1], nil
		case 9:
			select { // a slow bulk, cut short when every caller gave up
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Millisecond):
				return nil, errB
			}
		}
		out := make([]string, len(reqs))
		for i, r := range reqs {
			out[i] = "re:" + r
		}
		return out, nil
	}, batch.BatchOptions{Window: 50 * time.Microsecond, MaxSize: 4})

	var wg sync.WaitGroup
	stopFlush := make(chan struct{})
	var flushers sync.WaitGroup
	flushers.Go(func() {
		for {
			select {
			case <-stopFlush:
				return
			default:
				b.Flush()
				time.Sleep(20 * time.Microsecond)
			}
		}
	})
	for w := range 8 {
		wg.Go(func() {
			for i := range 150 {
				g := (w + i) % 3
				req := fmt.Sprintf("g%d-w%d-%d", g, w, i)
				ctx, cancel := context.WithCancel(context.Background())
				f := b.Submit(ctx, g, req)
				switch i % 5 {
				case 1:
					cancel()
				case 2:
					f.Cancel()
				}
				// Every caller that gave up settles at once; the others
				// within the window plus the bulk call, except a bulk that
				// waits for its ctx, which every giving-up ends.
				actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
				v, err := f.Await(actx)
				if actx.Err() != nil && err == actx.Err() {
					// Blocked in a case-9 bulk with live callers: give up.
					cancel()
					v, err = f.Await(context.Background())
					if !errors.Is(err, context.Canceled) {
						t.Errorf("%s: after giving up: %v, %v", req, v, err)
					}
				} else if err == nil && v != "re:"+req {
					t.Errorf("%s got %q", req, v)
				}
				acancel()
				cancel()
			}
		})
	}
	wg.Wait()
	close(stopFlush)
	flushers.Wait()
	// Let bulk calls still running for nobody end.
	time.Sleep(10 * time.Millisecond)
	_ = future.ErrPending
}
