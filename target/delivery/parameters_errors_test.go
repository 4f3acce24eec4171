package delivery_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
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

// With a name that matches a field only in another case, which the
// lenient reader drops before decoding the request again with its names
// in another order, the bad parameters named are still the first in the
// caller's text, not the first in the order the request was read again.
func TestParameterTypeErrorFirstInTextAfterDroppedName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, field string }{
		{`{"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"e":[2]}}]},"context":{"channel":"web","Channel":"x"}}`, "prefetch.mboxes.0.parameters.p"},
		{`{"context":{"channel":"web","Channel":"x"},"execute":{"pageLoad":{"profileParameters":{"p":[1]},"parameters":{"e":[2]}}}}`, "execute.pageLoad.profileParameters.p"},
		{`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"Parameters":{"q":[3]},"profileParameters":{"p":[1]},"parameters":{"e":[2]}}]}}`, "execute.mboxes.0.profileParameters.p"},
	} {
		err := readRequest(tc.body, false)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, tc.body)
		assert.ErrorIs(t, err, delivery.ErrParameterType, tc.body)
		assert.Equal(t, tc.field, te.Field, "%s: %v", tc.body, err)
		assert.Equal(t, wantOffset(`[1]`, strings.Index(tc.body, `[1]`)), te.Offset, tc.body)
	}
}

// Parameters inside a value the decoder refuses and skips (an array where
// an mbox or the execute object belongs, an object where the list of
// mboxes belongs) are never read, so never named: the error names the
// parameters the decoder refused, or is the decoder's own type error for
// the misplaced value (as GOEXPERIMENT=jsonv2 reports it), never a path
// the models do not have.
func TestParameterTypeErrorNotInSkippedValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, field string }{
		{`{"context":{"channel":"web"},"execute":{"mboxes":[[{"parameters":{"a":[1]}}],{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "execute.mboxes.1.parameters.b"},
		{`{"context":{"channel":"web"},"execute":{"mboxes":{"parameters":{"a":[1]}}},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
		{`{"context":{"channel":"web"},"execute":[{"mboxes":[{"parameters":{"a":[1]}}]}],"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
		// Under names that are no field (which the strict reader
		// refuses): in a type with its own UnmarshalJSON, and in a
		// request's.
		{`{"context":{"channel":"web","geo":{"x":{"parameters":{"a":[1]}}}},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
		{`{"context":{"channel":"web"},"execute":{"x":[{"parameters":{"a":[1]}}]},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
	} {
		for _, strict := range []bool{false, true} {
			if strict && strings.Contains(tc.body, `"x":`) {
				continue // refused as an unknown field
			}
			err := readRequest(tc.body, strict)
			var te *json.UnmarshalTypeError
			require.ErrorAs(t, err, &te, "%s (strict %v)", tc.body, strict)
			if !errors.Is(err, delivery.ErrParameterType) {
				// The misplaced value's own error, where the decoder
				// stops at it.
				assert.False(t, defaultJSONBuild, "%s (strict %v): %v", tc.body, strict, err)
				assert.NotContains(t, te.Field, "parameters", "%s (strict %v): %v", tc.body, strict, err)
				continue
			}
			assert.Equal(t, tc.field, te.Field, "%s (strict %v): %v", tc.body, strict, err)
			assert.Equal(t, wantOffset(`[2]`, strings.Index(tc.body, `[2]`)), te.Offset, "%s (strict %v)", tc.body, strict)
		}
	}
}

// On a bad parameter after a deeply nested value, the error path reads
// the text again in memory linear in its length: it allocates a few times
// what decoding the same request without the bad parameter does (before,
// it wrote the path of every value it walked, 89 MB for an 18 KB request).
// Bytes allocated are counted, not time.
func TestParameterTypeErrorMemoryLinearInNesting(t *testing.T) {
	allocated := func(b []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var r delivery.Request
		_ = json.Unmarshal(b, &r)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	for _, depth := range []int{1000, 4000, 9000} {
		body := func(value string) []byte {
			return []byte(`{"context":{"channel":"web"},"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) +
				`,"execute":{"mboxes":[{"name":"m","index":1,"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) +
				`,"parameters":{"p":` + value + `}}]}}`)
		}
		ok, bad := allocated(body(`"1"`)), allocated(body(`[1]`))
		t.Logf("depth %d (%d bytes): %d bytes allocated without the bad parameter, %d with it", depth, len(body(`[1]`)), ok, bad)
		assert.LessOrEqual(t, bad, 4*ok+1<<20, "depth %d", depth)
	}
}

// Parameters decoded on their own that hold a name twice keep the last
// value (encoding/json's rule for a map), and the offset of its error is
// that value's.
func TestParametersDuplicateNameOffsetAtKeptValue(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"x":"ok","x":[1]}`, `{"x":[2] , "y":"1", "x" : [1]}`} {
		var p delivery.Parameters
		err := json.Unmarshal([]byte(body), &p)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, body)
		assert.Equal(t, wantOffset(`[1]`, strings.LastIndex(body, `[1]`)), te.Offset, body)
	}
	var p delivery.Parameters
	require.NoError(t, json.Unmarshal([]byte(`{"x":[1],"x":"ok"}`), &p))
	assert.Equal(t, delivery.Parameters{"x": "ok"}, p)
}

// A Request inside the caller's own struct: the default encoding/json
// puts the path to the request (and the caller's struct name) in front
// of a *json.UnmarshalTypeError that Request.UnmarshalJSON returns, so of
// parameters that are not an object; a bad parameter's error wraps its
// *json.UnmarshalTypeError, which that decoder does not reach, and keeps
// the path from the request. Under GOEXPERIMENT=jsonv2 neither gets the
// prefix. Parameters.UnmarshalJSON documents this.
func TestParameterTypeErrorPathInCallersStruct(t *testing.T) {
	t.Parallel()
	var w struct {
		Req delivery.Request `json:"req"`
	}
	prefix := ""
	if defaultJSONBuild {
		prefix = "req."
	}
	for _, tc := range []struct{ body, field string }{
		{`{"req":{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":5}]}}}`, prefix + "execute.mboxes.0.parameters"},
		{`{"req":{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"x":[1]}}]}}}`, "execute.mboxes.0.parameters.x"},
	} {
		err := json.Unmarshal([]byte(tc.body), &w)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, tc.body)
		assert.Equal(t, tc.field, te.Field, "%s: %v", tc.body, err)
	}
}

// Concurrent reads of bad and miscased requests, for -race: the error
// path shares nothing between calls.
func TestParameterTypeErrorsConcurrent(t *testing.T) {
	t.Parallel()
	bodies := []struct{ body, field string }{
		{`{"context":{"channel":"web","Channel":"x"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"x":[1]}}]}}`, "execute.mboxes.0.parameters.x"},
		{`{"context":{"channel":"web"},"prefetch":{"views":[{"parameters":5}]}}`, "prefetch.views.0.parameters"},
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				tc := bodies[(i+j)%len(bodies)]
				var te *json.UnmarshalTypeError
				if err := readRequest(tc.body, false); !errors.As(err, &te) || te.Field != tc.field {
					t.Errorf("%s: %v", tc.body, err)
				}
			}
		})
	}
	wg.Wait()
}

// A name that matches a field only by Unicode folding ("mboxeſ", with a
// long s) is dropped by the lenient reader, and the error is placed in
// the caller's text.
func TestParameterTypeErrorWithFoldedNameDropped(t *testing.T) {
	t.Parallel()
	body := `{"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"execute":{"mboxeſ":[{"parameters":{"q":[1]}}]}}`
	err := readRequest(body, false)
	var te *json.UnmarshalTypeError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, delivery.ErrParameterType)
	assert.Equal(t, "prefetch.mboxes.0.parameters.p", te.Field)
	assert.Equal(t, wantOffset(`[1]`, strings.Index(body, `[1]`)), te.Offset)
}
