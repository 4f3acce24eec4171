package ondevice_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// The options of one answer each have response tokens of their own: a
// caller writing into one option's map does not change its siblings'.
func TestResponseTokensNotSharedBySiblings(t *testing.T) {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		t.Skip("TARGET_SDK_TESTING_DIR is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	// Every rule answers with two options: its own first option twice.
	var doc any
	require.NoError(t, json.Unmarshal(data, &doc))
	var twice func(v any)
	twice = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if c, ok := x["consequence"].(map[string]any); ok {
				if opts, ok := c["options"].([]any); ok && len(opts) == 1 {
					c["options"] = append(opts, opts[0])
				}
			}
			for _, e := range x {
				twice(e)
			}
		case []any:
			for _, e := range x {
				twice(e)
			}
		}
	}
	twice(doc)
	data, err = json.Marshal(doc)
	require.NoError(t, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(t, err)
	body := `{"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},
		"context":{"channel":"web","address":{"url":"https://www.example.com/products/shoes?color=red"}},
		"execute":{"pageLoad":{"parameters":{"foo":"bar"}},"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}},{"name":"mbox-browsers","index":2}]},"prefetch":{"views":[{}]}}`
	var req delivery.Request
	require.NoError(t, json.Unmarshal([]byte(body), &req))
	e := &ondevice.Engine{Client: "targettesting", NewID: func() string { return "id" }, NewIDs: func(dst []string) {
		for i := range dst {
			dst[i] = "id"
		}
	}}
	d, err := e.Decide(t.Context(), a, &req, ondevice.Options{})
	require.NoError(t, err)
	lists := [][]delivery.Option{d.Response.Execute.PageLoad.Options}
	for _, m := range d.Response.Execute.Mboxes {
		lists = append(lists, m.Options)
	}
	for _, v := range d.Response.Prefetch.Views {
		lists = append(lists, v.Options)
	}
	checked := 0
	for _, opts := range lists {
		for i := 1; i < len(opts); i++ {
			if opts[0].ResponseTokens == nil || opts[i].ResponseTokens == nil {
				continue
			}
			opts[0].ResponseTokens["written.by.caller"] = true
			_, leaked := opts[i].ResponseTokens["written.by.caller"]
			require.False(t, leaked, "option %d sees what was written into option 0's response tokens", i)
			delete(opts[0].ResponseTokens, "written.by.caller")
			checked++
		}
	}
	require.NotZero(t, checked, "no answer with two options carrying response tokens: the test checks nothing")
}
