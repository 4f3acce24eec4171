package target_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
// each get their own attempt's timings from the client's own transport,
// where traces are pooled. The edge answers requests whose id starts with
// "slow" after slowAnswer, and fails the first attempt of those starting
// with "retry" at once, answering the second after slowAnswer: a slow
// call, or a retried one, whose phases came from another attempt (or a
// trace reset too early) would show a first byte sooner than that.
func TestRemoteCallsTimings(t *testing.T) {
	t.Parallel()
	const slowAnswer = 20 * time.Millisecond
	// NoCluster: the calls stay on the front's address.
	srv := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(srv.Close)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if strings.HasPrefix(id, "retry") {
			mu.Lock()
			first := !seen[id]
			seen[id] = true
			mu.Unlock()
			if first {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		if strings.HasPrefix(id, "slow") || strings.HasPrefix(id, "retry") {
			timer := time.NewTimer(slowAnswer) // the edge's latency
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := srv.ClientConfig()
	cfg.ServerDomain, cfg.HTTPClient = front.Listener.Addr().String(), nil // the client's own transport
	cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	var n atomic.Int64
	check := func(kind string, i int) bool {
		req := offersRequest("hero")
		req.RequestID = fmt.Sprintf("%s-%d", kind, n.Add(1))
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
		if !assert.NoError(t, err, req.RequestID) {
			return false
		}
		tm := r.Timings
		ok := assert.Positive(t, tm.TimeToFirstByte, req.RequestID) &&
			assert.GreaterOrEqual(t, tm.Download, time.Duration(0), req.RequestID) &&
			assert.LessOrEqual(t, tm.TimeToFirstByte+tm.Download, tm.Total, req.RequestID) &&
			assert.Positive(t, tm.ResponseSize, req.RequestID)
		if tm.ConnReused {
			ok = ok && assert.Zero(t, tm.DNS+tm.Connect+tm.TLS, "%s: a reused connection has no dial phases", req.RequestID)
		}
		switch kind {
		case "slow":
			ok = ok && assert.GreaterOrEqual(t, tm.TimeToFirstByte, slowAnswer, req.RequestID) &&
				assert.Equal(t, 1, tm.Attempts, req.RequestID)
		case "retry":
			ok = ok && assert.GreaterOrEqual(t, tm.TimeToFirstByte, slowAnswer, "%s: the phases are the last attempt's", req.RequestID) &&
				assert.Equal(t, 2, tm.Attempts, req.RequestID)
		default:
			ok = ok && assert.Equal(t, 1, tm.Attempts, req.RequestID)
		}
		if i > 0 && kind != "retry" { // the first call dialled; the 503's connection may be closed
			ok = ok && assert.True(t, tm.ConnReused, "%s: call %d", req.RequestID, i)
		}
		return ok
	}
	kinds := []string{"fast", "slow", "retry"}
	for i := range 12 {
		if !check(kinds[i%len(kinds)], i) {
			return
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 9 {
				if !check(kinds[(g+i)%len(kinds)], 0) {
					return
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
