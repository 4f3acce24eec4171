package target_test

// The bodies the client puts on the wire for a fixed series of random
// calls, written with the random ids, timestamps and timings masked, to be
// diffed between two versions of the client (TestWireBodiesWritten).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/deliverytest"
	"github.com/target-go/sdk/target/targettest"
)

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
		g := &deliverytest.Filler{Rand: r}
		var log strings.Builder
		for i := range 400 {
			var req target.DeliveryRequest
			g.Fill(&req)
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
				req.Execute = &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Index: 0, Name: deliverytest.String(r)}}}
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
