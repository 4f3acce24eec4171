package target

import (
	"fmt"
	"maps"
	"sync"
)

// AuthState is the authentication state of a customer id in the form the
// Experience Cloud ID service uses (Visitor.AuthState in its JavaScript
// library): a number, where the Delivery API takes a name.
type AuthState int

// Authentication states of the Visitor API, and the Delivery API's
// AuthenticatedState each one is sent as.
const (
	AuthStateUnknown       AuthState = 0 // AuthenticatedStateUnknown
	AuthStateAuthenticated AuthState = 1 // AuthenticatedStateAuthenticated
	AuthStateLoggedOut     AuthState = 2 // AuthenticatedStateLoggedOut
)

// authenticatedState maps a Visitor API state to the Delivery API's name,
// "" for a number the Visitor API does not define.
func (s AuthState) authenticatedState() AuthenticatedState {
	switch s {
	case AuthStateUnknown:
		return AuthenticatedStateUnknown
	case AuthStateAuthenticated:
		return AuthenticatedStateAuthenticated
	case AuthStateLoggedOut:
		return AuthenticatedStateLoggedOut
	}
	return ""
}

// VisitorCustomerID is a customer id in the form the Experience Cloud ID
// service's setCustomerIDs takes: an integration code naming the data
// source, the id, and an authentication state. Its JSON form is the value
// the Visitor API keeps under the integration code: {"id":...,"authState":N}.
type VisitorCustomerID struct {
	IntegrationCode string    `json:"-"`
	ID              string    `json:"id"`
	AuthState       AuthState `json:"authState"`
}

// deliveryCustomerIDs converts the customer ids of the call options to the
// Delivery API's form, checking them: each needs an integration code and an
// id, the codes must differ (the Visitor API keys ids by code, so a second
// one would replace the first), and the state must be one of the three.
func deliveryCustomerIDs(in []VisitorCustomerID) ([]CustomerID, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]CustomerID, len(in))
	seen := make(map[string]int, len(in))
	for i, v := range in {
		field := fmt.Sprintf("CustomerIDs[%d]", i)
		state := v.AuthState.authenticatedState()
		switch {
		case v.IntegrationCode == "":
			return nil, optionError(field+".IntegrationCode", "required")
		case v.ID == "":
			return nil, optionError(field+".ID", "required")
		case state == "":
			return nil, optionError(field+".AuthState", "%d is not AuthStateUnknown (0), AuthStateAuthenticated (1) or AuthStateLoggedOut (2)", int(v.AuthState))
		}
		if j, dup := seen[v.IntegrationCode]; dup {
			return nil, optionError(field+".IntegrationCode", "%q is also the code of CustomerIDs[%d]", v.IntegrationCode, j)
		}
		seen[v.IntegrationCode] = i
		out[i] = CustomerID{ID: v.ID, IntegrationCode: v.IntegrationCode, AuthenticatedState: state}
	}
	return out, nil
}

// VisitorState is the Experience Cloud ID service's state after a call, in
// the shape the browser's Visitor API takes as its server state: encoded
// with encoding/json and handed to the page, it goes into
// Visitor.getInstance(orgId, {serverState: state}), so that the page's
// Analytics and Target calls use the customer ids and supplemental data ids
// the server used. It is keyed by the organization id, with "@AdobeOrg"
// added when the configured one has no '@'.
type VisitorState map[string]VisitorOrgState

// VisitorOrgState is one organization's part of a VisitorState.
type VisitorOrgState struct {
	// CustomerIDs are the call's customer ids, keyed by integration code.
	CustomerIDs map[string]VisitorCustomerID `json:"customerIDs,omitempty"`
	// SDID is the state of the supplemental data ids, nil when the call
	// used none (client-side Analytics logging, say).
	SDID *SupplementalDataIDState `json:"sdid,omitempty"`
}

// SupplementalDataIDState is the state of SupplementalDataIDs in the
// Visitor API's form: the current and the previous id, each with the
// consumers (as "payload:" and the consumer id) that have used it.
type SupplementalDataIDState struct {
	Current         string          `json:"supplementalDataIDCurrent,omitempty"`
	CurrentConsumed map[string]bool `json:"supplementalDataIDCurrentConsumed"`
	Last            string          `json:"supplementalDataIDLast,omitempty"`
	LastConsumed    map[string]bool `json:"supplementalDataIDLastConsumed"`
}

// DefaultConsumerID is the consumer of a call's supplemental data id when
// the call names none: the name of at.js's global mbox, as in Adobe's SDKs.
const DefaultConsumerID = "target-global-mbox"

// SupplementalDataIDs hands out the supplemental data ids of one page view,
// as the Experience Cloud ID service does, so that the Target calls a page
// view makes server-side are stitched in Analytics with its other hits. Each
// consumer (a Target call site, Analytics, another library) asks for an id
// under its own consumer id: consumers that ask in turn share an id, and a
// consumer that asks a second time starts the next id, which the others then
// get on their second turn. So a page view whose calls name different
// consumer ids sends one id with all of them, and two calls under the same
// consumer id count as two hits with two ids.
//
// Share one value between the calls of one page view through
// GetOffersOptions.SupplementalDataIDs; a call without one gets a fresh id.
// The zero value is ready to use; it is safe for concurrent use, and calls
// take their ids in the order they are made (GetOffers prepares a call
// before it returns).
type SupplementalDataIDs struct {
	mu              sync.Mutex
	current, last   string
	currentConsumed map[string]bool
	lastConsumed    map[string]bool
}

// NewSupplementalDataIDs returns an empty state, ready for a page view.
func NewSupplementalDataIDs() *SupplementalDataIDs { return &SupplementalDataIDs{} }

// ID returns the supplemental data id for consumerID ("" means
// DefaultConsumerID), the one a Target call under that consumer id would
// send: the previous id when this consumer has not used it yet, else the
// current one, or a new one when this consumer has already used the current
// one. Give it, for instance, to a server-side Analytics hit of the same
// page view.
func (s *SupplementalDataIDs) ID(consumerID string) string {
	if consumerID == "" {
		consumerID = DefaultConsumerID
	}
	key := "payload:" + consumerID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		s.current = newSupplementalDataID()
	}
	if s.last != "" && !s.lastConsumed[key] {
		s.lastConsumed[key] = true
		return s.last
	}
	if s.currentConsumed[key] {
		s.last, s.lastConsumed = s.current, s.currentConsumed
		s.current, s.currentConsumed = newSupplementalDataID(), nil
	}
	if s.currentConsumed == nil {
		s.currentConsumed = make(map[string]bool)
	}
	s.currentConsumed[key] = true
	return s.current
}

// State returns a copy of the state in the Visitor API's form, nil when no
// id has been handed out yet.
func (s *SupplementalDataIDs) State() *SupplementalDataIDState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		return nil
	}
	st := &SupplementalDataIDState{
		Current: s.current, Last: s.last,
		CurrentConsumed: maps.Clone(s.currentConsumed), LastConsumed: maps.Clone(s.lastConsumed),
	}
	// The Visitor API always has both maps; nil would encode as null.
	if st.CurrentConsumed == nil {
		st.CurrentConsumed = map[string]bool{}
	}
	if st.LastConsumed == nil {
		st.LastConsumed = map[string]bool{}
	}
	return st
}

// visitorState builds a call's VisitorState: its customer ids and, when it
// used supplemental data ids, their state.
func visitorState(orgID string, customerIDs []VisitorCustomerID, sdids *SupplementalDataIDs) VisitorState {
	var st VisitorOrgState
	if len(customerIDs) > 0 {
		st.CustomerIDs = make(map[string]VisitorCustomerID, len(customerIDs))
		for _, c := range customerIDs {
			st.CustomerIDs[c.IntegrationCode] = c
		}
	}
	if sdids != nil {
		st.SDID = sdids.State()
	}
	return VisitorState{visitorOrgID(orgID): st}
}
