package target

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// callbackSet records the goroutines that are running a callback of the
// client (OnArtifactDownloaded, OnArtifactDownloadFailed,
// OnNotificationsSent in the artifact provider's set; OnDropped and the
// notification queue's sends and settlements in the queue's), so that
// Close can tell a call from inside one of them. Such a Close must not wait for callbacks, its own included: it
// would wait for itself, or for another callback waiting for it. A Close
// from anywhere else waits for them all.
//
// Go has no goroutine identity on purpose, and the cleaner ways to tell
// "this goroutine" are closed here: the callbacks get no context that
// could carry a mark, pprof labels cannot be read back without one, and a
// Close that only counted callbacks could not tell a Close inside one (which
// must not wait) from a concurrent Close outside (which must). So the id in
// runtime.Stack's first line, the documented format of tracebacks, stays.
// The 64-byte buffer bounds the memory (one allocation), not the time: the
// traceback still walks and formats the goroutine's stack, about 10 µs on
// a shallow stack on the 2-core test machine, 30 µs at 20 frames, 150 µs
// at 200 (BenchmarkGoroutineID): more than an on-device decision itself.
// It is paid once per marked run:
//   - per OnNotificationsSent run, when one is configured (once per
//     on-device decision that notifies);
//   - per batch the notification queue sends, and per round of it dropped
//     by Close, whatever callbacks are configured: the calls' callbacks
//     and the Observer's attempt events run there;
//   - per on-device decision and per queue round when an Observer is set
//     (Client.observed): BenchmarkOnDeviceGetOffers measures on-device
//     ~12 µs, on-device-observer ~25 µs a decision;
//   - per artifact callback or observed download.
//
// A call with none of these, and a Close with no callback running, pay
// nothing (TestGoroutineIDOnlyForCallbacks, which counts the reads in
// goroutineID itself). Reading ids lazily, only once a Close has begun,
// does not work: a Close from a callback begins after that callback's run
// did, and the run's goroutine can only be named by the run itself.
type callbackSet struct {
	mu      sync.Mutex
	ids     map[uint64]int // goroutine id -> depth of callbacks it runs
	lookups atomic.Int64   // ids this set has read, for the tests
}

// id returns the calling goroutine's id.
func (s *callbackSet) id() uint64 {
	s.lookups.Add(1)
	return goroutineID()
}

// goroutineIDCalls counts the calls of goroutineID in the process, for
// the tests: counted in goroutineID itself, a call from anywhere shows.
var goroutineIDCalls atomic.Int64

// run calls fn, marking the current goroutine as running a callback.
func (s *callbackSet) run(fn func()) {
	id := s.id()
	s.mu.Lock()
	if s.ids == nil {
		s.ids = map[uint64]int{}
	}
	s.ids[id]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.ids[id]--; s.ids[id] == 0 {
			delete(s.ids, id)
		}
		s.mu.Unlock()
	}()
	fn()
}

// current reports whether the calling goroutine is running a callback.
func (s *callbackSet) current() bool {
	s.mu.Lock()
	n := len(s.ids)
	s.mu.Unlock()
	if n == 0 {
		return false // the usual case, without the cost of an id
	}
	id := s.id()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id] > 0
}

// goroutineID parses "goroutine 123 [running]:".
func goroutineID() uint64 {
	goroutineIDCalls.Add(1)
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
