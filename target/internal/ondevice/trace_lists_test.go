package ondevice_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

func suiteArtifact(t testing.TB) *ondevice.Artifact {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(t, err)
	return a
}

func decideSuite(t testing.TB, a *ondevice.Artifact, text string) *ondevice.Decision {
	var req delivery.Request
	require.NoError(t, json.Unmarshal([]byte(text), &req))
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	e := &ondevice.Engine{Client: "targettesting", NewID: newID(), Now: func() time.Time { return now }}
	d, err := e.Decide(t.Context(), a, &req, ondevice.Options{SessionID: "s"})
	require.NoError(t, err)
	return d
}

// walkJSON calls list for every []any and obj for every map in v.
func walkJSON(v any, list func([]any), obj func(map[string]any)) {
	switch x := v.(type) {
	case []any:
		list(x)
		for _, e := range x {
			walkJSON(e, list, obj)
		}
	case map[string]any:
		obj(x)
		for _, e := range x {
			walkJSON(e, list, obj)
		}
	}
}

func decisionTraces(d *ondevice.Decision) []map[string]any {
	var out []map[string]any
	r := d.Response
	for _, part := range []*delivery.ExecuteResponse{r.Execute} {
		if part == nil {
			continue
		}
		for _, m := range part.Mboxes {
			out = append(out, m.Trace)
		}
		if part.PageLoad != nil {
			out = append(out, part.PageLoad.Trace)
		}
	}
	if p := r.Prefetch; p != nil {
		for _, m := range p.Mboxes {
			out = append(out, m.Trace)
		}
		for _, v := range p.Views {
			out = append(out, v.Trace)
		}
		if p.PageLoad != nil {
			out = append(out, p.PageLoad.Trace)
		}
	}
	return out
}

// TestTraceListsAreDisjoint: concurrent traced decisions kept while
// the collector runs; no two lists anywhere in any kept trace share room
// (backing array up to cap), no two traces share a map, and every
// decision's JSON is what it was when it was made.
func TestTraceListsAreDisjoint(t *testing.T) {
	a := suiteArtifact(t)
	req := `{` + traceGoldenContext + `,"execute":{"pageLoad":{"parameters":{"foo":"bar"}},
			"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}},{"name":"mbox-urlcontains","index":2},{"name":"mbox-browsers","index":3}]},
			"prefetch":{"views":[{}],"pageLoad":{},"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2,"parameters":{"foo":"bar"}}]}}`
	type kept struct {
		d    *ondevice.Decision
		json string
	}
	var mu sync.Mutex
	var all []kept
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var gcwg sync.WaitGroup
	gcwg.Add(1)
	go func() {
		defer gcwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 + g {
				d := decideSuite(t, a, req)
				b, err := json.Marshal(d)
				require.NoError(t, err)
				mu.Lock()
				all = append(all, kept{d, string(b)})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	gcwg.Wait()
	type span struct{ lo, hi uintptr }
	var spans []span
	maps := map[uintptr]bool{}
	for _, k := range all {
		b, err := json.Marshal(k.d)
		require.NoError(t, err)
		require.Equal(t, k.json, string(b))
		for _, tr := range decisionTraces(k.d) {
			walkJSON(tr, func(l []any) {
				if cap(l) > 0 {
					lo := uintptr(reflect.ValueOf(l).UnsafePointer())
					spans = append(spans, span{lo, lo + uintptr(cap(l))*16})
				}
			}, func(m map[string]any) {
				p := uintptr(reflect.ValueOf(m).UnsafePointer())
				require.False(t, maps[p], "a map is shared between trace parts")
				maps[p] = true
			})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo < spans[i-1].hi {
			t.Fatalf("lists overlap: %x-%x and %x-%x", spans[i-1].lo, spans[i-1].hi, spans[i].lo, spans[i].hi)
		}
	}
	t.Logf("%d decisions, %d lists, %d maps", len(all), len(spans), len(maps))
}

// TestTraceBoxedValuesCannotBeWritten: the boxed values in a trace (lists and
// the allocation, which points into the bucket table) cannot be set
// through reflect, and writing into an asserted list changes only it.
func TestTraceBoxedValuesCannotBeWritten(t *testing.T) {
	a := suiteArtifact(t)
	d := decideSuite(t, a, `{`+traceGoldenContext+`,"execute":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2}]}}`)
	tr := d.Response.Execute.Mboxes[0].Trace
	other, err := json.Marshal(d.Response.Execute.Mboxes[1].Trace)
	require.NoError(t, err)
	targets := tr["evaluatedCampaignTargets"].([]any)
	require.NotEmpty(t, targets)
	ctx := targets[0].(map[string]any)["context"].(map[string]any)
	alloc := ctx["allocation"]
	want := alloc.(float64)
	rv := reflect.ValueOf(alloc)
	require.False(t, rv.CanAddr())
	require.False(t, rv.CanSet())
	iv := reflect.ValueOf(&alloc).Elem()
	require.True(t, iv.CanSet())
	require.False(t, iv.Elem().CanSet())
	iv.Set(reflect.ValueOf(99.0)) // replaces the interface, not the table
	require.NoError(t, json.Unmarshal([]byte("7"), &alloc))
	d2 := decideSuite(t, a, `{`+traceGoldenContext+`,"execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}`)
	ctx2 := d2.Response.Execute.Mboxes[0].Trace["evaluatedCampaignTargets"].([]any)[0].(map[string]any)["context"].(map[string]any)
	require.Equal(t, want, ctx2["allocation"])
	require.Equal(t, want, ctx["allocation"])

	for _, k := range []string{"campaigns", "evaluatedCampaignTargets"} {
		lv := reflect.ValueOf(tr[k])
		require.False(t, lv.CanSet())
		l := tr[k].([]any)
		l = append(l, "X", "Y")
		l[0] = "Z"
		_ = l
	}
	again, err := json.Marshal(d.Response.Execute.Mboxes[1].Trace)
	require.NoError(t, err)
	require.Equal(t, string(other), string(again), "writing into one trace's lists changed another trace")
}

// TestKeptTraceHoldsOnlyItself: a caller that keeps one trace of a
// decision with many traced mboxes keeps none of the others' lists. Their
// lists were once carved from blocks shared by the whole decision, so one
// kept trace pinned every trace of it (about 2 MB for 40 mboxes). Each
// list of the other traces is watched through a weak pointer, which the
// collector clears once nothing holds the list's block.
func TestKeptTraceHoldsOnlyItself(t *testing.T) {
	a := suiteArtifact(t)
	var mboxes []string
	for i := range 40 {
		mboxes = append(mboxes, fmt.Sprintf(`{"name":"mbox-browsers","index":%d}`, i+1))
	}
	request := `{` + traceGoldenContext + `,"execute":{"mboxes":[` + strings.Join(mboxes, ",") + `]}}`
	kept, others := func() (map[string]any, []weak.Pointer[any]) {
		d := decideSuite(t, a, request)
		var others []weak.Pointer[any]
		for _, m := range d.Response.Execute.Mboxes[1:] {
			walkJSON(m.Trace, func(l []any) {
				if len(l) > 0 {
					others = append(others, weak.Make(&l[0]))
				}
			}, func(map[string]any) {})
		}
		return d.Response.Execute.Mboxes[0].Trace, others
	}()
	require.NotEmpty(t, others)
	want, err := json.Marshal(kept)
	require.NoError(t, err)
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, w := range others {
		if w.Value() != nil {
			alive++
		}
	}
	require.Zero(t, alive, "a kept trace holds %d of the %d lists of the decision's other traces", alive, len(others))
	got, err := json.Marshal(kept)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	runtime.KeepAlive(kept)
}

// BenchmarkKeptTraceHeap reports the heap a caller keeps per kept trace
// (bytes/trace, after GC) when it keeps only the first mbox trace of
// decisions with 40 traced mboxes: about 2 MB when the decision's traces
// shared their blocks, a few times the trace's JSON since.
func BenchmarkKeptTraceHeap(b *testing.B) {
	a := suiteArtifact(b)
	var mboxes []string
	for i := range 40 {
		mboxes = append(mboxes, fmt.Sprintf(`{"name":"mbox-browsers","index":%d}`, i+1))
	}
	request := `{` + traceGoldenContext + `,"execute":{"mboxes":[` + strings.Join(mboxes, ",") + `]}}`
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var keep []map[string]any
	for b.Loop() {
		keep = append(keep, decideSuite(b, a, request).Response.Execute.Mboxes[0].Trace)
	}
	js, err := json.Marshal(keep[0])
	require.NoError(b, err)
	n := len(keep)
	// The heap with the traces kept, less the heap once they are dropped.
	with := heap()
	runtime.KeepAlive(keep)
	keep = nil
	without := heap()
	b.ReportMetric(float64(int64(with-without))/float64(n), "bytes/trace")
	b.ReportMetric(float64(len(js)), "JSONbytes/trace")
}
