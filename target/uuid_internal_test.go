package target

import (
	"encoding/hex"
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

// formatUUID writes every byte value at every place as hex.Encode does,
// with the version and variant bits set and the dashes at 8-4-4-4-12.
func TestFormatUUIDEveryByteAtEveryPlace(t *testing.T) {
	t.Parallel()
	for place := range 16 {
		for v := range 256 {
			var b [16]byte
			for i := range b {
				b[i] = byte(v + 37*i) // the other places vary too
			}
			b[place] = byte(v)
			want := b
			want[6] = want[6]&0x0f | 0x40
			want[8] = want[8]&0x3f | 0x80
			h := hex.EncodeToString(want[:])
			expect := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
			var s [uuidLen]byte
			formatUUID(s[:], b[:])
			if string(s[:]) != expect {
				t.Fatalf("byte %#02x at %d: %s, want %s", v, place, s[:], expect)
			}
		}
	}
}
