package target

import (
	"runtime"
	"sync"
)

// callbackSet records the goroutines that are running a callback of the
// client (OnArtifactDownloaded, OnArtifactDownloadFailed,
// OnNotificationsSent in the artifact provider's set; OnDropped and the
// notification queue's sends and settlements in the queue's), so that
// Close can tell a call from inside one of them. Such a Close must not wait for callbacks, its own included: it
// would wait for itself, or for another callback waiting for it. A Close
// from anywhere else waits for them all.
//
// Go has no goroutine identity on purpose; the id in runtime.Stack's first
// line is the documented format of tracebacks and costs about a
// microsecond, paid once per callback and once per Close.
type callbackSet struct {
	mu  sync.Mutex
	ids map[uint64]int // goroutine id -> depth of callbacks it runs
}

// run calls fn, marking the current goroutine as running a callback.
func (s *callbackSet) run(fn func()) {
	id := goroutineID()
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
	id := goroutineID()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id] > 0
}

// goroutineID parses "goroutine 123 [running]:".
func goroutineID() uint64 {
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
