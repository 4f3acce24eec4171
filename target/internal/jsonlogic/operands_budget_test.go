package jsonlogic_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// "missing" splits every key on "." and pays the budget for it. A key of k
// dots costs the condition's author k bytes once, but "missing" splits it
// again for each of n keys (the same string repeated, an array doubled by
// reduce/merge for ~2n steps): unpaid, that is n*k work and n*k*16 bytes
// allocated within a budget that bounds steps.
func TestMissingSplitsPaidByBudget(t *testing.T) {
	const k = 4096 // dots in one key
	key := strings.Repeat(".", k)
	logic := `{"missing":{"reduce":[[1,2,3,4,5,6,7,8,9,10,11,12,13],{"merge":[{"var":"accumulator"},{"var":"accumulator"}]},["` + key + `"]]}}`
	c := compileJSON(t, logic)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := c.Evaluate(map[string]any{}, jsonlogic.DefaultBudget)
	runtime.ReadMemStats(&after)
	// Each split is paid now: the condition runs out of budget (a rule
	// that does not match) instead of splitting 8,192 keys of 4 KB.
	require.ErrorIs(t, err, jsonlogic.ErrBudget)
	require.Nil(t, v)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d keys of %d bytes: %d MB allocated within a budget of %d steps", 1<<13, k, allocated>>20, jsonlogic.DefaultBudget)
	// The budget bounds bytes built by cat at bytesPerStep (16) a step:
	// a budget of 65,536 steps should not allocate more than a few MB.
	require.Less(t, allocated, uint64(64<<20), "missing allocated %d MB within the step budget", allocated>>20)
}

// "in" with one operand is false, as in json-logic-js, whose "in" is
// function(a, b) { if (!b || ...) return false; ... }: with one operand
// the lone operand is the needle a and the haystack b is undefined, so the
// answer is always false. Searching the lone operand for the text
// "undefined" instead (true here) is a regression this test catches.
// Checked with node against targetclient.server.js of the Node SDK.
func TestInWithOneOperandIsFalse(t *testing.T) {
	t.Parallel()
	for _, logic := range []string{`{"in":["xundefinedx"]}`, `{"in":"undefined"}`, `{"in":[{"var":"s"}]}`} {
		got := jsText(compileJSON(t, logic).Eval(map[string]any{"s": "an undefined value"}))
		if got != "false" {
			t.Errorf("%s: json-logic-js false, here %s", logic, got)
		}
	}
}

// Iterating operators with no operands answer as in json-logic-js: its
// filter's scoped data is undefined, not an array, so it answers [], and
// none (filter's length is 0) answers true. Answering null for both, as
// this package did, makes {"none":[]} false here and true there.
func TestIterationWithoutOperands(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ logic, want string }{
		{`{"none":[]}`, `true`},
		{`{"filter":[]}`, `[]`},
	} {
		if got := jsText(compileJSON(t, c.logic).Eval(nil)); got != c.want {
			t.Errorf("%s: json-logic-js %s, here %s", c.logic, c.want, got)
		}
	}
}
