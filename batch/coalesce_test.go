package batch_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// loader records the bulk calls of a Coalescer[string, string]: each key's
// value is its upper-cased form, except keys in missing (left out) and
// batches holding a key in failing (an error).
type loader struct {
	mu      sync.Mutex
	calls   [][]string
	missing map[string]bool
	failing map[string]error
	panics  bool
	// block, if set, makes bulk wait for its context and record why it
	// ended in ended.
	block bool
	ended chan error
}

func (l *loader) bulk(ctx context.Context, keys []string) (map[string]string, error) {
	l.mu.Lock()
	l.calls = append(l.calls, slices.Clone(keys))
	l.mu.Unlock()
	if l.panics {
		panic(errA)
	}
	if l.block {
		<-ctx.Done()
		l.ended <- ctx.Err()
		return nil, ctx.Err()
	}
	m := map[string]string{}
	for _, k := range keys {
		if err := l.failing[k]; err != nil {
			return nil, err
		}
		if !l.missing[k] {
			m[k] = "<" + k + ">"
		}
	}
	return m, nil
}

func (l *loader) batches() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func loadAll(ctx context.Context, c *batch.Coalescer[string, string], keys ...string) []*future.Future[string] {
	fs := make([]*future.Future[string], len(keys))
	for i, k := range keys {
		fs[i] = c.Load(ctx, k)
	}
	return fs
}

func TestCoalescerWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{Window: 10 * time.Millisecond})
		start := time.Now()
		fs := loadAll(t.Context(), c, "a", "b")
		time.Sleep(5 * time.Millisecond) // fake clock: still inside the window
		fs = append(fs, loadAll(t.Context(), c, "c")...)
		synctest.Wait()
		assert.Empty(t, l.batches(), "nothing is sent before the window ends")
		vals, err := batch.All(fs...).Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "the window starts with the first key")
		assert.Equal(t, []string{"<a>", "<b>", "<c>"}, vals)
		assert.Equal(t, [][]string{{"a", "b", "c"}}, l.batches())

		// After the window a new batch starts.
		v, err := c.Load(t.Context(), "d").Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "<d>", v)
		assert.Equal(t, [][]string{{"a", "b", "c"}, {"d"}}, l.batches())
	})
}

func TestCoalescerMaxSize(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{Window: time.Hour, MaxSize: 2})
		start := time.Now()
		fs := loadAll(t.Context(), c, "a", "a", "b", "c")
		vals, err := batch.All(fs[:3]...).Await(t.Context())
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "a full batch goes at once")
		assert.Equal(t, []string{"<a>", "<a>", "<b>"}, vals)
		c.Flush()
		v, err := fs[3].Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "<c>", v)
		assert.Zero(t, time.Since(start), "Flush sends at once")
		assert.Equal(t, [][]string{{"a", "b"}, {"c"}}, l.batches(), "a duplicate key shares its slot")
	})
}

func TestCoalescerErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{missing: map[string]bool{"gone": true}, failing: map[string]error{"bad": errA}}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{Window: time.Millisecond})
		first := loadAll(t.Context(), c, "a", "gone")
		time.Sleep(2 * time.Millisecond) // fake clock: past the first window
		second := loadAll(t.Context(), c, "b", "bad")

		got, err := batch.Settled(append(first, second...)...).Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, batch.Result[string]{Value: "<a>"}, got[0])
		require.ErrorIs(t, got[1].Err, batch.ErrMissingKey, "a missing key fails its caller only")
		require.ErrorIs(t, got[2].Err, errA, "a failing bulk call fails exactly its keys")
		require.ErrorIs(t, got[3].Err, errA)
		assert.Len(t, l.batches(), 2)
	})
}

func TestCoalescerPanic(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{panics: true}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{})
		_, err := c.Load(t.Context(), "a").Await(t.Context())
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.ErrorIs(t, err, errA)
	})
}

func TestCoalescerBadInput(t *testing.T) {
	t.Parallel()
	c := batch.NewCoalescer[string, string](nil, batch.BatchOptions{})
	_, err := c.Load(t.Context(), "a").Await(t.Context())
	require.ErrorContains(t, err, "nil bulk function")

	c = batch.NewCoalescer((&loader{}).bulk, batch.BatchOptions{})
	//lint:ignore SA1012 a nil context is the bad input under test
	_, err = c.Load(nil, "a").Await(t.Context())
	require.ErrorContains(t, err, "nil context")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Load(ctx, "a").Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
}

// A caller that gives up fails alone; a batch everybody gave up on is not
// sent.
func TestCoalescerCallerGivesUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{Window: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(t.Context())
		quitter := c.Load(ctx, "a")
		shared := c.Load(ctx, "b")
		stayer := c.Load(t.Context(), "b")
		cancelled := c.Load(t.Context(), "c")
		cancel()
		require.True(t, cancelled.Cancel(), "cancelling a caller's own future is giving up")
		_, err := quitter.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		_, err = shared.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		v, err := stayer.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "<b>", v, "another caller of the same key is unaffected")
		assert.Equal(t, [][]string{{"b"}}, l.batches(), "keys nobody waits for are not sent")

		ctx, cancel = context.WithCancel(t.Context())
		f := c.Load(ctx, "z")
		cancel()
		_, err = f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		time.Sleep(time.Hour) // fake clock
		assert.Len(t, l.batches(), 1, "an abandoned batch is not sent")
	})
}

// When every caller gives up during the bulk call, its context ends.
func TestCoalescerBulkContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		l := &loader{block: true, ended: make(chan error, 1)}
		var sawValue any
		c := batch.NewCoalescer(func(ctx context.Context, keys []string) (map[string]string, error) {
			sawValue = ctx.Value(key{})
			return l.bulk(ctx, keys)
		}, batch.BatchOptions{MaxSize: 2})
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "trace"))
		a := c.Load(ctx, "a")
		b := c.Load(t.Context(), "b")
		synctest.Wait()
		cancel()
		synctest.Wait()
		assert.Empty(t, l.ended, "one caller left: the call goes on")
		b.Cancel()
		require.ErrorIs(t, <-l.ended, context.Canceled)
		_, err := a.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "trace", sawValue, "the first caller's values reach bulk")
	})
}

func TestBatcher(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var (
			mu    sync.Mutex
			calls []string
		)
		// A request is a list of items; the bulk call sees every request
		// of one group and answers each with its item count, the way a
		// merged request is split back by index.
		b := batch.NewBatcher(func(_ context.Context, group string, reqs [][]string) ([]string, error) {
			mu.Lock()
			calls = append(calls, fmt.Sprint(group, reqs))
			mu.Unlock()
			if group == "short" {
				return []string{"only one"}, nil
			}
			out := make([]string, len(reqs))
			for i, r := range reqs {
				out[i] = fmt.Sprint(group, len(r))
			}
			return out, nil
		}, batch.BatchOptions{Window: time.Millisecond})
		fs := []*future.Future[string]{
			b.Submit(t.Context(), "v1", []string{"x", "y"}),
			b.Submit(t.Context(), "v2", []string{"x"}),
			b.Submit(t.Context(), "v1", []string{"z"}),
			b.Submit(t.Context(), "v1", []string{"x", "y"}),
		}
		got, err := batch.All(fs...).Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []string{"v12", "v21", "v11", "v12"}, got, "each caller gets its own response")
		slices.Sort(calls)
		assert.Equal(t, []string{"v1[[x y] [z] [x y]]", "v2[[x]]"}, calls, "one call per group, never merged across groups, equal requests kept")

		start := time.Now()
		flushed := b.Submit(t.Context(), "v3", []string{"x"})
		b.Flush()
		v, err := flushed.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "v31", v)
		assert.Zero(t, time.Since(start), "Flush sends at once")

		_, err = batch.All(b.Submit(t.Context(), "short", nil), b.Submit(t.Context(), "short", nil)).Await(t.Context())
		require.ErrorIs(t, err, batch.ErrBulkResult)
		require.ErrorContains(t, err, "1 responses for 2 requests")
	})
}

func TestBatcherBulkError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := batch.NewBatcher(func(_ context.Context, _ struct{}, reqs []int) ([]int, error) {
			return nil, errA
		}, batch.BatchOptions{})
		_, err := b.Submit(t.Context(), struct{}{}, 1).Await(t.Context())
		require.ErrorIs(t, err, errA)

		nb := batch.NewBatcher[struct{}, int, int](nil, batch.BatchOptions{})
		_, err = nb.Submit(t.Context(), struct{}{}, 1).Await(t.Context())
		require.ErrorContains(t, err, "nil bulk function")
	})
}

// Many callers at once, some giving up at random moments: each gets its
// own key's value or its own context's error, and nothing is left behind.
func TestCoalescerConcurrentCallers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &loader{}
		c := batch.NewCoalescer(l.bulk, batch.BatchOptions{Window: time.Millisecond, MaxSize: 8})
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				key := fmt.Sprint(i % 17)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				f := c.Load(ctx, key)
				if i%5 == 0 {
					time.Sleep(time.Duration(i%3) * time.Millisecond) // fake clock
					cancel()
				}
				v, err := f.Await(t.Context())
				if err != nil {
					assert.Zero(t, i%5, "only callers that gave up fail")
					assert.ErrorIs(t, err, context.Canceled)
					return
				}
				assert.Equal(t, "<"+key+">", v)
			})
		}
		wg.Wait()
		for _, keys := range l.batches() {
			assert.LessOrEqual(t, len(keys), 8)
		}
	})
}
