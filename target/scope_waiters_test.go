package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// gatedEdge is a local edge whose Delivery answers are held until release
// is closed, so that a test knows which Visitor calls are waiting; arrived
// counts the requests that reached it.
func gatedEdge(t *testing.T, ecfg targettest.Config, edit ...func(*target.Config)) (c *target.Client, edge *targettest.Server, release chan struct{}, arrived *atomic.Int64) {
	t.Helper()
	edge = targettest.NewServer(ecfg)
	t.Cleanup(edge.Close)
	release = make(chan struct{})
	arrived = &atomic.Int64{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, edge, release, arrived
}

// TestVisitorWaitingCallbackCannotFailTheFirstCall: a waiting call that
// settles at once when released (here, invalid options) and whose
// callback calls runtime.Goexit or panics changes the outcome of no other
// call: the first call and the other waiting call succeed.
func TestVisitorWaitingCallbackCannotFailTheFirstCall(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]func(){
		"goexit": func() { runtime.Goexit() },
		"panic":  func() { panic("user bug in a waiting call's callback") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recovered := make(chan struct{}, 1)
			c, edge, release, _ := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true}, func(cfg *target.Config) {
				cfg.OnCallbackPanic = func(*future.PanicError) { recovered <- struct{}{} }
				cfg.Logger = slog.New(slog.DiscardHandler)
			})
			v := c.NewVisitorFromCookies("", "")
			first := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
			ran := make(chan struct{})
			invalid := v.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) {
				close(ran)
				bad()
			}})
			other := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})
			close(release)

			_, err := invalid.Await(t.Context())
			require.ErrorIs(t, err, target.ErrInvalidOption, "the waiting call fails with its own error")
			r, err := first.Await(t.Context())
			require.NoError(t, err, "the first call's outcome is its own")
			require.NotNil(t, r.Response.ID)
			r2, err := other.Await(t.Context())
			require.NoError(t, err, "the other waiting call's outcome is its own")
			assert.Equal(t, r.Response.ID.TntID, r2.Request.ID.TntID)
			<-ran
			if name == "panic" {
				<-recovered // recovered as a Callback's panic, and handed to the hook
			}
			assert.Len(t, edge.Requests(), 2)
		})
	}
}

// TestVisitorAnswerWithoutTntIDReleasesAllWaiters: when the first answer
// names no tntId, the calls that waited for it are released together
// (they reach the edge at once, with the session id and no tntId), not
// made to lead one after the other.
func TestVisitorAnswerWithoutTntIDReleasesAllWaiters(t *testing.T) {
	t.Parallel()
	const n = 10
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	release := make(chan struct{})
	var arrived, missed atomic.Int64
	together := make(chan struct{})
	var once sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch k := arrived.Add(1); {
		case k == 1:
			<-release
		case k == n:
			once.Do(func() { close(together) })
		default:
			// The waiting calls are all at the edge at once, or they were
			// released one by one (each then waits out the bound).
			select {
			case <-together:
			case <-time.After(5 * time.Second):
				missed.Add(1)
			}
		}
		rec := httptest.NewRecorder()
		edge.ServeHTTP(rec, r)
		var body map[string]any
		if !assert.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body)) {
			return
		}
		delete(body, "id") // an answer that establishes no tntId
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

	v := c.NewVisitorFromCookies("", "")
	fs := make([]*future.Future[*target.Response], n)
	for i := range fs {
		fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	}
	close(release)
	for i, f := range fs {
		_, err := f.Await(t.Context())
		require.NoError(t, err, "call %d", i)
	}
	assert.Zero(t, missed.Load(), "the waiting calls were released together")
	recs := edge.Requests()
	require.Len(t, recs, n)
	for i, rec := range recs {
		assert.Equal(t, v.SessionID(), rec.Query.Get("sessionId"), "request %d", i)
		assert.True(t, rec.Delivery.ID == nil || rec.Delivery.ID.TntID == "", "request %d carries no tntId", i)
	}
	assert.Empty(t, v.TntID())

	// Later calls start at once too: nothing is establishing an identity.
	_, err = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
}

// TestVisitorNotificationDoesNotLead: a Visitor's first call being
// SendNotifications does not make its GetOffers wait for the notification
// queue: the GetOffers call establishes the identity while the
// notification is still held at the edge; the notification carried the
// pinned session id and is delivered by Close.
func TestVisitorNotificationDoesNotLead(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	release := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if !assert.NoError(t, err) {
			return
		}
		if bytes.Contains(b, []byte(`"notifications"`)) {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	v := c.NewVisitorFromCookies("", "")
	note := v.SendNotifications(t.Context(), target.SendNotificationsOptions{Request: target.DeliveryRequest{
		Notifications: []target.Notification{{ID: "n-1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t"}}},
	}})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	r, err := v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("hero")}).Await(ctx)
	require.NoError(t, err, "GetOffers did not wait for the notification")
	require.NotNil(t, r.Response.ID)
	assert.Equal(t, r.Response.ID.TntID, v.TntID(), "GetOffers established the identity")
	select {
	case <-note.Done():
		t.Fatal("the notification was answered while the edge held it")
	default:
	}

	close(release)
	require.NoError(t, c.Close(ctx))
	_, err = note.Await(ctx)
	require.NoError(t, err)
	var noted bool
	for _, rec := range edge.Requests() {
		if len(rec.Delivery.Notifications) == 0 {
			continue
		}
		noted = true
		assert.Equal(t, v.SessionID(), rec.Query.Get("sessionId"))
		assert.True(t, rec.Delivery.ID == nil || rec.Delivery.ID.TntID == "", "the notification went with what was known: no tntId yet")
	}
	assert.True(t, noted)
}

// TestVisitorBlockingWaiterCallbackDelaysNoStart: every waiting call has
// started before the callbacks of any waiting call that settled at once
// run, so a callback that blocks holds up no other call's start: here it
// blocks until the other waiting call has reached the edge.
func TestVisitorBlockingWaiterCallbackDelaysNoStart(t *testing.T) {
	t.Parallel()
	c, _, release, arrived := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true})
	v := c.NewVisitorFromCookies("", "")
	first := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	var sawOther atomic.Bool
	ran := make(chan struct{})
	invalid := v.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) {
		defer close(ran)
		// Polling with a generous bound: the other call is started
		// before this runs, or never while it blocks.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if arrived.Load() >= 2 {
				sawOther.Store(true)
				return
			}
		}
	}})
	other := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})
	close(release)
	for _, f := range []*future.Future[*target.Response]{first, other} {
		_, err := f.Await(t.Context())
		require.NoError(t, err)
	}
	_, err := invalid.Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption)
	<-ran // callbacks run after Await returns
	assert.True(t, sawOther.Load(), "the other waiting call started before the blocking callback ran")
}

// TestVisitorFirstCallCancelled: cancelling the call establishing the
// identity hands the lead to a waiting call; the others still share its
// answer, and every call's outcome is its own.
func TestVisitorFirstCallCancelled(t *testing.T) {
	t.Parallel()
	c, edge, release, arrived := gatedEdge(t, targettest.Config{Offers: offers, NoCluster: true})
	v := c.NewVisitorFromCookies("", "")
	first := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	fs := make([]*future.Future[*target.Response], 5)
	for i := range fs {
		fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	}
	for deadline := time.Now().Add(20 * time.Second); arrived.Load() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	require.True(t, first.Cancel())
	close(release)
	_, err := first.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	for i, f := range fs {
		r, err := f.Await(t.Context())
		require.NoError(t, err, "call %d", i)
		assert.Equal(t, v.TntID(), r.Response.ID.TntID, "call %d", i)
	}
	var tnts []string
	for _, rec := range edge.Requests() {
		if rec.Delivery.ID != nil && rec.Delivery.ID.TntID != "" {
			tnts = append(tnts, rec.Delivery.ID.TntID)
		}
	}
	assert.Len(t, tnts, len(fs)-1, "one waiting call led, the others carried its tntId")
	for _, tnt := range tnts {
		assert.Equal(t, v.TntID(), tnt)
	}
}
