//go:build race

package batch_test

// raceEnabled reports whether the race detector is on: it makes the
// 10-million-stage tests too slow to run.
const raceEnabled = true
