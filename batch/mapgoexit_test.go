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
