// Package jsonlogic evaluates json-logic conditions with the semantics of
// json-logic-js 2.0.5, the library Target's on-device artifacts are written
// for: JavaScript's coercions decide what a condition means ("1" == 1,
// "37.70" < 37.75, an empty array is false).
//
// Contract: Compile turns a condition decoded by encoding/json into a
// Condition, or fails with an error wrapping ErrInvalid (unknown operator,
// nesting deeper than 128); Eval then never fails and never panics, and a
// Condition is safe for concurrent use. Values are what encoding/json
// produces (nil, bool, float64, string, []any, map[string]any); nil stands
// for both null and undefined, as json-logic-js folds them for missing
// data. A Scope lets the caller resolve top-level names without building a
// map per evaluation.
//
// Source of truth: json-logic-js itself. The test table pins results
// computed by json-logic-js, and the on-device differential test compares
// whole decisions with Adobe's Node.js engine.
//
// Why not a Go json-logic library: the maintained one has been reported to
// disagree with JavaScript on coercions ({"==": ["0", 0]} false there, true
// in JavaScript). Writing the operators also lets a condition be compiled
// once when the artifact loads: an artifact with an unknown operator is
// rejected then (the last good artifact stays in use).
package jsonlogic

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
)

// ErrInvalid is the condition of a rule condition that cannot be compiled;
// errors wrapping it name the operator or the problem.
var ErrInvalid = errors.New("target: invalid json-logic condition")

// maxLogicDepth bounds how deeply conditions may nest: real rules are a
// handful of levels deep, and a hostile artifact must not exhaust the stack.
const maxLogicDepth = 128

type logicOp uint8

const (
	opLiteral logicOp = iota
	opArray           // an array of expressions, evaluated element-wise
	opVar
	opMissing
	opMissingSome
	opIf
	opAnd
	opOr
	opNot
	opTruthy
	opEq
	opStrictEq
	opNotEq
	opStrictNotEq
	opLess
	opLessEq
	opGreater
	opGreaterEq
	opIn
	opCat
	opSubstr
	opAdd
	opMul
	opSub
	opDiv
	opMod
	opMin
	opMax
	opMerge
	opLog
	opFilter
	opMap
	opReduce
	opAll
	opSome
	opNone
)

var logicOps = map[string]logicOp{
	"var": opVar, "missing": opMissing, "missing_some": opMissingSome,
	"if": opIf, "?:": opIf, "and": opAnd, "or": opOr, "!": opNot, "!!": opTruthy,
	"==": opEq, "===": opStrictEq, "!=": opNotEq, "!==": opStrictNotEq,
	"<": opLess, "<=": opLessEq, ">": opGreater, ">=": opGreaterEq,
	"in": opIn, "cat": opCat, "substr": opSubstr,
	"+": opAdd, "*": opMul, "-": opSub, "/": opDiv, "%": opMod,
	"min": opMin, "max": opMax, "merge": opMerge, "log": opLog,
	"filter": opFilter, "map": opMap, "reduce": opReduce,
	"all": opAll, "some": opSome, "none": opNone,
}

// Condition is a compiled json-logic expression. Evaluation is safe for
// concurrent use: nothing in it changes after compilation.
type Condition struct {
	op   logicOp
	lit  any          // opLiteral
	args []*Condition // operands, unevaluated
	path []string     // opVar with a constant path; nil path means the data itself
	// constPath tells opVar that path was resolved at compile time.
	constPath bool
}

// Compile compiles a condition decoded by encoding/json.
func Compile(v any) (*Condition, error) {
	return compileAt(v, 0)
}

func compileAt(v any, depth int) (*Condition, error) {
	if depth > maxLogicDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalid, maxLogicDepth)
	}
	switch x := v.(type) {
	case []any:
		n := &Condition{op: opArray, args: make([]*Condition, len(x))}
		for i, e := range x {
			c, err := compileAt(e, depth+1)
			if err != nil {
				return nil, err
			}
			n.args[i] = c
		}
		if n.allLiteral() {
			// A constant array stays one value, so that a "var" of it and
			// the array itself are the same object to ===.
			return &Condition{op: opLiteral, lit: x}, nil
		}
		return n, nil
	case map[string]any:
		// json-logic-js treats only single-key objects as operations; any
		// other object is data.
		if len(x) != 1 {
			return &Condition{op: opLiteral, lit: x}, nil
		}
		for name, operands := range x {
			op, ok := logicOps[name]
			if !ok {
				return nil, fmt.Errorf("%w: unknown operator %q", ErrInvalid, name)
			}
			list, isList := operands.([]any)
			if !isList {
				list = []any{operands}
			}
			n := &Condition{op: op, args: make([]*Condition, len(list))}
			for i, e := range list {
				c, err := compileAt(e, depth+1)
				if err != nil {
					return nil, err
				}
				n.args[i] = c
			}
			if op == opVar {
				n.compileVarPath()
			}
			return n, nil
		}
	}
	return &Condition{op: opLiteral, lit: v}, nil
}

func (n *Condition) allLiteral() bool {
	for _, a := range n.args {
		if a.op != opLiteral {
			return false
		}
	}
	return true
}

func (n *Condition) compileVarPath() {
	if len(n.args) == 0 {
		n.constPath = true
		return
	}
	if n.args[0].op != opLiteral {
		return
	}
	n.path = varPath(n.args[0].lit)
	n.constPath = true
}

// varPath splits a var operand into property names; nil means the whole
// data (json-logic-js: undefined, null and "" select the data itself).
func varPath(v any) []string {
	if v == nil {
		return nil
	}
	s := String(v)
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// Scope is the data a condition reads: either a plain JSON-like value
// or a rule context, whose top-level names are resolved without building a
// map per rule.
type Scope interface {
	Lookup(name string) (any, bool)
	Value() any
}

// Eval evaluates the condition against data, which is a JSON-like value
// or a Scope.
func (n *Condition) Eval(data any) any {
	switch n.op {
	case opLiteral:
		return n.lit
	case opArray:
		out := make([]any, len(n.args))
		for i, a := range n.args {
			out[i] = a.Eval(data)
		}
		return out
	case opVar:
		return n.evalVar(data)
	case opIf:
		i := 0
		for ; i+1 < len(n.args); i += 2 {
			if Truthy(n.args[i].Eval(data)) {
				return n.args[i+1].Eval(data)
			}
		}
		if i < len(n.args) {
			return n.args[i].Eval(data)
		}
		return nil
	case opAnd:
		var cur any
		for _, a := range n.args {
			cur = a.Eval(data)
			if !Truthy(cur) {
				return cur
			}
		}
		return cur
	case opOr:
		var cur any
		for _, a := range n.args {
			cur = a.Eval(data)
			if Truthy(cur) {
				return cur
			}
		}
		return cur
	case opFilter, opMap, opReduce, opAll, opSome, opNone:
		return n.evalIteration(data)
	}

	// The remaining operators evaluate all operands first.
	var buf [4]any
	vals := buf[:0]
	for _, a := range n.args {
		vals = append(vals, a.Eval(data))
	}
	arg := func(i int) any {
		if i < len(vals) {
			return vals[i]
		}
		return nil
	}
	switch n.op {
	case opMissing:
		return evalMissing(vals, data)
	case opMissingSome:
		return evalMissingSome(arg(0), arg(1), data)
	case opNot:
		return !Truthy(arg(0))
	case opTruthy:
		return Truthy(arg(0))
	case opEq:
		return jsLooseEqual(arg(0), arg(1))
	case opStrictEq:
		return StrictEqual(arg(0), arg(1))
	case opNotEq:
		return !jsLooseEqual(arg(0), arg(1))
	case opStrictNotEq:
		return !StrictEqual(arg(0), arg(1))
	case opLess, opLessEq:
		orEqual := n.op == opLessEq
		if len(vals) >= 3 { // the "between" form
			return jsLess(vals[0], vals[1], orEqual) && jsLess(vals[1], vals[2], orEqual)
		}
		return jsLess(arg(0), arg(1), orEqual)
	case opGreater:
		return jsLess(arg(1), arg(0), false)
	case opGreaterEq:
		return jsLess(arg(1), arg(0), true)
	case opIn:
		return evalIn(arg(0), arg(1))
	case opCat:
		var b strings.Builder
		for _, v := range vals {
			if v != nil { // cat joins its operands, and join writes null as ""
				b.WriteString(String(v))
			}
		}
		return b.String()
	case opSubstr:
		return evalSubstr(vals)
	case opAdd:
		sum := 0.0
		for _, v := range vals {
			sum += jsParseFloat(v)
		}
		return sum
	case opMul:
		if len(vals) == 0 {
			return nil // JavaScript's reduce of nothing throws; nothing to multiply
		}
		p := jsParseFloat(vals[0])
		for _, v := range vals[1:] {
			p *= jsParseFloat(v)
		}
		return p
	case opSub:
		if len(vals) == 0 {
			return math.NaN()
		}
		if len(vals) == 1 {
			return -jsToNumber(vals[0])
		}
		return jsToNumber(vals[0]) - jsToNumber(vals[1])
	case opDiv:
		return jsToNumber(arg(0)) / jsToNumber(arg(1))
	case opMod:
		return math.Mod(jsToNumber(arg(0)), jsToNumber(arg(1)))
	case opMin, opMax:
		return evalMinMax(vals, n.op == opMin)
	case opMerge:
		var out []any
		for _, v := range vals {
			if a, ok := v.([]any); ok {
				out = append(out, a...)
			} else {
				out = append(out, v)
			}
		}
		if out == nil {
			out = []any{}
		}
		return out
	case opLog:
		return arg(0)
	}
	return nil
}

func (n *Condition) evalVar(data any) any {
	var path []string
	var notFound any
	if n.constPath {
		path = n.path
	} else {
		path = varPath(n.args[0].Eval(data))
	}
	if len(n.args) > 1 {
		notFound = n.args[1].Eval(data)
	}
	return lookupPath(data, path, notFound)
}

// lookupPath follows property names from data; a missing or null step
// yields notFound, as in json-logic-js.
func lookupPath(data any, path []string, notFound any) any {
	if len(path) == 0 {
		if s, ok := data.(Scope); ok {
			return s.Value()
		}
		return data
	}
	cur := data
	for _, name := range path {
		var next any
		var ok bool
		switch x := cur.(type) {
		case nil:
			return notFound
		case Scope:
			next, ok = x.Lookup(name)
		case map[string]any:
			next, ok = x[name]
		case []any:
			next, ok = indexArray(x, name)
		case string:
			next, ok = indexString(x, name)
		}
		if !ok {
			return notFound
		}
		cur = next
	}
	return cur
}

// indexArray is JavaScript's array[name] for the names that mean something
// on an array: indexes and length.
func indexArray(a []any, name string) (any, bool) {
	if name == "length" {
		return float64(len(a)), true
	}
	i, ok := arrayIndex(name)
	if !ok || i >= len(a) {
		return nil, false
	}
	return a[i], true
}

func indexString(s, name string) (any, bool) {
	units := utf16.Encode([]rune(s))
	if name == "length" {
		return float64(len(units)), true
	}
	i, ok := arrayIndex(name)
	if !ok || i >= len(units) {
		return nil, false
	}
	return string(utf16.Decode(units[i : i+1])), true
}

// arrayIndex accepts the canonical decimal form only, as JavaScript does
// ("01" is a property name, not index 1).
func arrayIndex(name string) (int, bool) {
	if name == "" || len(name) > 9 || (name[0] == '0' && len(name) > 1) {
		return 0, false
	}
	i := 0
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int(c-'0')
	}
	return i, true
}

func evalMissing(vals []any, data any) any {
	keys := vals
	if len(vals) > 0 {
		if a, ok := vals[0].([]any); ok {
			keys = a
		}
	}
	missing := []any{}
	for _, k := range keys {
		v := lookupPath(data, varPath(k), nil)
		if v == nil || v == "" {
			missing = append(missing, k)
		}
	}
	return missing
}

func evalMissingSome(need, options any, data any) any {
	opts, _ := options.([]any)
	missing := evalMissing([]any{opts}, data).([]any)
	if float64(len(opts)-len(missing)) >= jsToNumber(need) {
		return []any{}
	}
	return missing
}

func evalIn(needle, haystack any) any {
	switch h := haystack.(type) {
	case string:
		return strings.Contains(h, String(needle))
	case []any:
		return slices.ContainsFunc(h, func(e any) bool { return StrictEqual(e, needle) })
	}
	return false
}

// evalSubstr is json-logic-js substr: JavaScript's String.prototype.substr,
// with a negative length dropping characters from the end.
func evalSubstr(vals []any) any {
	var source any
	if len(vals) > 0 {
		source = vals[0]
	}
	n, rest := len(vals), vals[min(len(vals), 1):]
	units := utf16.Encode([]rune(String(source)))
	size := len(units)
	start := 0
	if n > 1 {
		start = clampIndex(jsToNumber(rest[0]), size)
	}
	units = units[start:]
	if n > 2 {
		length := jsToNumber(rest[1])
		switch {
		case math.IsNaN(length):
			units = units[:0]
		case length < 0:
			units = units[:clampIndex(length, len(units))]
		case length < float64(len(units)):
			units = units[:int(length)]
		}
	}
	return string(utf16.Decode(units))
}

// clampIndex is JavaScript's relative index: negative counts from the end,
// and the result stays within [0, size].
func clampIndex(f float64, size int) int {
	if math.IsNaN(f) {
		return 0
	}
	f = math.Trunc(f)
	if f < 0 {
		f += float64(size)
		if f < 0 {
			return 0
		}
	}
	if f > float64(size) {
		return size
	}
	return int(f)
}

func evalMinMax(vals []any, isMin bool) any {
	result := math.Inf(1)
	if !isMin {
		result = math.Inf(-1)
	}
	for _, v := range vals {
		f := jsToNumber(v)
		if math.IsNaN(f) {
			return f
		}
		if isMin && f < result || !isMin && f > result {
			result = f
		}
	}
	return result
}

// evalIteration runs the operators whose second operand is evaluated once
// per element, with the element as data.
func (n *Condition) evalIteration(data any) any {
	if len(n.args) == 0 {
		return nil
	}
	scoped := n.args[0].Eval(data)
	var body *Condition
	if len(n.args) > 1 {
		body = n.args[1]
	} else {
		body = &Condition{op: opLiteral}
	}
	items, isArray := scoped.([]any)
	if s, ok := scoped.(string); ok && (n.op == opAll) {
		for _, u := range utf16.Encode([]rune(s)) {
			items = append(items, string(utf16.Decode([]uint16{u})))
		}
		isArray = true
	}
	switch n.op {
	case opAll:
		if !isArray || len(items) == 0 {
			return false
		}
		for _, it := range items {
			if !Truthy(body.Eval(it)) {
				return false
			}
		}
		return true
	case opSome, opNone:
		found := false
		if isArray {
			for _, it := range items {
				if Truthy(body.Eval(it)) {
					found = true
					break
				}
			}
		}
		return found == (n.op == opSome)
	case opFilter:
		out := []any{}
		for _, it := range items {
			if Truthy(body.Eval(it)) {
				out = append(out, it)
			}
		}
		return out
	case opMap:
		out := make([]any, 0, len(items))
		for _, it := range items {
			out = append(out, body.Eval(it))
		}
		return out
	default: // opReduce
		var acc any
		if len(n.args) > 2 {
			acc = n.args[2].Eval(data)
		}
		if !isArray {
			return acc
		}
		for _, it := range items {
			acc = body.Eval(map[string]any{"current": it, "accumulator": acc})
		}
		return acc
	}
}
