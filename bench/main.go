// Command bench measures how long a server waits for the Target decisions of
// one page, for each way of making the calls.
//
// With no flags it starts a local Delivery edge in-process over TLS, with a
// latency model of about 30 ms at the median and a long tail (see -h), and for
// 1, 5, 20 and 100 mboxes times each strategy over repetitions, printing per
// count the median and tail wall times, the speedup over sequential calls,
// the ratio to the physical limit (the slowest single round trip of the same
// repetition), and the HTTP requests and connections the edge saw. It needs
// no network and finishes in well under a minute on two cores.
//
//	go run ./bench
//	go run ./bench -counts 1,10,50 -reps 30 -json out.json -svg out.svg
//	go run ./bench -faults 5xx=0.02,reset=0.01 -attempts 3
//	go run ./bench -client acme -org 0123@AdobeOrg      # a real edge
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	if spec := os.Getenv(edgeEnv); spec != "" {
		// This process is the local edge of a -cost run's parent.
		if err := serveEdgeChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "bench edge:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

// run is the whole command: it parses args, measures, and writes the tables
// to out and the files the flags ask for.
func run(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	if cfg.Cost {
		return runCost(ctx, cfg, out)
	}
	var res *results
	if cfg.Replay != "" {
		res, err = replay(cfg.Replay, out)
	} else {
		res, err = measure(ctx, cfg, out)
	}
	if err != nil {
		return err
	}
	if cfg.JSON != "" {
		if err := writeFile(cfg.JSON, func(w io.Writer) error { return writeJSON(w, res) }); err != nil {
			return err
		}
	}
	if cfg.SVG != "" {
		if err := writeFile(cfg.SVG, func(w io.Writer) error { return writeSVG(w, res) }); err != nil {
			return err
		}
	}
	return nil
}

func measure(ctx context.Context, cfg config, out io.Writer) (*results, error) {
	b, err := newBench(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.close()
	showBar := cfg.Progress == "on" || cfg.Progress == "auto" && isTerminal(out)
	return b.measure(ctx, out, newProgress(out, showBar))
}

// replay reads the results of an earlier run and prints them as that run
// did.
func replay(name string, out io.Writer) (*results, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s is not the -json output of a run: %w", name, err)
	}
	writeHeader(out, &res)
	for i := 0; i < len(res.Cells); {
		j := i
		for j < len(res.Cells) && res.Cells[j].Mboxes == res.Cells[i].Mboxes {
			j++
		}
		writeTable(out, res.Cells[i].Mboxes, res.Cells[i:j])
		i = j
	}
	fmt.Fprintf(out, "measured %s in %.1fs\n", res.Started.Format(time.RFC3339), res.Elapsed.Seconds())
	return &res, nil
}

// isTerminal reports whether w is a character device, such as a terminal:
// the progress bar redraws its line with \r, which would litter a file or a
// pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return f.Close()
}
