package ondevice_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// A response is the caller's: changing an option's content, in place or by
// appending to it, changes neither the artifact (later decisions) nor the
// other options of the same response.
func TestDecisionsDoNotShareTheArtifactsContent(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"condition":true,"consequence":{"name":"m","options":[{"type":"json","content":{"k":"first"}},{"type":"html","content":"second"}]}}]}}}`))
	require.NoError(t, err)
	e := &ondevice.Engine{Client: "acme", NewID: newID()}
	req := &delivery.Request{Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}}}
	options := func() []delivery.Option {
		d, err := e.Decide(t.Context(), a, req, ondevice.Options{SessionID: "s"})
		require.NoError(t, err)
		require.Len(t, d.Response.Execute.Mboxes, 1)
		require.Len(t, d.Response.Execute.Mboxes[0].Options, 2)
		return d.Response.Execute.Mboxes[0].Options
	}

	first := options()
	require.JSONEq(t, `{"k":"first"}`, string(first[0].Content))
	require.Equal(t, `"second"`, string(first[1].Content))
	_ = append(first[0].Content, `XXXXXXXXXXXX`...)
	assert.Equal(t, `"second"`, string(first[1].Content), "an append to one option's content reached the next")
	for i := range first {
		for j := range first[i].Content {
			first[i].Content[j] = 'X'
		}
	}

	again := options()
	assert.JSONEq(t, `{"k":"first"}`, string(again[0].Content))
	assert.Equal(t, `"second"`, string(again[1].Content))
}

// The parts of the rule context that decisions share (the browser context
// per user agent, the geo context per place, the page context per URL, an
// empty mbox context) and a rule's response tokens reach the caller in
// traces and responses; writing to what the caller got must not change a
// later decision.
func TestDecisionsDoNotShareTheirContext(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","meta":{"environment":"production","extra":{"k":["v"]}},"localMboxes":["m"],"responseTokens":["activity.id","geo.city"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"meta":{"activity.id":1},"condition":{"and":[
			{"==":[{"var":"user.browserType"},"chrome"]},{"==":[{"var":"geo.city"},"SAN FRANCISCO"]},
			{"==":[{"var":"page.domain"},"example.com"]},{"missing":["mbox.x"]}]},
		"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}]}}}`))
	require.NoError(t, err)
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	e := &ondevice.Engine{Client: "acme", NewID: newID(), Now: func() time.Time { return now }}
	lat := 37.75
	req := &delivery.Request{
		ID: &delivery.VisitorID{TntID: "v"},
		Context: &delivery.Context{
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
			Address:   &delivery.Address{URL: "https://www.example.com/"},
			Geo:       &delivery.Geo{City: "SAN FRANCISCO", Latitude: &lat},
		},
		Trace:   &delivery.Trace{AuthorizationToken: "token"},
		Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}},
	}
	decide := func() delivery.MboxResponse {
		d, err := e.Decide(t.Context(), a, req, ondevice.Options{SessionID: "s"})
		require.NoError(t, err)
		require.Len(t, d.Response.Execute.Mboxes, 1)
		return d.Response.Execute.Mboxes[0]
	}
	first := decide()
	require.Len(t, first.Options, 1, "the rule matches: %v", first.Trace)
	assert.Equal(t, map[string]any{"activity.id": float64(1), "geo.city": "SAN FRANCISCO", "activity.decisioningMethod": "on-device"}, first.Options[0].ResponseTokens)
	require.NotEmpty(t, first.Trace)
	wantTrace, err := json.Marshal(first.Trace)
	require.NoError(t, err)
	spoil(first.Trace)
	spoil(first.Options[0].ResponseTokens)

	again := decide()
	require.Len(t, again.Options, 1, "a write to the first trace changed the context of the second decision")
	assert.Equal(t, map[string]any{"activity.id": float64(1), "geo.city": "SAN FRANCISCO", "activity.decisioningMethod": "on-device"}, again.Options[0].ResponseTokens)
	gotTrace, err := json.Marshal(again.Trace)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantTrace), string(gotTrace), "a write to the first trace changed the second")
}

// spoil overwrites every value of every map and slice in v and adds a key
// to every map.
func spoil(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			spoil(e)
			if _, nested := e.(map[string]any); !nested {
				x[k] = "spoiled"
			}
		}
		x["x"] = "spoiled"
	case []any:
		for i, e := range x {
			spoil(e)
			x[i] = "spoiled"
		}
	}
}

// A response token whose value is an object or a list (rule meta is any
// JSON) is the caller's copy: writing into it changes neither the artifact
// nor a later decision.
func TestDecisionsDoNotShareNestedResponseTokens(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"responseTokens":["offer.name","option.name"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"meta":{"offer.name":{"k":["v",{"deep":1}]},"option.name":["o"]},"condition":true,
		"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}]}}}`))
	require.NoError(t, err)
	e := &ondevice.Engine{Client: "acme", NewID: newID()}
	req := &delivery.Request{Prefetch: &delivery.PrefetchRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}}}
	tokens := func() map[string]any {
		d, err := e.Decide(t.Context(), a, req, ondevice.Options{})
		require.NoError(t, err)
		require.Len(t, d.Response.Prefetch.Mboxes, 1)
		require.Len(t, d.Response.Prefetch.Mboxes[0].Options, 1)
		return d.Response.Prefetch.Mboxes[0].Options[0].ResponseTokens
	}
	want := map[string]any{
		"offer.name":                 map[string]any{"k": []any{"v", map[string]any{"deep": float64(1)}}},
		"option.name":                []any{"o"},
		"activity.decisioningMethod": "on-device",
	}
	first := tokens()
	require.Equal(t, want, first)
	spoil(first)
	assert.Equal(t, want, tokens(), "a write into the first response's tokens changed the second")
}
