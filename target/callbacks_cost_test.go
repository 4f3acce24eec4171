package target_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestGoroutineIDOnlyForCallbacks: telling a Close from inside a callback
// costs a goroutine id read per callback run and per notification batch
// sent (a runtime.Stack walk where the cheap form is missing, see
// internal/goroutine), and nothing per call: on-device decisions that notify nothing,
// server-side calls and a Close with no callback running read no goroutine
// id. goroutineID counts its own calls, so a read from anywhere shows; the
// test is not parallel, so that no other test's reads are counted.
func TestGoroutineIDOnlyForCallbacks(t *testing.T) {
	const calls = 10
	t.Run("calls", func(t *testing.T) {
		s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.OnDevice.OnNotificationsSent = nil })
		prefetch := heroRequest("gold")
		prefetch.Prefetch = &target.PrefetchRequest{Mboxes: prefetch.Execute.Mboxes}
		prefetch.Execute = nil
		before := target.GoroutineIDCalls()
		for range calls {
			_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: prefetch}).Await(t.Context())
			require.NoError(t, err)
			_, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), DecisioningMethod: target.ServerSide}).Await(t.Context())
			require.NoError(t, err)
		}
		require.NoError(t, s.c.Close(t.Context()))
		assert.Zero(t, target.GoroutineIDCalls()-before)
	})
	t.Run("OnNotificationsSent", func(t *testing.T) {
		var callbacks atomic.Int64
		s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) {
			cfg.OnDevice.OnNotificationsSent = func(*target.Response, error) { callbacks.Add(1) }
		})
		before := target.GoroutineIDCalls()
		for range calls {
			_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
			require.NoError(t, err)
		}
		// Close waits for the display notifications and their callbacks.
		require.NoError(t, s.c.Close(t.Context()))
		n := callbacks.Load()
		require.Positive(t, n, "display notifications were sent")
		// One per callback and one per batch sent (at most one a
		// notification); Close may pay one more if it found the last
		// callback not yet unmarked.
		got := target.GoroutineIDCalls() - before
		assert.GreaterOrEqual(t, got, n)
		assert.LessOrEqual(t, got, 2*n+1)
	})
}

// TestGoroutineID: the id is the same on one goroutine, however deep its
// stack, and differs between goroutines running at once.
func TestGoroutineID(t *testing.T) {
	t.Parallel()
	id := target.GoroutineID()
	require.NotZero(t, id)
	var deep func(int) uint64
	deep = func(n int) uint64 {
		if n == 0 {
			return target.GoroutineID()
		}
		return deep(n - 1)
	}
	assert.Equal(t, id, deep(10000))
	other := make(chan uint64)
	release := make(chan struct{})
	go func() {
		other <- target.GoroutineID()
		<-release
	}()
	assert.NotEqual(t, id, <-other)
	close(release)
}

// BenchmarkGoroutineID is the cost a callback run pays to be told apart
// from the rest when Close is called, by the depth of the goroutine's
// stack: on amd64 and arm64 a few nanoseconds whatever the depth (the cost
// here is atDepth's calls), elsewhere runtime.Stack walks all of it
// (internal/goroutine's BenchmarkID compares the two: 11 µs, 33 µs and
// 206 µs at these depths on the 2-core machine).
func BenchmarkGoroutineID(b *testing.B) {
	for _, depth := range []int{0, 20, 200} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				atDepth(depth, func() { target.GoroutineID() })
			}
		})
	}
}

// atDepth calls fn with n more frames on the stack.
//
//go:noinline
func atDepth(n int, fn func()) {
	if n == 0 {
		fn()
		return
	}
	atDepth(n-1, fn)
}
