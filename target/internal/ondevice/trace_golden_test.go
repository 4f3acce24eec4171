package ondevice_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// traceGoldenContext is the visitor and page of TestTraceGolden's requests.
const traceGoldenContext = `"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0","thirdPartyId":"t3"},
	"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
	"address":{"url":"https://www.example.com/products/shoes?color=red","referringUrl":"https://search.example.org/?q=shoes"},
	"geo":{"city":"SAN FRANCISCO","countryCode":"US","stateCode":"CA","latitude":37.75,"longitude":-122.4}},
	"trace":{"authorizationToken":"token"}`

// TestTraceGolden pins the traced decisions of several requests on the
// suite's large artifact, byte for byte, as a SHA-256 of the decision's
// JSON (the artifact's content is not committed, so neither is its trace):
// the traces are built by hand for speed, and a change to how they are
// built must not change one byte of them. The digests were taken from the
// engine before traces were assembled from shared, presized parts
// (odperf5). On a mismatch the JSON is written to a temporary file to
// diff against the old engine's.
func TestTraceGolden(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(t, err)
	for _, tc := range []struct{ name, request, digest string }{
		{"pageLoad+views", `{` + traceGoldenContext + `,"execute":{"pageLoad":{"parameters":{"foo":"bar"}},
			"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}},{"name":"mbox-urlcontains","index":2}]},
			"prefetch":{"views":[{}]}}`, "339da17afc859c8eb070482967baf0e91291b76a7bbac88e1f4fb6160234b67e"},
		{"prefetch mboxes", `{` + traceGoldenContext + `,"prefetch":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2,"parameters":{"foo":"bar"}},{"name":"mbox-urlcontains","index":3,"address":{"url":"https://www.example.com/a"}}]}}`, "7c7d0fa0bb922c17543934019b44ce669ae7e4e5483e585f39e22051f707e0b9"},
		{"execute mbox", `{` + traceGoldenContext + `,"execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}`, "790741fca179b72ef70000dd4659d4b9b07126217936633d372e65594a808e91"},
		{"prefetch views and pageLoad", `{` + traceGoldenContext + `,"prefetch":{"pageLoad":{},"views":[{}]}}`, "62473705fe39fcefdd621e87299487c7f68b74840b3fe26b7f4f3023518b5fed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var req delivery.Request
			require.NoError(t, json.Unmarshal([]byte(tc.request), &req))
			now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
			e := &ondevice.Engine{Client: "targettesting", NewID: newID(), Now: func() time.Time { return now }, TelemetryEnabled: true}
			d, err := e.Decide(t.Context(), a, &req, ondevice.Options{SessionID: "s"})
			require.NoError(t, err)
			d.Telemetry = nil // its execution time varies
			out, err := json.Marshal(d)
			require.NoError(t, err)
			sum := sha256.Sum256(out)
			if got := hex.EncodeToString(sum[:]); got != tc.digest {
				f := filepath.Join(os.TempDir(), "trace-golden-"+tc.name+".json")
				_ = os.WriteFile(f, out, 0o600)
				t.Errorf("decision JSON digest %s, want %s (JSON in %s)", got, tc.digest, f)
			}
		})
	}
}
