package targettest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// onDeviceClient returns a client of srv deciding with method from the
// edge's artifact, ready, and a channel that receives the outcome of each
// display notification request.
func onDeviceClient(t *testing.T, srv *targettest.Server, method target.DecisioningMethod, location string) (*target.Client, <-chan error) {
	t.Helper()
	notified := make(chan error, 10)
	cfg := srv.ClientConfig()
	cfg.DecisioningMethod = method
	cfg.OnDevice = target.OnDeviceConfig{
		ArtifactLocation:    location,
		OnNotificationsSent: func(_ *target.Response, err error) { notified <- err },
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err)
	return c, notified
}

// countRequests counts the edge's recorded requests: artifact downloads,
// Delivery requests asking for decisions, and notification requests.
func countRequests(srv *targettest.Server) (artifacts, decisions, notifications int) {
	for _, r := range srv.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/rules.json"):
			artifacts++
		case r.Delivery != nil && (r.Delivery.Execute != nil || r.Delivery.Prefetch != nil):
			decisions++
		case r.Delivery != nil && len(r.Delivery.Notifications) > 0:
			notifications++
		}
	}
	return artifacts, decisions, notifications
}

// An on-device client against the edge's artifact decides locally what the
// edge answers server-side: the same options and metrics for execute and
// prefetch mboxes, views and the page load, with one artifact download,
// no Delivery request for the decision and one notification request with
// the tokens the edge gives prefetched options.
func TestArtifactOnDeviceDecisionsEqualTheEdges(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%t", useTLS), func(t *testing.T) {
			t.Parallel()
			srv := setupTLS(t, targettest.Config{Offers: offers}, useTLS)
			client, notified := onDeviceClient(t, srv, target.OnDevice, srv.ArtifactURL())

			req := target.DeliveryRequest{
				Execute: &target.ExecuteRequest{
					PageLoad: &target.RequestDetails{},
					Mboxes:   []target.MboxRequest{{Index: 1, Name: "hero"}, {Index: 2, Name: "flags"}},
				},
				Prefetch: &target.PrefetchRequest{
					Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}},
					Views:  []target.ViewRequest{{}},
				},
			}
			local, err := client.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "s1"}).Await(t.Context())
			require.NoError(t, err)
			assert.Equal(t, target.OnDevice, local.Meta.DecisioningMethod)
			assert.Equal(t, http.StatusOK, local.Status)
			assert.Empty(t, local.Meta.RemoteMboxes)
			require.NoError(t, <-notified)

			artifacts, decisions, notifications := countRequests(srv)
			assert.Equal(t, 1, artifacts)
			assert.Zero(t, decisions, "an on-device decision sends no Delivery request")
			assert.Equal(t, 1, notifications)

			remote, err := client.GetOffers(t.Context(), target.GetOffersOptions{
				Request: req, SessionID: "s1", DecisioningMethod: target.ServerSide,
			}).Await(t.Context())
			require.NoError(t, err)
			require.Equal(t, target.ServerSide, remote.Meta.DecisioningMethod)
			assert.Equal(t, content(remote.Response), content(local.Response))

			// The notification reports the executed mboxes' impressions with
			// the tokens the edge gives the same options when prefetched.
			var sent *target.DeliveryRequest
			for _, r := range srv.Requests() {
				if r.Delivery != nil && len(r.Delivery.Notifications) > 0 {
					sent = r.Delivery
				}
			}
			require.NotNil(t, sent)
			tokens := map[string][]string{}
			for _, n := range sent.Notifications {
				assert.Equal(t, target.MetricTypeDisplay, n.Type)
				if n.Mbox != nil {
					tokens[n.Mbox.Name] = n.Tokens
				}
			}
			assert.Equal(t, []string{remote.Response.Prefetch.Mboxes[0].Options[0].EventToken}, tokens["hero"])
			assert.Equal(t, []string{"given-token"}, tokens["flags"])
			assert.Contains(t, tokens, "target-global-mbox", "the page load's impression")
		})
	}
}

// locationContent is what a location answers, without what differs by
// method: on-device options carry response tokens, their content is
// re-encoded (objects' keys in another order), and prefetched mboxes carry
// no metrics (as from Adobe's on-device engines).
type locationContent struct {
	Name    string
	Options []target.Option
	Metrics []target.Metric
}

// content lists the locations of an answer in a comparable form.
func content(r *target.DeliveryResponse) []locationContent {
	var out []locationContent
	add := func(name string, opts []target.Option, metrics []target.Metric) {
		c := locationContent{Name: name, Metrics: metrics}
		for _, o := range opts {
			o.ResponseTokens = nil
			var v any
			if json.Unmarshal(o.Content, &v) == nil {
				o.Content, _ = json.Marshal(v) // keys sorted
			}
			c.Options = append(c.Options, o)
		}
		if len(c.Metrics) == 0 || strings.HasPrefix(name, "prefetch ") {
			c.Metrics = nil
		}
		out = append(out, c)
	}
	if ex := r.Execute; ex != nil {
		if ex.PageLoad != nil {
			add("execute pageLoad", ex.PageLoad.Options, ex.PageLoad.Metrics)
		}
		for _, m := range ex.Mboxes {
			add(fmt.Sprintf("execute %s/%d", m.Name, m.Index), m.Options, m.Metrics)
		}
	}
	if pf := r.Prefetch; pf != nil {
		for _, m := range pf.Mboxes {
			add(fmt.Sprintf("prefetch %s/%d", m.Name, m.Index), m.Options, m.Metrics)
		}
		for _, v := range pf.Views {
			add("view "+v.Name, v.Options, v.Metrics)
		}
	}
	return out
}

// What the artifact cannot decide comes back as the client defines it: an
// on-device call answers 206 naming the mbox; a hybrid call asks the edge.
func TestArtifactUnknownMbox(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Offers: offers})
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{
		Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}, {Index: 2, Name: "unknown"}},
	}}
	known := target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}}}}

	onDevice, _ := onDeviceClient(t, srv, target.OnDevice, srv.ArtifactURL())
	res, err := onDevice.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "s1"}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, res.Meta.DecisioningMethod)
	assert.Equal(t, http.StatusPartialContent, res.Status)
	assert.Equal(t, []string{"unknown"}, res.Meta.RemoteMboxes)

	hybrid, _ := onDeviceClient(t, srv, target.Hybrid, srv.ArtifactURL())
	res, err = hybrid.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "s1"}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, res.Meta.DecisioningMethod)
	assert.Equal(t, http.StatusOK, res.Status)
	_, decisions, _ := countRequests(srv)
	assert.Equal(t, 1, decisions, "the hybrid call for an unknown mbox went to the edge")

	res, err = hybrid.GetOffers(t.Context(), target.GetOffersOptions{Request: known, SessionID: "s1"}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, res.Meta.DecisioningMethod)
	assert.Equal(t, http.StatusOK, res.Status)
	_, decisions, _ = countRequests(srv)
	assert.Equal(t, 1, decisions, "the hybrid call for a known mbox stayed local")
}

// Over TLS a client needs no artifact location at all: the default one on
// assets.adobetarget.com reaches the edge through its HTTP client, like
// Target's CDN.
func TestArtifactAtTheDefaultLocation(t *testing.T) {
	t.Parallel()
	srv := targettest.NewTLSServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	client, _ := onDeviceClient(t, srv, target.OnDevice, "")
	res, err := client.GetOffers(t.Context(), target.GetOffersOptions{Request: target.DeliveryRequest{
		Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "flags"}}},
	}, SessionID: "s1"}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, res.Meta.DecisioningMethod)
	assert.JSONEq(t, `{"dark":true}`, string(res.Response.Execute.Mboxes[0].Options[0].Content))
	r := srv.Requests()[0]
	assert.Equal(t, "assets.adobetarget.com", r.Host)
	assert.Equal(t, "/"+targettest.DefaultClient+"/production/v1/rules.json", r.Path)
}

// The artifact endpoint, on the wire.
func TestArtifactEndpoint(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Client: "acme", Offers: offers})
	first, err := srv.HTTPClient().Get(srv.ArtifactURL())
	require.NoError(t, err)
	body, err := io.ReadAll(first.Body)
	first.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, first.StatusCode)
	etag := first.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Equal(t, srv.URL+"/acme/production/v1/rules.json", srv.ArtifactURL())

	var doc struct {
		Version     string                                  `json:"version"`
		GlobalMbox  string                                  `json:"globalMbox"`
		LocalMboxes []string                                `json:"localMboxes"`
		LocalViews  []string                                `json:"localViews"`
		Rules       map[string]map[string][]json.RawMessage `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.True(t, strings.HasPrefix(doc.Version, "1."), doc.Version)
	assert.Equal(t, []string{"flags", "hero", doc.GlobalMbox}, doc.LocalMboxes)
	assert.Equal(t, []string{"cart", "home"}, doc.LocalViews)
	assert.Len(t, doc.Rules["mboxes"], 3)
	assert.Len(t, doc.Rules["views"], 2)

	tests := []struct {
		name, method, path, ifNoneMatch string
		want                            int
	}{
		{"unchanged", http.MethodGet, "/acme/production/v1/rules.json", etag, http.StatusNotModified},
		{"weak tag in a list", http.MethodGet, "/acme/production/v1/rules.json", `"other", W/` + etag, http.StatusNotModified},
		{"any", http.MethodGet, "/acme/production/v1/rules.json", "*", http.StatusNotModified},
		{"another version", http.MethodGet, "/acme/production/v1/rules.json", `"other"`, http.StatusOK},
		{"staging", http.MethodGet, "/acme/staging/v1/rules.json", "", http.StatusOK},
		{"property token", http.MethodGet, "/acme/development/v1/token-1/rules.json", "", http.StatusOK},
		{"head", http.MethodHead, "/acme/production/v1/rules.json", "", http.StatusOK},
		{"another client", http.MethodGet, "/other/production/v1/rules.json", "", http.StatusNotFound},
		{"unknown environment", http.MethodGet, "/acme/test/v1/rules.json", "", http.StatusNotFound},
		{"another version of the API", http.MethodGet, "/acme/production/v2/rules.json", "", http.StatusNotFound},
		{"obfuscated form", http.MethodGet, "/acme/production/v1/rules.bin", "", http.StatusNotFound},
		{"post", http.MethodPost, "/acme/production/v1/rules.json", "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			if tt.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			resp, err := srv.HTTPClient().Do(req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.StatusCode)
			switch {
			case tt.want == http.StatusOK && tt.method == http.MethodGet:
				assert.Equal(t, body, got)
				assert.Equal(t, etag, resp.Header.Get("ETag"))
			case tt.want == http.StatusNotModified:
				assert.Empty(t, got)
				assert.Equal(t, etag, resp.Header.Get("ETag"))
			}
		})
	}
}

// The artifact's entity tag follows its content: equal offers, equal tags.
func TestArtifactETag(t *testing.T) {
	t.Parallel()
	etag := func(o targettest.Offers) string {
		srv := setup(t, targettest.Config{Offers: o})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, srv.ArtifactURL(), nil))
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Header().Get("ETag")
	}
	assert.Equal(t, etag(offers), etag(offers))
	assert.NotEqual(t, etag(offers), etag(targettest.Offers{}))
}

// A client polling the edge's artifact revalidates it with If-None-Match
// and keeps it on the 304, without downloading it again.
func TestArtifactRevalidation(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Offers: offers})
	synctest.Test(t, func(t *testing.T) {
		var downloads atomic.Int32
		cfg := srv.ClientConfig()
		// Served by the handler on this goroutine's clock: the bubble's
		// fake time then runs the polling.
		cfg.HTTPClient = &http.Client{Transport: handlerTransport{srv}}
		cfg.DecisioningMethod = target.OnDevice
		cfg.OnDevice = target.OnDeviceConfig{
			ArtifactLocation:     srv.ArtifactURL(),
			PollingInterval:      target.MinPollingInterval,
			OnArtifactDownloaded: func(string) { downloads.Add(1) },
		}
		client, err := target.NewClient(cfg)
		require.NoError(t, err)
		defer func() { _ = client.Close(context.Background()) }()
		_, err = client.Ready().Await(t.Context())
		require.NoError(t, err)

		time.Sleep(2*target.MinPollingInterval + time.Second)
		synctest.Wait()
		reqs := srv.Requests()
		require.Len(t, reqs, 3)
		etag := ""
		for i, r := range reqs {
			assert.Equal(t, etag, r.Header.Get("If-None-Match"), "request %d", i)
			if i == 0 {
				etag = artifactETag(t, srv)
			}
		}
		assert.Equal(t, int32(1), downloads.Load(), "the 304s keep the artifact without a new download")
	})
}

func artifactETag(t *testing.T, srv *targettest.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodHead, srv.ArtifactURL(), nil))
	return rec.Header().Get("ETag")
}

// handlerTransport serves requests with the edge's handler, on the
// caller's goroutine.
type handlerTransport struct{ srv *targettest.Server }

func (h handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(context.WithoutCancel(r.Context()))
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// An option whose content is an empty non-nil json.RawMessage is an option
// without content, both in the edge's answers and in its artifact (it
// used to make NewServer panic encoding the artifact).
func TestArtifactEmptyContent(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Offers: targettest.Offers{
		Mboxes: map[string]targettest.Offer{
			"empty": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage{}}}},
		},
	}})
	t.Cleanup(srv.Close)

	resp, err := srv.HTTPClient().Get(srv.ArtifactURL())
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		Rules struct {
			Mboxes map[string][]struct {
				Consequence struct {
					Options []map[string]json.RawMessage `json:"options"`
				} `json:"consequence"`
			} `json:"mboxes"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Len(t, doc.Rules.Mboxes["empty"], 1)
	opts := doc.Rules.Mboxes["empty"][0].Consequence.Options
	require.Len(t, opts, 1)
	assert.NotContains(t, opts[0], "content")

	for _, method := range []target.DecisioningMethod{target.ServerSide, target.OnDevice} {
		client, _ := onDeviceClient(t, srv, method, srv.ArtifactURL())
		got, err := client.GetOffers(t.Context(), target.GetOffersOptions{Request: target.DeliveryRequest{
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "empty"}}},
		}}).Await(t.Context())
		require.NoError(t, err, method)
		require.Len(t, got.Response.Execute.Mboxes, 1, method)
		require.Len(t, got.Response.Execute.Mboxes[0].Options, 1, method)
		assert.Empty(t, got.Response.Execute.Mboxes[0].Options[0].Content, method)
	}
}
