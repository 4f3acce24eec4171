//go:build gc && (amd64 || arm64)

package goroutine

// getg returns the address of the calling goroutine's runtime descriptor
// (getg_amd64.s, getg_arm64.s).
//
//go:noescape
func getg() uintptr
