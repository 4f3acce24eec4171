package target_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestDifferentialAgainstNodeSDK decides the same generated requests with
// this engine and with Adobe's Node.js SDK (@adobe/target-nodejs-sdk,
// on-device, artifactPayload, no network) for every artifact of the
// conformance suite, and requires the same decisions: the same mboxes,
// views and page-load options, contents, event tokens, metrics and
// response tokens. Ids, request ids and traces are left out (they are
// random or timed).
//
// It needs TARGET_SDK_TESTING_DIR and TARGET_NODE_SDK_DIR, a node_modules
// directory holding the SDK, and node on PATH:
//
//	npm install --prefix /tmp/nodesdk @adobe/target-nodejs-sdk@2.4.3
//	TARGET_NODE_SDK_DIR=/tmp/nodesdk/node_modules go test ./target -run Differential
//
// Requests always carry geo data, so that neither engine looks geo up.
func TestDifferentialAgainstNodeSDK(t *testing.T) {
	t.Parallel()
	dir := suiteDir(t)
	nodeModules := os.Getenv("TARGET_NODE_SDK_DIR")
	if nodeModules == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set; install @adobe/target-nodejs-sdk@2.4.3 with npm and point it at the node_modules directory to compare with Adobe's engine")
	}
	_, err := os.Stat(filepath.Join(nodeModules, "@adobe", "target-nodejs-sdk", "package.json"))
	require.NoError(t, err, "TARGET_NODE_SDK_DIR holds no @adobe/target-nodejs-sdk")
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed for the differential test")

	artifacts, err := filepath.Glob(filepath.Join(dir, "schema", "artifacts", "*.json"))
	require.NoError(t, err)
	artifacts = append(artifacts, filepath.Join(dir, "schema", "artifact.json"))
	var total int
	var withContent atomic.Int64
	t.Cleanup(func() {
		// The comparison must be about content, not about empty answers.
		require.Greater(t, withContent.Load(), int64(total/2), "too few requests got content")
	})
	for _, file := range artifacts {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		if target.ParseArtifact(data) != nil {
			continue // blank and unsupported artifacts: nothing to decide
		}
		requests := generateRequests(t, data, 120, uint64(len(name)))
		total += len(requests)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			withContent.Add(int64(compareWithNode(t, node, nodeModules, file, data, requests)))
		})
	}
	t.Logf("%d generated requests", total)
}

const diffClient = "someClientId"

// compareWithNode returns how many requests got content.
func compareWithNode(t *testing.T, node, nodeModules, artifactFile string, artifact []byte, requests []map[string]any) int {
	reqFile := filepath.Join(t.TempDir(), "requests.json")
	b, err := json.Marshal(requests)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(reqFile, b, 0o600))
	script, err := filepath.Abs(filepath.Join("testdata", "nodediff.js"))
	require.NoError(t, err)

	cmd := exec.CommandContext(t.Context(), node, script, artifactFile, reqFile, diffClient)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s", stderr.String())
	var nodeResponses []any
	require.NoError(t, json.Unmarshal(out, &nodeResponses))
	require.Len(t, nodeResponses, len(requests))

	mismatches, withContent := 0, 0
	for i, req := range requests {
		reqJSON, err := json.Marshal(req)
		require.NoError(t, err)
		cfg := target.EngineConfig{Client: diffClient, OrganizationID: "someOrgId", Artifact: artifact}
		goResp, _, err := target.Decide(t.Context(), cfg, reqJSON, "diff-session", "")
		require.NoError(t, err)
		var goAny any
		require.NoError(t, json.Unmarshal(goResp, &goAny))
		want, got := decisionsOf(nodeResponses[i]), decisionsOf(goAny)
		if w, _ := json.Marshal(want); bytes.Contains(w, []byte(`"options"`)) {
			withContent++
		}
		if !equalJSON(want, got) {
			mismatches++
			if mismatches <= 3 {
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				t.Errorf("request %d differs:\nrequest: %s\nnode: %s\ngo:   %s", i, reqJSON, w, g)
			}
		}
	}
	require.Zero(t, mismatches, "of %d requests", len(requests))
	t.Logf("%d of %d requests decided with content", withContent, len(requests))
	return withContent
}

// decisionsOf keeps what a decision decides: status, execute and prefetch,
// without traces, and with empty lists and nulls dropped (the Node SDK
// writes "views": [] where the Go models leave the list out).
func decisionsOf(resp any) any {
	m, ok := resp.(map[string]any)
	if !ok {
		return resp
	}
	if e, ok := m["error"]; ok {
		return map[string]any{"error": e}
	}
	return prune(map[string]any{"status": m["status"], "execute": m["execute"], "prefetch": m["prefetch"]})
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "trace" {
				continue
			}
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = prune(e)
		}
		return out
	}
	return v
}

// generateRequests makes n Delivery requests aimed at the artifact: its
// mboxes and views (and ones it does not have), parameters and page URLs
// taken from its conditions, with varied visitors and user agents.
func generateRequests(t *testing.T, artifact []byte, n int, seed uint64) []map[string]any {
	t.Helper()
	var a struct {
		GlobalMbox string `json:"globalMbox"`
		Rules      struct {
			Mboxes map[string][]struct {
				Condition any `json:"condition"`
			} `json:"mboxes"`
			Views map[string][]struct {
				Condition any `json:"condition"`
			} `json:"views"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(artifact, &a))
	var mboxes, views []string
	params := map[string]bool{}
	var strs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "var" {
					if p, ok := e.(string); ok && strings.HasPrefix(p, "mbox.") {
						params[strings.TrimSuffix(strings.TrimPrefix(p, "mbox."), "_lc")] = true
					}
					continue // a path, not a value to send
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			strs = append(strs, x)
		}
	}
	for name, rules := range a.Rules.Mboxes {
		mboxes = append(mboxes, name)
		for _, r := range rules {
			walk(r.Condition)
		}
	}
	for name, rules := range a.Rules.Views {
		views = append(views, name)
		for _, r := range rules {
			walk(r.Condition)
		}
	}
	sort.Strings(mboxes)
	sort.Strings(views)
	slices.Sort(strs)
	strs = slices.Compact(strs)
	paramNames := make([]string, 0, len(params))
	for k := range params {
		paramNames = append(paramNames, k)
	}
	sort.Strings(paramNames)
	mboxes = append(mboxes, "no-such-mbox")

	var domains []string
	for _, s := range strs {
		if strings.Contains(s, ".") && !strings.ContainsAny(s, " /") {
			domains = append(domains, s)
		}
	}
	urls := []string{"http://local-target-test:8080/", "http://local-target-test/home?bar=true#hello", "https://www.adobe.com/products?x=1", ""}
	for _, d := range domains {
		urls = append(urls, "https://"+d+"/", "https://test."+d+"/page?implementation=psl")
	}
	agents := []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:73.0) Gecko/20100101 Firefox/73.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0.1",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1",
		"curl/8.0",
	}
	geos := []map[string]any{
		{"city": "SAN FRANCISCO", "countryCode": "US", "stateCode": "CA", "latitude": 37.75, "longitude": -122.4},
		{"city": "VANCOUVER", "countryCode": "CANADA", "stateCode": "BC", "latitude": 49.28, "longitude": -123.12},
		{"countryCode": "RO"},
	}

	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	hex := func(k int) string {
		var b strings.Builder
		for range k {
			fmt.Fprintf(&b, "%x", rng.IntN(16))
		}
		return b.String()
	}
	mboxRequest := func(index int) map[string]any {
		m := map[string]any{"name": pick(mboxes), "index": index}
		if len(paramNames) > 0 && rng.IntN(3) > 0 {
			p := map[string]any{}
			for range 1 + rng.IntN(3) {
				v := pick(strs)
				if rng.IntN(4) == 0 {
					v = strings.ToUpper(v)
				}
				p[pick(paramNames)] = v
			}
			m["parameters"] = p
		}
		if m["parameters"] == nil {
			delete(m, "parameters")
		}
		if rng.IntN(8) == 0 {
			m["address"] = map[string]any{"url": pick(urls)}
		}
		return m
	}

	out := make([]map[string]any, 0, n)
	for range n {
		id := map[string]any{}
		switch rng.IntN(4) {
		case 0:
			id["marketingCloudVisitorId"] = fmt.Sprintf("%038d", rng.Uint64())
		case 1:
			id["thirdPartyId"] = "tp-" + hex(12)
		default:
			tnt := hex(32)
			if rng.IntN(2) == 0 {
				tnt += ".28_0"
			}
			id["tntId"] = tnt
		}
		ctx := map[string]any{
			"channel":   "web",
			"userAgent": pick(agents),
			"address":   map[string]any{"url": pick(urls), "referringUrl": pick(urls)},
			"geo":       geos[rng.IntN(len(geos))],
		}
		req := map[string]any{"id": id, "context": ctx}
		if rng.IntN(2) == 0 {
			ex := map[string]any{"mboxes": []any{mboxRequest(1)}}
			if rng.IntN(4) == 0 {
				pl := map[string]any{}
				if p, ok := mboxRequest(0)["parameters"]; ok {
					pl["parameters"] = p
				}
				ex["pageLoad"] = pl
			}
			req["execute"] = ex
		}
		if _, ok := req["execute"]; !ok || rng.IntN(2) == 0 {
			pf := map[string]any{"mboxes": []any{mboxRequest(2), mboxRequest(3)}}
			if len(views) > 0 && rng.IntN(2) == 0 {
				v := map[string]any{}
				if rng.IntN(2) == 0 {
					v["name"] = pick(append(views, "no-such-view"))
				}
				pf["views"] = []any{v}
			}
			if rng.IntN(5) == 0 {
				pf["pageLoad"] = map[string]any{}
			}
			req["prefetch"] = pf
		}
		out = append(out, req)
	}
	return out
}
