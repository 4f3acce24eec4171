package jsonlogic_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// logicCases are conditions with the data they read and the result
// json-logic-js 2.0.5 (the library Adobe's artifacts are written for)
// returns for them; non-finite numbers are written {"number": "Infinity"}.
// They pin the JavaScript coercions the evaluator must reproduce.
var logicCases = []struct{ logic, data, want string }{
	{`{"==":["0",0]}`, `null`, `true`},
	{`{"==":[0,"0"]}`, `null`, `true`},
	{`{"==":["1e1",10]}`, `null`, `true`},
	{`{"==":["1",true]}`, `null`, `true`},
	{`{"==":[" 0.0e1 ",false]}`, `null`, `true`},
	{`{"==":[2,true]}`, `null`, `false`},
	{`{"==":[null,0]}`, `null`, `false`},
	{`{"==":[null,null]}`, `null`, `true`},
	{`{"==":[[1,2],"1,2"]}`, `null`, `true`},
	{`{"==":[[],false]}`, `null`, `true`},
	{`{"==":[{"var":"x"},null]}`, `{}`, `true`},
	{`{"===":["1",1]}`, `null`, `false`},
	{`{"!==":["1",1]}`, `null`, `true`},
	{`{"!=":["1",1]}`, `null`, `false`},
	{`{"==":["abc","ABC"]}`, `null`, `false`},
	{`{"==":["0x10",16]}`, `null`, `true`},
	{`{"==":["",0]}`, `null`, `true`},
	{`{"==":["Infinity",{"/":[1,0]}]}`, `null`, `true`},
	{`{"<":["37.70",37.75]}`, `null`, `true`},
	{`{"<":["b","a"]}`, `null`, `false`},
	{`{"<":["10","9"]}`, `null`, `true`},
	{`{"<":["10",9]}`, `null`, `false`},
	{`{"<":[1,2,3]}`, `null`, `true`},
	{`{"<":[1,1,3]}`, `null`, `false`},
	{`{"<=":[1,1,3]}`, `null`, `true`},
	{`{"<":["abc",1]}`, `null`, `false`},
	{`{">=":[null,0]}`, `null`, `true`},
	{`{">":[3,"2"]}`, `null`, `true`},
	{`{">=":["-122.3",-122.3]}`, `null`, `true`},
	{`{"<=":[0,{"var":"a"}]}`, `{"a":0}`, `true`},
	{`{"!":[[]]}`, `null`, `true`},
	{`{"!":{"var":"x"}}`, `{"x":"0"}`, `false`},
	{`{"!!":["0"]}`, `null`, `true`},
	{`{"!!":[[]]}`, `null`, `false`},
	{`{"!!":[[0]]}`, `null`, `true`},
	{`{"and":[1,"",3]}`, `null`, `""`},
	{`{"and":[1,2,3]}`, `null`, `3`},
	{`{"or":[0,"",null]}`, `null`, `null`},
	{`{"or":[0,"a"]}`, `null`, `"a"`},
	{`{"and":[]}`, `null`, `null`},
	{`{"in":["Spring","Springfield"]}`, `null`, `true`},
	{`{"in":[1,["1",2]]}`, `null`, `false`},
	{`{"in":[2,[1,2]]}`, `null`, `true`},
	{`{"in":[1,"a1b"]}`, `null`, `true`},
	{`{"in":["a",null]}`, `null`, `false`},
	{`{"cat":["I love"," pie",1.5,null,true,[1,[2,3]]]}`, `null`, `"I love pie1.5true1,2,3"`},
	{`{"substr":["jsonlogic",4]}`, `null`, `"logic"`},
	{`{"substr":["jsonlogic",-5]}`, `null`, `"logic"`},
	{`{"substr":["jsonlogic",1,3]}`, `null`, `"son"`},
	{`{"substr":["jsonlogic",4,-2]}`, `null`, `"log"`},
	{`{"substr":["jsonlogic",-20,2]}`, `null`, `"js"`},
	{`{"+":["1",2,"3.5abc"]}`, `null`, `6.5`},
	{`{"+":["3"]}`, `null`, `3`},
	{`{"*":["2","3"]}`, `null`, `6`},
	{`{"-":[5,"2"]}`, `null`, `3`},
	{`{"-":["3"]}`, `null`, `-3`},
	{`{"/":[1,4]}`, `null`, `0.25`},
	{`{"%":[-7,3]}`, `null`, `-1`},
	{`{"min":[3,"1",2]}`, `null`, `1`},
	{`{"max":[]}`, `null`, `{"number":"-Infinity"}`},
	{`{"max":[1,"x"]}`, `null`, `{"number":"NaN"}`},
	{`{"+":[0.1,0.2]}`, `null`, `0.30000000000000004`},
	{`{"cat":[1e+21,1e-07,123456789012,1e-06]}`, `null`, `"1e+211e-71234567890120.000001"`},
	{`{"var":"a.b.c"}`, `{"a":{"b":{"c":42}}}`, `42`},
	{`{"var":["a.x","dflt"]}`, `{"a":{}}`, `"dflt"`},
	{`{"var":["a","dflt"]}`, `{"a":null}`, `null`},
	{`{"var":1}`, `["zero","one"]`, `"one"`},
	{`{"var":""}`, `{"q":1}`, `{"q":1}`},
	{`{"var":["z"]}`, `null`, `null`},
	{`{"var":"a.length"}`, `{"a":[1,2,3]}`, `3`},
	{`{"if":[true,"yes","no"]}`, `null`, `"yes"`},
	{`{"if":[false,"yes","no"]}`, `null`, `"no"`},
	{`{"if":[false,"a",false,"b"]}`, `null`, `null`},
	{`{"if":[]}`, `null`, `null`},
	{`{"if":[{"<":[{"var":"t"},0]},"freezing",{"<":[{"var":"t"},100]},"liquid","gas"]}`, `{"t":55}`, `"liquid"`},
	{`{"missing":["a","b"]}`, `{"a":"x"}`, `["b"]`},
	{`{"missing":[["a","b"]]}`, `{"b":""}`, `["a","b"]`},
	{`{"missing_some":[1,["a","b","c"]]}`, `{"a":1}`, `[]`},
	{`{"missing_some":[2,["a","b","c"]]}`, `{"a":1}`, `["b","c"]`},
	{`{"all":[[1,2,3],{">":[{"var":""},0]}]}`, `null`, `true`},
	{`{"all":[[],{">":[{"var":""},0]}]}`, `null`, `false`},
	{`{"some":[[-1,0,1],{">":[{"var":""},0]}]}`, `null`, `true`},
	{`{"none":[[-1,0],{">":[{"var":""},0]}]}`, `null`, `true`},
	{`{"filter":[[1,2,3,4],{"%":[{"var":""},2]}]}`, `null`, `[1,3]`},
	{`{"map":[[1,2,3],{"*":[{"var":""},2]}]}`, `null`, `[2,4,6]`},
	{`{"reduce":[[1,2,3,4],{"+":[{"var":"current"},{"var":"accumulator"}]},0]}`, `null`, `10`},
	{`{"reduce":["x",{"+":[1,1]},7]}`, `null`, `7`},
	{`{"map":[{"var":"nope"},1]}`, `null`, `[]`},
	{`{"merge":[[1,2],[3],4]}`, `null`, `[1,2,3,4]`},
	{`{"merge":[]}`, `null`, `[]`},
	{`{"log":"apple"}`, `null`, `"apple"`},
	{`{"a":1,"b":2}`, `null`, `{"a":1,"b":2}`},
	{`[1,{"var":"x"}]`, `{"x":2}`, `[1,2]`},
	{`{"==":[{"var":"arr"},{"var":"arr"}]}`, `{"arr":[1]}`, `true`},
	{`{"===":[{"var":"arr"},{"var":"arr"}]}`, `{"arr":[1]}`, `true`},
	{`{"==":[[1],[1]]}`, `null`, `false`},
	{`{"<":[[2],3]}`, `null`, `true`},
	{`{"==":[{"var":"o"},"[object Object]"]}`, `{"o":{"k":1}}`, `true`},
}

func TestLogicMatchesJSONLogicJS(t *testing.T) {
	t.Parallel()
	for _, tc := range logicCases {
		t.Run(tc.logic+" "+tc.data, func(t *testing.T) {
			t.Parallel()
			var logic, data, want any
			require.NoError(t, json.Unmarshal([]byte(tc.logic), &logic))
			require.NoError(t, json.Unmarshal([]byte(tc.data), &data))
			require.NoError(t, json.Unmarshal([]byte(tc.want), &want))
			got, err := evalLogic(logic, data)
			require.NoError(t, err)
			if f, ok := got.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
				got = map[string]any{"number": jsonlogic.NumberString(f)}
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestLogicRejectsUnknownOperators(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`{"method":["a","toUpperCase"]}`, `{"and":[true,{"bogus":1}]}`} {
		var logic any
		require.NoError(t, json.Unmarshal([]byte(src), &logic))
		_, err := evalLogic(logic, nil)
		require.ErrorIs(t, err, jsonlogic.ErrInvalid, src)
	}
}

func TestLogicRejectsDeepNesting(t *testing.T) {
	t.Parallel()
	var logic any = true
	for range 1000 {
		logic = map[string]any{"!": []any{logic}}
	}
	_, err := evalLogic(logic, nil)
	require.ErrorIs(t, err, jsonlogic.ErrInvalid)
}

// evalLogic compiles and evaluates a condition.
func evalLogic(logic, data any) (any, error) {
	c, err := jsonlogic.Compile(logic)
	if err != nil {
		return nil, err
	}
	return c.Eval(data), nil
}

// BenchmarkEval evaluates compiled conditions of the shapes Target's rules
// use: an allocation range, a string test on a URL, and an audience mixing
// both with an "in" on a list.
func BenchmarkEval(b *testing.B) {
	data := map[string]any{
		"allocation": 42.17,
		"page":       map[string]any{"url": "https://www.example.com/products/shoes?color=red", "domain": "example.com"},
		"user":       map[string]any{"browserType": "chrome", "platform": "mac"},
	}
	for _, bc := range []struct{ name, logic string }{
		{"allocation", `{"<=":[0,{"var":"allocation"},50]}`},
		{"urlContains", `{"in":["shoes",{"var":"page.url"}]}`},
		{"audience", `{"and":[{"<=":[0,{"var":"allocation"},100]},{"or":[{"in":[{"var":"user.browserType"},["chrome","firefox"]]},{"==":[{"var":"user.platform"},"windows"]}]},{"!=":[{"var":"page.domain"},""]}]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var logic any
			require.NoError(b, json.Unmarshal([]byte(bc.logic), &logic))
			c, err := jsonlogic.Compile(logic)
			require.NoError(b, err)
			require.Equal(b, true, c.Eval(data))
			b.ReportAllocs()
			for b.Loop() {
				c.Eval(data)
			}
		})
	}
}

// FuzzEval compiles and evaluates hostile conditions against hostile data:
// compiling may fail, with ErrInvalid, but nothing may panic or hang.
func FuzzEval(f *testing.F) {
	for _, tc := range logicCases {
		f.Add([]byte(tc.logic), []byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, logicJSON, dataJSON []byte) {
		var logic, data any
		if json.Unmarshal(logicJSON, &logic) != nil || json.Unmarshal(dataJSON, &data) != nil {
			return
		}
		c, err := jsonlogic.Compile(logic)
		if err != nil {
			if !errors.Is(err, jsonlogic.ErrInvalid) {
				t.Fatalf("compile error %v does not wrap ErrInvalid", err)
			}
			return
		}
		c.Eval(data)
	})
}
