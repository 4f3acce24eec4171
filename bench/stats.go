package main

import (
	"math"
	"slices"
	"time"
)

// rep is what one repetition of one strategy measured.
type rep struct {
	// Wall is the time from the first call started to the last result in
	// hand, as the code awaiting the results sees it.
	Wall time.Duration `json:"wall_ns"`
	// Limit is the physical limit of this repetition: the slowest single
	// round trip among its HTTP calls. No way of issuing those calls can
	// finish before that answer has arrived.
	Limit time.Duration `json:"limit_ns"`
	// Calls is the number of HTTP calls the client made, Errors the number
	// of mboxes that got no decision.
	Calls  int `json:"calls"`
	Errors int `json:"errors"`
}

// summary condenses the repetitions of one cell (one strategy at one mbox
// count).
type summary struct {
	Reps int           `json:"reps"`
	P50  time.Duration `json:"p50_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	// LimitP50 is the median of the repetitions' physical limits, and
	// OverLimit the median of each repetition's wall time divided by its
	// own limit: 1 is as fast as the network allows.
	LimitP50  time.Duration `json:"limit_p50_ns"`
	OverLimit float64       `json:"over_limit"`
	// Speedup is the sequential strategy's P50 over this one's; zero when
	// sequential was not measured.
	Speedup float64 `json:"speedup,omitempty"`
	// Requests and Connections are what the edge saw per repetition
	// (requests) and over the whole cell, warm-up included (connections
	// opened: a kept-alive connection is opened once and reused).
	Requests    float64 `json:"requests_per_rep"`
	Connections int64   `json:"connections"`
	Errors      int     `json:"errors"`
}

// percentile returns the p-th percentile (0 < p <= 100) of ds by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It never interpolates, so every figure printed is a wall time
// that was actually measured; with few repetitions the high percentiles are
// the maximum. It returns 0 for no values and does not modify ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// median of fs (the lower of the two middle values for an even count, so
// that, as for percentile, the figure is one that was measured).
func median(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// summarize computes a cell's figures from its repetitions; requests and
// connections come from the edge.
func summarize(reps []rep, requests, connections int64) summary {
	walls := make([]time.Duration, len(reps))
	limits := make([]time.Duration, len(reps))
	ratios := make([]float64, 0, len(reps))
	errs := 0
	for i, r := range reps {
		walls[i], limits[i] = r.Wall, r.Limit
		if r.Limit > 0 {
			ratios = append(ratios, float64(r.Wall)/float64(r.Limit))
		}
		errs += r.Errors
	}
	s := summary{
		Reps:        len(reps),
		P50:         percentile(walls, 50),
		P95:         percentile(walls, 95),
		P99:         percentile(walls, 99),
		Max:         percentile(walls, 100),
		LimitP50:    percentile(limits, 50),
		OverLimit:   median(ratios),
		Connections: connections,
		Errors:      errs,
	}
	if len(reps) > 0 {
		s.Requests = float64(requests) / float64(len(reps))
	}
	return s
}
