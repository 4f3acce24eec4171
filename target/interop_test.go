package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/targettest"
)

// The interoperability tests run Adobe's Node.js SDK, pinned in
// testdata/node, against the local edge: once against the standalone edge
// (cmd/edge), to show that Adobe's client is served and Adobe's parser reads
// the answers, and once side by side with this package's client, to show
// that both put the same request on the wire.
//
// They need Node.js and `npm ci --prefix target/testdata/node`. Without
// them they skip, so that `go test ./...` passes on a machine with only Go;
// with TARGET_INTEROP=1 (set by .ci/run) they fail instead.

const (
	nodeSDKVersion = "2.4.3"
	nodeDir        = "testdata/node"
	interopHowTo   = "install Adobe's Node.js SDK with `npm ci --prefix target/testdata/node` " +
		"(Node.js 18 or later), then run `TARGET_INTEROP=1 go test ./target -run Interop`"
)

// requireNodeSDK returns the path of node. It skips the test when Node.js
// or the SDK is missing, or fails it when TARGET_INTEROP=1.
func requireNodeSDK(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv("TARGET_INTEROP") == "1" {
			t.Fatalf("TARGET_INTEROP=1 but %s: %s", why, interopHowTo)
		}
		t.Skipf("skipping the Node.js interoperability test: %s; to run it, %s", why, interopHowTo)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	b, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "@adobe", "target-nodejs-sdk", "package.json"))
	if err != nil {
		missing("@adobe/target-nodejs-sdk is not installed in target/testdata/node")
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version != nodeSDKVersion {
		missing(fmt.Sprintf("target/testdata/node has @adobe/target-nodejs-sdk %q, not %s", pkg.Version, nodeSDKVersion))
	}
	return node
}

// nodeRun is the input of testdata/node/interop.js.
type nodeRun struct {
	Config   map[string]any `json:"config"`
	Redirect string         `json:"redirect,omitempty"`
	Calls    []nodeCall     `json:"calls"`
	// env is added to node's environment.
	env []string
}

type nodeCall struct {
	Call       string         `json:"call"`
	Options    map[string]any `json:"options,omitempty"`
	MboxNames  []string       `json:"mboxNames,omitempty"`
	Config     map[string]any `json:"config,omitempty"`
	SameClient bool           `json:"sameClient,omitempty"`
	// Visitor names the Visitor instance the call shares with the other
	// calls that name it (the Node SDK's visitor option).
	Visitor string `json:"visitor,omitempty"`
	// PreviousSDID makes the request carry the supplemental data id the
	// previous call sent.
	PreviousSDID bool `json:"previousSDID,omitempty"`
}

// nodeOutput is the output of interop.js: a result per call, every request
// the SDK handed to its fetch function, and what it logged as errors.
type nodeOutput struct {
	Results []struct {
		OK    bool            `json:"ok"`
		Error string          `json:"error"`
		Value json.RawMessage `json:"value"`
	} `json:"results"`
	Requests []nodeRequest `json:"requests"`
	ErrorLog []struct {
		Call    int    `json:"call"`
		Message string `json:"message"`
	} `json:"errorLog"`
}

type nodeRequest struct {
	Call         int               `json:"call"`
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	Status       int               `json:"status"`
	ResponseBody string            `json:"responseBody"`
}

// nodeResult is the Node SDK's result of getOffers and sendNotifications.
type nodeResult struct {
	Response                 json.RawMessage            `json:"response"`
	TargetCookie             *target.Cookie             `json:"targetCookie"`
	TargetLocationHintCookie *target.Cookie             `json:"targetLocationHintCookie"`
	AnalyticsDetails         []target.AnalyticsResponse `json:"analyticsDetails"`
	ResponseTokens           []map[string]any           `json:"responseTokens"`
	Trace                    []map[string]any           `json:"trace"`
	Meta                     struct {
		DecisioningMethod string `json:"decisioningMethod"`
	} `json:"meta"`
}

// delivery decodes the response as the Node SDK parsed it.
func (r nodeResult) delivery(t *testing.T) target.DeliveryResponse {
	t.Helper()
	var dr target.DeliveryResponse
	require.NoError(t, json.Unmarshal(r.Response, &dr))
	return dr
}

// runNode runs interop.js with in, within a bounded time, and requires
// every call to succeed without an error in the SDK's log.
func runNode(t *testing.T, node string, in nodeRun) nodeOutput {
	t.Helper()
	out := runNodeAllowingErrors(t, node, in)
	for i, r := range out.Results {
		require.True(t, r.OK, "Node SDK call %d (%s) failed: %s", i, in.Calls[i].Call, r.Error)
	}
	require.Empty(t, out.ErrorLog, "the Node SDK logged errors")
	return out
}

// runNodeAllowingErrors runs interop.js with in, within a bounded time.
func runNodeAllowingErrors(t *testing.T, node string, in nodeRun) nodeOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	input, err := json.Marshal(in)
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, node, "interop.js")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), in.env...)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Run(), "node interop.js: %s", stderr.String())

	var out nodeOutput
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "output of interop.js: %s", stdout.String())
	require.Len(t, out.Results, len(in.Calls))
	return out
}

// offersResult decodes result i of out as a getOffers/sendNotifications
// result.
func (out nodeOutput) offersResult(t *testing.T, i int) nodeResult {
	t.Helper()
	var r nodeResult
	require.NoError(t, json.Unmarshal(out.Results[i].Value, &r))
	return r
}

// nodeConfig is the Node SDK's configuration for an edge at addr
// (host:port) over plain HTTP.
func nodeConfig(addr string) map[string]any {
	return map[string]any{
		"client":         targettest.DefaultClient,
		"organizationId": targettest.DefaultOrganizationID,
		"serverDomain":   addr,
		"secure":         false,
		"timeout":        5000,
	}
}

// interopOffers is what the edges of the interoperability tests answer.
var interopOffers = targettest.Offers{
	Mboxes: map[string]targettest.Offer{
		"hero": {
			Options: []target.Option{{
				Type: target.OptionTypeHTML, Content: json.RawMessage(`"<h1>Welcome</h1>"`),
				ResponseTokens: map[string]any{"activity.id": "4711", "experience.name": "B"},
			}},
			Analytics: &target.AnalyticsResponse{Payload: &target.AnalyticsPayload{PE: "tnt", TNTA: "4711:1:0|2"}},
		},
		"config": {Options: []target.Option{{
			Type: target.OptionTypeJSON, Content: json.RawMessage(`{"theme":"dark","limit":3}`),
		}}},
		"promo": {
			Options: []target.Option{{
				Type: target.OptionTypeJSON, Content: json.RawMessage(`{"discount":10,"theme":"light"}`), EventToken: "promo-display-token",
			}},
			Metrics: []target.Metric{{Type: target.MetricTypeClick, Selector: "#buy", EventToken: "promo-click-token"}},
		},
	},
	Views: map[string]targettest.Offer{
		"home": {Options: []target.Option{{
			Type: target.OptionTypeActions, Content: json.RawMessage(`[{"type":"setHtml","selector":"#title","content":"Hello"}]`),
		}}},
	},
	PageLoad: &targettest.Offer{Options: []target.Option{{
		Type: target.OptionTypeJSON, Content: json.RawMessage(`{"banner":true}`),
	}}},
}

// edgeProcess is a running standalone edge (cmd/edge).
type edgeProcess struct {
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	log  *syncBuffer
	stop func() error
}

// buildEdge builds cmd/edge into a temporary directory.
func buildEdge(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the standalone edge: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "edge")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./targettest/cmd/edge").CombinedOutput()
	require.NoError(t, err, "go build ./targettest/cmd/edge: %s", out)
	return bin
}

// startEdge runs the standalone edge bin on a free loopback port with args
// added, verbose so that its log names every request. It is stopped
// (SIGINT, then killed after 5s) by Stop or at the end of the test.
func startEdge(t *testing.T, bin string, args ...string) *edgeProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0", "-v"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	firstLine := &lineWriter{line: make(chan string, 1)}
	e := &edgeProcess{log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = firstLine, e.log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting the edge: %v", err)
	}
	e.stop = sync.OnceValue(func() error {
		cancel()
		err := cmd.Wait()
		if errors.Is(err, context.Canceled) {
			err = nil // it exited on SIGINT, as asked
		}
		return err
	})
	t.Cleanup(func() { _ = e.stop() })

	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	select {
	case line := <-firstLine.line:
		u, err := url.Parse(line)
		require.NoError(t, err, "first line of the edge: %q", line)
		e.URL, e.Addr = line, u.Host
	case <-timer.C:
		_ = e.stop()
		t.Fatalf("the edge printed no URL within 15s; its log:\n%s", e.log)
	}
	return e
}

// Stop stops the edge and returns the requests its log names.
func (e *edgeProcess) Stop(t *testing.T) []edgeLogLine {
	t.Helper()
	require.NoError(t, e.stop(), "edge log:\n%s", e.log)
	var lines []edgeLogLine
	for _, l := range strings.Split(e.log.String(), "\n") {
		kv := parseLogfmt(l)
		if kv["msg"] != "request" {
			continue
		}
		status, err := strconv.Atoi(kv["status"])
		require.NoError(t, err, "edge log line %q", l)
		lines = append(lines, edgeLogLine{Method: kv["method"], Host: kv["host"], Path: kv["path"], Status: status, Message: kv["message"]})
	}
	return lines
}

// edgeLogLine is one request as the edge's log names it.
type edgeLogLine struct {
	Method, Host, Path string
	Status             int
	Message            string
}

var logfmtPair = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// parseLogfmt reads the key=value pairs of a log/slog text line.
func parseLogfmt(line string) map[string]string {
	kv := map[string]string{}
	for _, m := range logfmtPair.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if s, err := strconv.Unquote(v); err == nil {
			v = s
		}
		kv[m[1]] = v
	}
	return kv
}

// lineWriter sends the first line written to it on line and discards the
// rest.
type lineWriter struct {
	buf  []byte
	sent bool
	line chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.sent = true
		w.line <- strings.TrimSpace(string(w.buf[:i]))
	}
	return len(p), nil
}

// writeOffers writes offers as the standalone edge's -offers file.
func writeOffers(t *testing.T, offers targettest.Offers) string {
	t.Helper()
	b, err := json.Marshal(offers)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "offers.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// requireStrictRequest requires body to be a Delivery request that this
// package's models hold without an unknown field.
func requireStrictRequest(t *testing.T, body string) target.DeliveryRequest {
	t.Helper()
	var req target.DeliveryRequest
	require.NoError(t, delivery.UnmarshalRequestStrict([]byte(body), &req), "request body %s", body)
	return req
}

// Adobe's Node.js SDK against the standalone edge: every call is accepted,
// and what Adobe's parser reads is what the edge was configured to answer,
// field for field.
func TestInteropNodeSDKAgainstStandaloneEdge(t *testing.T) {
	t.Parallel()
	node := requireNodeSDK(t)
	bin := buildEdge(t)
	offersFile := writeOffers(t, interopOffers)

	t.Run("no-cluster", func(t *testing.T) {
		t.Parallel()
		edge := startEdge(t, bin, "-no-cluster", "-offers", offersFile)
		const session = "interop-session-1"
		first := runNode(t, node, nodeRun{Config: nodeConfig(edge.Addr), Calls: []nodeCall{
			{Call: "getOffers", Options: map[string]any{
				"sessionId": session,
				"request": map[string]any{
					"context": map[string]any{"channel": "web", "address": map[string]any{"url": "https://shop.example/"}},
					"execute": map[string]any{
						"pageLoad": map[string]any{"parameters": map[string]any{"page": "home"}},
						"mboxes": []any{
							map[string]any{"name": "hero", "index": 0},
							map[string]any{"name": "config", "index": 1, "parameters": map[string]any{"size": "L"}},
						},
					},
					"prefetch": map[string]any{
						"pageLoad": map[string]any{},
						"mboxes":   []any{map[string]any{"name": "promo", "index": 0}},
						"views":    []any{map[string]any{"name": "home"}},
					},
					"experienceCloud": map[string]any{"analytics": map[string]any{"logging": "client_side"}},
					"trace":           map[string]any{"authorizationToken": "trace-token"},
				},
			}},
			{Call: "getAttributes", MboxNames: []string{"config", "promo"}, Options: map[string]any{
				"sessionId": session,
				"request": map[string]any{
					"context":  map[string]any{"channel": "web"},
					"prefetch": map[string]any{"mboxes": []any{map[string]any{"name": "promo", "index": 0}}},
				},
			}},
		}})

		offers := first.offersResult(t, 0)
		dr := offers.delivery(t)
		assert.Equal(t, "server-side", offers.Meta.DecisioningMethod)
		require.NotNil(t, dr.ID)
		tntID := dr.ID.TntID
		assert.Regexp(t, `^[0-9a-f-]{36}$`, tntID, "a cluster-free tntId")

		// Executed content comes without event tokens, prefetched content
		// with them, each as configured.
		require.NotNil(t, dr.Execute)
		require.NotNil(t, dr.Execute.PageLoad)
		assertOptions(t, interopOffers.PageLoad.Options, dr.Execute.PageLoad.Options, false)
		require.Len(t, dr.Execute.Mboxes, 2)
		for i, name := range []string{"hero", "config"} {
			assert.Equal(t, name, dr.Execute.Mboxes[i].Name)
			assert.Equal(t, i, dr.Execute.Mboxes[i].Index)
			assertOptions(t, interopOffers.Mboxes[name].Options, dr.Execute.Mboxes[i].Options, false)
		}
		require.NotNil(t, dr.Prefetch)
		require.NotNil(t, dr.Prefetch.PageLoad)
		assertOptions(t, interopOffers.PageLoad.Options, dr.Prefetch.PageLoad.Options, true)
		require.Len(t, dr.Prefetch.Mboxes, 1)
		promo := dr.Prefetch.Mboxes[0]
		assert.Equal(t, "promo", promo.Name)
		assertOptions(t, interopOffers.Mboxes["promo"].Options, promo.Options, true)
		assert.Equal(t, "promo-display-token", promo.Options[0].EventToken)
		require.Len(t, promo.Metrics, 1)
		assert.Equal(t, interopOffers.Mboxes["promo"].Metrics[0], promo.Metrics[0])
		require.Len(t, dr.Prefetch.Views, 1)
		home := dr.Prefetch.Views[0]
		assert.Equal(t, "home", home.Name)
		assertOptions(t, interopOffers.Views["home"].Options, home.Options, true)

		// The envelope Adobe's SDK builds from the answer.
		require.NotNil(t, offers.TargetCookie)
		assert.Equal(t, target.MboxCookie, offers.TargetCookie.Name)
		assert.Regexp(t, `^session#`+session+`#\d+\|PC#`+tntID+`#\d+$`, offers.TargetCookie.Value)
		assert.InDelta(t, 63244800, offers.TargetCookie.MaxAge, 2)
		assert.Nil(t, offers.TargetLocationHintCookie, "an edge without cluster names none")
		// Adobe's SDK lists a null for every mbox and view of a list that
		// has no analytics payload (it flattens the undefined of each); the
		// Go client's Response.AnalyticsDetails lists the payloads only.
		var payloads []target.AnalyticsResponse
		for _, a := range offers.AnalyticsDetails {
			if a.Payload != nil {
				payloads = append(payloads, a)
			}
		}
		assert.Equal(t, []target.AnalyticsResponse{*interopOffers.Mboxes["hero"].Analytics}, payloads)
		assert.Equal(t, []map[string]any{interopOffers.Mboxes["hero"].Options[0].ResponseTokens}, offers.ResponseTokens)
		assert.NotEmpty(t, offers.Trace, "a trace was asked for")

		var attrs struct {
			Attributes map[string]map[string]any `json:"attributes"`
		}
		require.NoError(t, json.Unmarshal(first.Results[1].Value, &attrs))
		assert.Equal(t, map[string]map[string]any{
			"config": {"theme": "dark", "limit": 3.0},
			"promo":  {"discount": 10.0, "theme": "light"},
		}, attrs.Attributes)

		// Display notifications for what was prefetched, then a call with
		// the visitor's cookie: the session and tntId carry over.
		now := time.Now().UnixMilli()
		second := runNode(t, node, nodeRun{Config: nodeConfig(edge.Addr), Calls: []nodeCall{
			{Call: "sendNotifications", Options: map[string]any{
				"targetCookie": offers.TargetCookie.Value,
				"request": map[string]any{
					"context": map[string]any{"channel": "web"},
					"notifications": []any{
						map[string]any{"id": "n-promo", "type": "display", "timestamp": now,
							"mbox": map[string]any{"name": "promo"}, "tokens": []string{promo.Options[0].EventToken}},
						map[string]any{"id": "n-home", "type": "display", "timestamp": now,
							"view": map[string]any{"name": "home"}, "tokens": []string{home.Options[0].EventToken}},
						map[string]any{"id": "n-click", "type": "click", "timestamp": now,
							"mbox": map[string]any{"name": "promo"}, "tokens": []string{promo.Metrics[0].EventToken}},
					},
				},
			}},
			{Call: "getOffers", Options: map[string]any{
				"targetCookie": offers.TargetCookie.Value,
				"request": map[string]any{
					"context": map[string]any{"channel": "web"},
					"execute": map[string]any{"mboxes": []any{map[string]any{"name": "hero", "index": 0}}},
				},
			}},
		}})
		notified := second.offersResult(t, 0).delivery(t)
		assert.Equal(t, []target.NotificationResponse{{ID: "n-promo"}, {ID: "n-home"}, {ID: "n-click"}}, notified.Notifications)
		again := second.offersResult(t, 1)
		require.NotNil(t, again.delivery(t).ID)
		assert.Equal(t, tntID, again.delivery(t).ID.TntID)
		assert.Regexp(t, `^session#`+session+`#\d+\|PC#`+tntID+`#\d+$`, again.TargetCookie.Value)

		// What the edge logged: every request the SDK made, accepted, at
		// the server domain (no cluster to route to).
		sent := append(first.Requests, second.Requests...)
		logged := edge.Stop(t)
		require.Len(t, logged, len(sent), "one request per call, no retries; edge log:\n%s", edge.log)
		for i, l := range logged {
			assert.Equal(t, edgeLogLine{Method: "POST", Host: edge.Addr, Path: targettest.DeliveryPath, Status: 200}, l, "request %d", i)
		}
		for i, r := range sent {
			u, err := url.Parse(r.URL)
			require.NoError(t, err)
			assert.Equal(t, edge.Addr, u.Host)
			assert.Equal(t, targettest.DefaultOrganizationID, u.Query().Get("imsOrgId"))
			assert.Equal(t, session, u.Query().Get("sessionId"), "request %d", i)
			assert.Equal(t, "application/json", r.Headers["Content-Type"])
			assert.Equal(t, 200, r.Status)
			// Every field Adobe's SDK sends has its place in this
			// package's models.
			requireStrictRequest(t, r.Body)
		}
		// Adobe's parser keeps every field of the edge's answers.
		for i, r := range first.Requests {
			var parsed nodeResult
			if i == 1 {
				var a struct{ Response nodeResult }
				require.NoError(t, json.Unmarshal(first.Results[1].Value, &a))
				parsed = a.Response
			} else {
				parsed = first.offersResult(t, i)
			}
			assert.JSONEq(t, r.ResponseBody, string(parsed.Response), "call %d", i)
		}
	})

	// Over HTTPS (the SDK's default), trusting the certificate the edge
	// generated.
	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		certFile := filepath.Join(t.TempDir(), "edge.pem")
		edge := startEdge(t, bin, "-no-cluster", "-tls", "-cert-out", certFile, "-offers", offersFile)
		cfg := nodeConfig(edge.Addr)
		delete(cfg, "secure")
		out := runNode(t, node, nodeRun{Config: cfg, env: []string{"NODE_EXTRA_CA_CERTS=" + certFile}, Calls: []nodeCall{
			{Call: "getOffers", Options: map[string]any{
				"sessionId": "interop-session-tls",
				"request": map[string]any{
					"context": map[string]any{"channel": "web"},
					"execute": map[string]any{"mboxes": []any{map[string]any{"name": "hero", "index": 0}}},
				},
			}},
		}})
		assert.True(t, strings.HasPrefix(out.Requests[0].URL, "https://"+edge.Addr+"/"), out.Requests[0].URL)
		dr := out.offersResult(t, 0).delivery(t)
		require.NotNil(t, dr.Execute)
		require.Len(t, dr.Execute.Mboxes, 1)
		assertOptions(t, interopOffers.Mboxes["hero"].Options, dr.Execute.Mboxes[0].Options, false)
		logged := edge.Stop(t)
		require.Len(t, logged, 1, "edge log:\n%s", edge.log)
		assert.Equal(t, 200, logged[0].Status, logged[0].Message)
	})

	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		edge := startEdge(t, bin, "-offers", offersFile)
		opts := map[string]any{
			"sessionId": "interop-session-2",
			"request": map[string]any{
				"context": map[string]any{"channel": "web"},
				"execute": map[string]any{"mboxes": []any{map[string]any{"name": "hero", "index": 0}}},
			},
		}
		out := runNode(t, node, nodeRun{Config: nodeConfig(edge.Addr), Redirect: edge.URL, Calls: []nodeCall{
			{Call: "getOffers", Options: opts},
			{Call: "getOffers", Options: opts, SameClient: true},
		}})
		first := out.offersResult(t, 0)
		assert.Equal(t, &target.Cookie{Name: target.LocationHintCookie, Value: targettest.DefaultCluster, MaxAge: 1860}, first.TargetLocationHintCookie)
		assert.True(t, strings.HasSuffix(first.delivery(t).ID.TntID, "."+targettest.DefaultCluster+"_0"), "tntId %q", first.delivery(t).ID.TntID)

		// Once the SDK knows the cluster it routes to the cluster's edge.
		edgeHost := "mboxedge" + targettest.DefaultCluster + ".tt.omtrdc.net"
		logged := edge.Stop(t)
		require.Len(t, logged, 2, "edge log:\n%s", edge.log)
		assert.Equal(t, []string{edge.Addr, edgeHost}, []string{logged[0].Host, logged[1].Host})
		for _, l := range logged {
			assert.Equal(t, 200, l.Status, l.Message)
		}
		second := requireStrictRequest(t, out.Requests[1].Body)
		require.NotNil(t, second.Telemetry, "the second call reports the first one's timing")
		assert.Len(t, second.Telemetry.Entries, 1)
	})
}

// assertOptions checks that got are the configured options, with event
// tokens exactly when prefetched.
func assertOptions(t *testing.T, want, got []target.Option, prefetched bool) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Type, got[i].Type)
		assert.JSONEq(t, string(want[i].Content), string(got[i].Content))
		assert.Equal(t, want[i].ResponseTokens, got[i].ResponseTokens)
		if prefetched {
			assert.NotEmpty(t, got[i].EventToken, "a prefetched option needs an event token")
		} else {
			assert.Empty(t, got[i].EventToken, "an executed option has no event token")
		}
	}
}
