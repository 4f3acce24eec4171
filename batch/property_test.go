package batch_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

var errUser = errors.New("property: user error")

// noGoexit (BATCH_PROPERTY_NO_GOEXIT=1) turns the user functions' Goexit into a panic,
// to look for defects other than those of Goexit.
var noGoexit = os.Getenv("BATCH_PROPERTY_NO_GOEXIT") == "1"

// userDo is what a user function does: 0 return, 1 error, 2 panic, 3 Goexit.
func userDo(how int, v int) (int, error) {
	switch how {
	case 1:
		return 0, errUser
	case 2:
		panic("property: user panic")
	case 3:
		if !noGoexit {
			runtime.Goexit()
		}
		panic("property: user panic instead of Goexit")
	}
	return v + 1, nil
}

// TestPropertyEveryFutureSettlesExactlyOnce builds random graphs
// of combinators over promises, with user functions that return, fail,
// panic or call runtime.Goexit, settles the promises on goroutines of
// their own while other goroutines cancel random nodes, and checks that
// every node settles, that its OnComplete callback ran exactly once with
// the outcome every reader sees, and that a stopped AfterFunc never ran.
//
// Before the random graphs, rapid replays the inputs kept in
// testdata/rapid/TestPropertyEveryFutureSettlesExactlyOnce (the fail files
// of failures since fixed); TestPropertyRegressionInputs replays them too,
// and fails when one no longer builds the graph it recorded.
func TestPropertyEveryFutureSettlesExactlyOnce(t *testing.T) {
	rapid.Check(t, everyFutureSettlesExactlyOnce(nil))
}

// draw draws from g as g.Draw does and, when drawn is not nil, appends
// the draw as rapid writes it in its log and in fail files ("label: value").
func draw[V any](rt *rapid.T, g *rapid.Generator[V], label string, drawn *[]string) V {
	v := g.Draw(rt, label)
	if drawn != nil {
		*drawn = append(*drawn, fmt.Sprintf("%s: %#v", label, v))
	}
	return v
}

// everyFutureSettlesExactlyOnce is the property of
// TestPropertyEveryFutureSettlesExactlyOnce; drawn, when not nil, records
// its draws (see draw).
func everyFutureSettlesExactlyOnce(drawn *[]string) func(*rapid.T) {
	return func(rt *rapid.T) {
		var (
			mu       sync.Mutex
			promises []*future.Promise[int]
		)
		newLeaf := func() *future.Future[int] {
			p := future.NewPromise[int]()
			mu.Lock()
			promises = append(promises, p)
			mu.Unlock()
			return p.Future()
		}
		nodes := []*future.Future[int]{}
		for range draw(rt, rapid.IntRange(1, 3), "leaves", drawn) {
			nodes = append(nodes, newLeaf())
		}
		n := draw(rt, rapid.IntRange(1, 14), "nodes", drawn)
		for i := range n {
			pick := func(name string) *future.Future[int] {
				return nodes[draw(rt, rapid.IntRange(0, len(nodes)-1), name, drawn)]
			}
			picks := func() []*future.Future[int] {
				k := draw(rt, rapid.IntRange(1, 3), fmt.Sprintf("arity %d", i), drawn)
				out := make([]*future.Future[int], k)
				for j := range out {
					out[j] = pick(fmt.Sprintf("in %d.%d", i, j))
				}
				return out
			}
			how := draw(rt, rapid.IntRange(0, 3), fmt.Sprintf("how %d", i), drawn)
			var f *future.Future[int]
			kind := draw(rt, rapid.IntRange(0, 11), fmt.Sprintf("kind %d", i), drawn)
			var in []*future.Future[int]
			if kind >= 4 && kind <= 8 {
				in = picks()
			}
			var one *future.Future[int]
			if kind < 4 || kind > 8 {
				one = pick("input")
			}
			var k int
			if kind == 7 {
				k = draw(rt, rapid.IntRange(1, len(in)), fmt.Sprintf("k %d", i), drawn)
			}
			inner := draw(rt, rapid.IntRange(0, 2), fmt.Sprintf("inner %d", i), drawn)
			d := draw(rt, rapid.SampledFrom([]time.Duration{0, time.Microsecond, time.Hour}), fmt.Sprintf("d %d", i), drawn)
			onOwnGoroutine(func() {
				switch kind {
				case 0:
					f = future.Then(one, func(v int) (int, error) { return userDo(how, v) })
				case 1:
					f = future.Compose(one, func(v int) *future.Future[int] {
						switch inner {
						case 0:
							return newLeaf()
						case 1:
							return future.Then(newLeaf(), func(v int) (int, error) { return userDo(how, v) })
						}
						v, err := userDo(how, v)
						if err != nil {
							return future.Rejected[int](err)
						}
						return future.Resolved(v)
					})
				case 2:
					f = future.Recover(one, func(error) (int, error) { return userDo(how, 0) })
				case 3:
					f = future.Handle(one, func(v int, _ error) (int, error) { return userDo(how, v) })
				case 4:
					f = future.Then(batch.All(in...), func(v []int) (int, error) { return len(v), nil })
				case 5:
					f = batch.Any(in...)
				case 6:
					f = batch.Race(in...)
				case 7:
					f = future.Then(batch.Quorum(k, in...), func(m map[int]int) (int, error) { return len(m), nil })
				case 8:
					f = future.Then(batch.Settled(in...), func(r []batch.Result[int]) (int, error) { return len(r), nil })
				case 9:
					f = future.Timeout(one, d)
				case 10:
					f = future.Go(context.Background(), func(ctx context.Context) (int, error) {
						if how == 0 {
							<-ctx.Done() // blocks until cancelled
							return 0, ctx.Err()
						}
						return userDo(how, 1)
					})
				case 11:
					f = future.Compose(one, func(v int) *future.Future[int] {
						return future.Go(context.Background(), func(context.Context) (int, error) { return userDo(how, v) })
					})
				}
			})
			if f != nil {
				nodes = append(nodes, f)
			}
		}

		type seen struct {
			count atomic.Int32
			v     int
			err   error
		}
		seens := make([]*seen, len(nodes))
		stopped := make([]atomic.Bool, len(nodes))
		ranAfter := make([]atomic.Bool, len(nodes))
		for i, f := range nodes {
			s := &seen{}
			seens[i] = s
			onOwnGoroutine(func() {
				f.OnComplete(func(v int, err error) {
					s.v, s.err = v, err
					s.count.Add(1)
				})
			})
			doStop := draw(rt, rapid.Bool(), fmt.Sprintf("stop %d", i), drawn)
			onOwnGoroutine(func() {
				stop := f.AfterFunc(func(int, error) { ranAfter[i].Store(true) })
				if doStop {
					stopped[i].Store(stop())
				}
			})
		}
		cancels := draw(rt, rapid.SliceOfN(rapid.IntRange(0, len(nodes)-1), 0, 3), "cancels", drawn)
		outcomes := draw(rt, rapid.SliceOfN(rapid.IntRange(0, 1), 0, 64), "outcomes", drawn)

		var wg sync.WaitGroup
		for _, c := range cancels {
			wg.Go(func() { onOwnGoroutine(func() { nodes[c].Cancel() }) })
		}
		// Settle every promise, those made by Compose stages included, each
		// on a goroutine of its own (a Goexit in a stage ends it).
		settled := 0
		for round := 0; ; round++ {
			mu.Lock()
			todo := promises[settled:]
			settled = len(promises)
			mu.Unlock()
			if len(todo) == 0 {
				wg.Wait()
				mu.Lock()
				more := len(promises) > settled
				mu.Unlock()
				if !more {
					break
				}
				continue
			}
			for j, p := range todo {
				fail := j < len(outcomes) && outcomes[j] == 1
				wg.Go(func() {
					done := make(chan struct{})
					go func() {
						defer close(done)
						defer func() { _ = recover() }()
						if fail {
							_ = p.Reject(errA)
						} else {
							_ = p.Resolve(round)
						}
					}()
					<-done
				})
			}
		}
		// Nodes of kind Go whose work blocks end only when cancelled:
		// cancel everything still pending once, as a user tearing down.
		for _, f := range nodes {
			onOwnGoroutine(func() { f.Cancel() })
		}
		for i, f := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err := f.Await(ctx)
			gaveUp := ctx.Err() != nil && err == ctx.Err()
			cancel()
			if gaveUp {
				rt.Fatalf("node %d never settled", i)
			}
			// Callbacks run after Done is closed: wait for them.
			deadline := time.Now().Add(5 * time.Second)
			for seens[i].count.Load() == 0 && time.Now().Before(deadline) {
				runtime.Gosched()
			}
			if c := seens[i].count.Load(); c != 1 {
				rt.Fatalf("node %d: OnComplete ran %d times", i, c)
			}
			if seens[i].v != v || !errors.Is(seens[i].err, err) && seens[i].err != err {
				rt.Fatalf("node %d: callback saw (%v, %v), Await (%v, %v)", i, seens[i].v, seens[i].err, v, err)
			}
			v2, err2 := f.Peek()
			if v2 != v || err2 != err {
				rt.Fatalf("node %d: Peek (%v, %v) after Await (%v, %v)", i, v2, err2, v, err)
			}
			if stopped[i].Load() && ranAfter[i].Load() {
				rt.Fatalf("node %d: AfterFunc ran after stop returned true", i)
			}
		}
		wg.Wait()
	}
}

// onOwnGoroutine runs fn on a goroutine of its own, which a user function
// may end with runtime.Goexit, and waits for it; a panic is dropped.
func onOwnGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		fn()
	}()
	<-done
}
