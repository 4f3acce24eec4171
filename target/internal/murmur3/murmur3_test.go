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
	// Published MurmurHash3_x86_32 vectors, over bytes that are the
	// UTF-16LE code units written here: "" with seeds 0 and 1, one block of
	// two units (0x4321, 0x8765 are the bytes 21 43 65 87), and a single
	// unit (21 43), which only the tail path hashes.
	assert.Equal(t, uint32(0), murmur3.UTF16("", 0))
	assert.Equal(t, uint32(0x514e28b7), murmur3.UTF16("", 1))
	assert.Equal(t, uint32(0xf55b516b), murmur3.UTF16("\u4321\u8765", 0))
	assert.Equal(t, uint32(0xa0f7b07a), murmur3.UTF16("\u4321", 0))
	// Surrogate pairs are two code units: U+1F600 hashes as the bytes of
	// its pair D83D DE00, and after one unit the pair's low half goes to
	// the tail.
	assert.Equal(t, referenceBytes([]byte{0x3d, 0xd8, 0x00, 0xde}, 0), murmur3.UTF16("\U0001F600", 0))
	assert.Equal(t, referenceBytes([]byte{'x', 0, 0x3d, 0xd8, 0x00, 0xde}, 7), murmur3.UTF16("x\U0001F600", 7))
	assert.NotEqual(t, murmur3.UTF16("\U0001F600", 0), murmur3.UTF16("\uFFFD", 0))
}

// The hash does not allocate, whatever the input.
func TestUTF16DoesNotAllocate(t *testing.T) {
	for _, s := range []string{"targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0", "клиент.\U0001F600.é", "bad\xe2\x82utf8"} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { murmur3.UTF16(s, 0) }), "%q", s)
	}
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
	return referenceBytes(data, seed)
}

// referenceBytes is MurmurHash3_x86_32 over data.
func referenceBytes(data []byte, seed uint32) uint32 {
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
	for _, s := range []string{"", "a", "ab", "abc", "héllo", "\U0001F600", "x\U0001F600y", "bad\xffutf8", "éabcde", "aébcdef", "ab\xffcd", "a\U0001F600bcd", "targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0"} {
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
