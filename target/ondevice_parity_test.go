package target_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// Minimal reproductions of the ways on-device decisions differed from
// Adobe's engine (issue 15), one or more per class, each through the
// public client. The expected answers are Adobe's Node.js SDK 2.4.3's;
// with TARGET_NODE_SDK_DIR set, TestParityCasesAgreeWithNode checks them
// against the SDK itself.

// parityCase is a request decided from an artifact, and what must hold.
type parityCase struct {
	name     string
	artifact map[string]any
	request  string
	check    func(t *testing.T, r *target.Response, err error, lookups []string)
}

func ruleOf(key, mbox string, cond any, options ...map[string]any) map[string]any {
	opts := make([]any, len(options))
	for i, o := range options {
		opts[i] = o
	}
	return map[string]any{
		"ruleKey":    key,
		"activityId": 4242,
		"meta": map[string]any{
			"activity.id": 4242, "activity.name": "parity", "activity.type": "ab", "experience.id": 0,
			"experience.name": "Experience A", "offer.id": 7, "offer.name": "offer seven", "option.id": 2, "option.name": "Offer2",
			"audience.ids": []any{},
		},
		"condition":   cond,
		"consequence": map[string]any{"name": mbox, "options": opts, "metrics": []any{}},
	}
}

func parityHTML(content string) map[string]any {
	return map[string]any{"type": "html", "content": content, "eventToken": "token-" + content}
}

// artifactOf builds an artifact with the given mbox and view rules, every
// one of them local.
func artifactOf(mboxes, views map[string][]any, geo bool, tokens ...string) map[string]any {
	local := []any{}
	for name := range mboxes {
		local = append(local, name)
	}
	localViews := []any{}
	for name := range views {
		localViews = append(localViews, name)
	}
	if views == nil {
		views = map[string][]any{}
	}
	t := make([]any, len(tokens))
	for i, s := range tokens {
		t[i] = s
	}
	return map[string]any{
		"version": "1.0.0", "globalMbox": "target-global-mbox", "geoTargetingEnabled": geo,
		"responseTokens": t, "remoteMboxes": []any{}, "remoteViews": []any{},
		"localMboxes": local, "localViews": localViews,
		"meta":  map[string]any{"clientCode": diffClient},
		"rules": map[string]any{"mboxes": mboxes, "views": views},
	}
}

func eq(field string, value any) any {
	return map[string]any{"==": []any{map[string]any{"var": field}, value}}
}

// contents lists the html contents of every option in the response, in
// order (execute page load and mboxes, then prefetch page load, mboxes,
// views).
func contents(r *target.Response) []string {
	var out []string
	add := func(opts []target.Option) {
		for _, o := range opts {
			var s any
			_ = json.Unmarshal(o.Content, &s)
			if str, ok := s.(string); ok {
				out = append(out, str)
			} else {
				out = append(out, string(o.Content))
			}
		}
	}
	dr := r.Response
	if ex := dr.Execute; ex != nil {
		if ex.PageLoad != nil {
			add(ex.PageLoad.Options)
		}
		for _, m := range ex.Mboxes {
			add(m.Options)
		}
	}
	if pf := dr.Prefetch; pf != nil {
		if pf.PageLoad != nil {
			add(pf.PageLoad.Options)
		}
		for _, m := range pf.Mboxes {
			add(m.Options)
		}
		for _, v := range pf.Views {
			add(v.Options)
		}
	}
	return out
}

func wantContents(want ...string) func(t *testing.T, r *target.Response, err error, lookups []string) {
	return func(t *testing.T, r *target.Response, err error, _ []string) {
		require.NoError(t, err)
		if want == nil {
			want = []string{}
		}
		got := contents(r)
		if got == nil {
			got = []string{}
		}
		assert.Equal(t, want, got)
	}
}

func browserArtifact() map[string]any {
	return artifactOf(map[string][]any{"browser": {
		ruleOf("b1", "browser", eq("user.browserType", "mobile safari"), parityHTML("mobile safari")),
		ruleOf("b2", "browser", eq("user.browserType", "safari"), parityHTML("safari")),
		ruleOf("b3", "browser", eq("user.browserType", "ie"), parityHTML("ie")),
		ruleOf("b4", "browser", eq("user.browserType", "edge"), parityHTML("edge")),
		ruleOf("b5", "browser", eq("user.browserType", "chrome"), parityHTML("chrome")),
		ruleOf("b6", "browser", eq("user.browserType", "firefox"), parityHTML("firefox")),
		ruleOf("b7", "browser", eq("user.browserType", "unknown"), parityHTML("unknown")),
	}}, nil, false)
}

func uaRequest(ua string) string {
	b, _ := json.Marshal(map[string]any{
		"id":       map[string]any{"tntId": "parity-visitor"},
		"context":  map[string]any{"channel": "web", "userAgent": ua},
		"prefetch": map[string]any{"mboxes": []any{map[string]any{"name": "browser", "index": 1}}},
	})
	return string(b)
}

func parityCases() []parityCase {
	pageLoadOnly := `{"id":{"tntId":"parity-visitor"},"context":{"channel":"web"},"execute":{"pageLoad":{}}}`
	geoRule := artifactOf(map[string][]any{"geo": {
		ruleOf("g1", "geo", eq("geo.city", "SERVERTOWN"), parityHTML("server's city")),
		ruleOf("g2", "geo", eq("geo.city", "SAN FRANCISCO"), parityHTML("visitor's city")),
		ruleOf("g3", "geo", eq("geo.country", "RO"), parityHTML("visitor's country")),
	}}, nil, true, "geo.city", "geo.country", "geo.state")
	geoRequest := func(geo string) string {
		return `{"id":{"tntId":"parity-visitor"},"context":{"channel":"web"` + geo + `},"prefetch":{"mboxes":[{"name":"geo","index":1}]}}`
	}
	noLookups := func(want ...string) func(t *testing.T, r *target.Response, err error, lookups []string) {
		return func(t *testing.T, r *target.Response, err error, lookups []string) {
			wantContents(want...)(t, r, err, lookups)
			assert.Empty(t, lookups, "geo lookups")
		}
	}
	global := artifactOf(map[string][]any{"m": {ruleOf("m1", "m", true, parityHTML("m"))}}, nil, false)
	macro := func(content string) map[string][]any {
		return map[string][]any{
			"target-global-mbox": {ruleOf("p1", "target-global-mbox", true, parityHTML(content))},
			"m":                  {ruleOf("m1", "m", true, parityHTML(content))},
		}
	}
	nullMeta := ruleOf("n1", "m", true, parityHTML("${offer.name}|${experience.name}|${offer.id}"))
	nullMeta["meta"].(map[string]any)["offer.name"] = nil
	params := artifactOf(map[string][]any{
		"p": {
			ruleOf("p1", "p", eq("mbox.browserWidth", "1024"), parityHTML("width ${mbox.browserWidth} ${mbox.flag} ${mbox.big} ${mbox.small}")),
			ruleOf("p2", "p", true, parityHTML("other")),
		},
		"lc": {
			ruleOf("l1", "lc", eq("mbox.x_lc", "upper"), parityHTML("x_lc is x lower-cased")),
			ruleOf("l2", "lc", eq("mbox.a.b_lc", "nested"), parityHTML("a.b_lc is a.b lower-cased")),
			ruleOf("l3", "lc", true, parityHTML("other")),
		},
	}, nil, false)
	return []parityCase{
		{
			name:     "1 page load needs the edge when the global mbox is not local",
			artifact: global,
			request:  pageLoadOnly,
			check: func(t *testing.T, r *target.Response, err error, _ []string) {
				require.NoError(t, err)
				assert.Equal(t, 206, r.Status)
				assert.Equal(t, []string{"target-global-mbox"}, r.Meta.RemoteMboxes)
			},
		},
		{
			name:     "2 no geo in the request: no lookup",
			artifact: geoRule,
			request:  geoRequest(""),
			check:    noLookups(),
		},
		{
			name:     "2 empty geo: no lookup",
			artifact: geoRule,
			request:  geoRequest(`,"geo":{}`),
			check:    noLookups(),
		},
		{
			name:     "2 an invalid address: no lookup",
			artifact: geoRule,
			request:  geoRequest(`,"geo":{"ipAddress":"not-an-ip"}`),
			check:    noLookups(),
		},
		{
			name:     "2 an address: looked up for that address",
			artifact: geoRule,
			request:  geoRequest(`,"geo":{"ipAddress":"203.0.113.7"}`),
			check: func(t *testing.T, r *target.Response, err error, lookups []string) {
				wantContents("visitor's city")(t, r, err, lookups)
				assert.Equal(t, []string{"203.0.113.7"}, lookups)
			},
		},
		{
			name:     "2 unknownIpAddress: looked up without an address",
			artifact: geoRule,
			request:  geoRequest(`,"geo":{"ipAddress":"unknownIpAddress"}`),
			check: func(t *testing.T, r *target.Response, err error, lookups []string) {
				wantContents("server's city")(t, r, err, lookups)
				assert.Equal(t, []string{""}, lookups)
			},
		},
		{
			name:     "3 x_lc is x lower-cased, whatever x_lc was given",
			artifact: params,
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"lc","index":1,"parameters":{"x":"UPPER","x_lc":"something else"}}]}}`,
			check:    wantContents("x_lc is x lower-cased"),
		},
		{
			name:     "3 a.b_lc is a.b lower-cased, whatever a.b_lc was given",
			artifact: params,
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"lc","index":1,"parameters":{"a.b":"NESTED","a.b_lc":"something else"}}]}}`,
			check:    wantContents("a.b_lc is a.b lower-cased"),
		},
		{
			name: "4 non-ASCII paths, queries and fragments with '#' are compared as given",
			artifact: artifactOf(map[string][]any{"url": {
				ruleOf("u1", "url", map[string]any{"and": []any{
					eq("page.path", "/café/menu"), eq("page.query", "q=straße"), eq("page.fragment", "a#b"),
				}}, parityHTML("as given")),
				ruleOf("u2", "url", eq("page.path", "/%zz"), parityHTML("bad escape kept")),
			}}, nil, false),
			request: `{"id":{"tntId":"v"},"context":{"channel":"web","address":{"url":"https://shop.example.com/café/menu?q=straße#a#b"}},` +
				`"prefetch":{"mboxes":[{"name":"url","index":1},{"name":"url","index":2,"address":{"url":"https://shop.example.com/%zz"}}]}}`,
			check: wantContents("as given", "bad escape kept"),
		},
		{
			name:     "5 \\s matches a no-break space, as in JavaScript",
			artifact: browserArtifact(),
			request:  uaRequest("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148\u00a0Safari/604.1"),
			check:    wantContents("mobile safari"),
		},
		{
			name:     "5 '.' stops at U+2028, as in JavaScript",
			artifact: browserArtifact(),
			request:  uaRequest("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2\u2028Mobile/15E148 Safari/604.1"),
			check:    wantContents("unknown"),
		},
		{
			name:     "5 the Kelvin sign is not a k, as in JavaScript",
			artifact: browserArtifact(),
			request:  uaRequest("Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) li\u212ae Gecko"),
			check:    wantContents("unknown"),
		},
		{
			name:     "5 the long s is not an s, as in JavaScript",
			artifact: browserArtifact(),
			request:  uaRequest("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 \u017fafari/604.1"),
			check:    wantContents("unknown"),
		},
		{
			name:     "6 ${mbox.index} stays in page-load offers, capitalised ${Campaign.*} stays",
			artifact: artifactOf(macro("${mbox.index}|${Campaign.name}|${campaign.name}|${mbox.name}"), nil, false),
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"execute":{"pageLoad":{},"mboxes":[{"name":"m","index":3}]}}`,
			check: wantContents("${mbox.index}|${Campaign.name}|parity|target-global-mbox",
				"3|${Campaign.name}|parity|m"),
		},
		{
			name:     "6 a null meta value is written null",
			artifact: artifactOf(map[string][]any{"m": {nullMeta}}, nil, false),
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1}]}}`,
			check:    wantContents("null|Experience A|7"),
		},
		{
			name:     "7 an empty geo.city is a response token",
			artifact: geoRule,
			request:  geoRequest(`,"geo":{"city":"","countryCode":"RO","stateCode":""}`),
			check: func(t *testing.T, r *target.Response, err error, lookups []string) {
				noLookups("visitor's country")(t, r, err, lookups)
				require.Len(t, r.Response.Prefetch.Mboxes, 1)
				require.Len(t, r.Response.Prefetch.Mboxes[0].Options, 1)
				tokens := r.Response.Prefetch.Mboxes[0].Options[0].ResponseTokens
				assert.Equal(t, "", tokens["geo.city"])
				assert.Equal(t, "", tokens["geo.state"])
				assert.Equal(t, "RO", tokens["geo.country"])
			},
		},
		{
			name:     "8 numbers and booleans are parameters, as JavaScript's String() writes them",
			artifact: params,
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"execute":{"mboxes":[{"name":"p","index":1,"parameters":{"browserWidth":1024,"flag":true,"big":1e21,"small":0.000001}}]}}`,
			check:    wantContents("width 1024 true 1e+21 0.000001"),
		},
		{
			name:     "9 empty lists are written [] where requested",
			artifact: artifactOf(map[string][]any{"m": {ruleOf("m1", "m", false, parityHTML("m"))}}, map[string][]any{"v": {ruleOf("v1", "v", false, parityHTML("v"))}}, false),
			request:  `{"id":{"tntId":"v"},"context":{"channel":"web"},"execute":{"pageLoad":{},"mboxes":[{"name":"m","index":1}]},"prefetch":{"views":[{"name":"v"}],"mboxes":[{"name":"m","index":1}]}}`,
			check: func(t *testing.T, r *target.Response, err error, _ []string) {
				require.NoError(t, err)
				b, err := json.Marshal(r.Response)
				require.NoError(t, err)
				var m map[string]any
				require.NoError(t, json.Unmarshal(b, &m))
				assert.Equal(t, map[string]any{"pageLoad": map[string]any{"options": []any{}}, "mboxes": []any{map[string]any{"index": float64(1), "name": "m"}}}, m["execute"])
				assert.Equal(t, map[string]any{"views": []any{}, "mboxes": []any{map[string]any{"index": float64(1), "name": "m"}}}, m["prefetch"])
			},
		},
		{
			name: "issue 15 review 3 IDNA full stops end host labels, as in punycode's ToASCII",
			artifact: artifactOf(map[string][]any{"host": {
				ruleOf("h1", "host", map[string]any{"and": []any{
					eq("page.domain", "shop\u3002.example.com"), eq("page.subdomain", ""), eq("page.topLevelDomain", ""),
				}}, parityHTML("empty label after U+3002")),
				ruleOf("h2", "host", map[string]any{"and": []any{
					eq("page.domain", "\u3002example.com"), eq("page.subdomain", ""), eq("page.topLevelDomain", ""),
				}}, parityHTML("empty first label")),
				ruleOf("h3", "host", map[string]any{"and": []any{
					eq("page.domain", "example.com"), eq("page.subdomain", idnaTwoLabels), eq("page.topLevelDomain", "com"),
				}}, parityHTML("two labels of 40")),
				ruleOf("h4", "host", true, parityHTML("other")),
			}}, nil, false),
			request: `{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[` +
				`{"name":"host","index":1,"address":{"url":"https://shop\u3002.example.com/"}},` +
				`{"name":"host","index":2,"address":{"url":"https://\u3002example.com/"}},` +
				`{"name":"host","index":3,"address":{"url":"https://` + idnaTwoLabels + `.example.com/"}}]}}`,
			check: wantContents("empty label after U+3002", "empty first label", "two labels of 40"),
		},
	}
}

// idnaTwoLabels is one label of 81 characters for Go's net packages, two
// of 40 for punycode's ToASCII, which also splits at U+3002.
var idnaTwoLabels = strings.Repeat("a", 40) + "\u3002" + strings.Repeat("b", 40)

// decideCase decides c with a fresh on-device client.
func decideCase(t *testing.T, c parityCase) (*target.Response, []string, error) {
	artifact, err := json.Marshal(c.artifact)
	require.NoError(t, err)
	g := newGoDecider(t, artifact)
	var req target.DeliveryRequest
	if err := json.Unmarshal([]byte(c.request), &req); err != nil {
		return nil, nil, err
	}
	r, err := g.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "diff-session"}).Await(t.Context())
	return r, g.tr.take(), err
}

func TestParityCases(t *testing.T) {
	t.Parallel()
	for _, c := range parityCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, lookups, err := decideCase(t, c)
			c.check(t, r, err, lookups)
		})
	}
}

// TestParityDeterministic decides inputs whose context is built from
// colliding names many times: the answer must never change.
func TestParityDeterministic(t *testing.T) {
	t.Parallel()
	for _, c := range parityCases()[6:8] {
		artifact, err := json.Marshal(c.artifact)
		require.NoError(t, err)
		g := newGoDecider(t, artifact)
		first := g.decide(t.Context(), []byte(c.request))
		for range 100 {
			require.Equal(t, first, g.decide(t.Context(), []byte(c.request)), c.name)
		}
	}
}

// TestParityCasesAgreeWithNode checks the cases' expectations against
// Adobe's Node.js SDK: each check must hold for the SDK's answer. It runs
// one node at a time, and not in parallel with the package's other tests,
// whose deadlines a burst of node processes would crowd out.
func TestParityCasesAgreeWithNode(t *testing.T) {
	nodeModules := os.Getenv("TARGET_NODE_SDK_DIR")
	if nodeModules == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set; see testdata/node to install Adobe's Node.js SDK")
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err)
	for _, c := range parityCases() {
		t.Run(c.name, func(t *testing.T) {
			artifact, err := json.Marshal(c.artifact)
			require.NoError(t, err)
			var req map[string]any
			require.NoError(t, json.Unmarshal([]byte(c.request), &req))
			n := runNodeEngine(t, node, nodeModules, artifact, []map[string]any{req})[0]
			require.Empty(t, n.Error)
			b, err := json.Marshal(n.Response)
			require.NoError(t, err)
			var dr target.DeliveryResponse
			require.NoError(t, json.Unmarshal(b, &dr))
			r := &target.Response{Response: &dr, Status: n.Status}
			for _, k := range []string{"remoteMboxes", "remoteViews"} {
				l, _ := n.Meta[k].([]any)
				for _, e := range l {
					if k == "remoteMboxes" {
						r.Meta.RemoteMboxes = append(r.Meta.RemoteMboxes, e.(string))
					} else {
						r.Meta.RemoteViews = append(r.Meta.RemoteViews, e.(string))
					}
				}
			}
			c.check(t, r, nil, n.GeoLookups)
		})
	}
}
