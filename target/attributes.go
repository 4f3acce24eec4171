package target

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math"
	"strconv"

	"github.com/target-go/sdk/future"
)

// Attributes are the JSON offers of a GetAttributes call, merged per mbox:
// the keys of every json option of an mbox, prefetched options first and
// executed ones over them, later options over earlier ones. Other option
// types (html, redirect, actions) are not attributes and are skipped.
// Numbers keep their text, so integers of any size survive. An Attributes
// is read-only and safe for concurrent use.
type Attributes struct {
	// Response is the GetOffers result the attributes come from.
	Response *Response

	values map[string]map[string]any // mbox name -> key -> value
}

// GetAttributesOptions are the options of GetAttributes: see CallOptions.
// The fields mean what they mean for GetOffers, apart from Callback, which
// gets the Attributes.
type GetAttributesOptions = CallOptions[*Attributes]

// offers returns the GetOffers options of o, without its callbacks.
func (o *CallOptions[R]) offers() GetOffersOptions {
	return GetOffersOptions{
		Request: o.Request, TargetCookie: o.TargetCookie, TargetLocationHint: o.TargetLocationHint,
		VisitorCookie: o.VisitorCookie, ConsumerID: o.ConsumerID, SupplementalDataIDs: o.SupplementalDataIDs,
		CustomerIDs: o.CustomerIDs, SessionID: o.SessionID, DecisioningMethod: o.DecisioningMethod,
	}
}

// GetAttributes is GetOffers for feature flags and other JSON offers: it
// adds the named mboxes to Request.Execute (those not already in Execute or
// Prefetch), numbered from one past the highest execute index (from 1 when
// there is none, as Adobe's SDKs do), calls GetOffers, and turns the answer
// into Attributes with future.Then, without a goroutine of its own.
//
// As with GetOffers, exactly one of opts.Callback (with the Attributes)
// and opts.ErrCallback runs, exactly once, on the goroutine that settles
// the call (see CallOptions). Cancelling the returned future aborts the
// request too.
func (c *Client) GetAttributes(ctx context.Context, mboxNames []string, opts GetAttributesOptions) *future.Future[*Attributes] {
	return attributes(ctx, c, mboxNames, opts, c.getOffers)
}

// attributes is GetAttributes over getOffers, the Client's or a Visitor's,
// which calls its hook once, before its call can settle, and before it
// returns.
func attributes(ctx context.Context, c *Client, mboxNames []string, opts GetAttributesOptions, getOffers func(context.Context, GetOffersOptions, func(*future.Future[*Response])) *future.Future[*Response]) *future.Future[*Attributes] {
	req, err := withMboxes(opts.Request, mboxNames)
	if err != nil {
		return withCallbacks(c, future.Rejected[*Attributes](err), opts.Callback, opts.ErrCallback)
	}
	o := opts.offers()
	o.Request = req
	var f *future.Future[*Attributes]
	// The Attributes future and its callbacks are made in the hook, before
	// the call's goroutine can settle offers, so that the continuation and
	// the callbacks run on that goroutine: made after GetOffers returned,
	// they could run on this one after the call had settled there.
	getOffers(ctx, o, func(offers *future.Future[*Response]) {
		f = future.Then(offers, newAttributes)
		// A Then future owns no work: cancelling it must reach the
		// request. Cancel is a no-op once offers has settled.
		f.OnError(func(error) { offers.Cancel() })
		withCallbacks(c, f, opts.Callback, opts.ErrCallback)
	})
	return f
}

// withMboxes returns req with the named mboxes appended to its execute
// mboxes, after the indexes already in use, leaving req itself unchanged.
func withMboxes(req DeliveryRequest, names []string) (DeliveryRequest, error) {
	have := map[string]bool{}
	// Adobe's Node and Python SDKs number added mboxes from one past the
	// highest execute index, taken as 0 when there is none: the first added
	// mbox of a request without execute mboxes gets index 1.
	used := 0
	var ex ExecuteRequest
	if req.Execute != nil {
		ex = *req.Execute
		mboxes, err := normalizeMboxes(ex.Mboxes, "Request.Execute.Mboxes")
		if err != nil {
			return req, err
		}
		ex.Mboxes = mboxes
		for _, m := range ex.Mboxes {
			have[m.Name] = true
			used = max(used, m.Index)
		}
	}
	if req.Prefetch != nil {
		for _, m := range req.Prefetch.Mboxes {
			have[m.Name] = true
		}
	}
	added := false
	for i, name := range names {
		if name == "" {
			return req, optionError("mboxNames["+strconv.Itoa(i)+"]", "empty mbox name")
		}
		if have[name] {
			continue
		}
		have[name] = true
		used++
		if !added {
			ex.Mboxes = append([]MboxRequest(nil), ex.Mboxes...)
			added = true
		}
		ex.Mboxes = append(ex.Mboxes, MboxRequest{Index: used, Name: name})
	}
	if added || req.Execute != nil {
		req.Execute = &ex
	}
	return req, nil
}

// newAttributes merges the json options of r per mbox.
func newAttributes(r *Response) (*Attributes, error) {
	a := &Attributes{Response: r, values: map[string]map[string]any{}}
	dr := r.Response
	if dr == nil {
		return a, nil
	}
	if dr.Prefetch != nil {
		for _, m := range dr.Prefetch.Mboxes {
			a.merge(m.Name, m.Options)
		}
	}
	if dr.Execute != nil {
		for _, m := range dr.Execute.Mboxes {
			a.merge(m.Name, m.Options)
		}
	}
	return a, nil
}

func (a *Attributes) merge(mbox string, opts []Option) {
	for _, o := range opts {
		if o.Type != OptionTypeJSON || len(o.Content) == 0 {
			continue
		}
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(o.Content))
		dec.UseNumber()
		// Content that is not an object has no keys to offer.
		if dec.Decode(&obj) != nil || obj == nil {
			continue
		}
		m := a.values[mbox]
		if m == nil {
			m = map[string]any{}
			a.values[mbox] = m
		}
		maps.Copy(m, obj)
	}
}

// GetValue returns the value of key in mbox's attributes and whether it is
// there. Numbers are json.Number; objects map[string]any; arrays []any.
func (a *Attributes) GetValue(mbox, key string) (any, bool) {
	v, ok := a.values[mbox][key]
	return v, ok
}

// GetString returns the string at mbox/key, or def when it is absent or
// not a string.
func (a *Attributes) GetString(mbox, key, def string) string {
	if s, ok := a.values[mbox][key].(string); ok {
		return s
	}
	return def
}

// GetBool returns the boolean at mbox/key, or def when it is absent or not
// a boolean.
func (a *Attributes) GetBool(mbox, key string, def bool) bool {
	if b, ok := a.values[mbox][key].(bool); ok {
		return b
	}
	return def
}

// GetInt returns the number at mbox/key as an int64, or def when it is
// absent, not a number, or not an integer in range (2.5 gives def).
func (a *Attributes) GetInt(mbox, key string, def int64) int64 {
	n, ok := a.values[mbox][key].(json.Number)
	if !ok {
		return def
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	// "10.0" or "1e3" are integers written as floats.
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f)
	}
	return def
}

// GetFloat returns the number at mbox/key as a float64, or def when it is
// absent or not a number.
func (a *Attributes) GetFloat(mbox, key string, def float64) float64 {
	n, ok := a.values[mbox][key].(json.Number)
	if !ok {
		return def
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return def
}

// AsMap returns a copy of mbox's attributes (nil when the mbox has none).
// The copy is shallow: nested objects and arrays are shared, and must not
// be modified.
func (a *Attributes) AsMap(mbox string) map[string]any {
	return maps.Clone(a.values[mbox])
}

// All returns a copy of every mbox's attributes, by mbox name, with the
// same sharing as AsMap.
func (a *Attributes) All() map[string]map[string]any {
	out := make(map[string]map[string]any, len(a.values))
	for k, v := range a.values {
		out[k] = maps.Clone(v)
	}
	return out
}

// MarshalJSON writes the Attributes as {"response": ..., "attributes":
// {mbox: {key: value}}}, numbers with the text the edge sent.
func (a Attributes) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Response   *Response                 `json:"response"`
		Attributes map[string]map[string]any `json:"attributes"`
	}{a.Response, a.values})
}
