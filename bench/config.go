package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// config is everything a run depends on, from the command line.
type config struct {
	Counts     []int         `json:"counts"`
	Strategies []string      `json:"strategies"`
	Reps       int           `json:"reps"`
	Budget     time.Duration `json:"budget_ns"`
	Limit      int           `json:"limit"`
	Window     time.Duration `json:"window_ns"`
	Timeout    time.Duration `json:"timeout_ns"`
	Attempts   int           `json:"attempts"`

	// The local edge, when Client is empty.
	Latency targettest.Latency `json:"latency"`
	Faults  targettest.Faults  `json:"faults"`
	Seed    uint64             `json:"seed"`
	TLS     bool               `json:"tls"`

	// A real edge, when Client is set.
	Client string `json:"client,omitempty"`
	Org    string `json:"org,omitempty"`
	Server string `json:"server,omitempty"`
	Mbox   string `json:"mbox_prefix"`

	// Artifact is the on-device strategy's artifact location; empty means
	// the local edge's, or Target's CDN for a real edge.
	Artifact string `json:"artifact,omitempty"`

	// Cost is the -cost mode: CPU and allocations per call instead of
	// latency.
	Cost       bool          `json:"-"`
	CostMboxes int           `json:"-"`
	CostBudget time.Duration `json:"-"`
	// CostParallel is the burst size of the HTTP/1.1 against HTTP/2 table.
	CostParallel int `json:"-"`

	JSON     string `json:"-"`
	Replay   string `json:"-"`
	SVG      string `json:"-"`
	Progress string `json:"-"`
}

// The default latency model of the local edge: a fixed 5 ms (the part of a
// round trip no edge avoids: distance, TLS records, the edge's own work) plus
// a log-normal part with a median of 15 ms and a 99th percentile of 100 ms,
// capped at 300 ms. One call then takes about 20 ms at the median and
// 105 ms at the 99th percentile, about 26 ms on average, with one call in a
// hundred slower than that: the shape of Delivery API calls from a server
// to an edge in its region. The slowest of 20 parallel calls is then
// typically 60–80 ms, and of 100 about 100 ms: what parallel strategies pay.
var defaultLatency = targettest.Latency{
	Fixed:  5 * time.Millisecond,
	Median: 15 * time.Millisecond,
	P99:    100 * time.Millisecond,
	Max:    300 * time.Millisecond,
}

const usage = `Usage: go run ./bench [flags]

Measures the wall time of getting Target decisions for N mboxes in each of
several styles (sequential, parallel futures, callbacks, bounded map, one
batched request, coalesced calls, on-device decisions, errgroup and conc
baselines) against a local Delivery edge started in-process over TLS with
a realistic latency model, or against a real edge with -client and -org.

Flags:
`

// parseFlags reads the command line. Bad values come back as an error that
// names the flag; -h gives flag.ErrHelp after printing the usage to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	cfg := config{Latency: defaultLatency, TLS: true}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	counts := fs.String("counts", "1,5,20,100", "comma-separated mbox `counts` to measure")
	strats := fs.String("strategies", "all", "comma-separated strategy `names`, or all: "+strategyNames())
	faults := fs.String("faults", "", "local edge faults as `kind=probability,...`; kinds: 5xx, 429, reset, slow, garbage")
	fs.IntVar(&cfg.Reps, "reps", 10, "timed repetitions per strategy and count, after one warm-up")
	fs.DurationVar(&cfg.Budget, "budget", 2*time.Second, "stop a strategy's repetitions at a count after this `time`, once it has 3")
	fs.IntVar(&cfg.Limit, "limit", 10, "concurrency limit of the bounded map strategy")
	fs.DurationVar(&cfg.Window, "window", target.DefaultCoalesceWindow, "coalescing window of the coalesced strategy (target.CoalesceOptions.Window)")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Second, "per-call timeout (target.Config.Timeout)")
	fs.IntVar(&cfg.Attempts, "attempts", 1, "attempts per call, the first included (target.RetryPolicy.MaxAttempts)")
	fs.DurationVar(&cfg.Latency.Fixed, "latency-fixed", defaultLatency.Fixed, "local edge: fixed latency of every answer")
	fs.DurationVar(&cfg.Latency.Median, "latency-median", defaultLatency.Median, "local edge: median of the random latency (0 for none: then -latency-p99 and -latency-max do not apply)")
	fs.DurationVar(&cfg.Latency.P99, "latency-p99", defaultLatency.P99, "local edge: 99th percentile of the random latency")
	fs.DurationVar(&cfg.Latency.Max, "latency-max", defaultLatency.Max, "local edge: cap of the random latency")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "local edge: seed of the latency and fault draws")
	fs.BoolVar(&cfg.TLS, "tls", true, "local edge: serve HTTPS (false: plain HTTP)")
	fs.StringVar(&cfg.Client, "client", "", "real edge: Target client code (needs -org; disables the local edge)")
	fs.StringVar(&cfg.Org, "org", "", "real edge: IMS organization id")
	fs.StringVar(&cfg.Server, "server", "", "real edge: server domain (host[:port]); default {client}.tt.omtrdc.net")
	fs.StringVar(&cfg.Mbox, "mbox-prefix", "bench-mbox-", "mbox names are this `prefix` followed by 1..N")
	fs.StringVar(&cfg.Artifact, "artifact", "", "on-device strategy: artifact `URL` (default: the local edge's; for a real edge, Target's CDN)")
	fs.BoolVar(&cfg.Cost, "cost", false, "measure the client's CPU time and allocations per call, per strategy and for the bare net/http floor, and HTTP/1.1 against HTTP/2, against a local edge in a child process; print that table instead")
	fs.IntVar(&cfg.CostMboxes, "cost-mboxes", 10, "-cost: mboxes per page")
	fs.IntVar(&cfg.CostParallel, "cost-parallel", 100, "-cost: parallel calls per burst over HTTP/1.1 and HTTP/2")
	fs.DurationVar(&cfg.CostBudget, "cost-time", 500*time.Millisecond, "-cost: measuring `time` per row")
	fs.StringVar(&cfg.JSON, "json", "", "write every figure as JSON to `file`")
	fs.StringVar(&cfg.Replay, "replay", "", "measure nothing: print the tables of an earlier -json `file` (and write -svg from it)")
	fs.StringVar(&cfg.SVG, "svg", "", "write a chart of latency vs mbox count to `file` (SVG)")
	fs.StringVar(&cfg.Progress, "progress", "auto", "progress bar: auto (when stdout is a terminal), on or off")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.Latency.Median == 0 {
		cfg.Latency.P99, cfg.Latency.Max = 0, 0
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Counts, err = parseCounts(*counts); err != nil {
		return cfg, err
	}
	if cfg.Strategies, err = parseStrategies(*strats); err != nil {
		return cfg, err
	}
	if cfg.Faults, err = parseFaults(*faults); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	switch {
	case c.Reps < 1:
		return fmt.Errorf("-reps %d: need at least 1", c.Reps)
	case c.Limit < 1:
		return fmt.Errorf("-limit %d: need at least 1", c.Limit)
	case c.Attempts < 1:
		return fmt.Errorf("-attempts %d: need at least 1", c.Attempts)
	case c.Budget < 0, c.Window < 0, c.Timeout < 0:
		return errors.New("-budget, -window and -timeout must not be negative")
	case (c.Client == "") != (c.Org == ""):
		return errors.New("-client and -org go together")
	case c.Client == "" && c.Server != "":
		return errors.New("-server needs -client and -org")
	case c.Cost && (c.CostMboxes < 1 || c.CostMboxes > 1000):
		return fmt.Errorf("-cost-mboxes %d: want 1 to 1000", c.CostMboxes)
	case c.Cost && (c.CostParallel < 1 || c.CostParallel > 10000):
		return fmt.Errorf("-cost-parallel %d: want 1 to 10000", c.CostParallel)
	case c.Cost && c.CostBudget <= 0:
		return fmt.Errorf("-cost-time %v: must be positive", c.CostBudget)
	case c.Cost && (c.Client != "" || c.Replay != "" || c.JSON != "" || c.SVG != ""):
		return errors.New("-cost measures against its own local edge and prints a table: no -client, -replay, -json or -svg")
	case c.Progress != "auto" && c.Progress != "on" && c.Progress != "off":
		return fmt.Errorf("-progress %q: want auto, on or off", c.Progress)
	}
	if c.Artifact != "" {
		if u, err := url.Parse(c.Artifact); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-artifact %q: not an http or https URL", c.Artifact)
		}
	}
	if c.Client == "" {
		return targettest.Config{Latency: c.Latency, Faults: c.Faults}.Validate()
	}
	return nil
}

func parseCounts(s string) ([]int, error) {
	var counts []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("-counts: %q is not a count between 1 and 10000", f)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

func strategyNames() string {
	names := make([]string, len(strategies))
	for i, s := range strategies {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// parseStrategies returns the chosen names in registry order, so that
// sequential, the reference for speedups, runs first whatever the order
// on the command line.
func parseStrategies(s string) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return strings.Split(strategyNames(), ", "), nil
	}
	want := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if lookup(f) == nil {
			return nil, fmt.Errorf("-strategies: unknown strategy %q (have %s)", f, strategyNames())
		}
		want[f] = true
	}
	var names []string
	for _, st := range strategies {
		if want[st.Name] {
			names = append(names, st.Name)
		}
	}
	return names, nil
}

func lookup(name string) *strategy {
	for i := range strategies {
		if strategies[i].Name == name {
			return &strategies[i]
		}
	}
	return nil
}

func parseFaults(s string) (targettest.Faults, error) {
	var f targettest.Faults
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		p, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || p < 0 || p > 1 {
			return f, fmt.Errorf("-faults: %q is not kind=probability with a probability in [0, 1]", kv)
		}
		switch k {
		case "5xx":
			f.ServerError = p
		case "429":
			f.TooManyRequests = p
		case "reset":
			f.Reset = p
		case "slow":
			f.SlowBody = p
		case "garbage":
			f.MalformedJSON = p
		default:
			return f, fmt.Errorf("-faults: unknown kind %q (have 5xx, 429, reset, slow, garbage)", k)
		}
	}
	return f, nil
}
