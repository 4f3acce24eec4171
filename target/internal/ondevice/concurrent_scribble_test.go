package ondevice_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// scribble overwrites everything a caller can reach in a decision's
// response and notifications (not the request, which is the caller's).
func scribble(d *ondevice.Decision) {
	var anyv func(v any) any
	anyv = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = anyv(e)
			}
			x["scribbled"] = true
		case []any:
			for i, e := range x {
				x[i] = anyv(e)
			}
		}
		return "x"
	}
	opts := func(os []delivery.Option) {
		for i := range os {
			for j := range os[i].Content {
				os[i].Content[j] = ' '
			}
			os[i].EventToken = "x"
			if os[i].ResponseTokens != nil {
				anyv(os[i].ResponseTokens)
			}
		}
	}
	mbox := func(m *delivery.MboxResponse) {
		opts(m.Options)
		for i := range m.Metrics {
			m.Metrics[i].EventToken = "x"
		}
		if m.Trace != nil {
			anyv(m.Trace)
		}
		m.Name = "x"
	}
	r := d.Response
	if r.Execute != nil {
		for i := range r.Execute.Mboxes {
			mbox(&r.Execute.Mboxes[i])
		}
		if pl := r.Execute.PageLoad; pl != nil {
			opts(pl.Options)
			if pl.Trace != nil {
				anyv(pl.Trace)
			}
		}
	}
	if r.Prefetch != nil {
		for i := range r.Prefetch.Mboxes {
			mbox(&r.Prefetch.Mboxes[i].MboxResponse)
		}
		for i := range r.Prefetch.Views {
			opts(r.Prefetch.Views[i].Options)
			if r.Prefetch.Views[i].Trace != nil {
				anyv(r.Prefetch.Views[i].Trace)
			}
		}
	}
	for i := range d.Notifications {
		n := &d.Notifications[i]
		for j := range n.Tokens {
			n.Tokens[j] = "x"
		}
		n.Tokens = append(n.Tokens, "x")
		n.ID, n.ImpressionID = "x", "x"
		if n.Mbox != nil {
			n.Mbox.Name = "x"
		}
	}
}

// Concurrent decisions on one engine, each caller scribbling over its own
// response while the others decide: under -race, any memory a response
// shares with another decision (the block, the parameter memo, the
// artifact) is reported; every decision must also answer as the first one
// did, and no id may be given twice.
func TestConcurrentScribble(t *testing.T) {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(t, err)
	const context = `"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},"trace":{"authorizationToken":"tok"},
		"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
		"address":{"url":"https://www.example.com/products/shoes?color=red","referringUrl":"https://search.example.org/?q=shoes"},
		"geo":{"city":"SAN FRANCISCO","countryCode":"US","stateCode":"CA","latitude":37.75,"longitude":-122.4}}`
	body := `{` + context + `,"execute":{"pageLoad":{"parameters":{"foo":"bar"}},
			"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}},{"name":"mbox-urlcontains","index":2},{"name":"mbox-browsers","index":3,"parameters":{"foo":"bar"}}]},
			"prefetch":{"views":[{}],"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}}]}}`
	var n atomic.Int64
	var idsMu sync.Mutex
	ids := map[string]bool{}
	e := &ondevice.Engine{Client: "targettesting", NewID: func() string { return fmt.Sprint("one-", n.Add(1)) },
		NewIDs: func(dst []string) {
			for i := range dst {
				dst[i] = fmt.Sprint("many-", n.Add(1))
			}
		}}
	decideOne := func() ([]byte, *ondevice.Decision) {
		var req delivery.Request
		require.NoError(t, json.Unmarshal([]byte(body), &req))
		d, err := e.Decide(t.Context(), a, &req, ondevice.Options{})
		require.NoError(t, err)
		idsMu.Lock()
		for _, note := range d.Notifications {
			for _, id := range []string{note.ID, note.ImpressionID} {
				if ids[id] {
					t.Errorf("id %s given twice", id)
				}
				ids[id] = true
			}
		}
		idsMu.Unlock()
		// Ids and timestamps differ per decision: compare the rest.
		var view []any
		for _, m := range d.Response.Execute.Mboxes {
			view = append(view, m.Name, m.Options, m.Metrics)
		}
		view = append(view, d.Response.Execute.PageLoad.Options)
		for _, m := range d.Response.Prefetch.Mboxes {
			view = append(view, m.Name, m.Options, m.Metrics)
		}
		for _, v := range d.Response.Prefetch.Views {
			view = append(view, v.Name, v.Options, v.Metrics)
		}
		for _, note := range d.Notifications {
			view = append(view, note.Tokens, note.Mbox, note.Type)
		}
		out, err := json.Marshal(view)
		require.NoError(t, err)
		return out, d
	}
	want, d0 := decideOne()
	require.NotEmpty(t, d0.Notifications)
	scribble(d0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, d := decideOne()
				if string(got) != string(want) {
					t.Errorf("answer changed:\n%s\n%s", got, want)
					return
				}
				scribble(d)
			}
		})
	}
	wg.Wait()
}
