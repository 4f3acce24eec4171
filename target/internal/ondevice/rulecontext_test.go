package ondevice

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/target-go/sdk/target/delivery"
)

func TestPageContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url                    string
		domain, subdomain, tld string
		path, query, fragment  string
	}{
		{"https://pied.piper.decentralized.test.hooli.com/?implementation=psl", "hooli.com", "pied.piper.decentralized.test", "com", "/", "implementation=psl", ""},
		{"https://test.wayne-enterprises.us-east-1.elasticbeanstalk.com", "wayne-enterprises.us-east-1.elasticbeanstalk.com", "test", "us-east-1.elasticbeanstalk.com", "", "", ""},
		{"http://www.bbc.co.uk/news?x=1#top", "bbc.co.uk", "", "co.uk", "/news", "x=1", "top"},
		{"http://www.shop.example.com/a", "example.com", "shop", "com", "/a", "", ""},
		{"http://local-target-test:8080/home?bar=true#hello", "local-target-test", "", "", "/home", "bar=true", "hello"},
		{"http://127.0.0.1:8080/", "127.0.0.1", "", "", "/", "", ""},
		{"", "", "", "", "", "", ""},
		// As Adobe's engines read it: no scheme, an empty host, an empty
		// port, and the rest is the path.
		{"::not a url", "", "", "", ":not a url", "", ""},
		{"https://shop.example.com/café/menu?q=straße#a#b", "example.com", "shop", "com", "/café/menu", "q=straße", "a#b"},
		{"example.com/no-scheme?x", "example.com", "", "com", "/no-scheme", "x", ""},
		{"https://user:pw@example.com/a@b", "example.com", "", "com", "/a@b", "", ""},
		{"https://foo.local/", "foo.local", "", "", "/", "", ""},
		{"https://my_host.example.com/", "my_host.example.com", "", "", "/", "", ""},
		{"https://[2001:db8::1]:8443/x", "2001:db8::1", "", "", "/x", "", ""},
		{"https://WWW.EXAMPLE.COM/", "example.com", "", "com", "/", "", ""},
	}
	for _, tt := range tests {
		m := pageContext(tt.url)
		assert.Equal(t, tt.url, m["url"], tt.url)
		assert.Equal(t, tt.domain, m["domain"], tt.url)
		assert.Equal(t, tt.subdomain, m["subdomain"], tt.url)
		assert.Equal(t, tt.tld, m["topLevelDomain"], tt.url)
		assert.Equal(t, tt.path, m["path"], tt.url)
		assert.Equal(t, tt.query, m["query"], tt.url)
		assert.Equal(t, tt.fragment, m["fragment"], tt.url)
	}
	assert.Equal(t, "http://x.com/a?b=c", pageContext("HTTP://X.COM/A?B=C")["url_lc"])
}

// TestUserContext checks what the engine adds to detection (package
// useragent tests that): lower-case browser names, the full-version brand
// list preferred to the major-version one, the memo for hint-less agents.
func TestUserContext(t *testing.T) {
	t.Parallel()
	chrome := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36"
	tests := []struct {
		c                 *delivery.Context
		browser, platform string
		version           float64
	}{
		{nil, "unknown", "unknown", -1},
		{&delivery.Context{UserAgent: chrome}, "chrome", "mac", 80},
		{&delivery.Context{UserAgent: chrome}, "chrome", "mac", 80}, // from the memo
		{&delivery.Context{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1"}, "mobile safari", "iOS", 16},
		{&delivery.Context{UserAgent: "curl/8.0", ClientHints: &delivery.ClientHints{Platform: "Windows", BrowserUAWithMajorVersion: `"Google Chrome";v="118"`}}, "chrome", "windows", 118},
		{&delivery.Context{UserAgent: "curl/8.0", ClientHints: &delivery.ClientHints{BrowserUAWithFullVersion: `"Firefox";v="120.1"`, BrowserUAWithMajorVersion: `"Google Chrome";v="118"`}}, "firefox", "unknown", 120},
	}
	for i, tt := range tests {
		m := userContext(tt.c)
		assert.Equal(t, tt.browser, m["browserType"], i)
		assert.Equal(t, tt.platform, m["platform"], i)
		assert.Equal(t, tt.version, m["browserVersion"], i)
		assert.Equal(t, "en", m["locale"], i)
	}
}

func TestTimingContextIsUTC(t *testing.T) {
	t.Parallel()
	sunday := time.Date(2021, 2, 14, 23, 5, 0, 0, time.FixedZone("PST", -8*3600)) // Monday 07:05 UTC
	m := map[string]any{}
	timingContext(sunday, m)
	assert.Equal(t, float64(1), m["current_day"])
	assert.Equal(t, "0705", m["current_time"])
	assert.Equal(t, float64(sunday.UnixMilli()), m["current_timestamp"])
	m = map[string]any{}
	timingContext(time.Date(2021, 2, 14, 9, 0, 0, 0, time.UTC), m)
	assert.Equal(t, float64(7), m["current_day"], "Sunday is 7")
}

func TestMboxContextNestsDottedNames(t *testing.T) {
	t.Parallel()
	m := mboxContext(map[string]string{"favorite.color": "Blue", "Plain": "MiXed", "n": "3", ".odd": "x", "a..b": "y"})
	assert.Equal(t, map[string]any{"color": "Blue", "color_lc": "blue"}, m["favorite"])
	assert.Equal(t, "mixed", m["Plain_lc"])
	assert.Equal(t, "3", m["n"])
	assert.Equal(t, "x", m[".odd"])
	assert.Equal(t, "y", m["a..b"])
}

// The expected values are the ones Adobe's SDKs assert for their
// computeAllocation, so a visitor lands in the same bucket here as in every
// other Target SDK.
func TestBucketMatchesAdobe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want float64
	}{
		{"someClientId.123456.ecid123.salty", 29.06},
		{"someClientId.123456.tntId123.salty", 21.94},
		{"someClientId.123456.thirtPartyId123.salty", 73.15},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, bucketOf(tt.key), tt.key)
	}
}

// allocationSlot builds its key in a stack buffer when it fits and on the
// heap when it does not; both must hash the same key as the plain
// concatenation, and the boxed table must hold the same values.
func TestAllocationSlotKey(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 150) // 300 bytes: past the stack buffer
	for _, visitor := range []string{"ecid123", "338e3c1e51f7416a8e1ccba4f81acea0", long, ""} {
		key := "client.activity-7." + visitor + ".0"
		want := bucketOf(key)
		assert.Equal(t, want, allocationBucket("client", "activity-7", visitor), visitor)
		assert.Equal(t, want, bucketValues()[allocationSlot("client", "activity-7", visitor)], visitor)
	}
	table := bucketValues()
	runtime.GC()
	for i := range table {
		if table[i] != bucketValue(i) {
			t.Fatalf("bucketValues()[%d] = %v, want %v", i, table[i], bucketValue(i))
		}
		if v := bucketAny(i); v != any(bucketValue(i)) {
			t.Fatalf("bucketAny(%d) = %v, want %v", i, v, bucketValue(i))
		}
	}
}

// TestBucketAnyDoesNotAllocate: conditions read a bucket per activity, in
// an interface that must not cost an allocation. A build with
// -gcflags=-d=checkptr=2 moves every variable whose address becomes an
// unsafe.Pointer to the heap, bucketAny's interface too, so there it does
// allocate, by that mode's design: the test is skipped in that mode only.
func TestBucketAnyDoesNotAllocate(t *testing.T) {
	if strictCheckptr() {
		t.Skip("built with -d=checkptr=2, which puts bucketAny's interface on the heap")
	}
	var v any
	assert.Zero(t, testing.AllocsPerRun(100, func() { v = bucketAny(1234) }), "bucketAny allocates")
	assert.Equal(t, any(bucketValue(1234)), v)
}

// strictCheckptr reports whether the test binary was built with
// -d=checkptr=2 (the build settings record -gcflags as given).
func strictCheckptr() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-gcflags" && strings.Contains(s.Value, "checkptr=2") {
			return true
		}
	}
	return false
}

// notifiedKey.is must agree with comparing Adobe's joined keys
// (name + "-" + token), including where the dash moves between the parts.
func TestNotifiedKeyIsJoinedKey(t *testing.T) {
	t.Parallel()
	parts := []string{"", "a", "a-b", "b", "b-c", "c", "ab", "-"}
	for _, n1 := range parts {
		for _, t1 := range parts {
			for _, n2 := range parts {
				for _, t2 := range parts {
					want := n1+"-"+t1 == n2+"-"+t2
					if got := (notifiedKey{n1, t1}).is(n2, t2); got != want {
						t.Fatalf("notifiedKey{%q, %q}.is(%q, %q) = %v, want %v", n1, t1, n2, t2, got, want)
					}
				}
			}
		}
	}
}

// The geo memo answers what geoContext answers, and geos that differ in
// one field or in whether a field is present get different contexts.
func TestGeoMemo(t *testing.T) {
	t.Parallel()
	lat, lon, zero := 37.75, -122.4, 0.0
	var emptyCity delivery.Geo
	require.NoError(t, json.Unmarshal([]byte(`{"city":""}`), &emptyCity))
	geos := []*delivery.Geo{
		nil, {}, &emptyCity,
		{City: "SAN FRANCISCO"}, {City: "SAN FRANCISCO", CountryCode: "US"},
		{CountryCode: "SAN FRANCISCO"}, {StateCode: "CA", City: "SAN FRANCISCO"},
		{Latitude: &lat}, {Longitude: &lat}, {Latitude: &lat, Longitude: &lon}, {Latitude: &zero},
		{City: strings.Repeat("LONG CITY NAME ", 20)}, // past the key's stack buffer
	}
	// A coordinate read as a string reaches rules as that string: the memo
	// must not answer it with the number's context, or the other way round
	// (it did after the memo and string coordinates met in one merge).
	for _, text := range []string{`{"latitude":"37.75"}`, `{"latitude":37.75}`, `{"longitude":"37.75"}`} {
		var g delivery.Geo
		require.NoError(t, json.Unmarshal([]byte(text), &g))
		geos = append(geos, &g)
	}
	for i, g := range geos {
		want := geoContext(g)
		for range 2 { // computed, then remembered
			assert.Equal(t, want, geoMemo.get(g), "geo %d", i)
		}
	}
}

// paramsContext's fast path answers what mboxContext answers, and names
// that nest, collide or are indexes take mboxContext's path.
func TestParamsContextMatchesMboxContext(t *testing.T) {
	t.Parallel()
	for _, params := range []map[string]string{
		{"foo": "Bar"},
		{"a": "ΣΑΣ", "b": "", "İ": "İSTANBUL"},
		{"x": "A", "x_lc": "B"},
		{"a.b": "C", "a": "D"},
		{"0": "Z", "1": "Y", "k": "X"},
		{"a..b": "E", ".odd": "F", "tail.": "G"},
	} {
		assert.Equal(t, mboxContext(params), paramsContext(params), "%v", params)
	}
}

// The remembered parameter contexts answer each parameter set's own
// context: sets whose names and values join to the same text, sets in
// another order, and sets too many or too long to remember are told apart.
func TestSharedParamsContextKeepsSetsApart(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := range 17 {
		many[strings.Repeat("k", i+1)] = "V"
	}
	sets := []map[string]string{
		{"a": "bc"}, {"ab": "c"}, {"a": "b", "c": ""}, {"a": "b"},
		{"x": "A", "x_lc": "B"}, {"p": "1", "q": "2"}, {"q": "1", "p": "2"},
		{"long": strings.Repeat("L", 600)}, many, {},
	}
	for range 2 { // the second round answers from the memo
		for _, params := range sets {
			assert.Equal(t, mboxContext(params), sharedParamsContext(params), "%v", params)
		}
	}
}

// A remembered parameter set costs no allocation (not parallel:
// AllocsPerRun counts the whole process's).
func TestSharedParamsContextAllocatesNothingWhenRemembered(t *testing.T) {
	params := map[string]string{"foo": "Bar", "n": "1"}
	sharedParamsContext(params)
	assert.Zero(t, testing.AllocsPerRun(100, func() { sharedParamsContext(params) }))
}
