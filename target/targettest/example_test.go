package targettest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func Example() {
	srv := targettest.NewServer(targettest.Config{
		Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
			"hero": {Options: []target.Option{{Type: target.OptionTypeHTML, Content: json.RawMessage(`"<p>Hello</p>"`)}}},
		}},
	})
	defer srv.Close()

	// A client that learned its edge cluster calls mboxedge35.tt.omtrdc.net;
	// the edge's HTTP client takes that call to the local edge.
	query := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"s1"}}
	body := `{"context":{"channel":"web"},"execute":{"mboxes":[{"index":1,"name":"hero"}]},"prefetch":{"mboxes":[{"index":1,"name":"hero"}]}}`
	resp, err := srv.HTTPClient().Post("http://mboxedge35.tt.omtrdc.net"+targettest.DeliveryPath+"?"+query.Encode(),
		"application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var out target.DeliveryResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		fmt.Println(err)
		return
	}
	executed, prefetched := out.Execute.Mboxes[0].Options[0], out.Prefetch.Mboxes[0].Options[0]
	fmt.Println(resp.StatusCode, out.EdgeHost, strings.HasSuffix(out.ID.TntID, ".35_0"))
	fmt.Printf("execute: %s, event token: %t\n", executed.Content, executed.EventToken != "")
	fmt.Printf("prefetch: %s, event token: %t\n", prefetched.Content, prefetched.EventToken != "")
	fmt.Println("received for", srv.Requests()[0].Host)
	// Output:
	// 200 mboxedge35.tt.omtrdc.net true
	// execute: "<p>Hello</p>", event token: false
	// prefetch: "<p>Hello</p>", event token: true
	// received for mboxedge35.tt.omtrdc.net
}

func ExampleServer_ForceFault() {
	srv := targettest.NewServer(targettest.Config{})
	defer srv.Close()
	srv.ForceFault(targettest.FaultTooManyRequests, 1)

	query := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"s1"}}
	for range 2 {
		resp, err := srv.HTTPClient().Post(srv.URL+targettest.DeliveryPath+"?"+query.Encode(),
			"application/json", strings.NewReader(`{"context":{"channel":"web"}}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	fmt.Println("faults:", srv.Stats().Faults)
	// Output:
	// 429 Retry-After="1"
	// 200 Retry-After=""
	// faults: 1
}

func ExampleNewTLSServer() {
	srv := targettest.NewTLSServer(targettest.Config{})
	defer srv.Close()

	// The certificate verifies for the edge names, through the edge's own
	// HTTP client only.
	query := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"s1"}}
	resp, err := srv.HTTPClient().Post("https://mboxedge35.tt.omtrdc.net"+targettest.DeliveryPath+"?"+query.Encode(),
		"application/json", strings.NewReader(`{"context":{"channel":"web"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.TLS.VerifiedChains[0][0].DNSNames)
	// Output: 200 [*.tt.omtrdc.net tt.omtrdc.net assets.adobetarget.com localhost]
}
