package target_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestParameterRedactionPrecise: parameter values that look like ids
// (an email, a code, a number) are gone from an APIError wherever they
// appear; a word-like value is redacted only as a whole token, and not
// at all when it is a JSON literal, an mbox name, or a name of the
// Delivery API's wire format, so that the edge's message stays readable.
func TestParameterRedactionPrecise(t *testing.T) {
	t.Parallel()
	const message = "mbox 'hero' param: jane@example.com; loyalty LOYAL998877; zip 12345; flag true; " +
		"checkouts closed; section checkout; all parameters must be strings; logging server_side"
	const want = "mbox 'hero' param: [redacted]; loyalty [redacted]; zip [redacted]; flag true; " +
		"checkouts closed; section [redacted]; all parameters must be strings; logging server_side"
	edge := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"status":400,"message":%q}`, message)
	})
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", ServerDomain: edge.host(), Insecure: true})
	require.NoError(t, err)
	req := heroRequest("x")
	req.Execute.Mboxes[0].Parameters = map[string]string{
		"email": "jane@example.com", "zip": "12345", "flag": "true", "slot": "hero",
		"kind": "parameters", "log": "server_side", "section": "checkout",
	}
	req.Execute.Mboxes[0].ProfileParameters = map[string]string{"loyalty": "LOYAL998877"}
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, want, api.Message)
	for _, v := range []string{"%v", "%+v", "%#v", "%q", "%s"} {
		s := fmt.Sprintf(v, err)
		for _, secret := range []string{"jane@example.com", "LOYAL998877", "12345", "section checkout"} {
			assert.NotContains(t, s, secret, v)
		}
	}
	require.NoError(t, c.Close(t.Context()))
}
