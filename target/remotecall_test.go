package target_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"weak"

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

// TestRemoteCallCopiesExecuteAndPrefetch: a caller changing its Execute
// and Prefetch as soon as GetOffers returns races with nothing (the call
// records its telemetry from the request later, on its own goroutine), and
// Response.Request stays the request as sent. Mboxes that need no new
// indexes were once sent in the caller's own Execute.
func TestRemoteCallCopiesExecuteAndPrefetch(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	for i := range 3 {
		ex := &target.ExecuteRequest{PageLoad: &target.RequestDetails{}, Mboxes: []target.MboxRequest{{Name: "hero"}}}
		pf := &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home"}}, Mboxes: []target.MboxRequest{{Name: "flags", Index: 3}}}
		f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: target.DeliveryRequest{Execute: ex, Prefetch: pf}})
		ex.PageLoad, ex.Mboxes = nil, nil
		pf.Views, pf.Mboxes, pf.PageLoad = nil, nil, &target.RequestDetails{}
		r, err := f.Await(t.Context())
		require.NoError(t, err)
		require.NotSame(t, ex, r.Request.Execute, "call %d", i)
		require.NotSame(t, pf, r.Request.Prefetch, "call %d", i)
		assert.NotNil(t, r.Request.Execute.PageLoad)
		assert.Len(t, r.Request.Execute.Mboxes, 1)
		assert.Len(t, r.Request.Prefetch.Views, 1)
		assert.Len(t, r.Request.Prefetch.Mboxes, 1)
		assert.Nil(t, r.Request.Prefetch.PageLoad)
	}
	// The telemetry of the earlier calls counts what they sent.
	recs := srv.Requests()
	require.Len(t, recs, 3)
	require.NotNil(t, recs[2].Delivery.Telemetry)
	require.NotEmpty(t, recs[2].Delivery.Telemetry.Entries)
	ft := recs[2].Delivery.Telemetry.Entries[0].Features
	require.NotNil(t, ft)
	assert.Equal(t, 1, ft.ExecuteMboxCount)
	assert.True(t, ft.ExecutePageLoad)
	assert.Equal(t, 1, ft.PrefetchViewCount)
	assert.Equal(t, 1, ft.PrefetchMboxCount)
	assert.False(t, ft.PrefetchPageLoad)
}

// TestRemoteCallResponseKeepsNoContext: a Response the caller keeps does
// not keep the call's context (and a value in it), the call's record or
// the client alive once the call has settled: the Response lives in the
// call's state, beside them.
func TestRemoteCallResponseKeepsNoContext(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	var event weak.Pointer[target.CallEvent]
	cfg := srv.ClientConfig()
	cfg.Observer = &target.Observer{CallStart: func(ctx context.Context, e *target.CallEvent) context.Context {
		event = weak.Make(e)
		return ctx
	}}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	client := weak.Make(c)

	type key struct{}
	big := new([1 << 20]byte)
	value := weak.Make(big)
	ctx := context.WithValue(t.Context(), key{}, big)
	r, err := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	require.NoError(t, c.Close(t.Context()))
	big, ctx, c = nil, nil, nil // dropped, for the collector

	// The call's goroutine lets go of them just after the future settles:
	// collect until it has, within a generous bound.
	for i := 0; value.Value() != nil || event.Value() != nil || client.Value() != nil; i++ {
		require.Less(t, i, 1000, "the kept Response still holds: ctx value %v, event %v, client %v",
			value.Value() != nil, event.Value() != nil, client.Value() != nil)
		runtime.GC()
		runtime.Gosched()
	}
	require.NotNil(t, r.Response)
	runtime.KeepAlive(r)
}
