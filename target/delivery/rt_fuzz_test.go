package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/target-go/sdk/target/delivery"
)

// rtSrc draws numbers from fuzz bytes (zeros when they run out).
type rtSrc struct {
	b []byte
	i int
}

func (s *rtSrc) n(k int) int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	return v % k
}

// rtBad is one bad value the generator wrote: its path and where it is.
type rtBad struct {
	field string // Field the error should carry
	param bool   // a parameter's value (ErrParameterType)
	start int    // offset of the value in the text
	value string // the value's text
}

type rtGen struct {
	s       *rtSrc
	sb      strings.Builder
	bads    []rtBad // in text order
	miscase bool    // a miscased name was written (the lenient reader drops it)
}

func (g *rtGen) ws() {
	g.sb.WriteString([]string{"", "", " ", "\n\t", " \r\n "}[g.s.n(5)])
}

// key writes a name, sometimes with an escape.
func (g *rtGen) key(name string) {
	g.ws()
	if g.s.n(4) == 0 && name != "" {
		r, size := utf8.DecodeRuneInString(name)
		fmt.Fprintf(&g.sb, `"\u%04x%s"`, r, name[size:])
	} else {
		g.sb.WriteString(`"` + name + `"`)
	}
	g.ws()
	g.sb.WriteString(":")
	g.ws()
}

func (g *rtGen) val(path string, param bool, v string) {
	g.bads = append(g.bads, rtBad{field: path, param: param, start: g.sb.Len(), value: v})
	g.sb.WriteString(v)
}

var rtGood = []string{`"s"`, `1`, `-2.5e3`, `true`, `null`, `"\u00e9\ud83d\ude00"`, `"ſK"`}
var rtBadVals = []string{`[1]`, `{}`, `[]`, `{"k":[1,{"a":2}]}`, `[[[]]]`}
var rtNonObject = []string{`5`, `"str"`, `[1]`, `true`, `[]`}

// params writes a Parameters value at path.
func (g *rtGen) params(path string) {
	switch g.s.n(4) {
	case 0:
		g.sb.WriteString("null")
		return
	case 1:
		g.val(path, false, rtNonObject[g.s.n(len(rtNonObject))])
		return
	}
	g.sb.WriteString("{")
	names := []string{"a", "b", "zz", "K", "ſ", "é", "0", "10", "x y"}
	n := g.s.n(4)
	used := map[string]bool{}
	var badNames []string
	var badAt []rtBad
	first := true
	for range n {
		name := names[g.s.n(len(names))]
		if used[name] {
			continue
		}
		used[name] = true
		if !first {
			g.sb.WriteString(",")
		}
		first = false
		g.key(name)
		if g.s.n(3) == 0 {
			v := rtBadVals[g.s.n(len(rtBadVals))]
			badNames = append(badNames, name)
			badAt = append(badAt, rtBad{field: path + "." + name, param: true, start: g.sb.Len(), value: v})
			g.sb.WriteString(v)
		} else {
			g.sb.WriteString(rtGood[g.s.n(len(rtGood))])
		}
		g.ws()
	}
	g.sb.WriteString("}")
	if len(badNames) > 0 {
		// Of several, the first name in byte order.
		best := 0
		for i := range badNames {
			if badNames[i] < badNames[best] {
				best = i
			}
		}
		g.bads = append(g.bads, badAt[best])
	}
}

// details writes the members of a RequestDetails (after a '{'), and more.
func (g *rtGen) details(path string, extra []string) {
	var parts []func()
	for _, e := range extra {
		parts = append(parts, func() { g.sb.WriteString(e) })
	}
	if g.s.n(2) == 0 {
		parts = append(parts, func() { g.key("parameters"); g.params(path + ".parameters") })
	}
	if g.s.n(2) == 0 {
		parts = append(parts, func() { g.key("profileParameters"); g.params(path + ".profileParameters") })
	}
	if g.s.n(4) == 0 {
		parts = append(parts, func() { g.key("Parameters"); g.sb.WriteString(`{"m":[1]}`); g.miscase = true })
	}
	// A shuffle.
	for i := len(parts) - 1; i > 0; i-- {
		j := g.s.n(i + 1)
		parts[i], parts[j] = parts[j], parts[i]
	}
	for i, p := range parts {
		if i > 0 {
			g.sb.WriteString(",")
		}
		p()
	}
}

func (g *rtGen) mboxes(path string) {
	g.sb.WriteString("[")
	n := g.s.n(4)
	for i := range n {
		if i > 0 {
			g.sb.WriteString(",")
		}
		g.sb.WriteString("{")
		g.details(fmt.Sprintf("%s.%d", path, i), []string{fmt.Sprintf(`"name":"m%d","index":%d`, i, i)})
		g.sb.WriteString("}")
	}
	g.sb.WriteString("]")
}

func (g *rtGen) request() {
	var parts []func()
	parts = append(parts, func() {
		g.key("context")
		if g.s.n(4) == 0 {
			g.sb.WriteString(`{"channel":"web","CHANNEL":"x"}`)
			g.miscase = true
		} else {
			g.sb.WriteString(`{"channel":"web"}`)
		}
	})
	for _, sec := range []string{"execute", "prefetch"} {
		if g.s.n(3) == 0 {
			continue
		}
		parts = append(parts, func() {
			g.key(sec)
			g.sb.WriteString("{")
			var sp []func()
			if g.s.n(2) == 0 {
				sp = append(sp, func() {
					g.key("pageLoad")
					g.sb.WriteString("{")
					g.details(sec+".pageLoad", nil)
					g.sb.WriteString("}")
				})
			}
			if g.s.n(2) == 0 {
				sp = append(sp, func() { g.key("mboxes"); g.mboxes(sec + ".mboxes") })
			}
			if sec == "prefetch" && g.s.n(2) == 0 {
				sp = append(sp, func() {
					g.key("views")
					g.sb.WriteString("[")
					n := g.s.n(3)
					for i := range n {
						if i > 0 {
							g.sb.WriteString(",")
						}
						g.sb.WriteString("{")
						g.details(fmt.Sprintf("prefetch.views.%d", i), nil)
						g.sb.WriteString("}")
					}
					g.sb.WriteString("]")
				})
			}
			if g.s.n(2) == 0 {
				sp = append(sp, func() { g.key("MBOXES"); g.sb.WriteString(`[{"name":"q","parameters":{"m":[1]}}]`); g.miscase = true })
			}
			for i := len(sp) - 1; i > 0; i-- {
				j := g.s.n(i + 1)
				sp[i], sp[j] = sp[j], sp[i]
			}
			for i, p := range sp {
				if i > 0 {
					g.sb.WriteString(",")
				}
				p()
			}
			g.sb.WriteString("}")
		})
	}
	if g.s.n(2) == 0 {
		parts = append(parts, func() {
			g.key("notifications")
			g.sb.WriteString("[")
			n := g.s.n(3)
			for i := range n {
				if i > 0 {
					g.sb.WriteString(",")
				}
				g.sb.WriteString("{")
				g.details(fmt.Sprintf("notifications.%d", i), []string{fmt.Sprintf(`"id":"n%d","type":"display","timestamp":1,"mbox":{"name":"m"}`, i)})
				g.sb.WriteString("}")
			}
			g.sb.WriteString("]")
		})
	}
	for i := len(parts) - 1; i > 0; i-- {
		j := g.s.n(i + 1)
		parts[i], parts[j] = parts[j], parts[i]
	}
	// No white space before the request: json.Unmarshal gives
	// Request.UnmarshalJSON the value without it, and offsets count from
	// the value (as DuplicateNameError documents).
	g.sb.WriteString("{")
	for i, p := range parts {
		if i > 0 {
			g.sb.WriteString(",")
		}
		p()
	}
	g.sb.WriteString("}")
	g.ws()
}

func rtWantOffset(b rtBad) int64 {
	if !errorOffsetPastValue {
		return int64(b.start)
	}
	if b.value[0] == '[' || b.value[0] == '{' {
		return int64(b.start + 1)
	}
	return int64(b.start + len(b.value))
}

// checkRTBody checks the error for a generated body; firstInText is whether
// the first bad value in the text must be the one named.
func checkRTBody(t *testing.T, body string, bads []rtBad, strict, firstInText bool) {
	t.Helper()
	var r delivery.Request
	var err error
	if strict {
		err = delivery.UnmarshalRequestStrict([]byte(body), &r)
	} else {
		err = json.Unmarshal([]byte(body), &r)
	}
	if len(bads) == 0 {
		if err != nil {
			t.Fatalf("strict %v: %s: unexpected error %v", strict, body, err)
		}
		return
	}
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("strict %v: %s: error %v is no *json.UnmarshalTypeError", strict, body, err)
	}
	var got *rtBad
	for i := range bads {
		if bads[i].field == te.Field {
			got = &bads[i]
			break
		}
	}
	if got == nil {
		t.Fatalf("strict %v: %s: Field %q is none of the bad values %v (%v)", strict, body, te.Field, bads, err)
	}
	if firstInText && got.field != bads[0].field {
		t.Errorf("strict %v: %s: named %q, the first bad value in the text is %q", strict, body, got.field, bads[0].field)
	}
	if te.Offset != rtWantOffset(*got) {
		t.Errorf("strict %v: %q: offset %d, want %d (%q)", strict, body, te.Offset, rtWantOffset(*got), err)
	}
	if errors.Is(err, delivery.ErrParameterType) != got.param {
		t.Errorf("strict %v: %s: ErrParameterType %v, want %v", strict, body, errors.Is(err, delivery.ErrParameterType), got.param)
	}
	if !got.param && te.Type != reflect.TypeFor[delivery.Parameters]() {
		t.Errorf("%s: Type %v", body, te.Type)
	}
}

func rtRun(t *testing.T, data []byte, firstInText bool) {
	g := rtGen{s: &rtSrc{b: data}}
	g.request()
	body := g.sb.String()
	if !json.Valid([]byte(body)) {
		t.Fatalf("generator wrote invalid JSON: %s", body)
	}
	checkRTBody(t, body, g.bads, false, firstInText || !g.miscase)
	if !g.miscase {
		checkRTBody(t, body, g.bads, true, true)
	}
}

// FuzzRTParameterErrors builds requests with bad parameters anywhere; the
// error must name one of them, with the offset at its value, and (without
// miscased names, or with firstInText) the first one in the text.
func FuzzRTParameterErrors(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte(strings.Repeat("\x01\x00\x02\x01\x03", 40)))
	f.Fuzz(func(t *testing.T, data []byte) { rtRun(t, data, false) })
}
