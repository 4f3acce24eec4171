package delivery_test

// AppendRequest against delivery.Marshal and against
// encoding/json (an Encoder without HTML escaping) on requests from
// target/internal/deliverytest's generator, wider than the package's own:
// every byte value and odd rune at every offset of strings of length 0..40,
// random float bits (subnormals, -0, huge, integers held in floats), NaN and
// infinities, full-range ints, maps of up to 40 keys (the heap-sorted path),
// empty and nil slices and maps, and requests read from JSON (Geo and
// ClientHints with "" fields and string coordinates), mutated after reading.

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/deliverytest"
)

// encodingJSON is encoding/json itself, without HTML escaping.
func encodingJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// requireSameAsMarshalAndEncodingJSON checks AppendRequest against Marshal and encoding/json, with a
// prefix in dst and with spare capacity in dst.
func requireSameAsMarshalAndEncodingJSON(t testing.TB, req *delivery.Request) {
	t.Helper()
	want, wantErr := delivery.Marshal(req)
	direct, directErr := encodingJSON(req)
	if (wantErr == nil) != (directErr == nil) || !bytes.Equal(want, direct) {
		t.Fatalf("Marshal and encoding/json differ:\n%q %v\n%q %v", want, wantErr, direct, directErr)
	}
	for _, dst := range [][]byte{nil, []byte("pre"), make([]byte, 2, 4096)} {
		keep := string(dst)
		got, err := delivery.AppendRequest(dst, req)
		if wantErr != nil {
			if err == nil || err.Error() != wantErr.Error() || string(got) != keep {
				t.Fatalf("AppendRequest: %q, %v; Marshal's error %v", got, err, wantErr)
			}
			continue
		}
		if err != nil || string(got) != keep+string(want) {
			t.Fatalf("AppendRequest differs from Marshal:\nreq  %+v\ngot  %q (%v)\nwant %q", req, got[len(keep):], err, want)
		}
	}
}

// TestAppendRequestMatchesMarshalOnWideGenerator compares AppendRequest
// with Marshal and encoding/json on 6000 requests from deliverytest.Filler, NaN and
// infinities included.
func TestAppendRequestMatchesMarshalOnWideGenerator(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2026, 12))
	g := &deliverytest.Filler{Rand: r, NonFinite: true}
	for range 6000 {
		var req delivery.Request
		g.Fill(&req)
		requireSameAsMarshalAndEncodingJSON(t, &req)
	}
}

// TestAppendRequestMatchesMarshalReadFromJSONAndMutated reads requests
// from JSON (so that Geo and ClientHints carry what they were read with),
// with "" fields, string and numeric coordinates, then compares, then
// mutates and compares again.
func TestAppendRequestMatchesMarshalReadFromJSONAndMutated(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 8))
	g := &deliverytest.Filler{Rand: r}
	geoFields := []string{"ipAddress", "countryCode", "stateCode", "city", "zip"}
	for i := range 3000 {
		var base delivery.Request
		g.Fill(&base)
		body, err := delivery.Marshal(&base)
		if err != nil {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		ctx, _ := m["context"].(map[string]any)
		if ctx == nil {
			ctx = map[string]any{"channel": "web"}
			m["context"] = ctx
		}
		geo := map[string]any{}
		for _, f := range geoFields {
			switch r.IntN(3) {
			case 0:
				geo[f] = ""
			case 1:
				geo[f] = deliverytest.String(r)
			}
		}
		for _, c := range []string{"latitude", "longitude"} {
			switch r.IntN(4) {
			case 0:
				geo[c] = deliverytest.Float(r, false)
			case 1:
				geo[c] = []string{"48.85", " 2.35 ", "0x10", "", "1e400", "abc", "-0", "<1>", "\u2028", "\xff"}[r.IntN(10)]
			case 2:
				geo[c] = nil
			}
		}
		ctx["geo"] = geo
		ch := map[string]any{}
		switch r.IntN(3) {
		case 0:
			ch["platform"] = ""
		case 1:
			ch["platform"] = deliverytest.String(r)
		}
		if r.IntN(2) == 0 {
			ch["model"] = deliverytest.String(r)
		}
		ctx["clientHints"] = ch
		body2, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var req delivery.Request
		if err := json.Unmarshal(body2, &req); err != nil {
			continue // a body the reader refuses (duplicates after replacement, say)
		}
		requireSameAsMarshalAndEncodingJSON(t, &req)
		// Mutate what was read.
		switch i % 4 {
		case 0:
			if req.Context.Geo != nil {
				req.Context.Geo.City = deliverytest.String(r)
				req.Context.Geo.Zip = ""
			}
		case 1:
			if req.Context.ClientHints != nil {
				req.Context.ClientHints.Platform = deliverytest.String(r)
			}
		case 2:
			if req.Context.Geo != nil {
				x := deliverytest.Float(r, false)
				req.Context.Geo.Latitude = &x
			}
		case 3:
			if req.Context.Geo != nil {
				cp := *req.Context.Geo // a copy keeps what it was read with
				req.Context.Geo = &cp
				req.Context.Geo.Longitude = nil
			}
		}
		requireSameAsMarshalAndEncodingJSON(t, &req)
	}
}

// TestAppendStringOddByteAtEveryOffset puts every byte value and odd rune
// at every offset of plain strings of length 0..40, and two of them at
// every pair of offsets of a 17-byte string.
func TestAppendStringOddByteAtEveryOffset(t *testing.T) {
	t.Parallel()
	sp := append([]string(nil), deliverytest.Specials...)
	for c := range 256 {
		sp = append(sp, string([]byte{byte(c)}))
	}
	for _, s := range sp {
		for n := 0; n <= 40; n++ {
			for at := 0; at <= n; at++ {
				str := strings.Repeat("a", at) + s + strings.Repeat("b", n-at)
				requireSameAsMarshalAndEncodingJSON(t, &delivery.Request{RequestID: str})
			}
			// Ending mid-block: the special last, cut.
			cut := strings.Repeat("x", n) + s
			for k := 1; k < len(s); k++ {
				requireSameAsMarshalAndEncodingJSON(t, &delivery.Request{RequestID: cut[:n+k]})
			}
		}
	}
	for _, a := range sp {
		for _, b := range []string{"\u2028", "\xff", `"`, "\x00", "é", "<"} {
			for i := 0; i <= 17; i++ {
				for j := i; j <= 17; j++ {
					s := strings.Repeat("p", i) + a + strings.Repeat("q", j-i) + b + strings.Repeat("r", 17-j)
					requireSameAsMarshalAndEncodingJSON(t, &delivery.Request{ImpressionID: s})
				}
			}
		}
	}
}

// TestAppendStringEveryBytePairAcrossBlocks writes every pair of bytes after 7 and
// after 15 plain bytes (the pair straddles the block boundary).
func TestAppendStringEveryBytePairAcrossBlocks(t *testing.T) {
	t.Parallel()
	for _, pre := range []string{"1234567", "123456789012345", ""} {
		for a := range 256 {
			for b := range 256 {
				s := pre + string([]byte{byte(a), byte(b)}) + "zzzzzzz"
				want, _ := delivery.Marshal(&delivery.Request{RequestID: s})
				got, _ := delivery.AppendRequest(nil, &delivery.Request{RequestID: s})
				if !bytes.Equal(got, want) {
					t.Fatalf("%q: got %q want %q", s, got, want)
				}
			}
		}
	}
}

// TestAppendRequestConcurrentIntoReusedBuffers encodes one request from many
// goroutines (run under -race) into buffers of one backing array's parts.
func TestAppendRequestConcurrentIntoReusedBuffers(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	g := &deliverytest.Filler{Rand: r}
	var reqs []*delivery.Request
	for range 50 {
		var req delivery.Request
		g.Fill(&req)
		reqs = append(reqs, &req)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range 200 {
				req := reqs[(i+w)%len(reqs)]
				want, wantErr := delivery.Marshal(req)
				got, err := delivery.AppendRequest(buf[:0], req)
				if (err == nil) != (wantErr == nil) || (err == nil && !bytes.Equal(got, want)) {
					t.Errorf("differs: %q vs %q", got, want)
					return
				}
				buf = got
			}
		}()
	}
	wg.Wait()
}

// TestAppendRequestWritesValidJSON checks that what AppendRequest writes
// is valid JSON and valid UTF-8.
func TestAppendRequestWritesValidJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(77, 1))
	g := &deliverytest.Filler{Rand: r}
	for range 500 {
		var req delivery.Request
		g.Fill(&req)
		got, err := delivery.AppendRequest(nil, &req)
		if err != nil {
			continue
		}
		if !json.Valid(got) || !utf8.Valid(got) {
			t.Fatalf("not valid JSON/UTF-8: %q", got)
		}
	}
}

// FuzzAppendRequestFromJSON reads the fuzzer's bytes as a request
// (whatever Request.UnmarshalJSON accepts: Geo and ClientHints with what
// they were read with) and compares AppendRequest with Marshal and
// encoding/json.
func FuzzAppendRequestFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"context":{"channel":"web","geo":{"city":"","latitude":"1.5","longitude":2},"clientHints":{"platform":""}}}`,
		`{"execute":{"pageLoad":{"parameters":{"a":1,"b":true,"c":"\u2028"}},"mboxes":[{"index":0,"name":"m<>"}]}}`,
		`{"prefetch":{"views":[{"name":"v","key":"k","order":{"total":1e21,"purchasedProductIds":["\ud800"]}}]},"qaMode":{"token":"t","evaluateAsTrueAudienceIds":[1,-9223372036854775808],"previewIndexes":[{"activityIndex":1}]},"preview":{"token":""}}`,
		`{"telemetry":{"entries":[{"execution":1e-7,"request":{"dns":-0}}]},"notifications":[{"id":"","type":"display","timestamp":-1,"tokens":[]}]}`,
		`{"context":{"channel":"mobile","screen":{"width":0.1,"pixelRatio":5e-324},"timeOffsetInMinutes":-0.0,"mobilePlatform":{"deviceType":"phone","platformType":"ios"}},"trace":{"authorizationToken":"a","usage":{"\u00e9":"x","e":"y"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req delivery.Request
		if json.Unmarshal(body, &req) != nil {
			return
		}
		requireSameAsMarshalAndEncodingJSON(t, &req)
	})
}

// TestAppendRequestAllocatesOnlyForLargeMaps: a request with every field set and
// maps of at most 16 keys is written into a large enough dst without an
// allocation; each map of more than 16 keys costs one.
func TestAppendRequestAllocatesOnlyForLargeMaps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := &deliverytest.Filler{Rand: r}
	dst := make([]byte, 0, 1<<20)
	checked := 0
	for range 300 {
		var req delivery.Request
		g.Fill(&req)
		if _, err := delivery.Marshal(&req); err != nil {
			continue
		}
		big := 0
		countBig := func(m map[string]string) {
			if len(m) > 16 {
				big++
			}
		}
		details := func(d *delivery.RequestDetails) { countBig(d.Parameters); countBig(d.ProfileParameters) }
		if req.Trace != nil {
			countBig(req.Trace.Usage)
		}
		if x := req.Execute; x != nil {
			if x.PageLoad != nil {
				details(x.PageLoad)
			}
			for i := range x.Mboxes {
				details(&x.Mboxes[i].RequestDetails)
			}
		}
		if x := req.Prefetch; x != nil {
			if x.PageLoad != nil {
				details(x.PageLoad)
			}
			for i := range x.Mboxes {
				details(&x.Mboxes[i].RequestDetails)
			}
			for i := range x.Views {
				details(&x.Views[i].RequestDetails)
			}
		}
		for i := range req.Notifications {
			details(&req.Notifications[i].RequestDetails)
		}
		got := testing.AllocsPerRun(3, func() {
			if _, err := delivery.AppendRequest(dst[:0], &req); err != nil {
				t.Fatal(err)
			}
		})
		if got != float64(big) {
			t.Fatalf("%v allocations, %d maps of more than 16 keys", got, big)
		}
		checked++
	}
	t.Logf("%d requests checked", checked)
}
