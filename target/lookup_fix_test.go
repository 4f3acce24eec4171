package target_test

import (
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
