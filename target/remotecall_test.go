package target_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestRemoteCallGoexit: an Observer hook that calls runtime.Goexit on the
// call's goroutine still gets the future settled, once, with an error
// saying so, and the call's record ended.
func TestRemoteCallGoexit(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	obs := rec.observer()
	obs.AttemptStart = func(context.Context, *target.AttemptEvent) context.Context { runtime.Goexit(); return nil }
	obs.AttemptDone = nil
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Observer = obs })
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrCallGoexit)
	require.Len(t, rec.calls, 1)
	assert.Equal(t, target.ErrorKindPanic, rec.calls[0].ErrorKind)
}

// TestRemoteCallsTimings: calls made one after another, and in parallel,
// all succeed with their own timings: the pooled trace hooks must not mix
// attempts (the race detector watches them too).
func TestRemoteCallsTimings(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: offers})
	for i := range 20 {
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
		require.NoError(t, err)
		if i > 1 { // the first answer names the edge cluster the next calls go to
			assert.True(t, r.Timings.ConnReused, "call %d", i)
			assert.Zero(t, r.Timings.Connect, "call %d", i)
		}
		assert.Positive(t, r.Timings.TimeToFirstByte, "call %d", i)
		assert.Equal(t, 1, r.Timings.Attempts)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
				if assert.NoError(t, err) {
					assert.Positive(t, r.Timings.TimeToFirstByte)
				}
			}
		})
	}
	wg.Wait()
}
