package target_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// wireCase is one call made with the same options by the Go client and by
// Adobe's Node.js SDK. Request is JSON, decoded by each side, so that both
// get the same input.
type wireCase struct {
	name         string
	call         string // getOffers, getAttributes or sendNotifications
	request      string
	sessionID    string
	targetCookie string
	locationHint string
	customerIDs  []target.VisitorCustomerID
	// visitorCookie and consumerID are the AMCV cookie value and the
	// consumer of the supplemental data id.
	visitorCookie string
	consumerID    string
	mboxNames     []string
	// goConfig and nodeConfig set the same client options on each side.
	goConfig   func(*target.Config)
	nodeConfig map[string]any
	// twice makes the call a second time on the same client; the second
	// request carries the first one's telemetry.
	twice bool
}

// wireRequest is what the comparison looks at: the request line, the
// decoded query, the content type and the JSON body.
type wireRequest struct {
	Method      string
	Host        string
	Path        string
	Query       url.Values
	ContentType string
	Body        map[string]any
}

// keptDifference is a difference between the Go client's request and the
// Node SDK's that the Go client keeps on purpose. apply removes it, by
// making the Node request say what the Go request says, only where it is
// exactly that difference, and reports whether it was there.
type keptDifference struct {
	name   string
	reason string
	apply  func(c wireCase, goReq, nodeReq *wireRequest) bool
}

// keptDifferences are every difference the comparison tolerates. Anything
// else fails the test, and so does a listed difference that no case shows
// any more (the list must not outlive the behaviour it describes).
var keptDifferences = []keptDifference{
	{
		name: "context.timeOffsetInMinutes",
		reason: "when the request has no context, the Node SDK creates one with the server's own UTC offset " +
			"(with a context it sends none: the caller's context overwrites the default with undefined); " +
			"the server's time zone says nothing about the visitor's, so the Go client sends only what the caller sets",
		apply: func(_ wireCase, goReq, nodeReq *wireRequest) bool {
			gctx, _ := goReq.Body["context"].(map[string]any)
			nctx, _ := nodeReq.Body["context"].(map[string]any)
			return dropNodeOnly(gctx, nctx, "timeOffsetInMinutes")
		},
	},
	{
		name: "context.channel mobile",
		reason: "the Node SDK sends channel \"web\" whatever the request says (its check compares the channel " +
			"with the names of its ChannelType enum, \"Mobile\" and \"Web\", not their values); the Go client keeps " +
			"the caller's \"mobile\", which the API accepts",
		apply: func(_ wireCase, goReq, nodeReq *wireRequest) bool {
			gctx, _ := goReq.Body["context"].(map[string]any)
			nctx, _ := nodeReq.Body["context"].(map[string]any)
			if gctx == nil || nctx == nil || gctx["channel"] != "mobile" || nctx["channel"] != "web" {
				return false
			}
			nctx["channel"] = "mobile"
			return true
		},
	},
	{
		name: "experienceCloud.analytics.supplementalDataId with client-side logging",
		reason: "the Node SDK generates a supplemental data id whatever the logging; the Go client generates one " +
			"only for server-side logging, where the edge forwards the hit to Analytics itself: with client-side " +
			"logging the page forwards the payload with the id of its own Visitor API, and a server-made id " +
			"would stitch nothing",
		apply: func(_ wireCase, goReq, nodeReq *wireRequest) bool {
			ga := analyticsOf(goReq.Body)
			return ga["logging"] == "client_side" && dropNodeOnly(ga, analyticsOf(nodeReq.Body), "supplementalDataId")
		},
	},
	{
		name: "telemetry.entries[].request",
		reason: "the Go client measures DNS, TLS, time to first byte, download and size with httptrace and sends " +
			"them; the Node SDK sends network timings only through its own https-based fetch, which it does not " +
			"use when Node has a global fetch (Node 18 and later)",
		apply: func(_ wireCase, goReq, nodeReq *wireRequest) bool {
			ge := telemetryEntries(goReq.Body)
			ne := telemetryEntries(nodeReq.Body)
			if len(ge) == 0 || len(ge) != len(ne) {
				return false
			}
			changed := false
			for i := range ge {
				_, gok := ge[i]["request"]
				_, nok := ne[i]["request"]
				if gok && !nok {
					ne[i]["request"] = ge[i]["request"]
					changed = true
				}
			}
			return changed
		},
	},
}

// TestInteropWireMatchesNodeSDK makes each call of the table with the Go
// client and with Adobe's Node.js SDK against one local edge and compares
// what the edge received: method, Host, path, query, content type and JSON
// body must be the same, apart from generated ids and timestamps (both
// sides must send them, in a valid form) and the differences in
// keptDifferences. It then compares what each SDK makes of the edge's
// answer: cookies, response tokens, analytics payloads, traces, the parsed
// answer and the merged attributes.
func TestInteropWireMatchesNodeSDK(t *testing.T) {
	t.Parallel()
	node := requireNodeSDK(t)

	future := strconv.FormatInt(time.Now().Unix()+3600, 10)
	notifiedAt := time.Now().UnixMilli()
	cases := []wireCase{
		{
			name:      "execute and prefetch",
			call:      "getOffers",
			sessionID: "wire-session-1",
			request: `{
				"context": {"channel": "web", "userAgent": "Mozilla/5.0", "address": {"url": "https://shop.example/p?id=1", "referringUrl": "https://search.example/"},
					"screen": {"width": 1920, "height": 1080}, "browser": {"host": "shop.example"}},
				"execute": {
					"pageLoad": {"parameters": {"page": "home"}, "profileParameters": {"tier": "gold"}},
					"mboxes": [
						{"name": "hero", "index": 0, "parameters": {"size": "L"}},
						{"name": "config", "index": 1, "order": {"id": "o-1", "total": 99.5, "purchasedProductIds": ["p1", "p2"]}, "product": {"id": "p1", "categoryId": "c1"}}
					]
				},
				"prefetch": {
					"pageLoad": {},
					"mboxes": [{"name": "promo", "index": 0}],
					"views": [{"name": "home"}, {"name": "cart", "key": "k1"}]
				},
				"trace": {"authorizationToken": "trace-token", "usage": {"a": "b"}}
			}`,
		},
		{
			name:      "mboxes without index",
			call:      "getOffers",
			sessionID: "wire-session-2",
			request:   `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero"}, {"name": "config"}]}}`,
		},
		{
			name:      "single mbox at index 0",
			call:      "getOffers",
			sessionID: "wire-session-3",
			request:   `{"context": {"channel": "web"}, "prefetch": {"mboxes": [{"name": "promo"}]}}`,
		},
		{
			name:         "mbox cookie gives session and tntId",
			call:         "getOffers",
			sessionID:    "not-this-one",
			targetCookie: "session#wire-cookie-session#" + future + "|PC#3a8f7c1e-6f0a-4d8b-9c1e-0f2b3c4d5e6f#" + future,
			request:      `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:         "tntId cluster picks the edge host",
			call:         "getOffers",
			targetCookie: "session#wire-cluster-session#" + future + "|PC#5b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f.28_0#" + future,
			request:      `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:         "location hint picks the edge host",
			call:         "getOffers",
			sessionID:    "wire-session-hint",
			locationHint: "34",
			request:      `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:    "generated session id",
			call:    "getOffers",
			request: `{"context": {"channel": "web"}, "execute": {"pageLoad": {}}}`,
		},
		{
			name:      "request without context",
			call:      "getOffers",
			sessionID: "wire-session-no-context",
			request:   `{"execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:      "session id needing query escapes",
			call:      "getOffers",
			sessionID: "wire(s)*'!~:@&=+$,;",
			request:   `{"context": {"channel": "web"}, "execute": {"pageLoad": {}}}`,
		},
		{
			name:      "customer ids",
			call:      "getOffers",
			sessionID: "wire-session-ids",
			customerIDs: []target.VisitorCustomerID{
				{IntegrationCode: "loyalty", ID: "L-77", AuthState: target.AuthStateAuthenticated},
				{IntegrationCode: "email", ID: "e-1", AuthState: target.AuthStateLoggedOut},
				{IntegrationCode: "phone", ID: "p-1", AuthState: target.AuthStateUnknown},
			},
			request: `{"context": {"channel": "web"},
				"id": {"thirdPartyId": "third-1", "marketingCloudVisitorId": "12345678901234567890123456789012345678",
					"customerIds": [{"id": "crm-1", "integrationCode": "crm", "authenticatedState": "logged_out"}]},
				"execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:      "mobile channel",
			call:      "getOffers",
			sessionID: "wire-session-mobile",
			request:   `{"context": {"channel": "mobile", "mobilePlatform": {"deviceType": "phone", "platformType": "android", "version": "14"}}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:      "time offset set by the caller",
			call:      "getOffers",
			sessionID: "wire-session-tz",
			request:   `{"context": {"channel": "web", "timeOffsetInMinutes": 120}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:      "client-side analytics",
			call:      "getOffers",
			sessionID: "wire-session-analytics",
			request:   `{"context": {"channel": "web"}, "experienceCloud": {"analytics": {"logging": "client_side", "trackingServer": "metrics.example"}}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
		},
		{
			name:       "property token and environment",
			call:       "getOffers",
			sessionID:  "wire-session-property",
			request:    `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`,
			goConfig:   func(c *target.Config) { c.PropertyToken = "prop-1234"; c.EnvironmentID = 7 },
			nodeConfig: map[string]any{"propertyToken": "prop-1234", "environmentId": 7},
		},
		{
			name:      "notifications",
			call:      "sendNotifications",
			sessionID: "wire-session-notify",
			request: `{"context": {"channel": "web"}, "notifications": [
				{"id": "n1", "type": "display", "timestamp": ` + strconv.FormatInt(notifiedAt, 10) + `, "mbox": {"name": "promo"}, "tokens": ["t-1"]},
				{"id": "n2", "type": "click", "timestamp": ` + strconv.FormatInt(notifiedAt+1, 10) + `, "view": {"name": "home", "key": "k"}, "tokens": ["t-2"], "impressionId": "imp-2"},
				{"id": "n3", "type": "display", "timestamp": ` + strconv.FormatInt(notifiedAt+2, 10) + `, "pageLoad": {"parameters": {"page": "home"}}, "tokens": ["t-3"]}
			]}`,
		},
		{
			name:      "attributes",
			call:      "getAttributes",
			sessionID: "wire-session-attrs",
			mboxNames: []string{"config", "promo"},
			request:   `{"context": {"channel": "web"}, "prefetch": {"mboxes": [{"name": "promo", "index": 0}]}}`,
		},
		{
			name:      "attributes after execute mboxes",
			call:      "getAttributes",
			sessionID: "wire-session-attrs-2",
			mboxNames: []string{"hero", "config"},
			request:   `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 2}]}}`,
		},
		{
			name:      "telemetry of the previous call",
			call:      "getOffers",
			sessionID: "wire-session-telemetry",
			request:   `{"context": {"channel": "web"}, "execute": {"pageLoad": {}, "mboxes": [{"name": "hero", "index": 0}]}, "prefetch": {"views": [{"name": "home"}]}}`,
			twice:     true,
		},
	}

	srv := targettest.NewServer(targettest.Config{Offers: interopOffers})
	t.Cleanup(srv.Close)

	// Adobe's SDK first: one process, a new client per case.
	run := nodeRun{Config: nodeConfig(srv.Addr()), Redirect: srv.URL}
	for _, c := range cases {
		nc := nodeCall{Call: c.call, Options: nodeOptions(t, c), MboxNames: c.mboxNames, Config: c.nodeConfig}
		run.Calls = append(run.Calls, nc)
		if c.twice {
			nc.SameClient = true
			run.Calls = append(run.Calls, nc)
		}
	}
	nodeOut := runNode(t, node, run)
	nodeSent := srv.Requests()
	require.Len(t, nodeSent, len(run.Calls), "one request per Node SDK call")
	srv.Reset()

	// Then the Go client, the same way.
	var goResults []envelope
	for _, c := range cases {
		cfg := srv.ClientConfig()
		cfg.Timeout = 5 * time.Second
		if c.goConfig != nil {
			c.goConfig(&cfg)
		}
		client, err := target.NewClient(cfg)
		require.NoError(t, err)
		for range 1 + btoi(c.twice) {
			goResults = append(goResults, goCall(t, client, c))
		}
	}
	goSent := srv.Requests()
	require.Len(t, goSent, len(run.Calls), "one request per Go client call")

	used := make(map[string]bool)
	ran, i := 0, 0
	for _, c := range cases {
		for n := range 1 + btoi(c.twice) {
			name := c.name
			if n > 0 {
				name += " (second call)"
			}
			k := i // the k-th call of each side
			i++
			g, nd := goSent[k], nodeSent[k]
			t.Run(name, func(t *testing.T) {
				ran++
				goReq := normalizeWire(t, c, g, "Go client")
				nodeReq := normalizeWire(t, c, nd, "Node SDK")
				for _, d := range keptDifferences {
					if d.apply(c, &goReq, &nodeReq) {
						used[d.name] = true
						t.Logf("kept difference %q: %s", d.name, d.reason)
					}
				}
				assert.Equal(t, goReq.Method, nodeReq.Method)
				assert.Equal(t, goReq.Host, nodeReq.Host)
				assert.Equal(t, goReq.Path, nodeReq.Path)
				assert.Equal(t, goReq.Query, nodeReq.Query)
				assert.Equal(t, goReq.ContentType, nodeReq.ContentType)
				assert.JSONEq(t, mustJSON(t, nodeReq.Body), mustJSON(t, goReq.Body), "body: Node SDK (expected) vs Go client (actual)")

				// What each SDK makes of the answer: the same envelope.
				want := nodeEnvelope(t, c, nodeOut, k)
				got := goResults[k]
				// The edge echoes the visitor's ids and the mbox indexes of
				// the request, so the kept differences show in its answers
				// too.
				for _, d := range keptDifferences {
					d.apply(c, &wireRequest{Body: got.Response}, &wireRequest{Body: want.Response})
				}
				// Node rounds the cookie's max age up from its millisecond
				// clock, so it is mostly one second more than Go's.
				if want.TargetCookie != nil && got.TargetCookie != nil {
					assert.InDelta(t, want.TargetCookie.MaxAge, got.TargetCookie.MaxAge, 1)
					want.TargetCookie.MaxAge = got.TargetCookie.MaxAge
				}
				assert.JSONEq(t, mustJSON(t, want), mustJSON(t, got), "result: Node SDK (expected) vs Go client (actual)")
			})
		}
	}
	if ran < len(goSent) {
		return // -run left cases out
	}
	for _, d := range keptDifferences {
		assert.True(t, used[d.name], "kept difference %q occurs in no case any more: remove it from keptDifferences", d.name)
	}
}

// nodeOptions returns the Node SDK's options for c.
func nodeOptions(t *testing.T, c wireCase) map[string]any {
	t.Helper()
	var req map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.request), &req), c.name)
	opts := map[string]any{"request": req}
	if c.sessionID != "" {
		opts["sessionId"] = c.sessionID
	}
	if c.targetCookie != "" {
		opts["targetCookie"] = c.targetCookie
	}
	if c.locationHint != "" {
		opts["targetLocationHint"] = c.locationHint
	}
	if c.visitorCookie != "" {
		opts["visitorCookie"] = c.visitorCookie
	}
	if c.consumerID != "" {
		opts["consumerId"] = c.consumerID
	}
	if len(c.customerIDs) > 0 {
		opts["customerIds"] = visitorCustomerIDsJSON(t, c.customerIDs)
	}
	return opts
}

// visitorCustomerIDsJSON returns ids in the Visitor API's form, an object
// keyed by integration code in the order of ids, as the Node SDK takes
// them: it sends them in its keys' order. An unknown state is given as a
// bare id, the Visitor API's short form for it.
func visitorCustomerIDsJSON(t *testing.T, ids []target.VisitorCustomerID) json.RawMessage {
	t.Helper()
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(mustJSON(t, id.IntegrationCode) + ":")
		if id.AuthState == target.AuthStateUnknown {
			b.WriteString(mustJSON(t, id.ID))
		} else {
			b.WriteString(mustJSON(t, id))
		}
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

// envelope is what both SDKs give back from a call, normalized: the
// cookies to set, response tokens, analytics payloads, how many traces, the
// decisioning method, the parsed answer and, for getAttributes, the merged
// attributes. The visitor's tntId, the request id and cookie expiry times
// (checked against the cookie's max age) are replaced by placeholders.
type envelope struct {
	TargetCookie             *target.Cookie
	TargetLocationHintCookie *target.Cookie
	ResponseTokens           []map[string]any
	AnalyticsDetails         []target.AnalyticsResponse
	Traces                   int
	DecisioningMethod        string
	Response                 map[string]any
	Attributes               json.RawMessage
}

// goCall makes c's call with the Go client and returns its envelope.
func goCall(t *testing.T, client *target.Client, c wireCase) envelope {
	t.Helper()
	var req target.DeliveryRequest
	require.NoError(t, json.Unmarshal([]byte(c.request), &req), c.name)
	opts := target.GetOffersOptions{
		Request: req, SessionID: c.sessionID, TargetCookie: c.targetCookie,
		TargetLocationHint: c.locationHint, CustomerIDs: c.customerIDs,
		VisitorCookie: c.visitorCookie, ConsumerID: c.consumerID,
	}
	ctx := t.Context()
	var (
		resp  *target.Response
		attrs json.RawMessage
		err   error
	)
	switch c.call {
	case "getOffers":
		resp, err = client.GetOffers(ctx, opts).Await(ctx)
	case "getAttributes":
		var a *target.Attributes
		a, err = client.GetAttributes(ctx, c.mboxNames, target.GetAttributesOptions{
			Request: req, SessionID: c.sessionID, TargetCookie: c.targetCookie,
			TargetLocationHint: c.locationHint, CustomerIDs: c.customerIDs,
		}).Await(ctx)
		if err == nil {
			resp = a.Response
			attrs = json.RawMessage(mustJSON(t, a.All()))
		}
	case "sendNotifications":
		resp, err = client.SendNotifications(ctx, target.SendNotificationsOptions{
			Request: req, SessionID: c.sessionID, TargetCookie: c.targetCookie,
			TargetLocationHint: c.locationHint, CustomerIDs: c.customerIDs,
			VisitorCookie: c.visitorCookie, ConsumerID: c.consumerID,
		}).Await(ctx)
	default:
		t.Fatalf("unknown call %q", c.call)
	}
	require.NoError(t, err, c.name)
	e := envelope{
		TargetCookie:             resp.TargetCookie,
		TargetLocationHintCookie: resp.TargetLocationHintCookie,
		ResponseTokens:           resp.ResponseTokens,
		AnalyticsDetails:         resp.AnalyticsDetails,
		Traces:                   len(resp.Trace),
		DecisioningMethod:        string(resp.Meta.DecisioningMethod),
		Attributes:               attrs,
	}
	return normalizeEnvelope(t, c, e, json.RawMessage(mustJSON(t, resp.Response)), "Go client")
}

// nodeEnvelope returns the envelope of the Node SDK's result i.
func nodeEnvelope(t *testing.T, c wireCase, out nodeOutput, i int) envelope {
	t.Helper()
	var r nodeResult
	var attrs json.RawMessage
	if c.call == "getAttributes" {
		var a struct {
			Attributes json.RawMessage `json:"attributes"`
			Response   nodeResult      `json:"response"`
		}
		require.NoError(t, json.Unmarshal(out.Results[i].Value, &a))
		r, attrs = a.Response, a.Attributes
	} else {
		r = out.offersResult(t, i)
	}
	// Adobe's SDK puts a null in analyticsDetails for each location of a
	// list without a payload; see TestInteropNodeSDKAgainstStandaloneEdge.
	var payloads []target.AnalyticsResponse
	for _, a := range r.AnalyticsDetails {
		if a.Payload != nil {
			payloads = append(payloads, a)
		}
	}
	e := envelope{
		TargetCookie:             r.TargetCookie,
		TargetLocationHintCookie: r.TargetLocationHintCookie,
		ResponseTokens:           r.ResponseTokens,
		AnalyticsDetails:         payloads,
		Traces:                   len(r.Trace),
		DecisioningMethod:        r.Meta.DecisioningMethod,
		Attributes:               attrs,
	}
	return normalizeEnvelope(t, c, e, r.Response, "Node SDK")
}

var (
	cookieExpiry     = regexp.MustCompile(`#(\d+)(\||$)`)
	generatedSession = regexp.MustCompile(`^session#[^#]*#`)
)

// normalizeEnvelope sets e.Response from the parsed answer raw and replaces
// the tntId, the request id, a generated session id and cookie expiry times
// with placeholders, after checking the expiry times.
func normalizeEnvelope(t *testing.T, wc wireCase, e envelope, raw json.RawMessage, who string) envelope {
	t.Helper()
	var dr target.DeliveryResponse
	require.NoError(t, json.Unmarshal(raw, &dr), "%s: parsed answer", who)
	if c := e.TargetCookie; c != nil {
		if wc.sessionID == "" && !strings.Contains(wc.targetCookie, "session#") {
			c.Value = generatedSession.ReplaceAllString(c.Value, "session#<generated>#")
		}
		now := time.Now().Unix()
		ages := []int64{1860, 63244800} // session, then PC
		n := 0
		c.Value = cookieExpiry.ReplaceAllStringFunc(c.Value, func(m string) string {
			sub := cookieExpiry.FindStringSubmatch(m)
			exp, _ := strconv.ParseInt(sub[1], 10, 64)
			if n < len(ages) {
				// The cookie was made when the call ended, at most now: its
				// expiry is never later than now+age, and a loaded machine
				// may have taken a while between that call and this check.
				assert.LessOrEqual(t, exp, now+ages[n]+1, "%s: expiry of mbox cookie entry %d", who, n)
				assert.GreaterOrEqual(t, exp, now+ages[n]-300, "%s: expiry of mbox cookie entry %d", who, n)
			}
			n++
			return "#<expires>" + sub[2]
		})
	}
	text := string(raw)
	if dr.ID != nil && dr.ID.TntID != "" {
		tnt := dr.ID.TntID
		text = strings.ReplaceAll(text, tnt, "<tntId>")
		if e.TargetCookie != nil {
			e.TargetCookie.Value = strings.ReplaceAll(e.TargetCookie.Value, tnt, "<tntId>")
		}
	}
	if dr.RequestID != "" {
		text = strings.ReplaceAll(text, dr.RequestID, "<requestId>")
	}
	require.NoError(t, json.Unmarshal([]byte(text), &e.Response))
	return e
}

var (
	uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$`)
	sdidForm = regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
)

// normalizeWire decodes r and replaces what each side generates (request
// id, supplemental data id, a session id the case did not give, telemetry
// ids, times and durations) with placeholders, after checking its form.
func normalizeWire(t *testing.T, c wireCase, r targettest.RecordedRequest, who string) wireRequest {
	t.Helper()
	w := wireRequest{
		Method: r.Method, Host: r.Host, Path: r.Path, Query: url.Values{},
		ContentType: r.Header.Get("Content-Type"),
	}
	for k, v := range r.Query {
		w.Query[k] = slices.Clone(v)
	}
	require.NoError(t, json.Unmarshal(r.Body, &w.Body), "%s sent a body that is not a JSON object", who)
	assert.NotEmpty(t, r.Header.Get("X-Request-Id"), "%s sends X-Request-Id", who)

	if c.sessionID == "" && !strings.Contains(c.targetCookie, "session#") {
		assert.Regexp(t, uuidForm, w.Query.Get("sessionId"), "%s generates a UUID session id", who)
		w.Query.Set("sessionId", "<generated>")
	}
	if id, ok := w.Body["requestId"].(string); assert.True(t, ok, "%s sends a requestId", who) {
		assert.Regexp(t, uuidForm, id, "%s: requestId", who)
		w.Body["requestId"] = "<generated>"
	}
	if a := analyticsOf(w.Body); a != nil {
		if sdid, ok := a["supplementalDataId"].(string); ok {
			assert.Regexp(t, sdidForm, sdid, "%s: supplementalDataId", who)
			a["supplementalDataId"] = "<generated>"
		}
	}
	for _, e := range telemetryEntries(w.Body) {
		for _, k := range []string{"requestId", "timestamp", "execution", "parsing"} {
			if _, ok := e[k]; ok {
				e[k] = "<generated>"
			}
		}
		if req, ok := e["request"].(map[string]any); ok {
			for k := range req {
				req[k] = "<measured>"
			}
		}
	}
	return w
}

// dropNodeOnly deletes key from the Node object when the Go object, present
// too, lacks it, and reports whether it did.
func dropNodeOnly(goObj, nodeObj map[string]any, key string) bool {
	if goObj == nil || nodeObj == nil {
		return false
	}
	_, inGo := goObj[key]
	_, inNode := nodeObj[key]
	if inGo || !inNode {
		return false
	}
	delete(nodeObj, key)
	return true
}

// analyticsOf returns body's experienceCloud.analytics, or nil.
func analyticsOf(body map[string]any) map[string]any {
	ec, _ := body["experienceCloud"].(map[string]any)
	a, _ := ec["analytics"].(map[string]any)
	return a
}

// telemetryEntries returns the telemetry entries of body.
func telemetryEntries(body map[string]any) []map[string]any {
	tel, _ := body["telemetry"].(map[string]any)
	list, _ := tel["entries"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestInteropErrorAnswer shows how each SDK meets a request the edge
// rejects: Adobe's Node.js SDK sends it 11 times (its fetch wrapper retries
// every failure 10 times, 4xx included, without a pause) and reports only
// the status text; the Go client sends it once, since a 4xx cannot succeed
// on retry, and returns the edge's status and message in an
// *target.APIError, even with a retry policy.
func TestInteropErrorAnswer(t *testing.T) {
	t.Parallel()
	node := requireNodeSDK(t)
	srv := targettest.NewServer(targettest.Config{NoCluster: true})
	t.Cleanup(srv.Close)
	// Both SDKs pass this request on; the edge rejects the profile parameter
	// among the mbox parameters, as the specification says.
	const request = `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "a", "index": 0, "parameters": {"profile.age": "30"}}]}}`

	var req map[string]any
	require.NoError(t, json.Unmarshal([]byte(request), &req))
	out := runNodeAllowingErrors(t, node, nodeRun{Config: nodeConfig(srv.Addr()), Calls: []nodeCall{
		{Call: "getOffers", Options: map[string]any{"sessionId": "error-session", "request": req}},
	}})
	require.False(t, out.Results[0].OK)
	assert.Equal(t, "Bad Request", out.Results[0].Error)
	assert.Len(t, srv.Requests(), 11, "the Node SDK retries a 400 ten times")
	srv.Reset()

	cfg := srv.ClientConfig()
	cfg.Retry = target.RetryPolicy{MaxAttempts: 3}
	client, err := target.NewClient(cfg)
	require.NoError(t, err)
	var r target.DeliveryRequest
	require.NoError(t, json.Unmarshal([]byte(request), &r))
	_, err = client.GetOffers(t.Context(), target.GetOffersOptions{Request: r, SessionID: "error-session"}).Await(t.Context())
	var apiErr *target.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Status)
	assert.Contains(t, apiErr.Message, "execute.mboxes[0].parameters")
	assert.Len(t, srv.Requests(), 1, "the Go client does not retry a 400")
}
