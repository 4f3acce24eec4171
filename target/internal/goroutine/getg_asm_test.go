//go:build gc && (amd64 || arm64)

package goroutine

import "testing"

// TestFastPath: where the assembly exists, ID is the descriptor's address
// and never takes runtime.Stack's walk (what made an observed on-device
// decision cost twice its time).
func TestFastPath(t *testing.T) {
	t.Parallel()
	g := getg()
	if g == 0 {
		t.Fatal("getg returned zero: ID would fall back to runtime.Stack")
	}
	if id := ID(); id != uint64(g) {
		t.Fatalf("ID() = %#x, getg() = %#x", id, g)
	}
}
