package target_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/target-go/sdk/target"
)

// decide runs one engine decision and decodes the response.
func decide(t *testing.T, artifact, request string) map[string]any {
	t.Helper()
	resp, _, err := target.Decide(t.Context(), target.EngineConfig{Client: "acme", OrganizationID: "org", Artifact: []byte(artifact)}, []byte(request), "s", "")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(resp, &m))
	return m
}

func TestAllViewsComeInArtifactOrder(t *testing.T) {
	t.Parallel()
	const artifact = `{"version":"1.0.0","localViews":["zeta","alpha"],"rules":{"views":{
		"zeta":[{"ruleKey":"z","activityId":1,"condition":true,"consequence":{"name":"zeta","options":[{"type":"actions","content":[]}]}}],
		"alpha":[{"ruleKey":"a","activityId":2,"condition":true,"consequence":{"name":"alpha","options":[{"type":"actions","content":[]}]}}]}}}`
	m := decide(t, artifact, `{"prefetch":{"views":[{}]}}`)
	views := m["prefetch"].(map[string]any)["views"].([]any)
	require.Len(t, views, 2)
	assert.Equal(t, "zeta", views[0].(map[string]any)["name"])
	assert.Equal(t, "alpha", views[1].(map[string]any)["name"])
}

func TestGlobalMboxAnswersEveryMatchingActivityOnce(t *testing.T) {
	t.Parallel()
	const artifact = `{"version":"1.0.0","localMboxes":["target-global-mbox"],"rules":{"mboxes":{"target-global-mbox":[
		{"ruleKey":"a1","activityId":1,"condition":true,"consequence":{"name":"target-global-mbox","options":[{"type":"html","content":"first"}]}},
		{"ruleKey":"a1","activityId":1,"condition":true,"consequence":{"name":"target-global-mbox","options":[{"type":"html","content":"second of the same rule key"}]}},
		{"ruleKey":"b1","activityId":2,"condition":{"==":[{"var":"mbox.x"},"1"]},"consequence":{"name":"target-global-mbox","options":[{"type":"html","content":"third"}]}}]}}}`
	m := decide(t, artifact, `{"execute":{"pageLoad":{"parameters":{"x":"1"}}}}`)
	options := m["execute"].(map[string]any)["pageLoad"].(map[string]any)["options"].([]any)
	require.Len(t, options, 2)
	assert.Equal(t, "first", options[0].(map[string]any)["content"])
	assert.Equal(t, "third", options[1].(map[string]any)["content"])
}

func TestPropertyTokensFilterRules(t *testing.T) {
	t.Parallel()
	const artifact = `{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"p","activityId":1,"propertyTokens":["tok-a"],"condition":true,"consequence":{"name":"m","options":[{"type":"html","content":"for a"}]}},
		{"ruleKey":"q","activityId":2,"condition":true,"consequence":{"name":"m","options":[{"type":"html","content":"for all"}]}}]}}}`
	content := func(request string) any {
		m := decide(t, artifact, request)
		return m["execute"].(map[string]any)["mboxes"].([]any)[0].(map[string]any)["options"].([]any)[0].(map[string]any)["content"]
	}
	assert.Equal(t, "for a", content(`{"property":{"token":"tok-a"},"execute":{"mboxes":[{"name":"m","index":1}]}}`))
	assert.Equal(t, "for all", content(`{"property":{"token":"tok-b"},"execute":{"mboxes":[{"name":"m","index":1}]}}`))
	assert.Equal(t, "for all", content(`{"execute":{"mboxes":[{"name":"m","index":1}]}}`))
}

// The expected values are the ones Adobe's SDKs assert for their
// computeAllocation, so a visitor lands in the same bucket here as in every
// other Target SDK.
func TestBucketMatchesAdobe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want float64
	}{
		{"someClientId.123456.ecid123.salty", 29.06},
		{"someClientId.123456.tntId123.salty", 21.94},
		{"someClientId.123456.thirtPartyId123.salty", 73.15},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, target.BucketOf(tt.key), tt.key)
	}
}
