package target_test

// The bodies the client puts on the wire for a fixed series of random
// calls, written with the random ids, timestamps and timings masked, to be
// diffed between two versions of the client (TestWireBodiesWritten).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/targettest"
)

var wireSpecials = []string{
	"\u2028", "\u2029", "é", "日", "🎉", "\ufffd", "\ufeff", "\U0010FFFF", "\u007f", "\u0080", "\u00a0",
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xc0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
	"\xc3", "\xe2\x80", "\xe2\x80\xa8"[:2], "<", ">", "&", `"`, `\`, "/", "\x00", "\x1f", "\t", "\n", "\r",
	"\b", "\f", "\x0b", "\xff", "\xfe", "\x80", "\xbf", "'", "%", "+",
}

// wireString is a string of length up to about 40: plain bytes with specials
// or random bytes put at random places (a multi-byte rune straddling an
// 8-byte block boundary included).
func wireString(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		b := make([]byte, r.IntN(41))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	case 1:
		return wireSpecials[r.IntN(len(wireSpecials))]
	}
	n := r.IntN(41)
	var sb strings.Builder
	for sb.Len() < n {
		if r.IntN(5) == 0 {
			sb.WriteString(wireSpecials[r.IntN(len(wireSpecials))])
		} else {
			sb.WriteByte(byte(0x20 + r.IntN(0x5f)))
		}
	}
	return sb.String()
}

func wireFloat(r *rand.Rand) float64 {
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

type wireFiller struct{ r *rand.Rand }

func (g *wireFiller) fill(v reflect.Value, depth int) {
	r := g.r
	switch v.Kind() {
	case reflect.String:
		v.SetString(wireString(r))
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
		v.SetFloat(wireFloat(r))
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
		panic(fmt.Sprintf("wireFiller: kind %s (%s)", v.Kind(), v.Type()))
	}
}

var wireMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UUID"},
	{regexp.MustCompile(`[0-9A-F]{16}-[0-9A-F]{16}`), "SDID"},
	{regexp.MustCompile(`"(timestamp|execution|parsing|dns|tls|timeToFirstByte|download|responseSize)":[-0-9.e+]+`), `"$1":N`},
	{regexp.MustCompile(`sessionId=[^&]*`), "sessionId=S"},
}

// TestWireBodiesWritten makes 400 GetOffers calls from random requests
// (a fixed seed) against a local edge, with telemetry off and on, and
// writes each call's outcome and every body the edge received, masked, to
// $TARGET_WIRE_BODIES_OUT.false and .true. Run on two versions of the
// client, the files diff to nothing when both put the same bytes on the
// wire. It fails when a call's body is not valid JSON or a file cannot be
// written.
func TestWireBodiesWritten(t *testing.T) {
	out := os.Getenv("TARGET_WIRE_BODIES_OUT")
	if out == "" {
		t.Skip("skipping: set TARGET_WIRE_BODIES_OUT to a file path prefix to write the client's masked wire bodies there, for diffing two versions of the client")
	}
	for _, telemetry := range []bool{false, true} {
		edge := targettest.NewServer(targettest.Config{NoCluster: true, RecordLimit: 5000, Offers: targettest.Offers{}})
		cfg := edge.ClientConfig()
		cfg.TelemetryEnabled = &telemetry
		cfg.PropertyToken = "prop<&>\u2028"
		cfg.EnvironmentID = 42
		c, err := target.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(11, 13))
		g := &wireFiller{r: r}
		var log strings.Builder
		for i := range 400 {
			var req target.DeliveryRequest
			g.fill(reflect.ValueOf(&req).Elem(), 0)
			req.Notifications = nil
			req.RequestID = ""
			if i%4 == 0 {
				req.RequestID = fmt.Sprintf("req-%d", i)
			}
			if req.Context != nil {
				req.Context.Channel = "web"
			}
			if req.ID != nil && i%2 == 0 {
				req.ID.CustomerIDs = nil
			}
			if req.Trace != nil && req.Trace.AuthorizationToken == "" {
				req.Trace.AuthorizationToken = "tok"
			}
			if req.Property != nil && i%2 == 0 {
				req.Property = nil
			}
			for _, x := range []*delivery.ExecuteRequest{req.Execute} {
				if x != nil {
					for k := range x.Mboxes {
						x.Mboxes[k].Index = k
					}
				}
			}
			if pf := req.Prefetch; pf != nil {
				for k := range pf.Mboxes {
					pf.Mboxes[k].Index = k
				}
			}
			if i%3 == 0 {
				req.Execute = &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Index: 0, Name: wireString(r)}}}
			}
			if req.Execute == nil && req.Prefetch == nil {
				req.Prefetch = &delivery.PrefetchRequest{Mboxes: []delivery.MboxRequest{{Index: 1, Name: "m"}}}
			}
			exp := time.Now().Unix() + 1000
			opts := target.GetOffersOptions{Request: req,
				TargetCookie: fmt.Sprintf("session#sess%d#%d|PC#tnt%d#%d", i, exp, i, exp+100)}
			if i%2 == 0 {
				opts.SupplementalDataIDs = target.NewSupplementalDataIDs()
			}
			if i%5 == 0 {
				opts.TargetCookie = ""
			}
			resp, err := c.GetOffers(context.Background(), opts).Await(context.Background())
			es := fmt.Sprint(err)
			for _, m := range wireMasks {
				es = m.re.ReplaceAllString(es, m.with)
			}
			fmt.Fprintf(&log, "call %d err=%s", i, regexp.MustCompile(`host [0-9.:]+`).ReplaceAllString(es, "host H"))
			if resp != nil && resp.TargetCookie != nil {
				v := resp.TargetCookie.Value
				for _, m := range wireMasks {
					v = m.re.ReplaceAllString(v, m.with)
				}
				fmt.Fprintf(&log, " cookie=%q maxAge=%d", regexp.MustCompile(`#\d{10}`).ReplaceAllString(v, "#EXP"), resp.TargetCookie.MaxAge)
			}
			log.WriteString("\n")
		}
		_ = c.Close(context.Background())
		for _, rec := range edge.Requests() {
			if !json.Valid(rec.Body) {
				t.Errorf("the client sent a body that is not JSON: %q", rec.Body)
			}
			b := string(rec.Body)
			q := rec.Query.Encode()
			for _, m := range wireMasks {
				b = m.re.ReplaceAllString(b, m.with)
				q = m.re.ReplaceAllString(q, m.with)
			}
			fmt.Fprintf(&log, "%s %s?%s\n%s\n", rec.Method, rec.Path, q, b)
		}
		edge.Close()
		if err := os.WriteFile(fmt.Sprintf("%s.%v", out, telemetry), []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
