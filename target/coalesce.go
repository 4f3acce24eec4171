package target

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// DefaultCoalesceWindow is the window of a Coalescer whose
// CoalesceOptions.Window is zero: long enough to gather the calls a page
// handler starts one after another, short next to a Delivery round trip.
const DefaultCoalesceWindow = time.Millisecond

// ErrNoClient fails the calls of a Coalescer not made by
// [Client.NewCoalescer].
var ErrNoClient = errors.New("target: Coalescer has no client; make it with Client.NewCoalescer")

// CoalesceOptions say when a [Coalescer] sends a merged request.
type CoalesceOptions struct {
	// Window is how long the first call for a visitor waits for others
	// before their merged request is sent; a call never waits longer.
	// Zero means DefaultCoalesceWindow; negative is an error.
	Window time.Duration
	// MaxMboxes, if positive, is the most execute and prefetch mboxes one
	// merged request carries. A batch is sent without waiting for the
	// window once it holds MaxMboxes calls (each brings at least one
	// mbox), and a batch with more mboxes than that goes out as several
	// requests, in parallel, with every call whole in one of them; a call
	// that alone has more mboxes gets a request of its own. Zero means no
	// limit; negative is an error.
	MaxMboxes int
}

// A Coalescer merges concurrent GetOffers calls for the same visitor into
// one Delivery request, and splits the answer back per call by mbox index:
// a page handler that asks for twenty mboxes from twenty places pays one
// round trip and one request, not twenty.
//
// Calls merge when everything but their mboxes is equal: the options
// (TargetCookie, TargetLocationHint, VisitorCookie, SessionID, ConsumerID,
// CustomerIDs, DecisioningMethod, and the same SupplementalDataIDs value,
// from which the merged request takes one supplemental data id when it is
// sent, not when GetOffers is called: see Client.VisitorState) and the
// whole request apart from execute.mboxes and prefetch.mboxes (id,
// context, experienceCloud, property, trace, qaMode, preview,
// environmentId, requestId, impressionId, telemetry), compared as their
// JSON encoding once the channel defaults to web. Requests for
// different visitors are never merged, and a call that sets its own
// requestId merges only with calls that set the same one. A call is sent
// on its own, at once, by [Client.GetOffers], when merging it would change
// its meaning or its answer could not be split:
//
//   - it has a page load (execute or prefetch) or views: they are answered
//     per request, not per index, and a page load counts one impression
//     per request;
//   - it has notifications, which belong to SendNotifications;
//   - no session is known (neither a valid session entry in TargetCookie
//     nor SessionID): each such call would start a session of its own, so
//     they are not known to be the same visitor;
//   - its decisioning method is not server-side: on-device decisions are
//     made without a request to merge;
//   - its options are invalid: GetOffers then reports them, as for any
//     call.
//
// Make a Coalescer with [Client.NewCoalescer]; the GetOffers of a zero
// Coalescer fails with [ErrNoClient]. A Coalescer is safe for concurrent
// use and holds nothing while idle: an open batch is a timer, and a merged
// request runs on that timer's goroutine.
type Coalescer struct {
	c   *Client
	max int
	b   *batch.Batcher[string, *coalescedCall, batch.Result[*Response]]
}

// coalescedCall is one caller's part of a merged request.
type coalescedCall struct {
	opts GetOffersOptions // as given, without callbacks
	req  DeliveryRequest  // normalized: channel set, mbox indexes final
	// registered is closed once GetOffers has registered the call's
	// callbacks on its future, and ctxDone is the call's ctx.Done(): the
	// merged request is answered only after the first or the second of
	// each of its calls (see Coalescer.send).
	registered chan struct{}
	ctxDone    <-chan struct{}
}

func (k *coalescedCall) mboxes() int {
	n := 0
	if k.req.Execute != nil {
		n += len(k.req.Execute.Mboxes)
	}
	if k.req.Prefetch != nil {
		n += len(k.req.Prefetch.Mboxes)
	}
	return n
}

// NewCoalescer returns a Coalescer that sends its merged requests with c.
// It fails with an *OptionError naming a negative field of opts.
func (c *Client) NewCoalescer(opts CoalesceOptions) (*Coalescer, error) {
	switch {
	case opts.Window < 0:
		return nil, optionError("CoalesceOptions.Window", "negative")
	case opts.MaxMboxes < 0:
		return nil, optionError("CoalesceOptions.MaxMboxes", "negative")
	}
	if opts.Window == 0 {
		opts.Window = DefaultCoalesceWindow
	}
	k := &Coalescer{c: c, max: opts.MaxMboxes}
	k.b = batch.NewBatcher(k.send, batch.BatchOptions{Window: opts.Window, MaxSize: opts.MaxMboxes})
	return k, nil
}

// GetOffers is [Client.GetOffers] for a call that may share its Delivery
// request with other calls for the same visitor. Its future settles with a
// Response of this call's own: Request is the request as sent with only
// this call's mboxes, under the indexes it gave (or 0..n-1 when it gave
// none); Response holds the edge's answer to those mboxes, under the same
// indexes, in the edge's order, and the answer's shared parts (id,
// client, edgeHost, requestId, prefetch metrics); AnalyticsDetails,
// ResponseTokens and Trace are this call's; Status, the cookies, Meta and
// Timings are the merged request's. An mbox the edge leaves out of its
// answer is left out of the caller's. The pointers the Responses of one
// merged request share (Request.ID, Request.Context, Response.ID, ...)
// must be treated as read-only.
//
// The contract is otherwise GetOffers': invalid options give an already
// failed future with an *OptionError naming the field; exactly one of
// Callback and ErrCallback runs, once, on the goroutine that settles the
// future (for a merged call, the one that delivers its whole batch, one
// caller after another: callbacks should be quick; the batch is
// delivered only once each of its calls has registered its callbacks).
// A panic of the caller's callbacks raised again on the goroutine that
// delivers the batch is logged at level Error, as on a call's goroutine
// (see Client.GetOffers), and the batch's other calls still settle and
// run theirs. A call that is not merged is a plain GetOffers, and its
// callbacks run where GetOffers' do: on the caller's goroutine, before
// GetOffers returns, for an on-device call decided at once (with no geo
// lookup) and for any call that fails at once. A merged call's run on the
// caller's goroutine only when it fails at once: a ctx already ended, or
// one that ends while GetOffers runs. A merged request
// that fails fails every call it carried with the same error (an
// *APIError, a transport error, a deadline).
//
// A call waits at most the window before its request is sent; the request
// then runs under the client's Config.Timeout, so a merged call takes at
// most Window + Timeout. ctx bounds this call's part only: when it ends,
// or the future is cancelled ([future.Future.Cancel]), the future fails
// with the context's error, the call's mboxes are left out if its request
// has not been sent, and the other calls go on; the request is aborted
// when every call it carries has given up. The merged request carries the
// values, not the cancellation, of the first call's ctx.
//
// Cost: the JSON encoding of the request without its mboxes, to compare
// visitors, and two futures per call; the request, its preparation and
// the answer's decoding once per merged request. BenchmarkCoalescer
// measures about 57 allocations per call coalesced (n=100: 5740 for 100
// calls), 283 separate.
func (k *Coalescer) GetOffers(ctx context.Context, opts GetOffersOptions) *future.Future[*Response] {
	if k == nil || k.c == nil {
		return withCallbacks(nil, future.Rejected[*Response](ErrNoClient), opts.Callback, opts.ErrCallback)
	}
	call, key, ok := k.c.coalescible(ctx, opts)
	if !ok {
		return k.c.GetOffers(ctx, opts)
	}
	call.registered, call.ctxDone = make(chan struct{}), ctx.Done()
	src := k.b.Submit(ctx, key, call)
	// f is settled from src's callback, on the goroutine that settles src:
	// the batch's (or its ctx watch's), the SDK's. The batch raises a
	// panic of the caller's callbacks again there after settling the
	// other calls (a Then would let it through): it is logged instead,
	// as on a call's goroutine, so that it neither ends the program nor
	// keeps the batch's later calls from settling and running theirs.
	p := future.NewPromise[*Response]()
	f := p.Future()
	src.OnComplete(func(r batch.Result[*Response], err error) {
		if err == nil {
			err = r.Err
		}
		k.c.settleGuarded(p, r.Value, err)
	})
	// Cancelling f must reach the batch, which drops the call (and the
	// request when nobody is left); after f settled otherwise, src has too
	// and this does nothing.
	f.OnError(func(error) { src.Cancel() })
	withCallbacks(k.c, f, opts.Callback, opts.ErrCallback)
	// Only now may the batch deliver the call's answer (see send), so
	// that the callbacks run on the goroutine that delivers it, not on
	// this one after it was delivered. Unless ctx has ended (the batch
	// then no longer waits, and gives the call up itself), src is still
	// pending above, and no code of the caller's ran here.
	close(call.registered)
	return f
}

// Flush sends the open batches now instead of at the end of their
// windows, for a caller that knows no more calls are coming. It does not
// wait for the requests.
func (k *Coalescer) Flush() {
	if k != nil && k.b != nil {
		k.b.Flush()
	}
}

// coalescible reports whether opts may share a request, with the caller's
// part and its visitor key. Anything that would fail reports false, so that
// GetOffers, not a copy of its checks, gives the error.
func (c *Client) coalescible(ctx context.Context, opts GetOffersOptions) (*coalescedCall, string, bool) {
	method := opts.DecisioningMethod
	if method == "" {
		method = c.cfg.DecisioningMethod
	}
	if ctx == nil || method != ServerSide {
		return nil, "", false
	}
	switch {
	case opts.SessionID != "" && !validSessionID(opts.SessionID):
		return nil, "", false
	case opts.SessionID == "":
		entries, _ := parseTargetCookie(opts.TargetCookie, time.Now())
		if e, ok := entries[sessionEntry]; !ok || !validSessionID(e.value) {
			return nil, "", false
		}
	}
	req := opts.Request
	if normalizeRequest(&req, time.Now(), nil, nil) != nil || validateOffersRequest(&req) != nil {
		return nil, "", false
	}
	ex, pf := req.Execute, req.Prefetch
	if len(req.Notifications) > 0 || (ex != nil && ex.PageLoad != nil) || (pf != nil && (pf.PageLoad != nil || len(pf.Views) > 0)) {
		return nil, "", false
	}
	customerIDs, err := deliveryCustomerIDs(opts.CustomerIDs)
	if err != nil || checkMergedCustomerIDs(&req, len(customerIDs)) != nil {
		return nil, "", false
	}
	// The mboxes are not part of the key, so a value JSON cannot hold in
	// one of them would fail the whole merged request: send it alone.
	for _, list := range [][]MboxRequest{mboxesOf(ex), prefetchMboxesOf(pf)} {
		for _, m := range list {
			if m.Order != nil && m.Order.Total != nil && (math.IsNaN(*m.Order.Total) || math.IsInf(*m.Order.Total, 0)) {
				return nil, "", false
			}
		}
	}

	shared := req
	shared.Execute, shared.Prefetch = nil, nil
	key, err := encodeJSON(struct {
		Request                                     DeliveryRequest
		Cookie, Hint, ConsumerID, SessionID, Method string
		VisitorCookie, SupplementalDataIDs          string
		CustomerIDs                                 []CustomerID
	}{
		shared, opts.TargetCookie, opts.TargetLocationHint, opts.ConsumerID, opts.SessionID, string(method),
		// One page view's state merges with itself only: the merged request
		// takes one supplemental data id for all its calls.
		opts.VisitorCookie, fmt.Sprintf("%p", opts.SupplementalDataIDs),
		customerIDs,
	})
	if err != nil {
		return nil, "", false
	}
	opts.Callback, opts.ErrCallback = nil, nil
	return &coalescedCall{opts: opts, req: req}, string(key), true
}

func mboxesOf(ex *ExecuteRequest) []MboxRequest {
	if ex == nil {
		return nil
	}
	return ex.Mboxes
}

func prefetchMboxesOf(pf *PrefetchRequest) []MboxRequest {
	if pf == nil {
		return nil
	}
	return pf.Mboxes
}

// send is the Batcher's bulk function: it sends calls, which share a
// visitor, as few requests as MaxMboxes allows, in parallel, and splits the
// answers. It never fails as a whole: each request's error goes to the
// calls it carried.
func (k *Coalescer) send(ctx context.Context, _ string, calls []*coalescedCall) ([]batch.Result[*Response], error) {
	out := make([]batch.Result[*Response], len(calls))
	type part struct {
		lo, hi int
		f      *future.Future[*Response]
	}
	var parts []part
	for lo := 0; lo < len(calls); {
		hi, n := lo, 0
		for hi < len(calls) && (hi == lo || k.max <= 0 || n+calls[hi].mboxes() <= k.max) {
			n += calls[hi].mboxes()
			hi++
		}
		parts = append(parts, part{lo: lo, hi: hi, f: k.c.GetOffers(ctx, merge(calls[lo:hi]))})
		lo = hi
	}
	// The batch settles the calls' futures once send returns: not before
	// each call's GetOffers has registered its callbacks, which takes no
	// time and runs none of the caller's code, unless the call's ctx has
	// ended (the batch has then given it up, or will).
	defer func() {
		for _, k := range calls {
			select {
			case <-k.registered:
			case <-k.ctxDone:
			}
		}
	}()
	for _, p := range parts {
		// No select on ctx: the request ends with it, and within the
		// client's Timeout in any case.
		<-p.f.Done()
		res, err := p.f.Peek()
		var execBase, prefetchBase int
		for i := p.lo; i < p.hi; i++ {
			if err != nil {
				out[i].Err = err
				continue
			}
			out[i].Value = split(res, &calls[i].req, execBase, prefetchBase)
			execBase += len(mboxesOf(calls[i].req.Execute))
			prefetchBase += len(prefetchMboxesOf(calls[i].req.Prefetch))
		}
	}
	return out, nil
}

// merge builds the options of one request for calls that share a visitor:
// the first call's options and request (equal to the others' by their
// key) with every call's mboxes, in order, indexed 0..n-1 per list.
func merge(calls []*coalescedCall) GetOffersOptions {
	opts := calls[0].opts
	req := calls[0].req
	var ex, pf []MboxRequest
	for _, k := range calls {
		for _, m := range mboxesOf(k.req.Execute) {
			m.Index = len(ex)
			ex = append(ex, m)
		}
		for _, m := range prefetchMboxesOf(k.req.Prefetch) {
			m.Index = len(pf)
			pf = append(pf, m)
		}
	}
	req.Execute, req.Prefetch = nil, nil
	if len(ex) > 0 {
		req.Execute = &ExecuteRequest{Mboxes: ex}
	}
	if len(pf) > 0 {
		req.Prefetch = &PrefetchRequest{Mboxes: pf}
	}
	opts.Request = req
	return opts
}

// split returns one call's Response out of the merged one: the call's
// mboxes had the merged indexes execBase+i and prefetchBase+i, and get
// their own indexes back.
func split(res *Response, own *DeliveryRequest, execBase, prefetchBase int) *Response {
	sent := *res.Request
	sent.Execute, sent.Prefetch = own.Execute, own.Prefetch
	answer := *res.Response
	answer.Execute, answer.Prefetch = nil, nil
	if ex := res.Response.Execute; ex != nil && own.Execute != nil {
		mine := mboxesOf(own.Execute)
		out := &ExecuteResponse{}
		for _, m := range ex.Mboxes {
			if i := m.Index - execBase; i >= 0 && i < len(mine) {
				m.Index = mine[i].Index
				out.Mboxes = append(out.Mboxes, m)
			}
		}
		answer.Execute = out
	}
	if pf := res.Response.Prefetch; pf != nil && own.Prefetch != nil {
		mine := prefetchMboxesOf(own.Prefetch)
		out := &PrefetchResponse{Metrics: pf.Metrics}
		for _, m := range pf.Mboxes {
			if i := m.Index - prefetchBase; i >= 0 && i < len(mine) {
				m.Index = mine[i].Index
				out.Mboxes = append(out.Mboxes, m)
			}
		}
		answer.Prefetch = out
	}
	// The merged request's state, as its ids are, in maps of the call's
	// own: the snapshot is shared, so each call's first read copies it.
	var src visitorSource
	if res.visitor != nil {
		src = res.visitor.src
		src.shared = true
	}
	r := newResponse(src)
	r.Request, r.Response, r.Status, r.Meta, r.Timings = &sent, &answer, res.Status, res.Meta, res.Timings
	if ck := res.TargetCookie; ck != nil {
		c := *ck
		r.TargetCookie = &c
	}
	if ck := res.TargetLocationHintCookie; ck != nil {
		c := *ck
		r.TargetLocationHintCookie = &c
	}
	r.collectDetails()
	return r
}
