package jsonlogic

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JavaScript value semantics for the evaluator, exported where the
// on-device engine needs the same coercions (rule keys, macros, tokens).
//
// Target's artifacts are written for json-logic-js, so conditions mean what
// JavaScript's coercions make them mean: "1" == 1, "37.70" < 37.75,
// [] is falsy to json-logic. Values here are what encoding/json produces
// (nil, bool, float64, string, []any, map[string]any); nil stands for both
// null and undefined, which json-logic-js itself folds together for missing
// data.

// Truthy is json-logic's truthiness: JavaScript's, except that an empty
// array is false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	default:
		return true
	}
}

// jsToNumber is JavaScript's ToNumber.
func jsToNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		return jsStringToNumber(x)
	case []any:
		return jsStringToNumber(String(x))
	default:
		return math.NaN()
	}
}

// IsSpace reports JavaScript's white space and line terminators (what
// String.prototype.trim removes and what \s matches).
func IsSpace(r rune) bool { return jsIsSpace(r) }

// jsIsSpace reports the white space and line terminators JavaScript trims.
func jsIsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsStringToNumber is ToNumber for a string: the whole trimmed string must be
// a number literal, else NaN; the empty string is 0.
func jsStringToNumber(s string) float64 {
	s = strings.TrimFunc(s, jsIsSpace)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return parseBigUint(s[2:], base)
				}
				return math.NaN()
			}
			return float64(n)
		}
	}
	// strconv accepts forms JavaScript does not ("inf", "0x1p3", "1_0"):
	// only a plain decimal literal may reach it.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return math.NaN()
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f // ±Inf or 0, as JavaScript
		}
		return math.NaN()
	}
	return f
}

// parseBigUint converts digits too long for uint64, as JavaScript would
// (approximately, to the nearest float64).
func parseBigUint(digits string, base int) float64 {
	f := 0.0
	for _, c := range digits {
		d, err := strconv.ParseUint(string(c), base, 8)
		if err != nil {
			return math.NaN()
		}
		f = f*float64(base) + float64(d)
	}
	return f
}

// jsParseFloat is JavaScript's parseFloat: the longest decimal prefix of
// String(v) after leading white space, else NaN.
func jsParseFloat(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	s := strings.TrimLeftFunc(String(v), jsIsSpace)
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	if strings.HasPrefix(s[end:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	digits := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
		digits++
	}
	if end < len(s) && s[end] == '.' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
			digits++
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		e := end + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		expDigits := 0
		for e < len(s) && s[e] >= '0' && s[e] <= '9' {
			e++
			expDigits++
		}
		if expDigits > 0 {
			end = e
		}
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f
		}
		return math.NaN()
	}
	return f
}

// NumberString is JavaScript's Number.prototype.toString().
func NumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	// Exponent form: JavaScript writes 1e+21 and 1.5e-7, Go 1e+21 and
	// 1.5e-07.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// String is JavaScript's String(v).
func String(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return NumberString(x)
	case string:
		return x
	case []any:
		var b strings.Builder
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if e != nil {
				b.WriteString(String(e))
			}
		}
		return b.String()
	default:
		return "[object Object]"
	}
}

// jsIsObject reports arrays and objects, which JavaScript compares by
// identity and converts to primitives before mixed comparisons.
func jsIsObject(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// jsSameObject is identity for arrays and objects.
func jsSameObject(a, b any) bool {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() != rb.Kind() {
		return false
	}
	if ra.Kind() == reflect.Slice && ra.Len() != rb.Len() {
		return false
	}
	return ra.Pointer() == rb.Pointer()
}

// jsToPrimitive converts arrays and objects to their string form; other
// values are already primitive.
func jsToPrimitive(v any) any {
	if jsIsObject(v) {
		return String(v)
	}
	return v
}

// strictEqualOperands is json-logic-js "===" on its operands: a missing
// operand is undefined, which no evaluated value is, and undefined ===
// undefined.
func strictEqualOperands(vals []any) bool {
	switch len(vals) {
	case 0:
		return true
	case 1:
		return false
	}
	return StrictEqual(vals[0], vals[1])
}

// StrictEqual is JavaScript's ===.
func StrictEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	default:
		return jsIsObject(b) && jsSameObject(a, b)
	}
}

// jsLooseEqual is JavaScript's == (the abstract equality algorithm).
func jsLooseEqual(a, b any) bool {
	for range 4 { // each step removes one coercion; four always suffice
		switch x := a.(type) {
		case nil:
			return b == nil
		case bool:
			if _, ok := b.(bool); ok {
				return StrictEqual(a, b)
			}
			if b == nil {
				return false
			}
			a = jsToNumber(x)
			continue
		case float64:
			switch y := b.(type) {
			case float64:
				return x == y
			case string:
				return x == jsStringToNumber(y)
			case bool:
				return x == jsToNumber(y)
			case nil:
				return false
			default:
				b = jsToPrimitive(b)
				continue
			}
		case string:
			switch y := b.(type) {
			case string:
				return x == y
			case float64:
				return jsStringToNumber(x) == y
			case bool:
				b = jsToNumber(y)
				continue
			case nil:
				return false
			default:
				b = jsToPrimitive(b)
				continue
			}
		default: // array or object
			switch b.(type) {
			case nil:
				return false
			case []any, map[string]any:
				return jsSameObject(a, b)
			default:
				a = jsToPrimitive(a)
				continue
			}
		}
	}
	return false
}

// jsCompareStrings orders strings by UTF-16 code units, as JavaScript does.
// Byte order (code point order) differs only when a character above U+FFFF
// meets one in U+E000..U+FFFF.
func jsCompareStrings(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return int(firstUnit(ra)) - int(firstUnit(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func firstUnit(r rune) uint16 {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return uint16(hi)
	}
	return uint16(r)
}

// jsLess is JavaScript's a < b (orEqual: a <= b). Comparisons involving
// NaN, and so anything that does not convert to a number, are false.
func jsLess(a, b any, orEqual bool) bool {
	// Two numbers, the usual case (an allocation against its bounds),
	// compare as they are: no coercion applies.
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			if orEqual {
				return x <= y
			}
			return x < y
		}
	}
	pa, pb := jsToPrimitive(a), jsToPrimitive(b)
	if sa, ok := pa.(string); ok {
		if sb, ok := pb.(string); ok {
			c := jsCompareStrings(sa, sb)
			return c < 0 || orEqual && c == 0
		}
	}
	na, nb := jsToNumber(pa), jsToNumber(pb)
	if orEqual {
		return na <= nb
	}
	return na < nb
}
