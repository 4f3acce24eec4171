package target

import (
	"crypto/tls"
	"encoding/json"
	"net/http/httptrace"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFreshSDIDState: the state a call without a page view's ids reports
// is what a new SupplementalDataIDs gives after that one take.
func TestFreshSDIDState(t *testing.T) {
	t.Parallel()
	for _, consumer := range []string{"", DefaultConsumerID, "other"} {
		s := NewSupplementalDataIDs()
		id, _ := s.take(consumer)
		v := visitorSource{set: true, orgID: "org", freshID: id, freshKey: consumedKey(consumer)}
		assert.Equal(t, VisitorState{visitorOrgID("org"): {SDID: s.State()}}, v.build(), consumer)
	}
}

// TestTraceRecyclable: a trace goes back to the pool only after an HTTP/1
// attempt that got an idle connection, wrote its request and read the
// answer's first byte; a dial hook, a connection that was not idle or
// HTTP/2 keep it out, since a hook could still run.
func TestTraceRecyclable(t *testing.T) {
	t.Parallel()
	done := func(a *attemptTrace) *attemptTrace {
		a.trace.GotConn(httptrace.GotConnInfo{Reused: true, WasIdle: true})
		a.trace.WroteRequest(httptrace.WroteRequestInfo{})
		a.trace.GotFirstResponseByte()
		return a
	}
	fresh := func() *attemptTrace {
		a := &attemptTrace{pooled: true}
		a.trace = a.hooks()
		return a
	}
	assert.True(t, done(fresh()).recyclable(true))
	assert.False(t, done(fresh()).recyclable(false), "HTTP/2")
	assert.False(t, fresh().recyclable(true), "no hook ran")

	for name, dial := range map[string]func(*httptrace.ClientTrace){
		"dns":     func(h *httptrace.ClientTrace) { h.DNSStart(httptrace.DNSStartInfo{}) },
		"connect": func(h *httptrace.ClientTrace) { h.ConnectStart("tcp", "x") },
		"tls":     func(h *httptrace.ClientTrace) { h.TLSHandshakeDone(tls.ConnectionState{}, nil) },
		"not idle": func(h *httptrace.ClientTrace) {
			h.GotConn(httptrace.GotConnInfo{Reused: true})
		},
	} {
		a := fresh()
		dial(&a.trace)
		assert.False(t, done(a).recyclable(true), name)
	}

	// A recycled trace starts clean, with its hooks still bound to it.
	a := done(fresh())
	a.trace.ConnectDone("tcp", "x", nil)
	a.dialed = false
	if assert.True(t, a.reset(true)) {
		assert.Zero(t, a.connect)
		assert.False(t, a.gotConn)
		assert.True(t, a.wrote.IsZero())
		assert.True(t, a.firstByte.IsZero())
		assert.True(t, a.pooled)
		a.trace.GotConn(httptrace.GotConnInfo{Reused: true, WasIdle: true})
		assert.True(t, a.gotConn, "the hooks write to the reset trace")
		assert.True(t, a.reused)
	}
	// One that is not recyclable, or not pooled, is left as it is.
	b := fresh()
	b.trace.ConnectStart("tcp", "x")
	assert.False(t, b.reset(true))
	assert.False(t, b.connStart.IsZero())
	u := &attemptTrace{}
	u.trace = u.hooks()
	done(u)
	assert.False(t, u.reset(true), "not from the pool")
	assert.True(t, u.gotConn)
}

// TestResponseVisitorStateJSON: the state built on the first read is kept
// (a later read returns the same maps, as the field did) and is in the
// Response's JSON form under "visitorState", and decoding restores it.
func TestResponseVisitorStateJSON(t *testing.T) {
	t.Parallel()
	r := newResponse(visitorSource{set: true, orgID: "org",
		customerIDs: []VisitorCustomerID{{IntegrationCode: "crm", ID: "c1"}},
		freshID:     "sd1", freshKey: defaultConsumerKey})
	r.Status = 200
	want := VisitorState{visitorOrgID("org"): {
		CustomerIDs: map[string]VisitorCustomerID{"crm": {IntegrationCode: "crm", ID: "c1"}},
		SDID: &SupplementalDataIDState{Current: "sd1", CurrentConsumed: map[string]bool{defaultConsumerKey: true},
			LastConsumed: map[string]bool{}},
	}}
	got := r.VisitorState()
	assert.Equal(t, want, got)
	got[visitorOrgID("org")].CustomerIDs["x"] = VisitorCustomerID{ID: "y"}
	assert.Equal(t, got, r.VisitorState(), "the maps are the Response's")
	assert.Contains(t, r.VisitorState()[visitorOrgID("org")].CustomerIDs, "x")
	delete(got[visitorOrgID("org")].CustomerIDs, "x")

	b, err := json.Marshal(r)
	assert.NoError(t, err)
	var raw map[string]json.RawMessage
	assert.NoError(t, json.Unmarshal(b, &raw))
	wantJSON, _ := json.Marshal(want)
	assert.JSONEq(t, string(wantJSON), string(raw["visitorState"]))
	assert.JSONEq(t, "200", string(raw["status"]))

	var back Response
	assert.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, want, back.VisitorState())
	assert.Equal(t, 200, back.Status)

	b, err = json.Marshal(&Response{})
	assert.NoError(t, err)
	assert.NotContains(t, string(b), "visitorState", "omitted when nil, as the field was")
	assert.Nil(t, (&Response{}).VisitorState())
}

// TestFreshIDs: the ids a call makes in one string are each in their own
// format, present only when asked for, and each from its own random bytes:
// no two of the ids of two calls (request, session and supplemental data
// ids, every pair) share them.
func TestFreshIDs(t *testing.T) {
	t.Parallel()
	for _, want := range [][3]bool{{true, true, true}, {true, true, false}, {true, false, true}, {false, true, true},
		{false, true, false}, {false, false, true}, {true, false, false}, {false, false, false}} {
		var ids []string
		for range 2 {
			r, s, d := freshIDs(want[0], want[1], want[2])
			for i, c := range []struct {
				got string
				re  *regexp.Regexp
			}{{r, uuidV4Pattern}, {s, uuidV4Pattern}, {d, sdidPattern}} {
				if !want[i] {
					assert.Empty(t, c.got, "%v: id %d not asked for", want, i)
					continue
				}
				if assert.Regexp(t, c.re, c.got, "%v: id %d", want, i) {
					ids = append(ids, c.got)
				}
			}
		}
		for i, a := range ids {
			for _, b := range ids[i+1:] {
				assert.NotEqual(t, idRandomBytes(t, a), idRandomBytes(t, b), "%v: %q and %q share their random bytes", want, a, b)
			}
		}
	}
}
