package target_test

// Red team of rcperf4: reproductions of findings. A test that fails on the
// branch is skipped unless RT_RUN_FAILING=1, to keep the package green.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestRTSchemeMismatchKept: an https client pointed at a plain-HTTP edge
// (Insecure forgotten, or an http-only proxy) failed on main with
// net/http's http.ErrSchemeMismatch ("server gave HTTP response to HTTPS
// client"), which http.Client.Do makes out of the transport's
// tls.RecordHeaderError. Client.send now skips Do for the client's own
// transport and returns "tls: first record does not look like a TLS
// handshake": errors.Is(err, http.ErrSchemeMismatch) no longer holds.
// Passes on main, fails on rcperf4.
func TestRTSchemeMismatchKept(t *testing.T) {
	if os.Getenv("RT_RUN_FAILING") == "" {
		t.Skip("red team: reproduces finding 1 (set RT_RUN_FAILING=1)")
	}
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
