// Command webapp is a sample server that uses the Target SDK the way a
// real integration does: one shared client, a target.Visitor per incoming
// request made from its mbox and mboxEdgeCluster cookies, every call of
// the request made through it, and its one pair of cookies set on the
// answer; and a page per kind of call.
//
//	go run ./examples/webapp                    # on a local edge, no account needed
//	go run ./examples/webapp -client acme -org 0123@AdobeOrg
//
// Then open http://localhost:8080/. The pages:
//
//	GET  /executePageLoad                   the page-load (global mbox) decision
//	GET  /executeMboxes?mbox=hero,flags     decisions for the named mboxes
//	GET  /prefetchMboxes?mbox=hero          prefetched mboxes, with event tokens
//	GET  /prefetchViews[?view=home]         prefetched views (all without ?view)
//	GET  /getAttributes?mbox=flags          the JSON offers of mboxes as attributes
//	GET  /page?mbox=hero,banner             one call per mbox in parallel, plus the flags
//	POST /sendNotifications                 {"notifications": [...]} as in the Delivery API
//
// The GET pages that call GetOffers take async=true to use the callback
// options (Callback and ErrCallback, like the Python SDK's
// options.callback) instead of awaiting the future.
//
// With -otel every page's server span, its Target call spans and their
// HTTP attempts are printed to stdout as they end, and the SDK's metrics
// every 10 s and at exit (package targetotel, the OpenTelemetry stdout
// exporters).
//
// Flags have environment variable defaults: ADDR, TARGET_CLIENT,
// TARGET_ORGANIZATION_ID and TARGET_SERVER_DOMAIN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, if not nil, is called with the address
// the server listens on once it accepts connections.
func run(ctx context.Context, args []string, out io.Writer, ready func(addr string)) (err error) {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", env("ADDR", "localhost:8080"), "address to serve on")
	client := fs.String("client", env("TARGET_CLIENT", ""), "Target client code; empty runs a local edge")
	org := fs.String("org", env("TARGET_ORGANIZATION_ID", ""), "IMS organization id (with -client)")
	server := fs.String("server", env("TARGET_SERVER_DOMAIN", ""), "Target server domain (host[:port]); default {client}.tt.omtrdc.net")
	timeout := fs.Duration("timeout", time.Second, "timeout of each Target call")
	otelFlag := fs.Bool("otel", false, "print OpenTelemetry spans (as they end) and metrics (every 10s and at exit) to stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))

	cfg := target.Config{Client: *client, OrganizationID: *org, ServerDomain: *server}
	where := "https://" + *server
	if *client == "" {
		if *org != "" || *server != "" {
			return errors.New("-org and -server need -client")
		}
		edge := targettest.NewTLSServer(demoEdge())
		defer edge.Close()
		cfg = edge.ClientConfig()
		where = "local edge at " + edge.URL
	} else if *server == "" {
		where = "https://" + *client + ".tt.omtrdc.net"
	}
	cfg.Timeout = *timeout
	cfg.Logger = log
	var tel *telemetry
	if *otelFlag {
		if tel, err = newTelemetry(out); err != nil {
			return err
		}
		defer func() {
			err = errors.Join(err, tel.shutdown(context.Background()))
		}()
		cfg.Observer = tel.observer
	}
	c, err := target.NewClient(cfg)
	if err != nil {
		return err
	}
	defer func() {
		// After the server has stopped: deliver the notifications still
		// queued, for at most a few seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			log.Warn("closing the Target client", "error", err)
		}
	}()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	handler := (&app{client: c, log: log, edge: where}).routes()
	if tel != nil {
		handler = tel.handler(handler)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
	}
	fmt.Fprintf(out, "serving on http://%s/ (Target: %s)\n", ln.Addr(), where)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// demoEdge is the local edge's configuration: a few mboxes, two views and a
// page-load offer, answered after a realistic delay.
func demoEdge() targettest.Config {
	click := []target.Metric{{Type: target.MetricTypeClick, Selector: "#cta"}}
	return targettest.Config{
		Offers: targettest.Offers{
			Mboxes: map[string]targettest.Offer{
				"hero":   {Options: []target.Option{{Type: target.OptionTypeHTML, Content: []byte(`"<h2>Winter sale: 20% off</h2>"`)}}, Metrics: click},
				"banner": {Options: []target.Option{{Type: target.OptionTypeHTML, Content: []byte(`"<div class=\"banner\">Free shipping</div>"`)}}},
				"flags":  {Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(`{"newCheckout":true,"searchResults":24,"theme":"dark"}`)}}},
			},
			Views: map[string]targettest.Offer{
				"home":     {Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(`{"layout":"grid"}`)}}},
				"checkout": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(`{"oneClick":true}`)}}},
			},
			PageLoad: &targettest.Offer{Options: []target.Option{{Type: target.OptionTypeHTML, Content: []byte(`"<p>Welcome back</p>"`)}}},
		},
		Latency: targettest.Latency{Fixed: 5 * time.Millisecond, Median: 15 * time.Millisecond, P99: 100 * time.Millisecond},
	}
}
