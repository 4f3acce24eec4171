package ondevice_test

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

func rtArtifact(t testing.TB) *ondevice.Artifact {
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

func rtDecide(t testing.TB, a *ondevice.Artifact, text string) *ondevice.Decision {
	var req delivery.Request
	require.NoError(t, json.Unmarshal([]byte(text), &req))
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	e := &ondevice.Engine{Client: "targettesting", NewID: newID(), Now: func() time.Time { return now }}
	d, err := e.Decide(t.Context(), a, &req, ondevice.Options{SessionID: "s"})
	require.NoError(t, err)
	return d
}

// rtWalk calls list for every []any and obj for every map in v.
func rtWalk(v any, list func([]any), obj func(map[string]any)) {
	switch x := v.(type) {
	case []any:
		list(x)
		for _, e := range x {
			rtWalk(e, list, obj)
		}
	case map[string]any:
		obj(x)
		for _, e := range x {
			rtWalk(e, list, obj)
		}
	}
}

func rtTraces(d *ondevice.Decision) []map[string]any {
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

// TestRedTeamTraceListsDisjoint: concurrent traced decisions kept while
// the collector runs; no two lists anywhere in any kept trace share room
// (backing array up to cap), no two traces share a map, and every
// decision's JSON is what it was when it was made.
func TestRedTeamTraceListsDisjoint(t *testing.T) {
	a := rtArtifact(t)
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
				d := rtDecide(t, a, req)
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
		for _, tr := range rtTraces(k.d) {
			rtWalk(tr, func(l []any) {
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

// TestRedTeamReflectCannotWrite: the boxed values in a trace (lists and
// the allocation, which points into the bucket table) cannot be set
// through reflect, and writing into an asserted list changes only it.
func TestRedTeamReflectCannotWrite(t *testing.T) {
	a := rtArtifact(t)
	d := rtDecide(t, a, `{`+traceGoldenContext+`,"execute":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2}]}}`)
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
	d2 := rtDecide(t, a, `{`+traceGoldenContext+`,"execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}`)
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

// TestRedTeamOneTraceKeepsOthers: a caller that keeps only the trace of
// the first mbox of a request with many mboxes. Logs the heap kept.
func TestRedTeamOneTraceKeepsOthers(t *testing.T) {
	t.Skip("red team: reproduces finding 2 (fails on odperf5, passes on odperf4)")
	a := rtArtifact(t)
	s := ""
	for i := range 40 {
		if i > 0 {
			s += ","
		}
		s += `{"name":"mbox-browsers","index":` + string(rune('0'+i%10)) + `}`
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var keep []map[string]any
	before := heap()
	for range 50 {
		d := rtDecide(t, a, `{`+traceGoldenContext+`,"execute":{"mboxes":[`+s+`]}}`)
		keep = append(keep, d.Response.Execute.Mboxes[0].Trace)
	}
	after := heap()
	b, _ := json.Marshal(keep[0])
	per := int64(after-before) / int64(len(keep))
	t.Logf("kept %d first-mbox traces (%d bytes of JSON each): %d bytes of heap each", len(keep), len(b), per)
	require.Less(t, per, int64(20*len(b)), "one kept trace holds the decision's other traces")
	runtime.KeepAlive(keep)
}
