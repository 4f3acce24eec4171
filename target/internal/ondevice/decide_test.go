package ondevice_test

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// newID numbers the ids of a test's decisions.
func newID() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("id-%d", n.Add(1)) }
}

// decideJSON parses the artifact and the request and makes one decision.
func decideJSON(t testing.TB, e *ondevice.Engine, artifact, request []byte) (*ondevice.Decision, error) {
	t.Helper()
	a, err := ondevice.ParseArtifact(artifact)
	if err != nil {
		return nil, err
	}
	var req delivery.Request
	if err := json.Unmarshal(request, &req); err != nil {
		return nil, err
	}
	return e.Decide(t.Context(), a, &req, ondevice.Options{SessionID: "s"})
}

// decide runs one decision for the client "acme" and decodes the response.
func decide(t *testing.T, artifact, request string) map[string]any {
	t.Helper()
	d, err := decideJSON(t, &ondevice.Engine{Client: "acme", NewID: newID()}, []byte(artifact), []byte(request))
	require.NoError(t, err)
	resp, err := json.Marshal(d.Response)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(resp, &m))
	return m
}

func TestDecideWithoutArtifactOrIDs(t *testing.T) {
	t.Parallel()
	_, err := (&ondevice.Engine{NewID: newID()}).Decide(t.Context(), nil, &delivery.Request{}, ondevice.Options{})
	require.ErrorIs(t, err, ondevice.ErrArtifactNotReady)
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0"}`))
	require.NoError(t, err)
	_, err = (&ondevice.Engine{}).Decide(t.Context(), a, &delivery.Request{}, ondevice.Options{})
	require.Error(t, err)
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
