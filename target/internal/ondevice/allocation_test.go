package ondevice

import (
	"fmt"
	"testing"
)

// The allocation cache answers each activity's own bucket, whether it
// sits in its slot or, when another activity took the slot, in the
// overflow map; asked again in another order, the answers do not change.
func TestAllocationCacheKeepsActivitiesApart(t *testing.T) {
	t.Parallel()
	d := &decider{engine: &Engine{Client: "acme"}, visitorID: "visitor", allocations: new([32]allocationEntry)}
	rules := make([]*rule, 200)
	for i := range rules {
		rules[i] = &rule{activity: i, activityID: fmt.Sprint(1000 + i)}
	}
	check := func(r *rule) {
		t.Helper()
		if got, want := d.allocation(r), allocationBucket("acme", r.activityID, "visitor"); got != want {
			t.Fatalf("activity %d: allocation %v, want %v", r.activity, got, want)
		}
	}
	for i := len(rules) - 1; i >= 0; i -= 3 {
		check(rules[i])
	}
	for _, r := range rules {
		check(r)
	}
	for i := len(rules) - 1; i >= 0; i-- {
		check(rules[i])
	}
}
