package main

import (
	"context"
	"time"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

// coalescer merges concurrent GetOffers calls for the same visitor into one
// Delivery request, the way a page's independent components would each ask
// for their own mbox and still cost one round trip.
//
// The target client does not coalesce by itself, so the bench builds it from
// batch.Batcher: calls whose options carry only execute mboxes are grouped by
// visitor (mbox cookie, location hint and session id) and sent together once
// the window has passed; their mboxes get fresh unique indexes in the merged
// request, and the answer is split back by index, so each caller gets a
// Response holding its own mboxes under its own indexes. Calls with anything
// else (prefetch, page load, notifications) go to the client unchanged.
type coalescer struct {
	client *target.Client
	rec    *recorder
	b      *batch.Batcher[visitorKey, target.GetOffersOptions, *target.Response]
}

// visitorKey is what must be equal for two calls to share a request: a
// Delivery request is about one visitor.
type visitorKey struct {
	cookie, hint, session string
}

func newCoalescer(c *target.Client, window time.Duration, rec *recorder) *coalescer {
	co := &coalescer{client: c, rec: rec}
	co.b = batch.NewBatcher(co.bulk, batch.BatchOptions{Window: window})
	return co
}

// GetOffers is target.Client.GetOffers through the coalescer.
func (co *coalescer) GetOffers(ctx context.Context, opts target.GetOffersOptions) *future.Future[*target.Response] {
	r := opts.Request
	if r.Execute == nil || len(r.Execute.Mboxes) == 0 || r.Execute.PageLoad != nil ||
		r.Prefetch != nil || len(r.Notifications) > 0 || len(opts.CustomerIDs) > 0 {
		return co.client.GetOffers(ctx, opts)
	}
	f := co.b.Submit(ctx, visitorKey{opts.TargetCookie, opts.TargetLocationHint, opts.SessionID}, opts)
	if opts.Callback != nil {
		f.OnSuccess(opts.Callback)
	}
	if opts.ErrCallback != nil {
		f.OnError(opts.ErrCallback)
	}
	return f
}

// bulk sends one batch as one request and splits the answer back.
func (co *coalescer) bulk(ctx context.Context, _ visitorKey, reqs []target.GetOffersOptions) ([]*target.Response, error) {
	// owner[i] is the caller and original index of merged mbox i.
	type slot struct{ req, index int }
	var (
		owner  []slot
		mboxes []target.MboxRequest
	)
	for i, r := range reqs {
		for _, m := range r.Request.Execute.Mboxes {
			owner = append(owner, slot{i, m.Index})
			m.Index = len(mboxes)
			mboxes = append(mboxes, m)
		}
	}
	merged := reqs[0]
	merged.Callback, merged.ErrCallback = nil, nil
	merged.Request.Execute = &target.ExecuteRequest{Mboxes: mboxes}

	resp, err := co.client.GetOffers(ctx, merged).Await(ctx)
	if err != nil {
		return nil, err
	}
	co.rec.response(resp)

	out := make([]*target.Response, len(reqs))
	for i := range out {
		r := *resp
		dr := *resp.Response
		dr.Execute = &target.ExecuteResponse{}
		r.Response = &dr
		out[i] = &r
	}
	for _, m := range executed(resp) {
		if m.Index < 0 || m.Index >= len(owner) {
			continue // not an index we sent: nobody to give it to
		}
		s := owner[m.Index]
		m.Index = s.index
		ex := out[s.req].Response.Execute
		ex.Mboxes = append(ex.Mboxes, m)
	}
	return out, nil
}

// executed returns the executed mboxes of a response, nil when it has none.
func executed(resp *target.Response) []target.MboxResponse {
	if resp == nil || resp.Response == nil || resp.Response.Execute == nil {
		return nil
	}
	return resp.Response.Execute.Mboxes
}
