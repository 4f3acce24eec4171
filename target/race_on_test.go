//go:build race

package target

// RaceDetector is true under -race, which makes decisions about ten times
// slower: size-bound tests scale down.
const RaceDetector = true
