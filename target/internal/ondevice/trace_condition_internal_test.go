package ondevice

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/artifact"
)

// A rule keeps its condition encoded and a trace decodes it: the decoded
// condition must be the tree the artifact's own decoding gave, value for
// value and sign for sign, for every rule of the suite's artifact and for
// a condition of awkward values; the first trace makes it, once.
func TestTraceConditionIsTheArtifacts(t *testing.T) {
	t.Parallel()
	awkward := `{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"k","activityId":1,"meta":{},"condition":{"and":[{"==":[{"var":"a"},-0]},
		{"in":["<&>\u2028é\ud83d\ude00",{"var":"b"}]},{">":[1e21,5e-324,1.7976931348623157e308,-0.0,123456789012345680000]}]},
		"consequence":{"name":"m","options":[]}}]}}}`
	data := []byte(awkward)
	if dir := os.Getenv("TARGET_SDK_TESTING_DIR"); dir != "" {
		suite, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
		require.NoError(t, err)
		data = suite
		t.Run("awkward", func(t *testing.T) { checkTraceConditions(t, []byte(awkward)) })
	}
	checkTraceConditions(t, data)
}

func checkTraceConditions(t *testing.T, data []byte) {
	a, err := ParseArtifact(data)
	require.NoError(t, err)
	var doc artifact.Document
	require.NoError(t, json.Unmarshal(data, &doc))
	n := 0
	for name, rules := range doc.Rules.Mboxes {
		for i, rj := range rules {
			r := a.mboxRules[name][i]
			require.Nil(t, r.traceCondition.Load(), "made before a trace asked for it")
			var got [2]any
			var wg sync.WaitGroup
			for j := range got {
				wg.Go(func() { got[j], _ = r.conditionForTrace() })
			}
			wg.Wait()
			v, plan := r.conditionForTrace()
			require.Same(t, r.traceCondition.Load().plan, plan)
			for _, g := range append(got[:], v) {
				requireSameTree(t, rj.Condition, g)
			}
			n++
		}
	}
	require.NotZero(t, n)
}

// requireSameTree checks that got is want, with the signs of zeros.
func requireSameTree(t *testing.T, want, got any) {
	t.Helper()
	require.True(t, reflect.DeepEqual(want, got), "%#v\n!= %#v", got, want)
	var walk func(w, g any)
	walk = func(w, g any) {
		switch w := w.(type) {
		case float64:
			require.Equal(t, math.Signbit(w), math.Signbit(g.(float64)), "sign of %v", w)
		case map[string]any:
			for k, e := range w {
				walk(e, g.(map[string]any)[k])
			}
		case []any:
			for i, e := range w {
				walk(e, g.([]any)[i])
			}
		}
	}
	walk(want, got)
}
