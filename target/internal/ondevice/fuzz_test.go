package ondevice_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// FuzzDecide feeds hostile artifacts and requests to the engine: parsing
// may reject them, but neither parsing nor a decision may panic or hang.
func FuzzDecide(f *testing.F) {
	requests := []string{
		`{"execute":{"mboxes":[{"name":"hero","index":1,"parameters":{"tier":"gold"}}]}}`,
		`{"prefetch":{"mboxes":[{"name":"hero"}],"views":[{}],"pageLoad":{"parameters":{"a.b":"c"}}},"trace":{}}`,
		`{"id":{"tntId":"a.b.c"},"context":{"userAgent":"Mozilla/5.0 (Windows NT 10.0) Chrome/99","address":{"url":"https://www.x.co.uk/p?q#f"},"geo":{"latitude":1}}}`,
		`{"execute":{"pageLoad":{}},"prefetch":{"views":[{"name":"v"}]}}`,
	}
	artifacts := []string{
		`{"version":"1.0.0","geoTargetingEnabled":true,"responseTokens":["activity.id","geo.city"],"remoteMboxes":["checkout"],"localMboxes":["hero"],
			"rules":{"mboxes":{"hero":[{"ruleKey":"1","activityId":1,"meta":{"activity.id":1,"audience.ids":[7]},
			"condition":{"and":[{"<=":[0,{"var":"allocation"},50]},{"==":[{"var":"geo.city"},"SAN FRANCISCO"]}]},
			"consequence":{"name":"hero","options":[{"type":"json","content":{"a":"${offer.id}"},"eventToken":"t1"}],"metrics":[{"type":"click","eventToken":"c1"}]}}]}}}`,
		`{"version":"1.0.0","rules":{"mboxes":{"hero":[{"condition":{"reduce":[{"var":"mbox"},{"cat":[{"var":"current"},{"var":"accumulator"}]},""]},"consequence":{"options":[{"type":"actions","content":[{"content":"${mbox.name}"}]}]}}]},"views":{"v":[{"condition":{"substr":[{"var":"page.url"},-3,-1]},"consequence":{"name":"v","options":[{"type":"html","content":"${campaign.recipe.id}"}]}}]}}}`,
		`{"version":"1.0.0","globalMbox":"hero","rules":{"mboxes":{"hero":[{"condition":{"all":[{"var":"page"},{"!!":{"var":""}}]},"consequence":{}},{"condition":{"in":[{"var":"user.browserType"},[{"var":"x"}]]},"consequence":{"options":null,"metrics":[{"type":"display"}]}}]}}}`,
	}
	for _, a := range artifacts {
		for _, r := range requests {
			f.Add([]byte(a), []byte(r))
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, artifact, request []byte) {
		e := &ondevice.Engine{
			Client: "acme", TelemetryEnabled: true, NewID: newID(),
			Now: func() time.Time { return now },
			LookupGeo: func(context.Context, string) (*delivery.Geo, error) {
				return &delivery.Geo{City: "SAN FRANCISCO"}, nil
			},
		}
		d, err := decideJSON(t, e, artifact, request)
		if err != nil {
			return
		}
		resp, err := json.Marshal(d.Response)
		if err != nil || !json.Valid(resp) {
			t.Fatalf("response does not encode: %v", err)
		}
		if n := d.NotificationRequest(); n != nil {
			if _, err := json.Marshal(n); err != nil {
				t.Fatalf("notification request does not encode: %v", err)
			}
		}
	})
}
