package target

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
)

// A json-logic evaluator with json-logic-js semantics, compiled once per
// rule when an artifact loads.
//
// Why not a Go json-logic library: the artifacts were written for
// json-logic-js, and JavaScript's coercions are what their conditions mean;
// the maintained Go library has been reported to disagree with it on them
// ({"==": ["0", 0]} false there, true in JavaScript). Writing the operators
// also lets a condition be compiled once when the artifact loads: an
// artifact with an unknown operator is rejected then (the last good
// artifact stays in use), and evaluation cannot fail. The tests pin the
// results against json-logic-js itself.

// ErrLogic is the condition of a rule condition that cannot be compiled;
// errors wrapping it name the operator or the problem.
var ErrLogic = errors.New("target: invalid json-logic condition")

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

// logic is a compiled json-logic expression. Evaluation is safe for
// concurrent use: nothing in it changes after compilation.
type logic struct {
	op   logicOp
	lit  any      // opLiteral
	args []*logic // operands, unevaluated
	path []string // opVar with a constant path; nil path means the data itself
	// constPath tells opVar that path was resolved at compile time.
	constPath bool
}

// compileLogic compiles a condition decoded by encoding/json.
func compileLogic(v any) (*logic, error) {
	return compileAt(v, 0)
}

func compileAt(v any, depth int) (*logic, error) {
	if depth > maxLogicDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrLogic, maxLogicDepth)
	}
	switch x := v.(type) {
	case []any:
		n := &logic{op: opArray, args: make([]*logic, len(x))}
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
			return &logic{op: opLiteral, lit: x}, nil
		}
		return n, nil
	case map[string]any:
		// json-logic-js treats only single-key objects as operations; any
		// other object is data.
		if len(x) != 1 {
			return &logic{op: opLiteral, lit: x}, nil
		}
		for name, operands := range x {
			op, ok := logicOps[name]
			if !ok {
				return nil, fmt.Errorf("%w: unknown operator %q", ErrLogic, name)
			}
			list, isList := operands.([]any)
			if !isList {
				list = []any{operands}
			}
			n := &logic{op: op, args: make([]*logic, len(list))}
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
	return &logic{op: opLiteral, lit: v}, nil
}

func (n *logic) allLiteral() bool {
	for _, a := range n.args {
		if a.op != opLiteral {
			return false
		}
	}
	return true
}

func (n *logic) compileVarPath() {
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
	s := jsString(v)
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// logicScope is the data a condition reads: either a plain JSON-like value
// or a rule context, whose top-level names are resolved without building a
// map per rule.
type logicScope interface {
	lookup(name string) (any, bool)
	value() any
}

// evalLogic evaluates a compiled condition against data.
func (n *logic) eval(data any) any {
	switch n.op {
	case opLiteral:
		return n.lit
	case opArray:
		out := make([]any, len(n.args))
		for i, a := range n.args {
			out[i] = a.eval(data)
		}
		return out
	case opVar:
		return n.evalVar(data)
	case opIf:
		i := 0
		for ; i+1 < len(n.args); i += 2 {
			if jsTruthy(n.args[i].eval(data)) {
				return n.args[i+1].eval(data)
			}
		}
		if i < len(n.args) {
			return n.args[i].eval(data)
		}
		return nil
	case opAnd:
		var cur any
		for _, a := range n.args {
			cur = a.eval(data)
			if !jsTruthy(cur) {
				return cur
			}
		}
		return cur
	case opOr:
		var cur any
		for _, a := range n.args {
			cur = a.eval(data)
			if jsTruthy(cur) {
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
		vals = append(vals, a.eval(data))
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
		return !jsTruthy(arg(0))
	case opTruthy:
		return jsTruthy(arg(0))
	case opEq:
		return jsLooseEqual(arg(0), arg(1))
	case opStrictEq:
		return jsStrictEqual(arg(0), arg(1))
	case opNotEq:
		return !jsLooseEqual(arg(0), arg(1))
	case opStrictNotEq:
		return !jsStrictEqual(arg(0), arg(1))
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
				b.WriteString(jsString(v))
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

func (n *logic) evalVar(data any) any {
	var path []string
	var notFound any
	if n.constPath {
		path = n.path
	} else {
		path = varPath(n.args[0].eval(data))
	}
	if len(n.args) > 1 {
		notFound = n.args[1].eval(data)
	}
	return lookupPath(data, path, notFound)
}

// lookupPath follows property names from data; a missing or null step
// yields notFound, as in json-logic-js.
func lookupPath(data any, path []string, notFound any) any {
	if len(path) == 0 {
		if s, ok := data.(logicScope); ok {
			return s.value()
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
		case logicScope:
			next, ok = x.lookup(name)
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
		return strings.Contains(h, jsString(needle))
	case []any:
		return slices.ContainsFunc(h, func(e any) bool { return jsStrictEqual(e, needle) })
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
	units := utf16.Encode([]rune(jsString(source)))
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
func (n *logic) evalIteration(data any) any {
	if len(n.args) == 0 {
		return nil
	}
	scoped := n.args[0].eval(data)
	var body *logic
	if len(n.args) > 1 {
		body = n.args[1]
	} else {
		body = &logic{op: opLiteral}
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
			if !jsTruthy(body.eval(it)) {
				return false
			}
		}
		return true
	case opSome, opNone:
		found := false
		if isArray {
			for _, it := range items {
				if jsTruthy(body.eval(it)) {
					found = true
					break
				}
			}
		}
		return found == (n.op == opSome)
	case opFilter:
		out := []any{}
		for _, it := range items {
			if jsTruthy(body.eval(it)) {
				out = append(out, it)
			}
		}
		return out
	case opMap:
		out := make([]any, 0, len(items))
		for _, it := range items {
			out = append(out, body.eval(it))
		}
		return out
	default: // opReduce
		var acc any
		if len(n.args) > 2 {
			acc = n.args[2].eval(data)
		}
		if !isArray {
			return acc
		}
		for _, it := range items {
			acc = body.eval(map[string]any{"current": it, "accumulator": acc})
		}
		return acc
	}
}
