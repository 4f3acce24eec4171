package target_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// A page handler makes its calls through a Visitor: they share one session
// and, for a first-time visitor, the tntId the first answer gives, and the
// page sets one pair of cookies.
func ExampleClient_NewVisitor() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	page := func(w http.ResponseWriter, r *http.Request) {
		v := client.NewVisitor(r)
		hero := v.GetOffers(r.Context(), target.GetOffersOptions{
			Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{
				Mboxes: []target.MboxRequest{{Name: "hero"}},
			}},
		})
		flags := v.GetAttributes(r.Context(), []string{"features"}, target.GetAttributesOptions{})
		res, err := hero.Await(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		attrs, err := flags.Await(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		v.SetCookies(w)
		html, _ := res.Response.Execute.Mboxes[0].Options[0].ContentString()
		fmt.Fprintln(w, html, "checkout", attrs.GetString("features", "checkout", "v1"))
		fmt.Fprintln(w, "same visitor:", res.Request.ID == nil && attrs.Response.Request.ID.TntID == v.TntID())
	}

	rec := httptest.NewRecorder()
	page(rec, httptest.NewRequest(http.MethodGet, "/", nil)) // a first-time visitor
	fmt.Print(rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		fmt.Println("Set-Cookie:", c.Name, "Path="+c.Path, "Max-Age", c.MaxAge, "SameSite Lax:", c.SameSite == http.SameSiteLaxMode)
	}
	// Output:
	// <h1>Summer sale</h1> checkout v2
	// same visitor: true
	// Set-Cookie: mbox Path=/ Max-Age 63244800 SameSite Lax: true
	// Set-Cookie: mboxEdgeCluster Path=/ Max-Age 1860 SameSite Lax: true
}

// RequestCookies reads the visitor's cookies from a request, and
// Cookie.HTTPCookie writes a returned cookie for net/http: Secure because
// the proxy in front of the server says the visitor came over HTTPS.
func ExampleRequestCookies() {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	r.AddCookie(&http.Cookie{Name: target.LocationHintCookie, Value: "35"})
	mbox, hint := target.RequestCookies(r)
	fmt.Printf("mbox %q, mboxEdgeCluster %q\n", mbox, hint)

	c := &target.Cookie{Name: target.LocationHintCookie, Value: "35", MaxAge: 1860}
	fmt.Println(c.HTTPCookie(r, target.CookieOptions{}).String())
	fmt.Println(strings.Contains(c.HTTPCookie(nil, target.CookieOptions{SameSite: http.SameSiteNoneMode}).String(), "Secure"))
	// Output:
	// mbox "", mboxEdgeCluster "35"
	// mboxEdgeCluster=35; Path=/; Max-Age=1860; Secure; SameSite=Lax
	// true
}

// MboxContent decodes an mbox's JSON offer into the caller's type, and
// says ErrNoContent, instead of panicking, for an mbox without an offer.
func ExampleMboxContent() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	ctx := context.Background()
	res, err := client.GetOffers(ctx, target.GetOffersOptions{
		Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{
			Mboxes: []target.MboxRequest{{Name: "features"}, {Name: "no-offer-here"}},
		}},
	}).Await(ctx)
	if err != nil {
		panic(err)
	}
	type features struct {
		Checkout string `json:"checkout"`
		MaxItems int    `json:"maxItems"`
	}
	f, err := target.MboxContent[features](res, "features")
	fmt.Printf("%+v %v\n", f, err)

	_, err = target.MboxContent[features](res, "no-offer-here")
	fmt.Println(errors.Is(err, target.ErrNoContent))
	if m, ok := res.Mbox("no-offer-here"); ok {
		fmt.Println("answered with", len(m.Options), "options")
	}
	// Output:
	// {Checkout:v2 MaxItems:20} <nil>
	// true
	// answered with 0 options
}

// tracingTransport stands for otelhttp.NewTransport or any other
// middleware: it sees each request, then hands it to the SDK's transport.
type tracingTransport struct {
	next  http.RoundTripper
	spans int
}

func (t *tracingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.spans++ // a real tracer starts a span and injects a traceparent header
	r = r.Clone(r.Context())
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return t.next.RoundTrip(r)
}

// Config.WrapTransport wraps the SDK's own pooled transport, so tracing
// keeps its keep-alive pool; with OpenTelemetry:
//
//	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
//		return otelhttp.NewTransport(rt)
//	}
func ExampleConfig_wrapTransport() {
	edge := targettest.NewServer(targettest.Config{NoCluster: true})
	defer edge.Close()
	tracer := &tracingTransport{}
	cfg := edge.ClientConfig()
	cfg.HTTPClient = nil // WrapTransport wraps the transport the Client makes
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		tracer.next = rt
		return tracer
	}
	client, err := target.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	ctx := context.Background()
	_, err = client.GetOffers(ctx, target.GetOffersOptions{
		Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}},
	}).Await(ctx)
	fmt.Println(err, tracer.spans, edge.Requests()[0].Header.Get("Traceparent") != "")
	// Output:
	// <nil> 1 true
}

// A handler sends its notification and returns at once: the notification
// outlives the request's context, and Close delivers what is still queued.
func ExampleClient_SendNotifications_fromAHandler() {
	edge := targettest.NewServer(targettest.Config{})
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	clicked := func(w http.ResponseWriter, r *http.Request) {
		// client.NewVisitor(r).SendNotifications notifies as the visitor
		// of r's cookies; here a session id stands for them.
		client.SendNotifications(r.Context(), target.SendNotificationsOptions{
			Request: target.DeliveryRequest{Notifications: []target.Notification{{
				ID: r.URL.Query().Get("id"), Type: target.MetricTypeClick, Tokens: []string{"token-from-the-prefetch"},
			}}},
			SessionID: "session-1",
		})
		w.WriteHeader(http.StatusNoContent) // r.Context() ends when this returns
	}
	for _, id := range []string{"click-1", "click-2", "click-3"} {
		clicked(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/clicked?id="+id, nil))
	}

	// At shutdown: deliver what is queued, for at most ten seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println("close:", client.Close(ctx))
	delivered := 0
	for _, r := range edge.Requests() {
		delivered += len(r.Delivery.Notifications)
	}
	fmt.Println("delivered:", delivered)
	// Output:
	// close: <nil>
	// delivered: 3
}
