package jsonlogic_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// TestRedTeamFinding3 (rtparity): conditions on which json-logic-js (as
// bundled in Adobe's Node.js SDK 2.4.3, results taken from it by
// TestRedTeamJSONLogicOperands) and this package disagree. Skipped unless
// RT_FINDINGS is set: it fails today.
func TestRedTeamFinding3(t *testing.T) {
	if os.Getenv("RT_FINDINGS") == "" {
		t.Skip("red team: reproduces finding 3 (set RT_FINDINGS=1)")
	}
	for _, c := range []struct{ logic, data, want string }{
		// "in" on an empty string haystack: json-logic-js tests !b first.
		{`{"in":["",""]}`, `null`, `false`},
		{`{"in":["",{"var":"u"}]}`, `{"u":""}`, `false`},
		{`{"in":[[],""]}`, `null`, `false`},
		// A comparison with one operand compares it with undefined.
		{`{">":[1]}`, `null`, `false`},
		{`{">=":["1"]}`, `null`, `false`},
		{`{"<=":[null]}`, `null`, `false`},
		{`{"===":[null]}`, `null`, `false`},
		// Two array literals are two objects.
		{`{"==":[[],[]]}`, `null`, `false`},
		{`{"!=":[[],[]]}`, `null`, `true`},
	} {
		var l, d any
		require.NoError(t, json.Unmarshal([]byte(c.logic), &l))
		require.NoError(t, json.Unmarshal([]byte(c.data), &d))
		cond, err := jsonlogic.Compile(l)
		require.NoError(t, err, c.logic)
		if got := rtJS(cond.Eval(d)); got != c.want {
			t.Errorf("%s on %s: json-logic-js %s, here %s", c.logic, c.data, c.want, got)
		}
	}
}
