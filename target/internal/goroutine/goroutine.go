// Package goroutine tells goroutines apart: ID returns a value that
// identifies the calling goroutine among those alive at the same time.
//
// Go gives goroutines no identity on purpose, and code should not need
// one. The client needs it in one place: a Close called from inside one of
// its callbacks must not wait for that callback (it would wait for
// itself), and the callbacks receive nothing a Close could be handed (see
// target's callbacks.go). So a callback run records its goroutine, and
// Close asks whether it runs on a recorded one.
//
// On amd64 and arm64 the value is the address of the runtime's descriptor
// of the goroutine (its g), read in assembly from where the runtime keeps
// it for every function (the TLS slot on amd64, the g register on arm64),
// and never dereferenced: a few nanoseconds. Elsewhere it is the number
// in the first line of runtime.Stack, the documented format of
// tracebacks, which walks and formats the goroutine's stack: about 10 µs
// on a shallow stack, 30 µs at 20 frames (BenchmarkID).
//
// A value identifies a goroutine while it runs: once it has ended, its
// value may be given to a goroutine started later (the runtime reuses
// descriptors). Callers must forget a goroutine's value before it can end,
// as a deferred unmark does (panics and runtime.Goexit run it too).
package goroutine

import "runtime"

// ID returns the calling goroutine's identity, never zero (see the
// package doc for what it is and how long it holds).
func ID() uint64 {
	if id := getg(); id != 0 {
		return uint64(id)
	}
	return stackID()
}

// stackID parses the goroutine number from "goroutine 123 [running]:".
func stackID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
