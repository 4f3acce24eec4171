package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestRun runs the whole command on a tiny configuration: the local TLS edge
// with a fixed 2 ms latency, two counts, one repetition.
func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jsonFile, svgFile := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.svg")
	var out bytes.Buffer
	err := run(t.Context(), []string{
		"-counts", "1,3", "-reps", "1", "-latency-fixed", "2ms", "-latency-median", "0",
		"-json", jsonFile, "-svg", svgFile,
	}, &out)
	require.NoError(t, err, out.String())
	text := out.String()
	assert.NotContains(t, text, "\r", "no progress bar when the output is not a terminal")
	assert.Contains(t, text, "local edge, in-process, HTTPS; latency fixed 2ms")
	require.Contains(t, text, "\n3 mboxes\n")
	three := text[strings.Index(text, "\n3 mboxes\n"):]

	// strategy, requests per repetition and connections at 3 mboxes.
	for _, want := range []struct {
		strategy   string
		req, conns string
		parallel   bool // connections depend on timing
	}{
		{"sequential", "3", "1", false},
		{"futures", "3", "3", true},
		{"callback", "3", "3", true},
		{"map", "3", "3", true},
		{"one-request", "1", "1", false},
		// A busy machine can split the warm-up page's calls over two
		// requests, sent at once on two connections.
		{"coalesced", "1", "1", true},
		{"visitor", "3", "3", true},
		{"visitor-new", "3", "3", true},
		{"on-device", "1", "1", false}, // the display notification
		{"errgroup", "3", "3", true},
		{"conc", "3", "3", true},
	} {
		re := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(want.strategy) + ` +1 +\S+ +\S+ +\S+ +\S+ +\S+ +\S+ +(\S+) +(\S+) +(\S+)$`)
		m := re.FindStringSubmatch(three)
		require.NotNil(t, m, "no row for %s in\n%s", want.strategy, three)
		assert.Equal(t, want.req, m[1], "%s: requests per repetition", want.strategy)
		if want.parallel {
			// Parallel calls may reuse a connection another call has just
			// released, and net/http may finish dialling a connection
			// that a waiting request no longer needs: a few either way.
			conns, err := strconv.Atoi(m[2])
			require.NoError(t, err)
			assert.GreaterOrEqual(t, conns, 1, "%s: connections", want.strategy)
			assert.LessOrEqual(t, conns, 6, "%s: connections", want.strategy)
		} else {
			assert.Equal(t, want.conns, m[2], "%s: connections", want.strategy)
		}
		assert.Equal(t, "0", m[3], "%s: errors", want.strategy)
	}

	var res results
	data, err := os.ReadFile(jsonFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &res))
	require.Len(t, res.Cells, 2*len(strategies))
	for _, c := range res.Cells {
		require.Len(t, c.Repetitions, 1)
		r := c.Repetitions[0]
		if c.Strategy == "on-device" {
			assert.Zero(t, r.Limit, "no round trip before an on-device result")
			assert.Equal(t, 1, r.Calls, "one display notification request")
			continue
		}
		assert.GreaterOrEqual(t, r.Limit, 2*time.Millisecond, "%s: a round trip includes the edge's latency", c.Strategy)
		assert.GreaterOrEqual(t, r.Wall, r.Limit, "%s: nothing finishes before its slowest round trip", c.Strategy)
	}

	svg, err := os.ReadFile(svgFile)
	require.NoError(t, err)
	parseSVG(t, svg)

	// -replay prints the same tables from the JSON file, measuring nothing.
	var again bytes.Buffer
	replayed := filepath.Join(dir, "replayed.svg")
	require.NoError(t, run(t.Context(), []string{"-replay", jsonFile, "-svg", replayed}, &again))
	lastLine := regexp.MustCompile(`\n[^\n]*\n$`)
	assert.Equal(t, lastLine.ReplaceAllString(text, "\n"), lastLine.ReplaceAllString(again.String(), "\n"))
	svg2, err := os.ReadFile(replayed)
	require.NoError(t, err)
	assert.Equal(t, svg, svg2, "the chart of a replay is the chart of the run")
}

// An on-device strategy whose artifact does not load is left out with a
// note, at once, and the others are measured; with nothing else chosen the
// run fails.
func TestRunOnDeviceWithoutArtifact(t *testing.T) {
	t.Parallel()
	// The local edge's transport reaches the edge whatever the host, and
	// the edge has no artifact for another client: a 404.
	const nowhere = "http://127.0.0.1:1/nobody/production/v1/rules.json"
	common := []string{"-counts", "2", "-reps", "1", "-latency-fixed", "1ms", "-latency-median", "0", "-tls=false", "-artifact", nowhere}
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"-strategies", "one-request,on-device"}, common...), &out)
	require.NoError(t, err, out.String())
	text := out.String()
	assert.Contains(t, text, "on-device: left out: on-device artifact: target: artifact download from "+nowhere+": HTTP status 404")
	assert.Regexp(t, `(?m)^  one-request +1 `, text)
	assert.NotRegexp(t, `(?m)^  on-device `, text)

	err = run(t.Context(), append([]string{"-strategies", "on-device"}, common...), &bytes.Buffer{})
	require.ErrorContains(t, err, "no strategy left")
}

func TestReplayNotJSON(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "x.json")
	require.NoError(t, os.WriteFile(name, []byte("no"), 0o600))
	err := run(t.Context(), []string{"-replay", name}, &bytes.Buffer{})
	require.ErrorContains(t, err, "not the -json output")
}

func TestRunBadFlag(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"-counts", "none"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "-counts")
}

// TestStrategiesAgainstTheEdge runs each strategy once on a plain edge
// without latency and checks what it reports and what the edge saw.
func TestStrategiesAgainstTheEdge(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c"}
	for _, s := range strategies {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			edge := targettest.NewServer(targettest.Config{Offers: offers(names)})
			t.Cleanup(edge.Close)
			e := testEnv(t, edge, s)

			rec := &recorder{}
			s.run(t.Context(), e, names, rec)
			if e.notes != nil {
				require.NoError(t, e.notes.wait(t.Context()))
				assert.Zero(t, e.notes.failed.Load())
			}
			assert.Equal(t, len(names), rec.decided, "every mbox decided")
			requests := 0
			for _, r := range edge.Requests() {
				if r.Delivery != nil {
					requests++
				}
			}
			assert.Equal(t, requests, rec.calls, "one recorded call per request the edge saw")
			switch s.Name {
			case "one-request", "coalesced":
				assert.Equal(t, 1, requests)
			case "on-device":
				assert.Equal(t, 1, requests, "one display notification, no decision request")
			default:
				assert.Equal(t, len(names), requests)
			}
			if s.OnDevice {
				assert.Zero(t, rec.limit, "no round trip before the result")
			} else {
				assert.Positive(t, rec.limit)
			}
		})
	}
}

func TestStrategiesCountFailures(t *testing.T) {
	t.Parallel()
	for _, s := range strategies {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			// Every Delivery answer is a 503; the artifact, from no
			// offers, has no rules, so on-device calls name the mboxes
			// for the edge instead of deciding them.
			edge := targettest.NewServer(targettest.Config{})
			t.Cleanup(edge.Close)
			edge.ForceFault(targettest.FaultServerError, 100)
			e := testEnv(t, edge, s)
			rec := &recorder{}
			s.run(t.Context(), e, []string{"a", "b"}, rec)
			assert.Zero(t, rec.decided, "no mbox decided")
			assert.Zero(t, rec.limit, "a failed call has no round trip to count")
			assert.Zero(t, rec.calls, "nothing to notify")
		})
	}
}

// testEnv returns the environment s runs in against edge, with a client
// (on-device and ready for an on-device strategy) closed when the test
// ends.
func testEnv(t *testing.T, edge *targettest.Server, s strategy) *env {
	t.Helper()
	cfg := edge.ClientConfig()
	var notes *notifications
	if s.OnDevice {
		notes = configureOnDevice(&cfg, edge.ArtifactURL())
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err)
	// A known session: the coalescer merges only calls it knows to be
	// one visitor's. Its window is a second, not the bench's millisecond,
	// so that a loaded machine descheduling the caller between two calls
	// does not split them into two requests (the test counts requests).
	e, err := newEnv(c, target.GetOffersOptions{SessionID: "s1"}, 2, time.Second)
	require.NoError(t, err)
	e.notes = notes
	return e
}

// TestRunCost runs the -cost mode on a tiny configuration: every row of
// the table is there with a decision count behind it, the floor's ratio is
// 1, and the protocol table shows both protocols.
func TestRunCost(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), []string{"-cost", "-cost-time", "1ms", "-cost-mboxes", "2", "-cost-parallel", "4", "-strategies", "sequential,one-request,on-device"}, &out)
	require.NoError(t, err, out.String())
	text := out.String()
	for _, row := range []string{"floor-sequential", "floor-parallel", "sequential", "one-request", "on-device"} {
		m := regexp.MustCompile(`(?m)^ *` + row + ` .* (\d+) *$`).FindStringSubmatch(text)
		require.NotNil(t, m, "row %s in\n%s", row, text)
		pages, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		assert.GreaterOrEqual(t, pages, 5, "row %s", row)
	}
	assert.Regexp(t, `(?m)^ *floor-sequential +\S+ +1\.00 +\d+ +1\.00 `, text)
	assert.Regexp(t, `(?m)^ *floor-parallel +\S+ +1\.00 +\d+ +1\.00 `, text)
	assert.Regexp(t, `(?m)^on-device decision: \S+ per mbox \(wait/page / 2 mboxes\)`, text)
	assert.Regexp(t, `(?m)^ *HTTP/1\.1 +\d+ `, text)
	assert.Regexp(t, `(?m)^ *HTTP/2 +\d+ `, text)
}

func TestRunCostBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-cost", "-cost-mboxes", "0"},
		{"-cost", "-cost-time", "0s"},
		{"-cost", "-cost-parallel", "0"},
		{"-cost", "-client", "acme", "-org", "o@AdobeOrg"},
	} {
		err := run(t.Context(), args, &bytes.Buffer{})
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), "-cost", "%v", args)
	}
}
