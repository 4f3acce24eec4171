package target_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// identityCall is one call of an identity case, made with the same options
// by the Go client and by Adobe's Node.js SDK.
type identityCall struct {
	call          string // getOffers (the default) or sendNotifications
	request       string
	visitorCookie string
	customerIDs   []target.VisitorCustomerID
	consumerID    string
	// previousSDID makes the request carry the supplemental data id the
	// previous call of the case sent.
	previousSDID bool
	// expiredFields says that the visitor cookie has expired Audience
	// Manager fields, clientSideInPageView that the page view has a
	// client-side logging call up to this one (see identityDifferences).
	expiredFields, clientSideInPageView bool
}

// identityCase is a sequence of calls. In a page view the calls share the
// visitor's supplemental data ids: one SupplementalDataIDs in Go, one
// Visitor instance (the SDK's visitor option) in Node; otherwise each call
// has its own, which is what each SDK does by default.
type identityCase struct {
	name     string
	pageView bool
	calls    []identityCall
}

// identitySides is what the identity comparison looks at for one call on
// each side: the request (normalized), the supplemental data id it carried
// and the visitorState (the organization's part, decoded).
type identitySides struct {
	goReq, nodeReq     *wireRequest
	goSDID, nodeSDID   string
	goState, nodeState map[string]any
}

// identityDifference is a difference between the Go client and the Node
// SDK that the identity comparison tolerates. apply removes it from the
// Node side where it is exactly that difference, and reports whether it was
// there.
type identityDifference struct {
	name   string
	reason string
	apply  func(c identityCall, s *identitySides) bool
}

var identityDifferences = []identityDifference{
	{
		name: "expired visitor cookie fields",
		reason: "the Node SDK sends the MCAAMLH and MCAAMB of the AMCV cookie whatever their expiry (its Visitor " +
			"library's pickValues ignores the hasExpired it computes); the Go client leaves expired fields out, as " +
			"the browser's Visitor API treats them as gone and fetches them again, and logs their names",
		apply: func(c identityCall, s *identitySides) bool {
			if !c.expiredFields {
				return false
			}
			gec, _ := s.goReq.Body["experienceCloud"].(map[string]any)
			nec, _ := s.nodeReq.Body["experienceCloud"].(map[string]any)
			if gec == nil || nec == nil || gec["audienceManager"] != nil || nec["audienceManager"] == nil {
				return false
			}
			delete(nec, "audienceManager")
			return true
		},
	},
	{
		name: "a supplementalDataId of the caller's own",
		reason: "the Node SDK replaces a supplementalDataId the request carries with one of its Visitor's unless it " +
			"is that Visitor's current id; the Go client sends the caller's id, which the caller has presumably " +
			"given to its own Analytics hit as well (replacing it would break the stitch), and takes no id from " +
			"the page view's state for that call",
		apply: func(c identityCall, s *identitySides) bool {
			if c.previousSDID || !strings.Contains(c.request, "supplementalDataId") || s.goSDID == s.nodeSDID ||
				!strings.Contains(c.request, s.goSDID) {
				return false
			}
			s.nodeSDID = s.goSDID // the bodies have both as "<generated>"
			if s.goState["sdid"] == nil {
				delete(s.nodeState, "sdid")
			}
			return true
		},
	},
	{
		name: "visitorState.sdid under client-side logging",
		reason: "the Node SDK takes a supplemental data id from its Visitor whatever the logging, so its visitorState " +
			"has one; the Go client takes none under client-side logging (see the wire test's difference for the " +
			"request: the page forwards the Analytics payload itself, A4T needs no id), so a call without a page " +
			"view's state has none to give",
		apply: func(_ identityCall, s *identitySides) bool {
			if analyticsOf(s.goReq.Body)["logging"] != "client_side" || s.goState["sdid"] != nil || s.nodeState["sdid"] == nil {
				return false
			}
			delete(s.nodeState, "sdid")
			if s.goSDID == "" {
				s.nodeSDID = "" // the request's, dropped by the wire test's difference
			}
			return true
		},
	},
	{
		name: "consumer ids after client-side logging in a page view",
		reason: "the Node SDK takes a supplemental data id for a client-side logging call too, so that call's consumer " +
			"has used the current id and its next server-side call in the page view starts a new one; the Go client " +
			"takes no id under client-side logging (see the difference above), so that consumer's next call still " +
			"shares the page view's current id with the other consumers, which is what the browser's Visitor API " +
			"gives a consumer that has not asked before",
		apply: func(c identityCall, s *identitySides) bool {
			if !c.clientSideInPageView || s.goState["sdid"] == nil || s.nodeState["sdid"] == nil {
				return false
			}
			goSDID, _ := s.goState["sdid"].(map[string]any)
			nodeSDID, _ := s.nodeState["sdid"].(map[string]any)
			goConsumed, _ := goSDID["supplementalDataIDCurrentConsumed"].(map[string]any)
			nodeConsumed, _ := nodeSDID["supplementalDataIDCurrentConsumed"].(map[string]any)
			if len(goConsumed) == len(nodeConsumed) && nodeSDID["supplementalDataIDLast"] == goSDID["supplementalDataIDLast"] {
				return false // no difference in this call
			}
			delete(s.goState, "sdid")
			delete(s.nodeState, "sdid")
			s.goSDID, s.nodeSDID = "", ""
			return true
		},
	},
}

// TestInteropIdentityMatchesNodeSDK makes the calls of each case with the
// Go client and with Adobe's Node.js SDK against one local edge and checks
// that the edge received the same bodies, apart from the kept differences
// of both wire tests, and that the visitorState each gives back is the same.
// The supplemental data ids each side generates are compared by pattern:
// which calls share an id, and which id the visitorState holds.
func TestInteropIdentityMatchesNodeSDK(t *testing.T) {
	t.Parallel()
	node := requireNodeSDK(t)

	const mcmid = "08513307418734539571393740364839292512"
	later := strconv.FormatInt(time.Now().Unix()+3600, 10)
	past := strconv.FormatInt(time.Now().Unix()-60, 10)
	full := amcv("MCIDTS|20000", "MCMID|"+mcmid, "MCAAMLH-"+later+"|9", "MCAAMB-"+later+"|RKhpRz8krg2tLO6pguXWp5ol", "MCOPTOUT-"+later+"s|NONE")
	hero := `{"context": {"channel": "web"}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`
	clientSide := `{"context": {"channel": "web"}, "experienceCloud": {"analytics": {"logging": "client_side"}}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`
	notification := `{"context": {"channel": "web"}, "notifications": [{"id": "n1", "type": "display", "timestamp": ` +
		strconv.FormatInt(time.Now().UnixMilli(), 10) + `, "mbox": {"name": "promo"}, "tokens": ["t-1"]}]}`
	allStates := []target.VisitorCustomerID{
		{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated},
		{IntegrationCode: "email", ID: "e-1", AuthState: target.AuthStateLoggedOut},
		{IntegrationCode: "phone", ID: "p-1", AuthState: target.AuthStateUnknown},
	}
	cases := []identityCase{
		{name: "visitor cookie with MCMID, MCAAMLH and MCAAMB", calls: []identityCall{{request: hero, visitorCookie: full}}},
		{name: "visitor cookie without MCMID", calls: []identityCall{{request: hero, visitorCookie: amcv("MCAAMLH-"+later+"|6", "MCAAMB-"+later+"|blob-2")}}},
		{name: "visitor cookie without digest, decoded", calls: []identityCall{{request: hero, visitorCookie: "MCMID|" + mcmid}}},
		{name: "the request's ids win over the cookie", calls: []identityCall{{visitorCookie: full, request: `{"context": {"channel": "web"},
			"id": {"marketingCloudVisitorId": "11111111111111111111111111111111111111"},
			"experienceCloud": {"audienceManager": {"locationHint": 3}}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`}}},
		{name: "expired visitor cookie fields", calls: []identityCall{{
			request: hero, visitorCookie: amcv("MCMID|"+mcmid, "MCAAMLH-"+past+"|9", "MCAAMB-"+past+"|blob-3"), expiredFields: true,
		}}},
		{name: "customer ids in every authentication state", calls: []identityCall{{visitorCookie: full, customerIDs: allStates, request: `{"context": {"channel": "web"},
			"id": {"customerIds": [{"id": "r-1", "integrationCode": "request", "authenticatedState": "logged_out"}]},
			"execute": {"mboxes": [{"name": "hero", "index": 0}]}}`}}},
		{name: "consumer ids repeated and different", pageView: true, calls: []identityCall{
			{request: hero, consumerID: "hero", customerIDs: allStates[:1]},
			{request: hero, consumerID: "recs", customerIDs: allStates[:1]},
			{request: hero, consumerID: "hero", customerIDs: allStates[:1]},
			{request: hero, customerIDs: allStates[:1]},
			{request: hero, consumerID: "recs", customerIDs: allStates[:1]},
			{call: "sendNotifications", request: notification, consumerID: "notify", customerIDs: allStates[:1]},
		}},
		{name: "a request that carries the current id keeps it", pageView: true, calls: []identityCall{
			{request: hero, consumerID: "hero"},
			{request: hero, consumerID: "hero", previousSDID: true},
			{request: hero, consumerID: "recs"},
		}},
		{name: "same consumer id without a page view", calls: []identityCall{
			{request: hero, consumerID: "hero"},
			{request: hero, consumerID: "hero"},
		}},
		{name: "a supplemental data id of the caller's own", calls: []identityCall{{consumerID: "hero", request: `{"context": {"channel": "web"},
			"experienceCloud": {"analytics": {"supplementalDataId": "0123456789ABCDEF-7EDCBA9876543210"}}, "execute": {"mboxes": [{"name": "hero", "index": 0}]}}`}}},
		{name: "client-side logging", calls: []identityCall{{request: clientSide}}},
		{name: "client-side logging with a consumer id", calls: []identityCall{{request: clientSide, consumerID: "hero"}}},
		{name: "client-side logging inside a page view", pageView: true, calls: []identityCall{
			{request: hero, consumerID: "hero"},
			{request: clientSide, consumerID: "recs", clientSideInPageView: true},
			{request: hero, consumerID: "recs", clientSideInPageView: true},
		}},
		{name: "numeric integration codes", calls: []identityCall{{request: hero, customerIDs: []target.VisitorCustomerID{
			{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated},
			{IntegrationCode: "20", ID: "x-1", AuthState: target.AuthStateUnknown},
			{IntegrationCode: "3", ID: "y-1", AuthState: target.AuthStateLoggedOut},
			{IntegrationCode: "007", ID: "z-1", AuthState: target.AuthStateUnknown},
		}}}},
		{name: "location hint read with parseInt", calls: []identityCall{
			{request: hero, visitorCookie: amcv("MCMID|"+mcmid, "MCAAMLH-"+later+"|9abc")},
			{request: hero, visitorCookie: amcv("MCMID|"+mcmid, "MCAAMLH-"+later+"|%209")},
			{request: hero, visitorCookie: amcv("MCMID|"+mcmid, "MCAAMLH-"+later+"|9.5")},
		}},
		{name: "expiry read with parseInt", calls: []identityCall{
			{request: hero, visitorCookie: amcv("MCMID-"+later+"S|"+mcmid, "MCAAMLH-"+later+"x|4", "MCAAMB-%20"+later+"|blob-5")},
			{request: hero, visitorCookie: amcv("MCMID-99999999999999999999999|"+mcmid, "MCAAMLH-soon|4")},
			{request: hero, visitorCookie: amcv("MCMID|"+mcmid, "MCAAMLH-1e3|4"), expiredFields: true},
		}},
	}

	srv := targettest.NewServer(targettest.Config{Offers: interopOffers})
	t.Cleanup(srv.Close)

	run := nodeRun{Config: nodeConfig(srv.Addr()), Redirect: srv.URL}
	for i, c := range cases {
		for j, call := range c.calls {
			opts := map[string]any{"request": json.RawMessage(call.request), "sessionId": identitySession(i, j)}
			if call.visitorCookie != "" {
				opts["visitorCookie"] = call.visitorCookie
			}
			if call.consumerID != "" {
				opts["consumerId"] = call.consumerID
			}
			if len(call.customerIDs) > 0 {
				opts["customerIds"] = visitorCustomerIDsJSON(t, call.customerIDs)
			}
			nc := nodeCall{Call: callName(call), Options: opts, PreviousSDID: call.previousSDID}
			if c.pageView {
				nc.Visitor = c.name
			}
			run.Calls = append(run.Calls, nc)
		}
	}
	nodeOut := runNode(t, node, run)
	nodeSent := srv.Requests()
	require.Len(t, nodeSent, len(run.Calls), "one request per Node SDK call")
	srv.Reset()

	var goStates []target.VisitorState
	for i, c := range cases {
		var page *target.SupplementalDataIDs
		if c.pageView {
			page = target.NewSupplementalDataIDs()
		}
		var previous string
		for j, call := range c.calls {
			// A client per call, as on the Node side, so that no call
			// learns an edge cluster from an earlier one.
			cfg := srv.ClientConfig()
			cfg.Timeout = 5 * time.Second
			client, err := target.NewClient(cfg)
			require.NoError(t, err)
			var req target.DeliveryRequest
			require.NoError(t, json.Unmarshal([]byte(call.request), &req))
			if call.previousSDID {
				req.ExperienceCloud = &target.ExperienceCloud{Analytics: &target.AnalyticsRequest{SupplementalDataID: previous}}
			}
			var r *target.Response
			if callName(call) == "sendNotifications" {
				r, err = client.SendNotifications(t.Context(), target.SendNotificationsOptions{
					Request: req, SessionID: identitySession(i, j), VisitorCookie: call.visitorCookie,
					CustomerIDs: call.customerIDs, ConsumerID: call.consumerID, SupplementalDataIDs: page,
				}).Await(t.Context())
			} else {
				r, err = client.GetOffers(t.Context(), target.GetOffersOptions{
					Request: req, SessionID: identitySession(i, j), VisitorCookie: call.visitorCookie,
					CustomerIDs: call.customerIDs, ConsumerID: call.consumerID, SupplementalDataIDs: page,
				}).Await(t.Context())
			}
			require.NoError(t, err, "%s, call %d", c.name, j)
			previous = sdidOf(*r.Request)
			goStates = append(goStates, r.VisitorState())
		}
	}
	goSent := srv.Requests()
	require.Len(t, goSent, len(run.Calls), "one request per Go client call")

	used := map[string]bool{}
	k := 0
	for i, c := range cases {
		first := k
		k += len(c.calls)
		t.Run(c.name, func(t *testing.T) {
			goLabels, nodeLabels := sdidLabels{}, sdidLabels{}
			for j, call := range c.calls {
				n := first + j
				wc := wireCase{name: c.name, sessionID: identitySession(i, j), request: call.request}
				goSDID, nodeSDID := rawSDID(t, goSent[n].Body), rawSDID(t, nodeSent[n].Body)
				goReq := normalizeWire(t, wc, goSent[n], "Go client")
				nodeReq := normalizeWire(t, wc, nodeSent[n], "Node SDK")

				var nodeValue struct {
					VisitorState map[string]any `json:"visitorState"`
				}
				require.NoError(t, json.Unmarshal(nodeOut.Results[n].Value, &nodeValue))
				org := targettest.DefaultOrganizationID
				goState := stateOf(t, json.RawMessage(mustJSON(t, goStates[n])), org)
				nodeState := stateOf(t, json.RawMessage(mustJSON(t, nodeValue.VisitorState)), org)

				for _, d := range keptDifferences {
					if d.apply(wc, &goReq, &nodeReq) {
						t.Logf("call %d: kept difference %q: %s", j, d.name, d.reason)
					}
				}
				sides := identitySides{&goReq, &nodeReq, goSDID, nodeSDID, goState, nodeState}
				for _, d := range identityDifferences {
					if d.apply(call, &sides) {
						used[d.name] = true
						t.Logf("call %d: kept difference %q: %s", j, d.name, d.reason)
					}
				}
				goSDID, nodeSDID = sides.goSDID, sides.nodeSDID
				if strings.Contains(call.request, "supplementalDataId") {
					// The caller's: the same on both sides, so no label.
					assert.Equal(t, goSDID, nodeSDID, "call %d: the request's id", j)
				} else {
					assert.Equal(t, nodeLabels.of(nodeSDID), goLabels.of(goSDID), "call %d: which supplemental data id the call sent", j)
				}
				assert.Equal(t, nodeReq.Host, goReq.Host, "call %d", j)
				assert.Equal(t, nodeReq.Query, goReq.Query, "call %d", j)
				assert.JSONEq(t, mustJSON(t, nodeReq.Body), mustJSON(t, goReq.Body), "call %d body: Node SDK (expected) vs Go client (actual)", j)

				nodeLabels.state(nodeState)
				goLabels.state(goState)
				assert.JSONEq(t, mustJSON(t, nodeState), mustJSON(t, goState), "call %d visitorState: Node SDK (expected) vs Go client (actual)", j)
			}
		})
	}
	for _, d := range identityDifferences {
		assert.True(t, used[d.name], "kept difference %q occurs in no case any more: remove it", d.name)
	}
}

func identitySession(i, j int) string { return fmt.Sprintf("identity-%d-%d", i, j) }

func callName(c identityCall) string {
	if c.call == "" {
		return "getOffers"
	}
	return c.call
}

// rawSDID returns the supplemental data id of a request body as sent.
func rawSDID(t *testing.T, body []byte) string {
	t.Helper()
	var b map[string]any
	require.NoError(t, json.Unmarshal(body, &b))
	id, _ := analyticsOf(b)["supplementalDataId"].(string)
	return id
}

// stateOf returns the organization's part of a visitorState, decoded, with
// customer ids in the Visitor API's short form (a bare id: state unknown)
// written out in full, which is what the Visitor API reads them as.
func stateOf(t *testing.T, raw json.RawMessage, org string) map[string]any {
	t.Helper()
	var all map[string]map[string]any
	require.NoError(t, json.Unmarshal(raw, &all))
	require.Len(t, all, 1, "a visitorState has the organization's entry only: %s", raw)
	st, ok := all[org]
	require.True(t, ok, "the visitorState is keyed by %q: %s", org, raw)
	if ids, ok := st["customerIDs"].(map[string]any); ok {
		for code, v := range ids {
			if s, ok := v.(string); ok {
				ids[code] = map[string]any{"id": s, "authState": float64(0)}
			}
		}
	}
	return st
}

// sdidLabels names generated supplemental data ids by order of first
// appearance, so that two sides' ids can be compared by pattern.
type sdidLabels map[string]string

func (l sdidLabels) of(id string) string {
	if id == "" {
		return ""
	}
	if _, ok := l[id]; !ok {
		l[id] = "sdid-" + strconv.Itoa(len(l)+1)
	}
	return l[id]
}

// state replaces the ids in a visitorState's sdid with their labels.
func (l sdidLabels) state(st map[string]any) {
	sd, ok := st["sdid"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range []string{"supplementalDataIDCurrent", "supplementalDataIDLast"} {
		if id, ok := sd[k].(string); ok {
			sd[k] = l.of(id)
		}
	}
}
