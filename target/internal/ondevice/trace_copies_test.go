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

// A trace's evaluatedCampaignTargets[].campaignId and campaignType are
// copies of the rule's meta values, not the values themselves. Rule meta is
// any JSON; when activity.id or activity.type is an object, a caller
// writing into one trace would otherwise change the artifact, hence later
// traces and response tokens.
func TestTraceCampaignIDIsACopy(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"responseTokens":["activity.id"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"meta":{"activity.id":{"k":"v"},"activity.type":["ab"]},"condition":true,
		"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}]}}}`))
	require.NoError(t, err)
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	e := &ondevice.Engine{Client: "acme", NewID: newID(), Now: func() time.Time { return now }}
	req := &delivery.Request{
		ID:      &delivery.VisitorID{TntID: "v"},
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
	require.NotEmpty(t, first.Trace)
	wantTrace, err := json.Marshal(first.Trace)
	require.NoError(t, err)
	wantTokens, err := json.Marshal(first.Options[0].ResponseTokens)
	require.NoError(t, err)
	targets := first.Trace["evaluatedCampaignTargets"].([]any)
	require.Len(t, targets, 1)
	tt := targets[0].(map[string]any)
	tt["campaignId"].(map[string]any)["k"] = "spoiled"
	tt["campaignType"].([]any)[0] = "spoiled"

	again := decide()
	gotTrace, err := json.Marshal(again.Trace)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantTrace), string(gotTrace), "a write to the first trace's campaignId changed the second trace")
	gotTokens, err := json.Marshal(again.Options[0].ResponseTokens)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantTokens), string(gotTokens), "a write to the first trace's campaignId changed the response tokens")
}

// The engine writes -0 as 0 where it builds values (tokens, trace
// contexts), as JSON.stringify does, and so also in a trace's campaign id,
// campaignId and campaignType, which come from the rule's meta: written as
// it is, an activity id of -0 would read "-0".
func TestTraceMetaNegativeZero(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"meta":{"activity.id":-0,"activity.type":-0},"condition":true,
		"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}]}}}`))
	require.NoError(t, err)
	e := &ondevice.Engine{Client: "acme", NewID: newID()}
	req := &delivery.Request{
		Trace:   &delivery.Trace{AuthorizationToken: "token"},
		Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}},
	}
	d, err := e.Decide(t.Context(), a, req, ondevice.Options{SessionID: "s"})
	require.NoError(t, err)
	b, err := json.Marshal(d.Response.Execute.Mboxes[0].Trace)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "-0", "%s", b)
}
