package delivery_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
)

// wantOffset is where encoding/json puts the offset of a type error for
// the value that starts at start: at it under GOEXPERIMENT=jsonv2, just
// past a literal or an opening bracket by default.
func wantOffset(value string, start int) int64 {
	if !errorOffsetPastValue {
		return int64(start)
	}
	if value[0] == '[' || value[0] == '{' {
		return int64(start + 1)
	}
	return int64(start + len(value))
}

// readRequest reads body as a Request, with UnmarshalRequestStrict when
// strict, else with json.Unmarshal (Request.UnmarshalJSON).
func readRequest(body string, strict bool) error {
	var r delivery.Request
	if strict {
		return delivery.UnmarshalRequestStrict([]byte(body), &r)
	}
	return json.Unmarshal([]byte(body), &r)
}

// A parameter of a request that is an array or an object, or parameters
// that are not an object, are refused with a *json.UnmarshalTypeError
// whose Field is the whole path from the request (indexes included) and
// whose Offset refers to the request's text, in both builds of
// encoding/json and by both readers; a bad parameter also matches
// ErrParameterType. Of several, the first in the text is named, and of
// several in one object the first name in byte order.
func TestParameterTypeErrorsNamePathAndOffset(t *testing.T) {
	t.Parallel()
	const ctx = `{"context":{"channel":"web"},`
	for _, tc := range []struct {
		body  string
		field string
		value string // the offending value; its last occurrence in body
		param bool   // a parameter's value (ErrParameterType), not the parameters
	}{
		{ctx + `"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"a":"1","x":[1]}}]}}`, "execute.mboxes.0.parameters.x", `[1]`, true},
		{ctx + `"execute":{"mboxes":[{"name":"m","index":1},{"name":"n","index":2,"parameters":{"x" : {"k":1}}}]}}`, "execute.mboxes.1.parameters.x", `{"k":1}`, true},
		{ctx + `"execute":{"pageLoad":{"profileParameters":{"age":42,"tags":["a"]}}}}`, "execute.pageLoad.profileParameters.tags", `["a"]`, true},
		{ctx + `"prefetch":{"views":[{},{"parameters":{"x":[]}}]}}`, "prefetch.views.1.parameters.x", `[]`, true},
		{ctx + `"notifications":[{"id":"n","type":"display","timestamp":1,"mbox":{"name":"m"},"parameters":{"\u0078":{}}}]}`, "notifications.0.parameters.x", `{}`, true},
		// Of two bad parameters, the first name in byte order.
		{ctx + `"execute":{"pageLoad":{"parameters":{"z":[2],"b":[1]}}}}`, "execute.pageLoad.parameters.b", `[1]`, true},
		// Of two bad parameters objects, the first in the text.
		{ctx + `"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"e":[2]}}]}}`, "prefetch.mboxes.0.parameters.p", `[1]`, true},
		{ctx + `"execute":{"mboxes":[{"name":"m","index":1},{"name":"n","index":2,"parameters":5}]}}`, "execute.mboxes.1.parameters", `5`, false},
		{ctx + `"prefetch":{"pageLoad":{"profileParameters":["a"]}}}`, "prefetch.pageLoad.profileParameters", `["a"]`, false},
		// With a name that matches a field only in another case (which
		// the lenient reader drops, and the strict one refuses before),
		// and in an order of names the reader does not keep.
		{`{"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"context":{"channel":"web","Channel":"x"}}`, "prefetch.mboxes.0.parameters.p", `[1]`, true},
		{`{"prefetch":{"pageLoad":{"parameters":  5}},"context":{"channel":"web","Channel":"x"}}`, "prefetch.pageLoad.parameters", `5`, false},
	} {
		for _, strict := range []bool{false, true} {
			if strict && strings.Contains(tc.body, `"Channel"`) {
				continue // refused as an unknown field
			}
			err := readRequest(tc.body, strict)
			var te *json.UnmarshalTypeError
			require.ErrorAs(t, err, &te, "%s (strict %v)", tc.body, strict)
			assert.Equal(t, tc.field, te.Field, "%s (strict %v): %v", tc.body, strict, err)
			assert.Equal(t, "Request", te.Struct, tc.body)
			assert.Equal(t, wantOffset(tc.value, strings.LastIndex(tc.body, tc.value)), te.Offset, "%s (strict %v): %v", tc.body, strict, err)
			assert.Equal(t, tc.param, errors.Is(err, delivery.ErrParameterType), "%s: %v", tc.body, err)
			assert.NotRegexp(t, `RawMessage|jsontext|RequestDetails|\brequest\b`, err.Error(), tc.body)
			if tc.param {
				at, name := tc.field[:strings.LastIndexByte(tc.field, '.')], tc.field[strings.LastIndexByte(tc.field, '.')+1:]
				assert.Equal(t, at+`: parameter `+strconv.Quote(name)+`: `+delivery.ErrParameterType.Error()+`, not an `+te.Value, err.Error())
				assert.Equal(t, reflect.TypeFor[string](), te.Type, tc.body)
			} else {
				assert.Equal(t, reflect.TypeFor[delivery.Parameters](), te.Type, tc.body)
				assert.Contains(t, err.Error(), "Request."+tc.field+" of type delivery.Parameters", tc.body)
			}
		}
	}
}

// Parameters decoded on their own give the parameter's name as Field and
// an offset into their own text.
func TestParameterTypeErrorOnItsOwn(t *testing.T) {
	t.Parallel()
	body := `{"ok":"x", "b" : [1], "c":{"k":1}}`
	var p delivery.Parameters
	err := json.Unmarshal([]byte(body), &p)
	require.ErrorIs(t, err, delivery.ErrParameterType)
	var te *json.UnmarshalTypeError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "b", te.Field)
	assert.Equal(t, wantOffset(`[1]`, strings.Index(body, `[1]`)), te.Offset)
	assert.Equal(t, `parameter "b": `+delivery.ErrParameterType.Error()+`, not an array`, err.Error())

	err = json.Unmarshal([]byte(`5`), &p)
	require.ErrorAs(t, err, &te)
	assert.False(t, errors.Is(err, delivery.ErrParameterType))
	assert.Equal(t, reflect.TypeFor[delivery.Parameters](), te.Type)
	assert.Equal(t, wantOffset(`5`, 0), te.Offset)
}
