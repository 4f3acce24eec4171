package target_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// amcv builds an AMCV cookie value as the browser's Visitor API writes it:
// settings digest, KEY[-EXPIRY]|VALUE pairs, version marker, URI-encoded.
func amcv(pairs ...string) string {
	return strings.ReplaceAll("-1303530583|"+strings.Join(pairs, "|")+"|vVersion|5.5.0", "|", "%7C")
}

const secretMCMID = "83739498263548163127378920036185725467"

func TestParseVisitorCookie(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	later := strconv.FormatInt(now.Unix()+3600, 10)
	past := strconv.FormatInt(now.Unix()-1, 10)
	tests := []struct {
		name    string
		value   string
		want    target.VisitorIDs
		expired []string
		errs    []string // fields the error names; none means no error
	}{
		{"empty", "", target.VisitorIDs{}, nil, nil},
		{"cookie-support probe", "T", target.VisitorIDs{}, nil, nil},
		{
			"as the browser writes it",
			amcv("MCIDTS|19700", "MCMID|"+secretMCMID, "MCAAMLH-"+later+"|9", "MCAAMB-"+later+"|RKhpRz8krg2tLO6pguXWp5ol", "MCOPTOUT-"+later+"s|NONE"),
			target.VisitorIDs{MCMID: secretMCMID, LocationHint: 9, Blob: "RKhpRz8krg2tLO6pguXWp5ol"}, nil, nil,
		},
		{"decoded, without digest", "MCMID|" + secretMCMID + "|MCAAMB|b", target.VisitorIDs{MCMID: secretMCMID, Blob: "b"}, nil, nil},
		{"digest and an unpaired last part", "123|MCMID|m|MCAAMB", target.VisitorIDs{MCMID: "m"}, nil, nil},
		{"session flag on the expiry", "MCAAMLH-" + later + "s|3", target.VisitorIDs{LocationHint: 3}, nil, nil},
		{"later pair wins", "MCMID|first|MCMID|second", target.VisitorIDs{MCMID: "second"}, nil, nil},
		{"expiry dashes beyond the first", "MCAAMLH-" + later + "-7|4", target.VisitorIDs{LocationHint: 4}, nil, nil},
		{
			"expired fields", amcv("MCMID|"+secretMCMID, "MCAAMLH-"+past+"|9", "MCAAMB-"+strconv.FormatInt(now.Unix(), 10)+"|blob"),
			target.VisitorIDs{MCMID: secretMCMID}, []string{"MCAAMLH", "MCAAMB"}, nil,
		},
		{"bad escape", "MCMID%7C" + secretMCMID + "%ZZ", target.VisitorIDs{}, nil, []string{"URI-encoded"}},
		{"not UTF-8", "MCMID%7C" + secretMCMID + "%FF", target.VisitorIDs{}, nil, []string{"UTF-8"}},
		{"too long", "MCMID|" + strings.Repeat("1", 5000), target.VisitorIDs{}, nil, []string{"limit"}},
		{"field without value", "MCAAMB|b|MCMID", target.VisitorIDs{Blob: "b"}, nil, []string{"MCMID"}},
		{"expiry without digits means none", "MCMID-soon|" + secretMCMID + "|MCAAMB|b", target.VisitorIDs{MCMID: secretMCMID, Blob: "b"}, nil, nil},
		{"expiry read with parseInt", "MCMID-1e3|m|MCAAMB-" + later + "S|b|MCAAMLH- " + later + "x|5", target.VisitorIDs{Blob: "b", LocationHint: 5}, []string{"MCMID"}, nil},
		{"expiry past int64", "MCMID-99999999999999999999999|m", target.VisitorIDs{MCMID: "m"}, nil, nil},
		{"location hint read with parseInt", "MCAAMLH|%209abc", target.VisitorIDs{LocationHint: 9}, nil, nil},
		{"location hint 9.5", "MCAAMLH|9.5", target.VisitorIDs{LocationHint: 9}, nil, nil},
		{"location hint past int32", "MCAAMLH|2147483648", target.VisitorIDs{}, nil, []string{"MCAAMLH"}},
		{"location hint negative", "MCAAMLH|-3", target.VisitorIDs{}, nil, []string{"MCAAMLH"}},
		{"location hint not a number", "MCAAMLH|north|MCMID|" + secretMCMID, target.VisitorIDs{MCMID: secretMCMID}, nil, []string{"MCAAMLH"}},
		{"location hint zero", "MCAAMLH|0", target.VisitorIDs{}, nil, []string{"MCAAMLH"}},
		{"blob over 1024 characters", "MCAAMB|" + strings.Repeat("b", 1025), target.VisitorIDs{}, nil, []string{"MCAAMB"}},
		{"empty values", "MCMID||MCAAMB|", target.VisitorIDs{}, nil, nil},
		{"MCMID of 128 characters", "MCMID|" + strings.Repeat("7", 128), target.VisitorIDs{MCMID: strings.Repeat("7", 128)}, nil, nil},
		{"MCMID over 128 characters", "MCMID|" + strings.Repeat("7", 129) + "|MCAAMB|b", target.VisitorIDs{Blob: "b"}, nil, []string{"MCMID"}},
		{"blank blob", "MCMID|m|MCAAMB|%20%09", target.VisitorIDs{MCMID: "m"}, nil, []string{"MCAAMB is blank"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, expired, err := target.ParseVisitorCookie(tt.value, now)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.expired, expired)
			if len(tt.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tt.errs {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), secretMCMID, "errors never quote a value")
		})
	}
}

func TestVisitorCookieName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "AMCV_0123ABC%40AdobeOrg", target.VisitorCookieName("0123ABC@AdobeOrg"))
	assert.Equal(t, "AMCV_0123ABC%40AdobeOrg", target.VisitorCookieName("0123ABC"), "the Visitor API adds @AdobeOrg")
}

func TestClientVisitorCookie(t *testing.T) {
	t.Parallel()
	client := func(org string) *target.Client {
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: org})
		require.NoError(t, err)
		return c
	}
	withCookies := func(lines ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, l := range lines {
			r.Header.Add("Cookie", l)
		}
		return r
	}
	c := client("ABC@AdobeOrg")
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"encoded name, as browsers send it", withCookies("a=1; AMCV_ABC%40AdobeOrg=v1; b=2"), "v1"},
		{"raw @ in the name", withCookies("AMCV_ABC@AdobeOrg=v2"), "v2"},
		{"quoted value", withCookies(`AMCV_ABC%40AdobeOrg="v3"`), "v3"},
		{"first of two", withCookies("AMCV_ABC%40AdobeOrg=path; AMCV_ABC@AdobeOrg=root"), "path"},
		{"in a second Cookie header", withCookies("a=1", "AMCV_ABC%40AdobeOrg=v4"), "v4"},
		{"another organization's", withCookies("AMCV_XYZ%40AdobeOrg=v5"), ""},
		{"prefix of the name only", withCookies("AMCV_ABC=v6"), ""},
		{"no cookies", withCookies(), ""},
		{"nil request", nil, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, c.VisitorCookie(tt.r), tt.name)
	}
	// An org id configured without its suffix finds the browser's cookie.
	assert.Equal(t, "v7", client("ABC").VisitorCookie(withCookies("AMCV_ABC%40AdobeOrg=v7")))

	// Through a real server: a Go client's cookie jar, keyed by the name
	// VisitorCookieName gives.
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = c.VisitorCookie(r) }))
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	value := amcv("MCMID|" + secretMCMID)
	req.AddCookie(&http.Cookie{Name: target.VisitorCookieName("ABC@AdobeOrg"), Value: value})
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, value, got)
}

func TestVisitorCookieOnTheWire(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	c, srv := setup(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	past := strconv.FormatInt(time.Now().Unix()-60, 10)
	call := func(req target.DeliveryRequest, cookie string) target.DeliveryRequest {
		t.Helper()
		srv.Reset()
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, VisitorCookie: cookie}).Await(t.Context())
		require.NoError(t, err, "a visitor cookie never fails a call")
		sent := srv.Requests()[0].Delivery
		assert.Equal(t, *sent, *r.Request, "Response.Request is the request as sent")
		return *sent
	}

	sent := call(offersRequest("hero"), amcv("MCMID|"+secretMCMID, "MCAAMLH-"+later+"|7", "MCAAMB-"+later+"|blob-1"))
	require.NotNil(t, sent.ID)
	assert.Equal(t, secretMCMID, sent.ID.MarketingCloudVisitorID)
	assert.Equal(t, &target.AudienceManager{LocationHint: 7, Blob: "blob-1"}, sent.ExperienceCloud.AudienceManager)

	// What the request sets wins, field by field.
	own := offersRequest("hero")
	own.ID = &target.VisitorID{MarketingCloudVisitorID: "own-mcmid"}
	own.ExperienceCloud = &target.ExperienceCloud{AudienceManager: &target.AudienceManager{LocationHint: 3}}
	sent = call(own, amcv("MCMID|"+secretMCMID, "MCAAMLH-"+later+"|7", "MCAAMB-"+later+"|blob-1"))
	assert.Equal(t, "own-mcmid", sent.ID.MarketingCloudVisitorID)
	assert.Equal(t, &target.AudienceManager{LocationHint: 3, Blob: "blob-1"}, sent.ExperienceCloud.AudienceManager)
	assert.Empty(t, own.ExperienceCloud.AudienceManager.Blob, "the caller's request is not changed")

	// Expired fields and a malformed cookie are left out and logged by
	// name, never with their values.
	sent = call(offersRequest("hero"), amcv("MCMID|"+secretMCMID, "MCAAMLH-"+past+"|7", "MCAAMB-"+past+"|blob-secret-1"))
	assert.Equal(t, secretMCMID, sent.ID.MarketingCloudVisitorID)
	assert.Nil(t, sent.ExperienceCloud.AudienceManager)
	sent = call(offersRequest("hero"), "MCMID%7C"+secretMCMID+"%ZZ")
	assert.Nil(t, sent.ID)
	assert.Nil(t, sent.ExperienceCloud.AudienceManager)
	out := logs.String()
	assert.Contains(t, out, "ignoring expired fields of the visitor cookie")
	assert.Contains(t, out, "MCAAMLH")
	assert.Contains(t, out, "ignoring malformed parts of the visitor cookie")
	assert.NotContains(t, out, secretMCMID)
	assert.NotContains(t, out, "blob-secret-1")
}

func TestCustomerIDsOnTheWire(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{})
	req := offersRequest("hero")
	req.ID = &target.VisitorID{CustomerIDs: []target.CustomerID{{ID: "r-1", IntegrationCode: "request", AuthenticatedState: target.AuthenticatedStateLoggedOut}}}
	ids := []target.VisitorCustomerID{
		{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated},
		{IntegrationCode: "email", ID: "e-1", AuthState: target.AuthStateLoggedOut},
		{IntegrationCode: "phone", ID: "p-1"},
	}
	r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, CustomerIDs: ids}).Await(t.Context())
	require.NoError(t, err)
	// The call's ids first, then the request's, as Adobe's SDKs send them.
	assert.Equal(t, []target.CustomerID{
		{ID: "c-1", IntegrationCode: "crm", AuthenticatedState: target.AuthenticatedStateAuthenticated},
		{ID: "e-1", IntegrationCode: "email", AuthenticatedState: target.AuthenticatedStateLoggedOut},
		{ID: "p-1", IntegrationCode: "phone", AuthenticatedState: target.AuthenticatedStateUnknown},
		{ID: "r-1", IntegrationCode: "request", AuthenticatedState: target.AuthenticatedStateLoggedOut},
	}, srv.Requests()[0].Delivery.ID.CustomerIDs)
	assert.Len(t, req.ID.CustomerIDs, 1, "the caller's request is not changed")

	st := r.VisitorState()[targettest.DefaultOrganizationID]
	require.NotNil(t, st.CustomerIDs, "%v", r.VisitorState())
	assert.JSONEq(t, `{"crm":{"id":"c-1","authState":1},"email":{"id":"e-1","authState":2},"phone":{"id":"p-1","authState":0}}`, mustJSON(t, st.CustomerIDs))
}

// sdidOf returns the supplemental data id a request carried, "" for none.
func sdidOf(r target.DeliveryRequest) string {
	if r.ExperienceCloud == nil || r.ExperienceCloud.Analytics == nil {
		return ""
	}
	return r.ExperienceCloud.Analytics.SupplementalDataID
}

func TestSupplementalDataIDs(t *testing.T) {
	t.Parallel()
	var s target.SupplementalDataIDs // the zero value is ready
	assert.Nil(t, s.State())
	a1, a2, b1, b2, c1 := s.ID("a"), s.ID("a"), s.ID("b"), s.ID("b"), s.ID("c")
	// Adobe's Visitor API gives this exact pattern (checked against it in
	// TestInteropIdentityMatchesNodeSDK): a consumer asking again starts
	// the next id, another consumer gets the ids in turn.
	assert.Regexp(t, sdid, a1)
	assert.Regexp(t, sdid, a2)
	assert.NotEqual(t, a1, a2)
	assert.Equal(t, a1, b1)
	assert.Equal(t, a2, b2)
	assert.Equal(t, a1, c1)
	assert.JSONEq(t, fmt.Sprintf(`{
		"supplementalDataIDCurrent": %q,
		"supplementalDataIDCurrentConsumed": {"payload:a": true, "payload:b": true},
		"supplementalDataIDLast": %q,
		"supplementalDataIDLastConsumed": {"payload:a": true, "payload:b": true, "payload:c": true}
	}`, a2, a1), mustJSON(t, s.State()))

	d := target.NewSupplementalDataIDs()
	first := d.ID("")
	assert.JSONEq(t, fmt.Sprintf(`{"supplementalDataIDCurrent": %q, "supplementalDataIDCurrentConsumed": {"payload:target-global-mbox": true},
		"supplementalDataIDLastConsumed": {}}`, first), mustJSON(t, d.State()))
	assert.Equal(t, first, d.ID("x"), "another consumer shares the default consumer's id")

	// Concurrent consumers, each asking once, all share one id.
	shared := target.NewSupplementalDataIDs()
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Go(func() { got[i] = shared.ID("consumer-" + strconv.Itoa(i)) })
	}
	wg.Wait()
	for _, id := range got {
		assert.Equal(t, got[0], id)
	}
	st := shared.State()
	assert.Len(t, st.CurrentConsumed, 50)
	st.CurrentConsumed["extra"] = true
	assert.Len(t, shared.State().CurrentConsumed, 50, "State returns a copy")
}

func TestConsumerIDStitching(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	call := func(opts target.GetOffersOptions) (*target.Response, target.DeliveryRequest) {
		t.Helper()
		if opts.Request.Execute == nil {
			opts.Request.Execute = offersRequest("hero").Execute
		}
		r, err := c.GetOffers(t.Context(), opts).Await(t.Context())
		require.NoError(t, err)
		recs := srv.Requests()
		return r, *recs[len(recs)-1].Delivery
	}

	// One page view: calls under different consumer ids share an id, a
	// consumer's second call starts the next one.
	page := target.NewSupplementalDataIDs()
	_, heroA := call(target.GetOffersOptions{SupplementalDataIDs: page, ConsumerID: "hero"})
	_, recsA := call(target.GetOffersOptions{SupplementalDataIDs: page, ConsumerID: "recs"})
	_, heroB := call(target.GetOffersOptions{SupplementalDataIDs: page, ConsumerID: "hero"})
	last, recsB := call(target.GetOffersOptions{SupplementalDataIDs: page, ConsumerID: "recs"})
	assert.Regexp(t, sdid, sdidOf(heroA))
	assert.Equal(t, sdidOf(heroA), sdidOf(recsA), "different consumers, one id")
	assert.NotEqual(t, sdidOf(heroA), sdidOf(heroB), "a consumer's second call, the next id")
	assert.Equal(t, sdidOf(heroB), sdidOf(recsB))
	assert.Equal(t, target.VisitorState{targettest.DefaultOrganizationID: {SDID: page.State()}}, last.VisitorState(), "the state after the last call")

	// A request that carries the current id keeps it and leaves the state
	// as it is; so does one that carries an id of its own.
	before := page.State()
	for _, id := range []string{sdidOf(recsB), "0123456789ABCDEF-0123456789ABCDEF"} {
		req := offersRequest("hero")
		req.ExperienceCloud = &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{SupplementalDataID: id}}
		_, sent := call(target.GetOffersOptions{Request: req, SupplementalDataIDs: page, ConsumerID: "hero"})
		assert.Equal(t, id, sdidOf(sent))
	}
	assert.Equal(t, before, page.State())

	// Without a page view's state every call gets a fresh id, whatever its
	// consumer id, as in Adobe's SDKs.
	r1, s1 := call(target.GetOffersOptions{ConsumerID: "hero"})
	_, s2 := call(target.GetOffersOptions{ConsumerID: "hero"})
	_, s3 := call(target.GetOffersOptions{})
	assert.Regexp(t, sdid, sdidOf(s1))
	assert.NotEqual(t, sdidOf(s1), sdidOf(s2))
	assert.NotEqual(t, sdidOf(s2), sdidOf(s3))
	assert.NotEqual(t, sdidOf(heroA), sdidOf(s1))
	require.NotNil(t, r1.VisitorState()[targettest.DefaultOrganizationID].SDID)
	assert.Equal(t, map[string]bool{"payload:hero": true}, r1.VisitorState()[targettest.DefaultOrganizationID].SDID.CurrentConsumed)
	assert.Equal(t, sdidOf(s1), r1.VisitorState()[targettest.DefaultOrganizationID].SDID.Current)

	// SendNotifications takes its id the same way.
	n, err := c.SendNotifications(t.Context(), target.SendNotificationsOptions{
		Request: target.DeliveryRequest{Notifications: []target.Notification{{
			ID: "n1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t"},
		}}},
		SupplementalDataIDs: page, ConsumerID: "notify",
	}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sdidOf(heroA), sdidOf(*n.Request), "a new consumer gets the previous id first")
}

func TestAnalyticsLogging(t *testing.T) {
	t.Parallel()
	payload := &target.AnalyticsResponse{Payload: &target.AnalyticsPayload{PE: "tnt", TNTA: "1:1:0|2"}}
	c, _ := setup(t, targettest.Config{Offers: targettest.Offers{Mboxes: map[string]targettest.Offer{
		"hero": {Options: []target.Option{htmlOption("<h1>hi</h1>")}, Analytics: payload},
	}}})
	for _, consumer := range []string{"", "hero"} {
		t.Run("consumer "+strconv.Quote(consumer), func(t *testing.T) {
			// Server-side logging, the default: the edge forwards the hit,
			// stitched by the supplemental data id.
			page := target.NewSupplementalDataIDs()
			r, err := c.GetOffers(t.Context(), target.GetOffersOptions{
				Request: offersRequest("hero"), ConsumerID: consumer, SupplementalDataIDs: page,
			}).Await(t.Context())
			require.NoError(t, err)
			assert.Equal(t, target.LoggingServerSide, r.Request.ExperienceCloud.Analytics.Logging)
			assert.Equal(t, page.State().Current, sdidOf(*r.Request))
			assert.Empty(t, r.AnalyticsDetails, "the edge forwards the payload itself")

			// Client-side logging: the payload comes back for the page to
			// forward, and no supplemental data id is taken.
			page = target.NewSupplementalDataIDs()
			req := offersRequest("hero")
			req.ExperienceCloud = &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{Logging: target.LoggingClientSide}}
			r, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, ConsumerID: consumer, SupplementalDataIDs: page}).Await(t.Context())
			require.NoError(t, err)
			assert.Equal(t, target.LoggingClientSide, r.Request.ExperienceCloud.Analytics.Logging)
			assert.Empty(t, sdidOf(*r.Request))
			assert.Nil(t, page.State(), "no id was handed out")
			assert.Equal(t, []target.AnalyticsResponse{*payload}, r.AnalyticsDetails)
			assert.Equal(t, target.VisitorState{targettest.DefaultOrganizationID: {}}, r.VisitorState())
		})
	}
}

func TestVisitorStateForTheBrowser(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{OrganizationID: "0123ABC"})
	page := target.NewSupplementalDataIDs()
	r, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request: offersRequest("hero"), ConsumerID: "hero", SupplementalDataIDs: page,
		CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated}},
	}).Await(t.Context())
	require.NoError(t, err)
	// The shape Visitor.getInstance(orgId, {serverState}) reads, keyed by
	// the org id as the Visitor API spells it.
	assert.JSONEq(t, fmt.Sprintf(`{"0123ABC@AdobeOrg": {
		"customerIDs": {"crm": {"id": "c-1", "authState": 1}},
		"sdid": {"supplementalDataIDCurrent": %q, "supplementalDataIDCurrentConsumed": {"payload:hero": true}, "supplementalDataIDLastConsumed": {}}
	}}`, sdidOf(*r.Request)), mustJSON(t, r.VisitorState()))
}

func TestOnDeviceNotificationsCarryTheIdentity(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	page := target.NewSupplementalDataIDs()
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:       heroRequest("gold"),
		VisitorCookie: amcv("MCMID|"+secretMCMID, "MCAAMLH-"+later+"|7", "MCAAMB-"+later+"|blob-1"),
		CustomerIDs:   []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated}},
		ConsumerID:    "hero", SupplementalDataIDs: page,
	}).Peek()
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	assert.Equal(t, secretMCMID, r.Request.ID.MarketingCloudVisitorID)
	assert.Equal(t, page.State().Current, sdidOf(*r.Request))
	assert.Equal(t, page.State(), r.VisitorState()[targettest.DefaultOrganizationID].SDID)

	n := s.notification(t)
	require.NoError(t, n.err)
	sent := s.edge.Requests()[0].Delivery
	require.NotEmpty(t, sent.Notifications)
	assert.Equal(t, r.Request.ID, sent.ID, "the same visitor ids")
	assert.Equal(t, []target.CustomerID{{ID: "c-1", IntegrationCode: "crm", AuthenticatedState: target.AuthenticatedStateAuthenticated}}, sent.ID.CustomerIDs)
	assert.Equal(t, r.Request.ExperienceCloud, sent.ExperienceCloud, "the same Audience Manager data and supplemental data id")
	assert.Equal(t, &target.AudienceManager{LocationHint: 7, Blob: "blob-1"}, sent.ExperienceCloud.AudienceManager)
	assert.Equal(t, page.State().Current, sdidOf(*sent))
	assert.Len(t, page.State().CurrentConsumed, 1, "the notification takes no id of its own")
}

func TestCoalescerSharesOnePageViewsID(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	page, other := target.NewSupplementalDataIDs(), target.NewSupplementalDataIDs()
	opts := func(name string, ids *target.SupplementalDataIDs) target.GetOffersOptions {
		return target.GetOffersOptions{Request: offersRequest(name), SessionID: "s-1", ConsumerID: "c", SupplementalDataIDs: ids}
	}
	fs := []*future.Future[*target.Response]{
		k.GetOffers(t.Context(), opts("hero", page)),
		k.GetOffers(t.Context(), opts("flags", page)),
		k.GetOffers(t.Context(), opts("hero", other)),
	}
	k.Flush()
	for _, f := range fs {
		_, err := f.Await(t.Context())
		require.NoError(t, err)
	}
	recs := srv.Requests()
	require.Len(t, recs, 2, "one request per page view")
	assert.Len(t, page.State().CurrentConsumed, 1)
	assert.Empty(t, page.State().Last, "the merged request took one id")
	assert.NotEqual(t, page.State().Current, other.State().Current)
}

func FuzzParseVisitorCookie(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	for _, s := range []string{
		"", "T", amcv("MCMID|"+secretMCMID, "MCAAMLH-1800000000|9", "MCAAMB-1800000000s|blob"),
		"123|MCMID|m|MCAAMB", "MCMID-x|1", "MCAAMLH|0", "%7C%7C", "-|-|-", "MCMID%ZZ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		ids, expired, err := target.ParseVisitorCookie(value, now)
		if value == "" {
			assert.Zero(t, ids)
			return
		}
		if ids.LocationHint < 0 {
			t.Fatalf("negative location hint %d", ids.LocationHint)
		}
		for _, v := range []string{ids.MCMID, ids.Blob} {
			decoded, _ := url.PathUnescape(value)
			if v != "" && !strings.Contains(decoded, v) {
				t.Fatalf("value %q is not in the cookie", v)
			}
		}
		for _, name := range expired {
			if name != "MCMID" && name != "MCAAMLH" && name != "MCAAMB" {
				t.Fatalf("expired names %q", name)
			}
		}
		if err != nil && ids.MCMID != "" && len(ids.MCMID) > 8 && strings.Contains(err.Error(), ids.MCMID) {
			t.Fatalf("error %q quotes the MCMID", err)
		}
		// Deterministic: a second parse gives the same.
		ids2, expired2, err2 := target.ParseVisitorCookie(value, now)
		if ids2 != ids || len(expired2) != len(expired) || (err2 == nil) != (err == nil) {
			t.Fatal("parse is not deterministic")
		}
	})
}

func TestIdentityRedactedInErrors(t *testing.T) {
	t.Parallel()
	const customerID, blob = "customer-secret-3", "blob-secret-4"
	c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":400,"message":"bad ids %s %s %s"}`, secretMCMID, customerID, blob)
	})
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:       offersRequest("a"),
		VisitorCookie: amcv("MCMID|"+secretMCMID, "MCAAMB-"+later+"|"+blob),
		CustomerIDs:   []target.VisitorCustomerID{{IntegrationCode: "crm", ID: customerID}},
	}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "bad ids [redacted] [redacted] [redacted]", api.Message)
	for _, s := range []string{secretMCMID, customerID, blob} {
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), s)
	}
}

// A browser's cookie whose fields break the API's limits (a blank blob, an
// MCMID over 128 characters) must not fail the call: they are left out and
// logged by name.
func TestVisitorCookieOverSpecLimits(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	long := strings.Repeat("7", 129)
	for _, cookie := range []string{
		amcv("MCMID|"+secretMCMID, "MCAAMB-"+later+"|%20"),
		amcv("MCMID|"+long, "MCAAMLH-"+later+"|9"),
	} {
		srv.Reset()
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), VisitorCookie: cookie}).Await(t.Context())
		require.NoError(t, err, "a browser's cookie never fails the call")
		sent := srv.Requests()[0].Delivery
		if sent.ID != nil {
			assert.LessOrEqual(t, len(sent.ID.MarketingCloudVisitorID), 128)
		}
		if am := sent.ExperienceCloud.AudienceManager; am != nil {
			assert.NotEqual(t, " ", am.Blob)
		}
	}
	out := logs.String()
	assert.Contains(t, out, "MCAAMB is blank")
	assert.Contains(t, out, "MCMID is over 128 characters")
	assert.NotContains(t, out, long)
}

// Values too short to identify anyone are not redacted: a one-character
// customer id would otherwise turn every such character of the edge's
// message into "[redacted]".
func TestShortSecretsDoNotGarbleErrors(t *testing.T) {
	t.Parallel()
	const message = "the customer id is not valid for this activity"
	c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":400,"message":%q}`, message+" "+secretMCMID)
	})
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:       offersRequest("a"),
		VisitorCookie: amcv("MCMID|" + secretMCMID),
		CustomerIDs: []target.VisitorCustomerID{
			{IntegrationCode: "one", ID: "i"}, {IntegrationCode: "two", ID: "is"},
			{IntegrationCode: "blank", ID: "     "},
		},
	}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, message+" [redacted]", api.Message, "the MCMID is redacted, the message is not garbled")
}

// A call that fails before it is sent or decided leaves the page view's
// supplemental data ids as they were, whatever the state it meets.
func TestFailedCallTakesNoSupplementalDataID(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	nan := offersRequest("hero")
	nan.Context = &target.Context{Channel: target.ChannelWeb, Screen: &target.Screen{Width: math.NaN()}}
	failing := map[string]target.DeliveryRequest{
		"checked when prepared": {Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: ""}}}},
		"not encodable":         nan,
	}
	for name, req := range failing {
		t.Run(name, func(t *testing.T) {
			page := target.NewSupplementalDataIDs()
			try := func(consumer string) {
				t.Helper()
				before := page.State()
				_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SupplementalDataIDs: page, ConsumerID: consumer}).Await(t.Context())
				var oe *target.OptionError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, before, page.State(), "consumer %q", consumer)
			}
			try("hero") // the first id
			page.ID("hero")
			try("recs") // a consumer joining the current id
			try("hero") // a consumer starting the next id
			page.ID("hero")
			try("recs") // a consumer taking the previous id
			// And the ids a good call then takes are the ones it would have.
			want := target.NewSupplementalDataIDs()
			want.ID("hero")
			want.ID("hero")
			r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), SupplementalDataIDs: page, ConsumerID: "recs"}).Await(t.Context())
			require.NoError(t, err)
			assert.Equal(t, page.State().Last, sdidOf(*r.Request))
		})
	}
	assert.Len(t, srv.Requests(), 2, "only the good calls were sent")
}

func TestClosedClientTakesNoSupplementalDataID(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	s.c.Close(context.Background())
	page := target.NewSupplementalDataIDs()
	_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), SupplementalDataIDs: page, ConsumerID: "hero"}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrClientClosed)
	assert.Nil(t, page.State())
}

// A Coalescer's call takes its id when its merged request is sent, so a
// direct call made after it may take an id first: the responses do not say
// which state is final, Client.VisitorState does once all have settled.
func TestPageViewStateWithACoalescer(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	page := target.NewSupplementalDataIDs()
	ids := []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated}}
	opts := func(name string) target.GetOffersOptions {
		return target.GetOffersOptions{Request: offersRequest(name), SessionID: "s-1", ConsumerID: "hero", SupplementalDataIDs: page, CustomerIDs: ids}
	}
	first := k.GetOffers(t.Context(), opts("hero"))
	direct, err := c.GetOffers(t.Context(), opts("flags")).Await(t.Context())
	require.NoError(t, err)
	k.Flush()
	coalesced, err := first.Await(t.Context())
	require.NoError(t, err)

	org := targettest.DefaultOrganizationID
	final := c.VisitorState(ids, page)
	st := final[org]
	require.NotNil(t, st.SDID)
	assert.Equal(t, sdidOf(*direct.Request), st.SDID.Last, "the direct call, made second, took its id first")
	assert.Equal(t, sdidOf(*coalesced.Request), st.SDID.Current, "the coalesced call took its id when sent")
	assert.Equal(t, ids[0], st.CustomerIDs["crm"])
	assert.Equal(t, target.VisitorState{org: {CustomerIDs: st.CustomerIDs, SDID: page.State()}}, final)
	assert.Equal(t, final, coalesced.VisitorState(), "a coalesced call's response has the state after its id")
	assert.NotEqual(t, final, direct.VisitorState(), "the response of the call made last is not the final state")
}

// The API's limits on customer ids are checked before anything is sent.
func TestCustomerIDLimits(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	many := func(n int, prefix string) []target.VisitorCustomerID {
		out := make([]target.VisitorCustomerID, n)
		for i := range out {
			out[i] = target.VisitorCustomerID{IntegrationCode: fmt.Sprint(prefix, i), ID: "id"}
		}
		return out
	}
	own := offersRequest("hero")
	own.ID = &target.VisitorID{CustomerIDs: []target.CustomerID{{ID: "x", IntegrationCode: "own", AuthenticatedState: target.AuthenticatedStateUnknown}}}
	longOwn := offersRequest("hero")
	longOwn.ID = &target.VisitorID{CustomerIDs: []target.CustomerID{{ID: strings.Repeat("é", 129), IntegrationCode: "own", AuthenticatedState: target.AuthenticatedStateUnknown}}}
	tests := []struct {
		name  string
		req   target.DeliveryRequest
		ids   []target.VisitorCustomerID
		field string
	}{
		{"id over 128 characters", offersRequest("hero"), []target.VisitorCustomerID{{IntegrationCode: "crm", ID: strings.Repeat("é", 129)}}, "CustomerIDs[0].ID"},
		{"code over 50 characters", offersRequest("hero"), []target.VisitorCustomerID{{IntegrationCode: strings.Repeat("c", 51), ID: "x"}}, "CustomerIDs[0].IntegrationCode"},
		{"51 customer ids", offersRequest("hero"), many(51, "c"), "CustomerIDs"},
		{"51 once merged", own, many(50, "c"), "CustomerIDs"},
		{"the request's own, too long", longOwn, nil, "Request.ID.CustomerIDs[0].ID"},
	}
	for _, tt := range tests {
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: tt.req, CustomerIDs: tt.ids}).Await(t.Context())
		var oe *target.OptionError
		require.ErrorAs(t, err, &oe, tt.name)
		assert.Equal(t, tt.field, oe.Field, tt.name)
	}
	assert.Empty(t, srv.Requests())
	// The limits themselves are allowed.
	at := many(48, "c") // with the request's own and the one below, 50
	at = append(at, target.VisitorCustomerID{IntegrationCode: strings.Repeat("c", 50), ID: strings.Repeat("é", 128)})
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: own, CustomerIDs: at}).Await(t.Context())
	require.NoError(t, err)
}

// Customer ids go in the key order of the Visitor API's JavaScript object:
// integration codes that are array indexes first, ascending, then the
// others in the order given.
func TestCustomerIDsInJavaScriptKeyOrder(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, targettest.Config{Offers: offers})
	var ids []target.VisitorCustomerID
	for _, code := range []string{"crm", "20", "007", "3", "4294967295", "0", "email"} {
		ids = append(ids, target.VisitorCustomerID{IntegrationCode: code, ID: "id-" + code})
	}
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), CustomerIDs: ids}).Await(t.Context())
	require.NoError(t, err)
	var got []string
	for _, ci := range srv.Requests()[0].Delivery.ID.CustomerIDs {
		got = append(got, ci.IntegrationCode)
	}
	// "007" is not canonical and 4294967295 is past the largest array index.
	assert.Equal(t, []string{"0", "3", "20", "crm", "007", "4294967295", "email"}, got)
}
