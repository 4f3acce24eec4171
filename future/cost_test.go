package future_test

import (
	"context"
	"testing"

	"github.com/target-go/sdk/future"
)

// TestDocumentedCosts re-measures the allocation counts the
// documentation states, exactly (testing.AllocsPerRun).
func TestDocumentedCosts(t *testing.T) {
	settled := future.Resolved(1)
	ctx := context.Background()
	cases := []struct {
		name string
		want float64
		fn   func()
	}{
		{"Then on a settled future: 2", 2, func() { future.Then(settled, func(v int) (int, error) { return v, nil }) }},
		{"NewPromise: 1", 1, func() { sinkPromise = future.NewPromise[int]() }},
		{"OnComplete on a pending future (first callback): 1 (the promise)", 1, func() {
			p := future.NewPromise[int]()
			p.Future().OnComplete(func(int, error) {})
			_ = p.Resolve(1)
		}},
		{"OnSuccess: 1 + promise", 2, func() {
			p := future.NewPromise[int]()
			p.Future().OnSuccess(func(int) {})
		}},
		{"AfterFunc: 2 + promise", 3, func() {
			p := future.NewPromise[int]()
			p.Future().AfterFunc(func(int, error) {})
		}},
		{"Go + Await: 3", 3, func() {
			_, _ = future.Go(ctx, func(context.Context) (int, error) { return 1, nil }).Await(ctx)
		}},
		{"Await on settled: 0", 0, func() { _, _ = settled.Await(ctx) }},
	}
	for _, c := range cases {
		got := testing.AllocsPerRun(200, c.fn)
		t.Logf("%-60s measured %v", c.name, got)
		if got != c.want {
			t.Errorf("%s: measured %v allocations", c.name, got)
		}
	}
}

var sinkPromise *future.Promise[int]
