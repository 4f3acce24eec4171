package ondevice_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// BenchmarkColdParams decides an mbox whose parameters carry a value
// new on every decision (a session or order id, say), with the other
// memos warm: what the parameter memo costs when it never hits.
func BenchmarkColdParams(b *testing.B) {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	if dir == "" {
		b.Skip("TARGET_SDK_TESTING_DIR is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(b, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(b, err)
	const body = `{"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},
		"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
		"address":{"url":"https://www.example.com/products/shoes?color=red","referringUrl":"https://search.example.org/?q=shoes"}},
		"execute":{"mboxes":[{"name":"mbox-params","index":1,"parameters":{"foo":"bar"}}]}}`
	var req delivery.Request
	require.NoError(b, json.Unmarshal([]byte(body), &req))
	reqs := make([]*delivery.Request, 3*4096)
	for i := range reqs {
		r := req
		ex := *req.Execute
		m := ex.Mboxes[0]
		m.Parameters = delivery.Parameters{"foo": "bar", "session": fmt.Sprintf("s%08d", i)}
		ex.Mboxes = []delivery.MboxRequest{m}
		r.Execute = &ex
		reqs[i] = &r
	}
	e := &ondevice.Engine{Client: "targettesting", NewID: func() string { return "id" }}
	for _, cold := range []bool{false, true} {
		b.Run(fmt.Sprintf("cold=%v", cold), func(b *testing.B) {
			_, err := e.Decide(b.Context(), a, reqs[0], ondevice.Options{})
			require.NoError(b, err)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if cold {
					i++
				}
				if _, err := e.Decide(b.Context(), a, reqs[i%len(reqs)], ondevice.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
