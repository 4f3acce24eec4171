package future_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/target-go/sdk/future"
)

// op is one step of a goroutine in the property test.
type op int

const (
	opResolve op = iota
	opReject
	opComplete
	opCancel
	opTimeout
	opOnComplete
	opThen
	opAwait
	opPeek
	opCount
)

var errModel = errors.New("model: rejected")

// TestPropertyPromiseAgainstModel checks Future and Promise against the
// simplest sequential model of a future: one outcome, set by the first
// settling operation, seen by every reader, every callback run once with
// it. Several goroutines run random sequences of operations at the same
// time; whatever the interleaving, the outcome must be one the model
// allows, and:
//   - exactly one settling operation reports that it settled the future;
//   - every Await, Peek after settlement, callback and Then stage sees the
//     outcome that operation set (a Timeout that fired sets its own error);
//   - every callback runs exactly once, and the callbacks one goroutine
//     registers run in the order it registered them (whether registered
//     before settlement, while the callbacks run, or after).
func TestPropertyPromiseAgainstModel(t *testing.T) {
	allOps := make([]op, opCount)
	for i := range allOps {
		allOps[i] = op(i)
	}
	rapid.Check(t, func(rt *rapid.T) {
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		plans := make([][]op, workers)
		for w := range plans {
			plans[w] = rapid.SliceOfN(rapid.SampledFrom(allOps), 1, 12).Draw(rt, fmt.Sprintf("plan %d", w))
		}
		timeout := rapid.SampledFrom([]time.Duration{-1, 0, time.Microsecond, time.Hour}).Draw(rt, "timeout")

		p := future.NewPromise[int]()
		f := p.Future()
		type outcome struct {
			v   int
			err error
		}
		var (
			mu       sync.Mutex
			settlers []string           // operations that reported settling f
			seen     []outcome          // what every reader saw
			ran      = map[string]int{} // callback id -> runs
			order    = make([][]int, workers)
			stages   []*future.Future[int]
			timeouts []*future.Future[int]
		)
		record := func(o outcome) {
			mu.Lock()
			seen = append(seen, o)
			mu.Unlock()
		}
		settledBy := func(what string, ok bool) {
			if ok {
				mu.Lock()
				settlers = append(settlers, what)
				mu.Unlock()
			}
		}
		var wg sync.WaitGroup
		for w, plan := range plans {
			wg.Go(func() {
				seq := 0
				for k, o := range plan {
					v := w*100 + k
					switch o {
					case opResolve:
						settledBy("resolve", p.Resolve(v) == nil)
					case opReject:
						settledBy("reject", p.Reject(errModel) == nil)
					case opComplete:
						settledBy("complete", p.Complete(v, nil) == nil)
					case opCancel:
						settledBy("cancel", f.Cancel())
					case opTimeout:
						g := future.Timeout(f, timeout)
						mu.Lock()
						timeouts = append(timeouts, g)
						mu.Unlock()
					case opOnComplete:
						id, n := fmt.Sprintf("%d/%d", w, k), seq
						seq++
						f.OnComplete(func(v int, err error) {
							record(outcome{v, err})
							mu.Lock()
							ran[id]++
							order[w] = append(order[w], n)
							mu.Unlock()
						})
					case opThen:
						g := future.Then(f, func(v int) (int, error) { return v + 1, nil })
						mu.Lock()
						stages = append(stages, g)
						mu.Unlock()
					case opAwait:
						ctx, cancel := context.WithTimeout(context.Background(), time.Microsecond)
						v, err := f.Await(ctx)
						cancel()
						if !errors.Is(err, context.DeadlineExceeded) {
							record(outcome{v, err})
						}
					case opPeek:
						if v, err := f.Peek(); !errors.Is(err, future.ErrPending) {
							record(outcome{v, err})
						}
					}
				}
			})
		}
		wg.Wait()
		// The model's outcome if no operation settled f: settle it now.
		settledBy("final", p.Resolve(-1) == nil)
		final, finalErr := f.Await(context.Background())
		timedOut := false
		for _, g := range timeouts {
			v, err := g.Await(context.Background())
			if err != nil && errors.Is(err, context.DeadlineExceeded) && err == finalErr {
				timedOut = true // the Timeout that fired settled f
				continue
			}
			if v != final || err != finalErr {
				rt.Fatalf("Timeout result (%d, %v), future (%d, %v)", v, err, final, finalErr)
			}
		}
		switch {
		case timedOut && len(settlers) != 0:
			rt.Fatalf("a Timeout and %v both settled the future", settlers)
		case !timedOut && len(settlers) != 1:
			rt.Fatalf("settled by %v, want exactly one", settlers)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, o := range seen {
			if o.v != final || o.err != finalErr {
				rt.Fatalf("a reader saw (%d, %v), the future settled with (%d, %v)", o.v, o.err, final, finalErr)
			}
		}
		for id, n := range ran {
			if n != 1 {
				rt.Fatalf("callback %s ran %d times", id, n)
			}
		}
		want := 0
		for w, plan := range plans {
			for _, o := range plan {
				if o == opOnComplete {
					want++
				}
			}
			for i, n := range order[w] {
				if n != i {
					rt.Fatalf("goroutine %d's callbacks ran in order %v", w, order[w])
				}
			}
		}
		if len(ran) != want {
			rt.Fatalf("%d callbacks ran, %d registered", len(ran), want)
		}
		for _, g := range stages {
			v, err := g.Await(context.Background())
			switch {
			case finalErr != nil && err != finalErr:
				rt.Fatalf("Then stage failed with %v, future with %v", err, finalErr)
			case finalErr == nil && (err != nil || v != final+1):
				rt.Fatalf("Then stage (%d, %v), future (%d, nil)", v, err, final)
			}
		}
	})
}
