package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// floor is the least any Go program must do for a Delivery call: encode the
// request with encoding/json, POST it with net/http on a keep-alive
// connection, read the body and decode it into the SDK's own
// DeliveryResponse. It copies nothing, sends no telemetry, keeps no timings,
// redacts nothing and settles no future: the SDK's cost is measured
// against it.
type floor struct {
	hc  *http.Client
	url string
}

func newFloor(base string, hc *http.Client) *floor {
	q := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"floor-session"}}
	return &floor{hc: hc, url: base + targettest.DeliveryPath + "?" + q.Encode()}
}

func (f *floor) call(ctx context.Context, req *target.DeliveryRequest) (*target.DeliveryResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := f.hc.Do(r)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("edge answered %d: %s", resp.StatusCode, data)
	}
	var out target.DeliveryResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// oneMbox is the request of one call for one mbox.
func oneMbox(name string) target.DeliveryRequest {
	return target.DeliveryRequest{
		Context: &target.Context{Channel: target.ChannelWeb},
		Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 0, Name: name}}},
	}
}

// cost is what one way of making a page's calls cost the client process.
type cost struct {
	Name    string        `json:"name"`
	Pages   int           `json:"pages"`
	Decided int           `json:"decided"`
	CPU     time.Duration `json:"cpu_per_mbox_ns"` // 0 when the platform cannot tell
	Allocs  float64       `json:"allocs_per_mbox"`
	Bytes   float64       `json:"bytes_per_mbox"`
	Wait    time.Duration `json:"wait_per_page_ns"` // until the page has its decisions
}

// measureCost runs page after a warm-up until budget has passed (and at
// least 5 times), and divides the process's CPU time and allocations by
// the mboxes decided. page returns how many mboxes got a decision and how
// long it waited for them; work it caused after that (an on-device
// decision's notification) is counted in CPU and allocations, as page must
// wait for it before returning.
func measureCost(name string, budget time.Duration, page func() (int, time.Duration)) cost {
	page()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, cpuOK := processCPU()
	c := cost{Name: name}
	var wait time.Duration
	for start := time.Now(); c.Pages < 5 || time.Since(start) < budget; c.Pages++ {
		n, w := page()
		c.Decided += n
		wait += w
	}
	cpu1, _ := processCPU()
	runtime.ReadMemStats(&m1)
	if c.Decided == 0 {
		return c
	}
	d := float64(c.Decided)
	if cpuOK {
		c.CPU = time.Duration(float64(cpu1-cpu0) / d)
	}
	c.Allocs = float64(m1.Mallocs-m0.Mallocs) / d
	c.Bytes = float64(m1.TotalAlloc-m0.TotalAlloc) / d
	c.Wait = wait / time.Duration(c.Pages)
	return c
}

// costOptions are the -cost mode's settings.
type costOptions struct {
	Mboxes int           // per page
	Budget time.Duration // per row
}

// runCost is the -cost mode: the client's CPU time and allocations per
// decided mbox for each strategy, next to the bare floor's, against a local
// edge in a child process (so that its work is not counted), over HTTPS
// with no latency; then 100 parallel calls over HTTP/1.1 and over HTTP/2.
func runCost(ctx context.Context, cfg config, out io.Writer) error {
	opts := costOptions{Mboxes: cfg.CostMboxes, Budget: cfg.CostBudget}
	p, err := startEdgeProcess(ctx, edgeSpec{TLS: true, Mboxes: opts.Mboxes})
	if err != nil {
		return err
	}
	defer p.close()
	m := thisMachine()
	fmt.Fprintf(out, "cost:     per decided mbox, in this process only: the local edge runs in a child process, HTTPS, no latency\n")
	fmt.Fprintf(out, "machine:  %s/%s, %d CPUs, GOMAXPROCS %d, %s", m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS, m.Go)
	if m.LoadAvg != "" {
		fmt.Fprintf(out, ", load average %s", m.LoadAvg)
	}
	fmt.Fprintf(out, "\nruns:     pages of %d mboxes for %v per row after a warm-up page; default client configuration\n", opts.Mboxes, opts.Budget)
	fmt.Fprintln(out, "          (telemetry and timings on); CPU is user+system time of the process, a shared machine's")
	fmt.Fprintln(out, "          noise included: compare rows of one run, not runs")

	rows, err := strategyCosts(ctx, cfg, p, opts)
	if err != nil {
		return err
	}
	writeCostTable(out, rows, opts.Mboxes)

	fmt.Fprintln(out)
	fmt.Fprintf(out, "%d parallel calls (futures, one mbox each), one client, HTTPS: the first burst opens the connections;\n", cfg.CostParallel)
	fmt.Fprintln(out, "transport own: the client's default; given: a net/http transport like it, in Config.HTTPClient")
	edges := map[bool]*edgeProcess{}
	for _, http1 := range []bool{true, false} {
		p, err := protocolEdge(ctx, http1)
		if err != nil {
			return err
		}
		defer p.close()
		edges[http1] = p
	}
	dir, err := os.MkdirTemp("", "bench-edges-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	trustErr := trustEdges(dir, edges[true], edges[false])
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "protocol\tconns\tfirst burst\twarm burst p50\tCPU/call\tallocs/call\ttransport\t")
	for _, http1 := range []bool{true, false} {
		for _, own := range []bool{true, false} {
			if own && trustErr != nil {
				continue // said below the table
			}
			r, err := measureProtocol(ctx, edges[http1], own, cfg.CostParallel, opts.Budget)
			if err != nil {
				return err
			}
			tr := "given"
			if own {
				tr = "own"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.0f\t%s\t\n", r.Proto, r.Conns, fmtDur(r.First), fmtDur(r.WarmP50), fmtCPU(r.CPU), r.Allocs, tr)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if trustErr != nil {
		fmt.Fprintf(out, "no own-transport rows: %v\n", trustErr)
	}
	return nil
}

// strategyCosts measures the floor, sequential and in parallel, and every
// chosen strategy, on pages of opts.Mboxes mboxes.
func strategyCosts(ctx context.Context, cfg config, p *edgeProcess, opts costOptions) ([]cost, error) {
	bcfg := cfg
	bcfg.Client, bcfg.Org, bcfg.Server, bcfg.Artifact = targettest.DefaultClient, targettest.DefaultOrganizationID, p.addr, p.hello.Artifact
	b := &bench{cfg: bcfg, base: p.transport(), where: "local edge, child process, HTTPS"}
	for i := range opts.Mboxes {
		b.names = append(b.names, fmt.Sprintf("%s%d", "bench-mbox-", i+1))
	}
	b.visitor.SessionID = fmt.Sprintf("cost-%d", time.Now().UnixNano())
	if err := b.meetVisitor(ctx); err != nil {
		return nil, err
	}

	var rows []cost
	ft := p.transport()
	defer ft.CloseIdleConnections()
	fl := newFloor(p.hello.URL, &http.Client{Transport: ft})
	reqs := make([]target.DeliveryRequest, len(b.names))
	for i, n := range b.names {
		reqs[i] = oneMbox(n)
	}
	floorCall := func(i int) int {
		resp, err := fl.call(ctx, &reqs[i])
		if err != nil || resp.Execute == nil || len(resp.Execute.Mboxes) != 1 {
			return 0
		}
		return 1
	}
	rows = append(rows, measureCost("floor-sequential", opts.Budget, func() (int, time.Duration) {
		t := time.Now()
		n := 0
		for i := range reqs {
			n += floorCall(i)
		}
		return n, time.Since(t)
	}))
	rows = append(rows, measureCost("floor-parallel", opts.Budget, func() (int, time.Duration) {
		t := time.Now()
		var n atomic.Int64
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Go(func() { n.Add(int64(floorCall(i))) })
		}
		wg.Wait()
		return int(n.Load()), time.Since(t)
	}))

	for _, name := range cfg.Strategies {
		s := lookup(name)
		e, done, err := b.newEnv(ctx, s.OnDevice)
		if err != nil {
			if s.OnDevice {
				continue // as probeOnDevice: left out when the artifact does not load
			}
			return nil, err
		}
		var settleErr error
		rows = append(rows, measureCost(s.Name, opts.Budget, func() (int, time.Duration) {
			rec := &recorder{}
			t := time.Now()
			s.run(ctx, e, b.names, rec)
			wait := time.Since(t)
			if err := b.settle(ctx, e); err != nil && settleErr == nil {
				settleErr = err
			}
			return rec.decided, wait
		}))
		done()
		if settleErr != nil {
			return nil, settleErr
		}
	}
	return rows, nil
}

func writeCostTable(out io.Writer, rows []cost, mboxes int) {
	floor := func(name string) cost {
		if i := slices.IndexFunc(rows, func(c cost) bool { return c.Name == name }); i >= 0 {
			return rows[i]
		}
		return cost{}
	}
	seq, par := floor("floor-sequential"), floor("floor-parallel")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "way\tCPU/mbox\txfloor\tallocs/mbox\txfloor\tKB/mbox\twait/page\tpages\t")
	var onDevice *cost
	for i, c := range rows {
		// A strategy making one call at a time is compared with the floor
		// doing the same, the others with the floor's parallel calls.
		ref := par
		if s := lookup(c.Name); c.Name == seq.Name || s != nil && s.Serial {
			ref = seq
		}
		if c.Name == "on-device" {
			onDevice = &rows[i]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%.1f\t%s\t%d\t\n", c.Name, fmtCPU(c.CPU), ratio(float64(c.CPU), float64(ref.CPU)),
			c.Allocs, ratio(c.Allocs, ref.Allocs), c.Bytes/1024, fmtDur(c.Wait), c.Pages)
	}
	tw.Flush()
	fmt.Fprintln(out, "floor: encoding/json + net/http, one call per mbox, nothing else (no copy, telemetry, timings, future);")
	fmt.Fprintln(out, "xfloor = this row / floor-sequential for sequential, / floor-parallel for the others;")
	fmt.Fprintln(out, "on-device: wait/page is the decision time, and CPU and allocations include the page's display notification")
	if onDevice != nil && onDevice.Pages > 0 {
		fmt.Fprintf(out, "on-device decision: %s per mbox (wait/page / %d mboxes), %s of CPU per mbox with its notification\n",
			fmtDur(onDevice.Wait/time.Duration(mboxes)), mboxes, fmtCPU(onDevice.CPU))
	}
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func fmtCPU(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return fmtDur(d)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	}
}

// protocolCost is a run of bursts of parallel calls over one protocol.
type protocolCost struct {
	Proto   string
	Conns   int64         // connections the client opened, in every burst together
	First   time.Duration // the first burst, which opens the connections
	WarmP50 time.Duration // the median of the later bursts
	CPU     time.Duration // per call, later bursts
	Allocs  float64       // per call, later bursts
}

// protocolEdge starts a child-process TLS edge that offers HTTP/2 unless
// http1.
func protocolEdge(ctx context.Context, http1 bool) (*edgeProcess, error) {
	return startEdgeProcess(ctx, edgeSpec{TLS: true, HTTP1Only: http1, Mboxes: 1})
}

// protocolClient is a new client to the edge p over a transport like its
// own default one (p.transport(), given as Config.HTTPClient) or, if own,
// over the transport it makes for itself, whose first burst over HTTP/2
// opens one connection; own needs trustEdges first. conns returns the
// connections the edge has accepted since.
func protocolClient(p *edgeProcess, own bool) (c *target.Client, conns func() (int64, error), done func(), err error) {
	cfg := target.Config{
		Client: targettest.DefaultClient, OrganizationID: targettest.DefaultOrganizationID,
		ServerDomain: p.addr,
		// A cold burst's handshakes on a busy machine can take longer than
		// the default 3 s; this measures cost, not latency.
		Timeout: 30 * time.Second,
	}
	closeIdle := func() {}
	if !own {
		t := p.transport()
		cfg.HTTPClient = &http.Client{Transport: t}
		closeIdle = t.CloseIdleConnections
	}
	n0, err := p.connections()
	if err != nil {
		return nil, nil, nil, err
	}
	if c, err = target.NewClient(cfg); err != nil {
		return nil, nil, nil, err
	}
	conns = func() (int64, error) {
		n, err := p.connections()
		return n - n0, err
	}
	return c, conns, func() { c.Close(context.Background()); closeIdle() }, nil
}

// trustEdges makes the certificates of the edges ps the roots the
// process's TLS clients trust by default, which is how the client's own
// transport (it has no setting for roots) can reach them. Go reads
// SSL_CERT_FILE once, when a TLS client first needs the system roots, so
// this works once per process, before any such client: it says so
// otherwise.
func trustEdges(dir string, ps ...*edgeProcess) error {
	if trusted.Swap(true) {
		return errors.New("the system roots are read once per process: run the own-transport benchmarks with -count=1 (a new process per run)")
	}
	var pemBytes []byte
	for _, p := range ps {
		pemBytes = append(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.hello.Cert})...)
	}
	file := filepath.Join(dir, "edges.pem")
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		return err
	}
	return os.Setenv("SSL_CERT_FILE", file)
}

// trusted is set by the first trustEdges.
var trusted atomic.Bool

// burst makes n parallel one-mbox calls and waits for them all.
func burst(ctx context.Context, c *target.Client, n int) error {
	fs := make([]*future.Future[*target.Response], n)
	for i := range fs {
		fs[i] = c.GetOffers(ctx, target.GetOffersOptions{Request: oneMbox("bench-mbox-1"), SessionID: "protocols"})
	}
	for _, f := range fs {
		if _, err := f.Await(ctx); err != nil {
			return err
		}
	}
	return nil
}

// measureProtocol runs bursts of n parallel calls to the edge p (HTTP/1.1
// when it offers only that, else HTTP/2) with a new client (see
// protocolClient for own) until budget has passed (at least 5 after the
// first).
func measureProtocol(ctx context.Context, p *edgeProcess, own bool, n int, budget time.Duration) (protocolCost, error) {
	r := protocolCost{Proto: "HTTP/2"}
	if p.spec.HTTP1Only {
		r.Proto = "HTTP/1.1"
	}
	c, conns, done, err := protocolClient(p, own)
	if err != nil {
		return r, err
	}
	defer done()
	t := time.Now()
	if err := burst(ctx, c, n); err != nil {
		return r, fmt.Errorf("%s: %w", r.Proto, err)
	}
	r.First = time.Since(t)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, cpuOK := processCPU()
	var walls []time.Duration
	for start := time.Now(); len(walls) < 5 || time.Since(start) < budget; {
		t := time.Now()
		if err := burst(ctx, c, n); err != nil {
			return r, fmt.Errorf("%s: %w", r.Proto, err)
		}
		walls = append(walls, time.Since(t))
	}
	cpu1, _ := processCPU()
	runtime.ReadMemStats(&m1)
	calls := float64(n * len(walls))
	if cpuOK {
		r.CPU = time.Duration(float64(cpu1-cpu0) / calls)
	}
	r.Allocs = float64(m1.Mallocs-m0.Mallocs) / calls
	slices.Sort(walls)
	r.WarmP50 = walls[len(walls)/2]
	r.Conns, err = conns()
	return r, err
}
