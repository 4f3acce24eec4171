package target_test

// Tests of Response.VisitorState as a method (built on the first read and
// kept), its JSON form, and of the call's fresh ids and retry headers.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// stateResponse makes a direct call that has a VisitorState (customer id
// and page view ids).
func stateResponse(t *testing.T) *target.Response {
	t.Helper()
	c, _ := setup(t, targettest.Config{Offers: offers})
	page := target.NewSupplementalDataIDs()
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request: offersRequest("hero"), SessionID: "s-1", SupplementalDataIDs: page,
		CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1", AuthState: target.AuthStateAuthenticated}},
	}).Await(t.Context())
	require.NoError(t, err)
	require.NotNil(t, res.VisitorState())
	return res
}

// TestResponseValueJSONKeepsVisitorState: VisitorState was a field, so
// json.Marshal of a Response value (or of a map or interface holding one
// by value) carried it; MarshalJSON's value receiver keeps that so.
func TestResponseValueJSONKeepsVisitorState(t *testing.T) {
	t.Parallel()
	res := stateResponse(t)
	byPtr, err := json.Marshal(res)
	require.NoError(t, err)
	require.Contains(t, string(byPtr), `"visitorState"`)

	byValue, err := json.Marshal(*res)
	require.NoError(t, err)
	inMap, err := json.Marshal(map[string]target.Response{"page": *res})
	require.NoError(t, err)
	inAny, err := json.Marshal(struct{ R any }{*res})
	require.NoError(t, err)
	assert.Contains(t, string(byValue), `"visitorState"`, "a Response value marshals its VisitorState, as the field did")
	assert.Contains(t, string(inMap), `"visitorState"`, "a map of Responses")
	assert.Contains(t, string(inAny), `"visitorState"`, "a Response in an interface")
}

// TestResponseUnmarshalKeepsState: decoding JSON null, or an object
// without "visitorState", into a Response that has a state keeps it, as
// encoding/json does with fields; "visitorState": null removes it.
func TestResponseUnmarshalKeepsState(t *testing.T) {
	t.Parallel()
	res := stateResponse(t)
	want := res.VisitorState()
	status := res.Status
	require.NoError(t, json.Unmarshal([]byte(`null`), res))
	assert.Equal(t, status, res.Status)
	gotNull := res.VisitorState()
	res2 := stateResponse(t)
	want2 := res2.VisitorState()
	require.NoError(t, json.Unmarshal([]byte(`{"status":201}`), res2))
	assert.Equal(t, 201, res2.Status)
	gotAbsent := res2.VisitorState()
	assert.Equal(t, want, gotNull, "null is a no-op")
	assert.Equal(t, want2, gotAbsent, "an absent key leaves the field as it was")
	require.NoError(t, json.Unmarshal([]byte(`{"visitorState":null}`), res2))
	assert.Nil(t, res2.VisitorState(), "a null visitorState removes it")
}

// TestResponseJSONOddStates: odd JSON states round-trip; IntegrationCode
// is restored from keys; a malformed state is an error.
func TestResponseJSONOddStates(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"visitorState":{}}`,
		`{"visitorState":{"o@AdobeOrg":{}}}`,
		`{"visitorState":{"o@AdobeOrg":{"customerIDs":{"crm":null,"é😀":{"id":"x","authState":2}}}}}`,
		`{"visitorState":{"o@AdobeOrg":{"sdid":null}}}`,
		`{"visitorState":null}`,
	} {
		var r target.Response
		require.NoError(t, json.Unmarshal([]byte(in), &r), in)
		st := r.VisitorState()
		for _, os := range st {
			for code, id := range os.CustomerIDs {
				assert.Equal(t, code, id.IntegrationCode, in)
			}
		}
		b, err := json.Marshal(&r)
		require.NoError(t, err)
		var back target.Response
		require.NoError(t, json.Unmarshal(b, &back), string(b))
		if len(st) > 0 {
			assert.Equal(t, st, back.VisitorState(), in)
		}
	}
	var r target.Response
	assert.Error(t, json.Unmarshal([]byte(`{"visitorState":[1]}`), &r))
	assert.Error(t, json.Unmarshal([]byte(`{"visitorState":{"o":{"customerIDs":{"crm":5}}}}`), &r))
}

// TestVisitorStateKeptAndConcurrent: a kept Response's state does not
// move when the page view's ids and the caller's customer-id slice do;
// reads and marshals from many goroutines, of a Response and its copies,
// are -race clean and give the same maps; a change the caller makes to
// them is the Response's, and coalesced calls each have their own maps.
func TestVisitorStateKeptAndConcurrent(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: offers})
	k := newCoalescer(t, c, target.CoalesceOptions{})
	page := target.NewSupplementalDataIDs()
	ids := []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1"}}
	o := func(n string) target.GetOffersOptions {
		return target.GetOffersOptions{Request: offersRequest(n), SessionID: "s-1", SupplementalDataIDs: page, CustomerIDs: ids, ConsumerID: n}
	}
	f1, f2 := k.GetOffers(t.Context(), o("hero")), k.GetOffers(t.Context(), o("flags"))
	k.Flush()
	r1, err := f1.Await(t.Context())
	require.NoError(t, err)
	r2, err := f2.Await(t.Context())
	require.NoError(t, err)
	var wg sync.WaitGroup
	states := make([]target.VisitorState, 16)
	for i := range states {
		wg.Go(func() {
			r := *r1 // a copy shares the state
			states[i] = r.VisitorState()
			_, err := json.Marshal(r1)
			assert.NoError(t, err)
			_, err = json.Marshal(r2)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	before := r1.VisitorState()
	for _, st := range states {
		assert.True(t, sameMaps(before, st), "every read returns the same maps")
	}
	want, err := json.Marshal(before)
	require.NoError(t, err)
	ids[0].ID = "changed"
	_, err = c.GetOffers(t.Context(), o("hero")).Await(t.Context())
	require.NoError(t, err)
	got, err := json.Marshal(r1.VisitorState())
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got), "a kept Response's state stays as it was")
	require.NoError(t, c.Close(context.Background()))

	org := targettest.DefaultOrganizationID
	r1.VisitorState()[org].SDID.CurrentConsumed["payload:z"] = true
	assert.True(t, r1.VisitorState()[org].SDID.CurrentConsumed["payload:z"], "the maps are the Response's")
	assert.False(t, r2.VisitorState()[org].SDID.CurrentConsumed["payload:z"], "coalesced calls have maps of their own")
	assert.Equal(t, r1.VisitorState()[org].SDID.Current, r2.VisitorState()[org].SDID.Current, "and the merged request's id")
}

// sameMaps reports whether a and b are the same map (not equal copies).
func sameMaps(a, b target.VisitorState) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	const k = "\x00sameMaps"
	a[k] = target.VisitorOrgState{}
	_, same := b[k]
	delete(a, k)
	return same
}

// TestFreshIDsConcurrent: ids made under concurrency are unique and
// well-formed.
func TestFreshIDsConcurrent(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: offers})
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sdid := regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
				if !assert.NoError(t, err) {
					return
				}
				rid := res.Request.RequestID
				m := regexp.MustCompile(`session#([^#|]+)#`).FindStringSubmatch(res.TargetCookie.Value)
				if !assert.Len(t, m, 2, res.TargetCookie.Value) {
					return
				}
				sid := m[1]
				sd := res.Request.ExperienceCloud.Analytics.SupplementalDataID
				assert.Regexp(t, uuid, rid)
				assert.Regexp(t, uuid, sid)
				assert.Regexp(t, sdid, sd)
				mu.Lock()
				for _, s := range []string{rid, sid, sd} {
					assert.False(t, seen[s], s)
					seen[s] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 3*200)
}

// TestRetryHeadersNotShared: a retry's request header is not the first
// attempt's array: a wrapping RoundTripper that keeps reading an earlier
// attempt's header while later attempts run and after the call races with
// nothing.
func TestRetryHeadersNotShared(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		kept []http.Header
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	attempts := 0
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Retry = target.RetryPolicy{MaxAttempts: 3, MinBackoff: 1, MaxBackoff: 1}
		cfg.HTTPClient = nil
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				h := r.Header
				mu.Lock()
				kept = append(kept, h)
				mu.Unlock()
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						for k, v := range h {
							_ = k + v[0]
						}
					}
				})
				resp, err := rt.RoundTrip(r)
				mu.Lock()
				attempts++
				n := attempts
				mu.Unlock()
				if err != nil || n >= 3 {
					return resp, err
				}
				// The edge answered; the wrapper says 503 so that the call retries.
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{},
					Body: io.NopCloser(strings.NewReader("")), Request: r, ProtoMajor: 1, ProtoMinor: 1, Proto: "HTTP/1.1"}, nil
			})
		}
	})
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s-1"}).Await(t.Context())
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, 3, res.Timings.Attempts)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, kept, 3)
	for _, h := range kept {
		assert.Equal(t, res.Request.RequestID, h.Get("X-Request-Id"))
		assert.Equal(t, "application/json", h.Get("Content-Type"))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkVisitorStateRead: what a read of VisitorState costs once the
// first read has built it: nothing (0 allocations), as when it was a field.
func BenchmarkVisitorStateRead(b *testing.B) {
	for _, withPage := range []bool{false, true} {
		b.Run(map[bool]string{false: "fresh", true: "page"}[withPage], func(b *testing.B) {
			c, _ := setup(b, targettest.Config{Offers: offers})
			o := target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s-1",
				CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1"}}}
			if withPage {
				o.SupplementalDataIDs = target.NewSupplementalDataIDs()
			}
			res, err := c.GetOffers(b.Context(), o).Await(b.Context())
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				_ = res.VisitorState()
			}
		})
	}
}

// TestOnDeviceFreshVisitorState: an on-device call without a page view
// (its id made in one string with the request and session ids) has a
// VisitorState naming that id, its consumer and the customer ids, and the
// display notification carries it.
func TestOnDeviceFreshVisitorState(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:     heroRequest("gold"),
		CustomerIDs: []target.VisitorCustomerID{{IntegrationCode: "crm", ID: "c-1"}},
		ConsumerID:  "hero",
	}).Peek()
	require.NoError(t, err)
	require.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	sd := sdidOf(*r.Request)
	assert.Regexp(t, `^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`, sd)
	st := r.VisitorState()[targettest.DefaultOrganizationID]
	require.NotNil(t, st.SDID)
	assert.Equal(t, sd, st.SDID.Current)
	assert.Equal(t, map[string]bool{"payload:hero": true}, st.SDID.CurrentConsumed)
	assert.Equal(t, "c-1", st.CustomerIDs["crm"].ID)
	n := s.notification(t)
	require.NoError(t, n.err)
	assert.Equal(t, sd, sdidOf(*n.r.Request))
}
