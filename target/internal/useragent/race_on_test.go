//go:build race

package useragent

// raceDetector is true under -race, which slows matching tenfold: the
// comparison with JavaScript checks fewer strings.
const raceDetector = true
