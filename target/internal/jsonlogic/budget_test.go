package jsonlogic_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

func compileJSON(t *testing.T, logic string) *jsonlogic.Condition {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(logic), &v))
	c, err := jsonlogic.Compile(v)
	require.NoError(t, err)
	return c
}

// A step is one operator or operand evaluated: a condition of k nodes
// takes exactly k steps, and one step less is over budget.
func TestBudgetCountsSteps(t *testing.T) {
	t.Parallel()
	c := compileJSON(t, `{"and":[true,{"!":[false]}]}`) // and, true, !, false
	v, err := c.Evaluate(nil, 4)
	require.NoError(t, err)
	assert.Equal(t, true, v)
	v, err = c.Evaluate(nil, 3)
	require.ErrorIs(t, err, jsonlogic.ErrBudget)
	assert.Nil(t, v)
}

// nestedSome is a hostile condition: some over [1,2], nested depth
// deep around false, which visits 2^depth leaves.
func nestedSome(depth int) string {
	cond := "false"
	for range depth {
		cond = `{"some":[[1,2],` + cond + `]}`
	}
	return cond
}

// Nested iterations are exponential in depth: within the budget they
// answer as json-logic-js does, beyond it they stop with ErrBudget (Eval:
// nil, false) instead of running 2^40 steps.
func TestBudgetStopsNestedIterations(t *testing.T) {
	t.Parallel()
	v, err := compileJSON(t, nestedSome(10)).Evaluate(nil, jsonlogic.DefaultBudget)
	require.NoError(t, err)
	assert.Equal(t, false, v)

	deep := compileJSON(t, nestedSome(40))
	v, err = deep.Evaluate(nil, jsonlogic.DefaultBudget)
	require.ErrorIs(t, err, jsonlogic.ErrBudget)
	assert.Nil(t, v)
	assert.Nil(t, deep.Eval(nil))
	for _, op := range []string{"all", "none", "map", "filter"} {
		cond := "true"
		for range 40 {
			cond = `{"` + op + `":[[1,2],` + cond + `]}`
		}
		_, err := compileJSON(t, cond).Evaluate(nil, jsonlogic.DefaultBudget)
		require.ErrorIs(t, err, jsonlogic.ErrBudget, op)
	}
	cond := "1"
	for range 40 {
		cond = `{"reduce":[[1,2],{"+":[{"var":"accumulator"},` + cond + `]},0]}`
	}
	_, err = compileJSON(t, cond).Evaluate(nil, jsonlogic.DefaultBudget)
	require.ErrorIs(t, err, jsonlogic.ErrBudget, "reduce")
}

// A reduce joining its accumulator with cat builds a quadratic number of
// bytes; the budget counts them, so it stops.
func TestBudgetCountsBytesBuilt(t *testing.T) {
	t.Parallel()
	join := compileJSON(t, `{"reduce":[{"var":"s"},{"cat":[{"var":"accumulator"},{"var":"current"}]},""]}`)
	strs := func(n int) map[string]any {
		s := make([]any, n)
		for i := range s {
			s[i] = "0123456789"
		}
		return map[string]any{"s": s}
	}
	v, err := join.Evaluate(strs(100), jsonlogic.DefaultBudget)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("0123456789", 100), v)
	_, err = join.Evaluate(strs(5000), jsonlogic.DefaultBudget)
	require.ErrorIs(t, err, jsonlogic.ErrBudget)

	// Doubling: each step joins the accumulator with itself.
	double := compileJSON(t, `{"reduce":[{"var":"s"},{"cat":[{"var":"accumulator"},{"var":"accumulator"}]},"x"]}`)
	_, err = double.Evaluate(strs(64), jsonlogic.DefaultBudget)
	require.ErrorIs(t, err, jsonlogic.ErrBudget)

	// merge pays for the elements it copies.
	grow := compileJSON(t, `{"reduce":[{"var":"s"},{"merge":[{"var":"accumulator"},{"var":"accumulator"}]},[1]]}`)
	_, err = grow.Evaluate(strs(64), jsonlogic.DefaultBudget)
	require.ErrorIs(t, err, jsonlogic.ErrBudget)
}

// The rules Target writes stay far below the budget.
func TestBudgetFitsRealRules(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"allocation": 42.17,
		"page":       map[string]any{"url": "https://www.example.com/products/shoes?color=red", "domain": "example.com"},
		"user":       map[string]any{"browserType": "chrome", "platform": "mac"},
	}
	c := compileJSON(t, `{"and":[{"<=":[0,{"var":"allocation"},100]},{"or":[{"in":[{"var":"user.browserType"},["chrome","firefox"]]},{"==":[{"var":"user.platform"},"windows"]}]},{"!=":[{"var":"page.domain"},""]}]}`)
	v, err := c.Evaluate(data, 64)
	require.NoError(t, err)
	assert.Equal(t, true, v)
}

// BenchmarkEvalOverBudget is the most a hostile condition costs one rule
// evaluation: nestedSome(40) (2^40 steps unbounded) stopped
// at DefaultBudget.
func BenchmarkEvalOverBudget(b *testing.B) {
	var v any
	require.NoError(b, json.Unmarshal([]byte(nestedSome(40)), &v))
	c, err := jsonlogic.Compile(v)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Evaluate(nil, jsonlogic.DefaultBudget); err == nil {
			b.Fatal("evaluation within budget")
		}
	}
}
