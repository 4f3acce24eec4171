package target_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// exampleEdge starts a local edge with a few offers, for the examples.
func exampleEdge() *targettest.Server {
	return targettest.NewServer(targettest.Config{Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
		"hero":     {Options: []target.Option{htmlOption("<h1>Summer sale</h1>")}},
		"features": {Options: []target.Option{jsonOption(`{"checkout":"v2","maxItems":20,"newNav":true}`)}},
	}}})
}

// Await style: start the call, do other work, then wait for the result.
func ExampleClient_GetOffers_await() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	offers := client.GetOffers(ctx, target.GetOffersOptions{
		Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{
			Mboxes: []target.MboxRequest{{Name: "hero"}},
		}},
		SessionID: "session-1",
	})
	// ... render the rest of the page while Target answers ...
	res, err := offers.Await(ctx)
	if err != nil {
		fmt.Println("no offers:", err)
		return
	}
	html, _ := res.Response.Execute.Mboxes[0].Options[0].ContentString()
	fmt.Println(html)
	fmt.Println("set cookie:", res.TargetCookie.Name, "max-age", res.TargetCookie.MaxAge)
	fmt.Println("set cookie:", res.TargetLocationHintCookie.Name+"="+res.TargetLocationHintCookie.Value)
	// Output:
	// <h1>Summer sale</h1>
	// set cookie: mbox max-age 63244800
	// set cookie: mboxEdgeCluster=35
}

// Callback style, like the callback and err_callback options of Adobe's
// Python SDK: exactly one of the two runs, once.
func ExampleClient_GetOffers_callback() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	client.GetOffers(context.Background(), target.GetOffersOptions{
		Request: target.DeliveryRequest{Prefetch: &target.PrefetchRequest{
			Mboxes: []target.MboxRequest{{Name: "hero"}},
		}},
		Callback: func(res *target.Response) {
			defer wg.Done()
			m := res.Response.Prefetch.Mboxes[0]
			fmt.Println(m.Name, "prefetched, event token present:", m.Options[0].EventToken != "")
		},
		ErrCallback: func(err error) {
			defer wg.Done()
			fmt.Println("failed:", err)
		},
	})
	wg.Wait()
	// Output:
	// hero prefetched, event token present: true
}

// A Then chain: turn the offers into the value the page needs, with no
// goroutine of its own.
func ExampleClient_GetOffers_then() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	headline := future.Then(
		client.GetOffers(ctx, target.GetOffersOptions{Request: target.DeliveryRequest{
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}},
		}}),
		func(res *target.Response) (string, error) {
			html, ok := res.Response.Execute.Mboxes[0].Options[0].ContentString()
			if !ok {
				return "", errors.New("the hero offer is not HTML")
			}
			return html, nil
		},
	)
	h, err := headline.Await(ctx)
	fmt.Println(h, err)
	// Output:
	// <h1>Summer sale</h1> <nil>
}

// Feature flags from JSON offers, with typed getters and defaults.
func ExampleClient_GetAttributes() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	attrs, err := client.GetAttributes(ctx, []string{"features"}, target.GetAttributesOptions{}).Await(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(attrs.GetString("features", "checkout", "v1"))
	fmt.Println(attrs.GetInt("features", "maxItems", 10))
	fmt.Println(attrs.GetBool("features", "newNav", false))
	fmt.Println(attrs.GetBool("features", "darkMode", false))
	// Output:
	// v2
	// 20
	// true
	// false
}

// Notifications for prefetched content that was displayed.
func ExampleClient_SendNotifications() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	res, err := client.SendNotifications(ctx, target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: []target.Notification{{
			ID:     "display-1",
			Type:   target.MetricTypeDisplay,
			Mbox:   &target.NotificationMbox{Name: "hero"},
			Tokens: []string{"event-token-from-prefetch"},
		}}},
	}).Await(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("acknowledged:", res.Response.Notifications[0].ID)
	// Output:
	// acknowledged: display-1
}

// NewClient names the field it rejects.
func ExampleNewClient() {
	_, err := target.NewClient(target.Config{
		Client:         "acmeclient",
		OrganizationID: "0123456789ABCDEF@AdobeOrg",
		ServerDomain:   "https://edge.example.com", // host[:port] only
	})
	var ce *target.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	fmt.Println(err)
	// Output:
	// ServerDomain
	// target: invalid Config.ServerDomain: "https://edge.example.com" must be host[:port], without scheme or path
}

// exampleArtifact is a rules artifact written for the on-device example:
// the "hero" mbox shows newsletter readers a sale and everyone else a
// welcome.
const exampleArtifact = `{
  "version": "1.0.0",
  "meta": {"clientCode": "acme", "environment": "production"},
  "globalMbox": "target-global-mbox",
  "responseTokens": [],
  "remoteMboxes": [],
  "localMboxes": ["hero"],
  "remoteViews": [],
  "localViews": [],
  "rules": {
    "mboxes": {
      "hero": [
        {
          "ruleKey": "sale", "activityId": 501,
          "meta": {"activity.id": 501},
          "condition": {"==": [{"var": "mbox.source"}, "newsletter"]},
          "consequence": {"name": "hero",
            "options": [{"type": "html", "content": "<h1>Newsletter sale</h1>", "eventToken": "sale-token"}],
            "metrics": [{"type": "display", "eventToken": "sale-token"}]}
        },
        {
          "ruleKey": "welcome", "activityId": 501,
          "meta": {"activity.id": 501},
          "condition": true,
          "consequence": {"name": "hero",
            "options": [{"type": "html", "content": "<h1>Welcome</h1>", "eventToken": "welcome-token"}],
            "metrics": [{"type": "display", "eventToken": "welcome-token"}]}
        }
      ]
    },
    "views": {}
  }
}`

// On-device decisioning: the client decides from a rules artifact, here
// given as a payload (usually downloaded from Target's CDN and polled),
// in microseconds and without a round trip. What the artifact has no
// rules for comes back with status 206 and its name in Meta, for a
// server-side call. The display notification goes to the edge in the
// background; Close waits for it.
func ExampleClient_GetOffers_onDevice() {
	edge := exampleEdge() // receives the display notifications
	defer edge.Close()
	cfg := edge.ClientConfig()
	cfg.DecisioningMethod = target.OnDevice
	notified := make(chan error, 1)
	cfg.OnDevice = target.OnDeviceConfig{
		ArtifactPayload:     []byte(exampleArtifact),
		OnNotificationsSent: func(_ *target.Response, err error) { notified <- err },
	}
	client, err := target.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	defer func() { _ = client.Close(context.Background()) }()

	ctx := context.Background()
	if _, err := client.Ready().Await(ctx); err != nil { // at once with a payload
		panic(err)
	}
	res, err := client.GetOffers(ctx, target.GetOffersOptions{
		Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{
			{Name: "hero", Index: 1, RequestDetails: target.RequestDetails{Parameters: map[string]string{"source": "newsletter"}}},
			{Name: "recommendations", Index: 2},
		}}},
		SessionID: "session-1",
	}).Await(ctx)
	if err != nil {
		fmt.Println("no offers:", err)
		return
	}
	fmt.Println(res.Meta.DecisioningMethod, res.Status)
	for _, m := range res.Response.Execute.Mboxes {
		if len(m.Options) > 0 {
			html, _ := m.Options[0].ContentString()
			fmt.Println(m.Name+":", html)
		}
	}
	fmt.Println("ask the edge for:", res.Meta.RemoteMboxes)
	fmt.Println("display notification error:", <-notified)
	// Output:
	// on-device 206
	// hero: <h1>Newsletter sale</h1>
	// ask the edge for: [recommendations]
	// display notification error: <nil>
}

// Telling failures apart with errors.As: each kind carries the request id
// sent, the host and the attempts, for the edge's logs and the caller's.
func Example_errors() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}
	defer func() { _ = client.Close(context.Background()) }()

	explain := func(err error) string {
		var (
			opt       *target.OptionError
			api       *target.APIError
			transport *target.TransportError
			decode    *target.DecodeError
		)
		switch {
		case err == nil:
			return "ok"
		case errors.As(err, &opt):
			return "fix the call: " + opt.Field
		case errors.As(err, &api):
			return fmt.Sprintf("edge answered %d (%s) to request %s after %d attempt(s)", api.Status, api.Message, api.RequestID, api.Attempts)
		case errors.As(err, &decode):
			return fmt.Sprintf("undecodable %d answer to request %s", decode.Status, decode.RequestID)
		case errors.As(err, &transport) && errors.Is(err, context.DeadlineExceeded):
			return "timed out: request " + transport.RequestID
		case errors.As(err, &transport):
			return "no answer to request " + transport.RequestID
		}
		return "unexpected: " + err.Error()
	}

	ctx := context.Background()
	call := func(client *target.Client, requestID string) error {
		_, err := client.GetOffers(ctx, target.GetOffersOptions{Request: target.DeliveryRequest{
			RequestID: requestID,
			Execute:   &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}},
		}}).Await(ctx)
		return err
	}
	fmt.Println(explain(call(client, "bad\nid")))
	edge.ForceFault(targettest.FaultServerError, 1)
	fmt.Println(explain(call(client, "req-2")))
	edge.ForceFault(targettest.FaultMalformedJSON, 1)
	fmt.Println(explain(call(client, "req-3")))
	edge.ForceFault(targettest.FaultReset, 1)
	fmt.Println(explain(call(client, "req-4")))
	slow := targettest.NewServer(targettest.Config{Latency: targettest.Latency{Fixed: time.Hour}})
	defer slow.Close()
	slowCfg := slow.ClientConfig()
	slowCfg.Timeout = 100 * time.Millisecond
	slowClient, err := target.NewClient(slowCfg)
	if err != nil {
		panic(err)
	}
	defer func() { _ = slowClient.Close(context.Background()) }()
	fmt.Println(explain(call(slowClient, "req-5")))
	// Output:
	// fix the call: Request.RequestID
	// edge answered 503 (Service unavailable (fault injected by the local edge)) to request req-2 after 1 attempt(s)
	// undecodable 200 answer to request req-3
	// no answer to request req-4
	// timed out: request req-5
}
