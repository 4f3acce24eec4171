package targettest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  targettest.Config
		want string // in the error; empty for a valid config
	}{
		{"zero", targettest.Config{}, ""},
		{"bad client", targettest.Config{Client: "a b"}, "Config.Client"},
		{"cluster and no cluster", targettest.Config{Cluster: "35", NoCluster: true}, "Config.Cluster"},
		{"cluster not a number", targettest.Config{Cluster: "x1"}, "Config.Cluster"},
		{"negative latency", targettest.Config{Latency: targettest.Latency{Fixed: -1}}, "Latency.Fixed"},
		{"p99 below median", targettest.Config{Latency: targettest.Latency{Median: 2, P99: 1}}, "Latency.P99"},
		{"p99 without median", targettest.Config{Latency: targettest.Latency{P99: 1}}, "Latency.Median"},
		{"probability above 1", targettest.Config{Faults: targettest.Faults{Reset: 1.5}}, "Faults.Reset"},
		{"probability NaN", targettest.Config{Faults: targettest.Faults{SlowBody: nan()}}, "Faults.SlowBody"},
		{"probabilities add up above 1", targettest.Config{Faults: targettest.Faults{Reset: 0.6, ServerError: 0.6}}, "add up"},
		{"status not 5xx", targettest.Config{Faults: targettest.Faults{ServerErrorStatus: 404}}, "ServerErrorStatus"},
		{"bad offer content", targettest.Config{Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
			"m": {Options: []target.Option{{Content: json.RawMessage(`{`)}}},
		}}}, `Offers.Mboxes["m"].Options[0].Content`},
		{"empty view name", targettest.Config{Offers: targettest.Offers{Views: map[string]targettest.Offer{"": {}}}}, "empty view name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.PanicsWithError(t, err.Error(), func() { targettest.NewServer(tt.cfg) })
		})
	}
}

func nan() float64 { zero := 0.0; return zero / zero }

func TestClientConfig(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		srv := targettest.NewServer(targettest.Config{Client: "acme", OrganizationID: "o@AdobeOrg"})
		if tlsOn {
			srv.Close()
			srv = targettest.NewTLSServer(targettest.Config{Client: "acme", OrganizationID: "o@AdobeOrg"})
		}
		cfg := srv.ClientConfig()
		assert.Equal(t, "acme", cfg.Client)
		assert.Equal(t, "o@AdobeOrg", cfg.OrganizationID)
		assert.Equal(t, srv.Addr(), cfg.ServerDomain)
		assert.Equal(t, !tlsOn, cfg.Insecure)
		assert.Same(t, srv.HTTPClient(), cfg.HTTPClient)
		assert.True(t, strings.HasSuffix(srv.URL, "://"+cfg.ServerDomain))
		_, err := target.NewClient(cfg)
		require.NoError(t, err)
		srv.Close()
	}
}

// TestTLSServerHTTP1Only checks the HTTP/1.1-only edge: its handshake
// offers no HTTP/2, and a reset fault drops the TCP connection under TLS.
func TestTLSServerHTTP1Only(t *testing.T) {
	t.Parallel()
	srv := targettest.NewTLSServer(targettest.Config{HTTP1Only: true})
	t.Cleanup(srv.Close)
	resp, body := post(t, srv, deliveryURL(srv), validBody)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "HTTP/1.1", resp.Proto)

	// A client that asks for HTTP/2 is refused it too.
	tr := srv.HTTPClient().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, deliveryURL(srv), strings.NewReader(validBody))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err = (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, "HTTP/1.1", resp.Proto)
	assert.Equal(t, "http/1.1", resp.TLS.NegotiatedProtocol)

	srv.ForceFault(targettest.FaultReset, 1)
	_, _, err = rawPost(t, srv)
	require.ErrorIs(t, err, syscall.ECONNRESET)
}

func TestTLSServerRoutesEveryHostToTheEdge(t *testing.T) {
	t.Parallel()
	srv := targettest.NewTLSServer(targettest.Config{})
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.URL, "https://127.0.0.1:"))
	require.NotNil(t, srv.Certificate())

	q := "?imsOrgId=" + url.QueryEscape(targettest.DefaultOrganizationID) + "&sessionId=s"
	for _, base := range []string{
		srv.URL,
		"https://mboxedge35.tt.omtrdc.net",
		"https://testclient.tt.omtrdc.net:443",
		"https://localhost:1",
	} {
		resp, body := post(t, srv, base+targettest.DeliveryPath+q, `{"context":{"channel":"web"}}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", base, body)
		require.NotNil(t, resp.TLS)
		assert.NotEmpty(t, resp.TLS.VerifiedChains, "%s: the certificate is verified, not skipped", base)
		assert.Equal(t, "HTTP/2.0", resp.Proto, "%s: the TLS edge negotiates HTTP/2", base)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "mboxedge35.tt.omtrdc.net", reqs[1].Host, "the Host header shows where the client meant to go")
	assert.Equal(t, "testclient.tt.omtrdc.net:443", reqs[2].Host)

	// Faults work under HTTP/2 too: a reset resets the call's stream, and
	// the connection goes on serving the next call.
	conns := srv.Stats().Connections
	srv.ForceFault(targettest.FaultReset, 1)
	resp, _, err := rawPost(t, srv)
	require.Error(t, err, "a reset stream gives no answer")
	require.Nil(t, resp)
	resp, _, err = rawPost(t, srv)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, conns, srv.Stats().Connections, "one HTTP/2 connection carried every call")

	// A client that does not trust the certificate is refused.
	plain := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(plain.CloseIdleConnections)
	_, err = plain.Post(srv.URL+targettest.DeliveryPath+q, "application/json", strings.NewReader(`{}`))
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)

	// The certificate is for the edge names only.
	cfg := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "example.com"}
	cfg.RootCAs.AddCert(srv.Certificate())
	conn, err := tls.Dial("tcp", srv.Addr(), cfg)
	if err == nil {
		conn.Close()
	}
	var hostErr x509.HostnameError
	require.ErrorAs(t, err, &hostErr)
}

func TestPlainServerRoutesEveryHostToTheEdge(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{})
	resp, body := post(t, srv, "http://mboxedge35.tt.omtrdc.net"+strings.TrimPrefix(deliveryURL(srv), srv.URL), `{"context":{"channel":"web"}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "mboxedge35.tt.omtrdc.net", srv.Requests()[0].Host)
	assert.Nil(t, srv.Certificate())
}

func TestRecordsRequests(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{RecordLimit: 3})
	body := `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a","index":1}]}}`
	post(t, srv, deliveryURL(srv)+"&version=1", body)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), r.Host)
	assert.Equal(t, targettest.DeliveryPath, r.Path)
	assert.Equal(t, url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"session-1"}, "version": {"1"}}, r.Query)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.JSONEq(t, body, string(r.Body))
	require.NotNil(t, r.Delivery)
	assert.Equal(t, []target.MboxRequest{{Index: 1, Name: "a"}}, r.Delivery.Execute.Mboxes)
	assert.Equal(t, targettest.NoFault, r.Fault)
	assert.False(t, r.Time.IsZero())

	post(t, srv, deliveryURL(srv), `not json`)
	assert.Nil(t, srv.Requests()[1].Delivery, "an undecodable body is kept raw only")

	for i := range 4 {
		post(t, srv, deliveryURL(srv), `{"requestId":"r`+string(rune('0'+i))+`","context":{"channel":"web"}}`)
	}
	reqs = srv.Requests()
	require.Len(t, reqs, 3, "only the most recent RecordLimit requests are kept")
	assert.Equal(t, "r1", reqs[0].Delivery.RequestID)
	assert.Equal(t, "r3", reqs[2].Delivery.RequestID)
	assert.EqualValues(t, 6, srv.Stats().Requests)

	srv.Reset()
	assert.Empty(t, srv.Requests())
	assert.Zero(t, srv.Stats().Requests)
}

func TestCountsConnections(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Latency: targettest.Latency{Fixed: 5 * time.Millisecond}})
	const parallel = 8
	for range 3 {
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				post(t, srv, deliveryURL(srv), `{"context":{"channel":"web"}}`)
			})
		}
		wg.Wait()
	}
	st := srv.Stats()
	assert.EqualValues(t, 3*parallel, st.Requests)
	assert.GreaterOrEqual(t, st.Connections, int64(1))
	assert.LessOrEqual(t, st.Connections, int64(parallel), "connections are reused across bursts")
	assert.Equal(t, st.Connections, st.OpenConnections, "idle connections stay open")

	srv.HTTPClient().CloseIdleConnections()
	require.Eventually(t, func() bool { return srv.Stats().OpenConnections == 0 }, 5*time.Second, time.Millisecond)
}

func TestCloseEndsRequestsInFlight(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Latency: targettest.Latency{Fixed: time.Hour}})
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.HTTPClient().Post(deliveryURL(srv), "application/json", strings.NewReader(`{"context":{"channel":"web"}}`))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return srv.Stats().Requests == 1 }, 5*time.Second, time.Millisecond)
	srv.Close() // would wait an hour if the latency did not end with the server
	require.Error(t, <-errc, "the request in flight gets no answer")
	srv.Close() // a second Close does nothing

	_, err := net.Dial("tcp", srv.Addr())
	require.Error(t, err, "the listener is closed")
}

func TestListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := setup(t, targettest.Config{Listener: ln})
	assert.Equal(t, "http://"+ln.Addr().String(), srv.URL)
	resp, _ := post(t, srv, deliveryURL(srv), `{"context":{"channel":"web"}}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{})
	big := `{"context":{"channel":"web"},"requestId":"` + strings.Repeat("x", 1<<20) + `"}`
	resp, body := post(t, srv, deliveryURL(srv), big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%.200s", body)
	var e target.UnexpectedError
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Contains(t, e.Message, "exceeds")
}
