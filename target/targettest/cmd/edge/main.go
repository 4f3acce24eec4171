// Command edge runs the local Target Delivery API edge of package
// targettest as a standalone server, for clients in other languages (such
// as Adobe's own SDKs) and for trying the SDK by hand.
//
// Usage:
//
//	go run ./target/targettest/cmd/edge [flags]
//
// It prints its base URL on the first line of standard output, then serves
// until SIGINT or SIGTERM. With -tls it serves a certificate generated at
// start for *.tt.omtrdc.net, tt.omtrdc.net, assets.adobetarget.com,
// localhost and the loopback addresses; -cert-out writes it as PEM for the
// client to trust (for Node, NODE_EXTRA_CA_CERTS).
//
// Offers come from a JSON file (-offers) in the form of targettest.Offers:
//
//	{"mboxes": {"hero": {"options": [{"type": "html", "content": "<p>Hi</p>"}]}},
//	 "views": {"home": {"options": [{"type": "actions", "content": []}]}},
//	 "pageLoad": {"options": [{"type": "json", "content": {"a": 1}}]}}
//
// It also serves an on-device rules artifact built from the offers at
// {base URL}/{client}/production/v1/rules.json, for an SDK's artifact
// location.
//
// Latency and faults are set by flags; all draws come from -seed, so a run
// can be repeated exactly. Run with -h for the flags.
package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/target-go/sdk/target/targettest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "edge:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       targettest.Config
		addr      = fs.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
		useTLS    = fs.Bool("tls", false, "serve HTTPS with a certificate generated at start; HTTP/2 and HTTP/1.1 are offered")
		certOut   = fs.String("cert-out", "", "with -tls, write the certificate as PEM to this file")
		offers    = fs.String("offers", "", "JSON file of offers (see targettest.Offers)")
		verbose   = fs.Bool("v", false, "log every request to standard error, not only the rejected ones")
		retryWait = fs.Duration("retry-after", 0, "Retry-After of injected 429 answers (default 1s)")
	)
	fs.StringVar(&cfg.Client, "client", targettest.DefaultClient, "client code answered as \"client\"")
	fs.StringVar(&cfg.OrganizationID, "org", targettest.DefaultOrganizationID, "IMS organization id accepted as imsOrgId")
	fs.StringVar(&cfg.Cluster, "cluster", "", "location hint of minted tntIds and edgeHost (default "+targettest.DefaultCluster+")")
	fs.BoolVar(&cfg.HTTP1Only, "http1", false, "with -tls, offer only HTTP/1.1, not HTTP/2")
	fs.BoolVar(&cfg.NoCluster, "no-cluster", false, "mint tntIds without a location hint and send no edgeHost, so clients keep calling this server")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the latency and fault draws and of minted ids")
	fs.DurationVar(&cfg.Latency.Fixed, "latency", 0, "fixed latency added to every answer")
	fs.DurationVar(&cfg.Latency.Median, "latency-median", 0, "median of a log-normal latency added to -latency")
	fs.DurationVar(&cfg.Latency.P99, "latency-p99", 0, "99th percentile of the log-normal latency (with -latency-median)")
	fs.Float64Var(&cfg.Faults.ServerError, "fault-5xx", 0, "probability of a 503 answer")
	fs.Float64Var(&cfg.Faults.TooManyRequests, "fault-429", 0, "probability of a 429 answer with Retry-After")
	fs.Float64Var(&cfg.Faults.Reset, "fault-reset", 0, "probability of a connection reset")
	fs.Float64Var(&cfg.Faults.SlowBody, "fault-slow", 0, "probability of a body trickled 16 bytes every 20ms")
	fs.Float64Var(&cfg.Faults.MalformedJSON, "fault-malformed", 0, "probability of a truncated JSON body")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Faults.RetryAfter = *retryWait
	if *certOut != "" && !*useTLS {
		return errors.New("-cert-out needs -tls")
	}
	if cfg.HTTP1Only && !*useTLS {
		return errors.New("-http1 needs -tls: plain HTTP is HTTP/1.1 already")
	}
	if *offers != "" {
		b, err := os.ReadFile(*offers)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &cfg.Offers); err != nil {
			return fmt.Errorf("%s: %w", *offers, err)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.RecordLimit = -1 // nobody reads the record of a standalone edge
	if err := cfg.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	cfg.Listener = ln

	var srv *targettest.Server
	if *useTLS {
		srv = targettest.NewTLSServer(cfg)
	} else {
		srv = targettest.NewServer(cfg)
	}
	defer srv.Close()
	if *certOut != "" {
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(*certOut, pemBytes, 0o644); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(stdout, srv.URL); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
