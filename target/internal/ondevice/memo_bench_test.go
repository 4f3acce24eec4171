package ondevice_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// BenchmarkDecisionMemos decides the requests of target's
// BenchmarkOnDeviceDecision (one mbox; a page load with two mboxes and
// every view) against the suite's large artifact, with the rule-context
// memos warm (every decision for the same user agent, URLs and place, as
// that benchmark runs) and cold (every decision for values not seen
// before: the user agent, URLs and city are new each time, so the page,
// browser and geo contexts are parsed and boxed again).
func BenchmarkDecisionMemos(b *testing.B) {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		b.Skip("TARGET_SDK_TESTING_DIR is not set; the benchmark decides against the suite's schema/artifact.json")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(b, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(b, err)
	const context = `"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},
		"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
		"address":{"url":"https://www.example.com/products/shoes?color=red","referringUrl":"https://search.example.org/?q=shoes"},
		"geo":{"city":"SAN FRANCISCO","countryCode":"US","stateCode":"CA","latitude":37.75,"longitude":-122.4}}`
	requests := []struct{ name, request string }{
		{"mbox", `{` + context + `,"execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}`},
		{"pageLoad+views", `{` + context + `,"execute":{"pageLoad":{"parameters":{"foo":"bar"}},
			"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}},{"name":"mbox-urlcontains","index":2}]},
			"prefetch":{"views":[{}]}}`},
	}
	e := &ondevice.Engine{Client: "targettesting", NewID: func() string { return "id" }, TelemetryEnabled: true}
	for _, rc := range requests {
		var req delivery.Request
		require.NoError(b, json.Unmarshal([]byte(rc.request), &req))
		for _, cold := range []bool{false, true} {
			// Cold requests, made beforehand: more than the memos hold,
			// so that none is remembered when it comes round again.
			reqs := []*delivery.Request{&req}
			if cold {
				reqs = make([]*delivery.Request, 3*4096)
				for i := range reqs {
					r := req
					c := *req.Context
					address, geo := *c.Address, *c.Geo
					c.UserAgent = fmt.Sprintf("%s %d", c.UserAgent, i)
					address.URL = fmt.Sprintf("%s&n=%d", address.URL, i)
					address.ReferringURL = fmt.Sprintf("%s&n=%d", address.ReferringURL, i)
					geo.City = fmt.Sprintf("%s %d", geo.City, i)
					c.Address, c.Geo = &address, &geo
					r.Context = &c
					reqs[i] = &r
				}
			}
			b.Run(fmt.Sprintf("%s/cold=%v", rc.name, cold), func(b *testing.B) {
				_, err := e.Decide(b.Context(), a, reqs[0], ondevice.Options{})
				require.NoError(b, err)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if _, err := e.Decide(b.Context(), a, reqs[i%len(reqs)], ondevice.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
