package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

// maxBody bounds the JSON body of /sendNotifications: a page's notifications
// are a few kilobytes, and a server must not read whatever a client sends.
const maxBody = 1 << 20

// app serves the sample's pages with one shared Target client, as a real
// server would: the client is safe for concurrent use and owns the
// connection pool every request's calls go through.
type app struct {
	client *target.Client
	log    *slog.Logger
	edge   string // where the calls go, for the index page
}

// routes returns the handler of every page.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /executePageLoad", a.executePageLoad)
	mux.HandleFunc("GET /executeMboxes", a.executeMboxes)
	mux.HandleFunc("GET /prefetchMboxes", a.prefetchMboxes)
	mux.HandleFunc("GET /prefetchViews", a.prefetchViews)
	mux.HandleFunc("GET /getAttributes", a.getAttributes)
	mux.HandleFunc("GET /page", a.page)
	mux.HandleFunc("POST /sendNotifications", a.sendNotifications)
	return mux
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<title>Target Go SDK sample</title>
<h1>Target Go SDK sample</h1>
<p>Each page calls Target and shows its answer as JSON; the mbox and mboxEdgeCluster cookies carry the visitor from one call to the next.</p>
<ul>
<li><a href="/executePageLoad">/executePageLoad</a></li>
<li><a href="/executeMboxes?mbox=hero,flags">/executeMboxes?mbox=hero,flags</a></li>
<li><a href="/prefetchMboxes?mbox=hero,banner">/prefetchMboxes?mbox=hero,banner</a> (<a href="/prefetchMboxes?mbox=hero,banner&amp;async=true">async=true</a>: the callback style)</li>
<li><a href="/prefetchViews">/prefetchViews</a> (<a href="/prefetchViews?view=home&amp;async=true">?view=home&amp;async=true</a>)</li>
<li><a href="/getAttributes?mbox=flags">/getAttributes?mbox=flags</a></li>
<li><a href="/page?mbox=hero,banner,flags">/page?mbox=hero,banner,flags</a>: one call per mbox, in parallel, for one visitor</li>
<li>POST /sendNotifications with {"notifications": [...]}</li>
</ul>
<p>Target: {{.}}</p>
`))

func (a *app) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, a.edge)
}

func (a *app) executePageLoad(w http.ResponseWriter, r *http.Request) {
	a.offers(w, r, target.DeliveryRequest{
		Execute: &target.ExecuteRequest{PageLoad: &target.RequestDetails{}},
	})
}

func (a *app) executeMboxes(w http.ResponseWriter, r *http.Request) {
	mboxes, ok := a.mboxes(w, r)
	if !ok {
		return
	}
	a.offers(w, r, target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: mboxes}})
}

func (a *app) prefetchMboxes(w http.ResponseWriter, r *http.Request) {
	mboxes, ok := a.mboxes(w, r)
	if !ok {
		return
	}
	a.offers(w, r, target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: mboxes}})
}

// prefetchViews prefetches the views named by ?view= (comma-separated or
// repeated), or every view when there is none.
func (a *app) prefetchViews(w http.ResponseWriter, r *http.Request) {
	views := []target.ViewRequest{{}} // a view request without a name gets every view
	if names := list(r, "view"); len(names) > 0 {
		views = views[:0]
		for _, n := range names {
			views = append(views, target.ViewRequest{Name: n})
		}
	}
	a.offers(w, r, target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Views: views}})
}

func (a *app) getAttributes(w http.ResponseWriter, r *http.Request) {
	names := list(r, "mbox")
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("the mbox query parameter is required, e.g. ?mbox=flags"))
		return
	}
	v := a.client.NewVisitor(r)
	attrs, err := v.GetAttributes(r.Context(), names, target.GetAttributesOptions{
		Request: pageRequest(r, target.DeliveryRequest{}),
	}).Await(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.SetCookies(w)
	writeJSON(w, http.StatusOK, map[string]any{"attributes": attrs.All()})
}

// page is what a real page handler looks like: independent parts of the
// page ask for their own mboxes at once, one call each, and the flags come
// as attributes. The calls go through one Visitor, so that a first-time
// visitor gets one session, one tntId and one pair of cookies however many
// calls the page makes; its first call establishes them and the others
// start on its answer.
func (a *app) page(w http.ResponseWriter, r *http.Request) {
	names := list(r, "mbox")
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("the mbox query parameter is required, e.g. ?mbox=hero,banner"))
		return
	}
	ctx := r.Context()
	v := a.client.NewVisitor(r)
	parts := make([]*future.Future[*target.Response], len(names))
	for i, name := range names {
		parts[i] = v.GetOffers(ctx, target.GetOffersOptions{Request: pageRequest(r, target.DeliveryRequest{
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: name}}},
		})})
	}
	flags := v.GetAttributes(ctx, []string{"flags"}, target.GetAttributesOptions{Request: pageRequest(r, target.DeliveryRequest{})})

	content := map[string]any{}
	for i, f := range parts {
		res, err := f.Await(ctx)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		// An mbox without an offer has no options: render the default
		// (here null) instead of indexing Options[0].
		c, err := target.MboxContent[any](res, names[i])
		if err != nil && !errors.Is(err, target.ErrNoContent) {
			a.fail(w, r, err)
			return
		}
		content[names[i]] = c
	}
	attrs, err := flags.Await(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.SetCookies(w)
	writeJSON(w, http.StatusOK, map[string]any{
		"content":    content,
		"theme":      attrs.GetString("flags", "theme", "light"),
		"sessionId":  v.SessionID(),
		"calls":      len(parts) + 1,
		"attributes": attrs.All(),
	})
}

// sendNotifications forwards the notifications of a JSON body,
// {"notifications": [...]}, in the Delivery API's own format.
func (a *app) sendNotifications(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Notifications []target.Notification `json:"notifications"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("the body must be {\"notifications\": [...]}: %w", err))
		return
	}
	v := a.client.NewVisitor(r)
	opts := target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: body.Notifications},
	}
	resp, err := v.SendNotifications(r.Context(), opts).Await(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.SetCookies(w)
	writeJSON(w, http.StatusOK, result(resp))
}

// offers makes a GetOffers call for req on behalf of the visitor of r and
// writes its result. With ?async=true it uses the Callback and ErrCallback
// options, the style of the Python SDK's options.callback; otherwise it
// awaits the future. Both give the same answer.
func (a *app) offers(w http.ResponseWriter, r *http.Request, req target.DeliveryRequest) {
	ctx := r.Context()
	v := a.client.NewVisitor(r)
	opts := target.GetOffersOptions{Request: pageRequest(r, req)}
	var (
		resp *target.Response
		err  error
	)
	if r.URL.Query().Get("async") == "true" {
		resp, err = withCallbacks(ctx, v, opts)
	} else {
		resp, err = v.GetOffers(ctx, opts).Await(ctx)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.SetCookies(w)
	writeJSON(w, http.StatusOK, result(resp))
}

// withCallbacks makes the call with callbacks and waits for one of them.
// The callbacks run on the call's goroutine, not the handler's, and a
// ResponseWriter must not be used once the handler has returned (which it
// does when the visitor goes away), so they hand the outcome over rather
// than write the response themselves.
func withCallbacks(ctx context.Context, v *target.Visitor, opts target.GetOffersOptions) (*target.Response, error) {
	type result struct {
		resp *target.Response
		err  error
	}
	outcome := make(chan result, 1) // exactly one callback runs: it never blocks
	opts.Callback = func(resp *target.Response) { outcome <- result{resp: resp} }
	opts.ErrCallback = func(err error) { outcome <- result{err: err} }
	v.GetOffers(ctx, opts)
	select {
	case o := <-outcome:
		return o.resp, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pageRequest returns req with what the browser says about the page: the
// visitor's identity (cookies, session) comes from the target.Visitor.
func pageRequest(r *http.Request, req target.DeliveryRequest) target.DeliveryRequest {
	req.Context = &target.Context{
		Channel:   target.ChannelWeb,
		UserAgent: r.UserAgent(),
		Address:   &target.Address{URL: pageURL(r), ReferringURL: r.Referer()},
	}
	return req
}

func pageURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// mboxes reads ?mbox= (comma-separated or repeated) as mbox requests with
// indexes 0..n-1, or answers 400 when there is none.
func (a *app) mboxes(w http.ResponseWriter, r *http.Request) ([]target.MboxRequest, bool) {
	names := list(r, "mbox")
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("the mbox query parameter is required, e.g. ?mbox=hero,flags"))
		return nil, false
	}
	ms := make([]target.MboxRequest, len(names))
	for i, n := range names {
		ms[i] = target.MboxRequest{Index: i, Name: n}
	}
	return ms, true
}

// list returns the non-empty values of a query parameter given as a comma-
// separated list, repeated, or both.
func list(r *http.Request, key string) []string {
	var out []string
	for _, v := range r.URL.Query()[key] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// result is the JSON answer of the offer and notification pages.
func result(resp *target.Response) map[string]any {
	return map[string]any{
		"request":          resp.Request,
		"response":         resp.Response,
		"targetCookie":     resp.TargetCookie,
		"locationHint":     resp.TargetLocationHintCookie,
		"analyticsDetails": resp.AnalyticsDetails,
		"responseTokens":   resp.ResponseTokens,
		"meta":             resp.Meta,
		"timings":          resp.Timings,
	}
}

// fail answers a failed call: 400 for options the SDK rejected (the request
// was not sent), 504 when the call ran out of time, and 502 for the edge's
// errors and transport failures, with the edge's status in the body.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *target.APIError
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, target.ErrInvalidOption):
		status = http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	case errors.As(err, &apiErr):
		a.log.Warn("target call failed", "path", r.URL.Path, "status", apiErr.Status, "error", err)
		writeJSON(w, status, map[string]any{"error": err.Error(), "targetStatus": apiErr.Status})
		return
	}
	a.log.Warn("target call failed", "path", r.URL.Path, "error", err)
	writeError(w, status, err)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]any{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Offers hold HTML: keep it readable; the content type is JSON, so a
	// browser does not render it.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
