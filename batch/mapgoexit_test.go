package batch_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
)

// TestMapCollectAllCallsEveryInputDespiteGoexit: a call that ends its
// goroutine with runtime.Goexit must not take the inputs after it with it.
func TestMapCollectAllCallsEveryInputDespiteGoexit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 8} {
		for _, name := range []string{"some", "every"} {
			goexits := func(i int) bool { return name == "every" || i%3 == 0 }
			inputs := make([]int, 20)
			for i := range inputs {
				inputs[i] = i
			}
			calls := make([]atomic.Int32, len(inputs))
			f := batch.Map(t.Context(), inputs, limit, func(_ context.Context, i int) (int, error) {
				calls[i].Add(1)
				if goexits(i) {
					runtime.Goexit()
				}
				return i + 100, nil
			}, batch.CollectAll())
			out, err := bounded(t, f)
			var me *batch.MapError
			require.Truef(t, errors.As(err, &me), "limit %d, %s: %v", limit, name, err)
			for i := range inputs {
				require.Equalf(t, int32(1), calls[i].Load(), "limit %d, %s: calls of input %d", limit, name, i)
				if goexits(i) {
					require.ErrorContains(t, me.Errs[i], "runtime.Goexit")
				} else {
					require.NoError(t, me.Errs[i])
					require.Equal(t, i+100, out[i])
				}
			}
		}
	}
}

// TestMapProgressGoexitCountsOnceAndCallsEveryInput: a progress report
// that calls runtime.Goexit used to be taken for a Goexit of fn: the input
// was counted twice and reported as fn's Goexit, and with a limit of 1 no
// goroutine took the inputs left, which CollectAll then reported as
// successes with zero values, never called.
func TestMapProgressGoexitCountsOnceAndCallsEveryInput(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 3} {
		inputs := []int{0, 1, 2, 3, 4, 5}
		calls := make([]atomic.Int32, len(inputs))
		var reports []batch.Progress // serialized by Map
		f := batch.Map(t.Context(), inputs, limit, func(_ context.Context, i int) (int, error) {
			calls[i].Add(1)
			return i + 100, nil
		}, batch.CollectAll(), batch.WithProgress(func(p batch.Progress) {
			reports = append(reports, p)
			if p.Done%2 == 1 {
				runtime.Goexit()
			}
		}))
		out, err := bounded(t, f)
		var me *batch.MapError
		require.Truef(t, errors.As(err, &me), "limit %d: %v", limit, err)
		failed := 0
		for i := range inputs {
			require.Equalf(t, int32(1), calls[i].Load(), "limit %d: calls of input %d", limit, i)
			if me.Errs[i] != nil {
				failed++
				require.ErrorContains(t, me.Errs[i], "progress callback called runtime.Goexit")
			}
			require.Equal(t, i+100, out[i], "limit %d: the value of input %d", limit, i)
		}
		require.Equal(t, len(inputs)/2, failed, "limit %d: one failure per Goexiting report", limit)
		require.Len(t, reports, len(inputs), "limit %d: one report per call", limit)
		for k, p := range reports {
			require.Equal(t, k+1, p.Done, "limit %d: report %d", limit, k)
		}
	}
}
