package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/targettest"
)

// sample is a run of two strategies at two counts, with the figures a real
// run would have.
func sample() *results {
	cfg, _ := parseFlags([]string{"-strategies", "sequential,futures", "-counts", "1,10"}, io.Discard)
	mk := func(s string, n int, p50, p95, limit time.Duration, req float64, conns int64) cell {
		return cell{Strategy: s, Mboxes: n, summary: summary{
			Reps: 5, P50: p50, P95: p95, P99: p95, Max: p95, LimitP50: limit,
			OverLimit: float64(p50) / float64(limit), Requests: req, Connections: conns,
		}, Repetitions: []rep{{Wall: p50, Limit: limit, Calls: int(req)}}}
	}
	cells := []cell{
		mk("sequential", 1, 21*msec, 40*msec, 20*msec, 1, 1),
		mk("futures", 1, 22*msec, 45*msec, 20*msec, 1, 1),
		mk("sequential", 10, 260*msec, 300*msec, 60*msec, 10, 1),
		mk("futures", 10, 65*msec, 90*msec, 60*msec, 10, 10),
	}
	setSpeedups(cells[:2])
	setSpeedups(cells[2:])
	return &results{
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Elapsed: 3 * time.Second,
		Edge:    "local edge, in-process, HTTPS",
		Machine: machine{GOOS: "linux", GOARCH: "amd64", CPUs: 2, GOMAXPROCS: 2, Go: "go1.26.8"},
		Config:  cfg,
		Cells:   cells,
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	writeTable(&b, 10, sample().Cells[2:])
	want := `
10 mboxes
  strategy    reps      p50      p95      p99      max  speedup  xlimit  req/rep  conns  errors
  sequential     5  260.0ms  300.0ms  300.0ms  300.0ms     1.0x    4.33       10      1       0
  futures        5   65.0ms   90.0ms   90.0ms   90.0ms     4.0x    1.08       10     10       0
`
	assert.Equal(t, want, b.String())
}

func TestWriteTableWithoutSequential(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	writeTable(&b, 1, []cell{{Strategy: "one-request", Mboxes: 1, summary: summary{Reps: 1, Requests: 1.5}}})
	assert.Contains(t, b.String(), "\n1 mbox\n")
	assert.Regexp(t, `one-request +1 +0µs .* - +- +1\.5 +0 +0`, b.String(), "no speedup or limit without a reference; fractional requests")
}

// An on-device row: times under a millisecond in microseconds, a speedup
// in the thousands without decimals, no limit since no round trip.
func TestWriteTableOnDevice(t *testing.T) {
	t.Parallel()
	cells := []cell{
		sample().Cells[2],
		{Strategy: "on-device", Mboxes: 10, summary: summary{
			Reps: 5, P50: 100 * time.Microsecond, P95: 480 * time.Microsecond, P99: 480 * time.Microsecond,
			Max: 1500 * time.Microsecond, Requests: 1, Connections: 1,
		}},
	}
	setSpeedups(cells)
	var b strings.Builder
	writeTable(&b, 10, cells)
	want := `
10 mboxes
  strategy    reps      p50      p95      p99      max  speedup  xlimit  req/rep  conns  errors
  sequential     5  260.0ms  300.0ms  300.0ms  300.0ms     1.0x    4.33       10      1       0
  on-device      5    100µs    480µs    480µs    1.5ms    2600x       -        1      1       0
`
	assert.Equal(t, want, b.String())

	res := sample()
	var h strings.Builder
	writeHeader(&h, res)
	assert.NotContains(t, h.String(), "on-device")
	res.Config.Strategies = append(res.Config.Strategies, "on-device")
	h.Reset()
	writeHeader(&h, res)
	assert.Contains(t, h.String(), "on-device: no round trip before the result (xlimit -)")
}

func TestWriteHeader(t *testing.T) {
	t.Parallel()
	res := sample()
	res.Config.Faults = targettest.Faults{ServerError: 0.1, Reset: 0.02}
	var b strings.Builder
	writeHeader(&b, res)
	out := b.String()
	assert.Contains(t, out, "local edge, in-process, HTTPS; latency 5ms + log-normal, median 15ms, p99 100ms, capped at 300ms; faults: 5xx=0.1,reset=0.02")
	assert.Contains(t, out, "2 CPUs")
	assert.Contains(t, out, "sequential")
	assert.NotContains(t, out, "callback", "only the chosen strategies are described")
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, writeJSON(&b, sample()))

	var got struct {
		Edge    string `json:"edge"`
		Machine struct {
			CPUs int `json:"cpus"`
		} `json:"machine"`
		Config struct {
			Counts []int `json:"counts"`
		} `json:"config"`
		Cells []struct {
			Strategy    string  `json:"strategy"`
			Mboxes      int     `json:"mboxes"`
			P50         int64   `json:"p50_ns"`
			LimitP50    int64   `json:"limit_p50_ns"`
			Speedup     float64 `json:"speedup"`
			Requests    float64 `json:"requests_per_rep"`
			Connections int64   `json:"connections"`
			Repetitions []struct {
				Wall int64 `json:"wall_ns"`
			} `json:"repetitions"`
		} `json:"cells"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "local edge, in-process, HTTPS", got.Edge)
	assert.Equal(t, 2, got.Machine.CPUs)
	assert.Equal(t, []int{1, 10}, got.Config.Counts)
	require.Len(t, got.Cells, 4)
	c := got.Cells[3]
	assert.Equal(t, "futures", c.Strategy)
	assert.Equal(t, 10, c.Mboxes)
	assert.Equal(t, int64(65*msec), c.P50)
	assert.Equal(t, int64(60*msec), c.LimitP50)
	assert.InDelta(t, 4.0, c.Speedup, 1e-9)
	assert.InDelta(t, 10.0, c.Requests, 0)
	assert.Equal(t, int64(10), c.Connections)
	require.Len(t, c.Repetitions, 1)
	assert.Equal(t, int64(65*msec), c.Repetitions[0].Wall)
}

// parseSVG checks that doc is well-formed XML with an svg root, and returns
// its elements' names with their attributes, and its text.
func parseSVG(t *testing.T, doc []byte) (elems []xml.StartElement, text string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG must be well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			elems = append(elems, tok.Copy())
		case xml.CharData:
			sb.Write(tok)
			sb.WriteByte('\n')
		}
	}
	require.NotEmpty(t, elems)
	require.Equal(t, "svg", elems[0].Name.Local)
	require.Equal(t, "http://www.w3.org/2000/svg", elems[0].Name.Space)
	return elems, sb.String()
}

func TestWriteSVG(t *testing.T) {
	t.Parallel()
	res := sample()
	res.Edge = `edge <with> "odd" & characters`
	var b bytes.Buffer
	require.NoError(t, writeSVG(&b, res))
	elems, text := parseSVG(t, b.Bytes())

	lines := 0
	for _, e := range elems {
		if e.Name.Local != "polyline" {
			continue
		}
		lines++
		for _, a := range e.Attr {
			if a.Name.Local == "points" {
				assert.Len(t, strings.Fields(a.Value), 2, "one point per count")
			}
		}
	}
	assert.Equal(t, 3, lines, "one line per strategy and the physical limit")
	for _, want := range []string{"sequential", "futures", "physical limit", "mboxes per page", "100ms", "10ms", `edge <with> "odd" & characters`} {
		assert.Contains(t, text, want)
	}
}

func TestWriteSVGOneCount(t *testing.T) {
	t.Parallel()
	res := sample()
	res.Cells = res.Cells[:1]
	var b bytes.Buffer
	require.NoError(t, writeSVG(&b, res))
	parseSVG(t, b.Bytes())
	assert.NotContains(t, b.String(), "NaN")
	assert.NotContains(t, b.String(), "Inf")
}

func TestWriteSVGEmpty(t *testing.T) {
	t.Parallel()
	res := sample()
	res.Cells = nil
	require.Error(t, writeSVG(io.Discard, res))
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := newProgress(&b, true)
	p.start(4)
	p.at("futures n=5")
	p.step()
	p.skip(2)
	p.step()
	p.clear()
	out := b.String()
	assert.Contains(t, out, "[#######.......................]  25% futures n=5")
	assert.Contains(t, out, "[######################........]  75% futures n=5", "skipped repetitions count as done")
	assert.Contains(t, out, "[##############################] 100% futures n=5")
	assert.True(t, strings.HasSuffix(out, "\r"), "clear leaves the cursor at the start of an empty line")

	var quiet strings.Builder
	q := newProgress(&quiet, false)
	q.start(2)
	q.at("x")
	q.step()
	q.clear()
	assert.Empty(t, quiet.String(), "no bar when the output is not a terminal")
}

func TestWriteSVGCellWithoutLimit(t *testing.T) {
	t.Parallel()
	res := sample()
	res.Cells[0].LimitP50 = 0 // every call of that cell failed
	var b bytes.Buffer
	require.NoError(t, writeSVG(&b, res))
	_, text := parseSVG(t, b.Bytes())
	assert.NotContains(t, text, "µs", "a missing limit does not stretch the axis down to zero")
	assert.Contains(t, text, "10ms")
}
