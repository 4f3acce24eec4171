package target_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// pageHandler serves a page that makes n calls for its visitor through a
// Visitor, half GetOffers and half GetAttributes, all started before any
// is awaited, as the README's "many at once" pattern does.
func pageHandler(t *testing.T, c *target.Client, n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := c.NewVisitor(r)
		var fs []*future.Future[*target.Response]
		for i := range n {
			name := fmt.Sprintf("mbox-%d", i)
			if i%2 == 0 {
				fs = append(fs, v.GetOffers(r.Context(), target.GetOffersOptions{Request: offersRequest(name)}))
				continue
			}
			a := v.GetAttributes(r.Context(), []string{name}, target.GetAttributesOptions{})
			fs = append(fs, future.Then(a, func(a *target.Attributes) (*target.Response, error) { return a.Response, nil }))
		}
		if _, err := batch.All(fs...).Await(r.Context()); err != nil {
			t.Errorf("page calls: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		v.SetCookies(w)
		w.WriteHeader(http.StatusNoContent)
	})
}

// browse fetches u with a browser's cookie jar and returns the cookies set.
func browse(t *testing.T, b *http.Client, u string) map[string]*http.Cookie {
	t.Helper()
	resp, err := b.Get(u)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	out := map[string]*http.Cookie{}
	for _, ck := range resp.Cookies() {
		out[ck.Name] = ck
	}
	return out
}

func TestVisitorFirstTimeParallelCallsShareOneIdentity(t *testing.T) {
	t.Parallel()
	c, edge := setup(t, targettest.Config{Offers: offers})
	site := httptest.NewServer(pageHandler(t, c, 20))
	t.Cleanup(site.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}

	set := browse(t, browser, site.URL)
	recs := edge.Requests()
	require.Len(t, recs, 20)

	sid := recs[0].Query.Get("sessionId")
	require.NotEmpty(t, sid)
	first := recs[0].Delivery
	assert.True(t, first.ID == nil || first.ID.TntID == "", "the first call establishes the identity")
	var tnt string
	for i, rec := range recs {
		assert.Equal(t, sid, rec.Query.Get("sessionId"), "request %d: one session id", i)
		if i == 0 {
			continue
		}
		require.NotNil(t, rec.Delivery.ID, "request %d carries the tntId", i)
		if tnt == "" {
			tnt = rec.Delivery.ID.TntID
		}
		assert.Equal(t, tnt, rec.Delivery.ID.TntID, "request %d: one tntId", i)
		assert.Equal(t, "mboxedge35.tt.omtrdc.net", rec.Host, "request %d: one edge cluster", i)
	}
	assert.True(t, strings.HasSuffix(tnt, ".35_0"), tnt)

	// One merged cookie pair names them.
	mbox := set[target.MboxCookie]
	require.NotNil(t, mbox)
	assert.Contains(t, mbox.Value, "session#"+sid+"#")
	assert.Contains(t, mbox.Value, "|PC#"+url.PathEscape(tnt)+"#")
	assert.Equal(t, "/", mbox.Path)
	assert.Equal(t, 63244800, mbox.MaxAge)
	assert.Equal(t, http.SameSiteLaxMode, mbox.SameSite)
	assert.False(t, mbox.Secure, "the page came over plain HTTP")
	require.NotNil(t, set[target.LocationHintCookie])
	assert.Equal(t, "35", set[target.LocationHintCookie].Value)

	// The next page of the same browser is a returning visitor: its calls
	// all carry the identity, from the first request on.
	browse(t, browser, site.URL)
	recs = edge.Requests()[20:]
	require.Len(t, recs, 20)
	for i, rec := range recs {
		assert.Equal(t, sid, rec.Query.Get("sessionId"), "second page, request %d", i)
		require.NotNil(t, rec.Delivery.ID, "second page, request %d", i)
		assert.Equal(t, tnt, rec.Delivery.ID.TntID, "second page, request %d", i)
		assert.Equal(t, "mboxedge35.tt.omtrdc.net", rec.Host, "second page, request %d", i)
	}
}

// barrierEdge puts a barrier in front of an edge: each Delivery request is
// held until n requests are in, or until a generous bound passes, which
// the test reports as calls that waited on one another.
type barrierEdge struct {
	edge   *targettest.Server
	n      int32
	in     atomic.Int32
	all    chan struct{}
	once   sync.Once
	missed atomic.Bool
}

func (b *barrierEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.in.Add(1) == b.n {
		b.once.Do(func() { close(b.all) })
	}
	select {
	case <-b.all:
	case <-time.After(20 * time.Second):
		b.missed.Store(true)
	}
	b.edge.ServeHTTP(w, r)
}

func TestVisitorReturningCallsStartAtOnce(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	b := &barrierEdge{edge: edge, n: 20, all: make(chan struct{})}
	front := httptest.NewServer(b)
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 30 * time.Second
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	site := httptest.NewServer(pageHandler(t, c, 20))
	t.Cleanup(site.Close)

	exp := time.Now().Add(time.Hour).Unix()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, site.URL, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: target.MboxCookie, Value: fmt.Sprintf("session#s-ret#%d|PC#tnt-ret#%d", exp, exp)})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	assert.False(t, b.missed.Load(), "all 20 calls were at the edge at once: none waited on another")
	recs := edge.Requests()
	require.Len(t, recs, 20)
	for i, rec := range recs {
		assert.Equal(t, "s-ret", rec.Query.Get("sessionId"), "request %d", i)
		require.NotNil(t, rec.Delivery.ID, "request %d", i)
		assert.Equal(t, "tnt-ret", rec.Delivery.ID.TntID, "request %d", i)
	}
	var mbox string
	for _, ck := range resp.Cookies() {
		if ck.Name == target.MboxCookie {
			mbox = ck.Value
		}
	}
	assert.Contains(t, mbox, "session#s-ret#")
	assert.Contains(t, mbox, "|PC#tnt-ret#")
}

// TestVisitorFirstCallFails: when the call establishing the identity fails,
// the next waiting call takes over, and the others still share its answer.
func TestVisitorFirstCallFails(t *testing.T) {
	t.Parallel()
	c, edge := setup(t, targettest.Config{Offers: offers})
	edge.ForceFault(targettest.FaultServerError, 1)
	v := c.NewVisitorFromCookies("", "")
	fs := make([]*future.Future[*target.Response], 10)
	for i := range fs {
		fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	}
	results := batch.Settled(fs...)
	rs, err := results.Await(t.Context())
	require.NoError(t, err)
	var apiErr *target.APIError
	require.ErrorAs(t, rs[0].Err, &apiErr, "the first call got the injected 503")
	for i, r := range rs[1:] {
		require.NoError(t, r.Err, "call %d", i+1)
	}
	recs := edge.Requests()
	require.Len(t, recs, 10)
	assert.Nil(t, recs[0].Delivery.ID)
	assert.Nil(t, recs[1].Delivery.ID, "the second call establishes the identity instead")
	tnt := v.TntID()
	require.NotEmpty(t, tnt)
	for i, rec := range recs[2:] {
		require.NotNil(t, rec.Delivery.ID, "request %d", i+2)
		assert.Equal(t, tnt, rec.Delivery.ID.TntID, "request %d", i+2)
	}
}

// TestVisitorWaitingCallGivesUp: a call waiting for the first answer ends
// with its context, or when cancelled, and then sends nothing.
func TestVisitorWaitingCallGivesUp(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	release := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
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
	first := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
	ctx, cancel := context.WithCancel(t.Context())
	byCtx := v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("hero")})
	cancelled := v.GetAttributes(t.Context(), []string{"flags"}, target.GetAttributesOptions{})
	waiting := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("flags")})

	cancel()
	_, err = byCtx.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, cancelled.Cancel())
	close(release)

	_, err = first.Await(t.Context())
	require.NoError(t, err)
	r, err := waiting.Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, v.TntID(), r.Request.ID.TntID)
	_, err = cancelled.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, edge.Requests(), 2, "the calls that gave up while waiting sent nothing")
}

func TestVisitorInvalidOptionsAndZeroValue(t *testing.T) {
	t.Parallel()
	c, edge := setup(t, targettest.Config{Offers: offers})
	v := c.NewVisitorFromCookies("garbage|more", "not a cluster!")
	_, err := v.GetOffers(t.Context(), target.GetOffersOptions{}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption, "an invalid first call fails at once")
	// ...and does not hold up the next one, which establishes the identity.
	r, err := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, v.TntID(), r.Response.ID.TntID)
	assert.Len(t, edge.Requests(), 1)

	var zero *target.Visitor
	var got error
	_, err = zero.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(err error) { got = err }}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrNoVisitorClient)
	require.ErrorIs(t, got, target.ErrNoVisitorClient)
	_, err = (&target.Visitor{}).GetAttributes(t.Context(), []string{"x"}, target.GetAttributesOptions{}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrNoVisitorClient)
	_, err = zero.SendNotifications(t.Context(), target.SendNotificationsOptions{}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrNoVisitorClient)
	zero.SetCookies(httptest.NewRecorder()) // does nothing, and does not panic
}
