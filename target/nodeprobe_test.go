package target_test

// A probe that compares this client with Adobe's Node.js SDK 2.4.3 on
// given inputs, for the tests of parity_findings_test.go: compareWithNode
// decides each input (an artifact, a request, cookies) on-device with
// Adobe's SDK (testdata/nodeprobe/probe.js) and with this client, and
// lists every difference in what a caller receives: the whole response
// (ids, client, edgeHost included), cookies, response tokens, analytics
// details, remote mboxes and views, geo lookups and the bodies of the
// notifications sent. The differential test (ondevice_diff_test.go)
// generates its inputs and compares decisions; this probe takes hand-made
// inputs and compares everything. It needs TARGET_NODE_SDK_DIR and node,
// and skips without them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

type probeCase struct {
	name                       string
	artifact                   string // a suite artifact's name, or the artifact's JSON
	request                    string
	targetCookie, locationHint string
}

type probeTransport struct {
	mu   sync.Mutex
	geo  []string
	sent []map[string]any
}

func (d *probeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	answer := []byte(`{"status":200}`)
	d.mu.Lock()
	if strings.HasSuffix(r.URL.Path, "/v1/geo") {
		ip := r.Header.Get("X-Forwarded-For")
		d.geo = append(d.geo, ip)
		if ip != "" {
			answer = []byte(`{"x-geo-country-code":"US","x-geo-region-code":"CA","x-geo-city":"SAN FRANCISCO","x-geo-latitude":37.75,"x-geo-longitude":-122.4}`)
		} else {
			answer = []byte(`{"x-geo-country-code":"SERVERLAND"}`)
		}
	} else {
		var b any
		if json.Unmarshal(body, &b) != nil {
			b = string(body)
		}
		d.sent = append(d.sent, map[string]any{"url": r.URL.String(), "body": b})
	}
	d.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": []string{"application/json"}},
		Body: io.NopCloser(bytes.NewReader(answer)), Request: r}, nil
}

func (d *probeTransport) take() ([]string, []map[string]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, s := d.geo, d.sent
	if s == nil {
		s = []map[string]any{}
	}
	d.geo, d.sent = nil, nil
	return g, s
}

func (d *probeTransport) sentCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sent)
}

func loadProbeArtifact(t *testing.T, a string) []byte {
	if strings.HasPrefix(strings.TrimSpace(a), "{") {
		return []byte(a)
	}
	b, err := os.ReadFile(filepath.Join(suiteDir(t), "schema", "artifacts", a+".json"))
	if os.IsNotExist(err) {
		b, err = os.ReadFile(filepath.Join(suiteDir(t), "schema", a+".json"))
	}
	require.NoError(t, err)
	return b
}

var (
	probeUUID   = regexp.MustCompile(`[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}`)
	probeExpiry = regexp.MustCompile(`#\d{10}\b`)
	probeSDID   = regexp.MustCompile(`^[0-9A-F]{16}-[0-9A-F]{16}$`)
	probeURL    = regexp.MustCompile(`^https?://[^/]*(/[^?]*)\?.*$`)
)

// normalizeProbe replaces what is random or clock-dependent.
func normalizeProbe(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch k {
			case "timestamp", "localTime", "timeOffsetInMinutes", "requestTime":
				out[k] = "<t>"
			case "maxAge":
				out[k] = "<age>"
			case "analyticsDetails", "responseTokens", "mboxes", "views":
				if l, _ := e.([]any); e == nil || len(l) == 0 {
					continue // null, absent and [] alike at the top level (checked inside responses by the project)
				}
				out[k] = normalizeProbe(e)
			default:
				out[k] = normalizeProbe(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeProbe(e)
		}
		return out
	case string:
		if probeSDID.MatchString(x) {
			return "<sdid>"
		}
		x = probeURL.ReplaceAllString(x, "$1")
		return probeExpiry.ReplaceAllString(probeUUID.ReplaceAllString(x, "<uuid>"), "#<exp>")
	}
	return v
}

func viaJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return "marshal: " + err.Error()
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return "unmarshal: " + err.Error()
	}
	return out
}

// diffProbe lists the paths where a and b differ.
func diffProbe(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !ain:
				*out = append(*out, fmt.Sprintf("%s.%s: node absent, go %s", path, k, showProbe(bv)))
			case !bin:
				*out = append(*out, fmt.Sprintf("%s.%s: node %s, go absent", path, k, showProbe(av)))
			default:
				diffProbe(path+"."+k, av, bv, out)
			}
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			diffProbe(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], out)
		}
		return
	}
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	if !bytes.Equal(ab, bb) {
		*out = append(*out, fmt.Sprintf("%s: node %s, go %s", path, showProbe(a), showProbe(b)))
	}
}

func showProbe(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// compareWithNode decides the cases with both engines and returns, per case, the
// differences found (nil when none).
func compareWithNode(t *testing.T, cases []probeCase) [][]string {
	t.Helper()
	nodeModules := os.Getenv("TARGET_NODE_SDK_DIR")
	if nodeModules == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set")
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err)
	byArtifact := map[string][]int{}
	var order []string
	for i, c := range cases {
		if _, ok := byArtifact[c.artifact]; !ok {
			order = append(order, c.artifact)
		}
		byArtifact[c.artifact] = append(byArtifact[c.artifact], i)
	}
	out := make([][]string, len(cases))
	for _, a := range order {
		idx := byArtifact[a]
		art := loadProbeArtifact(t, a)
		var items []map[string]any
		for _, i := range idx {
			c := cases[i]
			var req any
			require.NoError(t, json.Unmarshal([]byte(cases[i].request), &req), c.name)
			items = append(items, map[string]any{"request": req, "targetCookie": c.targetCookie, "targetLocationHint": c.locationHint})
		}
		tmp := t.TempDir()
		af, rf := filepath.Join(tmp, "a.json"), filepath.Join(tmp, "r.json")
		require.NoError(t, os.WriteFile(af, art, 0o600))
		b, _ := json.Marshal(items)
		require.NoError(t, os.WriteFile(rf, b, 0o600))
		script, _ := filepath.Abs(filepath.Join("testdata", "nodeprobe", "probe.js"))
		cmd := exec.CommandContext(t.Context(), node, script, af, rf, "someClientId")
		cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err := cmd.Output()
		require.NoError(t, err, stderr.String())
		var nodeOut []map[string]any
		require.NoError(t, json.Unmarshal(raw, &nodeOut))

		tr := &probeTransport{}
		off := false
		c, err := target.NewClient(target.Config{
			Client: "someClientId", OrganizationID: "someOrgId", DecisioningMethod: target.OnDevice,
			TelemetryEnabled: &off, HTTPClient: &http.Client{Transport: tr},
			OnDevice: target.OnDeviceConfig{ArtifactPayload: art, PollingInterval: -1},
		})
		require.NoError(t, err)
		_, err = c.Ready().Await(t.Context())
		require.NoError(t, err)
		for j, i := range idx {
			n := nodeOut[j]
			got := probeClient(t, c, tr, cases[i], len(n["sent"].([]any)) > 0)
			want := map[string]any{}
			if e, ok := n["error"]; ok {
				want["error"] = e
			} else {
				for _, k := range []string{"response", "targetCookie", "targetLocationHintCookie", "responseTokens", "analyticsDetails", "trace"} {
					if n[k] != nil {
						want[k] = n[k]
					}
				}
				m, _ := n["meta"].(map[string]any)
				want["remote"] = map[string]any{"mboxes": m["remoteMboxes"], "views": m["remoteViews"]}
			}
			want["geoLookups"] = n["geoLookups"]
			want["sent"] = n["sent"]
			var d []string
			diffProbe("", normalizeProbe(want), normalizeProbe(got), &d)
			out[i] = d
		}
		require.NoError(t, c.Close(context.Background()))
	}
	return out
}

func probeClient(t *testing.T, c *target.Client, tr *probeTransport, rc probeCase, expectSent bool) map[string]any {
	var req target.DeliveryRequest
	got := map[string]any{}
	if err := json.Unmarshal([]byte(rc.request), &req); err != nil {
		got["error"] = "request: " + err.Error()
		g, s := tr.take()
		got["geoLookups"], got["sent"] = anyStrings(g), viaJSON(s)
		return got
	}
	r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "probe-session",
		TargetCookie: rc.targetCookie, TargetLocationHint: rc.locationHint}).Await(t.Context())
	if err != nil {
		got["error"] = err.Error()
	} else {
		// Wait for the notification either side sent.
		wait := expectSent
		if !wait {
			b, _ := json.Marshal(r.Response.Execute)
			wait = bytes.Contains(b, []byte(`"eventToken"`))
		}
		for deadline := time.Now().Add(3 * time.Second); wait && tr.sentCount() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(2 * time.Millisecond)
		got["response"] = viaJSON(r.Response)
		if r.TargetCookie != nil {
			got["targetCookie"] = viaJSON(r.TargetCookie)
		}
		if r.TargetLocationHintCookie != nil {
			got["targetLocationHintCookie"] = viaJSON(r.TargetLocationHintCookie)
		}
		got["responseTokens"] = viaJSON(r.ResponseTokens)
		got["analyticsDetails"] = viaJSON(r.AnalyticsDetails)
		if r.Trace != nil {
			got["trace"] = viaJSON(r.Trace)
		}
		got["remote"] = map[string]any{"mboxes": viaJSON(r.Meta.RemoteMboxes), "views": viaJSON(r.Meta.RemoteViews)}
	}
	g, s := tr.take()
	got["geoLookups"], got["sent"] = anyStrings(g), viaJSON(s)
	return got
}

func anyStrings(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
