package ondevice_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// manyActivities is an artifact with an mbox "m" of one rule and other
// mboxes with n rules of n activities, which a decision for "m" never
// evaluates.
func manyActivities(t testing.TB, n int) *ondevice.Artifact {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"version":"1.0.0","localMboxes":["m","other"],"rules":{"mboxes":{"m":[{"ruleKey":"m","activityId":1,"condition":{"<":[{"var":"allocation"},100]},"consequence":{"name":"m","options":[{"type":"html","content":"yes"}]}}],"other":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ruleKey":"r%d","activityId":%d,"condition":true,"consequence":{"name":"other"}}`, i, i+2)
	}
	b.WriteString(`]}}}`)
	a, err := ondevice.ParseArtifact([]byte(b.String()))
	require.NoError(t, err)
	return a
}

var manyActivitiesRequest = &delivery.Request{
	ID:      &delivery.VisitorID{TntID: "v"},
	Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}},
}

// A decision's cost depends on the rules it evaluates, not on how many
// activities the artifact has: one rule of an artifact with 20,000
// activities allocates as much as one of an artifact with 40. Measured in
// bytes after the fact, not in time (a shared machine); not parallel, so
// that no other test's allocations are counted.
func TestDecisionCostDoesNotGrowWithTheArtifact(t *testing.T) {
	e := &ondevice.Engine{Client: "acme", NewID: func() string { return "id" }}
	perDecision := func(a *ondevice.Artifact) uint64 {
		const runs = 50
		d, err := e.Decide(t.Context(), a, manyActivitiesRequest, ondevice.Options{})
		require.NoError(t, err)
		require.Len(t, d.Response.Execute.Mboxes[0].Options, 1, "the rule matches")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			if _, err := e.Decide(t.Context(), a, manyActivitiesRequest, ondevice.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / runs
	}
	small, large := perDecision(manyActivities(t, 40)), perDecision(manyActivities(t, 20000))
	require.LessOrEqual(t, float64(large), 1.5*float64(small), "bytes per decision: %d with 40 activities, %d with 20,000", small, large)
}

// BenchmarkManyActivities decides one rule of artifacts with more and more
// activities: time and bytes per decision stay flat.
func BenchmarkManyActivities(b *testing.B) {
	for _, n := range []int{40, 2000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			a := manyActivities(b, n)
			e := &ondevice.Engine{Client: "acme", NewID: func() string { return "id" }}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(b.Context(), a, manyActivitiesRequest, ondevice.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
