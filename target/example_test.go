package target_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	attrs, err := client.GetAttributes(ctx, []string{"features"}, target.GetOffersOptions{}).Await(ctx)
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
