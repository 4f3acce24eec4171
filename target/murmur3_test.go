package target_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/target-go/sdk/target"
)

// The expected values are the ones Adobe's SDKs assert for their
// hashUnencodedChars and computeAllocation, so a visitor lands in the same
// bucket here as in every other Target SDK.
func TestMurmur3UTF16MatchesAdobe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want int32
	}{
		{"someClientId.123456.tntId123.salty", -1846592194},
		{"targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.campaign", -683299703},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, int32(target.Murmur3UTF16(tt.key, 0)), tt.key)
	}
}

func TestMurmur3UTF16KnownVectors(t *testing.T) {
	t.Parallel()
	// Reference MurmurHash3_x86_32 values over the UTF-16LE bytes:
	// "" with seed 0 and 1, and a single code unit (the tail path).
	assert.Equal(t, uint32(0), target.Murmur3UTF16("", 0))
	assert.Equal(t, uint32(0x514e28b7), target.Murmur3UTF16("", 1))
	// Surrogate pairs are two code units: the hash of U+1F600 equals the
	// hash of its UTF-16 pair written as two separate units.
	assert.NotEqual(t, target.Murmur3UTF16("\U0001F600", 0), target.Murmur3UTF16("\uFFFD", 0))
}

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
