package artifact_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/artifact"
)

// suiteArtifacts returns the conformance suite's artifacts: skipped when
// TARGET_SDK_TESTING_DIR is unset, failed when it is set and they are not
// there.
func suiteArtifacts(t *testing.T) []string {
	t.Helper()
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set (the target-sdk-testing conformance suite)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "schema", "artifacts", "*.json"))
	require.NoError(t, err)
	files = append(files, filepath.Join(dir, "schema", "artifact.json"))
	require.Greater(t, len(files), 10, "TARGET_SDK_TESTING_DIR=%s holds no artifacts", dir)
	return files
}

// Every artifact of the conformance suite decodes into the declared shape
// and re-encodes without changing a declared value: the re-encoded JSON is
// the original less the fields the engine does not read
// (targetAdminActivityUrls...).
func TestSuiteArtifactsDecode(t *testing.T) {
	t.Parallel()
	for _, file := range suiteArtifacts(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var doc artifact.Document
			require.NoError(t, json.Unmarshal(data, &doc))
			assert.NotEmpty(t, doc.Version)

			again, err := json.Marshal(&doc)
			require.NoError(t, err)
			var want, got any
			require.NoError(t, json.Unmarshal(data, &want))
			require.NoError(t, json.Unmarshal(again, &got))
			assertSubset(t, "$", want, got)

			order, err := artifact.ViewOrder(data)
			require.NoError(t, err)
			var names []string
			if doc.Rules != nil {
				for name := range doc.Rules.Views {
					names = append(names, name)
				}
			}
			assert.ElementsMatch(t, names, order)
		})
	}
}

// assertSubset checks that got is want with some object members left out:
// arrays keep their length, and every member of got is want's. A member
// got writes as null, "", false or {} may be absent from want (a declared
// field the artifact does not write).
func assertSubset(t *testing.T, path string, want, got any) {
	t.Helper()
	switch g := got.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !assert.True(t, ok, "%s: want %T, got an object", path, want) {
			return
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok {
				m, isMap := gv.(map[string]any)
				assert.True(t, gv == nil || gv == "" || gv == false || isMap && len(m) == 0, "%s.%s: added as %v", path, k, gv)
				continue
			}
			assertSubset(t, path+"."+k, wv, gv)
		}
	case []any:
		w, ok := want.([]any)
		if !assert.True(t, ok, "%s: want %T, got an array", path, want) || !assert.Len(t, g, len(w), path) {
			return
		}
		for i := range g {
			assertSubset(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		assert.Equal(t, want, got, path)
	}
}

// A generated artifact, every field set, survives encoding and decoding.
func TestGeneratedArtifactRoundTrips(t *testing.T) {
	t.Parallel()
	rule := func(key string, activity float64) artifact.Rule {
		return artifact.Rule{
			RuleKey:        key,
			ActivityID:     activity,
			Meta:           map[string]any{"activity.id": activity, "location.name": "hero"},
			Condition:      map[string]any{"<=": []any{0.0, map[string]any{"var": "allocation"}, 50.0}},
			PropertyTokens: []string{"tok"},
			Consequence: artifact.Consequence{
				Name: "hero",
				Options: []artifact.Option{
					{Type: "html", Content: "<p>hi</p>", EventToken: "e1", ResponseTokens: map[string]any{"activity.id": activity}},
					{Type: "json", Content: map[string]any{"flag": true, "n": 1.5}},
					{Type: "actions", Content: []any{map[string]any{"type": "setHtml", "selector": "#x"}}},
				},
				Metrics: []artifact.Metric{{Type: "click", Selector: "#buy", EventToken: "m1"}},
			},
		}
	}
	in := artifact.Document{
		Version:             artifact.Version,
		Meta:                map[string]any{"clientCode": "acme", "generatedAt": "2026-12-02T00:00:00Z"},
		GlobalMbox:          artifact.DefaultGlobalMbox,
		GeoTargetingEnabled: true,
		ResponseTokens:      []string{"activity.id", "geo.city"},
		RemoteMboxes:        []string{"remote"},
		LocalMboxes:         []string{"hero", artifact.DefaultGlobalMbox},
		RemoteViews:         []string{"rv"},
		LocalViews:          []string{"zeta", "alpha"},
		Rules: &artifact.Rules{
			Mboxes: map[string][]artifact.Rule{"hero": {rule("1-0", 1), rule("1-1", 1)}},
			Views:  map[string][]artifact.Rule{"zeta": {rule("2-0", 2)}, "alpha": {rule("3-0", 3)}},
		},
	}
	data, err := json.Marshal(&in)
	require.NoError(t, err)
	var out artifact.Document
	require.NoError(t, json.Unmarshal(data, &out))
	assert.Equal(t, in, out)
	order, err := artifact.ViewOrder(data)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"alpha", "zeta"}, order) // encoding/json sorts map keys
}

func TestViewOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		want []string
	}{
		{`{"rules":{"views":{"zeta":[],"alpha":[],"mid":[]}}}`, []string{"zeta", "alpha", "mid"}},
		{`{"rules":{"views":{"b":[],"a":{},"b":null}}}`, []string{"b", "a"}},
		{`{"rules":{"views":null}}`, nil},
		{`{"rules":{"mboxes":{}}}`, nil},
		{`{"version":"1.0.0"}`, nil},
	} {
		got, err := artifact.ViewOrder([]byte(tc.data))
		require.NoError(t, err, tc.data)
		assert.Equal(t, tc.want, got, tc.data)
	}
	for _, bad := range []string{`{"rules":{"views":[]}}`, `{"rules":{"views":{"a":}}}`, `[`} {
		_, err := artifact.ViewOrder([]byte(bad))
		require.Error(t, err, bad)
	}
}
