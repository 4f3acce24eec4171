package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const msec = time.Millisecond

func TestPercentile(t *testing.T) {
	t.Parallel()
	ten := []time.Duration{10 * msec, 1 * msec, 9 * msec, 2 * msec, 8 * msec, 3 * msec, 7 * msec, 4 * msec, 6 * msec, 5 * msec}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", []time.Duration{7 * msec}, 99, 7 * msec},
		{"median of ten is the fifth", ten, 50, 5 * msec},
		{"p95 of ten is the maximum", ten, 95, 10 * msec},
		{"p90 of ten is the ninth", ten, 90, 9 * msec},
		{"p100 is the maximum", ten, 100, 10 * msec},
		{"a tiny p is the minimum", ten, 0.1, 1 * msec},
		{"odd count median is the middle", []time.Duration{3 * msec, 1 * msec, 2 * msec}, 50, 2 * msec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := append([]time.Duration(nil), tt.ds...)
			assert.Equal(t, tt.want, percentile(tt.ds, tt.p))
			assert.Equal(t, before, tt.ds, "percentile must not reorder its input")
		})
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	assert.Zero(t, median(nil))
	assert.InDelta(t, 2.0, median([]float64{3, 1, 2}), 0)
	assert.InDelta(t, 2.0, median([]float64{4, 1, 3, 2}), 0, "even count: the lower middle, a measured value")
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	reps := []rep{
		{Wall: 100 * msec, Limit: 50 * msec, Calls: 4},
		{Wall: 300 * msec, Limit: 100 * msec, Calls: 4, Errors: 1},
		{Wall: 200 * msec, Limit: 0, Calls: 0, Errors: 4}, // no call answered: no ratio
	}
	s := summarize(reps, 12, 5)
	require.Equal(t, 3, s.Reps)
	assert.Equal(t, 200*msec, s.P50)
	assert.Equal(t, 300*msec, s.P95)
	assert.Equal(t, 300*msec, s.P99)
	assert.Equal(t, 300*msec, s.Max)
	assert.Equal(t, 50*msec, s.LimitP50)
	assert.InDelta(t, 2.0, s.OverLimit, 1e-9, "ratios 2 and 3; the lower middle")
	assert.InDelta(t, 4.0, s.Requests, 1e-9)
	assert.Equal(t, int64(5), s.Connections)
	assert.Equal(t, 5, s.Errors)

	assert.Zero(t, summarize(nil, 0, 0).Requests, "no repetitions must not divide by zero")
}

func TestSetSpeedups(t *testing.T) {
	t.Parallel()
	cells := []cell{
		{Strategy: "futures", summary: summary{P50: 50 * msec}},
		{Strategy: "sequential", summary: summary{P50: 400 * msec}},
		{Strategy: "map", summary: summary{}},
	}
	setSpeedups(cells)
	assert.InDelta(t, 8.0, cells[0].Speedup, 1e-9)
	assert.InDelta(t, 1.0, cells[1].Speedup, 1e-9)
	assert.Zero(t, cells[2].Speedup, "no measurement, no speedup")

	without := []cell{{Strategy: "futures", summary: summary{P50: 50 * msec}}}
	setSpeedups(without)
	assert.Zero(t, without[0].Speedup, "no sequential cell to compare with")
}
