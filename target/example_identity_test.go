package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

// A page handler that serves a visitor of the Experience Cloud ID service:
// it reads the visitor's AMCV cookie, sends the customer id of a signed-in
// visitor, and hands the Visitor API's state to the page.
func ExampleClient_VisitorCookie() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}

	// The browser's request, with the cookie the Visitor API wrote.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", target.VisitorCookieName(edge.ClientConfig().OrganizationID)+
		"=-1303530583%7CMCMID%7C83739498263548163127378920036185725467%7CvVersion%7C5.5.0")

	ctx := context.Background()
	page := target.NewSupplementalDataIDs() // one per page view
	res, err := client.GetOffers(ctx, target.GetOffersOptions{
		Request:             target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}},
		SessionID:           "session-1",
		VisitorCookie:       client.VisitorCookie(r),
		CustomerIDs:         []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "u-1", AuthState: target.AuthStateAuthenticated}},
		ConsumerID:          "hero",
		SupplementalDataIDs: page,
	}).Await(ctx)
	if err != nil {
		fmt.Println("no offers:", err)
		return
	}
	fmt.Println("Experience Cloud id sent:", res.Request.ID.MarketingCloudVisitorID)
	fmt.Println("customer id sent:", res.Request.ID.CustomerIDs[0].IntegrationCode, res.Request.ID.CustomerIDs[0].AuthenticatedState)
	fmt.Println("supplemental data id from the page view:", res.Request.ExperienceCloud.Analytics.SupplementalDataID == page.ID("analytics"))

	// The page passes this to Visitor.getInstance(orgId, {serverState: ...}).
	state, _ := json.Marshal(res.VisitorState())
	var shape map[string]map[string]json.RawMessage
	_ = json.Unmarshal(state, &shape)
	for org, s := range shape {
		fmt.Println("server state for", org, "has customerIDs:", s["customerIDs"] != nil, "and sdid:", s["sdid"] != nil)
	}
	// Output:
	// Experience Cloud id sent: 83739498263548163127378920036185725467
	// customer id sent: crm authenticated
	// supplemental data id from the page view: true
	// server state for 0123456789ABCDEF01234567@AdobeOrg has customerIDs: true and sdid: true
}

// The calls of one page view share supplemental data ids the way the
// Experience Cloud ID service hands them out: consumers asking in turn get
// the same id, a consumer asking again starts the next one.
func ExampleSupplementalDataIDs() {
	page := target.NewSupplementalDataIDs()
	hero1 := page.ID("hero")
	recs1 := page.ID("recs")
	hero2 := page.ID("hero")
	recs2 := page.ID("recs")
	fmt.Println("hero and recs share an id:", hero1 == recs1, hero2 == recs2)
	fmt.Println("hero's second call has the next id:", hero1 != hero2)
	// Output:
	// hero and recs share an id: true true
	// hero's second call has the next id: true
}

// Once every call of a page view has settled, Client.VisitorState gives the
// state to hand to the browser, whichever call settled last.
func ExampleClient_VisitorState() {
	edge := exampleEdge()
	defer edge.Close()
	client, err := target.NewClient(edge.ClientConfig())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	page := target.NewSupplementalDataIDs()
	customer := []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "u-1", AuthState: target.AuthStateAuthenticated}}
	hero := client.GetOffers(ctx, target.GetOffersOptions{
		Request:   target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}},
		SessionID: "session-1", CustomerIDs: customer, ConsumerID: "hero", SupplementalDataIDs: page,
	})
	recs := client.GetOffers(ctx, target.GetOffersOptions{
		Request:   target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "recs"}}}},
		SessionID: "session-1", CustomerIDs: customer, ConsumerID: "recs", SupplementalDataIDs: page,
	})
	for _, f := range []*future.Future[*target.Response]{hero, recs} {
		if _, err := f.Await(ctx); err != nil {
			fmt.Println("no offers:", err)
			return
		}
	}
	state := client.VisitorState(customer, page)
	for org, s := range state {
		fmt.Println(org, "customer ids:", len(s.CustomerIDs), "consumers of the current id:", len(s.SDID.CurrentConsumed))
	}
	// Output:
	// 0123456789ABCDEF01234567@AdobeOrg customer ids: 1 consumers of the current id: 2
}

// A fake Response for a test of code that hands a call's VisitorState to
// the page: SetVisitorState gives it the state a client-built Response
// would have, and the JSON form carries it.
func ExampleResponse_SetVisitorState() {
	fake := &target.Response{Status: 200}
	fake.SetVisitorState(target.VisitorState{
		"0123456789ABCDEF@AdobeOrg": {
			CustomerIDs: map[string]target.VisitorCustomerID{
				"crm": {IntegrationCode: "crm", ID: "c-42", AuthState: target.AuthStateAuthenticated},
			},
		},
	})
	st := fake.VisitorState()
	fmt.Println(st["0123456789ABCDEF@AdobeOrg"].CustomerIDs["crm"].ID)

	b, err := json.Marshal(fake.VisitorState())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))

	// The Response's JSON form holds it too, and decoding restores it.
	b, err = json.Marshal(fake)
	if err != nil {
		fmt.Println(err)
		return
	}
	var back target.Response
	if err := json.Unmarshal(b, &back); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.VisitorState()["0123456789ABCDEF@AdobeOrg"].CustomerIDs["crm"].IntegrationCode)
	// Output:
	// c-42
	// {"0123456789ABCDEF@AdobeOrg":{"customerIDs":{"crm":{"id":"c-42","authState":1}}}}
	// crm
}
