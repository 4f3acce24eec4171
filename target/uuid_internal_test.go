package target

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// newUUIDs mints distinct version 4 UUIDs, however many are asked for
// (more than four take several reads).
func TestNewUUIDsAreDistinctVersion4(t *testing.T) {
	t.Parallel()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for n := range 10 {
		ids := make([]string, n)
		newUUIDs(ids)
		for _, id := range ids {
			assert.Regexp(t, v4, id)
			assert.False(t, seen[id], "%s minted twice", id)
			seen[id] = true
		}
	}
	assert.Len(t, seen, 45)
	assert.Regexp(t, v4, newUUID())
}
