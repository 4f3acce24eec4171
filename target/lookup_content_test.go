package target_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestMboxContentAsDocumented: MboxContent takes the first option with
// content, in the executed decision and then in the prefetched one, as its
// documentation says: an executed option without content (first, or the
// only one) does not hide content after it or in the prefetched decision.
func TestMboxContentAsDocumented(t *testing.T) {
	t.Parallel()
	noContent := target.Option{Type: target.OptionTypeJSON}
	res := &target.Response{Response: &target.DeliveryResponse{
		Execute: &target.ExecuteResponse{Mboxes: []target.MboxResponse{
			{Name: "later", Options: []target.Option{noContent, jsonOption(`"second"`)}},
			{Name: "fallback", Options: []target.Option{noContent}},
			{Name: "both", Options: []target.Option{jsonOption(`"executed"`)}},
			{Name: "none", Options: []target.Option{noContent}},
		}},
		Prefetch: &target.PrefetchResponse{Mboxes: []target.PrefetchMboxResponse{
			{MboxResponse: target.MboxResponse{Name: "fallback", Options: []target.Option{noContent, jsonOption(`"prefetched"`)}}},
			{MboxResponse: target.MboxResponse{Name: "both", Options: []target.Option{jsonOption(`"prefetched"`)}}},
			{MboxResponse: target.MboxResponse{Name: "none"}},
		}},
	}}
	for mbox, want := range map[string]string{"later": "second", "fallback": "prefetched", "both": "executed"} {
		got, err := target.MboxContent[string](res, mbox)
		require.NoError(t, err, mbox)
		assert.Equal(t, want, got, mbox)
	}
	_, err := target.MboxContent[string](res, "none")
	require.ErrorIs(t, err, target.ErrNoContent)
}

// TestNullContentIsNoContent: an option whose content is the JSON null,
// or only white space, has no content: DecodeContent fails with
// ErrNoContent, and MboxContent falls back to the prefetched decision,
// here for an answer decoded from the edge's JSON.
func TestNullContentIsNoContent(t *testing.T) {
	t.Parallel()
	for name, raw := range map[string]string{"null": `null`, "spaced null": " null\n", "white space": " \t"} {
		_, err := target.DecodeContent[map[string]any](target.Option{Type: target.OptionTypeJSON, Content: json.RawMessage(raw)})
		require.ErrorIs(t, err, target.ErrNoContent, name)
	}
	var dr target.DeliveryResponse
	require.NoError(t, json.Unmarshal([]byte(`{
		"execute": {"mboxes": [{"index": 1, "name": "hero", "options": [{"type": "json", "content": null}]}]},
		"prefetch": {"mboxes": [{"index": 1, "name": "hero", "options": [{"type": "json", "content": {"title": "prefetched"}}]}]}
	}`), &dr))
	got, err := target.MboxContent[map[string]string](&target.Response{Response: &dr}, "hero")
	require.NoError(t, err)
	assert.Equal(t, "prefetched", got["title"])
	dr.Prefetch = nil
	_, err = target.MboxContent[map[string]string](&target.Response{Response: &dr}, "hero")
	require.ErrorIs(t, err, target.ErrNoContent)
}
