package targettest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func TestDeliveryRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{})
	const mbox = `{"name":"a","index":1}`
	tests := []struct {
		name   string
		body   string
		status int
		want   string // in the message
	}{
		{"empty body", ``, 400, "body is empty"},
		{"not JSON", `{"context":`, 400, "not valid JSON"},
		{"not an object", `[1,2]`, 400, "must be a JSON object"},
		{"no context", `{}`, 400, "context is required"},
		{"null context", `{"context":null}`, 400, "context is required"},
		{"no channel", `{"context":{}}`, 400, "context.channel is required"},
		{"bad channel", `{"context":{"channel":"tv"}}`, 400, `context.channel "tv" is not one of mobile, web`},
		{"channel type", `{"context":{"channel":1}}`, 400, "context.channel"},
		{"mobile platform without device type", `{"context":{"channel":"mobile","mobilePlatform":{"platformType":"ios"}}}`, 400, "context.mobilePlatform.deviceType is required"},
		{"mbox without name", `{"context":{"channel":"web"},"execute":{"mboxes":[{"index":1}]}}`, 400, "execute.mboxes[0].name is required"},
		{"mbox with blank name", `{"context":{"channel":"web"},"prefetch":{"mboxes":[{"index":1,"name":" "}]}}`, 400, "prefetch.mboxes[0].name is required"},
		{"mbox without index", `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a"}]}}`, 400, "execute.mboxes[0].index is required"},
		{"duplicate index", `{"context":{"channel":"web"},"execute":{"mboxes":[` + mbox + `,{"name":"b","index":1}]}}`, 400, "execute.mboxes[1].index 1 is not unique"},
		{"duplicate prefetch index", `{"context":{"channel":"web"},"prefetch":{"mboxes":[` + mbox + `,` + mbox + `]}}`, 400, "prefetch.mboxes[1].index 1 is not unique"},
		{"null mbox", `{"context":{"channel":"web"},"execute":{"mboxes":[null]}}`, 400, "execute.mboxes[0] is null"},
		{"profile parameter as mbox parameter", `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a","index":1,"parameters":{"profile.age":"3"}}]}}`, 400, "execute.mboxes[0].parameters"},
		{"notification without id", `{"context":{"channel":"web"},"notifications":[{"type":"display","timestamp":1}]}`, 400, "notifications[0].id is required"},
		{"notification without type", `{"context":{"channel":"web"},"notifications":[{"id":"n","timestamp":1}]}`, 400, "notifications[0].type is required"},
		{"notification bad type", `{"context":{"channel":"web"},"notifications":[{"id":"n","type":"view","timestamp":1}]}`, 400, `notifications[0].type "view" is not one of click, display`},
		{"notification without timestamp", `{"context":{"channel":"web"},"notifications":[{"id":"n","type":"click"}]}`, 400, "notifications[0].timestamp is required"},
		{"notification mbox and view", `{"context":{"channel":"web"},"notifications":[{"id":"n","type":"click","timestamp":1,"mbox":{"name":"a"},"view":{"name":"v"}}]}`, 400, "mutually exclusive"},
		{"customer id without code", `{"context":{"channel":"web"},"id":{"customerIds":[{"id":"1","authenticatedState":"authenticated"}]}}`, 400, "id.customerIds[0].integrationCode is required"},
		{"customer id bad state", `{"context":{"channel":"web"},"id":{"customerIds":[{"id":"1","integrationCode":"c","authenticatedState":"yes"}]}}`, 400, "id.customerIds[0].authenticatedState"},
		{"tntId with two dots", `{"context":{"channel":"web"},"id":{"tntId":"a.b.35_0"}}`, 400, "id.tntId"},
		{"property without token", `{"context":{"channel":"web"},"property":{}}`, 400, "property.token is required"},
		{"trace without token", `{"context":{"channel":"web"},"trace":{}}`, 400, "trace.authorizationToken is required"},
		{"long request id", `{"context":{"channel":"web"},"requestId":"` + strings.Repeat("r", 129) + `"}`, 400, "requestId is longer than 128"},
		{"bad supplemental data id", `{"context":{"channel":"web"},"experienceCloud":{"analytics":{"supplementalDataId":"x"}}}`, 400, "experienceCloud.analytics.supplementalDataId"},
		{"bad logging", `{"context":{"channel":"web"},"experienceCloud":{"analytics":{"logging":"both"}}}`, 400, "experienceCloud.analytics.logging"},
		{"bad AAM location hint", `{"context":{"channel":"web"},"experienceCloud":{"audienceManager":{"locationHint":0}}}`, 400, "experienceCloud.audienceManager.locationHint"},
		{"blank AAM blob", `{"context":{"channel":"web"},"experienceCloud":{"audienceManager":{"blob":" "}}}`, 400, "experienceCloud.audienceManager.blob"},
		{"long AAM blob", `{"context":{"channel":"web"},"experienceCloud":{"audienceManager":{"blob":"` + strings.Repeat("b", 1025) + `"}}}`, 400, "experienceCloud.audienceManager.blob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := post(t, srv, deliveryURL(srv), tt.body)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			assert.Equal(t, "application/json;charset=UTF-8", resp.Header.Get("Content-Type"))
			var e target.UnexpectedError
			require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
			assert.Equal(t, tt.status, e.Status)
			assert.Contains(t, e.Message, tt.want)
		})
	}
}

func TestDeliveryChecksQueryAndMethod(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{OrganizationID: "org@AdobeOrg"})
	valid := `{"context":{"channel":"web"}}`
	tests := []struct {
		name, method, path string
		query              url.Values
		contentType        string
		status             int
		want               string
	}{
		{"no imsOrgId", "POST", targettest.DeliveryPath, url.Values{"sessionId": {"s"}}, "", 400, "imsOrgId query parameter is required"},
		{"other imsOrgId", "POST", targettest.DeliveryPath, url.Values{"imsOrgId": {"bad"}, "sessionId": {"s"}}, "", 400, "Invalid imsOrg - bad"},
		{"no sessionId", "POST", targettest.DeliveryPath, url.Values{"imsOrgId": {"org@AdobeOrg"}}, "", 400, "sessionId query parameter is required"},
		{"sessionId with slash", "POST", targettest.DeliveryPath, url.Values{"imsOrgId": {"org@AdobeOrg"}, "sessionId": {"a/b"}}, "", 400, "sessionId"},
		{"text body", "POST", targettest.DeliveryPath, url.Values{"imsOrgId": {"org@AdobeOrg"}, "sessionId": {"s"}}, "text/plain", 415, "not application/json"},
		{"GET", "GET", targettest.DeliveryPath, nil, "", 405, "method GET not allowed"},
		{"other path", "POST", "/rest/v1/mbox", nil, "", 404, "no such endpoint: /rest/v1/mbox"},
		{"valid", "POST", targettest.DeliveryPath, url.Values{"imsOrgId": {"org@AdobeOrg"}, "sessionId": {"s"}, "version": {"2.4.3"}}, "application/json; charset=utf-8", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path+"?"+tt.query.Encode(), strings.NewReader(valid))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := srv.HTTPClient().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var e target.UnexpectedError
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.status, e.Status)
			assert.Contains(t, e.Message, tt.want)
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", resp.Header.Get("Allow"))
			}
		})
	}
}

var offers = targettest.Offers{
	Mboxes: map[string]targettest.Offer{
		"hero": {
			Options: []target.Option{{Type: target.OptionTypeHTML, Content: json.RawMessage(`"<p>Hello</p>"`), ResponseTokens: map[string]any{"activity.id": "1"}}},
			Metrics: []target.Metric{{Type: target.MetricTypeClick, Selector: "#hero"}},
		},
		"flags": {
			Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{"dark":true}`), EventToken: "given-token"}},
		},
	},
	Views: map[string]targettest.Offer{
		"home": {Options: []target.Option{{Type: target.OptionTypeActions, Content: json.RawMessage(`[{"type":"setHtml","selector":"#h","content":"x"}]`)}}},
		"cart": {Options: []target.Option{{Type: target.OptionTypeActions, Content: json.RawMessage(`[]`)}}},
	},
	PageLoad: &targettest.Offer{Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{"a":1}`)}}},
}

func TestDeliveryAnswersFromOffers(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Client: "acme", Offers: offers})
	got := deliver(t, srv, &target.DeliveryRequest{
		RequestID: "req-1",
		Context:   web(),
		Execute: &target.ExecuteRequest{
			PageLoad: &target.RequestDetails{},
			Mboxes:   []target.MboxRequest{{Index: 7, Name: "hero"}, {Index: 0, Name: "unknown"}},
		},
	})
	assert.Equal(t, 200, got.Status)
	assert.Equal(t, "req-1", got.RequestID)
	assert.Equal(t, "acme", got.Client)
	require.NotNil(t, got.Execute)
	require.Len(t, got.Execute.Mboxes, 2)

	hero := got.Execute.Mboxes[0]
	assert.Equal(t, 7, hero.Index)
	assert.Equal(t, "hero", hero.Name)
	require.Len(t, hero.Options, 1)
	assert.JSONEq(t, `"<p>Hello</p>"`, string(hero.Options[0].Content))
	assert.Equal(t, target.OptionTypeHTML, hero.Options[0].Type)
	assert.Empty(t, hero.Options[0].EventToken, "executed options carry no event token")
	assert.Equal(t, map[string]any{"activity.id": "1"}, hero.Options[0].ResponseTokens)
	require.Len(t, hero.Metrics, 1)
	assert.NotEmpty(t, hero.Metrics[0].EventToken, "click metrics carry a token")

	assert.Equal(t, target.MboxResponse{Index: 0, Name: "unknown"}, got.Execute.Mboxes[1])
	require.NotNil(t, got.Execute.PageLoad)
	require.Len(t, got.Execute.PageLoad.Options, 1)
	assert.Empty(t, got.Execute.PageLoad.Options[0].EventToken)
	assert.Nil(t, got.Prefetch)
	assert.Nil(t, got.Notifications)
}

func TestDeliveryPrefetchCarriesEventTokens(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Offers: offers})
	req := &target.DeliveryRequest{
		Context: web(),
		Prefetch: &target.PrefetchRequest{
			PageLoad: &target.RequestDetails{},
			Mboxes:   []target.MboxRequest{{Index: 1, Name: "hero"}, {Index: 2, Name: "flags"}},
			Views:    []target.ViewRequest{{}},
		},
	}
	got := deliver(t, srv, req)
	require.NotNil(t, got.Prefetch)
	require.Len(t, got.Prefetch.Mboxes, 2)
	heroToken := got.Prefetch.Mboxes[0].Options[0].EventToken
	assert.NotEmpty(t, heroToken)
	assert.Equal(t, "given-token", got.Prefetch.Mboxes[1].Options[0].EventToken, "a configured token is kept")
	assert.NotEmpty(t, got.Prefetch.PageLoad.Options[0].EventToken)

	require.Len(t, got.Prefetch.Views, 2, "a view request without a name gets every view")
	assert.Equal(t, "cart", got.Prefetch.Views[0].Name)
	assert.Equal(t, "home", got.Prefetch.Views[1].Name)
	assert.NotEqual(t, got.Prefetch.Views[0].Options[0].EventToken, got.Prefetch.Views[1].Options[0].EventToken)

	again := deliver(t, srv, req)
	assert.Equal(t, heroToken, again.Prefetch.Mboxes[0].Options[0].EventToken, "derived tokens are stable")

	named := deliver(t, srv, &target.DeliveryRequest{
		Context:  web(),
		Prefetch: &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home", Key: "k"}, {Name: "nowhere"}}},
	})
	require.Len(t, named.Prefetch.Views, 1)
	assert.Equal(t, "home", named.Prefetch.Views[0].Name)
	assert.Equal(t, "k", named.Prefetch.Views[0].Key)
}

func TestDeliveryIdentity(t *testing.T) {
	t.Parallel()
	uuid := `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
	tests := []struct {
		name     string
		cfg      targettest.Config
		id       *target.VisitorID
		wantTnt  string // regexp
		wantEdge string
	}{
		{"minted with default cluster", targettest.Config{}, nil, `^` + uuid + `\.35_0$`, "mboxedge35.tt.omtrdc.net"},
		{"minted with cluster", targettest.Config{Cluster: "28"}, &target.VisitorID{ThirdPartyID: "t"}, `^` + uuid + `\.28_0$`, "mboxedge28.tt.omtrdc.net"},
		{"minted without cluster", targettest.Config{NoCluster: true}, nil, `^` + uuid + `$`, ""},
		{"kept", targettest.Config{}, &target.VisitorID{TntID: "abc.31_2"}, `^abc\.31_2$`, "mboxedge35.tt.omtrdc.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := setup(t, tt.cfg)
			got := deliver(t, srv, &target.DeliveryRequest{Context: web(), ID: tt.id})
			require.NotNil(t, got.ID)
			assert.Regexp(t, regexp.MustCompile(tt.wantTnt), got.ID.TntID)
			assert.Equal(t, tt.wantEdge, got.EdgeHost)
			assert.Regexp(t, regexp.MustCompile(`^`+uuid+`$`), got.RequestID, "a request id is minted")
			if tt.id != nil {
				assert.Equal(t, tt.id.ThirdPartyID, got.ID.ThirdPartyID, "the other ids are echoed")
			}
		})
	}
}

func TestDeliveryEchoesNotifications(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{})
	got := deliver(t, srv, &target.DeliveryRequest{
		Context: web(),
		Notifications: []target.Notification{
			{ID: "n1", Type: target.MetricTypeDisplay, Timestamp: 1700000000000, Tokens: []string{"t"}, Mbox: &target.NotificationMbox{Name: "hero"}},
			{ID: "n2", Type: target.MetricTypeClick, Timestamp: 1700000000001, View: &target.NotificationView{Name: "home"}},
		},
	})
	assert.Equal(t, []target.NotificationResponse{{ID: "n1"}, {ID: "n2"}}, got.Notifications)
}

func TestDeliveryBeacon(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{})
	resp, body := post(t, srv, deliveryURL(srv), &target.DeliveryRequest{
		Context:       &target.Context{Channel: target.ChannelWeb, Beacon: true},
		Notifications: []target.Notification{{ID: "n1", Type: target.MetricTypeDisplay, Timestamp: 1}},
	})
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, body)

	resp, body = post(t, srv, deliveryURL(srv), `{"context":{"channel":"web","beacon":true},"notifications":[{"id":"n1"}]}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a beacon is validated too: %s", body)
}

func TestDeliveryTrace(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Offers: offers})
	req := &target.DeliveryRequest{
		Context:       web(),
		Execute:       &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}}},
		Prefetch:      &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home"}}},
		Notifications: []target.Notification{{ID: "n", Type: target.MetricTypeDisplay, Timestamp: 1}},
	}
	untraced := deliver(t, srv, req)
	assert.Nil(t, untraced.Execute.Mboxes[0].Trace)

	req.Trace = &target.Trace{AuthorizationToken: "secret"}
	got := deliver(t, srv, req)
	tr := got.Execute.Mboxes[0].Trace
	require.NotNil(t, tr)
	assert.Equal(t, targettest.DefaultClient, tr["clientCode"])
	assert.Equal(t, map[string]any{"tntId": got.ID.TntID}, tr["profile"])
	request, ok := tr["request"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "execute", request["requestType"])
	assert.Equal(t, "session-1", request["sessionId"])
	assert.Equal(t, map[string]any{"name": "hero", "index": float64(1)}, request["mbox"])
	assert.NotNil(t, got.Prefetch.Views[0].Trace)
	assert.NotNil(t, got.Notifications[0].Trace)
}

// The canned answers of the reference data are what a real edge sends; the
// local edge's answer to the same request has the same shape.
func TestDeliveryAnswerShapeMatchesRealEdge(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Client: "unifiedjslab", Offers: targettest.Offers{
		Mboxes: map[string]targettest.Offer{
			"homepage": {
				Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{"browserName":"Google Chrome"}`)}},
				Metrics: []target.Metric{{Type: target.MetricTypeClick}},
			},
			"cart": {Options: []target.Option{{Type: target.OptionTypeHTML, Content: json.RawMessage(`"<p>Hello World</p>"`)}}},
		},
	}})
	resp, body := post(t, srv, deliveryURL(srv), &target.DeliveryRequest{
		Context:  web(),
		ID:       &target.VisitorID{TntID: "123.35_0"},
		Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "homepage"}}},
		Execute:  &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "cart"}}},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, map[string]any{"tntId": "123.35_0"}, got["id"])
	assert.Equal(t, "mboxedge35.tt.omtrdc.net", got["edgeHost"])
	assert.Equal(t, float64(200), got["status"])
	assert.ElementsMatch(t, []string{"status", "requestId", "client", "id", "edgeHost", "prefetch", "execute"}, keys(got))
	pm := got["prefetch"].(map[string]any)["mboxes"].([]any)[0].(map[string]any)
	assert.ElementsMatch(t, []string{"index", "name", "options", "metrics"}, keys(pm))
	assert.ElementsMatch(t, []string{"content", "type", "eventToken"}, keys(pm["options"].([]any)[0].(map[string]any)))
	assert.ElementsMatch(t, []string{"type", "eventToken"}, keys(pm["metrics"].([]any)[0].(map[string]any)))
	em := got["execute"].(map[string]any)["mboxes"].([]any)[0].(map[string]any)
	assert.ElementsMatch(t, []string{"content", "type"}, keys(em["options"].([]any)[0].(map[string]any)))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDeliveryAnalyticsForClientSideLogging(t *testing.T) {
	t.Parallel()
	payload := &target.AnalyticsResponse{Payload: &target.AnalyticsPayload{PE: "tnt", TNTA: "1:1:0|2"}}
	srv := setup(t, targettest.Config{Offers: targettest.Offers{
		Mboxes:   map[string]targettest.Offer{"hero": {Analytics: payload}},
		Views:    map[string]targettest.Offer{"home": {Analytics: payload}},
		PageLoad: &targettest.Offer{Analytics: payload},
	}})
	req := &target.DeliveryRequest{
		Context:  web(),
		Execute:  &target.ExecuteRequest{PageLoad: &target.RequestDetails{}, Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}}},
		Prefetch: &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home"}}},
	}
	for _, logging := range []target.LoggingType{"", target.LoggingServerSide, target.LoggingClientSide} {
		req.ExperienceCloud = &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{Logging: logging}}
		got := deliver(t, srv, req)
		want := (*target.AnalyticsResponse)(nil)
		if logging == target.LoggingClientSide {
			want = payload
		}
		assert.Equal(t, want, got.Execute.Mboxes[0].Analytics, "logging %q", logging)
		assert.Equal(t, want, got.Execute.PageLoad.Analytics, "logging %q", logging)
		assert.Equal(t, want, got.Prefetch.Views[0].Analytics, "logging %q", logging)
	}
}
