package ondevice_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// The memos of the rule context (places, user agents, URLs) remember
// values that recur across visitors; a caller sending huge values, all
// different, must not make them keep those values. Each decision below
// reads a 64 KB city, user agent or URL of its own; once the requests are
// gone, next to nothing of them stays on the heap. Not parallel: the heap
// is measured.
func TestMemosDoNotKeepHugeValues(t *testing.T) {
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"condition":{"or":[{"==":[{"var":"geo.city"},"x"]},{"==":[{"var":"user.browserType"},"x"]},{"==":[{"var":"page.url"},"x"]}]},
		"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}]}}}`))
	require.NoError(t, err)
	e := &ondevice.Engine{Client: "acme", NewID: func() string { return "id" }}
	const decisions, size = 100, 64 << 10
	huge := func(i int) string { return fmt.Sprintf("%d-%s", i, strings.Repeat("a", size)) }
	decide := func(kind, value string) {
		c := &delivery.Context{}
		switch kind {
		case "geo":
			c.Geo = &delivery.Geo{City: value}
		case "userAgent":
			c.UserAgent = value
		case "url":
			c.Address = &delivery.Address{URL: "https://example.com/" + value}
		}
		req := &delivery.Request{ID: &delivery.VisitorID{TntID: "v"}, Context: c,
			Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}}}
		_, err := e.Decide(t.Context(), a, req, ondevice.Options{})
		require.NoError(t, err)
	}
	for _, kind := range []string{"geo", "userAgent", "url"} {
		decide(kind, "warm") // what the first decisions make once (the bucket values), not counted
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range decisions {
			decide(kind, huge(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%s: %d bytes retained", kind, retained)
		assert.Less(t, float64(retained), 0.05*decisions*size, "%s: %d bytes retained after %d decisions with %d-byte values", kind, retained, decisions, size)
	}
}
