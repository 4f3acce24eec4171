package ondevice

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestParamsMemoRetained fills the parameter memo with the largest sets
// it remembers (16 parameters, keys near maxParamsMemoKey) and checks the
// heap it keeps against its budget, and paramsSetCost against the heap
// measured per set. (Parameter values stay in the memo after their
// decisions, as paramsMemo's doc says: the test logs it.)
func TestParamsMemoRetained(t *testing.T) {
	forgetParams()
	t.Cleanup(forgetParams)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// 16 names of 12 bytes and values of 12 bytes: 16*(1+12+1+12) = 416
	// bytes of key, under maxParamsMemoKey.
	for i := range 4095 {
		params := map[string]string{}
		for j := range 16 {
			params[fmt.Sprintf("name%08d", j)] = fmt.Sprintf("SECRET%06d", i%1000000)[:6] + fmt.Sprintf("%02d%04d", j, i%10000)
		}
		sharedParamsContext(params)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("parameter memo holds %.1f MB for %d sets", float64(held)/(1<<20), len(paramsMemo.m))
	found := false
	for k := range paramsMemo.m {
		if strings.Contains(k, "SECRET") {
			found = true
			break
		}
	}
	t.Logf("parameter values kept after the decisions: %v", found)
	if held > 2*paramsMemoBudget {
		t.Errorf("memo holds %d bytes, more than twice its budget of %d", held, paramsMemoBudget)
	}
	// paramsSetCost must not underestimate what a set keeps, or the
	// budget would not bound the heap.
	n := len(paramsMemo.m)
	var key int
	for k := range paramsMemo.m {
		key = len(k)
		break
	}
	if per, est := held/int64(n), paramsSetCost(16, key); per > int64(est) {
		t.Errorf("a set of 16 parameters holds %d bytes, paramsSetCost says %d", per, est)
	} else {
		t.Logf("a set of 16 parameters holds %d bytes, paramsSetCost says %d", per, est)
	}
}

// forgetParams empties the process-wide parameter memo.
func forgetParams() {
	paramsMemo.mu.Lock()
	clear(paramsMemo.m)
	paramsMemo.bytes = 0
	paramsMemo.mu.Unlock()
}

// TestParamsMemoNested asks for contexts of dotted names, each of which
// unflattens into a chain of nested maps (a name under maxParamsMemoKey
// would keep far more than its own bytes): the memo keeps none of them.
func TestParamsMemoNested(t *testing.T) {
	forgetParams()
	t.Cleanup(forgetParams)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 1000 {
		name := fmt.Sprintf("%04d", i) + strings.Repeat(".a", 240)
		sharedParamsContext(map[string]string{name: ""})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("parameter memo holds %.1f MB for %d sets of one %d-byte name", float64(held)/(1<<20), len(paramsMemo.m), 4+480)
	if held > 4<<20 || len(paramsMemo.m) != 0 {
		t.Errorf("memo holds %d bytes in %d sets", held, len(paramsMemo.m))
	}
}
