package target

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unicode/utf8"
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
		if err := customerIDLimits(field, v.IntegrationCode, v.ID); err != nil {
			return nil, err
		}
		if j, dup := seen[v.IntegrationCode]; dup {
			return nil, optionError(field+".IntegrationCode", "%q is also the code of CustomerIDs[%d]", v.IntegrationCode, j)
		}
		seen[v.IntegrationCode] = i
		out[i] = CustomerID{ID: v.ID, IntegrationCode: v.IntegrationCode, AuthenticatedState: state}
	}
	// The Visitor API keeps the ids in a JavaScript object keyed by code,
	// and Adobe's SDKs send them in its key order: codes that are array
	// indexes first, ascending, then the others as they were set.
	slices.SortStableFunc(out, func(a, b CustomerID) int {
		ai, aok := arrayIndex(a.IntegrationCode)
		bi, bok := arrayIndex(b.IntegrationCode)
		switch {
		case aok && bok:
			return cmp.Compare(ai, bi)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	return out, nil
}

// arrayIndex reports whether s is what JavaScript takes as an array index
// among an object's keys: the canonical decimal form of an integer from 0
// to 2^32-2.
func arrayIndex(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, n <= 1<<32-2
}

// The API's limits on customer ids, in characters and entries.
const (
	maxCustomerIDLen      = 128
	maxIntegrationCodeLen = 50
	maxCustomerIDsPerCall = 50
)

// customerIDLimits checks one customer id against the API's lengths, so
// that the call fails here, naming the field, rather than at the edge.
func customerIDLimits(field, code, id string) error {
	if n := utf8.RuneCountInString(id); n > maxCustomerIDLen {
		return optionError(field+".ID", "%d characters, over the %d the API takes", n, maxCustomerIDLen)
	}
	if n := utf8.RuneCountInString(code); n > maxIntegrationCodeLen {
		return optionError(field+".IntegrationCode", "%d characters, over the %d the API takes", n, maxIntegrationCodeLen)
	}
	return nil
}

// checkMergedCustomerIDs checks the customer ids of the request's own
// id.customerIds and their number once the call's are added.
func checkMergedCustomerIDs(req *DeliveryRequest, fromOptions int) error {
	if req.ID == nil {
		if fromOptions > maxCustomerIDsPerCall {
			return optionError("CustomerIDs", "%d customer ids, over the %d the API takes", fromOptions, maxCustomerIDsPerCall)
		}
		return nil
	}
	for i, c := range req.ID.CustomerIDs {
		if err := customerIDLimits(fmt.Sprintf("Request.ID.CustomerIDs[%d]", i), c.IntegrationCode, c.ID); err != nil {
			return err
		}
	}
	if n := fromOptions + len(req.ID.CustomerIDs); n > maxCustomerIDsPerCall {
		return optionError("CustomerIDs", "%d customer ids with Request.ID.CustomerIDs, over the %d the API takes", n, maxCustomerIDsPerCall)
	}
	return nil
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
// The zero value is ready to use and safe for concurrent use. A direct
// call takes its id before GetOffers returns, only once it is sure to be
// sent or decided (a call failing with an *OptionError or ErrClientClosed
// takes none); a Coalescer's calls take one id per merged request when the
// request is sent. Once every call of the page view has settled,
// Client.VisitorState gives the state to hand to the browser.
type SupplementalDataIDs struct {
	mu              sync.Mutex
	current, last   string
	currentConsumed map[string]bool
	lastConsumed    map[string]bool
	gen             uint64 // counts takes, for sdidUndo
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
	id, _ := s.take(consumerID)
	return id
}

// sdidUndo records what one take changed, so that a call which fails
// before it is sent can give its id back.
type sdidUndo struct {
	s        *SupplementalDataIDs
	gen      uint64 // s.gen right after the take
	key      string
	fromLast bool // the take marked key in lastConsumed
	created  bool // the take made the first id
	rotated  bool // the take moved current to last
	// last and lastConsumed before a rotation.
	last         string
	lastConsumed map[string]bool
}

// take hands out the id for consumerID as ID does, with what it takes to
// undo it.
func (s *SupplementalDataIDs) take(consumerID string) (string, sdidUndo) {
	if consumerID == "" {
		consumerID = DefaultConsumerID
	}
	key := "payload:" + consumerID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	u := sdidUndo{s: s, gen: s.gen, key: key}
	if s.current == "" {
		s.current = newSupplementalDataID()
		u.created = true
	}
	if s.last != "" && !s.lastConsumed[key] {
		s.lastConsumed[key] = true
		u.fromLast = true
		return s.last, u
	}
	if s.currentConsumed[key] {
		u.rotated, u.last, u.lastConsumed = true, s.last, s.lastConsumed
		s.last, s.lastConsumed = s.current, s.currentConsumed
		s.current, s.currentConsumed = newSupplementalDataID(), nil
	}
	if s.currentConsumed == nil {
		s.currentConsumed = make(map[string]bool)
	}
	s.currentConsumed[key] = true
	return s.current, u
}

// undo gives the id of a take back, when no other take came after it (a
// later one may have been handed the state this one made, so it stays).
// It reports whether it did.
func (u *sdidUndo) undo() bool {
	s := u.s
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != u.gen {
		return false
	}
	switch {
	case u.fromLast:
		delete(s.lastConsumed, u.key)
	case u.rotated:
		s.current, s.currentConsumed = s.last, s.lastConsumed
		s.last, s.lastConsumed = u.last, u.lastConsumed
	default:
		delete(s.currentConsumed, u.key)
		if len(s.currentConsumed) == 0 {
			s.currentConsumed = nil
		}
	}
	if u.created {
		s.current, s.currentConsumed = "", nil
	}
	s.gen--
	return true
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

// VisitorState returns the Experience Cloud ID service's state of a page
// view for the browser's Visitor API, keyed by the Client's organization:
// the customer ids given and the state of page (nil for none). Call it once
// every call of the page view has settled, so that it holds every id they
// took, whichever settled last and whether or not they went through a
// Coalescer; Response.VisitorState gives this state as it stood when that one
// call took its id.
func (c *Client) VisitorState(customerIDs []VisitorCustomerID, page *SupplementalDataIDs) VisitorState {
	return visitorState(c.cfg.OrganizationID, customerIDs, page)
}

// visitorState builds a call's VisitorState: its customer ids and, when it
// used supplemental data ids, their state.
func visitorState(orgID string, customerIDs []VisitorCustomerID, sdids *SupplementalDataIDs) VisitorState {
	var sdid *SupplementalDataIDState
	if sdids != nil {
		sdid = sdids.State()
	}
	return visitorStateOf(orgID, customerIDs, sdid)
}

// visitorSource is what a Response's VisitorState is built from on its
// first read: most callers never read it, and building it up front cost a
// call five allocations (three maps). Exactly one of sdid and freshID
// describes the ids; set is false when the call has no state.
type visitorSource struct {
	set         bool
	orgID       string
	customerIDs []VisitorCustomerID // the call's own copy
	// sdid is a snapshot of a page view's ids (SupplementalDataIDs.State),
	// nil when the call used none. It is the call's own unless shared is
	// set (a Coalescer's calls share their merged request's).
	sdid   *SupplementalDataIDState
	shared bool
	// freshID is the call's fresh id, taken by freshKey (the consumed-map
	// key of its consumer): the state of a new SupplementalDataIDs after
	// one take, as State would return it.
	freshID, freshKey string
}

// newVisitorSource records a call's customer ids (copied: the caller may
// reuse its slice once the call has settled) and ids' snapshot.
func newVisitorSource(orgID string, customerIDs []VisitorCustomerID, sdid *SupplementalDataIDState) visitorSource {
	return visitorSource{set: true, orgID: orgID, customerIDs: slices.Clone(customerIDs), sdid: sdid}
}

// build returns the VisitorState, nil when none was set. It takes the
// snapshot as it is unless it is shared, so a page view's state is copied
// once, by SupplementalDataIDs.State.
func (v *visitorSource) build() VisitorState {
	switch {
	case !v.set:
		return nil
	case v.freshID != "":
		return visitorStateOf(v.orgID, v.customerIDs, &SupplementalDataIDState{
			Current: v.freshID, CurrentConsumed: map[string]bool{v.freshKey: true}, LastConsumed: map[string]bool{},
		})
	case v.shared:
		return visitorStateOf(v.orgID, v.customerIDs, cloneSDIDState(v.sdid))
	}
	return visitorStateOf(v.orgID, v.customerIDs, v.sdid)
}

// visitorCell holds a Response's VisitorState: built from src on the
// first read and kept, so that later reads cost nothing and return the
// same maps, as the exported field it once was did. A client-built
// Response's cell lives in the call's allocation (remoteCall) or next to
// the Response (responseBox).
type visitorCell struct {
	once  sync.Once
	src   visitorSource
	state VisitorState
}

// keptVisitorState returns a cell holding s as it is.
func keptVisitorState(s VisitorState) *visitorCell {
	c := &visitorCell{state: s}
	c.once.Do(func() {})
	return c
}

// get builds the state on the first call and returns it; nil for a nil
// cell. Concurrent calls are safe: the first builds, the others wait.
func (c *visitorCell) get() VisitorState {
	if c == nil {
		return nil
	}
	// src stays: a Coalescer's calls build theirs from their merged
	// Response's, which an Observer may be reading at the same time.
	c.once.Do(func() { c.state = c.src.build() })
	return c.state
}

// responseBox is a Response and its visitor cell in one allocation.
type responseBox struct {
	r Response
	v visitorCell
}

// newResponse returns a Response to fill whose VisitorState is built
// from src, in one allocation.
func newResponse(src visitorSource) *Response {
	b := &responseBox{}
	b.v.src = src
	b.r.visitor = &b.v
	return &b.r
}

// cloneSDIDState copies st and its maps; nil stays nil.
func cloneSDIDState(st *SupplementalDataIDState) *SupplementalDataIDState {
	if st == nil {
		return nil
	}
	c := *st
	c.CurrentConsumed, c.LastConsumed = maps.Clone(st.CurrentConsumed), maps.Clone(st.LastConsumed)
	return &c
}

// visitorStateOf builds a VisitorState from the customer ids and the state
// of the supplemental data ids (nil for none).
func visitorStateOf(orgID string, customerIDs []VisitorCustomerID, sdid *SupplementalDataIDState) VisitorState {
	st := VisitorOrgState{SDID: sdid}
	if len(customerIDs) > 0 {
		st.CustomerIDs = make(map[string]VisitorCustomerID, len(customerIDs))
		for _, c := range customerIDs {
			st.CustomerIDs[c.IntegrationCode] = c
		}
	}
	return VisitorState{visitorOrgID(orgID): st}
}
