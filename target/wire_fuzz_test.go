package target_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// FuzzWireFields: whatever request id, session id and environment id a
// caller passes, the call either fails with an *OptionError before sending
// anything, or reaches the edge over a real net/http transport with the
// header and query values exactly as validated. No value gets to the wire
// to fail there (and be retried), and none is changed on the way.
func FuzzWireFields(f *testing.F) {
	for _, s := range []struct {
		requestID, sessionID string
		env                  int64
	}{
		{"", "", 0}, {"req-1", "sess-1", 7}, {"a\r\nX-Evil: 1", "s", 0}, {"a\x00", "s\x7f", -1},
		{"é", "s/x", 1}, {" a", "s?x", 0}, {strings.Repeat("r", 129), strings.Repeat("s", 129), 0},
		{"a\tb", "a b", 0}, {"%0d%0a", "%0d%0a", 0}, {"ok", "&imsOrgId=evil", 0},
	} {
		f.Add(s.requestID, s.sessionID, s.env)
	}
	var sent struct {
		requestID, sessionID, orgID string
		n                           int
	}
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fuzz iterations run one at a time in a worker, and each call is
		// awaited, so no lock is needed.
		sent.n++
		sent.requestID = r.Header.Get("X-Request-Id")
		q := r.URL.Query()
		sent.sessionID, sent.orgID = q.Get("sessionId"), q.Get("imsOrgId")
		if len(q["sessionId"]) != 1 || len(q["imsOrgId"]) != 1 {
			sent.orgID = "duplicated query parameters"
		}
		_, _ = w.Write([]byte("{}"))
	}))
	f.Cleanup(edge.Close)
	const org = "org@AdobeOrg"
	c, err := target.NewClient(target.Config{
		Client: "acme", OrganizationID: org, ServerDomain: strings.TrimPrefix(edge.URL, "http://"), Insecure: true,
		Retry: target.RetryPolicy{MaxAttempts: 3},
	})
	require.NoError(f, err)
	f.Cleanup(c.CloseIdleConnections)

	f.Fuzz(func(t *testing.T, requestID, sessionID string, env int64) {
		before := sent.n
		req := target.DeliveryRequest{RequestID: requestID, EnvironmentID: env,
			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "m"}}}}
		res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: sessionID}).Await(t.Context())
		if err != nil {
			var oe *target.OptionError
			require.True(t, errors.As(err, &oe), "only option errors, got %v", err)
			assert.Equal(t, before, sent.n, "nothing sent")
			badID := requestID != "" && !target.ValidRequestID(requestID)
			badSession := sessionID != "" && !target.ValidSessionID(sessionID)
			assert.True(t, badID || badSession || env < 0, "rejected a valid call: %v", err)
			return
		}
		require.Equal(t, before+1, sent.n, "one request, no retry")
		if requestID != "" {
			assert.True(t, target.ValidRequestID(requestID))
			assert.Equal(t, requestID, sent.requestID, "the header as given")
		}
		assert.Equal(t, res.Request.RequestID, sent.requestID)
		assert.GreaterOrEqual(t, env, int64(0))
		if sessionID != "" {
			assert.Equal(t, sessionID, sent.sessionID, "the session id as given")
		}
		assert.Equal(t, org, sent.orgID)
	})
}
