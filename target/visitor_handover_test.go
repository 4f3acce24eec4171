package target_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// An edge answering 503 gets the lead handed over once; when the call
// that took over fails too, every waiting call is released at once. The
// edge here holds the requests after the first two until all the rest
// are in flight, which calls handed over one after another never are. It
// holds the first request until every call has been made, so that they
// all wait for it however late the test's goroutine runs: a call made
// after the first one was answered would lead on its own.
func TestVisitorRepeated5xxReleasesAllWaiters(t *testing.T) {
	const calls = 6
	var reqs atomic.Int64
	made, allIn := make(chan struct{}), make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := reqs.Add(1)
		if n == 1 {
			select {
			case <-made:
			case <-r.Context().Done():
			}
		}
		if n > 2 {
			if n == calls {
				close(allIn)
			}
			select {
			case <-allIn:
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":503,"message":"busy"}`)
	}))
	t.Cleanup(front.Close)
	cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(front.URL, "http://"), Insecure: true}
	cfg.Timeout = 10 * time.Second
	cfg.Retry.MaxAttempts = 1
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	v := c.NewVisitorFromCookies("", "")
	var fs []*future.Future[*target.Response]
	for range calls {
		fs = append(fs, v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}))
	}
	close(made)
	for i, f := range fs {
		_, err := f.Await(t.Context())
		var api *target.APIError
		require.ErrorAs(t, err, &api, "call %d", i)
		require.Equal(t, http.StatusServiceUnavailable, api.Status, "call %d", i)
	}
	require.EqualValues(t, calls, reqs.Load())
}

// A first call that ends on its own ctx's deadline hands over: the edge
// is healthy, so the waiting calls share the tntId the next one gets
// rather than each minting one.
func TestVisitorFirstCallOwnDeadlineHandsOver(t *testing.T) {
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	var reqs atomic.Int64
	done := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqs.Add(1) == 1 {
			select { // held until its caller gives up
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	t.Cleanup(func() { close(done) })
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 20 * time.Second
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	v := c.NewVisitorFromCookies("", "")
	short, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	first := v.GetOffers(short, target.GetOffersOptions{Request: offersRequest("hero")})
	var fs []*future.Future[*target.Response]
	for range 5 {
		fs = append(fs, v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}))
	}
	_, err = first.Await(t.Context())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	minted := map[string]bool{}
	for _, f := range fs {
		r, err := f.Await(t.Context())
		require.NoError(t, err)
		minted[r.Response.ID.TntID] = true
	}
	require.Len(t, minted, 1, "one visitor, one tntId")
	require.Contains(t, minted, v.TntID())
}

// The waiting calls a hand-over releases go on from the call that took
// over even when it has already settled by the time their turn comes:
// here it settles at once (its options are invalid), before the other
// waiting calls' continuations run, and they must start together rather
// than the next one leading anew while the rest wait for it. The edge
// answers the first request 503, once every call has been made, and
// holds the others until all four are in flight.
func TestVisitorHandOverSettledAtOnceReleasesAllWaiters(t *testing.T) {
	const calls = 6
	var reqs atomic.Int64
	made, allIn := make(chan struct{}), make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := reqs.Add(1)
		if n == 1 {
			select {
			case <-made:
			case <-r.Context().Done():
			}
		}
		if n > 1 {
			if n == calls-1 {
				close(allIn)
			}
			select {
			case <-allIn:
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":503,"message":"busy"}`)
	}))
	t.Cleanup(front.Close)
	cfg := target.Config{Client: "c", OrganizationID: "O@AdobeOrg", ServerDomain: strings.TrimPrefix(front.URL, "http://"), Insecure: true}
	cfg.Timeout = 10 * time.Second
	cfg.Retry.MaxAttempts = 1
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	v := c.NewVisitorFromCookies("", "")
	var fs []*future.Future[*target.Response]
	for i := range calls {
		req := offersRequest("hero")
		if i == 1 { // takes over from the first call, and fails at once
			req.EnvironmentID = -1
		}
		fs = append(fs, v.GetOffers(t.Context(), target.GetOffersOptions{Request: req}))
	}
	close(made)
	for i, f := range fs {
		_, err := f.Await(t.Context())
		if i == 1 {
			var opt *target.OptionError
			require.ErrorAs(t, err, &opt, "call %d", i)
			continue
		}
		var api *target.APIError
		require.ErrorAs(t, err, &api, "call %d", i)
		require.Equal(t, http.StatusServiceUnavailable, api.Status, "call %d", i)
	}
	require.EqualValues(t, calls-1, reqs.Load())
}
