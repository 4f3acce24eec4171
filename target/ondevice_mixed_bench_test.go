package target_test

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// benchMixed is a realistic mixed workload on the suite's large artifact:
// page loads with views, several mboxes per call, execute decisions (which
// cause display notifications) and prefetch decisions, two visitors, and
// one call in four with a trace.
var benchMixed = []string{
	`{` + benchContext + `,"execute":{"pageLoad":{"parameters":{"foo":"bar"}}},"prefetch":{"views":[{}]}}`,
	`{` + benchContext + `,"execute":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2,"parameters":{"foo":"bar"}},{"name":"mbox-geography","index":3}]}}`,
	`{` + benchContext + `,"prefetch":{"mboxes":[{"name":"mbox-urlcontains","index":1},{"name":"mbox-feature-flags","index":2},{"name":"mbox-dateranges","index":3}]}}`,
	`{` + benchContext + `,"trace":{"authorizationToken":"token"},"execute":{"mboxes":[{"name":"mbox-magician","index":1},{"name":"mbox-prioritized","index":2}]}}`,
	`{"id":{"tntId":"0c45bd3b4b3f4d1e9a3e2b6f1c7d8e9f.35_0"},"context":{"channel":"web","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0 Mobile/15E148 Safari/604.1",
		"address":{"url":"https://www.example.com/contact"},"geo":{"city":"PARIS","countryCode":"FR","latitude":48.86,"longitude":2.35}},
		"execute":{"mboxes":[{"name":"mbox-salutations","index":1},{"name":"mbox-macros","index":2}]},"prefetch":{"views":[{"name":"contact"}],"pageLoad":{}}}`,
	`{` + benchContext + `,"trace":{"authorizationToken":"token"},"prefetch":{"pageLoad":{},"views":[{}]}}`,
	`{` + benchContext + `,"execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}`,
	`{` + benchContext + `,"prefetch":{"mboxes":[{"name":"super-duper","index":1},{"name":"perf-mbox","index":2}]}}`,
}

// BenchmarkOnDeviceMixedVsNode decides benchMixed, one request after the
// other, with the client's on-device GetOffers and, in the same run, with
// Adobe's Node.js SDK (testdata/nodemixed.js: getOffers on-device, awaited
// one at a time), telemetry on for both. The notifications the execute
// decisions cause are counted on both sides: they go through each SDK's
// own sending path to a transport that answers an empty 200 in process,
// and the timed part ends when the last one is sent (Close, for the
// client). It reports ns/op per decision (one GetOffers), node-ns/op and
// the ratio node/go (x-faster), the same in process CPU, and the
// notification requests per decision each side sent (sends/op): Node sends
// one per getOffers, telemetry alone for a prefetch, where the client
// sends the execute decisions' notifications, batched per visitor, and
// keeps a prefetch's telemetry for the next request. Node is warmed up
// with as many calls as it times, since V8 optimizes the SDK's code as it
// runs; over a third of its CPU then goes to parsing the page's domain
// against the public suffix list (psl, a scan of every rule), its own cost
// of a decision. It needs TARGET_NODE_SDK_DIR (see
// TestOnDeviceDifferential) and node on PATH.
//
// On the shared 2-core machine (load 3-10), one run each, Node first then
// the client: Node 3.85-4.47 ms of CPU per decision; the client 159 µs
// (174 µs before the notification request was encoded without
// reflection), 24-26x in CPU, 498 allocations (504 before). The ratio
// moves with Node's figure more than with the client's. Of the client's
// CPU (BenchmarkOnDeviceMixed, pprof) the engine takes 68%, and building
// the traces of the two traced calls in eight alone 48% (deep copies of
// the rule contexts); the notification queue's sending 7% (its JSON
// encoding 1.5%, 4% before), preparing the calls and assembling the
// response about 7%, the garbage collector's background work 9%. 500x
// would leave 8-9 µs per decision, less than a tenth of the engine alone.
// Since traces are built once per answer from a mark, not copied whole at
// every satisfied rule (callgrind, GOGC=off, difference of two runs): 474k
// instructions per decision before, 333k after, 473 allocations then 321;
// one run on the machine loaded by the race detector besides: Node 5.98
// ms of CPU per decision, the client 279 µs, 21x in CPU.
// The notification queue read a goroutine id from runtime.Stack for each
// batch it sent (callbacks.go); read in assembly since
// (internal/goroutine), callgrind as above: 334k then 295k instructions
// per decision (100 and 500 iterations), 367k then 320k (200 and 1000),
// 312 allocations. On the loaded machine, interleaved with main's binary,
// three runs each: Node 5.9-6.8 ms of CPU per decision, the client
// 233-349 µs before and 266-270 µs after: 20-25x in CPU either way, the
// machine's load moving the figures more than the change. Of what is left
// (pprof, OnDeviceMixed): the engine 59% (the traces of the two traced
// calls in eight most of it: traceMark.list cloning rule contexts), the
// queue's sending 14% (an exchange through net/http per batch, on two new
// goroutines whose stacks grow), preparing the call and building the
// response 7%, the collector 11%. 500x would leave 8-12 µs per decision,
// less than the engine's share alone.
func BenchmarkOnDeviceMixedVsNode(b *testing.B) {
	artifact := benchArtifact(b)
	nodeModules := os.Getenv("TARGET_NODE_SDK_DIR")
	if nodeModules == "" {
		b.Skip("TARGET_NODE_SDK_DIR is not set; see TestOnDeviceDifferential")
	}
	node, err := exec.LookPath("node")
	require.NoError(b, err)
	artifactFile := filepath.Join(os.Getenv("TARGET_SDK_TESTING_DIR"), "schema", "artifact.json")
	script, err := filepath.Abs(filepath.Join("testdata", "nodemixed.js"))
	require.NoError(b, err)

	reqs := make([]target.DeliveryRequest, len(benchMixed))
	var list bytes.Buffer
	list.WriteByte('[')
	for i, r := range benchMixed {
		var compact bytes.Buffer
		require.NoError(b, json.Compact(&compact, []byte(r)), "request %d", i)
		require.NoError(b, json.Unmarshal(compact.Bytes(), &reqs[i]), "request %d", i)
		if i > 0 {
			list.WriteByte(',')
		}
		list.Write(compact.Bytes())
	}
	list.WriteByte(']')
	reqFile := filepath.Join(b.TempDir(), "requests.json")
	require.NoError(b, os.WriteFile(reqFile, list.Bytes(), 0o600))

	// The benchmark function runs once per b.N tried: Node runs once.
	mixedNode.once.Do(func() {
		mixedNode.ns, mixedNode.cpuNs, mixedNode.sent, mixedNode.err = runNodeMixed(b, node, script, artifactFile, reqFile, nodeModules)
	})
	require.NoError(b, mixedNode.err)
	nodeNs := mixedNode.ns
	require.NotZero(b, mixedNode.sent, "the Node SDK sent no notification: the workload has execute decisions")

	goCPU, cpuOK := runGoMixed(b, artifact, reqs)
	goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(nodeNs, "node-ns/op")
	b.ReportMetric(nodeNs/goNs, "x-faster")
	b.ReportMetric(float64(mixedNode.sent)/mixedNodeCalls, "node-sends/op")
	// CPU time is what a shared machine distorts least: the wall clock of
	// both sides stretches with the other processes' load.
	if cpuOK && mixedNode.cpuNs > 0 {
		b.ReportMetric(mixedNode.cpuNs, "node-cpu-ns/op")
		b.ReportMetric(mixedNode.cpuNs/goCPU, "x-faster-cpu")
	}
}

// BenchmarkOnDeviceMixed is the Go half of BenchmarkOnDeviceMixedVsNode
// alone, for profiling without Node: the same requests, client and
// notification transport.
func BenchmarkOnDeviceMixed(b *testing.B) {
	artifact := benchArtifact(b)
	reqs := make([]target.DeliveryRequest, len(benchMixed))
	for i, r := range benchMixed {
		require.NoError(b, json.Unmarshal([]byte(r), &reqs[i]), "request %d", i)
	}
	runGoMixed(b, artifact, reqs)
}

// runGoMixed times b.N GetOffers on-device over reqs, in turn, and the
// Close that sends the notifications still queued; it reports cpu-ns/op
// and returns the process CPU per decision, when it can be read.
func runGoMixed(b *testing.B, artifact []byte, reqs []target.DeliveryRequest) (cpuNs float64, ok bool) {
	var sent, dropped atomic.Int64
	edge := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = r.Body.Close()
		}
		sent.Add(1)
		const body = `{"status":200}`
		return &http.Response{
			StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		}, nil
	})}
	c, err := target.NewClient(target.Config{
		Client: "targettesting", OrganizationID: "org", HTTPClient: edge,
		DecisioningMethod: target.OnDevice, OnDevice: target.OnDeviceConfig{ArtifactPayload: artifact},
		Notifications: target.NotificationsConfig{
			OnDropped: func(ns []target.Notification, err error) { dropped.Add(int64(len(ns))); b.Log("dropped:", err) },
		},
	})
	require.NoError(b, err)
	defer func() { _ = c.Close(context.Background()) }()
	for i := range reqs { // warm-up: memos, pools, the first connection
		_, err := c.GetOffers(b.Context(), target.GetOffersOptions{Request: reqs[i], SessionID: "bench"}).Await(b.Context())
		require.NoError(b, err)
	}
	b.ReportAllocs()
	sentBefore := sent.Load()
	cpuStart, cpuOK := processCPU()
	b.ResetTimer()
	for i := range b.N {
		if _, err := c.GetOffers(b.Context(), target.GetOffersOptions{Request: reqs[i%len(reqs)], SessionID: "bench"}).Await(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(b, c.Close(ctx)) // the notifications still queued are part of the work
	b.StopTimer()
	cpuEnd, _ := processCPU()
	require.Zero(b, dropped.Load(), "notifications were dropped")
	require.NotZero(b, sent.Load(), "the client sent no notification: the workload has execute decisions")
	b.ReportMetric(float64(sent.Load()-sentBefore)/float64(b.N), "sends/op")
	if !cpuOK {
		return 0, false
	}
	cpuNs = float64((cpuEnd - cpuStart).Nanoseconds()) / float64(b.N)
	b.ReportMetric(cpuNs, "cpu-ns/op")
	return cpuNs, true
}

// mixedNodeCalls is how many getOffers nodemixed.js times, after as many
// to warm up.
const mixedNodeCalls = 2000

var mixedNode struct {
	once      sync.Once
	ns, cpuNs float64
	sent      int
	err       error
}

// runNodeMixed runs testdata/nodemixed.js: the mean wall and CPU ns per
// decision and the notification requests the timed part sent.
func runNodeMixed(b *testing.B, node, script, artifactFile, reqFile, nodeModules string) (wallNs, cpuNs float64, sent int, err error) {
	cmd := exec.CommandContext(b.Context(), node, script, artifactFile, reqFile, "targettesting", strconv.Itoa(mixedNodeCalls))
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("nodemixed.js: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 3 {
		return 0, 0, 0, fmt.Errorf("nodemixed.js printed %q", out)
	}
	if wallNs, err = strconv.ParseFloat(fields[0], 64); err != nil {
		return 0, 0, 0, err
	}
	if cpuNs, err = strconv.ParseFloat(fields[1], 64); err != nil {
		return 0, 0, 0, err
	}
	sent, err = strconv.Atoi(fields[2])
	return wallNs, cpuNs, sent, err
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
