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

// fuzzSource draws numbers from fuzz bytes (zeros when they run out).
type fuzzSource struct {
	b []byte
	i int
}

func (s *fuzzSource) n(k int) int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	return v % k
}

// badValue is one bad value the generator wrote: its path and where it is.
type badValue struct {
	field string // Field the error should carry
	param bool   // a parameter's value (ErrParameterType)
	start int    // offset of the value in the text
	value string // the value's text
}

// requestGen writes a Request's text from fuzz bytes: bad parameters in
// every place a Request holds Parameters, names in another case, escaped
// names, white space, and mboxes of the wrong kind; it records each bad
// value it writes, in text order.
type requestGen struct {
	s       *fuzzSource
	sb      strings.Builder
	bads    []badValue // in text order
	miscase bool       // a miscased name was written (the lenient reader drops it)
	// misplaced is whether a value of the wrong kind holding bad
	// parameters was written (an array where an mbox belongs), which the
	// decoder refuses and skips.
	misplaced bool
}

func (g *requestGen) ws() {
	g.sb.WriteString([]string{"", "", " ", "\n\t", " \r\n "}[g.s.n(5)])
}

// key writes a name, sometimes with an escape.
func (g *requestGen) key(name string) {
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

func (g *requestGen) val(path string, param bool, v string) {
	g.bads = append(g.bads, badValue{field: path, param: param, start: g.sb.Len(), value: v})
	g.sb.WriteString(v)
}

var goodParameterValues = []string{`"s"`, `1`, `-2.5e3`, `true`, `null`, `"\u00e9\ud83d\ude00"`, `"ſK"`}
var badParameterValues = []string{`[1]`, `{}`, `[]`, `{"k":[1,{"a":2}]}`, `[[[]]]`}
var nonObjectParameters = []string{`5`, `"str"`, `[1]`, `true`, `[]`}

// params writes a Parameters value at path.
func (g *requestGen) params(path string) {
	switch g.s.n(4) {
	case 0:
		g.sb.WriteString("null")
		return
	case 1:
		g.val(path, false, nonObjectParameters[g.s.n(len(nonObjectParameters))])
		return
	}
	g.sb.WriteString("{")
	names := []string{"a", "b", "zz", "K", "ſ", "é", "0", "10", "x y"}
	n := g.s.n(4)
	used := map[string]bool{}
	var badNames []string
	var badAt []badValue
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
			v := badParameterValues[g.s.n(len(badParameterValues))]
			badNames = append(badNames, name)
			badAt = append(badAt, badValue{field: path + "." + name, param: true, start: g.sb.Len(), value: v})
			g.sb.WriteString(v)
		} else {
			g.sb.WriteString(goodParameterValues[g.s.n(len(goodParameterValues))])
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
func (g *requestGen) details(path string, extra []string) {
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

func (g *requestGen) mboxes(path string) {
	g.sb.WriteString("[")
	n := g.s.n(4)
	for i := range n {
		if i > 0 {
			g.sb.WriteString(",")
		}
		if g.s.n(8) == 0 {
			g.sb.WriteString(`[{"name":"s","parameters":{"a":[1]}}]`)
			g.misplaced = true
			continue
		}
		g.sb.WriteString("{")
		g.details(fmt.Sprintf("%s.%d", path, i), []string{fmt.Sprintf(`"name":"m%d","index":%d`, i, i)})
		g.sb.WriteString("}")
	}
	g.sb.WriteString("]")
}

func (g *requestGen) request() {
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

func badValueOffset(b badValue) int64 {
	if !errorOffsetPastValue {
		return int64(b.start)
	}
	if b.value[0] == '[' || b.value[0] == '{' {
		return int64(b.start + 1)
	}
	return int64(b.start + len(b.value))
}

// checkBadValues checks the error for a generated body: it names the
// first bad value in the text, with the offset at it, or (with a misplaced
// value, where the decoder stops at that: GOEXPERIMENT=jsonv2) is the
// misplaced value's own type error.
func checkBadValues(t *testing.T, body string, bads []badValue, strict, misplaced bool) {
	t.Helper()
	var r delivery.Request
	var err error
	if strict {
		err = delivery.UnmarshalRequestStrict([]byte(body), &r)
	} else {
		err = json.Unmarshal([]byte(body), &r)
	}
	var te *json.UnmarshalTypeError
	if misplaced && errors.As(err, &te) && te.Type != reflect.TypeFor[delivery.Parameters]() && !errors.Is(err, delivery.ErrParameterType) {
		if defaultJSONBuild && len(bads) > 0 {
			t.Errorf("strict %v: %s: %v, not the first bad parameters' error", strict, body, err)
		}
		return
	}
	if len(bads) == 0 {
		if err != nil {
			t.Fatalf("strict %v: %s: unexpected error %v", strict, body, err)
		}
		return
	}
	if !errors.As(err, &te) {
		t.Fatalf("strict %v: %s: error %v is no *json.UnmarshalTypeError", strict, body, err)
	}
	var got *badValue
	for i := range bads {
		if bads[i].field == te.Field {
			got = &bads[i]
			break
		}
	}
	if got == nil {
		t.Fatalf("strict %v: %s: Field %q is none of the bad values %v (%v)", strict, body, te.Field, bads, err)
	}
	if got.field != bads[0].field {
		t.Errorf("strict %v: %s: named %q, the first bad value in the text is %q", strict, body, got.field, bads[0].field)
	}
	if te.Offset != badValueOffset(*got) {
		t.Errorf("strict %v: %q: offset %d, want %d (%q)", strict, body, te.Offset, badValueOffset(*got), err)
	}
	if errors.Is(err, delivery.ErrParameterType) != got.param {
		t.Errorf("strict %v: %s: ErrParameterType %v, want %v", strict, body, errors.Is(err, delivery.ErrParameterType), got.param)
	}
	if !got.param && te.Type != reflect.TypeFor[delivery.Parameters]() {
		t.Errorf("%s: Type %v", body, te.Type)
	}
}

func checkGeneratedRequest(t *testing.T, data []byte) {
	g := requestGen{s: &fuzzSource{b: data}}
	g.request()
	body := g.sb.String()
	if !json.Valid([]byte(body)) {
		t.Fatalf("generator wrote invalid JSON: %s", body)
	}
	checkBadValues(t, body, g.bads, false, g.misplaced)
	if !g.miscase {
		checkBadValues(t, body, g.bads, true, g.misplaced)
	}
}

// FuzzParameterTypeErrors builds requests with bad parameters anywhere,
// names in another case (which the lenient reader drops) and values the
// decoder skips; the error must name the first bad parameters in the
// text, with the offset at the value, by both readers.
func FuzzParameterTypeErrors(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte(strings.Repeat("\x01\x00\x02\x01\x03", 40)))
	f.Fuzz(func(t *testing.T, data []byte) { checkGeneratedRequest(t, data) })
}
