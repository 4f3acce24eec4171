// The tests are in package main: a command cannot be imported, so its
// handlers can only be tested from inside.
package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
