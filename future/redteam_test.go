package future_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/target-go/sdk/future"
)

// Red team finding 4: Timeout promises that cancelling its result "stops
// the timer and takes its callback off f (f goes on)". The timer's function
// checks that the result is pending and then cancels f; a Cancel of the
// result between the check and f.cancel wins (it returns true, the result
// settles with context.Canceled), and f is still cancelled with the
// timeout, its work's context ended. Run many times with d = 0 so that the
// timer fires while the result is being cancelled.
func TestRedTeamCancelledTimeoutNeverCancelsItsInput(t *testing.T) {
	for i := range 20000 {
		p := future.NewPromise[int]()
		g := future.Timeout(p.Future(), 0)
		var wg sync.WaitGroup
		wg.Add(1)
		won := false
		go func() {
			defer wg.Done()
			won = g.Cancel()
		}()
		wg.Wait()
		if !won {
			continue // the timeout came first: f is cancelled by right
		}
		// Give a timer already past its check time to act.
		_, _ = g.Await(context.Background())
		for range 100 {
			runtimeGosched()
		}
		if _, err := p.Future().Peek(); err != future.ErrPending {
			t.Fatalf("run %d: the Timeout result was cancelled (Cancel returned true), yet its input settled with %v", i, err)
		}
	}
}

func runtimeGosched() { runtime.Gosched() }
