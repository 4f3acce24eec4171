package batch_test

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// TestLongCombinatorChainsSettleOnAFlatStack: each combinator's result is
// the input of the next one. Settling the result from the input's callback
// with Complete nested every stage in the one before and died at about
// 60 000 stages with a 10 MB stack (a million with the default 1 GB).
func TestLongCombinatorChainsSettleOnAFlatStack(t *testing.T) {
	n := 1_000_000
	if raceEnabled {
		n = 100_000
	} else if testing.Short() {
		t.Skip("-short: skipping the million-stage chains")
	}
	old := debug.SetMaxStack(10 << 20)
	t.Cleanup(func() { debug.SetMaxStack(old) })
	gc := debug.SetGCPercent(800)
	t.Cleanup(func() { debug.SetGCPercent(gc) })
	stages := map[string]func(*future.Future[int]) *future.Future[int]{
		"Race": func(f *future.Future[int]) *future.Future[int] { return batch.Race(f) },
		"Any":  func(f *future.Future[int]) *future.Future[int] { return batch.Any(f) },
		"All": func(f *future.Future[int]) *future.Future[int] {
			return future.Then(batch.All(f), func(v []int) (int, error) { return v[0], nil })
		},
		"Quorum": func(f *future.Future[int]) *future.Future[int] {
			return future.Then(batch.Quorum(1, f), func(v map[int]int) (int, error) { return v[0], nil })
		},
	}
	for name, stage := range stages {
		p := future.NewPromise[int]()
		f := p.Future()
		for range n {
			f = stage(f)
		}
		require.NoError(t, p.Resolve(7))
		v, err := f.Await(t.Context())
		require.NoError(t, err, name)
		require.Equal(t, 7, v, name)
	}
}
