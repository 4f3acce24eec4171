package target_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestSchemeMismatchKept: an https client pointed at a plain-HTTP edge
// (Insecure forgotten, or an http-only proxy) fails with a TransportError
// that matches http.ErrSchemeMismatch ("server gave HTTP response to HTTPS
// client"), as http.Client.Do reports it, although the client's own
// transport is called without Do.
func TestSchemeMismatchKept(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	c, err := target.NewClient(target.Config{Client: "p", OrganizationID: "org",
		ServerDomain: strings.TrimPrefix(srv.URL, "http://")})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
	var te *target.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, errors.Is(err, http.ErrSchemeMismatch), "got %v", err)
}
