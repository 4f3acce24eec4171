package ondevice_test

import (
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// What a decision hands its caller (the response, the request as decided,
// the notifications, the telemetry entry) must not keep the artifact alive:
// a client keeping responses across artifact refreshes would otherwise
// keep every artifact it ever decided with.
func TestDecisionsDoNotKeepTheArtifact(t *testing.T) {
	t.Parallel()
	e := &ondevice.Engine{Client: "acme", NewID: newID(), TelemetryEnabled: true}
	req := &delivery.Request{
		ID:      &delivery.VisitorID{TntID: "v"},
		Context: &delivery.Context{Address: &delivery.Address{URL: "https://www.example.com/"}},
		Trace:   &delivery.Trace{AuthorizationToken: "token"},
		Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}},
		Prefetch: &delivery.PrefetchRequest{
			Mboxes: []delivery.MboxRequest{{Name: "m", Index: 2}},
			Views:  []delivery.ViewRequest{{}},
		},
	}
	var kept []*ondevice.Decision
	var artifacts []weak.Pointer[ondevice.Artifact]
	for i := range 3 {
		big := strings.Repeat("x", 1<<20)
		a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"localViews":["v"],"responseTokens":["activity.id"],"rules":{"mboxes":{"m":[
			{"ruleKey":"a","activityId":1,"meta":{"activity.id":1},"condition":{"==":[{"var":"page.domain"},"example.com"]},
			"consequence":{"name":"m","options":[{"type":"html","content":"` + big + `","eventToken":"t"}],"metrics":[{"type":"display","eventToken":"t"}]}}]},
			"views":{"v":[{"ruleKey":"b","activityId":2,"condition":true,"consequence":{"name":"v","options":[{"type":"actions","content":[{"type":"setHtml","content":"x"}],"eventToken":"u"}],"metrics":[{"type":"display","eventToken":"u"}]}}]}}}`))
		require.NoError(t, err)
		d, err := e.Decide(t.Context(), a, req, ondevice.Options{SessionID: "s"})
		require.NoError(t, err)
		require.Len(t, d.Response.Execute.Mboxes, 1)
		require.Len(t, d.Response.Execute.Mboxes[0].Options, 1, "the rule matches")
		require.NotEmpty(t, d.Notifications, "i=%d", i)
		require.NotNil(t, d.Telemetry)
		kept = append(kept, d)
		artifacts = append(artifacts, weak.Make(a))
	}
	// The parts a caller keeps; the Decision itself is the caller's too.
	var parts []any
	for _, d := range kept {
		parts = append(parts, d.Response, d.Request, d.Notifications, d.Telemetry, d.Telemetry.Features)
	}
	kept = nil
	for i, w := range artifacts {
		collected := false
		for range 10 {
			runtime.GC()
			if w.Value() == nil {
				collected = true
				break
			}
		}
		require.True(t, collected, "artifact %d is still reachable from its decision's response", i)
	}
	runtime.KeepAlive(parts)
}
