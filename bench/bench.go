package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// bench holds what stays the same for a whole run: the edge, the visitor and
// the mbox names.
type bench struct {
	cfg   config
	edge  *targettest.Server // nil when measuring a real edge
	base  *http.Transport    // cloned for each cell, so each starts cold
	where string             // the edge, for the report

	// Counters for a real edge, whose own counters we cannot read.
	requests, conns atomic.Int64

	names   []string
	visitor target.GetOffersOptions
}

// env is what a strategy's run gets: a client with its own connection pool,
// a coalescer over it, and the visitor every call is for. For an on-device
// strategy the client decides from the edge's artifact, and notes follows
// its display notifications.
type env struct {
	client    *target.Client
	coalescer *target.Coalescer
	visitor   target.GetOffersOptions
	limit     int
	notes     *notifications // nil unless the client decides on-device
}

// notifications follows the display notification requests an on-device
// client sends in the background: the strategy counts those its calls
// cause (expect), the client's OnNotificationsSent callback those that have
// ended (sent), so that a repetition's notifications can be waited for
// outside its timing and the next one starts on a quiet client.
type notifications struct {
	expected, done, failed atomic.Int64
	signal                 chan struct{} // one pending wake-up is enough
}

func newNotifications() *notifications {
	return &notifications{signal: make(chan struct{}, 1)}
}

func (n *notifications) expect(k int) { n.expected.Add(int64(k)) }

// sent is the client's OnNotificationsSent.
func (n *notifications) sent(_ *target.Response, err error) {
	if err != nil {
		n.failed.Add(1)
	}
	n.done.Add(1)
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

// wait returns when every expected notification request has ended, or
// with ctx's error.
func (n *notifications) wait(ctx context.Context) error {
	for n.done.Load() < n.expected.Load() {
		select {
		case <-n.signal:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d display notification requests still in flight: %w",
				n.expected.Load()-n.done.Load(), n.expected.Load(), ctx.Err())
		}
	}
	return nil
}

func newEnv(c *target.Client, visitor target.GetOffersOptions, limit int, window time.Duration) (*env, error) {
	co, err := c.NewCoalescer(target.CoalesceOptions{Window: window})
	if err != nil {
		return nil, err
	}
	return &env{client: c, coalescer: co, visitor: visitor, limit: limit}, nil
}

// options returns GetOffers options executing the named mboxes for the
// bench's visitor, with indexes 0..len(names)-1.
func (e *env) options(names ...string) target.GetOffersOptions {
	o := e.visitor
	ms := make([]target.MboxRequest, len(names))
	for i, n := range names {
		ms[i] = target.MboxRequest{Index: i, Name: n}
	}
	o.Request = target.DeliveryRequest{
		Context: &target.Context{Channel: target.ChannelWeb},
		Execute: &target.ExecuteRequest{Mboxes: ms},
	}
	return o
}

// newBench starts the local edge (or prepares for the real one) and makes
// the visitor: one call without cookies, whose answer gives the mbox and
// mboxEdgeCluster cookies every measured call then carries, as the calls of
// a returning visitor's page would.
func newBench(ctx context.Context, cfg config) (*bench, error) {
	n := 0
	for _, c := range cfg.Counts {
		n = max(n, c)
	}
	// The session id is used until the edge's mbox cookie gives one: with a
	// session known, the coalescer can merge the visitor's calls.
	b := &bench{cfg: cfg, visitor: target.GetOffersOptions{SessionID: fmt.Sprintf("bench-%d", time.Now().UnixNano())}}
	for i := range n {
		b.names = append(b.names, fmt.Sprintf("%s%d", cfg.Mbox, i+1))
	}
	if cfg.Client == "" {
		ecfg := targettest.Config{
			Offers:      offers(b.names),
			Latency:     cfg.Latency,
			Faults:      cfg.Faults,
			Seed:        cfg.Seed,
			RecordLimit: -1,
		}
		if cfg.TLS {
			b.edge = targettest.NewTLSServer(ecfg)
			b.where = "local edge, in-process, HTTPS"
		} else {
			b.edge = targettest.NewServer(ecfg)
			b.where = "local edge, in-process, HTTP"
		}
		b.base = b.edge.HTTPClient().Transport.(*http.Transport)
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
		b.base = t
		b.where = "https://" + cmp.Or(cfg.Server, cfg.Client+".tt.omtrdc.net")
	}

	if err := b.meetVisitor(ctx); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// meetVisitor makes the first call, without cookies, and keeps the cookies
// of its answer for the calls measured.
func (b *bench) meetVisitor(ctx context.Context) error {
	e, done, err := b.newEnv(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	resp, err := e.client.GetOffers(ctx, e.options(b.names[0])).Await(ctx)
	if err != nil {
		return fmt.Errorf("first call to the edge: %w", err)
	}
	if resp.TargetCookie != nil {
		b.visitor.TargetCookie = resp.TargetCookie.Value
	}
	if resp.TargetLocationHintCookie != nil {
		b.visitor.TargetLocationHint = resp.TargetLocationHintCookie.Value
	}
	return nil
}

// offers gives each mbox a small JSON offer, the size of a typical feature
// flag or hero-banner configuration, so that answers carry real content.
func offers(names []string) targettest.Offers {
	o := targettest.Offers{Mboxes: map[string]targettest.Offer{}}
	for i, n := range names {
		content := fmt.Sprintf(`{"headline":"Offer %d","cta":"Shop now","color":"#%06x","experience":"B"}`, i+1, i*2654435761&0xffffff)
		o.Mboxes[n] = targettest.Offer{
			Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(content)}},
			Metrics: []target.Metric{{Type: target.MetricTypeClick, Selector: "#cta"}},
		}
	}
	return o
}

func (b *bench) close() {
	if b.edge != nil {
		b.edge.Close()
	}
}

// newEnv returns a client with a connection pool of its own, and the
// function that closes the client and that pool's connections. An
// on-device client has its first artifact when newEnv returns: from the
// local edge, or from Target's CDN for a real edge.
func (b *bench) newEnv(ctx context.Context, onDevice bool) (*env, func(), error) {
	t := b.base.Clone()
	var cfg target.Config
	var rt http.RoundTripper = t
	if b.edge != nil {
		cfg = b.edge.ClientConfig()
	} else {
		cfg = target.Config{Client: b.cfg.Client, OrganizationID: b.cfg.Org, ServerDomain: b.cfg.Server}
		dial := t.DialContext
		if dial == nil {
			dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		}
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			b.conns.Add(1)
			return dial(ctx, network, addr)
		}
		rt = countingTransport{t, &b.requests}
	}
	cfg.HTTPClient = &http.Client{Transport: rt}
	cfg.Timeout = b.cfg.Timeout
	cfg.Retry = target.RetryPolicy{MaxAttempts: b.cfg.Attempts}
	var notes *notifications
	var downloadErr atomic.Pointer[error]
	// The wait for the first artifact ends at the first failed download:
	// the client would retry, but a location that fails once (a client
	// without on-device decisioning gets a 403 or 404 from the CDN) is
	// unlikely to answer a second later.
	ready, giveUp := context.WithTimeout(ctx, 30*time.Second)
	defer giveUp()
	if onDevice {
		location := b.cfg.Artifact
		if location == "" && b.edge != nil {
			location = b.edge.ArtifactURL()
		}
		notes = configureOnDevice(&cfg, location) // "": Target's CDN
		cfg.OnDevice.OnArtifactDownloadFailed = func(_ string, err error) {
			downloadErr.CompareAndSwap(nil, &err)
			giveUp()
		}
	}
	c, err := target.NewClient(cfg)
	if err != nil {
		t.CloseIdleConnections()
		return nil, nil, err
	}
	// Close waits for the display notifications in flight, so none is left
	// running when the cell ends.
	done := func() {
		_ = c.Close(context.Background())
		t.CloseIdleConnections()
	}
	if onDevice {
		if _, err := c.Ready().Await(ready); err != nil {
			if last := downloadErr.Load(); last != nil {
				err = *last
			}
			done()
			return nil, nil, fmt.Errorf("on-device artifact: %w", err)
		}
	}
	e, err := newEnv(c, b.visitor, b.cfg.Limit, b.cfg.Window)
	if err != nil {
		done()
		return nil, nil, err
	}
	e.notes = notes
	return e, done, nil
}

// configureOnDevice makes cfg decide on-device from the artifact at
// location (empty: Target's CDN) and returns what follows its display
// notifications.
func configureOnDevice(cfg *target.Config, location string) *notifications {
	notes := newNotifications()
	cfg.DecisioningMethod = target.OnDevice
	cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: location, OnNotificationsSent: notes.sent}
	return notes
}

// settle waits, outside any timing, for the display notifications an
// on-device strategy's calls started: they belong to the repetition that
// caused them, and the next one starts without them.
func (b *bench) settle(ctx context.Context, e *env) error {
	if e.notes == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(b.cfg.Attempts)*b.cfg.Timeout+5*time.Second)
	defer cancel()
	return e.notes.wait(ctx)
}

// countingTransport counts the requests sent to a real edge.
type countingTransport struct {
	http.RoundTripper
	n *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.RoundTripper.RoundTrip(r)
}

// counters returns the HTTP requests and connections seen so far.
func (b *bench) counters() (requests, conns int64) {
	if b.edge != nil {
		s := b.edge.Stats()
		return s.Requests, s.Connections
	}
	return b.requests.Load(), b.conns.Load()
}

// cell is one strategy at one mbox count.
type cell struct {
	Strategy string `json:"strategy"`
	Mboxes   int    `json:"mboxes"`
	summary
	Repetitions []rep `json:"repetitions"`
}

// results is everything a run measured.
type results struct {
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Edge    string        `json:"edge"`
	Machine machine       `json:"machine"`
	Config  config        `json:"config"`
	Cells   []cell        `json:"cells"`
}

type machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	// LoadAvg is /proc/loadavg at the start, where there is one: on a
	// shared machine it says how much else was running.
	LoadAvg string `json:"loadavg,omitempty"`
}

func thisMachine() machine {
	m := machine{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(),
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// measure runs every chosen strategy at every count and prints each count's
// table as soon as it is complete.
func (b *bench) measure(ctx context.Context, out io.Writer, bar *progress) (*results, error) {
	if err := b.probeOnDevice(ctx, out); err != nil {
		return nil, err
	}
	res := &results{Started: time.Now(), Edge: b.where, Machine: thisMachine(), Config: b.cfg}
	writeHeader(out, res)
	bar.start(len(b.cfg.Counts) * len(b.cfg.Strategies) * (b.cfg.Reps + 1))
	for _, n := range b.cfg.Counts {
		var cells []cell
		for _, name := range b.cfg.Strategies {
			c, err := b.cell(ctx, lookup(name), b.names[:n], bar)
			if err != nil {
				bar.clear()
				return nil, err
			}
			cells = append(cells, c)
		}
		setSpeedups(cells)
		bar.clear()
		writeTable(out, n, cells)
		res.Cells = append(res.Cells, cells...)
	}
	bar.clear()
	res.Elapsed = time.Since(res.Started)
	fmt.Fprintf(out, "done in %.1fs\n", res.Elapsed.Seconds())
	return res, nil
}

// probeOnDevice checks, when on-device strategies are chosen, that their
// artifact loads, and otherwise leaves them out with a note: a real edge's
// client need not have on-device decisioning, and the other strategies
// still tell their story. It fails only when nothing would be left.
func (b *bench) probeOnDevice(ctx context.Context, out io.Writer) error {
	var kept []string
	for _, name := range b.cfg.Strategies {
		if !lookup(name).OnDevice {
			kept = append(kept, name)
			continue
		}
		_, done, err := b.newEnv(ctx, true)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(out, "%s: left out: %v\n", name, err)
			continue
		}
		done()
		kept = append(kept, name)
	}
	if len(kept) == 0 {
		return errors.New("no strategy left to measure")
	}
	b.cfg.Strategies = kept
	return nil
}

// cell measures one strategy at one count: a warm-up repetition on a fresh
// connection pool (a server keeps its pool warm, so only the first page pays
// for connections), then cfg.Reps timed ones, fewer when they take more than
// cfg.Budget (never fewer than three, or than Reps if it is smaller), on the
// local edge's seeded latencies from their start.
func (b *bench) cell(ctx context.Context, s *strategy, names []string, bar *progress) (cell, error) {
	e, done, err := b.newEnv(ctx, s.OnDevice)
	if err != nil {
		return cell{}, err
	}
	defer done()
	// Garbage from the previous cell is collected now rather than inside
	// this one's timings.
	runtime.GC()

	bar.at(fmt.Sprintf("%s n=%d", s.Name, len(names)))
	_, conns0 := b.counters()
	warm := names
	if s.Serial {
		warm = names[:1] // one call at a time uses one connection
	}
	s.run(ctx, e, warm, &recorder{})
	if err := b.settle(ctx, e); err != nil {
		return cell{}, err
	}
	bar.step()
	_, conns1 := b.counters()
	warmConns := conns1 - conns0
	if b.edge != nil {
		// Every cell's repetitions see the same sequence of latencies (and
		// faults): the strategies are compared on the same draws, not on
		// luck. Reset also zeroes the counters, hence the reads around it.
		b.edge.Reset()
	}

	req0, conns0 := b.counters()
	start := time.Now()
	reps := make([]rep, 0, b.cfg.Reps)
	for i := range b.cfg.Reps {
		if err := ctx.Err(); err != nil {
			return cell{}, err
		}
		rec := &recorder{}
		t := time.Now()
		s.run(ctx, e, names, rec)
		wall := time.Since(t)
		if err := b.settle(ctx, e); err != nil {
			return cell{}, err
		}
		reps = append(reps, rep{Wall: wall, Limit: rec.limit, Calls: rec.calls, Errors: len(names) - rec.decided})
		bar.step()
		if i+1 >= 3 && i+1 < b.cfg.Reps && time.Since(start) > b.cfg.Budget {
			bar.skip(b.cfg.Reps - i - 1)
			break
		}
	}
	req1, conns2 := b.counters()
	return cell{
		Strategy:    s.Name,
		Mboxes:      len(names),
		summary:     summarize(reps, req1-req0, warmConns+conns2-conns0),
		Repetitions: reps,
	}, nil
}

// setSpeedups sets each cell's speedup over the sequential cell of the same
// count, when there is one.
func setSpeedups(cells []cell) {
	for _, ref := range cells {
		if ref.Strategy != "sequential" || ref.P50 <= 0 {
			continue
		}
		for i := range cells {
			if cells[i].P50 > 0 {
				cells[i].Speedup = float64(ref.P50) / float64(cells[i].P50)
			}
		}
	}
}
