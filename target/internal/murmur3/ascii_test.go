package murmur3_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/internal/murmur3"
)

// The ASCII fast path against the plain reference, on
// ASCII runs of every length 0..70 placed at every alignment after a
// prefix of 0..3 UTF-16 units made of 1-, 2-, 3- and 4-byte runes, invalid
// bytes and a truncated sequence, followed by the same kinds of tail.
func TestUTF16ASCIIRunsEveryAlignment(t *testing.T) {
	t.Parallel()
	pieces := []string{"", "a", "é", "€", "\U0001F600", "\xff", "\xe2\x82", "\x7f", "\x00", "ab", "é\U0001F600", "\xed\xa0\x80"}
	ascii := "targettesting.125880.4c038b35f1b1453d80a3e7da8208c617.0-visitor-0123456789abcdef"
	n := 0
	for _, pre := range pieces {
		for _, pre2 := range pieces {
			for l := 0; l <= 70; l++ {
				for _, post := range pieces {
					s := pre + pre2 + ascii[:l] + post
					for _, seed := range []uint32{0, 0x9747b28c} {
						if got, want := murmur3.UTF16(s, seed), reference(s, seed); got != want {
							t.Fatalf("UTF16(%q, %#x) = %#x, reference %#x", s, seed, got, want)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d strings", n)
}

// Random strings mixing ASCII runs, multi-byte runes,
// surrogate-range encodings and invalid bytes.
func TestUTF16RandomMixedRuns(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", ".", "0", "\x00", "\x7f", "é", "ß", "€", "中", "\U0001F600", "\U00010000", "\U0010FFFF", "\xff", "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\uFFFD"}
	for range 200000 {
		var sb strings.Builder
		for range rng.IntN(40) {
			if rng.IntN(3) == 0 {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			} else {
				sb.WriteByte(byte(rng.IntN(0x80)))
			}
		}
		s := sb.String()
		seed := rng.Uint32()
		if got, want := murmur3.UTF16(s, seed), reference(s, seed); got != want {
			t.Fatalf("UTF16(%q, %#x) = %#x, reference %#x", s, seed, got, want)
		}
	}
}
