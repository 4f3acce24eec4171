package batch_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	conciter "github.com/sourcegraph/conc/iter"
	"golang.org/x/sync/errgroup"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// BenchmarkAll runs n trivial tasks concurrently and collects their results
// in input order, with batch.All over future.Go futures and with the usual
// baselines: errgroup, a sync.WaitGroup loop, and awaiting each future in
// turn (which wakes the caller once per input instead of once).
func BenchmarkAll(b *testing.B) {
	ctx := context.Background()
	task := func(i int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return i, nil }
	}
	for _, n := range []int{10, 100, 10000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("batch.All", func(b *testing.B) {
				b.ReportAllocs()
				fs := make([]*future.Future[int], n)
				for b.Loop() {
					for i := range fs {
						fs[i] = future.Go(ctx, task(i))
					}
					if _, err := batch.All(fs...).Await(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("await-each", func(b *testing.B) {
				b.ReportAllocs()
				fs := make([]*future.Future[int], n)
				for b.Loop() {
					for i := range fs {
						fs[i] = future.Go(ctx, task(i))
					}
					out := make([]int, n)
					for i, f := range fs {
						v, err := f.Await(ctx)
						if err != nil {
							b.Fatal(err)
						}
						out[i] = v
					}
				}
			})
			b.Run("errgroup", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var g errgroup.Group
					out := make([]int, n)
					for i := range out {
						g.Go(func() error {
							v, err := task(i)(ctx)
							out[i] = v
							return err
						})
					}
					if err := g.Wait(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("WaitGroup", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var wg sync.WaitGroup
					out := make([]int, n)
					errs := make([]error, n)
					for i := range out {
						wg.Go(func() { out[i], errs[i] = task(i)(ctx) })
					}
					wg.Wait()
				}
			})
			// The combinator alone, over futures whose work is done: what
			// All adds on top of the futures themselves.
			b.Run("batch.All-settled-inputs", func(b *testing.B) {
				b.ReportAllocs()
				fs := make([]*future.Future[int], n)
				for i := range fs {
					fs[i] = future.Resolved(i)
				}
				for b.Loop() {
					if _, err := batch.All(fs...).Await(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkMap maps a cheap function over n inputs, 8 at a time, results
// in input order, with batch.Map and the baselines errgroup.SetLimit and
// conc's iter.Mapper.
func BenchmarkMap(b *testing.B) {
	ctx := context.Background()
	const limit = 8
	double := func(_ context.Context, v int) (int, error) { return 2 * v, nil }
	for _, n := range []int{100, 10000} {
		in := seq(n)
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("batch.Map", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := batch.Map(ctx, in, limit, double).Await(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("errgroup.SetLimit", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g, gctx := errgroup.WithContext(ctx)
					g.SetLimit(limit)
					out := make([]int, n)
					for i, v := range in {
						g.Go(func() error {
							r, err := double(gctx, v)
							out[i] = r
							return err
						})
					}
					if err := g.Wait(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("conc.iter.Mapper", func(b *testing.B) {
				b.ReportAllocs()
				m := conciter.Mapper[int, int]{MaxGoroutines: limit}
				for b.Loop() {
					if _, err := m.MapErr(in, func(v *int) (int, error) { return double(ctx, *v) }); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
