package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc/iter"
	"golang.org/x/sync/errgroup"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

// A strategy is one way of getting decisions for a page's mboxes. run asks
// for every name in names, with the client and visitor in e, and reports to
// rec what it got; it returns when it has every result it will get, so that
// nothing of one repetition runs into the next.
type strategy struct {
	// Name is the short name used in flags, the table and the JSON.
	Name string
	// About says in a few words what the code does, for the table's legend.
	About string
	// Serial is set for a strategy that makes one call at a time: warming
	// its connection pool takes one call, not a whole repetition.
	Serial bool
	// OnDevice is set for a strategy whose client decides on-device, from
	// the rules artifact (the local edge serves one built from its offers).
	OnDevice bool
	run      func(ctx context.Context, e *env, names []string, rec *recorder)
}

// strategies is the registry, in the order of the table. sequential comes
// first: the others' speedup is computed against it.
var strategies = []strategy{
	{Name: "sequential", About: "GetOffers(...).Await one mbox after another", Serial: true, run: runSequential},
	{Name: "futures", About: "one future per mbox, awaited with batch.All", run: runAll},
	{Name: "callback", About: "Callback/ErrCallback options and a sync.WaitGroup", run: runCallback},
	{Name: "map", About: "batch.Map with a concurrency limit (-limit)", run: runMap},
	{Name: "one-request", About: "a single Delivery request carrying every mbox", run: runOneRequest},
	{Name: "coalesced", About: "concurrent one-mbox calls merged by a target.Coalescer", run: runCoalesced},
	{Name: "visitor", About: "one future per mbox through a target.Visitor, returning visitor (cookies known)", run: runVisitor},
	{
		Name: "visitor-new", run: runVisitorNew,
		About: "one future per mbox through a target.Visitor, first-time visitor: the first call establishes the tntId, " +
			"the others start on its answer (two round trips)",
	},
	{
		Name: "on-device", OnDevice: true, run: runOnDevice,
		About: "one GetOffers for every mbox, decided on-device from the edge's artifact, display notification sent in " +
			"the background (one call: deciding is CPU work, so a future per mbox gains nothing and sends N notifications)",
	},
	{Name: "errgroup", About: "baseline: errgroup.Group, Await in each goroutine", run: runErrgroup},
	{Name: "conc", About: "baseline: conc iter.Mapper.MapErr, Await in each goroutine", run: runConc},
}

// recorder collects what a repetition's calls report. It is safe for
// concurrent use: callbacks and goroutines report into it.
type recorder struct {
	mu      sync.Mutex
	limit   time.Duration
	calls   int
	decided int
}

// response records one HTTP exchange's answer: its round trip (request
// written to body read, the client's own trace of the last attempt, so
// connection set-up and client-side queueing are not part of it) counts
// towards the physical limit.
func (r *recorder) response(resp *target.Response) {
	rtt := resp.Timings.TimeToFirstByte + resp.Timings.Download
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limit = max(r.limit, rtt)
	r.calls += max(resp.Timings.Attempts, 1)
}

// decision records that n mboxes got their decision.
func (r *recorder) decision(n int) {
	r.mu.Lock()
	r.decided += n
	r.mu.Unlock()
}

// result records the outcome of a call for n mboxes that the strategy made
// through the client itself.
func (r *recorder) result(resp *target.Response, err error, n int) {
	if err != nil || resp == nil {
		return
	}
	r.response(resp)
	r.decision(n)
}

func runSequential(ctx context.Context, e *env, names []string, rec *recorder) {
	for _, name := range names {
		resp, err := e.client.GetOffers(ctx, e.options(name)).Await(ctx)
		rec.result(resp, err, 1)
	}
}

func runAll(ctx context.Context, e *env, names []string, rec *recorder) {
	fs := make([]*future.Future[*target.Response], len(names))
	for i, name := range names {
		fs[i] = e.client.GetOffers(ctx, e.options(name))
	}
	// The error is in the inputs too: All cancels the others on the first
	// one, and those count as mboxes without a decision.
	_, _ = batch.All(fs...).Await(ctx)
	for _, f := range fs {
		resp, err := f.Peek()
		rec.result(resp, err, 1)
	}
}

func runCallback(ctx context.Context, e *env, names []string, rec *recorder) {
	var wg sync.WaitGroup
	wg.Add(len(names))
	for _, name := range names {
		opts := e.options(name)
		opts.Callback = func(resp *target.Response) {
			rec.result(resp, nil, 1)
			wg.Done()
		}
		opts.ErrCallback = func(error) { wg.Done() }
		e.client.GetOffers(ctx, opts)
	}
	wg.Wait()
}

func runMap(ctx context.Context, e *env, names []string, rec *recorder) {
	_, _ = batch.Map(ctx, names, e.limit, func(ctx context.Context, name string) (*target.Response, error) {
		resp, err := e.client.GetOffers(ctx, e.options(name)).Await(ctx)
		rec.result(resp, err, 1)
		return resp, err
	}).Await(ctx)
}

func runOneRequest(ctx context.Context, e *env, names []string, rec *recorder) {
	resp, err := e.client.GetOffers(ctx, e.options(names...)).Await(ctx)
	rec.result(resp, err, len(executed(resp)))
}

func runCoalesced(ctx context.Context, e *env, names []string, rec *recorder) {
	fs := make([]*future.Future[*target.Response], len(names))
	for i, name := range names {
		fs[i] = e.coalescer.GetOffers(ctx, e.options(name))
	}
	_, _ = batch.All(fs...).Await(ctx)
	sent := map[string]bool{}
	for _, f := range fs {
		resp, err := f.Peek()
		if err != nil || len(executed(resp)) != 1 {
			continue
		}
		rec.decision(1)
		// The calls a merged request carried all have its timings and
		// request id: count each request once.
		if id := resp.Response.RequestID; !sent[id] {
			sent[id] = true
			rec.response(resp)
		}
	}
}

func runVisitor(ctx context.Context, e *env, names []string, rec *recorder) {
	runThrough(ctx, e.client.NewVisitorFromCookies(e.visitor.TargetCookie, e.visitor.TargetLocationHint), e, names, rec)
}

func runVisitorNew(ctx context.Context, e *env, names []string, rec *recorder) {
	runThrough(ctx, e.client.NewVisitorFromCookies("", ""), e, names, rec)
}

// runThrough is runAll through v: the scope replaces the options' cookies
// and session id with its own.
func runThrough(ctx context.Context, v *target.Visitor, e *env, names []string, rec *recorder) {
	fs := make([]*future.Future[*target.Response], len(names))
	for i, name := range names {
		fs[i] = v.GetOffers(ctx, e.options(name))
	}
	_, _ = batch.All(fs...).Await(ctx)
	for _, f := range fs {
		resp, err := f.Peek()
		rec.result(resp, err, 1)
	}
}

func runOnDevice(ctx context.Context, e *env, names []string, rec *recorder) {
	// The future is settled when GetOffers returns: Await does not wait.
	resp, err := e.client.GetOffers(ctx, e.options(names...)).Await(ctx)
	if err != nil || resp == nil {
		return
	}
	// What the artifact cannot decide comes back empty and named in
	// Meta.RemoteMboxes: those mboxes got no decision.
	decided := 0
	notify := false
	for _, m := range executed(resp) {
		if !slices.Contains(resp.Meta.RemoteMboxes, m.Name) {
			decided++
		}
		// Every option of the edge's artifact has an event token, so
		// content means a display notification: one request for the
		// call's mboxes.
		notify = notify || len(m.Options) > 0
	}
	rec.decision(decided)
	if notify {
		// No round trip in the caller's path: the notification is an
		// HTTP call the client made, but it adds nothing to the limit.
		rec.mu.Lock()
		rec.calls++
		rec.mu.Unlock()
		e.notes.expect(1)
	}
}

// executed returns the executed mboxes of a response, nil when it has none.
func executed(resp *target.Response) []target.MboxResponse {
	if resp == nil || resp.Response == nil || resp.Response.Execute == nil {
		return nil
	}
	return resp.Response.Execute.Mboxes
}

func runErrgroup(ctx context.Context, e *env, names []string, rec *recorder) {
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range names {
		g.Go(func() error {
			resp, err := e.client.GetOffers(gctx, e.options(name)).Await(gctx)
			rec.result(resp, err, 1)
			return err
		})
	}
	_ = g.Wait()
}

func runConc(ctx context.Context, e *env, names []string, rec *recorder) {
	// conc's default is GOMAXPROCS goroutines, which would make this a
	// bounded run on a small machine: one goroutine per mbox is the
	// errgroup baseline's shape.
	m := iter.Mapper[string, *target.Response]{MaxGoroutines: len(names)}
	_, _ = m.MapErr(names, func(name *string) (*target.Response, error) {
		resp, err := e.client.GetOffers(ctx, e.options(*name)).Await(ctx)
		rec.result(resp, err, 1)
		return resp, err
	})
}
