//go:build !unix

package main

import "time"

// processCPU cannot read the process's CPU time on this platform: the cost
// figures then show wall time only.
func processCPU() (time.Duration, bool) { return 0, false }
