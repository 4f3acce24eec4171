package ondevice_test

import (
	"testing"

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
