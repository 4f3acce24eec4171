// Package jsonlogic evaluates json-logic conditions with the semantics of
// json-logic-js 2.0.5, the library Target's on-device artifacts are written
// for: JavaScript's coercions decide what a condition means ("1" == 1,
// "37.70" < 37.75, an empty array is false).
//
// Contract: Compile turns a condition decoded by encoding/json into a
// Condition, or fails with an error wrapping ErrInvalid (unknown operator,
// nesting deeper than 128); Evaluate then never panics, and a Condition is
// safe for concurrent use. Values are what encoding/json produces (nil,
// bool, float64, string, []any, map[string]any); nil stands for both null
// and undefined, as json-logic-js folds them for missing data. A Scope lets
// the caller resolve top-level names without building a map per
// evaluation.
//
// Work is bounded: one evaluation may take at most DefaultBudget (65,536)
// steps, where a step is one operator or operand evaluated, one array
// element iterated or searched, or 16 bytes of string (searched or built)
// or one element of array built. Past it, Evaluate stops with ErrBudget,
// which the engine treats as "the rule does not match". Without the bound,
// iterations nested n deep over two-element arrays take 2^n steps (an
// artifact of 779 bytes reaches 2^40) and a reduce joining strings with cat
// is quadratic. The conformance suite's 288 rule conditions take at most
// 22 steps each (measured with sample data), thousands of times under the
// budget, and an over-budget evaluation costs about 1 ms
// (BenchmarkEvalOverBudget). This is a kept difference from json-logic-js,
// which has no bound: Adobe's engine hangs on such a condition where this
// one answers that the rule does not match.
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

// ErrBudget is the error of an evaluation that took more than its budget
// of steps (see the package doc).
var ErrBudget = errors.New("target: json-logic evaluation exceeded its step budget")

// DefaultBudget is the number of steps Eval allows one evaluation.
const DefaultBudget = 1 << 16

// bytesPerStep is how many bytes of string searched or built count as one
// step.
const bytesPerStep = 16

// budget is what is left of one evaluation's steps; it is the evaluation's
// own, so a Condition stays immutable and shareable.
type budget struct {
	left int
}

// spend takes n steps and reports whether the evaluation may go on.
func (b *budget) spend(n int) bool {
	b.left -= n
	return b.left >= 0
}

// over reports whether the budget is spent: evaluation then unwinds,
// every operator answering nil without evaluating its operands.
func (b *budget) over() bool { return b.left < 0 }

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
		if len(x) == 0 {
			// Every array literal is a new object in json-logic-js, so two
			// empty ones are not ==; Go's empty slices share one address
			// unless they own storage.
			return &Condition{op: opLiteral, lit: make([]any, 0, 1)}, nil
		}
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
			// the array itself are the same object to ===. It is rebuilt
			// from its compiled elements so that nested empty arrays are
			// distinct objects too.
			lit := make([]any, len(x))
			for i, a := range n.args {
				lit[i] = a.lit
			}
			return &Condition{op: opLiteral, lit: lit}, nil
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
// data (json-logic-js: undefined, null and the string "" select the data
// itself).
func varPath(v any) []string {
	if v == nil || v == "" {
		return nil
	}
	// Anything else is a path, also a value whose text is empty ([] or
	// [null]): that looks up the property "".
	return strings.Split(String(v), ".")
}

// Scope is the data a condition reads: either a plain JSON-like value
// or a rule context, whose top-level names are resolved without building a
// map per rule.
type Scope interface {
	Lookup(name string) (any, bool)
	Value() any
}

// Eval evaluates the condition against data, which is a JSON-like value
// or a Scope, within DefaultBudget steps; an evaluation over budget gives
// nil (false). Use Evaluate to tell the two apart.
func (n *Condition) Eval(data any) any {
	v, _ := n.Evaluate(data, DefaultBudget)
	return v
}

// Evaluate evaluates the condition against data, which is a JSON-like
// value or a Scope, within steps steps; past them it stops and returns
// ErrBudget.
func (n *Condition) Evaluate(data any, steps int) (any, error) {
	b := &budget{left: steps}
	v := n.eval(data, b)
	if b.over() {
		return nil, fmt.Errorf("%w (%d steps)", ErrBudget, steps)
	}
	return v, nil
}

func (n *Condition) eval(data any, b *budget) any {
	if !b.spend(1) {
		return nil
	}
	switch n.op {
	case opLiteral:
		return n.lit
	case opArray:
		out := make([]any, len(n.args))
		for i, a := range n.args {
			out[i] = a.eval(data, b)
		}
		return out
	case opVar:
		return n.evalVar(data, b)
	case opIf:
		i := 0
		for ; i+1 < len(n.args); i += 2 {
			if Truthy(n.args[i].eval(data, b)) {
				return n.args[i+1].eval(data, b)
			}
		}
		if i < len(n.args) {
			return n.args[i].eval(data, b)
		}
		return nil
	case opAnd:
		var cur any
		for _, a := range n.args {
			cur = a.eval(data, b)
			if !Truthy(cur) {
				return cur
			}
		}
		return cur
	case opOr:
		var cur any
		for _, a := range n.args {
			cur = a.eval(data, b)
			if Truthy(cur) {
				return cur
			}
		}
		return cur
	case opFilter, opMap, opReduce, opAll, opSome, opNone:
		return n.evalIteration(data, b)
	}
	return n.evalOperator(data, b)
}

// evalOperator evaluates the operators that evaluate all their operands
// first. It is apart from eval so that eval, which recurses through "and",
// "or" and "if", keeps a small frame.
func (n *Condition) evalOperator(data any, b *budget) any {
	// The remaining operators evaluate all operands first. Literals and
	// variables with a constant path and no default, most operands, are
	// read here, their step paid as eval pays it, without the calls.
	var buf [4]any
	vals := buf[:0]
	for _, a := range n.args {
		var v any
		switch {
		case a.op == opLiteral:
			if b.spend(1) {
				v = a.lit
			}
		case a.op == opVar && a.constPath && len(a.args) <= 1:
			if b.spend(1) {
				v = lookupPath(data, a.path, nil)
			}
		default:
			v = a.eval(data, b)
		}
		vals = append(vals, v)
	}
	if b.over() {
		return nil
	}
	arg := func(i int) any {
		if i < len(vals) {
			return vals[i]
		}
		return nil
	}
	switch n.op {
	case opMissing:
		return evalMissing(vals, data, b)
	case opMissingSome:
		return evalMissingSome(arg(0), arg(1), data, b)
	case opNot:
		return !Truthy(arg(0))
	case opTruthy:
		return Truthy(arg(0))
	case opEq:
		return jsLooseEqual(arg(0), arg(1))
	case opStrictEq:
		return strictEqualOperands(vals)
	case opNotEq:
		return !jsLooseEqual(arg(0), arg(1))
	case opStrictNotEq:
		return !strictEqualOperands(vals)
	case opLess, opLessEq:
		orEqual := n.op == opLessEq
		if len(vals) < 2 {
			return false // a missing operand is undefined, NaN to a comparison
		}
		if len(vals) >= 3 { // the "between" form
			return jsLess(vals[0], vals[1], orEqual) && jsLess(vals[1], vals[2], orEqual)
		}
		return jsLess(arg(0), arg(1), orEqual)
	case opGreater, opGreaterEq:
		if len(vals) < 2 {
			return false // a missing operand is undefined, NaN to a comparison
		}
		return jsLess(arg(1), arg(0), n.op == opGreaterEq)
	case opIn:
		if !b.spend(searchCost(arg(1))) {
			return nil
		}
		if len(vals) < 2 {
			// json-logic-js's in(a, b) answers false when the haystack b
			// is falsy: with one operand, that operand is the needle and
			// the haystack is undefined.
			return false
		}
		return evalIn(arg(0), arg(1))
	case opCat:
		var sb strings.Builder
		for _, v := range vals {
			if v != nil { // cat joins its operands, and join writes null as ""
				s := String(v)
				// Paid before copying: a reduce that joins its accumulator
				// stops before the joins grow quadratic.
				if !b.spend(len(s) / bytesPerStep) {
					return nil
				}
				sb.WriteString(s)
			}
		}
		return sb.String()
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
		if len(vals) == 1 {
			return vals[0] // reduce without a start value returns a lone element as it is
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
				if !b.spend(len(a)) {
					return nil
				}
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

func (n *Condition) evalVar(data any, b *budget) any {
	var path []string
	var notFound any
	if n.constPath {
		path = n.path
	} else {
		path = varPath(n.args[0].eval(data, b))
	}
	if len(n.args) > 1 {
		notFound = n.args[1].eval(data, b)
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

// evalMissing is json-logic-js missing. Each key is a path that var
// splits and walks: a key costs a step and one more per bytesPerStep of
// its text, so that many long keys (built by a reduce, say) stay within
// the budget; nil when it runs out.
func evalMissing(vals []any, data any, b *budget) any {
	keys := vals
	if len(vals) > 0 {
		if a, ok := vals[0].([]any); ok {
			keys = a
		}
	}
	missing := []any{}
	for _, k := range keys {
		// Each key is handed to "var" as its operand, so an array key
		// is var's operand list: a path and a default.
		path, notFound := k, any(nil)
		if a, ok := k.([]any); ok {
			path = nil
			if len(a) > 0 {
				path = a[0]
			}
			if len(a) > 1 {
				notFound = a[1]
			}
		}
		cost := 1
		if s, ok := path.(string); ok {
			cost += len(s) / bytesPerStep
		}
		if !b.spend(cost) {
			return nil
		}
		v := lookupPath(data, varPath(path), notFound)
		if v == nil || v == "" {
			missing = append(missing, k)
		}
	}
	return missing
}

// evalMissingSome is json-logic-js missing_some: options go to "missing"
// as its operands (an array as its elements, anything else as one key), and
// the count present is options.length (NaN, so never enough, for values
// without a length) minus the count missing.
func evalMissingSome(need, options any, data any, b *budget) any {
	keys := []any{options}
	length := math.NaN()
	switch o := options.(type) {
	case []any:
		keys = o
		length = float64(len(o))
	case string:
		length = float64(len(utf16.Encode([]rune(o))))
	}
	missing, ok := evalMissing(keys, data, b).([]any)
	if !ok { // over budget
		return nil
	}
	if length-float64(len(missing)) >= jsToNumber(need) {
		return []any{}
	}
	return missing
}

// searchCost is what searching haystack costs in steps: its elements, or
// its bytes.
func searchCost(haystack any) int {
	switch h := haystack.(type) {
	case string:
		return len(h) / bytesPerStep
	case []any:
		return len(h)
	}
	return 0
}

// evalIn is json-logic-js "in", which answers false for a haystack that
// is falsy (so also "") before searching it.
func evalIn(needle, haystack any) any {
	switch h := haystack.(type) {
	case string:
		return h != "" && strings.Contains(h, String(needle))
	case []any:
		return slices.ContainsFunc(h, func(e any) bool { return StrictEqual(e, needle) })
	}
	return false
}

// evalSubstr is json-logic-js substr: JavaScript's String.prototype.substr,
// with a negative length dropping characters from the end.
func evalSubstr(vals []any) any {
	var source any = "undefined" // String(undefined)
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
func (n *Condition) evalIteration(data any, b *budget) any {
	// Without operands the list is undefined, as in json-logic-js: filter
	// and map give [], none true, some and all false, reduce null.
	var scoped any
	if len(n.args) > 0 {
		scoped = n.args[0].eval(data, b)
	}
	var body *Condition
	if len(n.args) > 1 {
		body = n.args[1]
	} else {
		body = &Condition{op: opLiteral}
	}
	items, isArray := scoped.([]any)
	if s, ok := scoped.(string); ok && (n.op == opAll) {
		if !b.spend(len(s)) { // an element per UTF-16 code unit, at most one per byte
			return nil
		}
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
			if !Truthy(body.eval(it, b)) {
				return false // also when over budget: the body answered nil
			}
		}
		return true
	case opSome, opNone:
		found := false
		if isArray {
			for _, it := range items {
				if Truthy(body.eval(it, b)) {
					found = true
					break
				}
				if b.over() {
					return nil
				}
			}
		}
		return found == (n.op == opSome)
	case opFilter:
		out := []any{}
		for _, it := range items {
			if Truthy(body.eval(it, b)) {
				out = append(out, it)
			}
			if b.over() {
				return nil
			}
		}
		return out
	case opMap:
		out := make([]any, 0, len(items))
		for _, it := range items {
			out = append(out, body.eval(it, b))
			if b.over() {
				return nil
			}
		}
		return out
	default: // opReduce
		var acc any
		if len(n.args) > 2 {
			acc = n.args[2].eval(data, b)
		}
		if !isArray {
			return acc
		}
		for _, it := range items {
			acc = body.eval(map[string]any{"current": it, "accumulator": acc}, b)
			if b.over() {
				return nil
			}
		}
		return acc
	}
}
