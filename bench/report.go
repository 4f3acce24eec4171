package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/target-go/sdk/target/targettest"
)

// writeHeader says what is measured, where, and how: a table without its
// machine and latency model cannot be compared with another.
func writeHeader(w io.Writer, res *results) {
	cfg := res.Config
	fmt.Fprintf(w, "edge:     %s", res.Edge)
	if cfg.Client == "" {
		fmt.Fprintf(w, "; latency %s; faults: %s", describeLatency(cfg.Latency), describeFaults(cfg.Faults))
	}
	fmt.Fprintln(w)
	m := res.Machine
	fmt.Fprintf(w, "machine:  %s/%s, %d CPUs, GOMAXPROCS %d, %s", m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS, m.Go)
	if m.LoadAvg != "" {
		fmt.Fprintf(w, ", load average %s", m.LoadAvg)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "runs:     %d timed repetitions per cell after a warm-up (at least 3 once a cell passes %v); attempts per call %d; timeout %v\n",
		cfg.Reps, cfg.Budget, cfg.Attempts, cfg.Timeout)
	if cfg.Client == "" {
		fmt.Fprintf(w, "          every cell's repetitions get the same edge latencies (seed %d), in arrival order\n", cfg.Seed)
	}
	fmt.Fprintln(w, "columns:  wall time from the first call to the last result; speedup = sequential p50 / p50;")
	fmt.Fprintln(w, "          xlimit = wall time / the slowest single round trip of the same repetition (median);")
	fmt.Fprintln(w, "          req/rep = HTTP requests per repetition; conns = connections opened, warm-up included")
	if slices.Contains(cfg.Strategies, "on-device") {
		fmt.Fprintln(w, "          on-device: no round trip before the result (xlimit -); its requests are the display")
		fmt.Fprintln(w, "          notifications, awaited between repetitions outside the timing")
	}
	fmt.Fprintln(w, "strategies:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range cfg.Strategies {
		s := lookup(name)
		if s == nil {
			continue // a replayed run with a strategy this version lacks
		}
		about := s.About
		if name == "map" {
			about = strings.Replace(about, "(-limit)", fmt.Sprintf("of %d", cfg.Limit), 1)
		}
		if name == "coalesced" {
			about += fmt.Sprintf(", window %v", cfg.Window)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, about)
	}
	tw.Flush()
}

func describeLatency(l targettest.Latency) string {
	if l.Median == 0 {
		return fmt.Sprintf("fixed %v", l.Fixed)
	}
	s := fmt.Sprintf("log-normal, median %v, p99 %v", l.Median, l.P99)
	if l.Max > 0 {
		s += fmt.Sprintf(", capped at %v", l.Max)
	}
	if l.Fixed > 0 {
		s = fmt.Sprintf("%v + %s", l.Fixed, s)
	}
	return s
}

func describeFaults(f targettest.Faults) string {
	var parts []string
	for _, k := range []struct {
		name string
		p    float64
	}{{"5xx", f.ServerError}, {"429", f.TooManyRequests}, {"reset", f.Reset}, {"slow", f.SlowBody}, {"garbage", f.MalformedJSON}} {
		if k.p > 0 {
			parts = append(parts, fmt.Sprintf("%s=%g", k.name, k.p))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// writeTable prints the cells of one mbox count.
func writeTable(w io.Writer, mboxes int, cells []cell) {
	fmt.Fprintf(w, "\n%d mbox%s\n", mboxes, map[bool]string{true: "", false: "es"}[mboxes == 1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := len("strategy")
	for _, c := range cells {
		width = max(width, len(c.Strategy))
	}
	// tabwriter right-aligns every column; padding the names to one width
	// keeps the first column left-aligned.
	fmt.Fprintf(tw, "%-*s\treps\tp50\tp95\tp99\tmax\tspeedup\txlimit\treq/rep\tconns\terrors\t\n", width, "strategy")
	for _, c := range cells {
		speedup := "-"
		switch {
		case c.Speedup >= 1000:
			speedup = fmt.Sprintf("%.0fx", c.Speedup)
		case c.Speedup > 0:
			speedup = fmt.Sprintf("%.1fx", c.Speedup)
		}
		// A cell without round trips in its repetitions (on-device, or
		// every call failed) has no limit to compare with.
		xlimit := "-"
		if c.OverLimit > 0 {
			xlimit = fmt.Sprintf("%.2f", c.OverLimit)
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n",
			width, c.Strategy, c.Reps, ms(c.P50), ms(c.P95), ms(c.P99), ms(c.Max), speedup,
			xlimit, trimFloat(c.Requests), c.Connections, c.Errors)
	}
	tw.Flush()
}

// ms formats a duration in milliseconds with one decimal, the resolution
// that matters for network calls, so columns line up; under a millisecond
// (on-device decisions) in whole microseconds.
func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func trimFloat(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.1f", f)
}

// writeJSON writes every figure, with each repetition's raw measurements.
// Durations are integer nanoseconds (fields ending in _ns).
func writeJSON(w io.Writer, res *results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
