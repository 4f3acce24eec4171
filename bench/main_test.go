// The tests are in package main: a command cannot be imported, so its
// parts can only be tested from inside.
package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(edgeEnv); spec != "" {
		// The test binary is the child-process edge of a cost benchmark.
		if err := serveEdgeChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "bench edge:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
