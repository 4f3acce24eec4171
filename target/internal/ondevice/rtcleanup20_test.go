package ondevice_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Red team: dump our decisions for RT_OD_ARTIFACT / RT_OD_REQUESTS (as
// ondevicediff.js takes them) to compare with Adobe's Node.js SDK.
func TestRTDumpDecisions(t *testing.T) {
	af, rf := os.Getenv("RT_OD_ARTIFACT"), os.Getenv("RT_OD_REQUESTS")
	if af == "" || rf == "" {
		t.Skip("RT_OD_ARTIFACT / RT_OD_REQUESTS not set")
	}
	a, err := os.ReadFile(af)
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.ReadFile(rf)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []json.RawMessage
	if err := json.Unmarshal(r, &reqs); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, req := range reqs {
		resp := decide(t, string(a), string(req))
		for _, k := range []string{"id", "requestId", "client", "status", "edgeHost", "notifications"} {
			delete(resp, k)
		}
		out, _ := json.Marshal(resp)
		fmt.Fprintln(&b, string(out))
	}
	os.WriteFile(os.Getenv("RT_OD_OUT"), []byte(b.String()), 0o644)
}
