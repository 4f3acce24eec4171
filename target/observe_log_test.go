package target_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// records parses the JSON log records written so far.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		out = append(out, r)
	}
	return out
}

func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func withMessage(rs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range rs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestCallDebugRecord: each call, successful, failed or rejected, writes
// one "target: call" debug record with its outcome and timings, and no
// session id or visitor id.
func TestCallDebugRecord(t *testing.T) {
	t.Parallel()
	const session, tnt = "secret-session-31", "secret-tnt-32"
	var buf syncBuffer
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Logger = debugLogger(&buf) })
	req := offersRequest("hero")
	req.ID = &target.VisitorID{TntID: tnt}

	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: session}).Await(t.Context())
	require.NoError(t, err)
	srv.ForceFault(targettest.FaultServerError, 1)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: session}).Await(t.Context())
	require.Error(t, err)
	_, err = c.SendNotifications(t.Context(), target.SendNotificationsOptions{SessionID: session}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption)

	calls := withMessage(buf.records(t), "target: call")
	require.Len(t, calls, 3)
	ok, failed, rejected := calls[0], calls[1], calls[2]
	assert.Equal(t, "GetOffers", ok["op"])
	assert.Equal(t, "success", ok["outcome"])
	assert.Equal(t, "server-side", ok["decidedBy"])
	assert.InDelta(t, 200, ok["status"], 0)
	timings, _ := ok["timings"].(map[string]any)
	require.NotNil(t, timings, "%v", ok)
	assert.InDelta(t, 1, timings["attempts"], 0)
	assert.Positive(t, timings["total"])
	assert.NotEmpty(t, ok["requestId"])

	assert.Equal(t, "error", failed["outcome"])
	assert.Equal(t, "api", failed["errorKind"])
	assert.Contains(t, failed["error"], "503")
	failedTimings, _ := failed["timings"].(map[string]any)
	require.NotNil(t, failedTimings, "a failed call has its timings too: %v", failed)
	assert.InDelta(t, 1, failedTimings["attempts"], 0)

	assert.Equal(t, "SendNotifications", rejected["op"])
	assert.Equal(t, "invalid_option", rejected["errorKind"])

	out := buf.String()
	assert.NotContains(t, out, session)
	assert.NotContains(t, out, tnt)
	assert.Empty(t, withMessage(buf.records(t), "target: request body"), "bodies only with LogBodies")
}

// TestLogBodies: with Config.LogBodies the bodies of each attempt are
// logged, with the request's ids and tokens redacted in every form JSON
// gives them, and the visitor id the edge mints for the answer too.
func TestLogBodies(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = debugLogger(&buf)
		cfg.LogBodies = true
	})
	secrets := map[string]string{
		"thirdPartyId":  `tp-"quoted"<&>`,
		"mcid":          "mcid-secret-41",
		"customer":      "customer-secret-42",
		"property":      "property-secret-43",
		"preview":       "preview-secret-44",
		"qa":            "qa-secret-45",
		"authorization": "auth-secret-46",
	}
	req := offersRequest("hero")
	req.ID = &target.VisitorID{
		ThirdPartyID: secrets["thirdPartyId"], MarketingCloudVisitorID: secrets["mcid"],
		CustomerIDs: []target.CustomerID{{ID: secrets["customer"], IntegrationCode: "crm", AuthenticatedState: "authenticated"}},
	}
	req.Property = &target.Property{Token: secrets["property"]}
	req.Preview = &target.Preview{Token: secrets["preview"]}
	req.QAMode = &target.QAMode{Token: secrets["qa"]}
	req.Trace = &target.Trace{AuthorizationToken: secrets["authorization"]}
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	minted := res.Response.ID.TntID
	require.NotEmpty(t, minted)

	rs := buf.records(t)
	reqBodies, respBodies := withMessage(rs, "target: request body"), withMessage(rs, "target: response body")
	require.Len(t, reqBodies, 1)
	require.Len(t, respBodies, 1)
	assert.Contains(t, reqBodies[0]["body"], `"name":"hero"`)
	assert.Contains(t, reqBodies[0]["body"], "[redacted]")
	assert.Contains(t, respBodies[0]["body"], `"tntId":"[redacted]"`)
	out := buf.String()
	for name, s := range secrets {
		assert.NotContains(t, out, s, name)
		b, _ := json.Marshal(s)
		assert.NotContains(t, out, strings.Trim(string(b), `"`), name)
	}
	assert.NotContains(t, out, minted)
	base, _, _ := strings.Cut(minted, ".")
	assert.NotContains(t, out, base)
}
