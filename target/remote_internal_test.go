package target

import (
	"crypto/tls"
	"encoding/json"
	"net/http/httptrace"
	"regexp"
	"strings"
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
// format, random, and present only when asked for.
func TestFreshIDs(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sdid := regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
	for _, want := range [][3]bool{{true, true, true}, {true, false, true}, {false, true, false}, {false, false, true}, {true, false, false}} {
		r, s, d := freshIDs(want[0], want[1], want[2])
		r2, s2, d2 := freshIDs(want[0], want[1], want[2])
		if want[0] && want[1] {
			assert.NotEqual(t, r, s, "the request and session ids take their own random bytes")
		}
		if want[0] && want[2] {
			assert.NotEqual(t, r[2:8], strings.ToLower(d[2:8]), "the request and supplemental data ids take their own random bytes")
		}
		for i, c := range []struct {
			got, again string
			re         *regexp.Regexp
		}{{r, r2, uuid}, {s, s2, uuid}, {d, d2, sdid}} {
			if !want[i] {
				assert.Empty(t, c.got, "%v: id %d not asked for", want, i)
				continue
			}
			assert.Regexp(t, c.re, c.got, "%v: id %d", want, i)
			assert.NotEqual(t, c.got, c.again, "%v: id %d is random", want, i)
		}
	}
}
