// Package deliverytest fills values of the Delivery API's models
// (target/delivery) at random, for tests of how they are written and sent:
// strings with every byte value and odd rune at random offsets (invalid
// UTF-8, U+2028, HTML characters, a multi-byte rune straddling an 8-byte
// block), floats of every magnitude (subnormals, -0, integers held in
// floats), ints over their type's whole range, nil, empty and large slices
// and maps (past the 16 keys the encoder sorts on the stack).
//
// The encoding tests of target/delivery (AppendRequest against Marshal and
// encoding/json) and the wire-body dump of target (TestWireBodiesWritten)
// draw their requests from it. A Filler is deterministic: the same seed
// fills the same values, so that two versions of the client can be given
// the same requests.
//
// Only tests import it: TestOnlyTestsImport fails when a package's non-test
// build does.
package deliverytest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
)

// Specials are the strings an encoder is most likely to get wrong: line and
// paragraph separators, runes of two to four bytes, the replacement
// character and byte order mark, encoded surrogates, overlong and truncated
// sequences, stray continuation bytes, HTML characters, quotes, backslashes
// and control characters.
var Specials = []string{
	"\u2028", "\u2029", "é", "日", "🎉", "\ufffd", "\ufeff", "\U0010FFFF", "\u007f", "\u0080", "\u00a0",
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xc0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
	"\xc3", "\xe2\x80", "\xe2\x80\xa8"[:2], "<", ">", "&", `"`, `\`, "/", "\x00", "\x1f", "\t", "\n", "\r",
	"\b", "\f", "\x0b", "\xff", "\xfe", "\x80", "\xbf", "'", "%", "+",
}

// String returns a string of up to about 40 bytes: random bytes, one of
// Specials, or printable ASCII with Specials put at random places (a
// multi-byte rune straddling an 8-byte block boundary included).
func String(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		b := make([]byte, r.IntN(41))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	case 1:
		return Specials[r.IntN(len(Specials))]
	}
	n := r.IntN(41)
	var sb strings.Builder
	for sb.Len() < n {
		if r.IntN(5) == 0 {
			sb.WriteString(Specials[r.IntN(len(Specials))])
		} else {
			sb.WriteByte(byte(0x20 + r.IntN(0x5f)))
		}
	}
	return sb.String()
}

// Float returns a float64 of any magnitude, a subnormal, -0 or an integer
// held in a float64; when nonFinite is set, now and then (1 in 60) NaN or an
// infinity, which the JSON encoders refuse. Without nonFinite it draws
// nothing more from r than with it, bar that 1 in 60.
func Float(r *rand.Rand, nonFinite bool) float64 {
	if nonFinite && r.IntN(60) == 0 {
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)]
	}
	switch r.IntN(5) {
	case 0:
		for {
			f := math.Float64frombits(r.Uint64())
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 1:
		return float64(r.Int64()) // a large integer held in a float64
	case 2:
		return []float64{math.Copysign(0, -1), 1e21, 1e-7, 1e-6, 9.999999999999999e-7, 999999999999999900000,
			1e20, 5e-324, 2.225073858507201e-308, math.MaxFloat64, -math.MaxFloat64, 1 << 63, 0.1, 1.5}[r.IntN(14)]
	case 3:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(620)-320))
	}
	return float64(r.IntN(2000)) / 8
}

// A Filler sets a value's fields at random, recursively, drawing from Rand.
type Filler struct {
	Rand *rand.Rand
	// NonFinite lets the floats be NaN or infinite (see Float).
	NonFinite bool
}

// Fill sets the value ptr points to at random: every exported field (two
// in three of them, embedded ones always), strings from String, floats
// from Float, ints over their type's range or near 0; pointers, slices and
// maps nil one time in three to five, slices and maps empty as often, maps
// of 1 to 6 keys or of 14 to 40. Pointers deeper than 8 levels stay nil.
// It panics on a kind the delivery models do not use (a channel, a
// function, an interface, a uint) or when ptr is not a non-nil pointer.
func (g *Filler) Fill(ptr any) {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("deliverytest: Fill needs a non-nil pointer, not %T", ptr))
	}
	g.fill(v.Elem(), 0)
}

func (g *Filler) fill(v reflect.Value, depth int) {
	r := g.Rand
	switch v.Kind() {
	case reflect.String:
		v.SetString(String(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := r.Int64()
		if r.IntN(3) == 0 {
			x = int64(r.IntN(5)) - 2
		}
		bits := v.Type().Bits()
		v.SetInt(x << (64 - bits) >> (64 - bits))
	case reflect.Float64:
		v.SetFloat(Float(r, g.NonFinite))
	case reflect.Pointer:
		if r.IntN(3) == 0 || depth > 8 {
			return
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch r.IntN(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, r.IntN(3)))
			return
		}
		n := 1 + r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if r.IntN(5) != 0 { // some elements left zero
				g.fill(s.Index(i), depth+1)
			}
		}
		v.Set(s)
	case reflect.Map:
		switch r.IntN(5) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
			return
		}
		n := 1 + r.IntN(6)
		if r.IntN(4) == 0 {
			n = 14 + r.IntN(27) // around and past the 16 sorted on the stack
		}
		m := reflect.MakeMap(v.Type())
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			g.fill(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			g.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && (f.Anonymous || r.IntN(3) != 0) {
				g.fill(v.Field(i), depth+1)
			}
		}
	default:
		panic(fmt.Sprintf("deliverytest: cannot fill kind %s (%s)", v.Kind(), v.Type()))
	}
}
