package ondevice

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// Held: random parameter sets over a small alphabet (varint-looking bytes,
// dots, "_lc", digits, multi-byte runes, empty names and values), each
// decided from the memo after many others: the remembered context is
// always the set's own.
func TestParamsMemoKeysRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"", "a", "b", "\x00", "\x01", "\x02", "\x7f", "\x80", ".", "_lc", "0", "1", "é", "\u00ff", "ab"}
	word := func() string {
		s := ""
		for range rng.IntN(4) {
			s += parts[rng.IntN(len(parts))]
		}
		return s
	}
	sets := make([]map[string]string, 3000)
	for i := range sets {
		m := map[string]string{}
		for range rng.IntN(5) {
			m[word()] = word()
		}
		sets[i] = m
	}
	for round := range 2 {
		for _, p := range sets {
			if got, want := sharedParamsContext(p), mboxContext(p); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: %q: memo %v, want %v", round, p, got, want)
			}
		}
	}
}
