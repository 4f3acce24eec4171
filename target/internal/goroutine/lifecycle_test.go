package goroutine

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// pair is what one goroutine reads at one moment: ID and the runtime's
// own goroutine number (stackID), which is never reused.
type pair struct{ id, num uint64 }

func read() pair { return pair{ID(), stackID()} }

// check asserts that, among goroutines alive at once, ID and the runtime's
// number are in one-to-one correspondence, and that each goroutine's reads
// agree with each other.
func check(t *testing.T, reads [][]pair) {
	t.Helper()
	byID := map[uint64]uint64{}
	byNum := map[uint64]uint64{}
	for g, rs := range reads {
		for _, r := range rs {
			if r.id == 0 || r.num == 0 {
				t.Fatalf("goroutine %d read zero: %+v", g, r)
			}
			if r != rs[0] {
				t.Fatalf("goroutine %d: reads differ over its life: %+v then %+v", g, rs[0], r)
			}
		}
		if n, ok := byID[rs[0].id]; ok && n != rs[0].num {
			t.Fatalf("goroutines %d and %d alive at once share ID %#x", n, rs[0].num, rs[0].id)
		}
		if i, ok := byNum[rs[0].num]; ok && i != rs[0].id {
			t.Fatalf("goroutine %d read two IDs", rs[0].num)
		}
		byID[rs[0].id], byNum[rs[0].num] = rs[0].num, rs[0].id
	}
}

// TestIDLifecycle reads the ID at many points of a goroutine's
// life while all of them stay alive: after stack growth, after a blocking
// wait (moving between threads), under LockOSThread, in a recovered
// panic's deferred call, in deferred calls run by Goexit, and in a
// goroutine started by it (which must differ).
func TestIDLifecycle(t *testing.T) {
	for _, procs := range []int{1, 2, 16} {
		prev := runtime.GOMAXPROCS(procs)
		const n = 64
		reads := make([][]pair, 2*n)
		var started, done sync.WaitGroup
		release := make(chan struct{})
		for i := range n {
			started.Add(2)
			done.Add(2)
			go func() {
				defer done.Done()
				var rs []pair
				defer func() {
					// deferred, during Goexit
					rs = append(rs, read())
					reads[i] = rs
					started.Done()
					<-release // stay alive while the others read
				}()
				rs = append(rs, read())
				var grow func(int) pair
				grow = func(d int) pair {
					var pad [128]byte
					if d == 0 {
						return read()
					}
					p := grow(d - 1)
					p.id += uint64(pad[d%128])
					return p
				}
				rs = append(rs, grow(2000+i))
				time.Sleep(time.Millisecond)
				runtime.Gosched()
				rs = append(rs, read())
				func() {
					defer func() {
						recover()
						rs = append(rs, read())
					}()
					panic("x")
				}()
				runtime.LockOSThread()
				rs = append(rs, read())
				runtime.UnlockOSThread()
				go func() { // a goroutine started by this one
					defer done.Done()
					reads[n+i] = []pair{read()}
					started.Done()
					<-release
				}()
				runtime.Goexit()
			}()
		}
		started.Wait()
		check(t, reads)
		close(release)
		done.Wait()
		runtime.GOMAXPROCS(prev)
	}
}
