package target

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeoLookupTransportFollowsRedirect: a geo lookup through a caller's
// transport that follows a redirect to another host fails with a
// *TransportError naming that host, and that host's geo is not used.
func TestGeoLookupTransportFollowsRedirect(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"x-geo-country-code":"US","x-geo-city":"SANFRANCISCO"}`)
	}))
	defer other.Close()
	geo := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/geo", http.StatusTemporaryRedirect)
	}))
	defer geo.Close()
	following := geo.Client()
	defer following.CloseIdleConnections()
	// The client's own copy refuses redirects (noRedirect); the caller's
	// transport, built on an http.Client, follows them out of its reach.
	hc := &http.Client{CheckRedirect: noRedirect, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		return following.Do(out)
	})}
	g, err := httpGeoLookup(hc, geo.URL+"/v1/geo")(t.Context(), "192.0.2.1")
	require.Nil(t, g, "the other host's geo is not used")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), other.URL, "names where the answer came from")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestGeoLookupRedirectBackRefused: a geo lookup whose caller's transport
// follows a redirect back to the geo host (another path of it, or through
// another host) fails with a *TransportError; the answer is not used.
func TestGeoLookupRedirectBackRefused(t *testing.T) {
	t.Parallel()
	const answer = `{"x-geo-country-code":"US","x-geo-city":"SANFRANCISCO"}`
	var bounced atomic.Bool
	var back string
	via := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, back+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer via.Close()
	geo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/geo":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case r.URL.Path == "/v1/bounce" && !bounced.Swap(true):
			http.Redirect(w, r, via.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		default:
			_, _ = io.WriteString(w, answer)
		}
	}))
	defer geo.Close()
	back = geo.URL
	following := &http.Client{}
	defer following.CloseIdleConnections()
	hc := &http.Client{CheckRedirect: noRedirect, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		return following.Do(out)
	})}
	for _, path := range []string{"/v1/geo", "/v1/bounce"} {
		g, err := httpGeoLookup(hc, geo.URL+path)(t.Context(), "192.0.2.1")
		require.Nil(t, g, "%s: the redirected answer is not used", path)
		var te *TransportError
		require.ErrorAs(t, err, &te, path)
		assert.Contains(t, err.Error(), "followed a redirect", path)
	}
}

// TestGeoLookupNestedURLErrorScrubbed: a geo lookup through a caller's
// transport built on an http.Client that cannot connect: neither
// *url.Error in the chain shows the location's query, in the text or
// through errors.As, and the network cause is still found.
func TestGeoLookupNestedURLErrorScrubbed(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	following := &http.Client{}
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := following.Do(out)
		if err != nil {
			// As a retrying transport would: the *url.Error is no longer
			// on top.
			err = fmt.Errorf("retries exhausted: %w", err)
		}
		return resp, err
	})}
	_, err = httpGeoLookup(hc, "http://"+addr+"/v1/geo?key=GEO-SECRET")(t.Context(), "192.0.2.1")
	require.Error(t, err)
	for _, v := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(v, err), "GEO-SECRET", v)
	}
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.NotContains(t, ue.Error(), "GEO-SECRET", "errors.As hands out a scrubbed copy")
	var op *net.OpError
	assert.ErrorAs(t, err, &op)
}
