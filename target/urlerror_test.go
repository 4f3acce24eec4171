package target_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// closedAddr returns an address nothing listens on: a connection to it is
// refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// assertNoSecretReachable checks that secret shows nowhere in err: under
// any fmt verb, in any link errors.Unwrap reaches, nor in a *url.Error or
// net.Error errors.As hands out; and that the network cause is still
// found by errors.As.
func assertNoSecretReachable(t *testing.T, err error, secret string) {
	t.Helper()
	require.Error(t, err)
	for _, v := range []string{"%v", "%+v", "%#v", "%q", "%s"} {
		assert.NotContains(t, fmt.Sprintf(v, err), secret, v)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		assert.NotContains(t, fmt.Sprintf("%v %#v", e, e), secret, "a link errors.Unwrap reaches")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		assert.NotContains(t, ue.URL, secret, "errors.As(*url.Error).URL")
		assert.NotContains(t, ue.Error(), secret, "errors.As(*url.Error)")
		for e := error(ue); e != nil; e = errors.Unwrap(e) {
			assert.NotContains(t, fmt.Sprintf("%v %#v", e, e), secret, "a link under the *url.Error")
		}
		var inner *url.Error
		if errors.As(ue.Err, &inner) {
			assert.NotContains(t, inner.URL, secret, "the nested *url.Error")
		}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		assert.NotContains(t, ne.Error(), secret, "errors.As(net.Error)")
	}
	var op *net.OpError
	assert.True(t, errors.As(err, &op), "errors.As(*net.OpError) still finds the network cause: %v", err)
}

// TestArtifactNestedURLErrorScrubbed: an artifact download through a
// caller's transport built on an http.Client fails with two *url.Error
// in the chain, each quoting the signed location: the signature shows in
// none of the error, the WARN record or the callback's arguments.
func TestArtifactNestedURLErrorScrubbed(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	failed := make(chan error, 1)
	locs := make(chan string, 1)
	c, err := target.NewClient(target.Config{
		Client: "acme", OrganizationID: "org", ServerDomain: "127.0.0.1:1", Insecure: true,
		DecisioningMethod: target.OnDevice, Logger: debugLogger(&buf),
		HTTPClient: &http.Client{Transport: wrappingRT{followingRT{&http.Client{}}}},
		OnDevice: target.OnDeviceConfig{
			ArtifactLocation: "http://" + closedAddr(t) + "/acme/production/v1/rules.json?sig=SIG-SECRET",
			OnArtifactDownloadFailed: func(l string, err error) {
				select {
				case failed <- err:
					locs <- l
				default:
				}
			},
		},
	})
	require.NoError(t, err)
	var got error
	select {
	case got = <-failed:
	case <-time.After(time.Minute):
		t.Fatal("no download failure reported")
	}
	require.NoError(t, c.Close(t.Context()))
	assertNoSecretReachable(t, got, "SIG-SECRET")
	assert.NotContains(t, <-locs, "SIG-SECRET")
	assert.Contains(t, buf.String(), "artifact download failed")
	assert.NotContains(t, buf.String(), "SIG-SECRET")
}

// TestDeliveryNestedURLErrorScrubbed: a call through a caller's transport
// built on an http.Client fails to connect: the session id, in the URL
// both *url.Error quote, is reachable neither through the error's text nor
// through errors.As.
func TestDeliveryNestedURLErrorScrubbed(t *testing.T) {
	t.Parallel()
	const sid = "session-secret-777"
	for _, hc := range []*http.Client{nil, {Transport: followingRT{&http.Client{}}}, {Transport: wrappingRT{followingRT{&http.Client{}}}}} {
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: closedAddr(t), Insecure: true,
			HTTPClient: hc, Retry: target.RetryPolicy{MaxAttempts: 1}})
		require.NoError(t, err)
		_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x"), SessionID: sid}).Await(t.Context())
		var te *target.TransportError
		require.ErrorAs(t, err, &te)
		assertNoSecretReachable(t, err, sid)
		assert.NotContains(t, err.Error(), "sessionId", "the query is left out of every URL shown")
		require.NoError(t, c.Close(t.Context()))
	}
}

// redirectShapes are the redirects a caller's transport may follow that
// land back on the host asked: a 302 to another path of the same host
// (net/http turns a POST into a GET) and a bounce through another host
// and back with 307s (a POST's body visits the other host).
var redirectShapes = []string{"same-host 302", "bounce back"}

// newRedirectingServer returns a server that redirects its first request
// as shape says and answers answer to the request that comes back, and
// the server a bounce goes through (nil for a same-host 302).
func newRedirectingServer(t *testing.T, shape, answer string) (srv, via *countingServer) {
	t.Helper()
	var first atomic.Bool
	var back string
	switch shape {
	case "same-host 302":
		srv = newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			if !first.Swap(true) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
				return
			}
			_, _ = io.WriteString(w, answer)
		})
	case "bounce back":
		via = newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, back+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		})
		srv = newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			if !first.Swap(true) {
				http.Redirect(w, r, via.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
				return
			}
			_, _ = io.WriteString(w, answer)
		})
		back = srv.URL
	default:
		t.Fatalf("unknown shape %q", shape)
	}
	return srv, via
}

// TestDeliveryRedirectBackRefused: a caller's transport that follows a
// redirect which ends on the edge's own host (a 302 to another path, a
// bounce through another host) does not get its answer taken for the
// edge's: the call fails with a *TransportError naming the hosts.
func TestDeliveryRedirectBackRefused(t *testing.T) {
	t.Parallel()
	for _, shape := range redirectShapes {
		edge, via := newRedirectingServer(t, shape, `{"status":200,"requestId":"attacker"}`)
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: edge.host(), Insecure: true,
			HTTPClient: &http.Client{Transport: followingRT{&http.Client{}}}})
		require.NoError(t, err)
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x")}).Await(t.Context())
		var te *target.TransportError
		require.ErrorAs(t, err, &te, "%s: the answer was taken: %+v", shape, r)
		assert.Contains(t, err.Error(), "followed a redirect", shape)
		assert.EqualValues(t, 2, edge.hits.Load(), "%s: not retried", shape)
		if via != nil {
			assert.Contains(t, err.Error(), via.URL, "names the host the request went through")
		}
		require.NoError(t, c.Close(t.Context()))
	}
}

// TestArtifactRedirectBackRefused: the same for an artifact download: the
// artifact that came back is not installed.
func TestArtifactRedirectBackRefused(t *testing.T) {
	t.Parallel()
	for _, shape := range redirectShapes {
		cdn, _ := newRedirectingServer(t, shape, testArtifact)
		failed := make(chan error, 1)
		cfg := target.OnDeviceConfig{
			ArtifactLocation: cdn.URL + "/rules.json",
			OnArtifactDownloaded: func(string) {
				select {
				case failed <- errors.New("the redirected answer was installed"):
				default:
				}
			},
			OnArtifactDownloadFailed: func(_ string, err error) {
				select {
				case failed <- err:
				default:
				}
			},
		}
		p, err := target.NewArtifactProvider(cfg, "acme", "org", &http.Client{Transport: followingRT{&http.Client{}}})
		require.NoError(t, err)
		var got error
		select {
		case got = <-failed:
		case <-time.After(time.Minute):
			t.Fatal("no download failure reported")
		}
		p.Close()
		var te *target.TransportError
		require.ErrorAs(t, got, &te, shape)
		assert.Contains(t, got.Error(), "followed a redirect", shape)
		assert.Empty(t, p.Version(), "%s: nothing installed", shape)
	}
}

// wrappingRT wraps its transport's errors, as a retrying transport does:
// the *url.Error the inner http.Client returns is no longer on top.
type wrappingRT struct{ rt http.RoundTripper }

func (r wrappingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("retries exhausted: %w", err)
	}
	return resp, nil
}
