package future_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/target-go/sdk/future"
)

var sizes = []int{1, 100, 10000}

func work(_ context.Context) (int, error) { return 1, nil }

// BenchmarkGo starts n tasks and waits for all their results, with futures
// and with the usual alternatives over the same trivial work, so that the
// figures are the cost of the mechanism alone.
func BenchmarkGo(b *testing.B) {
	ctx := context.Background()
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d/future", n), func(b *testing.B) {
			b.ReportAllocs()
			fs := make([]*future.Future[int], n)
			for b.Loop() {
				for i := range fs {
					fs[i] = future.Go(ctx, work)
				}
				for _, f := range fs {
					if _, err := f.Await(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/goroutine+chan", n), func(b *testing.B) {
			b.ReportAllocs()
			type result struct {
				v   int
				err error
			}
			chs := make([]chan result, n)
			for b.Loop() {
				for i := range chs {
					ch := make(chan result, 1)
					chs[i] = ch
					go func() {
						v, err := work(ctx)
						ch <- result{v, err}
					}()
				}
				for _, ch := range chs {
					if r := <-ch; r.err != nil {
						b.Fatal(r.err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/errgroup", n), func(b *testing.B) {
			b.ReportAllocs()
			vals := make([]int, n)
			for b.Loop() {
				g, gctx := errgroup.WithContext(ctx)
				for i := range vals {
					g.Go(func() (err error) {
						vals[i], err = work(gctx)
						return err
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/conc-pool", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := pool.NewWithResults[int]().WithContext(ctx)
				for range n {
					p.Go(work)
				}
				if _, err := p.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func addOne(v int) (int, error) { return v + 1, nil }

// BenchmarkThen measures one continuation stage, against a stage written as
// a goroutine that waits for its input, the shape a naive future takes.
func BenchmarkThen(b *testing.B) {
	b.Run("settled-source", func(b *testing.B) {
		b.ReportAllocs()
		src := future.Resolved(1)
		for b.Loop() {
			if _, err := future.Then(src, addOne).Peek(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pending-source", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := future.NewPromise[int]()
			g := future.Then(p.Future(), addOne)
			_ = p.Resolve(1)
			if _, err := g.Peek(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goroutine-stage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in, out := make(chan int, 1), make(chan int, 1)
			go func() {
				v, _ := addOne(<-in)
				out <- v
			}()
			in <- 1
			<-out
		}
	})
	b.Run("chain-of-10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := future.NewPromise[int]()
			f := p.Future()
			for range 10 {
				f = future.Then(f, addOne)
			}
			_ = p.Resolve(0)
			if v, _ := f.Peek(); v != 10 {
				b.Fatal(v)
			}
		}
	})
}

// BenchmarkCallbacks registers k callbacks on a pending future and settles
// it, against calling k functions from a slice under a mutex, the least a
// callback list can cost.
func BenchmarkCallbacks(b *testing.B) {
	for _, k := range []int{1, 10} {
		b.Run(fmt.Sprintf("k=%d/future", k), func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			cb := func(v int, _ error) { sum += v }
			for b.Loop() {
				p := future.NewPromise[int]()
				for range k {
					p.Future().OnComplete(cb)
				}
				_ = p.Resolve(1)
			}
		})
		b.Run(fmt.Sprintf("k=%d/mutex-slice", k), func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			cb := func(v int, _ error) { sum += v }
			for b.Loop() {
				var mu sync.Mutex
				var cbs []func(int, error)
				for range k {
					mu.Lock()
					cbs = append(cbs, cb)
					mu.Unlock()
				}
				mu.Lock()
				run := cbs
				mu.Unlock()
				for _, c := range run {
					c(1, nil)
				}
			}
		})
	}
}

// BenchmarkWaiters parks n goroutines on one future and settles it, against
// the same goroutines parked on a channel that is closed.
func BenchmarkWaiters(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("n=%d/future", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := future.NewPromise[int]()
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() { _, _ = p.Future().Await(ctx) })
				}
				_ = p.Resolve(1)
				wg.Wait()
			}
		})
		b.Run(fmt.Sprintf("n=%d/close-chan", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ch := make(chan struct{})
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() { <-ch })
				}
				close(ch)
				wg.Wait()
			}
		})
	}
}
