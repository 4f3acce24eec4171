package jsonlogic_test

// Every operator on operands of odd JSON types, evaluated here and by the
// json-logic-js bundled in Adobe's Node.js SDK (read from
// TARGET_NODE_SDK_DIR at run time), which is the engine's semantics.

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// jsText normalises a result to the text JSON.stringify gives it (NaN and
// infinities as null, -0 as 0), with its JavaScript type.
func jsText(v any) string {
	var w func(v any) any
	w = func(v any) any {
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil
			}
			if x == 0 {
				return 0.0
			}
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = w(e)
			}
			return out
		}
		return v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(w(v))
	return strings.TrimSpace(b.String())
}

const jsScript = `
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const start = src.indexOf("var logic = createCommonjsModule(");
const end = src.indexOf("return jsonLogic;", start);
const end2 = src.indexOf("});", src.indexOf("});", end) + 3) + 3;
const code = "'use strict'; var commonjsGlobal = globalThis; function createCommonjsModule(fn){var module={exports:{}}; fn(module, module.exports); return module.exports;}\n" + src.slice(start, end2) + "\nreturn logic;";
const logic = new Function(code)();
const cases = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = cases.map(c => { try { const v = logic.apply(c[0], c[1]); return v === undefined ? "undefined" : JSON.stringify(v === 0 ? 0 : v); } catch (e) { return "throw"; } });
process.stdout.write(JSON.stringify(out));
`

// TestOperatorsMatchJSONLogicJS evaluates about 34,000 operator and
// operand pairs here and in json-logic-js (one node process, a few
// seconds) and requires the same result for each. Where json-logic-js
// throws (a TypeError: missing_some of null, * of nothing, ...) this
// package returns a value instead, as it never panics on bad input; those
// cases are counted, not compared. It runs where CI provides the Node SDK
// (TARGET_NODE_SDK_DIR); the cases that mattered are also pinned without
// node in TestOperandsAsJSONLogicJS.
func TestOperatorsMatchJSONLogicJS(t *testing.T) {
	dir := os.Getenv("TARGET_NODE_SDK_DIR")
	if dir == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set")
	}
	bundle := filepath.Join(dir, "@adobe", "target-nodejs-sdk", "dist", "targetclient.server.js")
	vals := []string{`null`, `true`, `false`, `0`, `1`, `-1`, `1.5`, `"1"`, `""`, `"a"`, `"A"`, `"b"`, `" 1 "`, `"0x10"`, `"1e3"`,
		`"Infinity"`, `[]`, `[1]`, `["a"]`, `[1,2]`, `["a","b"]`, `{}`, `1e21`, `1e-7`, `123456789012345678901234`, `{"var":"x"}`, `{"var":"y"}`,
		`"abc"`, `"ß"`, `[[1]]`, `[null]`}
	ops := []string{"==", "===", "!=", "!==", "<", "<=", ">", ">=", "in", "cat", "substr", "+", "-", "*", "/", "%", "min", "max",
		"!", "!!", "and", "or", "if", "merge", "missing", "missing_some", "var"}
	datas := []string{`{"x":"abc","y":["a","abc"]}`, `{"x":null}`, `{"x":[1,2,3],"y":{"z":1}}`, `{"x":5,"y":"5"}`, `null`, `[10,20]`, `"str"`}
	var cases [][2]any
	var texts []string
	add := func(logic, data string) {
		var l, d any
		if json.Unmarshal([]byte(logic), &l) != nil || json.Unmarshal([]byte(data), &d) != nil {
			t.Fatalf("bad case %s %s", logic, data)
		}
		cases = append(cases, [2]any{l, d})
		texts = append(texts, logic+" on "+data)
	}
	for _, op := range ops {
		for i, a := range vals {
			for j, b := range vals {
				d := datas[(i+j)%len(datas)]
				add(`{"`+op+`":[`+a+`,`+b+`]}`, d)
			}
			add(`{"`+op+`":`+a+`}`, datas[i%len(datas)])
			add(`{"`+op+`":[]}`, datas[i%len(datas)])
			if op == "<" || op == "<=" || op == "substr" || op == "in" || op == "if" || op == "var" || op == "missing_some" {
				for j, b := range vals {
					add(`{"`+op+`":[`+a+`,`+b+`,`+vals[(i*7+j)%len(vals)]+`]}`, datas[(i+j)%len(datas)])
				}
			}
		}
	}
	for _, p := range []string{`"x"`, `"x.0"`, `"y.z"`, `"y.1"`, `"x.length"`, `""`, `null`, `0`, `1`, `"0"`, `["x",1]`, `["nope","d"]`, `[]`, `"x."`, `".x"`, `"y..z"`} {
		for _, d := range datas {
			add(`{"var":`+p+`}`, d)
		}
	}
	tmp := t.TempDir()
	cf := filepath.Join(tmp, "c.json")
	b, err := json.Marshal(cases)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cf, b, 0o600))
	sf := filepath.Join(tmp, "s.js")
	require.NoError(t, os.WriteFile(sf, []byte(jsScript), 0o600))
	out, err := exec.Command("node", sf, bundle, cf).Output()
	require.NoError(t, err)
	var want []string
	require.NoError(t, json.Unmarshal(out, &want))
	bad, throws := 0, 0
	for i, c := range cases {
		got := "compile error"
		cond, err := jsonlogic.Compile(c[0])
		if err == nil {
			got = jsText(cond.Eval(c[1]))
			if got == "null" && want[i] == "undefined" {
				got = "undefined" // nil stands for both here (package doc)
			}
		}
		if want[i] == "throw" {
			throws++
			continue
		}
		if got != want[i] {
			bad++
			if bad <= 50 {
				t.Errorf("%s: json-logic-js %s, here %s", texts[i], want[i], got)
			}
		}
	}
	t.Logf("%d cases, %d differ, %d throw in json-logic-js", len(cases), bad, throws)
	require.Zero(t, bad)
}
