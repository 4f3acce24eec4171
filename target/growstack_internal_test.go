package target

// growStack's frame: the stack it grows in a fresh goroutine is large
// enough for a call's frames.

import (
	"testing"
	"unsafe"
)

//go:noinline
func deepFrame(i int) byte {
	var b [12 << 10]byte
	b[i%len(b)] = byte(i)
	return b[(i*7)%len(b)]
}

// TestGrowStackMovesStackOnce: growStack(0) in a fresh goroutine moves its
// stack (the runtime copied it to a larger one), and a later 12 KB frame
// does not move it again. A local's address in the caller's frame changes
// exactly when the stack is copied.
func TestGrowStackMovesStackOnce(t *testing.T) {
	type res struct{ before, afterGrow, afterDeep uintptr }
	for range 20 {
		ch := make(chan res)
		go func() {
			var x int
			before := uintptr(unsafe.Pointer(&x))
			growStack(0)
			afterGrow := uintptr(unsafe.Pointer(&x))
			deepFrame(int(before))
			afterDeep := uintptr(unsafe.Pointer(&x))
			ch <- res{before, afterGrow, afterDeep}
		}()
		r := <-ch
		if r.before == r.afterGrow {
			t.Fatalf("growStack(0) did not move the stack: %x", r.before)
		}
		if r.afterGrow != r.afterDeep {
			t.Fatalf("a 12 KB frame after growStack(0) moved the stack again: %x -> %x", r.afterGrow, r.afterDeep)
		}
	}
	// Control: without growStack, the 12 KB frame moves it.
	ch := make(chan bool)
	go func() {
		var x int
		before := uintptr(unsafe.Pointer(&x))
		deepFrame(int(before))
		ch <- before != uintptr(unsafe.Pointer(&x))
	}()
	if !<-ch {
		t.Fatal("control: a 12 KB frame did not move a fresh goroutine's stack")
	}
}
