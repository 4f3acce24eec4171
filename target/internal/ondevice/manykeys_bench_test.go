package ondevice_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// manyKeysArtifact has a global mbox "g" and an mbox "m" with one rule
// each, and n more rule keys in an mbox no request names.
func manyKeysArtifact(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"version":"1.0.0","globalMbox":"g","localMboxes":["g","m","other"],"rules":{"mboxes":{` +
		`"g":[{"ruleKey":"g","activityId":1,"condition":true,"consequence":{"name":"g","options":[{"type":"html","content":"page"}]}}],` +
		`"m":[{"ruleKey":"m","activityId":2,"condition":true,"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}],"other":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ruleKey":"r%d","activityId":%d,"condition":true,"consequence":{"name":"other"}}`, i, i+3)
	}
	b.WriteString(`]}}}`)
	return []byte(b.String())
}

// BenchmarkDecisionManyKeys decides a page load and 50 mboxes whose rules
// are the same whatever the artifact's number of rule keys: the cost of a
// decision should not grow with the keys. Before the key set was emptied
// word by word as set (odperf4/odperf5), each of the 51 requests cleared
// (keys+63)/64 words: 25 KB each with 200,000 keys.
func BenchmarkDecisionManyKeys(b *testing.B) {
	mboxes := make([]delivery.MboxRequest, 50)
	for i := range mboxes {
		mboxes[i] = delivery.MboxRequest{Name: "m", Index: i}
	}
	req := &delivery.Request{ID: &delivery.VisitorID{TntID: "v"}, Execute: &delivery.ExecuteRequest{Mboxes: mboxes, PageLoad: &delivery.RequestDetails{}}}
	for _, n := range []int{40, 200_000} {
		a, err := ondevice.ParseArtifact(manyKeysArtifact(n))
		require.NoError(b, err)
		e := &ondevice.Engine{Client: "acme", NewID: func() string { return "id" }}
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(b.Context(), a, req, ondevice.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
