package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// newCoalescer returns a Coalescer over c; the window is long so that only
// Flush or MaxMboxes sends a batch in tests on the real clock.
func newCoalescer(t testing.TB, c *target.Client, opts target.CoalesceOptions) *target.Coalescer {
	t.Helper()
	if opts.Window == 0 {
		opts.Window = time.Hour
	}
	k, err := c.NewCoalescer(opts)
	require.NoError(t, err)
	return k
}

// callerRequest is caller i's request: two execute mboxes with indexes of
// its own choosing and one prefetched mbox, one of them named after the
// caller so that a mix-up shows.
func callerRequest(i int) target.DeliveryRequest {
	return target.DeliveryRequest{
		Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{
			{Name: "hero", Index: 7},
			{Name: fmt.Sprintf("slot-%d", i), Index: 3},
		}},
		Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "flags"}}},
	}
}

type mboxKey struct {
	Name  string
	Index int
}

func requested(ms []target.MboxRequest) []mboxKey {
	var out []mboxKey
	for _, m := range ms {
		out = append(out, mboxKey{m.Name, m.Index})
	}
	return out
}

func answered(ms []target.MboxResponse) []mboxKey {
	var out []mboxKey
	for _, m := range ms {
		out = append(out, mboxKey{m.Name, m.Index})
	}
	return out
}

func prefetched(ms []target.PrefetchMboxResponse) []mboxKey {
	inner := make([]target.MboxResponse, len(ms))
	for i, m := range ms {
		inner[i] = m.MboxResponse
	}
	return answered(inner)
}

// executed awaits f and returns the execute mboxes of its answer.
func executed(t *testing.T, f *future.Future[*target.Response]) []mboxKey {
	t.Helper()
	res, err := f.Await(t.Context())
	require.NoError(t, err)
	return answered(res.Response.Execute.Mboxes)
}

// bubbleCoalescer makes a client from cfg and a Coalescer over it, inside
// a synctest bubble so that its timers run on the bubble's clock.
func bubbleCoalescer(t *testing.T, cfg target.Config, opts target.CoalesceOptions) *target.Coalescer {
	t.Helper()
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	k, err := c.NewCoalescer(opts)
	require.NoError(t, err)
	return k
}

// submitAll starts n GetOffers calls on n goroutines and returns their
// futures once every call has been made.
func submitAll(k *target.Coalescer, ctx context.Context, n int, opts func(i int) target.GetOffersOptions) []*future.Future[*target.Response] {
	fs := make([]*future.Future[*target.Response], n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fs[i] = k.GetOffers(ctx, opts(i)) })
	}
	wg.Wait()
	return fs
}

func TestCoalescerOneRequestForOneVisitor(t *testing.T) {
	t.Parallel()
	const n = 20
	c, srv := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	var callbacks [n]atomic.Int32
	// Callbacks run right after their future settles, maybe after its
	// waiter saw the result: the counts are read once all ran.
	var ran sync.WaitGroup
	ran.Add(n)
	fs := submitAll(k, t.Context(), n, func(i int) target.GetOffersOptions {
		return target.GetOffersOptions{
			Request:     callerRequest(i),
			SessionID:   "visitor-1",
			Callback:    func(*target.Response) { callbacks[i].Add(1); ran.Done() },
			ErrCallback: func(error) { callbacks[i].Add(100); ran.Done() },
		}
	})
	k.Flush()

	for i, f := range fs {
		res, err := f.Await(t.Context())
		require.NoError(t, err, "caller %d", i)
		want := callerRequest(i)
		// The request as this caller would have sent it.
		assert.Equal(t, requested(want.Execute.Mboxes), requested(res.Request.Execute.Mboxes), "caller %d", i)
		assert.Equal(t, []mboxKey{{"flags", 0}}, requested(res.Request.Prefetch.Mboxes), "caller %d", i)
		// Exactly its mboxes, under its indexes.
		assert.Equal(t, requested(want.Execute.Mboxes), answered(res.Response.Execute.Mboxes), "caller %d", i)
		assert.Equal(t, []mboxKey{{"flags", 0}}, prefetched(res.Response.Prefetch.Mboxes), "caller %d", i)
		html, ok := res.Response.Execute.Mboxes[0].Options[0].ContentString()
		assert.True(t, ok)
		assert.Equal(t, "<h1>Hello</h1>", html)
		assert.NotEmpty(t, res.Response.Prefetch.Mboxes[0].Options[0].EventToken, "prefetched options keep their event token")
		require.NotNil(t, res.TargetCookie)
		assert.Contains(t, res.TargetCookie.Value, "session#visitor-1#")
		assert.Equal(t, http.StatusOK, res.Status)
	}

	// One request on the wire, carrying every caller's mboxes under unique
	// indexes.
	assert.EqualValues(t, 1, srv.Stats().Requests)
	recs := srv.Requests()
	require.Len(t, recs, 1)
	sent := recs[0].Delivery
	require.NotNil(t, sent)
	assert.Equal(t, "visitor-1", recs[0].Query.Get("sessionId"))
	require.Len(t, sent.Execute.Mboxes, 2*n)
	require.Len(t, sent.Prefetch.Mboxes, n)
	for i, m := range sent.Execute.Mboxes {
		assert.Equal(t, i, m.Index)
	}
	for i, m := range sent.Prefetch.Mboxes {
		assert.Equal(t, i, m.Index)
	}
	ran.Wait()
	for i := range n {
		res, _ := fs[i].Peek()
		assert.Equal(t, sent.RequestID, res.Request.RequestID, "each caller sees the request id on the wire")
		assert.EqualValues(t, 1, callbacks[i].Load(), "Callback once, ErrCallback never, for caller %d", i)
	}
}

// TestCoalescerVisitorsNeverMerged: calls that differ in anything but
// their mboxes go in separate requests, and each gets only its own mboxes.
func TestCoalescerVisitorsNeverMerged(t *testing.T) {
	t.Parallel()
	base := func() target.GetOffersOptions {
		return target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s-1"}
	}
	tests := []struct {
		name   string
		edit   func(*target.GetOffersOptions)
		merged bool
	}{
		{"same visitor", func(*target.GetOffersOptions) {}, true},
		{"explicit web channel is the default", func(o *target.GetOffersOptions) {
			o.Request.Context = &target.Context{Channel: target.ChannelWeb}
		}, true},
		{"session id", func(o *target.GetOffersOptions) { o.SessionID = "s-2" }, false},
		{"cookie", func(o *target.GetOffersOptions) {
			o.TargetCookie = fmt.Sprintf("session#s-1#%d|PC#t-1#%d", time.Now().Unix()+600, time.Now().Unix()+600)
		}, false},
		{"location hint", func(o *target.GetOffersOptions) { o.TargetLocationHint = "35" }, false},
		{"tntId", func(o *target.GetOffersOptions) { o.Request.ID = &target.VisitorID{TntID: "t-2"} }, false},
		{"third party id", func(o *target.GetOffersOptions) { o.Request.ID = &target.VisitorID{ThirdPartyID: "x"} }, false},
		{"customer ids", func(o *target.GetOffersOptions) {
			o.CustomerIDs = []target.VisitorCustomerID{{ID: "c", IntegrationCode: "crm"}}
		}, false},
		{"consumer id", func(o *target.GetOffersOptions) { o.ConsumerID = "other" }, false},
		{"context", func(o *target.GetOffersOptions) {
			o.Request.Context = &target.Context{Channel: target.ChannelWeb, UserAgent: "other"}
		}, false},
		{"mobile channel", func(o *target.GetOffersOptions) {
			o.Request.Context = &target.Context{Channel: target.ChannelMobile}
		}, false},
		{"property", func(o *target.GetOffersOptions) { o.Request.Property = &target.Property{Token: "p"} }, false},
		{"trace", func(o *target.GetOffersOptions) { o.Request.Trace = &target.Trace{AuthorizationToken: "tok"} }, false},
		{"experience cloud", func(o *target.GetOffersOptions) {
			o.Request.ExperienceCloud = &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{Logging: target.LoggingClientSide}}
		}, false},
		{"preview", func(o *target.GetOffersOptions) { o.Request.Preview = &target.Preview{Token: "p"} }, false},
		{"qa mode", func(o *target.GetOffersOptions) { o.Request.QAMode = &target.QAMode{Token: "q"} }, false},
		{"request id", func(o *target.GetOffersOptions) { o.Request.RequestID = "r-2" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, targettest.Config{Offers: offers})
			k := newCoalescer(t, c, target.CoalesceOptions{})
			a, b := base(), base()
			b.Request = offersRequest("flags")
			tt.edit(&b)
			fa, fb := k.GetOffers(t.Context(), a), k.GetOffers(t.Context(), b)
			k.Flush()
			assert.Equal(t, []mboxKey{{"hero", 0}}, executed(t, fa))
			assert.Equal(t, []mboxKey{{"flags", 0}}, executed(t, fb))
			want := 2
			if tt.merged {
				want = 1
			}
			assert.EqualValues(t, want, srv.Stats().Requests)
			for _, rec := range srv.Requests() {
				if !tt.merged {
					assert.Len(t, rec.Delivery.Execute.Mboxes, 1, "no request carries the other visitor's mbox")
				}
			}
		})
	}
}

// TestCoalescerSendsAlone: calls whose merging would change their meaning
// go straight to the edge, without waiting for the window.
func TestCoalescerSendsAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts target.GetOffersOptions
	}{
		{"execute page load", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Execute: &target.ExecuteRequest{PageLoad: &target.RequestDetails{}, Mboxes: []target.MboxRequest{{Name: "hero"}}},
		}}},
		{"prefetch page load", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Prefetch: &target.PrefetchRequest{PageLoad: &target.RequestDetails{}},
		}}},
		{"views", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Prefetch: &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home"}}},
		}}},
		{"notifications", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Execute:       &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}},
			Notifications: []target.Notification{{ID: "n", Type: target.MetricTypeDisplay}},
		}}},
		{"no session", target.GetOffersOptions{Request: offersRequest("hero")}},
		{"expired session in the cookie", target.GetOffersOptions{Request: offersRequest("hero"),
			TargetCookie: fmt.Sprintf("session#old#%d", time.Now().Unix()-10)}},
		// An artifact without rules for the mbox: Hybrid asks the edge.
		{"hybrid", target.GetOffersOptions{SessionID: "s", Request: offersRequest("hero"), DecisioningMethod: target.Hybrid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
				cfg.OnDevice.ArtifactPayload = []byte(`{"version":"1.0.0","rules":{"mboxes":{},"views":{}}}`)
			})
			t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
			k := newCoalescer(t, c, target.CoalesceOptions{}) // an hour's window, never flushed
			f1, f2 := k.GetOffers(t.Context(), tt.opts), k.GetOffers(t.Context(), tt.opts)
			_, err := f1.Await(t.Context())
			require.NoError(t, err)
			_, err = f2.Await(t.Context())
			require.NoError(t, err)
			assert.EqualValues(t, 2, srv.Stats().Requests)
		})
	}
}

// TestCoalescerInvalidOptions: invalid options fail at once, with the
// error GetOffers gives, and ErrCallback runs before GetOffers returns.
func TestCoalescerInvalidOptions(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	nan := math.NaN()
	tests := []struct {
		name  string
		opts  target.GetOffersOptions
		field string
	}{
		{"no mbox", target.GetOffersOptions{SessionID: "s"}, "Request"},
		{"mbox without a name", target.GetOffersOptions{SessionID: "s", Request: offersRequest("")}, "Request.Execute.Mboxes[0].Name"},
		{"repeated index", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "a", Index: 1}, {Name: "b", Index: 1}}},
		}}, "Request.Prefetch.Mboxes[1].Index"},
		{"bad channel", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Context: &target.Context{Channel: "tv"}, Execute: offersRequest("a").Execute,
		}}, "Request.Context.Channel"},
		{"bad session id", target.GetOffersOptions{SessionID: "a b", Request: offersRequest("a")}, "SessionID"},
		{"bad customer id", target.GetOffersOptions{SessionID: "s", Request: offersRequest("a"),
			CustomerIDs: []target.VisitorCustomerID{{ID: "c"}}}, "CustomerIDs[0].IntegrationCode"},
		{"bad decisioning method", target.GetOffersOptions{SessionID: "s", Request: offersRequest("a"), DecisioningMethod: "magic"}, "DecisioningMethod"},
		{"NaN in an mbox", target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "a", RequestDetails: target.RequestDetails{Order: &target.Order{Total: &nan}}}}},
		}}, "Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []error
			tt.opts.ErrCallback = func(err error) { got = append(got, err) }
			tt.opts.Callback = func(*target.Response) { t.Error("Callback ran") }
			f := k.GetOffers(t.Context(), tt.opts)
			_, err := f.Peek()
			var oe *target.OptionError
			require.ErrorAs(t, err, &oe, "already failed")
			assert.Equal(t, tt.field, oe.Field)
			assert.ErrorIs(t, err, target.ErrInvalidOption)
			require.Len(t, got, 1, "ErrCallback ran once, before GetOffers returned")
			assert.Same(t, err, got[0])
		})
	}
	t.Run("nil context", func(t *testing.T) {
		t.Parallel()
		//lint:ignore SA1012 a nil context is the bad input under test
		_, err := k.GetOffers(nil, target.GetOffersOptions{SessionID: "s", Request: offersRequest("a")}).Peek()
		var oe *target.OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "ctx", oe.Field)
	})
	t.Run("on-device", func(t *testing.T) {
		t.Parallel()
		_, err := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: offersRequest("a"), DecisioningMethod: target.OnDevice}).Peek()
		assert.ErrorIs(t, err, target.ErrOnDeviceUnavailable)
	})
	t.Cleanup(func() { assert.Zero(t, srv.Stats().Requests) })
}

func TestNewCoalescerOptions(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{})
	tests := []struct {
		opts  target.CoalesceOptions
		field string
	}{
		{target.CoalesceOptions{}, ""},
		{target.CoalesceOptions{Window: time.Second, MaxMboxes: 10}, ""},
		{target.CoalesceOptions{Window: -1}, "CoalesceOptions.Window"},
		{target.CoalesceOptions{MaxMboxes: -1}, "CoalesceOptions.MaxMboxes"},
	}
	for _, tt := range tests {
		k, err := c.NewCoalescer(tt.opts)
		if tt.field == "" {
			assert.NoError(t, err)
			assert.NotNil(t, k)
			continue
		}
		var oe *target.OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, tt.field, oe.Field)
		assert.Nil(t, k)
	}
}

// TestCoalescerWindow: a batch goes out when its first call's window
// ends, not before; later calls start a new batch.
func TestCoalescerWindow(t *testing.T) {
	t.Parallel()
	srv, cfg := fakeClockClient(t, targettest.Config{Offers: offers})
	synctest.Test(t, func(t *testing.T) {
		k := bubbleCoalescer(t, cfg, target.CoalesceOptions{Window: 10 * time.Millisecond})
		start := time.Now()
		opts := target.GetOffersOptions{SessionID: "s", Request: offersRequest("hero")}
		f1 := k.GetOffers(t.Context(), opts)
		time.Sleep(5 * time.Millisecond)
		f2 := k.GetOffers(t.Context(), opts)
		time.Sleep(5*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		assert.EqualValues(t, 0, srv.Stats().Requests, "nothing sent inside the window")
		_, err := f1.Peek()
		assert.ErrorIs(t, err, future.ErrPending)

		_, err = f2.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "sent when the first call's window ended")
		assert.EqualValues(t, 1, srv.Stats().Requests)
		r1, err := f1.Peek()
		require.NoError(t, err, "the first call went in the same request")
		assert.Equal(t, []mboxKey{{"hero", 0}}, answered(r1.Response.Execute.Mboxes))

		// A call after the batch went out starts the next one.
		f3 := k.GetOffers(t.Context(), opts)
		_, err = f3.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 20*time.Millisecond, time.Since(start))
		assert.EqualValues(t, 2, srv.Stats().Requests)
	})
}

// TestCoalescerDefaultWindow: a zero Window means DefaultCoalesceWindow.
func TestCoalescerDefaultWindow(t *testing.T) {
	t.Parallel()
	_, cfg := fakeClockClient(t, targettest.Config{Offers: offers})
	synctest.Test(t, func(t *testing.T) {
		k := bubbleCoalescer(t, cfg, target.CoalesceOptions{})
		start := time.Now()
		_, err := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: offersRequest("hero")}).Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, target.DefaultCoalesceWindow, time.Since(start))
	})
}

// TestCoalescerMaxMboxes: a batch goes out as soon as it holds MaxMboxes
// calls, and no request carries more than MaxMboxes mboxes unless a single
// call has more.
func TestCoalescerMaxMboxes(t *testing.T) {
	t.Parallel()
	srv, cfg := fakeClockClient(t, targettest.Config{Offers: offers})
	synctest.Test(t, func(t *testing.T) {
		k := bubbleCoalescer(t, cfg, target.CoalesceOptions{Window: time.Hour, MaxMboxes: 4})
		start := time.Now()
		// Four calls of 3, 2, 2 and 6 mboxes: the fourth call fills the
		// batch, which goes out at once as [3] [2 2] [6].
		sizes := []int{3, 2, 2, 6}
		fs := make([]*future.Future[*target.Response], len(sizes))
		for i, n := range sizes {
			names := make([]string, n)
			for j := range names {
				names[j] = fmt.Sprintf("c%d-m%d", i, j)
			}
			fs[i] = k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: offersRequest(names...)})
		}
		for i, f := range fs {
			res, err := f.Await(t.Context())
			require.NoError(t, err)
			require.Len(t, res.Response.Execute.Mboxes, sizes[i])
			for j, m := range res.Response.Execute.Mboxes {
				assert.Equal(t, mboxKey{fmt.Sprintf("c%d-m%d", i, j), j}, mboxKey{m.Name, m.Index})
			}
		}
		assert.Zero(t, time.Since(start), "no wait for the window")
		var got []int
		for _, rec := range srv.Requests() {
			got = append(got, len(rec.Delivery.Execute.Mboxes))
		}
		slices.Sort(got)
		assert.Equal(t, []int{3, 2 + 2, 6}, got)
	})
}

// TestCoalescerCancel: a caller that gives up does not affect the others;
// its mboxes are left out of a request not yet sent, and a request nobody
// waits for any more is not sent or is aborted.
func TestCoalescerCancel(t *testing.T) {
	t.Parallel()
	opts := func(name string) target.GetOffersOptions {
		return target.GetOffersOptions{SessionID: "s", Request: offersRequest(name)}
	}
	t.Run("before the request", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{Offers: offers})
		k := newCoalescer(t, c, target.CoalesceOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		var errs atomic.Int32
		// The callback runs right after f2 settles, maybe after its
		// waiter saw the error: the count is read once it ran.
		errRan := make(chan struct{}, 1)
		f1 := k.GetOffers(t.Context(), opts("hero"))
		f2 := k.GetOffers(ctx, target.GetOffersOptions{SessionID: "s", Request: offersRequest("gone"),
			ErrCallback: func(error) {
				errs.Add(1)
				select {
				case errRan <- struct{}{}:
				default:
				}
			}})
		f3 := k.GetOffers(t.Context(), opts("cancelled"))
		f4 := k.GetOffers(t.Context(), opts("flags"))
		cancel()
		assert.True(t, f3.Cancel())
		_, err := f2.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		_, err = f3.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		k.Flush()
		assert.Equal(t, []mboxKey{{"hero", 0}}, executed(t, f1))
		assert.Equal(t, []mboxKey{{"flags", 0}}, executed(t, f4))
		recs := srv.Requests()
		require.Len(t, recs, 1)
		assert.Equal(t, []mboxKey{{"hero", 0}, {"flags", 1}}, requested(recs[0].Delivery.Execute.Mboxes))
		<-errRan
		assert.EqualValues(t, 1, errs.Load())
	})
	t.Run("everybody gives up", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{Offers: offers})
		k := newCoalescer(t, c, target.CoalesceOptions{})
		f1, f2 := k.GetOffers(t.Context(), opts("hero")), k.GetOffers(t.Context(), opts("flags"))
		f1.Cancel()
		f2.Cancel()
		k.Flush()
		assert.EqualValues(t, 0, srv.Stats().Requests)
	})
	t.Run("in flight", func(t *testing.T) {
		t.Parallel()
		srv, cfg := fakeClockClient(t, targettest.Config{Offers: offers, Latency: targettest.Latency{Fixed: time.Second}})
		var aborted atomic.Bool
		cfg.HTTPClient = &http.Client{Transport: inProcess{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			srv.ServeHTTP(w, r)
			aborted.Store(r.Context().Err() != nil)
		})}}
		synctest.Test(t, func(t *testing.T) {
			k := bubbleCoalescer(t, cfg, target.CoalesceOptions{MaxMboxes: 2})
			start := time.Now()
			ctx, cancel := context.WithCancel(t.Context())
			f1 := k.GetOffers(ctx, opts("hero"))
			f2 := k.GetOffers(t.Context(), opts("flags"))
			synctest.Wait() // the edge holds the merged request
			cancel()
			_, err := f1.Await(t.Context())
			require.ErrorIs(t, err, context.Canceled)
			assert.Zero(t, time.Since(start), "the cancelled caller did not wait")
			assert.Equal(t, []mboxKey{{"flags", 0}}, executed(t, f2), "the other caller is unaffected")
			assert.Equal(t, time.Second, time.Since(start))
			assert.False(t, aborted.Load(), "the request went on for the other caller")

			// When every caller gives up, the request is aborted.
			f3, f4 := k.GetOffers(t.Context(), opts("hero")), k.GetOffers(t.Context(), opts("flags"))
			synctest.Wait()
			f3.Cancel()
			f4.Cancel()
			synctest.Wait()
			assert.True(t, aborted.Load(), "nobody waits for the request any more")
		})
	})
}

// TestCoalescerFault: a failed merged request fails every caller it
// carried with the same error, and only them.
func TestCoalescerFault(t *testing.T) {
	t.Parallel()
	const n = 5
	c, srv := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	srv.ForceFault(targettest.FaultServerError, 1)
	var errCallbacks, callbacks atomic.Int32
	// The callbacks may still be running when Await returns (they run
	// after the futures settle, on the goroutine that delivers the batch):
	// the counts are read once all n have run.
	var ran sync.WaitGroup
	ran.Add(n)
	fs := submitAll(k, t.Context(), n, func(i int) target.GetOffersOptions {
		return target.GetOffersOptions{SessionID: "s", Request: callerRequest(i),
			Callback:    func(*target.Response) { callbacks.Add(1); ran.Done() },
			ErrCallback: func(error) { errCallbacks.Add(1); ran.Done() },
		}
	})
	k.Flush()
	var first error
	for _, f := range fs {
		_, err := f.Await(t.Context())
		var api *target.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, http.StatusServiceUnavailable, api.Status)
		if first == nil {
			first = err
		}
		assert.Same(t, first, err, "the same error for every caller")
	}
	ran.Wait()
	assert.EqualValues(t, n, errCallbacks.Load())
	assert.Zero(t, callbacks.Load())
	assert.EqualValues(t, 1, srv.Stats().Requests)

	// The next batch is unaffected.
	f := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: offersRequest("hero")})
	k.Flush()
	assert.Equal(t, []mboxKey{{"hero", 0}}, executed(t, f))
}

// answerEditor serves requests with the edge in process and edits each
// answer before the client reads it.
type answerEditor struct {
	h    http.Handler
	edit func(*target.DeliveryResponse)
}

func (e answerEditor) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	res := rec.Result()
	var dr target.DeliveryResponse
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &dr); err != nil {
		return nil, err
	}
	e.edit(&dr)
	out, err := json.Marshal(&dr)
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(strings.NewReader(string(out)))
	res.ContentLength = int64(len(out))
	res.Header.Del("Content-Length")
	res.Request = r
	return res, nil
}

// TestCoalescerSplitIsFaithful: the split follows the edge's answer: an
// mbox the edge leaves out is left out of its caller's answer, indexes
// nobody asked for go to nobody, and the shared parts go to everyone.
func TestCoalescerSplitIsFaithful(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	cfg := srv.ClientConfig()
	metrics := []target.Metric{{Type: target.MetricTypeClick, EventToken: "click-token"}}
	cfg.HTTPClient = &http.Client{Transport: answerEditor{srv, func(dr *target.DeliveryResponse) {
		// Leave out merged execute index 1 (caller 0's second mbox), and
		// add an index nobody asked for.
		dr.Execute.Mboxes = slices.DeleteFunc(dr.Execute.Mboxes, func(m target.MboxResponse) bool { return m.Index == 1 })
		dr.Execute.Mboxes = append(dr.Execute.Mboxes, target.MboxResponse{Index: 99, Name: "stray"})
		dr.Prefetch.Metrics = metrics
	}}}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	k := newCoalescer(t, c, target.CoalesceOptions{})
	f0 := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: callerRequest(0)})
	f1 := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: callerRequest(1)})
	k.Flush()
	r0, err := f0.Await(t.Context())
	require.NoError(t, err)
	r1, err := f1.Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []mboxKey{{"hero", 7}}, answered(r0.Response.Execute.Mboxes), "the left-out mbox is left out")
	assert.Equal(t, requested(callerRequest(1).Execute.Mboxes), answered(r1.Response.Execute.Mboxes))
	assert.Equal(t, metrics, r0.Response.Prefetch.Metrics)
	assert.Equal(t, metrics, r1.Response.Prefetch.Metrics)
	assert.Equal(t, r0.Response.ID, r1.Response.ID)
	assert.NotEmpty(t, r0.Response.EdgeHost)
	assert.Equal(t, r0.Response.EdgeHost, r1.Response.EdgeHost)
	assert.Equal(t, r0.Response.RequestID, r1.Response.RequestID)
	assert.Equal(t, r0.Timings, r1.Timings)
}

// TestCoalescerDetails: analytics details and response tokens are split
// with their mboxes.
func TestCoalescerDetails(t *testing.T) {
	t.Parallel()
	withTokens := targettest.Offers{Mboxes: map[string]targettest.Offer{
		"a": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{}`), ResponseTokens: map[string]any{"activity.name": "A"}}},
			Analytics: &target.AnalyticsResponse{Payload: &target.AnalyticsPayload{PE: "tnt", TNTA: "a"}}},
		"b": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{}`), ResponseTokens: map[string]any{"activity.name": "B"}}},
			Analytics: &target.AnalyticsResponse{Payload: &target.AnalyticsPayload{PE: "tnt", TNTA: "b"}}},
	}}
	c, _ := setup(t, targettest.Config{Offers: withTokens})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	client := &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{Logging: target.LoggingClientSide}}
	fa := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{ExperienceCloud: client, Execute: offersRequest("a").Execute}})
	fb := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{ExperienceCloud: client, Execute: offersRequest("b").Execute}})
	k.Flush()
	ra, err := fa.Await(t.Context())
	require.NoError(t, err)
	rb, err := fb.Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{"activity.name": "A"}}, ra.ResponseTokens)
	assert.Equal(t, []map[string]any{{"activity.name": "B"}}, rb.ResponseTokens)
	require.Len(t, ra.AnalyticsDetails, 1)
	assert.Equal(t, "a", ra.AnalyticsDetails[0].Payload.TNTA)
	require.Len(t, rb.AnalyticsDetails, 1)
	assert.Equal(t, "b", rb.AnalyticsDetails[0].Payload.TNTA)
}

// TestCoalescerBeacon: merged beacon calls all get the edge's 204.
func TestCoalescerBeacon(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	beacon := func(name string) target.GetOffersOptions {
		return target.GetOffersOptions{SessionID: "s", Request: target.DeliveryRequest{
			Context: &target.Context{Channel: target.ChannelWeb, Beacon: true},
			Execute: offersRequest(name).Execute,
		}}
	}
	fa, fb := k.GetOffers(t.Context(), beacon("hero")), k.GetOffers(t.Context(), beacon("flags"))
	k.Flush()
	for _, f := range []*future.Future[*target.Response]{fa, fb} {
		res, err := f.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, http.StatusNoContent, res.Status)
		assert.NotNil(t, res.Response)
		assert.Nil(t, res.Response.Execute)
	}
	assert.EqualValues(t, 1, srv.Stats().Requests)
}

// Two parts of a page ask for their own mboxes, each on its own, for the
// same visitor: the Coalescer sends one Delivery request and gives each
// part its own answer.
func ExampleCoalescer() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}
	coalescer, err := client.NewCoalescer(target.CoalesceOptions{Window: 5 * time.Millisecond})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	visitor := target.GetOffersOptions{SessionID: "session-1"} // and the visitor's cookies
	banner, flags := visitor, visitor
	banner.Request = target.DeliveryRequest{Execute: &target.ExecuteRequest{
		Mboxes: []target.MboxRequest{{Name: "hero"}},
	}}
	flags.Request = target.DeliveryRequest{Execute: &target.ExecuteRequest{
		Mboxes: []target.MboxRequest{{Name: "features"}},
	}}
	bannerOffers := coalescer.GetOffers(ctx, banner)
	flagOffers := coalescer.GetOffers(ctx, flags)
	coalescer.Flush() // every part has asked: no need to wait for the window

	b, err := bannerOffers.Await(ctx)
	if err != nil {
		panic(err)
	}
	f, err := flagOffers.Await(ctx)
	if err != nil {
		panic(err)
	}
	html, _ := b.Response.Execute.Mboxes[0].Options[0].ContentString()
	fmt.Println(html)
	fmt.Println(f.Response.Execute.Mboxes[0].Name, string(f.Response.Execute.Mboxes[0].Options[0].Content))
	fmt.Println("requests to the edge:", edge.Stats().Requests)
	// Output:
	// <h1>Summer sale</h1>
	// features {"checkout":"v2","maxItems":20,"newNav":true}
	// requests to the edge: 1
}

func TestZeroCoalescer(t *testing.T) {
	t.Parallel()
	var k target.Coalescer
	var got error
	f := k.GetOffers(t.Context(), target.GetOffersOptions{SessionID: "s", Request: offersRequest("a"),
		ErrCallback: func(err error) { got = err }})
	_, err := f.Peek()
	require.ErrorIs(t, err, target.ErrNoClient)
	assert.ErrorIs(t, got, target.ErrNoClient)
	k.Flush()
}

// TestCoalescerVisitorOnTheWire: the merged request carries the visitor
// the calls share, as each would have sent it: the cookie's session and
// tntId, the customer ids, the caller's context.
func TestCoalescerVisitorOnTheWire(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	exp := time.Now().Unix() + 600
	visitor := func(name string) target.GetOffersOptions {
		return target.GetOffersOptions{
			TargetCookie: fmt.Sprintf("session#sess-9#%d|PC#tnt-9.35_0#%d", exp, exp),
			CustomerIDs:  []target.VisitorCustomerID{{ID: "u1", IntegrationCode: "crm"}},
			Request: target.DeliveryRequest{
				Context: &target.Context{Channel: target.ChannelWeb, UserAgent: "ua"},
				Execute: offersRequest(name).Execute,
			},
		}
	}
	fa, fb := k.GetOffers(t.Context(), visitor("hero")), k.GetOffers(t.Context(), visitor("flags"))
	k.Flush()
	assert.Equal(t, []mboxKey{{"hero", 0}}, executed(t, fa))
	assert.Equal(t, []mboxKey{{"flags", 0}}, executed(t, fb))
	recs := srv.Requests()
	require.Len(t, recs, 1)
	assert.Equal(t, "sess-9", recs[0].Query.Get("sessionId"))
	sent := recs[0].Delivery
	assert.Equal(t, "tnt-9.35_0", sent.ID.TntID)
	assert.Equal(t, []target.CustomerID{{ID: "u1", IntegrationCode: "crm", AuthenticatedState: target.AuthenticatedStateUnknown}}, sent.ID.CustomerIDs)
	assert.Equal(t, "ua", sent.Context.UserAgent)
	assert.Equal(t, []mboxKey{{"hero", 0}, {"flags", 1}}, requested(sent.Execute.Mboxes))
	res, _ := fb.Peek()
	assert.Equal(t, "tnt-9.35_0", res.Request.ID.TntID)
	assert.Contains(t, res.TargetCookie.Value, "PC#tnt-9.35_0#")
	assert.Equal(t, "35", res.TargetLocationHintCookie.Value)
}

// TestCoalescerCallbackGoexitAnswersTheOthers: the callers of one merged
// request are answered one after another on one goroutine. A callback of
// one of them that calls runtime.Goexit (t.FailNow, require) must not leave
// the callers after it pending: they were already taken off the batch, so
// nothing else would ever answer them.
func TestCoalescerCallbackGoexitAnswersTheOthers(t *testing.T) {
	t.Parallel()
	const n = 4
	c, _ := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	var ran [n]chan struct{}
	fs := make([]*future.Future[*target.Response], n)
	for i := range n {
		ran[i] = make(chan struct{}, 2)
		fs[i] = k.GetOffers(t.Context(), target.GetOffersOptions{
			Request:   callerRequest(i),
			SessionID: "visitor-1",
			Callback: func(*target.Response) {
				ran[i] <- struct{}{}
				if i == 0 {
					runtime.Goexit()
				}
			},
		})
	}
	fs[1].OnComplete(func(*target.Response, error) { runtime.Goexit() })
	k.Flush()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i, f := range fs {
		res, err := f.Await(ctx)
		require.NoError(t, err, "caller %d was never answered", i)
		assert.Equal(t, requested(callerRequest(i).Execute.Mboxes), answered(res.Response.Execute.Mboxes), "caller %d", i)
		// Callbacks run after settlement: wait for this one.
		select {
		case <-ran[i]:
		case <-ctx.Done():
			t.Fatalf("the Callback of caller %d never ran", i)
		}
	}
	for i := range n {
		assert.Empty(t, ran[i], "Callback of caller %d ran twice", i)
	}
}
