package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestVisitorBlockingFirstCallbackDelaysNoWaiter: a Callback of the call
// establishing the identity, or an OnComplete put on its future, that
// blocks holds up no waiting call: the waiting call reaches the edge and
// settles while the first call's callback is still blocked.
func TestVisitorBlockingFirstCallbackDelaysNoWaiter(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"Callback", "OnComplete"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			c, _, release, _ := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true})
			v := c.NewVisitorFromCookies("", "")
			unblock := make(chan struct{})
			blocked := make(chan struct{})
			block := func() {
				close(blocked)
				<-unblock
			}
			opts := target.GetOffersOptions{Request: offersRequest("hero")}
			if how == "Callback" {
				opts.Callback = func(*target.Response) { block() }
			}
			first := v.GetOffers(t.Context(), opts)
			if how == "OnComplete" {
				first.OnComplete(func(*target.Response, error) { block() })
			}
			waiter := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})
			close(release)
			defer close(unblock)
			<-blocked
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			r, err := waiter.Await(ctx)
			require.NoError(t, err, "the waiting call ran while the first call's %s blocked", how)
			require.NotNil(t, r.Request.ID)
			require.Equal(t, v.TntID(), r.Request.ID.TntID, "the waiting call carried the learned tntId")
		})
	}
}

// hangingOrRefusingEdge is a front for a first-time Visitor's calls: with
// refuse false it never answers (each request ends with its context);
// with refuse true it holds the first request until release is closed and
// answers every request 400, holding the others (up to a generous bound,
// counted in missed) until n of them have arrived together.
func hangingOrRefusingEdge(t *testing.T, n int, refuse bool, timeout time.Duration) (c *target.Client, release chan struct{}, missed *atomic.Int64) {
	t.Helper()
	release = make(chan struct{})
	missed = &atomic.Int64{}
	var arrived atomic.Int64
	together := make(chan struct{})
	var once sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server sees the client give up only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		if !refuse {
			<-r.Context().Done()
			return
		}
		switch k := arrived.Add(1); {
		case k == 1:
			<-release
		case k == int64(n):
			once.Do(func() { close(together) })
		default:
			select {
			case <-together:
			case <-time.After(5 * time.Second):
				missed.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"status":400,"message":"refused"}`)
	}))
	t.Cleanup(front.Close)
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = timeout
	cfg.Logger = slog.New(slog.DiscardHandler)
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, release, missed
}

// TestVisitorTimeoutBoundsEveryCall: when the edge does not answer, every
// call of a first-time Visitor fails within about Config.Timeout of being
// made, its wait for the first call included, rather than the waiting
// calls timing out one after another (n × Timeout for the last).
func TestVisitorTimeoutBoundsEveryCall(t *testing.T) {
	t.Parallel()
	const (
		n       = 8
		timeout = time.Second
		// Generous for a loaded machine, and far below the (n-1) × Timeout
		// the last call took when the waiting calls led in turn.
		slack = 3 * time.Second
	)
	c, _, _ := hangingOrRefusingEdge(t, n, false, timeout)
	v := c.NewVisitorFromCookies("", "")
	fs := make([]*future.Future[*target.Response], n)
	took := make([]atomic.Int64, n)
	for i := range fs {
		made := time.Now()
		fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
		fs[i].OnComplete(func(*target.Response, error) { took[i].Store(int64(time.Since(made))) })
	}
	for i, f := range fs {
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded, "call %d", i)
	}
	for i := range took {
		for deadline := time.Now().Add(10 * time.Second); took[i].Load() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		}
		assert.Less(t, time.Duration(took[i].Load()), timeout+slack, "call %d settled this long after it was made", i)
	}
}

// TestVisitorRefusedFirstCallReleasesAllWaiters: when the edge refuses
// the first call (a 400, not retried), the waiting calls are released
// together, all at the edge at once, not made to lead one after the other
// (n round trips in sequence), and each fails with its own answer.
func TestVisitorRefusedFirstCallReleasesAllWaiters(t *testing.T) {
	t.Parallel()
	const n = 8
	c, release, missed := hangingOrRefusingEdge(t, n, true, 30*time.Second)
	v := c.NewVisitorFromCookies("", "")
	fs := make([]*future.Future[*target.Response], n)
	for i := range fs {
		fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	}
	close(release)
	for i, f := range fs {
		_, err := f.Await(t.Context())
		var he *target.APIError
		require.ErrorAs(t, err, &he, "call %d", i)
	}
	assert.Zero(t, missed.Load(), "waiting calls released one by one")
	assert.Empty(t, v.TntID())
}

// TestVisitorAdoptsMergedTntID: when the edge answers a returning visitor
// with another tntId (a profile merge), the Visitor moves to it, as
// Client.GetOffers' cookie does: later calls carry it and the cookies
// written back name it.
func TestVisitorAdoptsMergedTntID(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	const merged = "tnt-merged"
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		edge.ServeHTTP(rec, r)
		var body map[string]any
		if !assert.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body)) {
			return
		}
		if id, ok := body["id"].(map[string]any); ok {
			id["tntId"] = merged
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		assert.NoError(t, json.NewEncoder(w).Encode(body))
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	exp := time.Now().Add(time.Hour).Unix()
	v := c.NewVisitorFromCookies(fmt.Sprintf("session#s-ret#%d|PC#tnt-ret#%d", exp, exp), "")
	require.Equal(t, "tnt-ret", v.TntID())
	r, err := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	require.Equal(t, "tnt-ret", r.Request.ID.TntID)
	require.Equal(t, merged, r.Response.ID.TntID)
	assert.Equal(t, merged, v.TntID(), "the Visitor follows the answer")
	r, err = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, merged, r.Request.ID.TntID, "a later call carries the merged tntId")
	assert.Contains(t, v.Cookies()[0].Value, "|PC#"+merged+"#")
}
