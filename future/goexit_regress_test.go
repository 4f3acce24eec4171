package future_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/target-go/sdk/future"
)

// Timeout promises that cancelling its result "stops the timer and takes
// its callback off f (f goes on)". The timer used to check that the result
// was pending and then cancel f: a Cancel of the result between the check
// and the cancel won (it returned true, the result settled with
// context.Canceled), and f was still cancelled with the timeout. The timer
// now checks and settles both under both locks. Run many times with d = 0
// so that the timer fires while the result is being cancelled.
func TestCancelledTimeoutNeverCancelsItsInput(t *testing.T) {
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

// Two continuations of one future that call runtime.Goexit, followed by a
// third that returns (found by the batch property test). The third's future
// used to settle (Await returned) with its own callbacks never run: the
// second Goexit, inside the deferred finishing of the first, cut short the
// hand-off of the settled futures to the work list, and the future stayed
// draining. The package promises a Goexit in a callback does not stop the
// others, those of the futures they settle included.
func TestSiblingCallbacksRunAfterTwoGoexits(t *testing.T) {
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

// The same second Goexit used to drop a recorded panic. The first callback
// panics, the next two call runtime.Goexit: with one Goexit the panic is
// raised again on the settling goroutine
// (TestPanicRecordedBeforeGoexitIsRaisedAgain); with two it was lost,
// though the package promises "a panic is never silently dropped".
func TestPanicBeforeTwoGoexitsIsRaisedAgain(t *testing.T) {
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

// Any number of Goexits, in the callbacks of a future and in those of the
// futures its continuations settle, with panics among them: every callback
// runs exactly once, every future ends quiet (a callback registered after
// settlement runs at once, on the registering goroutine), and the first
// panic is raised again on the settling goroutine after all of them.
func TestManyGoexitsAmongCallbacksLoseNothing(t *testing.T) {
	for goexits := 1; goexits <= 6; goexits++ {
		p := future.NewPromise[int]()
		var ran [4][8]int // per level, per callback
		var futures []*future.Future[int]
		// Three levels: the promise's future, Then stages over it, and
		// Then stages over those, each with a mix of callbacks.
		level := []*future.Future[int]{p.Future()}
		for depth := range 3 {
			var next []*future.Future[int]
			for _, f := range level {
				futures = append(futures, f)
				for k := range 8 {
					switch {
					case k == 1 && depth == 0:
						f.OnComplete(func(int, error) { ran[depth][k]++; panic("first") })
					case k%2 == 0 && k/2 < goexits:
						f.OnComplete(func(int, error) { ran[depth][k]++; runtime.Goexit() })
					case k == 5:
						f.OnComplete(func(int, error) { ran[depth][k]++; panic("later") })
					default:
						f.OnComplete(func(int, error) { ran[depth][k]++ })
					}
				}
				if depth < 2 {
					next = append(next, future.Then(f, func(v int) (int, error) { return v + 1, nil }))
					if goexits > 3 {
						next = append(next, future.Then(f, func(int) (int, error) { runtime.Goexit(); return 0, nil }))
					}
				}
			}
			level = next
		}
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
			t.Fatalf("%d Goexits: recovered %v (%T), want the *future.PanicError of \"first\"", goexits, recovered, recovered)
		}
		for _, f := range futures {
			if _, err := f.Peek(); err == future.ErrPending {
				t.Fatalf("%d Goexits: a future is still pending", goexits)
			}
			late := false
			f.OnComplete(func(int, error) { late = true })
			if !late {
				t.Fatalf("%d Goexits: a future stayed draining: a callback registered after settlement did not run at once", goexits)
			}
		}
		// Each callback ran once per future of its level that settled
		// with a value or an error (all do); count the futures per level.
		perLevel := [3]int{}
		for d, n := 0, 1; d < 3; d++ {
			perLevel[d] = n
			if goexits > 3 {
				n *= 2
			}
		}
		for d := range 3 {
			for k := range 8 {
				if ran[d][k] != perLevel[d] {
					t.Fatalf("%d Goexits: callback %d of level %d ran %d times, want %d", goexits, k, d, ran[d][k], perLevel[d])
				}
			}
		}
	}
}

// A callback that settles another promise whose callbacks panic and then
// call runtime.Goexit: the inner settlement raises the panic on the way
// out of the Goexit, and the outer list must keep it (a recover during a
// Goexit resumes the Goexit, so a panic kept only in a return value would
// be lost) and run its remaining callbacks before raising it again.
func TestPanicFromNestedSettlementDuringGoexitIsKept(t *testing.T) {
	outer := future.NewPromise[int]()
	inner := future.NewPromise[int]()
	inner.Future().OnComplete(func(int, error) { panic("inner") })
	inner.Future().OnComplete(func(int, error) { runtime.Goexit() })
	outer.Future().OnComplete(func(int, error) { _ = inner.Resolve(1) })
	after := false
	outer.Future().OnComplete(func(int, error) { after = true })
	var recovered any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recovered = recover() }()
		_ = outer.Resolve(1)
	}()
	<-done
	if !after {
		t.Fatal("the callback after the Goexiting settlement never ran")
	}
	// The callback that settled inner panicked with inner's *PanicError:
	// that is the panic kept, wrapped like any other callback's.
	pe, ok := recovered.(*future.PanicError)
	for ok && pe.Value != "inner" {
		pe, ok = pe.Value.(*future.PanicError)
	}
	if !ok {
		t.Fatalf("recovered %v (%T), want a *future.PanicError of \"inner\"", recovered, recovered)
	}
}

// The same on the path of a callback registered after settlement, which
// runs at once on the registering goroutine.
func TestPanicFromNestedSettlementDuringGoexitIsKeptLate(t *testing.T) {
	settled := future.Resolved(1)
	inner := future.NewPromise[int]()
	inner.Future().OnComplete(func(int, error) { panic("inner") })
	inner.Future().OnComplete(func(int, error) { runtime.Goexit() })
	var recovered any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recovered = recover() }()
		settled.OnComplete(func(int, error) { _ = inner.Resolve(1) })
	}()
	<-done
	pe, ok := recovered.(*future.PanicError)
	for ok && pe.Value != "inner" {
		pe, ok = pe.Value.(*future.PanicError)
	}
	if !ok {
		t.Fatalf("recovered %v (%T), want a *future.PanicError of \"inner\"", recovered, recovered)
	}
}
