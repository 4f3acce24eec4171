package targetotel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreHasNoOpenTelemetryDependency: package target, which every user
// imports, builds without OpenTelemetry; only this adapter imports it.
func TestCoreHasNoOpenTelemetryDependency(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH:", err)
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "github.com/target-go/sdk/target").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list listed %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "go.opentelemetry.io/") {
			t.Errorf("package target depends on %s", p)
		}
	}
}
