package delivery_test

// AppendRequest against Marshal on requests filled by reflection: the
// filler sets every exported field of delivery.Request and the types under
// it, so that a field AppendRequest does not write (one added to the model
// later, say) makes the comparison with Marshal fail, and a field of a kind
// the filler does not know fails the test until the filler learns it.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

var fillerStrings = []string{
	"", "a", `"`, `\`, "<>&", "\u2028", "\u2029", "\ufffd", "\x00", "\x7f", "\xff", "\xc3", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "é", "日本", "🎉", "\uff61", "\U0001F600", "A", "a", "Z", "_", " ", "\t", "\b\f",
	"\"quoted\"", "\\u2028", "</script>", strings.Repeat("é", 10),
}

var fillerFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 1e21, -1e21, 1e-7, 1e-6, 9.999999999999999e20, 1e20,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 2.2250738585072009e-308, // subnormal
	math.MaxFloat64, 1 << 53, 1<<53 + 2, 9007199254740993, -9223372036854775808, 18446744073709551615,
	0.1, 1.0 / 3, 123456789012345678, 5e-324, 1e-300, 1e300, 100, 1e6, 1e-5,
}

type filler struct {
	t testing.TB
	r *rand.Rand
	// skip names the fields (Type.Field) left zero.
	skip map[string]bool
}

func (g *filler) str() string {
	if g.r.IntN(5) == 0 {
		b := make([]byte, g.r.IntN(8))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return string(b)
	}
	return fillerStrings[g.r.IntN(len(fillerStrings))]
}

func (g *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(g.str())
	case reflect.Bool:
		v.SetBool(g.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		lims := []int64{0, 1, -1, math.MaxInt64 >> (64 - bits), math.MinInt64 >> (64 - bits), 1 << 53, -(1<<53 + 1)}
		x := lims[g.r.IntN(len(lims))]
		if bits < 64 {
			x = x << (64 - bits) >> (64 - bits)
		}
		v.SetInt(x)
	case reflect.Float32, reflect.Float64:
		if g.r.IntN(3) == 0 {
			v.SetFloat((g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(60)-30)))
		} else {
			v.SetFloat(fillerFloats[g.r.IntN(len(fillerFloats))])
		}
	case reflect.Pointer:
		if g.r.IntN(4) == 0 || depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch g.r.IntN(4) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty, not nil
			return
		}
		n := 1 + g.r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			g.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		switch g.r.IntN(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
			return
		}
		m := reflect.MakeMap(v.Type())
		for range 1 + g.r.IntN(6) {
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
			f := t.Field(i)
			if !f.IsExported() || g.skip[t.Name()+"."+f.Name] {
				continue
			}
			if f.Anonymous || g.r.IntN(6) != 0 {
				g.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		// Request has no interface fields today; a new one is filled with
		// an odd string (AppendRequest not writing it fails the comparison).
		v.Set(reflect.ValueOf(g.str()))
	default:
		g.t.Fatalf("filler: a field of kind %s (%s) in the model: teach the filler (and AppendRequest) to write it",
			v.Kind(), v.Type())
	}
}

// TestAppendRequestEveryField sets every exported field of Request (and
// below) at random and compares with Marshal; a field AppendRequest does
// not write fails it.
func TestAppendRequestEveryField(t *testing.T) {
	t.Parallel()
	g := &filler{t: t, r: rand.New(rand.NewPCG(7, 11))}
	for range 2000 { // each request sets most fields: a new one is hit in the first few
		var req delivery.Request
		g.fill(reflect.ValueOf(&req).Elem(), 0)
		requireSameAsMarshal(t, &req)
		// The same request read back from its JSON: Geo and ClientHints
		// then carry their unexported "" markers and string coordinates.
		if b, err := delivery.Marshal(&req); err == nil {
			var back delivery.Request
			if json.Unmarshal(b, &back) == nil {
				requireSameAsMarshal(t, &back)
			}
		}
	}
}

// TestAppendRequestMapKeys puts keys that sort differently by UTF-8
// bytes and by UTF-16 code units, empty keys, and keys equal after
// invalid UTF-8 is replaced, in every map of a notification request.
func TestAppendRequestMapKeys(t *testing.T) {
	t.Parallel()
	keys := delivery.Parameters{
		"": "empty", "\uff61": "bmp", "\U0001F600": "astral", "\xff": "bad1", "\xfe": "bad2", "\ufffd": "repl",
		"B": "b", "a": "a", "A": "A", "\u2028": "ls", "<": "lt", "\x00": "nul",
	}
	req := &delivery.Request{
		Trace: &delivery.Trace{AuthorizationToken: "t", Usage: keys},
		Notifications: []delivery.Notification{{
			ID: "1", Type: "display", Timestamp: 1,
			RequestDetails: delivery.RequestDetails{Parameters: keys, ProfileParameters: keys},
		}},
	}
	requireSameAsMarshal(t, req)
}

type panicker struct{}

func (panicker) MarshalJSON() ([]byte, error) { panic("boom") }

type halfEncoded struct {
	A string  `json:"a"`
	F float64 `json:"f"`
}

// TestMarshalPoolAfterErrorAndPanic encodes a value that fails midway
// (NaN after a field) and one whose MarshalJSON panics, then checks that
// the pooled encoder gives clean output for the next values, concurrently.
func TestMarshalPoolAfterErrorAndPanic(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				if _, err := delivery.Marshal(halfEncoded{A: strings.Repeat("x", i%300), F: math.NaN()}); err == nil {
					t.Error("NaN encoded")
					return
				}
				func() {
					defer func() { _ = recover() }()
					_, _ = delivery.Marshal([]any{"before", panicker{}})
				}()
				want := halfEncoded{A: strings.Repeat(string(rune('a'+w)), i%50), F: float64(i)}
				b, err := delivery.Marshal(want)
				var got halfEncoded
				if err != nil || json.Unmarshal(b, &got) != nil || got != want {
					t.Errorf("after error/panic: %q %v", b, err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// TestAppendRequestAllocs holds AppendRequest to its doc: into a buffer
// large enough, no allocation, except one sorted key list for a map of more
// than 16 entries.
func TestAppendRequestAllocs(t *testing.T) {
	for _, tc := range []struct{ params, allocs int }{{0, 0}, {1, 0}, {2, 0}, {3, 0}, {8, 0}, {16, 0}, {17, 1}, {40, 1}} {
		p := delivery.Parameters{}
		for i := range tc.params {
			p[fmt.Sprint("p", i)] = "v"
		}
		req := &delivery.Request{Context: &delivery.Context{Channel: "web"}, Notifications: []delivery.Notification{{
			ID: "1", Type: "display", Timestamp: 1, RequestDetails: delivery.RequestDetails{Parameters: p},
		}}}
		buf := make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = delivery.AppendRequest(buf[:0], req); err != nil {
				t.Fatal(err)
			}
		})
		if int(allocs) != tc.allocs {
			t.Errorf("%d parameters: AppendRequest made %v allocations, want %d", tc.params, allocs, tc.allocs)
		}
	}
}

// TestAppendRequestNil: Marshal of a nil *Request is "null", and so is
// AppendRequest's, appended after what dst holds.
func TestAppendRequestNil(t *testing.T) {
	want, err := delivery.Marshal((*delivery.Request)(nil))
	if err != nil || string(want) != "null" {
		t.Fatalf("Marshal(nil) = %q, %v", want, err)
	}
	got, err := delivery.AppendRequest([]byte("prefix"), nil)
	if err != nil || string(got) != "prefix"+string(want) {
		t.Fatalf("AppendRequest(nil) = %q, %v; want %q", got, err, "prefix"+string(want))
	}
}
