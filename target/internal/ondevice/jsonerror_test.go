package ondevice_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/ondevice"
)

// A malformed artifact's error says what is wrong in the artifact's terms
// (the JSON field and the kind of value), never the Go types it decodes
// into, and still wraps ErrArtifactInvalid.
func TestArtifactErrorsNameFieldsNotGoTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ artifact, want string }{
		{`{"version":1}`, "artifact: field version: want a string, got a JSON number"},
		{`{"version":"1.0.0","meta":[]}`, "artifact: field meta: want an object, got a JSON array"},
		{`{"version":"1.0.0","localMboxes":"m"}`, "artifact: field localMboxes: want an array, got a JSON string"},
		{`{"version":"1.0.0","geoTargetingEnabled":"yes"}`, "artifact: field geoTargetingEnabled: want a boolean, got a JSON string"},
		{`{"version":"1.0.0","rules":{"mboxes":{"m":[{"consequence":{"options":[{"type":3}]}}]}}}`, "artifact: field rules.mboxes.consequence.options.type: want a string, got a JSON number"},
		{`[]`, "artifact: want an object, got a JSON array"},
		{`{"version":`, "artifact: not JSON at byte 11: unexpected end of JSON input"},
		{`{"version" "1"}`, "artifact: not JSON at byte 12"},
	} {
		_, err := ondevice.ParseArtifact([]byte(tc.artifact))
		require.ErrorIs(t, err, ondevice.ErrArtifactInvalid, tc.artifact)
		assert.Contains(t, err.Error(), tc.want, tc.artifact)
		for _, leak := range []string{"Go ", "struct", "Document", "Rule", "Option", "[]", "map["} {
			assert.NotContains(t, err.Error(), leak, tc.artifact)
		}
	}
}
