package ondevice

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
)

// The traces' maps are built without a JSON round trip; they must be what
// the round trip gave, field for field and type for type.

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestNotificationTraceIsItsJSON(t *testing.T) {
	for _, n := range []delivery.Notification{
		{},
		{ID: "a", ImpressionID: "b", Type: delivery.MetricTypeDisplay, Timestamp: 1700000000123, Tokens: []string{"t1", "t2"}, Mbox: &delivery.NotificationMbox{Name: "m"}},
		{ID: "a", Type: delivery.MetricTypeDisplay, Timestamp: -1, Mbox: &delivery.NotificationMbox{}},
		{ID: "a", Tokens: []string{}, Mbox: &delivery.NotificationMbox{Name: "m", State: "s"}},
		{ID: "a", View: &delivery.NotificationView{Name: "v", Key: "k"}},
		{ID: "a", PageLoad: &delivery.NotificationPageLoad{State: "s"}},
		{ID: "a", RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{"k": "v"}}},
		{ID: "a", RequestDetails: delivery.RequestDetails{Address: &delivery.Address{URL: "https://x.example/"}}},
	} {
		require.Equal(t, roundTrip(t, n), notificationTrace(n), "%+v", n)
	}
}

func TestTraceProfileIsItsJSON(t *testing.T) {
	for _, id := range []delivery.VisitorID{
		{},
		{TntID: "abc.28_0"},
		{TntID: "abc", ThirdPartyID: "3p", MarketingCloudVisitorID: "mc"},
		{CustomerIDs: []delivery.CustomerID{{ID: "1", IntegrationCode: "c", AuthenticatedState: "authenticated"}, {}}},
	} {
		want := roundTrip(t, id)
		if tnt, location, found := strings.Cut(id.TntID, "."); id.TntID != "" {
			want["tntId"] = tnt
			if found {
				want["profileLocation"] = location
			}
		}
		require.Equal(t, map[string]any{"visitorId": want}, traceProfile(&id), "%+v", id)
	}
}

func TestRequestTraceIsItsJSON(t *testing.T) {
	for _, orig := range []any{
		&delivery.MboxRequest{},
		&delivery.MboxRequest{Index: 3, Name: "m"},
		&delivery.MboxRequest{Index: 1, Name: "m", RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{"foo": "bar"}}},
		&delivery.MboxRequest{Name: "m", RequestDetails: delivery.RequestDetails{Order: &delivery.Order{ID: "o"}}},
		&delivery.ViewRequest{},
		&delivery.ViewRequest{Name: "v", Key: "k"},
		&delivery.ViewRequest{Name: "v", RequestDetails: delivery.RequestDetails{ProfileParameters: delivery.Parameters{"a": "b"}}},
		&delivery.ViewRequest{RequestDetails: delivery.RequestDetails{Product: &delivery.Product{ID: "p"}}},
	} {
		require.Equal(t, roundTrip(t, orig), requestTrace(orig), "%+v", orig)
	}
}

// A tntId with more than one location hint is at its first, as in Adobe's
// engine's traces: "abc.28_0.35_0" has
// profileLocation "28_0".
func TestTraceProfileLocationIsTheFirstHint(t *testing.T) {
	for id, want := range map[string]any{"abc.28_0.35_0": "28_0", "abc.28_0": "28_0", "abc.": "", "abc..x": ""} {
		v := traceProfile(&delivery.VisitorID{TntID: id})["visitorId"].(map[string]any)
		require.Equal(t, "abc", v["tntId"], id)
		require.Equal(t, want, v["profileLocation"], id)
	}
}

// A copy plan copies a condition as cloneJSON does, and the copy shares
// no map or slice with the value: a caller writing into a trace's
// condition must not change the artifact.
func TestCopyPlanIsCloneJSON(t *testing.T) {
	for _, text := range []string{
		`1`, `"a"`, `null`, `{}`, `[]`,
		`{"and":[{"==":[{"var":"mbox.foo"},"bar"]},{"in":["x",{"var":"page.url"}]},true,null,[[],{}]]}`,
		`{"a":1,"b":{"c":[1,{"d":[]}]},"e":"f"}`,
		`[{"var":""},[1,[2,[3]]],{}]`,
	} {
		var v any
		require.NoError(t, json.Unmarshal([]byte(text), &v), text)
		want := cloneJSON(v)
		var slab anySlab
		got := planCopy(v).copy(v, &slab)
		require.Equal(t, want, got, text)
		requireUnshared(t, v, got, text)
		// A slab reserved for the plan's count is used up, no more and
		// no less: traces size their slabs with these counts.
		if p := planCopy(v); p != nil {
			var sized anySlab
			sized.reserve(p.lists, p.elems)
			require.Equal(t, want, p.copy(v, &sized), text)
			require.Empty(t, sized.free, text)
			require.Empty(t, sized.headers, text)
		}
		// A second copy from the same slab shares nothing with the first.
		again := planCopy(v).copy(v, &slab)
		require.Equal(t, want, again, text)
		requireUnshared(t, got, again, text)
	}
}

// TestAnySlabListsAreSeparate: the lists of one slab are cut to their
// length, so their owners' appends never reach a neighbour, and an empty
// list is not nil (JSON [] , not null).
func TestAnySlabListsAreSeparate(t *testing.T) {
	var slab anySlab
	require.NotNil(t, slab.take(0))
	a := slab.take(2)
	b := slab.take(2)
	a[0], a[1], b[0], b[1] = "a0", "a1", "b0", "b1"
	a = append(a, "a2")
	require.Equal(t, []any{"b0", "b1"}, b)
	require.Equal(t, []any{"a0", "a1", "a2"}, a)
	big := slab.take(slabBlock)
	require.Len(t, big, slabBlock)
	require.Equal(t, []any{"b0", "b1"}, b)

	// A boxed list is the list in an interface, as any(list) is, and
	// each box holds its own header.
	var boxed []any
	for i := range slabBlock {
		l := slab.take(1)
		l[0] = float64(i)
		boxed = append(boxed, slab.box(l))
	}
	runtime.GC()
	for i, v := range boxed {
		l, ok := v.([]any)
		require.True(t, ok)
		require.Equal(t, []any{float64(i)}, l)
		require.Equal(t, any([]any{float64(i)}), v)
	}
	b2, err := json.Marshal(map[string]any{"x": slab.box(slab.take(0)), "y": boxed[3]})
	require.NoError(t, err)
	require.JSONEq(t, `{"x":[],"y":[3]}`, string(b2))
}

// requireUnshared fails when a and b, equal JSON-like values, share a map
// or a slice's array.
func requireUnshared(t *testing.T, a, b any, text string) {
	t.Helper()
	switch x := a.(type) {
	case map[string]any:
		y := b.(map[string]any)
		y["\x00probe"] = true
		_, shared := x["\x00probe"]
		delete(y, "\x00probe")
		require.False(t, shared, "a map is shared: %s", text)
		for k, e := range x {
			requireUnshared(t, e, y[k], text)
		}
	case []any:
		y := b.([]any)
		if len(x) > 0 {
			require.NotSame(t, &x[0], &y[0], "a slice is shared: %s", text)
		}
		for i := range x {
			requireUnshared(t, x[i], y[i], text)
		}
	}
}

// TestRequestTraceIsJSON: a request's trace, built directly when it has
// only parameters, is what a JSON round trip of the request gives,
// invalid UTF-8 included (the round trip replaces it).
func TestRequestTraceIsJSON(t *testing.T) {
	params := delivery.Parameters{"foo": "bar", "n": "1", "bad\xff": "v", "e": ""}
	for _, orig := range []any{
		&delivery.MboxRequest{Index: 1, Name: "m"},
		&delivery.MboxRequest{Index: 2, Name: "m", RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{"foo": "bar"}}},
		&delivery.MboxRequest{Index: 3, RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{"a": "b"}, ProfileParameters: delivery.Parameters{"p": "<&>"}}},
		&delivery.MboxRequest{Index: 4, RequestDetails: delivery.RequestDetails{Parameters: params}},
		&delivery.MboxRequest{Index: 5, RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{"k": "v\xfe"}}},
		&delivery.ViewRequest{Name: "v", Key: "k", RequestDetails: delivery.RequestDetails{ProfileParameters: delivery.Parameters{"x": "y"}}},
		&delivery.ViewRequest{RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{}}},
	} {
		b, err := json.Marshal(orig)
		require.NoError(t, err)
		want := map[string]any{}
		require.NoError(t, json.Unmarshal(b, &want))
		require.Equal(t, want, requestTrace(orig), "%s", b)
	}
}
