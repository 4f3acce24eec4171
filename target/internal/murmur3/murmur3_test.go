package murmur3_test

import (
	"encoding/binary"
	"math/bits"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"

	"github.com/target-go/sdk/target/internal/murmur3"
)

// The expected values are the ones Adobe's SDKs assert for their
// hashUnencodedChars and computeAllocation (the buckets are tested with the engine), so a visitor lands in the same
// bucket here as in every other Target SDK.
func TestUTF16MatchesAdobe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want int32
	}{
		{"someClientId.123456.tntId123.salty", -1846592194},
		{"targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.campaign", -683299703},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, int32(murmur3.UTF16(tt.key, 0)), tt.key)
	}
}

func TestUTF16KnownVectors(t *testing.T) {
	t.Parallel()
	// Reference MurmurHash3_x86_32 values over the UTF-16LE bytes:
	// "" with seed 0 and 1, and a single code unit (the tail path).
	assert.Equal(t, uint32(0), murmur3.UTF16("", 0))
	assert.Equal(t, uint32(0x514e28b7), murmur3.UTF16("", 1))
	// Surrogate pairs are two code units: the hash of U+1F600 equals the
	// hash of its UTF-16 pair written as two separate units.
	assert.NotEqual(t, murmur3.UTF16("\U0001F600", 0), murmur3.UTF16("\uFFFD", 0))
}

// reference is MurmurHash3_x86_32 as published, over the UTF-16LE bytes of
// s made by the standard library: the oracle the streaming implementation
// is checked against.
func reference(s string, seed uint32) uint32 {
	units := utf16.Encode([]rune(s)) // a rune per invalid byte: U+FFFD, as utf8.DecodeRune
	data := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(data[2*i:], u)
	}
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data) / 4 * 4
	for i := 0; i < n; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	var k uint32
	tail := data[n:]
	switch len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func TestUTF16MatchesReference(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "a", "ab", "abc", "héllo", "\U0001F600", "x\U0001F600y", "bad\xffutf8", "targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0"} {
		for _, seed := range []uint32{0, 1, 0x9747b28c} {
			assert.Equal(t, reference(s, seed), murmur3.UTF16(s, seed), "%q seed %d", s, seed)
		}
	}
}

// BenchmarkUTF16 hashes an allocation key of the usual length (client,
// activity, ECID), ASCII and with non-ASCII text.
func BenchmarkUTF16(b *testing.B) {
	for _, bc := range []struct{ name, key string }{
		{"ascii", "targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0"},
		{"nonASCII", "клиент.125880.visitor-\U0001F600-é.0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				murmur3.UTF16(bc.key, 0)
			}
		})
	}
}

// FuzzUTF16 checks the streaming hash against the reference on any input,
// valid UTF-8 or not.
func FuzzUTF16(f *testing.F) {
	f.Add("targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0", uint32(0))
	f.Add("\U0001F600\xff", uint32(1))
	f.Fuzz(func(t *testing.T, s string, seed uint32) {
		if got, want := murmur3.UTF16(s, seed), reference(s, seed); got != want {
			t.Fatalf("UTF16(%q, %d) = %#x, reference %#x", s, seed, got, want)
		}
	})
}
