package jsonlogic_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// TestOperandsAsJSONLogicJS pins, without node, operand cases on which
// this package once disagreed with json-logic-js (results taken from it by
// TestOperatorsMatchJSONLogicJS).
func TestOperandsAsJSONLogicJS(t *testing.T) {
	t.Parallel()
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
		{`{"===":[[[]],[[]]]}`, `null`, `false`},
		{`{"in":[""]}`, `null`, `false`},
		{`{"in":["un", "undefined"]}`, `null`, `true`},
		// A lone operand of * is returned as it is.
		{`{"*":["1e3"]}`, `null`, `"1e3"`},
		// substr of nothing is String(undefined).
		{`{"substr":[]}`, `null`, `"undefined"`},
		// A missing key that is an array is var's operand list.
		{`{"missing":[[["a", 1]]]}`, `{}`, `[]`},
		{`{"missing":["a",["b"]]}`, `{}`, `["a",["b"]]`},
		// missing_some hands non-array options to missing as one key.
		{`{"missing_some":[1,"a"]}`, `{}`, `["a"]`},
		{`{"missing_some":[2,[["a"],"b"]]}`, `{}`, `["a"]`},
		// A var path whose text is empty looks up the property "".
		{`{"var":[[],"d"]}`, `{"x":1}`, `"d"`},
		{`{"var":[[null],"d"]}`, `{"":2}`, `2`},
	} {
		var l, d any
		require.NoError(t, json.Unmarshal([]byte(c.logic), &l))
		require.NoError(t, json.Unmarshal([]byte(c.data), &d))
		cond, err := jsonlogic.Compile(l)
		require.NoError(t, err, c.logic)
		if got := jsText(cond.Eval(d)); got != c.want {
			t.Errorf("%s on %s: json-logic-js %s, here %s", c.logic, c.data, c.want, got)
		}
	}
}
