package targettest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// The SDK's client, configured by ClientConfig, reaches the edge over HTTP
// and HTTPS, also after it has learned the edge cluster and routes to
// mboxedge35.tt.omtrdc.net.
func TestClientConfigWithTheSDKClient(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%t", useTLS), func(t *testing.T) {
			t.Parallel()
			srv := setupTLS(t, targettest.Config{Offers: offers}, useTLS)
			client, err := target.NewClient(srv.ClientConfig())
			require.NoError(t, err)

			opts := target.GetOffersOptions{Request: target.DeliveryRequest{
				Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "hero"}}},
			}}
			first, err := client.GetOffers(t.Context(), opts).Await(t.Context())
			require.NoError(t, err)
			require.Len(t, first.Response.Execute.Mboxes, 1)
			assert.JSONEq(t, `"<p>Hello</p>"`, string(first.Response.Execute.Mboxes[0].Options[0].Content))
			require.NotNil(t, first.TargetCookie)

			opts.TargetCookie = first.TargetCookie.Value
			_, err = client.GetOffers(t.Context(), opts).Await(t.Context())
			require.NoError(t, err)

			reqs := srv.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, srv.Addr(), reqs[0].Host, "the first call goes to the server domain")
			assert.Equal(t, "mboxedge35.tt.omtrdc.net", reqs[1].Host, "the second follows the learned cluster")
			assert.Equal(t, first.Response.ID.TntID, reqs[1].Delivery.ID.TntID)
		})
	}
}

func ExampleServer_ClientConfig() {
	srv := targettest.NewServer(targettest.Config{
		Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
			"flags": {Options: []target.Option{{Type: target.OptionTypeJSON, Content: json.RawMessage(`{"dark":true}`)}}},
		}},
	})
	defer srv.Close()

	client, err := target.NewClient(srv.ClientConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := client.GetOffers(context.Background(), target.GetOffersOptions{Request: target.DeliveryRequest{
		Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Index: 1, Name: "flags"}}},
	}}).Await(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s\n", res.Response.Execute.Mboxes[0].Name, res.Response.Execute.Mboxes[0].Options[0].Content)
	fmt.Println(srv.Requests()[0].Query.Get("imsOrgId") == targettest.DefaultOrganizationID)
	// Output:
	// flags {"dark":true}
	// true
}
