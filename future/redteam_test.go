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

// Red team finding 5 (found by the batch property test): two
// continuations of one future that call runtime.Goexit, followed by a
// third that returns. The third's future settles (Await returns), but its
// own callbacks never run: the future is left draining with its callbacks
// in place. The package promises a Goexit in a callback does not stop the
// others, those of the futures they settle included.
func TestRedTeamTwoGoexitingContinuationsLeaveCallbacksUnrun(t *testing.T) {
	p := future.NewPromise[int]()
	future.Then(p.Future(), func(int) (int, error) { runtime.Goexit(); return 0, nil })
	future.Then(p.Future(), func(int) (int, error) { runtime.Goexit(); return 0, nil })
	g := future.Then(p.Future(), func(v int) (int, error) { return v + 1, nil })
	ran := make(chan int, 1)
	g.OnComplete(func(v int, _ error) { ran <- v })
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Resolve(1)
	}()
	<-done
	v, err := g.Peek()
	if err != nil || v != 2 {
		t.Fatalf("g settled with (%v, %v)", v, err)
	}
	select {
	case v := <-ran:
		if v != 2 {
			t.Fatalf("callback saw %v", v)
		}
	default:
		// Worse: g stays draining, so a callback registered now, after
		// settlement, is queued for a goroutine that has ended.
		late := false
		g.OnComplete(func(int, error) { late = true })
		t.Fatalf("g settled, yet its OnComplete callback never ran (the goroutine that settled it has ended); a callback registered afterwards ran: %v", late)
	}
}

// Red team finding 6: the same second Goexit drops a recorded panic. The
// first callback panics, the next two call runtime.Goexit: with one Goexit
// the panic is raised again on the settling goroutine
// (TestPanicRecordedBeforeGoexitIsRaisedAgain); with two it is lost,
// though the package promises "a panic is never silently dropped".
func TestRedTeamPanicBeforeTwoGoexitsIsRaisedAgain(t *testing.T) {
	p := future.NewPromise[int]()
	p.Future().OnComplete(func(int, error) { panic("first") })
	p.Future().OnComplete(func(int, error) { runtime.Goexit() })
	p.Future().OnComplete(func(int, error) { runtime.Goexit() })
	var recovered any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recovered = recover() }()
		_ = p.Resolve(1)
	}()
	<-done
	pe, ok := recovered.(*future.PanicError)
	if !ok || pe.Value != "first" {
		t.Fatalf("recovered %v (%T), want the *future.PanicError of \"first\"", recovered, recovered)
	}
}
