package main

import (
	"bytes"
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

	"github.com/target-go/sdk/future"
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
		{"coalesced", "1", "1", false},
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

// setupCoalescer starts a plain edge with two offers and returns a
// coalescer over a client for it whose batches go out only on Flush.
func setupCoalescer(t *testing.T) (*targettest.Server, *coalescer, *recorder) {
	t.Helper()
	edge := targettest.NewServer(targettest.Config{Offers: offers([]string{"a", "b", "c"})})
	t.Cleanup(edge.Close)
	c, err := target.NewClient(edge.ClientConfig())
	require.NoError(t, err)
	rec := &recorder{}
	return edge, newCoalescer(c, time.Hour, rec), rec
}

func TestCoalescerMergesAndSplits(t *testing.T) {
	t.Parallel()
	edge, co, rec := setupCoalescer(t)
	e := &env{}
	var fs []*future.Future[*target.Response]
	for _, name := range []string{"a", "b", "c"} {
		// Every caller uses index 0, as independent callers would.
		fs = append(fs, co.GetOffers(t.Context(), e.options(name)))
	}
	co.b.Flush()
	for i, name := range []string{"a", "b", "c"} {
		resp, err := fs[i].Await(t.Context())
		require.NoError(t, err)
		mboxes := executed(resp)
		require.Len(t, mboxes, 1, name)
		assert.Equal(t, name, mboxes[0].Name)
		assert.Equal(t, 0, mboxes[0].Index, "the caller's own index comes back")
		assert.NotEmpty(t, mboxes[0].Options, "the offer for %s", name)
	}

	reqs := edge.Requests()
	require.Len(t, reqs, 1, "three calls, one request")
	sent := reqs[0].Delivery.Execute.Mboxes
	require.Len(t, sent, 3)
	for i, m := range sent {
		assert.Equal(t, i, m.Index, "merged mboxes get unique indexes")
	}
	assert.Equal(t, 1, rec.calls)
}

func TestCoalescerFailsEveryCaller(t *testing.T) {
	t.Parallel()
	edge, co, _ := setupCoalescer(t)
	edge.ForceFault(targettest.FaultServerError, 1)
	e := &env{}
	a := co.GetOffers(t.Context(), e.options("a"))
	b := co.GetOffers(t.Context(), e.options("b"))
	co.b.Flush()
	for _, f := range []*future.Future[*target.Response]{a, b} {
		_, err := f.Await(t.Context())
		var apiErr *target.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 503, apiErr.Status)
	}
}

func TestCoalescerPassesOtherCallsThrough(t *testing.T) {
	t.Parallel()
	edge, co, _ := setupCoalescer(t)
	opts := (&env{}).options("a")
	opts.Request.Prefetch = &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Index: 0, Name: "b"}}}
	// No Flush: a call that cannot be merged goes out at once.
	resp, err := co.GetOffers(t.Context(), opts).Await(t.Context())
	require.NoError(t, err)
	assert.Len(t, executed(resp), 1)
	require.NotNil(t, resp.Response.Prefetch)
	assert.Len(t, resp.Response.Prefetch.Mboxes, 1)
	assert.Len(t, edge.Requests(), 1)
}
