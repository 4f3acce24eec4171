package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// The on-device decisioning conformance suite all of Adobe's Target SDKs
// run: schema/models/TEST_SUITE_*.json, each a set of getOffers inputs with
// the expected response (and notification) for an artifact from
// schema/artifacts. It is read from the directory in TARGET_SDK_TESTING_DIR.
//
// Adapted tests (the expectation changed here, with the reason):
//
//   - TEST_SUITE_TELEMETRY/sends_telemetry expects two telemetry entries:
//     the engine's own, and one that Adobe's Node.js test runner adds itself
//     (its TelemetryProvider entry with mode, features and a parsing time)
//     after the call. This engine sends one entry carrying the decision's
//     request id, timestamp, execution time, mode and features, so the two
//     expected entries are merged into one; "parsing" (the time Node spends
//     parsing a response, which an on-device decision does not have) is
//     dropped.
var adaptedTests = map[string]func(t *testing.T, tc *conformanceTest){
	"TEST_SUITE_TELEMETRY/sends_telemetry": func(t *testing.T, tc *conformanceTest) {
		request := tc.NotificationOutput.(map[string]any)["request"].(map[string]any)
		telemetry := request["telemetry"].(map[string]any)
		entries := telemetry["entries"].([]any)
		require.Len(t, entries, 2, "the suite changed: revisit the adaptation")
		merged := map[string]any{}
		for _, e := range entries {
			for k, v := range e.(map[string]any) {
				merged[k] = v
			}
		}
		delete(merged, "parsing")
		telemetry["entries"] = []any{merged}
	},
}

type conformanceSuite struct {
	Description string                      `json:"description"`
	Artifact    json.RawMessage             `json:"artifact"`
	Conf        map[string]any              `json:"conf"`
	Test        map[string]*conformanceTest `json:"test"`
}

type conformanceTest struct {
	Description string          `json:"description"`
	Artifact    json.RawMessage `json:"artifact"`
	Conf        map[string]any  `json:"conf"`
	Input       struct {
		Request      json.RawMessage `json:"request"`
		SessionID    string          `json:"sessionId"`
		LocationHint string          `json:"locationHint"`
	} `json:"input"`
	Output             any            `json:"output"`
	NotificationOutput any            `json:"notificationOutput"`
	HasNotification    bool           `json:"-"`
	MockDate           *mockDate      `json:"mockDate"`
	MockGeo            map[string]any `json:"mockGeo"`
}

// mockDate is a moment to run a test at ("human" is a comment).
type mockDate struct {
	Year, Month, Date, Hours, Minutes, Seconds int
}

func suiteDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set; set it to a checkout of Adobe's target-sdk-testing to run the on-device conformance suite")
	}
	_, err := os.Stat(filepath.Join(dir, "schema", "models"))
	require.NoError(t, err, "TARGET_SDK_TESTING_DIR is set but holds no schema/models")
	return dir
}

// loadArtifact resolves an "artifact" value: a TEST_ARTIFACT_* name is
// replaced by that file's content, as the suite's README says.
func loadArtifact(t *testing.T, dir string, raw json.RawMessage) []byte {
	t.Helper()
	var name string
	if json.Unmarshal(raw, &name) == nil && strings.HasPrefix(name, "TEST_ARTIFACT_") {
		b, err := os.ReadFile(filepath.Join(dir, "schema", "artifacts", name+".json"))
		require.NoError(t, err)
		return b
	}
	return raw
}

func TestConformance(t *testing.T) {
	t.Parallel()
	forEachConformanceTest(t, runConformanceTest)
}

// TestConformanceThroughClient runs the suite through the client's
// on-device GetOffers: the request is validated and filled by the client,
// decided by the engine, and returned as a *Response; display notifications
// go to a local edge through SendNotifications. The notification payloads
// themselves are checked by TestConformance (a prefetch-only decision's
// telemetry waits for the client's next request instead of being sent).
// The adaptations listed above apply here too.
func TestConformanceThroughClient(t *testing.T) {
	t.Parallel()
	forEachConformanceTest(t, runThroughClient)
}

func forEachConformanceTest(t *testing.T, run func(t *testing.T, dir string, suite *conformanceSuite, id string, tc *conformanceTest)) {
	dir := suiteDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "schema", "models", "TEST_SUITE_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	total := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var suite conformanceSuite
		require.NoError(t, json.Unmarshal(data, &suite), file)
		var raw struct {
			Test map[string]map[string]json.RawMessage `json:"test"`
		}
		require.NoError(t, json.Unmarshal(data, &raw))
		suiteName := strings.TrimSuffix(filepath.Base(file), ".json")
		for name, tc := range suite.Test {
			_, tc.HasNotification = raw.Test[name]["notificationOutput"]
			total++
			t.Run(suiteName+"/"+name, func(t *testing.T) {
				t.Parallel()
				run(t, dir, &suite, suiteName+"/"+name, tc)
			})
		}
	}
	require.Equal(t, 66, total, "the suite has changed size")
}

func runThroughClient(t *testing.T, dir string, suite *conformanceSuite, id string, tc *conformanceTest) {
	cfg := engineConfigFor(t, dir, suite, tc)
	edge := targettest.NewServer(targettest.Config{Client: cfg.Client, OrganizationID: cfg.OrganizationID})
	t.Cleanup(edge.Close)
	clientCfg := edge.ClientConfig()
	clientCfg.TelemetryEnabled = &cfg.TelemetryEnabled
	clientCfg.PropertyToken = cfg.PropertyToken
	sent := make(chan error, 1)
	clientCfg.DecisioningMethod = target.OnDevice
	clientCfg.OnDevice = target.OnDeviceConfig{
		ArtifactPayload:     cfg.Artifact,
		OnNotificationsSent: func(_ *target.Response, err error) { sent <- err },
	}
	c, err := target.NewClient(clientCfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	if cfg.Now != nil {
		target.SetOnDeviceClock(c, cfg.Now)
	}
	target.SetOnDeviceGeo(c, cfg.GeoPayload)

	var req target.DeliveryRequest
	require.NoError(t, json.Unmarshal(tc.Input.Request, &req))
	r, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:            req,
		SessionID:          tc.Input.SessionID,
		TargetLocationHint: tc.Input.LocationHint,
	}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	resp, err := json.Marshal(r.Response)
	require.NoError(t, err)
	var got any
	require.NoError(t, json.Unmarshal(resp, &got))
	if diffs := matchSubset("response", got, tc.Output); tc.Output != nil && len(diffs) > 0 {
		t.Errorf("response does not match the suite's output:\n%s\ngot: %s", strings.Join(diffs, "\n"), resp)
	}
	want, _ := tc.NotificationOutput.(map[string]any)
	wantReq, _ := want["request"].(map[string]any)
	if _, ok := wantReq["notifications"]; !ok {
		return
	}
	select {
	case err := <-sent:
		require.NoError(t, err)
	case <-t.Context().Done():
		t.Fatal("no notification sent")
	}
	reqs := edge.Requests()
	require.Len(t, reqs, 1)
	var body any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	if diffs := matchSubset("notification", map[string]any{"request": body}, tc.NotificationOutput); len(diffs) > 0 {
		t.Errorf("notification does not match:\n%s\ngot: %s", strings.Join(diffs, "\n"), reqs[0].Body)
	}
}

func runConformanceTest(t *testing.T, dir string, suite *conformanceSuite, id string, tc *conformanceTest) {
	if adapt, ok := adaptedTests[id]; ok {
		adapt(t, tc)
	}
	cfg := engineConfigFor(t, dir, suite, tc)
	resp, notification, err := target.Decide(t.Context(), cfg, tc.Input.Request, tc.Input.SessionID, tc.Input.LocationHint)
	require.NoError(t, err)
	var got any
	require.NoError(t, json.Unmarshal(resp, &got))
	if diffs := matchSubset("response", got, tc.Output); tc.Output != nil && len(diffs) > 0 {
		t.Errorf("response does not match the suite's output:\n%s\ngot: %s", strings.Join(diffs, "\n"), resp)
	}
	if !tc.HasNotification {
		return
	}
	if tc.NotificationOutput == nil {
		require.Nil(t, notification, "no notification may be sent")
		return
	}
	require.NotNil(t, notification, "a notification must be sent")
	var gotN any
	require.NoError(t, json.Unmarshal(notification, &gotN))
	if diffs := matchSubset("notification", gotN, tc.NotificationOutput); len(diffs) > 0 {
		t.Errorf("notification does not match:\n%s\ngot: %s", strings.Join(diffs, "\n"), notification)
	}
}

func engineConfigFor(t *testing.T, dir string, suite *conformanceSuite, tc *conformanceTest) target.EngineConfig {
	conf := suite.Conf
	if tc.Conf != nil {
		conf = tc.Conf
	}
	artifactRaw := suite.Artifact
	if len(tc.Artifact) > 0 {
		artifactRaw = tc.Artifact
	}
	cfg := target.EngineConfig{
		Artifact:         loadArtifact(t, dir, artifactRaw),
		TelemetryEnabled: true,
		GeoPayload:       tc.MockGeo,
	}
	cfg.Client, _ = conf["client"].(string)
	cfg.OrganizationID, _ = conf["organizationId"].(string)
	cfg.PropertyToken, _ = conf["propertyToken"].(string)
	if enabled, ok := conf["telemetryEnabled"].(bool); ok {
		cfg.TelemetryEnabled = enabled
	}
	if tc.MockDate != nil {
		// mockDate is JavaScript's Date.UTC(year, month, ...): the month
		// counts from 0.
		d := tc.MockDate
		at := time.Date(d.Year, time.Month(d.Month+1), d.Date, d.Hours, d.Minutes, d.Seconds, 0, time.UTC)
		cfg.Now = func() time.Time { return at }
	}
	return cfg
}

// matchSubset is Jest's toMatchObject, which the suite's expectations are
// written for: objects match when every expected key matches (extra keys
// are fine), arrays element by element with the same length, and the
// strings "expect.any(Object|String|Number)" match any value of that kind.
func matchSubset(path string, got, want any) []string {
	switch w := want.(type) {
	case string:
		switch w {
		case "expect.any(Object)":
			if _, ok := got.(map[string]any); ok {
				return nil
			}
			if _, ok := got.([]any); ok {
				return nil
			}
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		case "expect.any(String)":
			if _, ok := got.(string); ok {
				return nil
			}
			return []string{fmt.Sprintf("%s: want a string, got %v", path, got)}
		case "expect.any(Number)":
			if _, ok := got.(float64); ok {
				return nil
			}
			return []string{fmt.Sprintf("%s: want a number, got %v", path, got)}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			gv, present := g[k]
			if !present && w[k] != nil {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			diffs = append(diffs, matchSubset(path+"."+k, gv, w[k])...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %v", path, got)}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements, got %d", path, len(w), len(g))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matchSubset(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])...)
		}
		return diffs
	}
	if !equalJSON(got, want) {
		return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
	}
	return nil
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return slices.Equal(ja, jb)
}

func TestMatchSubsetCatchesDifferences(t *testing.T) {
	t.Parallel()
	parse := func(s string) any {
		var v any
		require.NoError(t, json.Unmarshal([]byte(s), &v))
		return v
	}
	tests := []struct {
		got, want string
		ok        bool
	}{
		{`{"a":1,"b":2}`, `{"a":1}`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":1}`, `{"b":1}`, false},
		{`{"a":[1,2]}`, `{"a":[1]}`, false},
		{`{"a":[{"x":1,"y":2}]}`, `{"a":[{"x":1}]}`, true},
		{`{"a":"s"}`, `{"a":"expect.any(Number)"}`, false},
		{`{"a":3}`, `{"a":"expect.any(Number)"}`, true},
		{`{"a":{}}`, `{"a":"expect.any(Object)"}`, true},
		{`{"a":null}`, `{"a":"expect.any(String)"}`, false},
	}
	for _, tt := range tests {
		diffs := matchSubset("x", parse(tt.got), parse(tt.want))
		require.Equal(t, tt.ok, len(diffs) == 0, "%s vs %s: %v", tt.got, tt.want, diffs)
	}
}
