package batch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// TestAllCost re-measures All's documented cost exactly: 4
// allocations over settled inputs, plus one per pending input.
func TestAllCost(t *testing.T) {
	settled := []*future.Future[int]{future.Resolved(1), future.Resolved(2), future.Resolved(3)}
	got := testing.AllocsPerRun(100, func() { batch.All(settled...) })
	t.Logf("All over 3 settled inputs: %v allocations", got)
	require.Equal(t, 4.0, got)
	ps := make([]*future.Promise[int], 8)
	fs := make([]*future.Future[int], 8)
	got = testing.AllocsPerRun(100, func() {
		for i := range ps {
			ps[i] = future.NewPromise[int]()
			fs[i] = ps[i].Future()
		}
		batch.All(fs...)
	})
	t.Logf("All over 8 pending promises, promises included: %v allocations", got)
	require.Equal(t, 4.0+8+8, got)
}

// MaxSize counts only the slots with a caller still waiting. MaxSize 3:
// keys a and c are loaded, a's caller gives up, b is loaded: the batch
// holds two live keys and must not be sent yet (it used to be, with bulk
// receiving two keys); d fills it.
func TestMaxSizeSkipsAbandonedSlots(t *testing.T) {
	sent := make(chan []string, 4)
	c := batch.NewCoalescer(func(_ context.Context, keys []string) (map[string]int, error) {
		sent <- keys
		return map[string]int{}, nil
	}, batch.BatchOptions{Window: time.Hour, MaxSize: 3})
	ctx, cancel := context.WithCancel(t.Context())
	a := c.Load(ctx, "a")
	cf := c.Load(t.Context(), "c")
	cancel()
	_, _ = a.Await(t.Context())
	b := c.Load(t.Context(), "b")
	d := c.Load(t.Context(), "d")
	c.Flush()
	for _, f := range []*future.Future[int]{cf, b, d} {
		_, _ = f.Await(t.Context())
	}
	// Every bulk call has returned: the callers are answered.
	var batches [][]string
	for len(sent) > 0 {
		batches = append(batches, <-sent)
	}
	// With abandoned slots not counted, c, b and d fill one batch of 3.
	require.Len(t, batches, 1, "MaxSize 3 sent a batch with fewer live keys: %v", batches)
}
