package target_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// FuzzWireFields: whatever request id, session id and environment id a
// caller passes, the call either fails with an *OptionError before sending
// anything, or reaches the edge over a real net/http transport with the
// header and query values exactly as validated. No value gets to the wire
// to fail there (and be retried), and none is changed on the way.
func FuzzWireFields(f *testing.F) {
	for _, s := range []struct {
		requestID, sessionID string
		env                  int64
	}{
		{"", "", 0}, {"req-1", "sess-1", 7}, {"a\r\nX-Evil: 1", "s", 0}, {"a\x00", "s\x7f", -1},
		{"é", "s/x", 1}, {" a", "s?x", 0}, {strings.Repeat("r", 129), strings.Repeat("s", 129), 0},
		{"a\tb", "a b", 0}, {"%0d%0a", "%0d%0a", 0}, {"ok", "&imsOrgId=evil", 0},
	} {
		f.Add(s.requestID, s.sessionID, s.env)
	}
	var sent struct {
		requestID, sessionID, orgID string
		n                           int
	}
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fuzz iterations run one at a time in a worker, and each call is
		// awaited, so no lock is needed.
		sent.n++
		sent.requestID = r.Header.Get("X-Request-Id")
		q := r.URL.Query()
		sent.sessionID, sent.orgID = q.Get("sessionId"), q.Get("imsOrgId")
		if len(q["sessionId"]) != 1 || len(q["imsOrgId"]) != 1 {
			sent.orgID = "duplicated query parameters"
		}
		_, _ = w.Write([]byte("{}"))
	}))
	f.Cleanup(edge.Close)
	const org = "org@AdobeOrg"
	c, err := target.NewClient(target.Config{
		Client: "acme", OrganizationID: org, ServerDomain: strings.TrimPrefix(edge.URL, "http://"), Insecure: true,
		Retry: target.RetryPolicy{MaxAttempts: 3},
	})
	require.NoError(f, err)
	f.Cleanup(c.CloseIdleConnections)

	f.Fuzz(func(t *testing.T, requestID, sessionID string, env int64) {
		before := sent.n
		req := target.DeliveryRequest{RequestID: requestID, EnvironmentID: env,
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "m"}}}}
		res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: sessionID}).Await(t.Context())
		if err != nil {
			var oe *target.OptionError
			require.True(t, errors.As(err, &oe), "only option errors, got %v", err)
			assert.Equal(t, before, sent.n, "nothing sent")
			badID := requestID != "" && !target.ValidRequestID(requestID)
			badSession := sessionID != "" && !target.ValidSessionID(sessionID)
			assert.True(t, badID || badSession || env < 0, "rejected a valid call: %v", err)
			return
		}
		require.Equal(t, before+1, sent.n, "one request, no retry")
		if requestID != "" {
			assert.True(t, target.ValidRequestID(requestID))
			assert.Equal(t, requestID, sent.requestID, "the header as given")
		}
		assert.Equal(t, res.Request.RequestID, sent.requestID)
		assert.GreaterOrEqual(t, env, int64(0))
		if sessionID != "" {
			assert.Equal(t, sessionID, sent.sessionID, "the session id as given")
		}
		assert.Equal(t, org, sent.orgID)
	})
}

// wireRecorder is a transport that answers in process and keeps the URL and
// headers of every request handed to it, as net/http would send them.
type wireRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.reqs = append(w.reqs, r.Clone(context.Background()))
	w.mu.Unlock()
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	if r.URL.Host == "assets.adobetarget.com" {
		_, _ = io.WriteString(rec, `{"x-geo-country-code":"US"}`)
	} else {
		_, _ = io.WriteString(rec, `{}`)
	}
	return rec.Result(), nil
}

func (w *wireRecorder) requests() []*http.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reqs)
}

// FuzzHeaderAndURLFields: every value that becomes a header, a query
// parameter or a part of a URL (Config.ServerDomain, the geo IP address
// sent as X-Forwarded-For, the location hint, the session id, tntId and
// cluster taken from the mbox cookie) is either refused before anything is
// sent (a *ConfigError, an *OptionError) or reaches the transport as a
// valid header value and a URL that parses back to the same host and
// query. Server-side and on-device calls (geo lookup, notification) alike.
func FuzzHeaderAndURLFields(f *testing.F) {
	for _, s := range [][4]string{
		{"edge.example.com", "1.2.3.4", "35", "session#s1#1999999999|PC#t1.35_0#1999999999"},
		{"[fe80::1%eth0]", "fe80::1%a\r\nX-Evil: 1", "35\r\n", "session#s\r\n#1999999999|PC#t.a\r\nb_0#1999999999"},
		{"[1.2.3.4]", "::ffff:1.2.3.4", "a-b", "PC#t.x_0#1999999999"},
		{"[::1]:8443", "1.2.3.4%x", "%0d", "session#%0d%0a#1999999999"},
		{"x.com:0", "2001:db8::1", "", "PC#t.35%0d_0#1999999999|session#a?b#1999999999"},
		{"x.com\r\n", "", "é", "session#é#1999999999"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	geoArtifact := []byte(strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1))
	f.Fuzz(func(t *testing.T, serverDomain, geoIP, hint, cookie string) {
		rec := &wireRecorder{}
		cfg := target.Config{Client: "acme", OrganizationID: "org", ServerDomain: serverDomain,
			HTTPClient: &http.Client{Transport: rec}}
		c, err := target.NewClient(cfg)
		if err != nil {
			var ce *target.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "ServerDomain", ce.Field)
			cfg.ServerDomain = ""
			c, err = target.NewClient(cfg)
			require.NoError(t, err)
		} else if serverDomain != "" {
			u, err := url.Parse("https://" + serverDomain + "/rest/v1/delivery")
			require.NoError(t, err, "accepted ServerDomain %q", serverDomain)
			require.Equal(t, serverDomain, u.Host)
		}
		req := heroRequest("gold")
		req.ID = nil
		if geoIP != "" {
			req.Context = &target.Context{Channel: target.ChannelWeb, Geo: &target.Geo{IPAddress: geoIP}}
		}
		opts := target.GetOffersOptions{Request: req, TargetCookie: cookie, TargetLocationHint: hint}
		_, err = c.GetOffers(t.Context(), opts).Await(t.Context())
		checkWire(t, err, rec, geoIP)

		cfg.ServerDomain = ""
		cfg.DecisioningMethod = target.OnDevice
		cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: geoArtifact}
		rec = &wireRecorder{}
		cfg.HTTPClient = &http.Client{Transport: rec}
		od, err := target.NewClient(cfg)
		require.NoError(t, err)
		if geoIP != "" {
			// Without a geo lookup the decision needs none; keep the
			// address alone so that the lookup happens.
			opts.Request.Context.Geo = &target.Geo{IPAddress: geoIP}
		}
		_, err = od.GetOffers(t.Context(), opts).Await(t.Context())
		od.Close(context.Background()) // waits for the notification
		checkWire(t, err, rec, geoIP)
	})
}

func checkWire(t *testing.T, err error, rec *wireRecorder, geoIP string) {
	t.Helper()
	reqs := rec.requests()
	if err != nil {
		var oe *target.OptionError
		require.ErrorAs(t, err, &oe, "only option errors")
		require.Empty(t, reqs, "nothing sent after %v", err)
		return
	}
	if geoIP != "" {
		a, perr := netip.ParseAddr(geoIP)
		require.NoError(t, perr, "accepted geo IP %q", geoIP)
		require.Empty(t, a.Zone(), "accepted geo IP %q", geoIP)
	}
	for _, r := range reqs {
		for name, vs := range r.Header {
			require.True(t, validFieldValue(name) && !strings.ContainsAny(name, " \t:"), "header name %q", name)
			for _, v := range vs {
				require.True(t, validFieldValue(v), "header %s: %q", name, v)
			}
		}
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			require.Equal(t, geoIP, xff)
		}
		back, err := url.Parse(r.URL.String())
		require.NoError(t, err, "URL %q", r.URL)
		require.Equal(t, r.URL.Host, back.Host)
		require.Equal(t, r.URL.RawQuery, back.RawQuery)
		require.NotContains(t, r.URL.Host, "%", "host %q", r.URL.Host)
		require.True(t, strings.Trim(r.URL.Host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == "", "host %q", r.URL.Host)
		for _, vs := range back.Query() {
			for _, v := range vs {
				require.True(t, validFieldValue(v), "query value %q", v)
			}
		}
	}
}

// validFieldValue is RFC 9110's field-value: no control character but tab.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}
