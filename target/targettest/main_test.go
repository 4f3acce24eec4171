package targettest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// setup starts an edge for one test and closes it when the test ends.
func setup(t *testing.T, cfg targettest.Config) *targettest.Server {
	t.Helper()
	srv := targettest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// setupTLS is setup over HTTPS when useTLS is set, for tests run both ways.
func setupTLS(t *testing.T, cfg targettest.Config, useTLS bool) *targettest.Server {
	t.Helper()
	if !useTLS {
		return setup(t, cfg)
	}
	srv := targettest.NewTLSServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// deliveryURL is the edge's Delivery URL with the required query.
func deliveryURL(srv *targettest.Server) string {
	q := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"session-1"}}
	return srv.URL + targettest.DeliveryPath + "?" + q.Encode()
}

// post sends body (a []byte, string or value to encode) to rawURL with the
// edge's client and returns the answer with its body read.
func post(t *testing.T, srv *targettest.Server, rawURL string, body any) (*http.Response, []byte) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, got
}

// deliver posts a valid request and decodes the 200 answer.
func deliver(t *testing.T, srv *targettest.Server, req *target.DeliveryRequest) *target.DeliveryResponse {
	t.Helper()
	resp, body := post(t, srv, deliveryURL(srv), req)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	var out target.DeliveryResponse
	require.NoError(t, json.Unmarshal(body, &out), "body: %s", body)
	return &out
}

func web() *target.Context { return &target.Context{Channel: target.ChannelWeb} }
