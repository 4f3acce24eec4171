package ondevice

import (
	"sort"
	"strconv"
	"strings"
)

// The mbox part of the rule context, built as Adobe's engine builds it, in
// a fixed order, so that names that collide once the context is built
// (x and x_lc, a and a.b) give the same context every time:
//
//   - dotted names become nested objects ("a.b" is read as mbox.a.b);
//     a name walking through a value that is not an object replaces it
//     with one (where Adobe's engine fails the whole call);
//   - every string gets a lower-case "_lc" twin, computed in key order
//     from the values built so far, so x_lc is always x lower-cased, and
//     a given x_lc's own twin is x_lc_lc.
//
// The order is JavaScript's property order: names that are array indexes
// first, by number, then the others; those come in the order of the JSON
// object in Adobe's engine, and in sorted order here (Parameters is a map),
// which is the order of the JSON the client itself writes.

// jsObject is an object with JavaScript's property order.
type jsObject struct {
	keys []string
	vals map[string]any
}

func newJSObject(n int) *jsObject { return &jsObject{vals: make(map[string]any, n)} }

func (o *jsObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// ordered returns the keys in JavaScript's order: array indexes by number,
// then the rest in insertion order.
func (o *jsObject) ordered() []string {
	out := make([]string, 0, len(o.keys))
	var indexes []string
	for _, k := range o.keys {
		if isArrayIndex(k) {
			indexes = append(indexes, k)
		} else {
			out = append(out, k)
		}
	}
	if indexes == nil {
		return out
	}
	sort.Slice(indexes, func(i, j int) bool {
		a, _ := strconv.ParseUint(indexes[i], 10, 32)
		b, _ := strconv.ParseUint(indexes[j], 10, 32)
		return a < b
	})
	return append(indexes, out...)
}

// isArrayIndex reports a canonical array index: "0", or digits without a
// leading zero below 2^32-1.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || k[0] == '0' && k != "0" {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 1<<32-1
}

func (o *jsObject) toMap() map[string]any {
	m := make(map[string]any, len(o.vals))
	for k, v := range o.vals {
		if c, ok := v.(*jsObject); ok {
			m[k] = c.toMap()
		} else {
			m[k] = v
		}
	}
	return m
}

// mboxContext holds an mbox's (or page load's, or view's) parameters for
// conditions.
func mboxContext(params map[string]string) map[string]any {
	if len(params) == 0 {
		return map[string]any{}
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	in := newJSObject(len(params))
	for _, k := range names {
		in.set(k, params[k])
	}
	return withLowerCase(unflatten(in)).toMap()
}

func unflatten(in *jsObject) *jsObject {
	out := newJSObject(len(in.keys))
	for _, k := range in.ordered() {
		v := in.vals[k]
		if !expandableKey(k) {
			out.set(k, v)
			continue
		}
		parts := strings.Split(k, ".")
		cur := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur.vals[p].(*jsObject)
			if !ok {
				next = newJSObject(1)
				cur.set(p, next)
			}
			cur = next
		}
		cur.set(parts[len(parts)-1], v)
	}
	return out
}

func expandableKey(k string) bool {
	return strings.Contains(k, ".") && !strings.Contains(k, "..") &&
		!strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".")
}

// withLowerCase adds the "_lc" twins, reading each value from the object
// as built so far, as Adobe's engine does.
func withLowerCase(in *jsObject) *jsObject {
	out := newJSObject(len(in.keys) * 2)
	for _, k := range in.keys {
		out.set(k, in.vals[k])
	}
	for _, k := range in.ordered() {
		if s, ok := out.vals[k].(string); ok {
			out.set(k+"_lc", jsToLower(s))
		}
		if _, ok := in.vals[k].(*jsObject); ok {
			if c, ok := out.vals[k].(*jsObject); ok {
				out.set(k, withLowerCase(c))
			}
		}
	}
	return out
}
