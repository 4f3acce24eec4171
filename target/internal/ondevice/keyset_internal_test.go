package ondevice

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeySetClearsOnlyTheWordsItSet: emptying the set of rule keys that
// answered writes the words a decision set, not every word of the
// artifact's keys (100,000 keys, 1,563 words, were cleared for every mbox
// and view request). A word the set did not touch is given a marker before
// the set is emptied; clearing every word would erase it.
func TestKeySetClearsOnlyTheWordsItSet(t *testing.T) {
	const keys = 100_000
	a := &Artifact{keyCount: keys}
	s := new(scratch)
	d := &decider{artifact: a, matched: &s.matched}

	k := d.matchedSet()
	for _, i := range []int{3, 70, 64, keys - 1} {
		require.False(t, k.has(i))
		k.add(i, keys)
		require.True(t, k.has(i))
	}
	require.Len(t, k.words, (keys+63)/64)
	require.ElementsMatch(t, []int32{0, 1, (keys - 1) / 64}, k.touched)

	const untouched = 500
	k.words[untouched] = 0xdead
	k = d.matchedSet()
	for _, i := range []int{3, 70, 64, keys - 1} {
		require.False(t, k.has(i), "key %d is still in the emptied set", i)
	}
	require.Equal(t, uint64(0xdead), k.words[untouched], "emptying the set wrote a word it had not set")
	require.Empty(t, k.touched)

	// A set of a larger artifact takes new words; a key beyond the
	// words of the artifact's set is not in it.
	require.False(t, k.has(5*keys))
	k.add(5*keys, 6*keys)
	require.True(t, k.has(5*keys))
	require.False(t, k.has(3))
}

// TestScratchBoundsItsKeySet: a scratch is cleared for the pool with its key
// set empty, and without it when it is larger than maxKeptKeyWords.
func TestScratchBoundsItsKeySet(t *testing.T) {
	for _, tc := range []struct {
		keys int
		kept bool
	}{{64 * maxKeptKeyWords, true}, {64*maxKeptKeyWords + 1, false}} {
		s := new(scratch)
		d := &s.d
		d.artifact = &Artifact{keyCount: tc.keys}
		d.matched = &s.matched
		d.matchedSet().add(tc.keys-1, tc.keys)
		s.clear()
		if tc.kept {
			require.Len(t, s.matched.words, maxKeptKeyWords)
			require.Empty(t, s.matched.touched)
			require.Zero(t, s.matched.words[maxKeptKeyWords-1], "the set went back to the pool with a key in it")
		} else {
			require.True(t, s.matched.words == nil, "a set of %d keys was kept", tc.keys)
		}
	}
}
