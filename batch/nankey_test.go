package batch_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
)

type floatKey struct{ F float64 }

// TestNaNKeys: a key that is not equal to itself could be stored in a map
// but never found or deleted, so it is rejected like an unhashable one.
func TestNaNKeys(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	t.Run("float64", func(t *testing.T) {
		t.Parallel()
		testNaNKey(t, nan, 1.5)
	})
	t.Run("any", func(t *testing.T) {
		t.Parallel()
		testNaNKey[any](t, nan, "fine")
	})
	t.Run("struct", func(t *testing.T) {
		t.Parallel()
		testNaNKey(t, floatKey{nan}, floatKey{1})
	})
	t.Run("complex", func(t *testing.T) {
		t.Parallel()
		testNaNKey(t, complex(0, nan), complex(1, 0))
	})
}

func testNaNKey[K comparable](t *testing.T, bad, good K) {
	var g batch.Group[K, int]
	_, err := bounded(t, g.Do(t.Context(), bad, func(context.Context) (int, error) { return 1, nil }))
	require.ErrorIs(t, err, batch.ErrNaNKey)
	require.NotErrorIs(t, err, batch.ErrUnhashableKey)
	g.Forget(bad) // ignored
	v, err := bounded(t, g.Do(t.Context(), good, func(context.Context) (int, error) { return 2, nil }))
	require.NoError(t, err, "the Group goes on serving")
	require.Equal(t, 2, v)

	c := batch.NewCoalescer(func(_ context.Context, keys []K) (map[K]int, error) {
		m := map[K]int{}
		for _, k := range keys {
			m[k] = 3
		}
		return m, nil
	}, batch.BatchOptions{})
	_, err = bounded(t, c.Load(t.Context(), bad))
	require.ErrorIs(t, err, batch.ErrNaNKey)
	v, err = bounded(t, c.Load(t.Context(), good))
	require.NoError(t, err, "the Coalescer goes on serving")
	require.Equal(t, 3, v)

	b := batch.NewBatcher(func(_ context.Context, _ K, reqs []int) ([]int, error) {
		return reqs, nil
	}, batch.BatchOptions{})
	_, err = bounded(t, b.Submit(t.Context(), bad, 1))
	require.ErrorIs(t, err, batch.ErrNaNKey)
	v, err = bounded(t, b.Submit(t.Context(), good, 5))
	require.NoError(t, err, "the Batcher goes on serving")
	require.Equal(t, 5, v)
}
