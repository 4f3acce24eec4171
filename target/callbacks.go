package target

import (
	"sync"
	"sync/atomic"

	"github.com/target-go/sdk/target/internal/goroutine"
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
// could carry a mark (a Close is called with whatever context its caller
// has, context.Background() as often as not), pprof labels cannot be read
// back without one, and a Close that only counted callbacks could not tell
// a Close inside one (which must not wait) from a concurrent Close outside
// (which must). Reading ids lazily, only once a Close has begun, does not
// work either: a Close from a callback begins after that callback's run
// did, and the run's goroutine can only be named by the run itself. Nor
// does keeping the user's code out of what Close waits for: an on-device
// decision must queue its notification before Close flushes the queue,
// and the Observer's Notifications(queued) event, which comes before the
// notification's sent or dropped one, runs in between. So each marked run
// names its goroutine, with internal/goroutine.ID: the address of the
// runtime's goroutine descriptor on amd64 and arm64, a few nanoseconds;
// elsewhere the id in runtime.Stack's first line, about 10 µs on a shallow
// stack and 30 µs at 20 frames (the package's BenchmarkID), more than an
// on-device decision itself. Before the descriptor's address, every
// platform paid the runtime.Stack read: BenchmarkOnDeviceGetOffers measured
// on-device-noop-observer at 43.6 µs a decision against 16.4 µs without
// the Observer.
//
// A read is made once per marked run:
//   - per OnNotificationsSent run, when one is configured (once per
//     on-device decision that notifies);
//   - per batch the notification queue sends, and per round of it dropped
//     by Close, whatever callbacks are configured: the calls' callbacks
//     and the Observer's attempt events run there;
//   - per on-device decision when an Observer with decision functions is
//     set (Client.observed);
//   - per artifact callback or observed download.
//
// A call with none of these, and a Close with no callback running, read
// none (TestGoroutineIDOnlyForCallbacks, which counts the reads in
// goroutineID itself): on the platforms without the cheap form, that is
// what keeps the cost off the calls that need no mark.
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

// goroutineID returns the calling goroutine's id (see callbackSet).
func goroutineID() uint64 {
	goroutineIDCalls.Add(1)
	return goroutine.ID()
}
