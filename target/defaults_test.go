package target_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestOwnTransportNegotiatesHTTP2 checks the default the package
// documentation argues for: the transport a Client makes for itself speaks
// HTTP/2 with a TLS edge that offers it, and HTTP/1.1 with one that does
// not. Only the trust of the edge's certificate is added to it.
func TestOwnTransportNegotiatesHTTP2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		http1Only bool
		proto     string
	}{{false, "HTTP/2.0"}, {true, "HTTP/1.1"}} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			srv := targettest.NewTLSServer(targettest.Config{Offers: offers, NoCluster: true, HTTP1Only: tc.http1Only})
			t.Cleanup(srv.Close)
			cfg := srv.ClientConfig()
			cfg.HTTPClient = nil
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			tr := target.OwnTransport(c)
			require.NotNil(t, tr)
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

			_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
			require.NoError(t, err, "the client reaches the edge over its own transport")

			q := "?imsOrgId=" + targettest.DefaultOrganizationID + "&sessionId=s1"
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+targettest.DeliveryPath+q, strings.NewReader(`{"context":{"channel":"web"}}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tc.proto, resp.Proto)
		})
	}
}

// TestSupplementalDataIDFormat: 16 upper-case hex digits, '-', 16 more,
// and every bit random (no two of a thousand alike, and every digit seen
// in both halves).
func TestSupplementalDataIDFormat(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var digits [2]map[byte]bool
	digits[0], digits[1] = map[byte]bool{}, map[byte]bool{}
	for range 1000 {
		id := target.NewSupplementalDataID()
		require.Regexp(t, sdid, id)
		require.False(t, seen[id], "repeated id %s", id)
		seen[id] = true
		for i := range 16 {
			digits[0][id[i]] = true
			digits[1][id[17+i]] = true
		}
	}
	assert.Len(t, digits[0], 16)
	assert.Len(t, digits[1], 16)
}
