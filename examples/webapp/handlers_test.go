package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// site is the sample app on a local edge, and a browser for it: an HTTP
// client with a cookie jar, so cookies go back as a browser sends them.
type site struct {
	edge    *targettest.Server
	url     string
	browser *http.Client
}

func setup(t *testing.T) *site {
	t.Helper()
	cfg := demoEdge()
	cfg.Latency = targettest.Latency{} // the tests need the answers, not the wait
	edge := targettest.NewServer(cfg)
	t.Cleanup(edge.Close)
	c, err := target.NewClient(edge.ClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	srv := httptest.NewServer((&app{client: c, log: slog.New(slog.DiscardHandler), edge: edge.URL}).routes())
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &site{edge: edge, url: srv.URL, browser: &http.Client{Jar: jar}}
}

// get fetches path and decodes its JSON answer, checking the status.
func (s *site) get(t *testing.T, path string, status int) map[string]any {
	t.Helper()
	resp, err := s.browser.Get(s.url + path)
	require.NoError(t, err)
	return decode(t, resp, status)
}

func (s *site) post(t *testing.T, path, body string, status int) map[string]any {
	t.Helper()
	resp, err := s.browser.Post(s.url+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	return decode(t, resp, status)
}

func decode(t *testing.T, resp *http.Response, status int) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "%s", data)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var v map[string]any
	require.NoError(t, json.Unmarshal(data, &v), "%s", data)
	return v
}

func (s *site) cookies(t *testing.T) map[string]string {
	t.Helper()
	u, err := url.Parse(s.url)
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range s.browser.Jar.Cookies(u) {
		out[c.Name] = c.Value
	}
	return out
}

// at walks a decoded JSON value along keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "not an object at %q", k)
			v = m[k]
		case int:
			a, ok := v.([]any)
			require.True(t, ok, "not an array at %d", k)
			require.Greater(t, len(a), k)
			v = a[k]
		}
	}
	return v
}

func TestCookiesCarryTheVisitorAcrossRequests(t *testing.T) {
	t.Parallel()
	s := setup(t)

	first := s.get(t, "/executeMboxes?mbox=hero", http.StatusOK)
	tntID := at(t, first, "response", "id", "tntId").(string)
	jar := s.cookies(t)
	require.Contains(t, jar, target.MboxCookie)
	require.Contains(t, jar, target.LocationHintCookie)
	assert.Contains(t, jar[target.MboxCookie], "PC#"+tntID+"#", "the mbox cookie holds the visitor's profile id")
	assert.Equal(t, targettest.DefaultCluster, jar[target.LocationHintCookie])

	s.get(t, "/prefetchMboxes?mbox=banner", http.StatusOK)
	reqs := s.edge.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Query.Get("sessionId"), reqs[1].Query.Get("sessionId"), "the session goes on")
	require.NotNil(t, reqs[1].Delivery.ID)
	assert.Equal(t, tntID, reqs[1].Delivery.ID.TntID, "the profile id comes back from the cookie")
	assert.Equal(t, "mboxedge"+targettest.DefaultCluster+".tt.omtrdc.net", reqs[1].Host,
		"the second call goes to the visitor's edge cluster, from the mboxEdgeCluster cookie")
	// The entry's expiry moves on with each answer (and may cross a
	// second between the two): only the session id must stay.
	sessionOf := func(mbox string) string {
		f := strings.SplitN(mbox, "#", 3)
		require.Len(t, f, 3, mbox)
		return f[0] + "#" + f[1]
	}
	assert.Equal(t, sessionOf(jar[target.MboxCookie]), sessionOf(s.cookies(t)[target.MboxCookie]), "the session entry is the same")
}

// TestParallelPageForFirstTimeVisitor: a page that makes its calls in
// parallel gives a first-time visitor one session, one tntId and one pair
// of cookies; the next page carries them on every call.
func TestParallelPageForFirstTimeVisitor(t *testing.T) {
	t.Parallel()
	s := setup(t)
	v := s.get(t, "/page?mbox=hero,banner,nothing,hero2", http.StatusOK)
	assert.Equal(t, "<h2>Winter sale: 20% off</h2>", at(t, v, "content", "hero"))
	assert.Nil(t, at(t, v, "content", "nothing"), "an mbox without an offer renders its default")
	assert.Equal(t, "dark", v["theme"])

	reqs := s.edge.Requests()
	require.Len(t, reqs, 5)
	sid := reqs[0].Query.Get("sessionId")
	assert.Equal(t, sid, v["sessionId"])
	jar := s.cookies(t)
	tnt := ""
	for i, rec := range reqs {
		assert.Equal(t, sid, rec.Query.Get("sessionId"), "request %d", i)
		if i == 0 {
			assert.Nil(t, rec.Delivery.ID, "the first call establishes the visitor")
			continue
		}
		require.NotNil(t, rec.Delivery.ID, "request %d", i)
		if tnt == "" {
			tnt = rec.Delivery.ID.TntID
		}
		assert.Equal(t, tnt, rec.Delivery.ID.TntID, "request %d: one tntId", i)
	}
	assert.Contains(t, jar[target.MboxCookie], "session#"+sid+"#")
	assert.Contains(t, jar[target.MboxCookie], "PC#"+tnt+"#")
	assert.Equal(t, targettest.DefaultCluster, jar[target.LocationHintCookie])

	// The second page: every call carries the identity at once.
	s.get(t, "/page?mbox=hero,banner", http.StatusOK)
	for i, rec := range s.edge.Requests()[5:] {
		assert.Equal(t, sid, rec.Query.Get("sessionId"), "second page, request %d", i)
		require.NotNil(t, rec.Delivery.ID, "second page, request %d", i)
		assert.Equal(t, tnt, rec.Delivery.ID.TntID, "second page, request %d", i)
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path  string
		check func(t *testing.T, v map[string]any)
	}{
		{"/executePageLoad", func(t *testing.T, v map[string]any) {
			assert.Equal(t, "<p>Welcome back</p>", at(t, v, "response", "execute", "pageLoad", "options", 0, "content"))
		}},
		{"/executeMboxes?mbox=hero,flags", func(t *testing.T, v map[string]any) {
			mboxes := at(t, v, "response", "execute", "mboxes").([]any)
			require.Len(t, mboxes, 2)
			assert.Equal(t, "hero", at(t, mboxes, 0, "name"))
			assert.NotContains(t, at(t, mboxes, 0, "options", 0), "eventToken", "executed options carry no event token")
		}},
		{"/executeMboxes?mbox=hero&mbox=banner", func(t *testing.T, v map[string]any) {
			assert.Len(t, at(t, v, "response", "execute", "mboxes"), 2, "repeated parameters count too")
		}},
		{"/prefetchMboxes?mbox=hero", func(t *testing.T, v map[string]any) {
			assert.NotEmpty(t, at(t, v, "response", "prefetch", "mboxes", 0, "options", 0, "eventToken"))
		}},
		{"/prefetchViews", func(t *testing.T, v map[string]any) {
			assert.Len(t, at(t, v, "response", "prefetch", "views"), 2, "every view")
		}},
		{"/prefetchViews?view=home", func(t *testing.T, v map[string]any) {
			views := at(t, v, "response", "prefetch", "views").([]any)
			require.Len(t, views, 1)
			assert.Equal(t, "home", at(t, views, 0, "name"))
		}},
		{"/getAttributes?mbox=flags", func(t *testing.T, v map[string]any) {
			assert.Equal(t, "dark", at(t, v, "attributes", "flags", "theme"))
			assert.Equal(t, true, at(t, v, "attributes", "flags", "newCheckout"))
		}},
	}
	for _, tt := range tests {
		for _, async := range []bool{false, true} {
			path := tt.path
			if async {
				path += map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + "async=true"
			}
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				s := setup(t)
				tt.check(t, s.get(t, path, http.StatusOK))
				assert.Contains(t, s.cookies(t), target.MboxCookie, "every page sets the visitor's cookies")
			})
		}
	}
}

func TestSendNotificationsOfPrefetchedContent(t *testing.T) {
	t.Parallel()
	s := setup(t)
	v := s.get(t, "/prefetchMboxes?mbox=hero", http.StatusOK)
	token := at(t, v, "response", "prefetch", "mboxes", 0, "options", 0, "eventToken").(string)

	body, err := json.Marshal(map[string]any{"notifications": []target.Notification{{
		ID: "n1", Type: target.MetricTypeDisplay, Tokens: []string{token},
		Mbox: &target.NotificationMbox{Name: "hero"},
	}}})
	require.NoError(t, err)
	got := s.post(t, "/sendNotifications", string(body), http.StatusOK)
	assert.Equal(t, "n1", at(t, got, "response", "notifications", 0, "id"))

	reqs := s.edge.Requests()
	require.Len(t, reqs, 2)
	sent := reqs[1].Delivery.Notifications
	require.Len(t, sent, 1)
	assert.Equal(t, []string{token}, sent[0].Tokens)
	require.NotNil(t, reqs[1].Delivery.ID)
	assert.Equal(t, at(t, v, "response", "id", "tntId"), reqs[1].Delivery.ID.TntID,
		"the notification is for the visitor of the cookie")
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"no mbox", "GET", "/executeMboxes", "", http.StatusBadRequest, "mbox query parameter"},
		{"empty mbox", "GET", "/prefetchMboxes?mbox=,", "", http.StatusBadRequest, "mbox query parameter"},
		{"attributes without mbox", "GET", "/getAttributes", "", http.StatusBadRequest, "mbox query parameter"},
		{"not JSON", "POST", "/sendNotifications", "{", http.StatusBadRequest, "notifications"},
		{"unknown field", "POST", "/sendNotifications", `{"notes":[]}`, http.StatusBadRequest, "notes"},
		{"no notifications", "POST", "/sendNotifications", `{"notifications":[]}`, http.StatusBadRequest, "otification"},
		{"notification without id", "POST", "/sendNotifications", `{"notifications":[{"type":"display"}]}`, http.StatusBadRequest, "ID"},
		{"too big", "POST", "/sendNotifications", `{"notifications":[` + strings.Repeat(" ", maxBody) + `]}`, http.StatusBadRequest, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.url+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			resp, err := s.browser.Do(req)
			require.NoError(t, err)
			v := decode(t, resp, tt.status)
			assert.Contains(t, v["error"], tt.says)
			assert.Empty(t, s.edge.Requests(), "nothing invalid reaches Target")
		})
	}
}

func TestWrongMethod(t *testing.T) {
	t.Parallel()
	s := setup(t)
	resp, err := s.browser.Get(s.url + "/sendNotifications")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestEdgeFailure(t *testing.T) {
	t.Parallel()
	for _, async := range []string{"false", "true"} {
		t.Run("async="+async, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			s.edge.ForceFault(targettest.FaultServerError, 1)
			v := s.get(t, "/executeMboxes?mbox=hero&async="+async, http.StatusBadGateway)
			assert.InDelta(t, 503, at(t, v, "targetStatus"), 0)
			assert.NotContains(t, s.cookies(t), target.MboxCookie, "no answer, no cookie")
		})
	}
}

// lockedBuffer is a bytes.Buffer for a server's log and a test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRun starts the command as go run would, on its local TLS edge, serves
// a page through it and stops it.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out lockedBuffer
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &out, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}

	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(page), "/executeMboxes?mbox=hero,flags")
	assert.Contains(t, string(page), "local edge at https://127.0.0.1:")

	resp, err = http.Get(base + "/getAttributes?mbox=flags")
	require.NoError(t, err)
	v := decode(t, resp, http.StatusOK)
	assert.InDelta(t, 24, at(t, v, "attributes", "flags", "searchResults"), 0)
	http.DefaultClient.CloseIdleConnections()

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "serving on http://127.0.0.1:")
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"-org", "x@AdobeOrg"}, io.Discard, nil)
	require.ErrorContains(t, err, "-client")
	err = run(t.Context(), []string{"-client", "acme"}, io.Discard, nil)
	var cfgErr *target.ConfigError
	require.ErrorAs(t, err, &cfgErr, "a client without an organization is refused by target.NewClient")
}

// TestRunOTel: with -otel a page's Target call is printed as a span under
// the page's server span, with its HTTP attempt, and the metrics are
// printed at exit.
func TestRunOTel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out lockedBuffer
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-otel"}, &out, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}
	resp, err := http.Get(base + "/executeMboxes?mbox=hero")
	require.NoError(t, err)
	decode(t, resp, http.StatusOK)
	http.DefaultClient.CloseIdleConnections()
	cancel()
	require.NoError(t, <-done)

	printed := out.String()
	for _, want := range []string{
		`"Name": "GET /executeMboxes"`,
		`"Name": "target.GetOffers"`,
		`"Name": "POST"`,
		`"Key": "url.full"`,
		"sessionId=REDACTED",
		`"Name": "target.client.call.duration"`,
		`"Name": "http.client.request.duration"`,
	} {
		assert.Contains(t, printed, want)
	}
}
