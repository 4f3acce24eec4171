package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlagsDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 5, 20, 100}, cfg.Counts)
	assert.Equal(t, []string{"sequential", "futures", "callback", "map", "one-request", "coalesced", "visitor", "visitor-new", "on-device", "errgroup", "conc"}, cfg.Strategies)
	assert.Equal(t, defaultLatency, cfg.Latency)
	assert.True(t, cfg.TLS, "the default edge is HTTPS, as the real one")
	assert.Empty(t, cfg.Client, "the default is the local edge")
	assert.Equal(t, 10, cfg.Reps)
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, cfg config)
		err   string // a part of the error, naming the flag
	}{
		{name: "counts", args: []string{"-counts", "2, 7"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, []int{2, 7}, cfg.Counts)
		}},
		{name: "strategies keep registry order", args: []string{"-strategies", "conc,sequential"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, []string{"sequential", "conc"}, cfg.Strategies)
		}},
		{name: "faults", args: []string{"-faults", "5xx=0.1,reset=0.05,429=0.01,slow=0.02,garbage=0.03"}, check: func(t *testing.T, cfg config) {
			assert.InDelta(t, 0.1, cfg.Faults.ServerError, 0)
			assert.InDelta(t, 0.05, cfg.Faults.Reset, 0)
			assert.InDelta(t, 0.01, cfg.Faults.TooManyRequests, 0)
			assert.InDelta(t, 0.02, cfg.Faults.SlowBody, 0)
			assert.InDelta(t, 0.03, cfg.Faults.MalformedJSON, 0)
		}},
		{name: "no random latency drops p99 and max", args: []string{"-latency-median", "0", "-latency-fixed", "1ms"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, time.Millisecond, cfg.Latency.Fixed)
			assert.Zero(t, cfg.Latency.P99)
			assert.Zero(t, cfg.Latency.Max)
		}},
		{name: "real edge", args: []string{"-client", "acme", "-org", "X@AdobeOrg", "-server", "acme.example:443"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, "acme", cfg.Client)
			assert.Equal(t, "acme.example:443", cfg.Server)
		}},
		{name: "bad count", args: []string{"-counts", "1,x"}, err: "-counts"},
		{name: "zero count", args: []string{"-counts", "0"}, err: "-counts"},
		{name: "unknown strategy", args: []string{"-strategies", "magic"}, err: `unknown strategy "magic"`},
		{name: "unknown fault", args: []string{"-faults", "fire=0.1"}, err: `unknown kind "fire"`},
		{name: "fault out of range", args: []string{"-faults", "5xx=2"}, err: "-faults"},
		{name: "faults over one", args: []string{"-faults", "5xx=0.6,reset=0.6"}, err: "Faults"},
		{name: "p99 below median", args: []string{"-latency-median", "20ms", "-latency-p99", "10ms"}, err: "P99"},
		{name: "reps", args: []string{"-reps", "0"}, err: "-reps"},
		{name: "limit", args: []string{"-limit", "0"}, err: "-limit"},
		{name: "attempts", args: []string{"-attempts", "0"}, err: "-attempts"},
		{name: "client without org", args: []string{"-client", "acme"}, err: "-client and -org"},
		{name: "server without client", args: []string{"-server", "x:1"}, err: "-server"},
		{name: "progress", args: []string{"-progress", "maybe"}, err: "-progress"},
		{name: "artifact", args: []string{"-artifact", "https://cdn.example/acme/production/v1/rules.json"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, "https://cdn.example/acme/production/v1/rules.json", cfg.Artifact)
		}},
		{name: "artifact not a URL", args: []string{"-artifact", "rules.json"}, err: "-artifact"},
		{name: "stray argument", args: []string{"now"}, err: `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseFlags(tt.args, io.Discard)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	_, err := parseFlags([]string{"-h"}, &out)
	require.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "Usage: go run ./bench")
	assert.Contains(t, out.String(), "-latency-median")
}
