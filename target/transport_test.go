package target_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// countingServer is an httptest server that counts its requests and
// remembers the last body it got.
type countingServer struct {
	*httptest.Server
	hits atomic.Int32
	body atomic.Value // string
}

func newCountingServer(t *testing.T, tlsServer bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		cs.body.Store(string(b))
		h(w, r)
	})
	if tlsServer {
		cs.Server = httptest.NewTLSServer(handler)
	} else {
		cs.Server = httptest.NewServer(handler)
	}
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(cs.URL, "https://"), "http://")
}

// TestRedirectsRefused: the edge's 3xx, to another host, over plain http
// or back to itself, fails the call with an *APIError carrying the status;
// nothing is sent to the Location, the redirect's body is not echoed, the
// call is not retried, and a caller-supplied HTTPClient gets the same rule
// without its own CheckRedirect being changed.
func TestRedirectsRefused(t *testing.T) {
	t.Parallel()
	const visitor = "visitor-tnt-123"
	evil := newCountingServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":200,"requestId":"evil"}`)
	})
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, caller := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d caller client %v", status, caller), func(t *testing.T) {
				t.Parallel()
				// The caller's client speaks TLS to the edge and would follow
				// redirects; the SDK's own client speaks plain http.
				var edge *countingServer
				edge = newCountingServer(t, caller, func(w http.ResponseWriter, r *http.Request) {
					to := evil.URL + "/steal"
					if status == 303 {
						to = edge.URL + r.URL.RequestURI() // a loop
					}
					w.Header().Set("Location", to)
					w.WriteHeader(status)
					_, _ = io.WriteString(w, `{"status":200,"message":"body-of-the-redirect"}`)
				})
				cfg := target.Config{
					Client: "acme", OrganizationID: "org", ServerDomain: edge.host(), Insecure: !caller,
					Retry: target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond},
				}
				var hc *http.Client
				if caller {
					hc = edge.Client()
					hc.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
					cfg.HTTPClient = hc
				}
				c, err := target.NewClient(cfg)
				require.NoError(t, err)
				t.Cleanup(c.CloseIdleConnections)
				before := evil.hits.Load()
				_, err = c.GetOffers(t.Context(), target.GetOffersOptions{
					Request: target.DeliveryRequest{ID: &target.VisitorID{TntID: visitor}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "a"}}}},
				}).Await(t.Context())
				var api *target.APIError
				require.ErrorAs(t, err, &api)
				assert.Equal(t, status, api.Status)
				assert.Equal(t, 1, api.Attempts, "a redirect is not retried")
				assert.EqualValues(t, 1, edge.hits.Load())
				assert.Equal(t, before, evil.hits.Load(), "nothing went to the Location")
				assert.NotContains(t, err.Error(), "body-of-the-redirect")
				assert.NotContains(t, err.Error(), "steal")
				if caller {
					assert.NotNil(t, hc.CheckRedirect)
					assert.Nil(t, hc.CheckRedirect(nil, nil), "the caller's client keeps its own policy")
				}
			})
		}
	}
}

// TestRedirectDowngrade: from an https edge, a redirect to an http URL
// sends nothing in clear text, with a caller-supplied client that leaves
// CheckRedirect to net/http's default (follow up to 10).
func TestRedirectDowngrade(t *testing.T) {
	t.Parallel()
	plain := newCountingServer(t, false, func(http.ResponseWriter, *http.Request) {})
	edge := newCountingServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/rest/v1/delivery", http.StatusPermanentRedirect)
	})
	cfg := target.Config{Client: "acme", OrganizationID: "org", ServerDomain: edge.host(), HTTPClient: &http.Client{Transport: edge.Client().Transport}}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a"), SessionID: "sess-downgrade"}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusPermanentRedirect, api.Status)
	assert.Zero(t, plain.hits.Load(), "no request in clear text")
	assert.Nil(t, cfg.HTTPClient.CheckRedirect, "the caller's client is not changed")
}

// TestErrorKinds: each kind of failure is its exported type, with the
// request id sent, the host, the attempts and timings, unwrapping to the
// cause.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	t.Run("APIError", func(t *testing.T) {
		t.Parallel()
		var gotID atomic.Value
		h := func(w http.ResponseWriter, r *http.Request) {
			gotID.Store(r.Header.Get("X-Request-Id"))
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, `{"status":4021,"message":"upstream gone"}`)
		}
		srv := newCountingServer(t, false, h)
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: srv.host(), Insecure: true,
			Retry: target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
		require.NoError(t, err)
		t.Cleanup(c.CloseIdleConnections)
		req := offersRequest("a")
		req.RequestID = "req-42"
		_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
		var api *target.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, http.StatusBadGateway, api.Status)
		assert.Equal(t, 4021, api.EdgeStatus)
		assert.Equal(t, "upstream gone", api.Message)
		assert.Equal(t, "req-42", api.RequestID)
		assert.Equal(t, "req-42", gotID.Load())
		assert.Equal(t, srv.host(), api.Host)
		assert.Equal(t, 3, api.Attempts)
		assert.Equal(t, 3, api.Timings.Attempts)
		assert.Positive(t, api.Timings.Total)
		assert.Contains(t, err.Error(), "req-42")
		assert.EqualValues(t, 3, srv.hits.Load())
	})
	t.Run("TransportError reset", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{}, func(cfg *target.Config) {
			cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}
		})
		srv.ForceFault(targettest.FaultReset, 2)
		req := offersRequest("a")
		req.RequestID = "req-reset"
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
		var te *target.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "req-reset", te.RequestID)
		assert.Equal(t, srv.Addr(), te.Host)
		assert.Equal(t, 2, te.Attempts, "a network error before any answer is retried")
		assert.Equal(t, 2, te.Timings.Attempts)
		var op *net.OpError
		assert.ErrorAs(t, err, &op)
		assert.Len(t, srv.Requests(), 2)
	})
	t.Run("TransportError deadline", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, targettest.Config{Latency: targettest.Latency{Fixed: time.Minute}}, func(cfg *target.Config) {
			cfg.Timeout = 50 * time.Millisecond
		})
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *target.TransportError
		require.ErrorAs(t, err, &te)
		assert.NotEmpty(t, te.RequestID)
		assert.Equal(t, 1, te.Attempts)
		assert.Positive(t, te.Timings.Total)
	})
	t.Run("DecodeError", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{})
		srv.ForceFault(targettest.FaultMalformedJSON, 1)
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		var de *target.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, http.StatusOK, de.Status)
		assert.NotEmpty(t, de.RequestID)
		assert.Equal(t, srv.Addr(), de.Host)
		assert.Equal(t, 1, de.Attempts)
		assert.Positive(t, de.Size)
		assert.NotNil(t, errors.Unwrap(err))
	})
}

// TestNotOneObject: a 2xx body that is JSON but not one object is a
// DecodeError, never an empty success.
func TestNotOneObject(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"null", " null ", "[]", `"x"`, "1", "true", "{}]", "{}}", `{} {}`, "null]"} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			c := rawClient(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) })
			res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
			var de *target.DecodeError
			require.ErrorAs(t, err, &de, "got %+v", res)
		})
	}
}

// TestInvalidWireFields: a request id that cannot be a header value and a
// negative environment id are *OptionErrors, and nothing is sent.
func TestInvalidWireFields(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, false, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") })
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: srv.host(), Insecure: true,
		Retry: target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	tests := []struct {
		name  string
		edit  func(*target.DeliveryRequest)
		field string
	}{
		{"CRLF", func(r *target.DeliveryRequest) { r.RequestID = "a\r\nX-Evil: 1" }, "Request.RequestID"},
		{"LF", func(r *target.DeliveryRequest) { r.RequestID = "a\nb" }, "Request.RequestID"},
		{"NUL", func(r *target.DeliveryRequest) { r.RequestID = "a\x00b" }, "Request.RequestID"},
		{"DEL", func(r *target.DeliveryRequest) { r.RequestID = "a\x7fb" }, "Request.RequestID"},
		{"space", func(r *target.DeliveryRequest) { r.RequestID = " a" }, "Request.RequestID"},
		{"non-ASCII", func(r *target.DeliveryRequest) { r.RequestID = "é" }, "Request.RequestID"},
		{"too long", func(r *target.DeliveryRequest) { r.RequestID = strings.Repeat("a", 129) }, "Request.RequestID"},
		{"negative environment", func(r *target.DeliveryRequest) { r.EnvironmentID = -1 }, "Request.EnvironmentID"},
		{"geo address not an IP", func(r *target.DeliveryRequest) {
			r.Context = &target.Context{Geo: &target.Geo{IPAddress: "1.2.3.4\r\nX-Evil: 1"}}
		}, "Request.Context.Geo.IPAddress"},
	}
	for _, tt := range tests {
		req := offersRequest("a")
		tt.edit(&req)
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
		var oe *target.OptionError
		if assert.ErrorAs(t, err, &oe, tt.name) {
			assert.Equal(t, tt.field, oe.Field, tt.name)
		}
	}
	assert.Zero(t, srv.hits.Load(), "nothing was sent")
	req := offersRequest("a")
	req.RequestID = strings.Repeat("a", 128)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err, "128 characters is the spec's limit")
}

// errTransport fails every request with a fixed error.
type errTransport struct {
	err  error
	hits atomic.Int32
}

func (e *errTransport) RoundTrip(*http.Request) (*http.Response, error) {
	e.hits.Add(1)
	return nil, e.err
}

// TestRetryOnlyNetworkErrors: a transport error that is not the network
// (a proxy refusing, a bad header) is not retried; a dial error is.
func TestRetryOnlyNetworkErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		err      error
		attempts int32
	}{
		{"refused request", errors.New("net/http: invalid header field value for \"X-Request-Id\""), 1},
		{"dial error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, 3},
		{"EOF before the answer", io.EOF, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := &errTransport{err: tt.err}
			c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", HTTPClient: &http.Client{Transport: rt},
				Retry: target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
			require.NoError(t, err)
			_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
			var te *target.TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.attempts, rt.hits.Load())
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

// TestRetryAfterOverflow: a Retry-After too large for a Duration never
// wraps into a short wait: the call gives up at once with the 429.
func TestRetryAfterOverflow(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"10000000000", "18446744074", "99999999999999999999999"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := newCountingServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", v)
				w.WriteHeader(http.StatusTooManyRequests)
			})
			c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: srv.host(), Insecure: true,
				Retry: target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond}})
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)
			_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
			var api *target.APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, http.StatusTooManyRequests, api.Status)
			assert.Greater(t, api.RetryAfter, 100*365*24*time.Hour, "saturated, not wrapped")
			assert.EqualValues(t, 1, srv.hits.Load(), "no retry: the wait is past the deadline")
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"0":                             0,
		"-1":                            0,
		"+5":                            0,
		" 5":                            0,
		"1.5":                           0,
		"10000000000":                   time.Duration(1<<63 - 1),
		"18446744074":                   time.Duration(1<<63 - 1),
		"9223372036":                    9223372036 * time.Second,
		"9223372037":                    time.Duration(1<<63 - 1),
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,
	} {
		assert.Equal(t, want, target.ParseRetryAfter(v, now), "%q", v)
	}
}

// TestMalformedCookieNotLogged: a malformed mbox cookie entry is logged by
// the kind of problem, never with its name or value.
func TestMalformedCookieNotLogged(t *testing.T) {
	t.Parallel()
	const tnt = "secret-tnt-in-name"
	var buf syncBuffer
	c, _ := setup(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for _, cookie := range []string{"PC%23" + tnt + "#x#bad", "PC#" + tnt + "%zz#1", tnt + "%zz#v#1", "PC#" + tnt} {
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a"), TargetCookie: cookie}).Await(t.Context())
		require.NoError(t, err)
	}
	out := buf.String()
	assert.Contains(t, out, "malformed")
	assert.NotContains(t, out, tnt)
}

// TestOwnTransportDialTimings: with the client's own transport (no
// HTTPClient), whose attempts add their DNS and connect hooks only when
// it dials, a call that opens a connection has both phases, and the next
// call on that connection has none.
func TestOwnTransportDialTimings(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	cfg := srv.ClientConfig()
	cfg.HTTPClient, cfg.ServerDomain = nil, "localhost:"+port
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	// Without a cluster in the answers the calls stay on localhost.
	call := func() target.Timings {
		res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s1"}).Await(t.Context())
		require.NoError(t, err)
		return res.Timings
	}
	first := call()
	assert.False(t, first.ConnReused)
	assert.Positive(t, first.DNS, "a dial to a name records its lookup")
	assert.Positive(t, first.Connect, "a dial records its connect")
	for range 3 {
		tm := call()
		if tm.ConnReused {
			assert.Zero(t, tm.DNS+tm.Connect+tm.TLS, "a reused connection has no dial phases")
		}
	}
}

// TestWrappedTransportOddAnswers covers what http.Client checks of a
// RoundTripper's answer, for a Config.WrapTransport behind the client's
// own gate, whose requests do not go through http.Client.Do: a nil
// response without an error, and a nil Body, fail the call with a
// *TransportError naming the problem (or, for a nil Body with no
// content, read as an empty one), never a panic.
func TestWrappedTransportOddAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		answer func(*http.Request) (*http.Response, error)
		status int    // of a call that succeeds
		errMsg string // of one that fails
	}{
		{name: "nil response", answer: func(*http.Request) (*http.Response, error) { return nil, nil },
			errMsg: "returned a nil *Response with a nil error"},
		{name: "nil body with content", answer: func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, ContentLength: 5, Request: r, Header: http.Header{}}, nil
		}, errMsg: "content length 5 but a nil Body"},
		{name: "nil body, no content", answer: func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusNoContent, Request: r, Header: http.Header{}}, nil
		}, status: http.StatusNoContent},
		{name: "response and error", answer: func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, errors.New("broken wrapper")
		}, errMsg: "broken wrapper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := target.NewClient(target.Config{
				Client: "wrap", OrganizationID: "org", ServerDomain: "edge.example", Insecure: true,
				WrapTransport: func(http.RoundTripper) http.RoundTripper { return oddTransport(tc.answer) },
			})
			require.NoError(t, err)
			r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
			if tc.errMsg != "" {
				var te *target.TransportError
				require.ErrorAs(t, err, &te)
				assert.Contains(t, err.Error(), tc.errMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.status, r.Status)
		})
	}
}

type oddTransport func(*http.Request) (*http.Response, error)

func (f oddTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return f(r)
}
