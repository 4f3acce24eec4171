package target_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestBackoffBounds: however large the configured bounds, the wait before
// every attempt is in [MinBackoff/2, MaxBackoff]: doubling saturates instead of
// wrapping negative (which made rand.N panic).
func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for _, p := range []target.RetryPolicy{
		{MaxAttempts: 100, MinBackoff: 1 << 62, MaxBackoff: math.MaxInt64},
		{MaxAttempts: 100, MinBackoff: math.MaxInt64, MaxBackoff: math.MaxInt64},
		{MaxAttempts: 100, MinBackoff: math.MaxInt64},
		{MaxAttempts: 100, MinBackoff: 1, MaxBackoff: math.MaxInt64},
		{MaxAttempts: 100, MinBackoff: 3, MaxBackoff: math.MaxInt64 - 1},
		{MaxAttempts: 100, MinBackoff: time.Millisecond, MaxBackoff: time.Second},
	} {
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", Retry: p})
		require.NoError(t, err)
		hi := p.MaxBackoff
		if hi == 0 {
			hi = p.MinBackoff
		}
		prev := time.Duration(0)
		for attempt := 1; attempt < 100; attempt++ {
			w := c.Backoff(attempt, errors.New("reset"))
			require.GreaterOrEqual(t, w, min(p.MinBackoff, hi)/2, "%+v attempt %d", p, attempt)
			require.LessOrEqual(t, w, hi, "%+v attempt %d", p, attempt)
			// Equal jitter: at least half the step, which never shrinks.
			require.GreaterOrEqual(t, w, prev/4, "%+v attempt %d", p, attempt)
			prev = w
		}
	}
}

// TestBackoffOverflowCall: a call that gets a 503 with Retry-After
// then 500s under bounds near MaxInt64, ends with the edge's error, not a
// panic.
func TestBackoffOverflowCall(t *testing.T) {
	t.Parallel()
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org",
		HTTPClient: &http.Client{Transport: inProcess{h}},
		Retry:      target.RetryPolicy{MaxAttempts: 3, MinBackoff: 1 << 62, MaxBackoff: math.MaxInt64}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = c.GetOffers(ctx, target.GetOffersOptions{Request: heroRequest("x")}).Await(ctx)
	var api *target.APIError
	require.ErrorAs(t, err, &api, "%v", err)
}

// signalRT blocks every request until its context ends, after telling
// entered that it has one.
type signalRT struct{ entered chan struct{} }

func (s signalRT) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestContextCause: a call whose context ends with a cause fails with an
// error that is both the context's error and the cause.
func TestContextCause(t *testing.T) {
	t.Parallel()
	myErr := errors.New("shutting down")
	rt := signalRT{entered: make(chan struct{}, 1)}
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", HTTPClient: &http.Client{Transport: rt}})
	require.NoError(t, err)
	check := func(t *testing.T, err error, want error) {
		t.Helper()
		var te *target.TransportError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, want)
		assert.ErrorIs(t, err, myErr)
		assert.Contains(t, err.Error(), myErr.Error())
	}
	t.Run("cancel cause", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		f := c.GetOffers(ctx, target.GetOffersOptions{Request: heroRequest("x")})
		within(t, rt.entered, "request sent")
		cancel(myErr)
		_, err := f.Await(t.Context())
		check(t, err, context.Canceled)
	})
	t.Run("timeout cause", func(t *testing.T) {
		ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, myErr)
		defer cancel()
		_, err := c.GetOffers(ctx, target.GetOffersOptions{Request: heroRequest("x")}).Await(t.Context())
		check(t, err, context.DeadlineExceeded)
	})
	t.Run("no cause", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := c.GetOffers(ctx, target.GetOffersOptions{Request: heroRequest("x")})
		within(t, rt.entered, "request sent")
		cancel()
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		assert.NotContains(t, err.Error(), "context canceled: context canceled")
	})
}

// TestEmpty2xx: 204 is the only success without a body; an empty 200,
// 201, 202, 205 or 206 is a *DecodeError.
func TestEmpty2xx(t *testing.T) {
	t.Parallel()
	for _, st := range []int{200, 201, 202, 203, 204, 205, 206, 299} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(st) })
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", HTTPClient: &http.Client{Transport: inProcess{h}}})
		require.NoError(t, err)
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x")}).Await(t.Context())
		if st == http.StatusNoContent {
			require.NoError(t, err)
			require.NotNil(t, r)
			continue
		}
		var de *target.DecodeError
		require.ErrorAs(t, err, &de, "status %d", st)
		assert.Equal(t, st, de.Status)
	}
}

// followingRT is a caller's transport that follows redirects itself, as
// one built on an http.Client does.
type followingRT struct{ c *http.Client }

func (r followingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.RequestURI = ""
	return r.c.Do(out)
}

// TestTransportFollowsRedirect: when the caller's transport follows a
// redirect to another host or scheme, the call fails with a
// *TransportError naming where the answer came from; the other host's
// answer is not taken for the edge's, and the call is not retried.
func TestTransportFollowsRedirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, tlsEdge := range []bool{false, true} {
			other := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"status":200,"requestId":"x"}`)
			})
			edge := newCountingServer(t, tlsEdge, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/rest/v1/delivery", status)
			})
			hc := &http.Client{}
			if tlsEdge {
				hc.Transport = edge.Client().Transport
			}
			c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: edge.host(), Insecure: !tlsEdge,
				HTTPClient: &http.Client{Transport: followingRT{hc}},
				Retry:      target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
			require.NoError(t, err)
			r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x")}).Await(t.Context())
			require.Nil(t, r)
			var te *target.TransportError
			require.ErrorAs(t, err, &te, "status %d tls %v", status, tlsEdge)
			assert.Contains(t, err.Error(), other.host())
			assert.Equal(t, 1, te.Attempts, "not retried")
			assert.EqualValues(t, 1, edge.hits.Load())
			hc.CloseIdleConnections()
		}
	}
}

// quotingRT is a caller's transport whose errors quote the request URL, as
// many wrappers' do: the session id is in its query.
type quotingRT struct{}

func (quotingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s: %w", req.URL, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused " + req.URL.RawQuery)})
}

// TestUnwrappedCauseRedacted: no link of a failed call's error chain, as
// errors.Unwrap walks it, prints the session id under any fmt verb, and
// errors.As still finds the cause's *net.OpError.
func TestUnwrappedCauseRedacted(t *testing.T) {
	t.Parallel()
	const secret = "SESSION-SECRET"
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", HTTPClient: &http.Client{Transport: quotingRT{}}})
	require.NoError(t, err)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x"), SessionID: secret}).Await(t.Context())
	var te *target.TransportError
	require.ErrorAs(t, err, &te)
	var op *net.OpError
	require.ErrorAs(t, err, &op, "the cause is still reachable by type")
	assert.Equal(t, "dial", op.Op)
	links := 0
	for e := err; e != nil; e = errors.Unwrap(e) {
		links++
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			text := fmt.Sprintf(verb, e)
			if verb == "%x" {
				text = fmt.Sprintf("%s", e) // hex of the same text: checked through %s
			}
			assert.NotContains(t, text, secret, "link %d (%T) under %s", links, e, verb)
		}
	}
	assert.GreaterOrEqual(t, links, 2, "the TransportError and its cause")
	assert.Contains(t, errors.Unwrap(err).Error(), "[redacted]")
	assert.Contains(t, err.Error(), "proxy refused")
}
