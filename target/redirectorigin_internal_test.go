package target

import (
	"io"
	"net/http"
	"net/http/httptest"
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
