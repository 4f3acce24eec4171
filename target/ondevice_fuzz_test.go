package target_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/target-go/sdk/target"
)

// FuzzDecide feeds hostile artifacts and requests to the engine: parsing
// may reject them, but neither parsing nor a decision may panic or hang.
func FuzzDecide(f *testing.F) {
	requests := []string{
		`{"execute":{"mboxes":[{"name":"hero","index":1,"parameters":{"tier":"gold"}}]}}`,
		`{"prefetch":{"mboxes":[{"name":"hero"}],"views":[{}],"pageLoad":{"parameters":{"a.b":"c"}}},"trace":{}}`,
		`{"id":{"tntId":"a.b.c"},"context":{"userAgent":"Mozilla/5.0 (Windows NT 10.0) Chrome/99","address":{"url":"https://www.x.co.uk/p?q#f"},"geo":{"latitude":1}}}`,
		`{"execute":{"pageLoad":{}},"prefetch":{"views":[{"name":"v"}]}}`,
	}
	artifacts := []string{
		testArtifact,
		`{"version":"1.0.0","rules":{"mboxes":{"hero":[{"condition":{"reduce":[{"var":"mbox"},{"cat":[{"var":"current"},{"var":"accumulator"}]},""]},"consequence":{"options":[{"type":"actions","content":[{"content":"${mbox.name}"}]}]}}]},"views":{"v":[{"condition":{"substr":[{"var":"page.url"},-3,-1]},"consequence":{"name":"v","options":[{"type":"html","content":"${campaign.recipe.id}"}]}}]}}}`,
		`{"version":"1.0.0","globalMbox":"hero","rules":{"mboxes":{"hero":[{"condition":{"all":[{"var":"page"},{"!!":{"var":""}}]},"consequence":{}},{"condition":{"in":[{"var":"user.browserType"},[{"var":"x"}]]},"consequence":{"options":null,"metrics":[{"type":"display"}]}}]}}}`,
	}
	for _, a := range artifacts {
		for _, r := range requests {
			f.Add([]byte(a), []byte(r))
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, artifact, request []byte) {
		cfg := target.EngineConfig{
			Client: "acme", OrganizationID: "org", Artifact: artifact, TelemetryEnabled: true,
			Now: func() time.Time { return now },
		}
		resp, _, err := target.Decide(t.Context(), cfg, request, "s", "35")
		if err != nil {
			return
		}
		if !json.Valid(resp) {
			t.Fatalf("invalid response JSON: %s", resp)
		}
	})
}
