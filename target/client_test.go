package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// setup starts a local edge and a client for it; both are closed when the
// test ends. edit adjusts the client's Config (timeouts, retries, ...).
func setup(t testing.TB, ecfg targettest.Config, edit ...func(*target.Config)) (*target.Client, *targettest.Server) {
	t.Helper()
	srv := targettest.NewServer(ecfg)
	t.Cleanup(srv.Close)
	cfg := srv.ClientConfig()
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, srv
}

var (
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sdid   = regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
)

func jsonOption(content string) target.Option {
	return target.Option{Type: target.OptionTypeJSON, Content: json.RawMessage(content)}
}

func htmlOption(content string) target.Option {
	b, _ := json.Marshal(content)
	return target.Option{Type: target.OptionTypeHTML, Content: b}
}

var offers = targettest.Offers{
	Mboxes: map[string]targettest.Offer{
		"hero":  {Options: []target.Option{htmlOption("<h1>Hello</h1>")}},
		"flags": {Options: []target.Option{jsonOption(`{"color":"red","size":2,"beta":true}`), jsonOption(`{"size":3,"ratio":1.5}`)}},
	},
}

func offersRequest(names ...string) target.DeliveryRequest {
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{}}
	for _, n := range names {
		req.Execute.Mboxes = append(req.Execute.Mboxes, target.MboxRequest{Name: n})
	}
	return req
}

func TestGetOffersWire(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.PropertyToken = "prop-1"
		cfg.EnvironmentID = 7
	})
	req := offersRequest("hero", "flags")
	req.Prefetch = &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}

	before := time.Now().Unix()
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "s-1"}).Await(t.Context())
	require.NoError(t, err)

	// The caller's request is left as it was.
	assert.Nil(t, req.Context)
	assert.Empty(t, req.RequestID)

	// The request as sent.
	sent := res.Request
	assert.Regexp(t, uuidV4, sent.RequestID)
	assert.Equal(t, target.ChannelWeb, sent.Context.Channel)
	assert.Equal(t, &target.Property{Token: "prop-1"}, sent.Property)
	assert.EqualValues(t, 7, sent.EnvironmentID)
	require.NotNil(t, sent.ExperienceCloud.Analytics)
	assert.Equal(t, target.LoggingServerSide, sent.ExperienceCloud.Analytics.Logging)
	assert.Regexp(t, sdid, sent.ExperienceCloud.Analytics.SupplementalDataID)
	assert.Equal(t, []int{0, 1}, []int{sent.Execute.Mboxes[0].Index, sent.Execute.Mboxes[1].Index})

	// The wire.
	recs := srv.Requests()
	require.Len(t, recs, 1)
	rec := recs[0]
	assert.Equal(t, http.MethodPost, rec.Method)
	assert.Equal(t, targettest.DeliveryPath, rec.Path)
	assert.Equal(t, srv.Addr(), rec.Host)
	assert.Equal(t, targettest.DefaultOrganizationID, rec.Query.Get("imsOrgId"))
	assert.Equal(t, "s-1", rec.Query.Get("sessionId"))
	assert.Equal(t, "application/json", rec.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", rec.Header.Get("Accept"))
	assert.Equal(t, sent.RequestID, rec.Header.Get("X-Request-Id"))
	assert.NotEmpty(t, rec.Header.Get("X-EXC-SDK"))
	assert.NotEmpty(t, rec.Header.Get("X-EXC-SDK-Version"))
	var onWire, asSent any
	require.NoError(t, json.Unmarshal(rec.Body, &onWire))
	b, err := json.Marshal(sent)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &asSent))
	assert.Equal(t, asSent, onWire, "Response.Request is what went on the wire")

	// The answer and the envelope.
	assert.Equal(t, http.StatusOK, res.Status)
	require.Len(t, res.Response.Execute.Mboxes, 2)
	html, ok := res.Response.Execute.Mboxes[0].Options[0].ContentString()
	assert.True(t, ok)
	assert.Equal(t, "<h1>Hello</h1>", html)
	_, ok = res.Response.Execute.Mboxes[1].Options[0].ContentString()
	assert.False(t, ok, "json content is not a string")
	assert.Empty(t, res.Response.Execute.Mboxes[0].Options[0].EventToken, "executed options carry no event token")
	assert.NotEmpty(t, res.Response.Prefetch.Mboxes[0].Options[0].EventToken)
	assert.Equal(t, target.ServerSide, res.Meta.DecisioningMethod)
	assert.Equal(t, 1, res.Timings.Attempts)
	assert.Positive(t, res.Timings.Total)
	assert.Positive(t, res.Timings.ResponseSize)

	tnt := res.Response.ID.TntID
	assert.True(t, strings.HasSuffix(tnt, ".35_0"), tnt)
	require.NotNil(t, res.TargetCookie)
	assert.Equal(t, target.MboxCookie, res.TargetCookie.Name)
	assert.Equal(t, 63244800, res.TargetCookie.MaxAge)
	entries, err := target.ParseTargetCookie(res.TargetCookie.Value, time.Now())
	require.NoError(t, err)
	name, val, exp := entries["session"].Fields()
	assert.Equal(t, []string{"session", "s-1"}, []string{name, val})
	assert.InDelta(t, before+1860, exp, 5)
	name, val, exp = entries["PC"].Fields()
	assert.Equal(t, []string{"PC", tnt}, []string{name, val})
	assert.InDelta(t, before+63244800, exp, 5)
	assert.Equal(t, &target.Cookie{Name: target.LocationHintCookie, Value: "35", MaxAge: 1860}, res.TargetLocationHintCookie)
}

func TestMboxCookieFormat(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{})
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:   offersRequest("hero"),
		SessionID: "a~b",
	}).Await(t.Context())
	require.NoError(t, err)
	now := time.Now().Unix()
	re := regexp.MustCompile(`^session#a~b#(\d+)\|PC#([^#|]+)#(\d+)$`)
	m := re.FindStringSubmatch(res.TargetCookie.Value)
	require.NotNil(t, m, res.TargetCookie.Value)
	s, _ := strconv.ParseInt(m[1], 10, 64)
	p, _ := strconv.ParseInt(m[3], 10, 64)
	assert.InDelta(t, now+1860, s, 5)
	assert.InDelta(t, now+63244800, p, 5)
	assert.Equal(t, res.Response.ID.TntID, m[2])
}

// mboxCookie builds an mbox cookie value with entries expiring after ttl
// seconds (negative: already expired).
func mboxCookie(sessionID, tntID string, ttl int64) string {
	exp := time.Now().Unix() + ttl
	v := fmt.Sprintf("session#%s#%d", sessionID, exp)
	if tntID != "" {
		v += fmt.Sprintf("|PC#%s#%d", tntID, exp)
	}
	return v
}

func TestHostSelection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    func(*target.Config)
		opts   target.GetOffersOptions
		tntID  string // request.id.tntId
		host   string // "" = the edge's own host:port (ServerDomain)
		hintCk string // the mboxEdgeCluster cookie value returned, "" = none
	}{
		{name: "server domain", host: ""},
		{name: "client default", cfg: func(c *target.Config) { c.ServerDomain = "" }, host: "testclient.tt.omtrdc.net"},
		{name: "config hint", cfg: func(c *target.Config) { c.LocationHint = "28" }, host: "mboxedge28.tt.omtrdc.net", hintCk: "28"},
		{name: "option hint", opts: target.GetOffersOptions{TargetLocationHint: "12"}, host: "mboxedge12.tt.omtrdc.net", hintCk: "12"},
		{name: "option over config", cfg: func(c *target.Config) { c.LocationHint = "28" }, opts: target.GetOffersOptions{TargetLocationHint: "12"}, host: "mboxedge12.tt.omtrdc.net", hintCk: "12"},
		{name: "cookie tntId", opts: target.GetOffersOptions{TargetCookie: mboxCookie("s", "abc.17_0", 3600)}, host: "mboxedge17.tt.omtrdc.net", hintCk: "17"},
		{name: "tntId over hint", opts: target.GetOffersOptions{TargetCookie: mboxCookie("s", "abc.17_0", 3600), TargetLocationHint: "12"}, host: "mboxedge17.tt.omtrdc.net", hintCk: "17"},
		{name: "request tntId", tntID: "abc.9_3", host: "mboxedge9.tt.omtrdc.net", hintCk: "9"},
		{name: "tntId without hint", tntID: "abc", host: ""},
		{name: "tntId hint without node", tntID: "abc.35", host: ""},
		{name: "expired cookie", opts: target.GetOffersOptions{TargetCookie: mboxCookie("s", "abc.17_0", -100)}, host: ""},
		{name: "invalid option hint ignored", opts: target.GetOffersOptions{TargetLocationHint: "evil.com/"}, host: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edits := []func(*target.Config){}
			if tt.cfg != nil {
				edits = append(edits, tt.cfg)
			}
			c, srv := setup(t, targettest.Config{NoCluster: true}, edits...)
			opts := tt.opts
			opts.Request = offersRequest("hero")
			if tt.tntID != "" {
				opts.Request.ID = &target.VisitorID{TntID: tt.tntID}
			}
			res, err := c.GetOffers(t.Context(), opts).Await(t.Context())
			require.NoError(t, err)
			want := tt.host
			if want == "" {
				want = srv.Addr()
			}
			assert.Equal(t, want, srv.Requests()[0].Host)
			if tt.hintCk == "" {
				assert.Nil(t, res.TargetLocationHintCookie)
			} else if assert.NotNil(t, res.TargetLocationHintCookie) {
				assert.Equal(t, tt.hintCk, res.TargetLocationHintCookie.Value)
			}
		})
	}
}

// TestLocationHintLearned: once an answer names a cluster (tntId suffix or
// edgeHost), later calls of the same client go to that cluster's host.
func TestLocationHintLearned(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Cluster: "41"})
	for range 2 {
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
		require.NoError(t, err)
	}
	recs := srv.Requests()
	require.Len(t, recs, 2)
	assert.Equal(t, srv.Addr(), recs[0].Host)
	assert.Equal(t, "mboxedge41.tt.omtrdc.net", recs[1].Host)
}

func TestSessionID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 129)
	tests := []struct {
		name   string
		cookie string
		option string
		want   string // "uuid" = a fresh UUID v4
	}{
		{"cookie wins", mboxCookie("from-cookie", "", 3600), "from-option", "from-cookie"},
		{"cookie only", mboxCookie("from-cookie", "t", 3600), "", "from-cookie"},
		{"expired cookie", mboxCookie("old", "", -1), "from-option", "from-option"},
		{"invalid cookie session", mboxCookie("a%20b", "", 3600), "from-option", "from-option"},
		{"too long cookie session", mboxCookie(long, "", 3600), "from-option", "from-option"},
		{"malformed cookie", "garbage|session#x", "from-option", "from-option"},
		{"option", "", "from-option", "from-option"},
		{"neither", "", "", "uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, targettest.Config{})
			res, err := c.GetOffers(t.Context(), target.GetOffersOptions{
				Request: offersRequest("hero"), TargetCookie: tt.cookie, SessionID: tt.option,
			}).Await(t.Context())
			require.NoError(t, err)
			got := srv.Requests()[0].Query.Get("sessionId")
			if tt.want == "uuid" {
				assert.Regexp(t, uuidV4, got)
			} else {
				assert.Equal(t, tt.want, got)
			}
			entries, err := target.ParseTargetCookie(res.TargetCookie.Value, time.Now())
			require.NoError(t, err)
			_, sid, _ := entries["session"].Fields()
			assert.Equal(t, got, sid, "the new cookie keeps the session")
		})
	}
}

func TestTntIDFromCookie(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{NoCluster: true})
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:      offersRequest("hero"),
		TargetCookie: mboxCookie("s", "visitor-1", 3600),
		CustomerIDs:  []target.VisitorCustomerID{{ID: "c1", IntegrationCode: "crm"}},
	}).Await(t.Context())
	require.NoError(t, err)
	id := srv.Requests()[0].Delivery.ID
	require.NotNil(t, id)
	assert.Equal(t, "visitor-1", id.TntID)
	assert.Equal(t, []target.CustomerID{{ID: "c1", IntegrationCode: "crm", AuthenticatedState: target.AuthenticatedStateUnknown}}, id.CustomerIDs)

	// A tntId in the request wins over the cookie's.
	srv.Reset()
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:      target.DeliveryRequest{ID: &target.VisitorID{TntID: "explicit"}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "a"}}}},
		TargetCookie: mboxCookie("s", "visitor-1", 3600),
	}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "explicit", srv.Requests()[0].Delivery.ID.TntID)

	// An empty id object is dropped rather than sent for the edge to reject.
	srv.Reset()
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{
		Request: target.DeliveryRequest{ID: &target.VisitorID{}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "a"}}}},
	}).Await(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, string(srv.Requests()[0].Body), `"id":{`)
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{})
	mb := func(ms ...target.MboxRequest) *target.ExecuteRequest { return &target.ExecuteRequest{Mboxes: ms} }
	tests := []struct {
		name  string
		opts  target.GetOffersOptions
		field string
	}{
		{"no execute or prefetch", target.GetOffersOptions{}, "Request"},
		{"empty execute", target.GetOffersOptions{Request: target.DeliveryRequest{Execute: &target.ExecuteRequest{}}}, "Request"},
		{"bad channel", target.GetOffersOptions{Request: target.DeliveryRequest{Context: &target.Context{Channel: "tv"}, Execute: mb(target.MboxRequest{Name: "a"})}}, "Request.Context.Channel"},
		{"mbox without name", target.GetOffersOptions{Request: target.DeliveryRequest{Execute: mb(target.MboxRequest{Name: "a"}, target.MboxRequest{Index: 1})}}, "Request.Execute.Mboxes[1].Name"},
		{"duplicate index", target.GetOffersOptions{Request: target.DeliveryRequest{Execute: mb(target.MboxRequest{Name: "a", Index: 1}, target.MboxRequest{Name: "b", Index: 1})}}, "Request.Execute.Mboxes[1].Index"},
		{"bad session id", target.GetOffersOptions{Request: offersRequest("a"), SessionID: "a b"}, "SessionID"},
		{"bad method", target.GetOffersOptions{Request: offersRequest("a"), DecisioningMethod: "magic"}, "DecisioningMethod"},
		{"customer id without id", target.GetOffersOptions{Request: offersRequest("a"), CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "x"}}}, "CustomerIDs[0].ID"},
		{"customer id without code", target.GetOffersOptions{Request: offersRequest("a"), CustomerIDs: []target.VisitorCustomerID{{ID: "x"}}}, "CustomerIDs[0].IntegrationCode"},
		{"customer id bad state", target.GetOffersOptions{Request: offersRequest("a"), CustomerIDs: []target.VisitorCustomerID{{ID: "x", IntegrationCode: "y", AuthState: 3}}}, "CustomerIDs[0].AuthState"},
		{"customer id twice", target.GetOffersOptions{Request: offersRequest("a"), CustomerIDs: []target.VisitorCustomerID{{ID: "x", IntegrationCode: "y"}, {ID: "z", IntegrationCode: "y"}}}, "CustomerIDs[1].IntegrationCode"},
		{"not encodable", target.GetOffersOptions{Request: target.DeliveryRequest{Context: &target.Context{Channel: target.ChannelWeb, Screen: &target.Screen{Width: math.NaN()}}, Execute: mb(target.MboxRequest{Name: "a"})}}, "Request"},
		{"bad notification", target.GetOffersOptions{Request: target.DeliveryRequest{Execute: mb(target.MboxRequest{Name: "a"}), Notifications: []target.Notification{{ID: "n", Type: "view"}}}}, "Request.Notifications[0].Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs atomic.Int32
			opts := tt.opts
			opts.Callback = func(*target.Response) { t.Error("Callback ran for invalid options") }
			opts.ErrCallback = func(error) { errs.Add(1) }
			f := c.GetOffers(t.Context(), opts)
			select {
			case <-f.Done():
			default:
				t.Fatal("the future of invalid options must be settled on return")
			}
			assert.EqualValues(t, 1, errs.Load(), "ErrCallback runs once, before GetOffers returns")
			_, err := f.Peek()
			var oe *target.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.field, oe.Field)
			assert.ErrorIs(t, err, target.ErrInvalidOption)
		})
	}
	assert.Empty(t, srv.Requests(), "nothing invalid reaches the wire")
}

func TestOnDeviceUnavailable(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{})
	for _, m := range []target.DecisioningMethod{target.OnDevice, target.Hybrid} {
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a"), DecisioningMethod: m}).Peek()
		require.ErrorIs(t, err, target.ErrOnDeviceUnavailable, "a client without Config.OnDevice has no artifact to decide from")
	}
	assert.Empty(t, srv.Requests())
}

func TestCallbacksExactlyOnce(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			var ok, bad atomic.Int32
			var got *target.Response
			var gotErr error
			called := make(chan struct{})
			if fail {
				srv.ForceFault(targettest.FaultServerError, 1)
			}
			f := c.GetOffers(t.Context(), target.GetOffersOptions{
				Request:     offersRequest("hero"),
				Callback:    func(r *target.Response) { ok.Add(1); got = r; close(called) },
				ErrCallback: func(err error) { bad.Add(1); gotErr = err; close(called) },
			})
			res, err := f.Await(t.Context())
			<-called // a second call would have panicked on the closed channel
			if fail {
				require.Error(t, err)
				assert.EqualValues(t, 0, ok.Load())
				assert.EqualValues(t, 1, bad.Load())
				assert.Equal(t, err, gotErr)
			} else {
				require.NoError(t, err)
				assert.EqualValues(t, 1, ok.Load())
				assert.EqualValues(t, 0, bad.Load())
				assert.Same(t, res, got)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	t.Run("400 names the problem", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{OrganizationID: "OTHER@AdobeOrg"}, func(cfg *target.Config) {
			cfg.OrganizationID = "MINE@AdobeOrg"
			cfg.Retry = target.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond}
		})
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		var api *target.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, http.StatusBadRequest, api.Status)
		assert.NotEmpty(t, api.Message)
		assert.Len(t, srv.Requests(), 1, "4xx is never retried")
	})
	t.Run("5xx without retries", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{})
		srv.ForceFault(targettest.FaultServerError, 1)
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		var api *target.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, http.StatusServiceUnavailable, api.Status)
		assert.Contains(t, api.Message, "fault injected")
		assert.Len(t, srv.Requests(), 1, "the zero policy makes one attempt")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{}, func(cfg *target.Config) {
			cfg.Retry = target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond}
		})
		srv.ForceFault(targettest.FaultMalformedJSON, 1)
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decoding response")
		assert.Len(t, srv.Requests(), 1, "a 200 that does not decode is not retried")
	})
	t.Run("connection reset", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, targettest.Config{})
		srv.ForceFault(targettest.FaultReset, 1)
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		require.Error(t, err)
		var api *target.APIError
		assert.False(t, errors.As(err, &api))
		assert.NotNil(t, errors.Unwrap(err), "transport errors wrap their cause")
		assert.NotContains(t, err.Error(), "sessionId", "the URL with the session id is not in the error")
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	policy := func(cfg *target.Config) {
		cfg.Retry = target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	}
	tests := []struct {
		name     string
		faults   []targettest.Fault
		attempts int
		ok       bool
	}{
		{"5xx then ok", []targettest.Fault{targettest.FaultServerError, targettest.FaultServerError}, 3, true},
		{"reset then ok", []targettest.Fault{targettest.FaultReset}, 2, true},
		{"5xx exhausts the policy", []targettest.Fault{targettest.FaultServerError, targettest.FaultServerError, targettest.FaultServerError, targettest.FaultServerError}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, targettest.Config{}, policy)
			for _, f := range tt.faults {
				srv.ForceFault(f, 1)
			}
			res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
			assert.Len(t, srv.Requests(), tt.attempts)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.attempts, res.Timings.Attempts)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// TestRetryAfterPastDeadline: a Retry-After longer than the time left ends
// the call at once with the 429 instead of sleeping into the deadline.
func TestRetryAfterPastDeadline(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Faults: targettest.Faults{RetryAfter: 30 * time.Second}}, func(cfg *target.Config) {
		cfg.Timeout = 2 * time.Second
		cfg.Retry = target.RetryPolicy{MaxAttempts: 5}
	})
	srv.ForceFault(targettest.FaultTooManyRequests, 1)
	start := time.Now()
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusTooManyRequests, api.Status)
	assert.Equal(t, 30*time.Second, api.RetryAfter)
	assert.Less(t, time.Since(start), time.Second)
	assert.Len(t, srv.Requests(), 1)
}

func TestDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	slow := targettest.Config{Latency: targettest.Latency{Fixed: 5 * time.Second}}
	t.Run("timeout aborts the request", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, slow, func(cfg *target.Config) { cfg.Timeout = 50 * time.Millisecond })
		start := time.Now()
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("caller's context", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, slow)
		ctx, cancel := context.WithCancel(t.Context())
		f := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("a")})
		cancel()
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("future cancel", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, slow)
		called := make(chan error, 2)
		f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a"), ErrCallback: func(err error) { called <- err }})
		assert.True(t, f.Cancel())
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, <-called, context.Canceled)
		assert.Empty(t, called, "ErrCallback runs once")
	})
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte(" "), target.MaxResponseSize+10)
	copy(big, `{"status":200}`)
	srv := newRawServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) })
	// Reading 8 MB under the race detector on a busy machine can take
	// longer than the default 3 s: the test is about the size, not the time.
	c, err := target.NewClient(target.Config{Client: "raw", OrganizationID: "org", ServerDomain: srv, Insecure: true, Timeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrResponseTooLarge)
}

func TestBeacon(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{})
	res, err := c.SendNotifications(t.Context(), target.SendNotificationsOptions{Request: target.DeliveryRequest{
		Context:       &target.Context{Channel: target.ChannelWeb, Beacon: true},
		Notifications: []target.Notification{{ID: "n1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t"}}},
	}}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, res.Status)
	require.NotNil(t, res.Response)
	assert.Empty(t, res.Response.Notifications)
}

func TestSendNotifications(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{})
	before := time.Now().UnixMilli()
	res, err := c.SendNotifications(t.Context(), target.SendNotificationsOptions{Request: target.DeliveryRequest{
		Notifications: []target.Notification{
			{ID: "n1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t1"}},
			{ID: "n2", Type: target.MetricTypeClick, Timestamp: 42, Tokens: []string{"t2"}},
		},
	}}).Await(t.Context())
	require.NoError(t, err)
	require.Len(t, res.Response.Notifications, 2)
	assert.Equal(t, "n1", res.Response.Notifications[0].ID)
	sent := srv.Requests()[0].Delivery
	assert.GreaterOrEqual(t, sent.Notifications[0].Timestamp, before, "a zero timestamp becomes now")
	assert.EqualValues(t, 42, sent.Notifications[1].Timestamp)

	_, err = c.SendNotifications(t.Context(), target.SendNotificationsOptions{}).Await(t.Context())
	var oe *target.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Request.Notifications", oe.Field)
	for i, n := range []target.Notification{{Type: target.MetricTypeClick}, {ID: "x", Type: target.MetricTypeClick, Mbox: &target.NotificationMbox{}, View: &target.NotificationView{}}, {ID: "x", Type: target.MetricTypeClick, Timestamp: -1}} {
		_, err = c.SendNotifications(t.Context(), target.SendNotificationsOptions{Request: target.DeliveryRequest{Notifications: []target.Notification{n}}}).Await(t.Context())
		require.ErrorAs(t, err, &oe, "case %d", i)
		assert.True(t, strings.HasPrefix(oe.Field, "Request.Notifications[0]"), oe.Field)
	}
}

func TestTelemetry(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{true, false} {
		t.Run(fmt.Sprint("enabled=", enabled), func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.TelemetryEnabled = &enabled })
			first, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero", "flags")}).Await(t.Context())
			require.NoError(t, err)
			_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
			require.NoError(t, err)
			recs := srv.Requests()
			require.Len(t, recs, 2)
			assert.Nil(t, recs[0].Delivery.Telemetry, "nothing to report on the first call")
			if !enabled {
				assert.Nil(t, recs[1].Delivery.Telemetry)
				return
			}
			require.NotNil(t, recs[1].Delivery.Telemetry)
			require.Len(t, recs[1].Delivery.Telemetry.Entries, 1)
			e := recs[1].Delivery.Telemetry.Entries[0]
			assert.Equal(t, first.Request.RequestID, e.RequestID)
			assert.Equal(t, target.ExecutionModeEdge, e.Mode)
			assert.Positive(t, e.Execution)
			assert.Positive(t, e.Timestamp)
			require.NotNil(t, e.Features)
			assert.Equal(t, 2, e.Features.ExecuteMboxCount)
			assert.Equal(t, target.ServerSide, e.Features.DecisioningMethod)
			require.NotNil(t, e.Request)
			assert.Positive(t, e.Request.ResponseSize)
		})
	}
}

func TestLogsRedacted(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, srv := setup(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.Logger = logger
		cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}
	})
	srv.ForceFault(targettest.FaultReset, 2)
	const secretSession, secretTnt = "secret-session-77", "secret-tnt-88"
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:      offersRequest("a"),
		TargetCookie: mboxCookie(secretSession, secretTnt, 3600) + "|bad#entry-with-" + secretTnt,
	}).Await(t.Context())
	require.Error(t, err)
	out := buf.String()
	assert.Contains(t, out, "target: request")
	assert.Contains(t, out, "retrying")
	for _, secret := range []string{secretSession, secretTnt} {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, err.Error(), secret)
	}
}

func TestAPIErrorRedacted(t *testing.T) {
	t.Parallel()
	const secret = "visitor-secret-1.35"
	c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":400,"message":"bad tntId %s for session %s"}`, secret, r.URL.Query().Get("sessionId"))
	})
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:   target.DeliveryRequest{ID: &target.VisitorID{TntID: secret}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "a"}}}},
		SessionID: "session-secret-2",
	}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "bad tntId [redacted] for session [redacted]", api.Message)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGetAttributes(t *testing.T) {
	t.Parallel()
	edge := targettest.Config{Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
		"flags": {Options: []target.Option{jsonOption(`{"color":"red","size":2,"beta":true,"big":12345678901234567890}`), jsonOption(`{"size":3,"ratio":1.5}`), htmlOption("<p>not an attribute</p>")}},
		"other": {Options: []target.Option{jsonOption(`{"on":false,"name":"x","n":10.0}`)}},
	}}}
	c, srv := setup(t, edge)
	called := make(chan *target.Attributes, 2)
	attrs, err := c.GetAttributes(t.Context(), []string{"flags", "other"}, target.GetAttributesOptions{
		Callback: func(a *target.Attributes) { called <- a },
	}).Await(t.Context())
	require.NoError(t, err)
	assert.Same(t, attrs, <-called, "the Callback gets the Attributes")
	assert.Empty(t, called)

	sent := srv.Requests()[0].Delivery
	require.Len(t, sent.Execute.Mboxes, 2)
	assert.Equal(t, []string{"flags", "other"}, []string{sent.Execute.Mboxes[0].Name, sent.Execute.Mboxes[1].Name})
	assert.Equal(t, []int{1, 2}, []int{sent.Execute.Mboxes[0].Index, sent.Execute.Mboxes[1].Index},
		"added mboxes are numbered from 1, as Adobe's Node and Python SDKs number them")

	assert.Equal(t, "red", attrs.GetString("flags", "color", "none"))
	assert.EqualValues(t, 3, attrs.GetInt("flags", "size", -1), "later options win")
	assert.Equal(t, 1.5, attrs.GetFloat("flags", "ratio", 0))
	assert.True(t, attrs.GetBool("flags", "beta", false))
	assert.False(t, attrs.GetBool("other", "on", true))
	assert.EqualValues(t, 10, attrs.GetInt("other", "n", -1))
	// Wrong type or absent: the default.
	assert.Equal(t, "none", attrs.GetString("flags", "size", "none"))
	assert.EqualValues(t, -1, attrs.GetInt("flags", "ratio", -1))
	assert.EqualValues(t, -1, attrs.GetInt("flags", "big", -1), "out of int64 range")
	assert.Equal(t, 1.2345678901234567e19, attrs.GetFloat("flags", "big", 0))
	assert.False(t, attrs.GetBool("missing", "x", false))
	v, ok := attrs.GetValue("flags", "color")
	assert.True(t, ok)
	assert.Equal(t, "red", v)
	_, ok = attrs.GetValue("flags", "nope")
	assert.False(t, ok)

	m := attrs.AsMap("flags")
	assert.Len(t, m, 5)
	m["color"] = "changed"
	assert.Equal(t, "red", attrs.GetString("flags", "color", ""), "AsMap returns a copy")
	assert.Len(t, attrs.All(), 2)
	assert.Nil(t, attrs.AsMap("missing"))
}

func TestGetAttributesExecuteOverPrefetch(t *testing.T) {
	t.Parallel()
	edge := targettest.Config{Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
		"f": {Options: []target.Option{jsonOption(`{"a":1,"b":1}`)}},
	}}}
	c, srv := setup(t, edge)
	// The same mbox prefetched and executed: both answers merge, execute
	// last. The edge answers both with the same offer, so check the order
	// through the request: nothing is added when the name is already there.
	req := target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "f"}}}}
	attrs, err := c.GetAttributes(t.Context(), []string{"f"}, target.GetAttributesOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	sent := srv.Requests()[0].Delivery
	assert.Nil(t, sent.Execute, "an mbox already prefetched is not added to execute")
	assert.EqualValues(t, 1, attrs.GetInt("f", "a", 0))

	_, err = c.GetAttributes(t.Context(), []string{""}, target.GetAttributesOptions{}).Await(t.Context())
	var oe *target.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "mboxNames[0]", oe.Field)
}

// TestParallelCallsReuseConnections: bursts of parallel calls through the
// client's own transport open at most as many connections as there are
// calls in flight, not one per call.
func TestParallelCallsReuseConnections(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{NoCluster: true, Latency: targettest.Latency{Fixed: 5 * time.Millisecond}}, func(cfg *target.Config) {
		cfg.HTTPClient = nil      // the client's own transport is under test
		cfg.Timeout = time.Minute // connections are under test, not time: a loaded machine must not fail it
	})
	const parallel, rounds = 100, 3
	for range rounds {
		fs := make([]*future.Future[*target.Response], parallel)
		for i := range fs {
			fs[i] = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")})
		}
		for _, f := range fs {
			_, err := f.Await(t.Context())
			require.NoError(t, err)
		}
	}
	st := srv.Stats()
	assert.EqualValues(t, parallel*rounds, st.Requests)
	// net/http returns a connection to the idle pool on its own goroutine
	// just after the body is read, so a call of the next burst can race it
	// and dial one more; a tenth of slack absorbs that on a loaded machine.
	// Without keep-alive sized for fan-out this would be up to 300.
	assert.LessOrEqual(t, st.Connections, int64(parallel+parallel/10), "connections opened for %d calls", parallel*rounds)
	t.Logf("%d calls in bursts of %d opened %d connections", parallel*rounds, parallel, st.Connections)
}

// rawClient is a client for a bare handler, for answers the local edge
// does not give.
func rawClient(t *testing.T, h http.HandlerFunc) *target.Client {
	t.Helper()
	srv := newRawServer(t, h)
	c, err := target.NewClient(target.Config{Client: "raw", OrganizationID: "org", ServerDomain: srv, Insecure: true})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func newRawServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestAttributesMergeOrder: per mbox, prefetched options first, executed
// ones over them, later options over earlier ones.
func TestAttributesMergeOrder(t *testing.T) {
	t.Parallel()
	c := rawClient(t, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":200,
		  "prefetch":{"mboxes":[{"index":0,"name":"f","options":[
		    {"type":"json","content":{"a":"prefetch","b":"prefetch","c":"prefetch"}}]}]},
		  "execute":{"mboxes":[{"index":0,"name":"f","options":[
		    {"type":"json","content":{"a":"execute-1","b":"execute-1"}},
		    {"type":"json","content":{"a":"execute-2"}},
		    {"type":"json","content":"not an object"},
		    {"type":"html","content":"<p>"}]}]}}`)
	})
	attrs, err := c.GetAttributes(t.Context(), []string{"f"}, target.GetAttributesOptions{}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": "execute-2", "b": "execute-1", "c": "prefetch"}, attrs.AsMap("f"))
}

func TestTLSEdge(t *testing.T) {
	t.Parallel()
	srv := targettest.NewTLSServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	c, err := target.NewClient(srv.ClientConfig())
	require.NoError(t, err)
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	assert.Positive(t, res.Timings.TLS, "a new TLS connection records its handshake")
	assert.Positive(t, res.Timings.Connect)
	assert.False(t, res.Timings.ConnReused)

	// The next call goes to the learned cluster host over the same edge and
	// verifies the edge's *.tt.omtrdc.net certificate.
	res, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "mboxedge35.tt.omtrdc.net", srv.Requests()[1].Host)
	assert.Equal(t, 1, res.Timings.Attempts)
}

// TestErrorPathsOfEveryCall: the edge's failures reach each call's future
// and its ErrCallback, once.
func TestErrorPathsOfEveryCall(t *testing.T) {
	t.Parallel()
	calls := map[string]func(*target.Client, context.Context, func(error)) error{
		"GetOffers": func(c *target.Client, ctx context.Context, onErr func(error)) error {
			_, err := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("a"), ErrCallback: onErr}).Await(ctx)
			return err
		},
		"SendNotifications": func(c *target.Client, ctx context.Context, onErr func(error)) error {
			_, err := c.SendNotifications(ctx, target.SendNotificationsOptions{
				Request:     target.DeliveryRequest{Notifications: []target.Notification{{ID: "n", Type: target.MetricTypeClick}}},
				ErrCallback: onErr,
			}).Await(ctx)
			return err
		},
		"GetAttributes": func(c *target.Client, ctx context.Context, onErr func(error)) error {
			_, err := c.GetAttributes(ctx, []string{"flags"}, target.GetAttributesOptions{ErrCallback: onErr}).Await(ctx)
			return err
		},
	}
	faults := map[string]targettest.Fault{
		"server error": targettest.FaultServerError, "too many requests": targettest.FaultTooManyRequests,
		"reset": targettest.FaultReset, "malformed JSON": targettest.FaultMalformedJSON,
	}
	for name, call := range calls {
		for fname, fault := range faults {
			t.Run(name+"/"+fname, func(t *testing.T) {
				t.Parallel()
				// One attempt for notifications too, which retry by default.
				c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Notifications.MaxAttempts = 1 })
				srv.ForceFault(fault, 1)
				got := make(chan error, 2)
				err := call(c, t.Context(), func(err error) { got <- err })
				require.Error(t, err)
				assert.Equal(t, err, <-got)
				assert.Empty(t, got)
				var api *target.APIError
				switch fault {
				case targettest.FaultServerError, targettest.FaultTooManyRequests:
					require.ErrorAs(t, err, &api)
				default:
					assert.False(t, errors.As(err, &api))
				}
			})
		}
	}
}
