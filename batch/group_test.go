package batch_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

func TestGroupShares(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var (
			g       batch.Group[string, int]
			calls   atomic.Int64
			release = make(chan struct{})
		)
		fn := func(context.Context) (int, error) {
			calls.Add(1)
			<-release
			return 42, nil
		}
		var wg sync.WaitGroup
		fs := make([]*future.Future[int], 10)
		for i := range fs {
			wg.Go(func() { fs[i] = g.Do(t.Context(), "k", fn) })
		}
		wg.Wait()
		other := g.Do(t.Context(), "other", fn)
		close(release)
		for _, f := range fs {
			assert.Same(t, fs[0], f, "one future per key in flight")
		}
		assert.NotSame(t, fs[0], other)
		v, err := fs[0].Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 42, v)
		_, _ = other.Await(t.Context())
		assert.Equal(t, int64(2), calls.Load())

		// Settled: the key is forgotten and the work runs again.
		synctest.Wait()
		again := g.Do(t.Context(), "k", func(context.Context) (int, error) { return 7, nil })
		v, err = again.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 7, v)
	})
}

// One caller's context ending does not fail the shared work.
func TestGroupCallerContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var g batch.Group[int, int]
		release := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		f := g.Do(ctx, 1, func(ctx context.Context) (int, error) {
			select {
			case <-release:
				return 1, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		})
		cancel()
		synctest.Wait()
		close(release)
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, v)
	})
}

func TestGroupForgetAndErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var g batch.Group[int, int]
		release := make(chan struct{})
		first := g.Do(t.Context(), 1, func(context.Context) (int, error) { <-release; return 1, nil })
		g.Forget(1)
		second := g.Do(t.Context(), 1, func(context.Context) (int, error) { panic(errA) })
		assert.NotSame(t, first, second)
		_, err := second.Await(t.Context())
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		// first settling must not remove a newer future for the key.
		release3 := make(chan struct{})
		third := g.Do(t.Context(), 1, func(context.Context) (int, error) { <-release3; return 3, nil })
		close(release)
		_, _ = first.Await(t.Context())
		synctest.Wait()
		assert.True(t, third == g.Do(t.Context(), 1, func(context.Context) (int, error) { return 0, nil }), "the newer future keeps the key")
		close(release3)

		_, err = g.Do(t.Context(), 2, nil).Await(t.Context())
		require.Error(t, err, "a nil function fails")
		_, _ = third.Await(t.Context())
	})
}
