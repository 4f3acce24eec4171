package deliverytest_test

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/deliverytest"
)

// TestOnlyTestsImport lists the imports of every package of the module as
// built without its tests (go list's Imports leave test files out) and
// fails when one of them imports deliverytest: it is a test helper, and
// must not be compiled into the SDK.
func TestOnlyTestsImport(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: no go command on PATH to list the module's imports with")
	}
	const self = "github.com/target-go/sdk/target/internal/deliverytest"
	cmd := exec.CommandContext(t.Context(), goCmd, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/target-go/sdk/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	listed := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		listed++
		for _, imp := range fields[1:] {
			if imp == self {
				t.Errorf("%s imports %s outside its tests", fields[0], self)
			}
		}
	}
	if listed < 5 {
		t.Fatalf("go list named %d packages; the module has more:\n%s", listed, out)
	}
}

// TestFillIsDeterministic fills two requests from generators of the same
// seed and requires them equal: TestWireBodiesWritten diffs the bodies
// of two versions of the client on the requests of one seed. (NonFinite
// stays off: NaN is not DeepEqual to itself.)
func TestFillIsDeterministic(t *testing.T) {
	t.Parallel()
	for seed := range uint64(50) {
		var a, b delivery.Request
		(&deliverytest.Filler{Rand: rand.New(rand.NewPCG(seed, 1))}).Fill(&a)
		(&deliverytest.Filler{Rand: rand.New(rand.NewPCG(seed, 1))}).Fill(&b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two fills differ:\n%+v\n%+v", seed, a, b)
		}
	}
}
