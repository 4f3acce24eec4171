package delivery_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
)

// referenceDir returns $TARGET_REFERENCE_DIR, skipping the test when it is
// unset and failing it when it is set but dir (relative to it) is missing.
func referenceDir(t *testing.T, dir string) string {
	t.Helper()
	root := os.Getenv("TARGET_REFERENCE_DIR")
	if root == "" {
		t.Skip("TARGET_REFERENCE_DIR is unset; set it to the reference folder to run this test")
	}
	p := filepath.Join(root, dir)
	st, err := os.Stat(p)
	require.NoError(t, err, "TARGET_REFERENCE_DIR is set but %s is missing", p)
	require.True(t, st.IsDir(), "%s is not a directory", p)
	return p
}

// trailingComma matches a comma before a closing brace or bracket, which JSON
// forbids but one of the spec's hand-written examples contains.
var trailingComma = regexp.MustCompile(`,(\s*[}\]])`)

// knownInvalid lists reference files that are not valid JSON as published,
// with the defect; the test repairs them and checks the defect is still there
// so the list never goes stale.
var knownInvalid = map[string]string{
	"responseForPrefetchViewsForWebChannel.json": "trailing comma after the last option field",
}

func TestModelsRoundTripReference(t *testing.T) {
	t.Parallel()
	responses := referenceDir(t, "delivery-responses")
	examples := referenceDir(t, filepath.Join("delivery-api", "delivery", "examples"))

	// Which model each file decodes into; everything else is a Response.
	kinds := map[string]string{
		"invalid_request_error.json":            "error",
		"notificationsForDisplayedContent.json": "request",
	}

	var files []string
	for _, dir := range []string{responses, examples} {
		m, err := filepath.Glob(filepath.Join(dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, m, "no JSON files in %s", dir)
		files = append(files, m...)
	}

	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			if defect, ok := knownInvalid[name]; ok {
				require.False(t, json.Valid(raw), "%s is listed as invalid (%s) but is valid now", name, defect)
				raw = trailingComma.ReplaceAll(raw, []byte("$1"))
			}
			require.True(t, json.Valid(raw), "%s is not valid JSON", name)

			var encoded []byte
			switch kinds[name] {
			case "error":
				encoded = roundTrip[delivery.UnexpectedError](t, raw)
			case "request":
				encoded = roundTrip[delivery.Request](t, raw)
			default:
				encoded = roundTrip[delivery.Response](t, raw)
			}
			assert.JSONEq(t, string(raw), string(encoded))
		})
	}
}

// roundTrip decodes raw into a T, refusing fields T does not model, and
// encodes it again.
func roundTrip[T any](t *testing.T, raw []byte) []byte {
	t.Helper()
	var v T
	if r, ok := any(&v).(*delivery.Request); ok {
		// A Decoder's DisallowUnknownFields does not reach a Request's
		// UnmarshalJSON.
		require.NoError(t, delivery.UnmarshalRequestStrict(raw, r))
	} else {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&v))
	}
	out, err := json.Marshal(&v)
	require.NoError(t, err)
	return out
}

// TestModelsRoundTripFull builds a request and a response with every field set
// and checks that encoding and decoding keep every value, including zero
// values that pointers make explicit.
func TestModelsRoundTripFull(t *testing.T) {
	t.Parallel()
	zero := 0.0
	no := false
	req := delivery.Request{
		RequestID:     "r1",
		ImpressionID:  "i1",
		ID:            &delivery.VisitorID{TntID: "t.35_0", ThirdPartyID: "3p", MarketingCloudVisitorID: "m", CustomerIDs: []delivery.CustomerID{{ID: "c", IntegrationCode: "ic", AuthenticatedState: delivery.AuthenticatedStateLoggedOut}}},
		EnvironmentID: 7,
		Property:      &delivery.Property{Token: "p"},
		Trace:         &delivery.Trace{AuthorizationToken: "a", Usage: map[string]string{"k": "v"}},
		Context: &delivery.Context{
			Channel:             delivery.ChannelMobile,
			MobilePlatform:      &delivery.MobilePlatform{DeviceName: "d", DeviceType: delivery.DeviceTypeTablet, PlatformType: delivery.MobilePlatformIOS, Version: "1"},
			Application:         &delivery.Application{ID: "a", Name: "n", Version: "v"},
			Screen:              &delivery.Screen{Width: 1, Height: 2, ColorDepth: 24, PixelRatio: 2, Orientation: delivery.ScreenOrientationLandscape},
			Window:              &delivery.Window{Width: 3, Height: 4},
			Browser:             &delivery.Browser{Host: "h", Language: "en", WebGLRenderer: "w"},
			Address:             &delivery.Address{URL: "u", ReferringURL: "r"},
			Geo:                 &delivery.Geo{IPAddress: "127.0.0.1", Latitude: &zero, Longitude: &zero, CountryCode: "US", StateCode: "CA", City: "c", Zip: "z"},
			TimeOffsetInMinutes: &zero,
			UserAgent:           "ua",
			ClientHints:         &delivery.ClientHints{Mobile: &no, Model: "m", Platform: "p", PlatformVersion: "pv", BrowserUAWithMajorVersion: "b", BrowserUAWithFullVersion: "bf", Architecture: "x", Bitness: "64"},
			Beacon:              true,
		},
		ExperienceCloud: &delivery.ExperienceCloud{
			AudienceManager: &delivery.AudienceManager{LocationHint: 9, Blob: "b"},
			Analytics:       &delivery.AnalyticsRequest{SupplementalDataID: "s", Logging: delivery.LoggingServerSide, TrackingServer: "t", TrackingServerSecure: "ts"},
		},
		Execute: &delivery.ExecuteRequest{
			PageLoad: &delivery.RequestDetails{Parameters: map[string]string{"a": "b"}, ProfileParameters: map[string]string{"c": "d"}, Order: &delivery.Order{ID: "o", Total: &zero, PurchasedProductIDs: []string{"p"}, Time: "2020-01-01T00:00:00Z", Duplicate: &no, Outlier: &no}, Product: &delivery.Product{ID: "p", CategoryID: "c"}},
			Mboxes:   []delivery.MboxRequest{{Index: 0, Name: "m0"}},
		},
		Prefetch: &delivery.PrefetchRequest{
			Views:    []delivery.ViewRequest{{Name: "v", Key: "k"}},
			PageLoad: &delivery.RequestDetails{},
			Mboxes:   []delivery.MboxRequest{{Index: 1, Name: "m1", RequestDetails: delivery.RequestDetails{Address: &delivery.Address{URL: "x"}}}},
		},
		Telemetry:     &delivery.Telemetry{Entries: []delivery.TelemetryEntry{{RequestID: "r0", Timestamp: 1, Mode: delivery.ExecutionModeEdge, Execution: 1.5, Parsing: 0.5, Features: &delivery.TelemetryFeatures{DecisioningMethod: delivery.ServerSide, ExecuteMboxCount: 1, ExecutePageLoad: true, PrefetchMboxCount: 2, PrefetchPageLoad: true, PrefetchViewCount: 3}, Request: &delivery.TelemetryRequest{DNS: 1, TLS: 2, TimeToFirstByte: 3, Download: 4, ResponseSize: 5}, TelemetryServerToken: "tok"}}},
		Notifications: []delivery.Notification{{ID: "n", ImpressionID: "i", Type: delivery.MetricTypeDisplay, Timestamp: 0, Tokens: []string{"t"}, Mbox: &delivery.NotificationMbox{Name: "m", State: "s"}}, {ID: "n2", Type: delivery.MetricTypeClick, View: &delivery.NotificationView{Name: "v", Key: "k", State: "s"}, PageLoad: &delivery.NotificationPageLoad{State: "s"}}},
		QAMode:        &delivery.QAMode{Token: "q", ListedActivitiesOnly: &no, EvaluateAsTrueAudienceIDs: []int64{1}, EvaluateAsFalseAudienceIDs: []int64{2}, PreviewIndexes: []delivery.QAModePreviewIndex{{ActivityIndex: 1, ExperienceIndex: 2}}},
		Preview:       &delivery.Preview{Token: "p"},
	}
	assertRoundTrip(t, req)

	one := int64(1)
	resp := delivery.Response{
		Status: 200, RequestID: "r", ID: &delivery.VisitorID{TntID: "t"}, Client: "c", EdgeHost: "mboxedge35.tt.omtrdc.net",
		Execute: &delivery.ExecuteResponse{
			PageLoad: &delivery.PageLoadResponse{Options: []delivery.Option{{Type: delivery.OptionTypeHTML, Content: json.RawMessage(`"<p>x</p>"`)}}, Metrics: []delivery.Metric{{Type: delivery.MetricTypeClick, Selector: "#a", EventToken: "e", Analytics: &delivery.AnalyticsResponse{Payload: &delivery.AnalyticsPayload{PE: "tnt", TNTA: "x"}}}}, State: "s", Trace: map[string]any{"k": "v"}},
			Mboxes:   []delivery.MboxResponse{{Index: 0, Name: "m", Options: []delivery.Option{{Type: delivery.OptionTypeJSON, Content: json.RawMessage(`{"a":1}`), ResponseTokens: map[string]any{"activity.id": "1"}}}}},
		},
		Prefetch: &delivery.PrefetchResponse{
			Views:    []delivery.View{{ID: &one, Name: "v", Key: "k", State: "s", Options: []delivery.Option{{Type: delivery.OptionTypeActions, Content: json.RawMessage(`[{"type":"setHtml","selector":"#a","content":"x"}]`), EventToken: "e"}}}},
			PageLoad: &delivery.PageLoadResponse{State: "s"},
			Mboxes:   []delivery.PrefetchMboxResponse{{MboxResponse: delivery.MboxResponse{Index: 1, Name: "m"}, State: "st"}},
			Metrics:  []delivery.Metric{{Type: delivery.MetricTypeDisplay}},
		},
		Notifications:        []delivery.NotificationResponse{{ID: "n", Trace: map[string]any{"a": "b"}}},
		TelemetryServerToken: "tok",
	}
	assertRoundTrip(t, resp)

	var actions []delivery.Action
	require.NoError(t, json.Unmarshal(resp.Prefetch.Views[0].Options[0].Content, &actions))
	assert.Equal(t, []delivery.Action{{Type: "setHtml", Selector: "#a", Content: json.RawMessage(`"x"`)}}, actions)
}

// assertRoundTrip encodes v without HTML escaping, as the client does, so
// raw content such as "<p>" comes back byte for byte.
func assertRoundTrip[T any](t *testing.T, v T) {
	t.Helper()
	b := encode(t, v)
	var back T
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, v, back)
	assert.JSONEq(t, string(b), string(encode(t, back)))
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestViewMetricsEmptyList: a view's metrics list can be empty on the wire,
// as on-device answers write it, and an absent list stays absent.
func TestViewMetricsEmptyList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"absent", `{"name":"home"}`},
		{"empty", `{"name":"home","metrics":[]}`},
		{"one", `{"name":"home","metrics":[{"type":"display","eventToken":"t"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v delivery.View
			require.NoError(t, json.Unmarshal([]byte(tt.in), &v))
			out, err := json.Marshal(v)
			require.NoError(t, err)
			assert.JSONEq(t, tt.in, string(out))
		})
	}
}

func TestClientHintsEmptyPlatformRoundTrips(t *testing.T) {
	t.Parallel()
	var h delivery.ClientHints
	require.NoError(t, json.Unmarshal([]byte(`{"platform":"","model":"m"}`), &h))
	assert.True(t, h.HasPlatform(), "a platform given as \"\" is given")
	b, err := json.Marshal(h)
	require.NoError(t, err)
	assert.JSONEq(t, `{"platform":"","model":"m"}`, string(b))

	var absent delivery.ClientHints
	require.NoError(t, json.Unmarshal([]byte(`{"model":"m"}`), &absent))
	assert.False(t, absent.HasPlatform())
	b, err = json.Marshal(absent)
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"m"}`, string(b))
	assert.True(t, (&delivery.ClientHints{Platform: "iOS"}).HasPlatform())
}

func TestRequestNamesAreCaseSensitive(t *testing.T) {
	t.Parallel()
	var r delivery.Request
	require.NoError(t, json.Unmarshal([]byte(`{"Context":{"channel":"mobile"},"context":{"channel":"web","geo":{"CITY":"X","city":"Y","Latitude":1},`+
		`"userAgent":"ua","UserAgent":"other"},"prefetch":{"mboxes":[{"name":"m","index":1,"Parameters":{"a":"1"},"parameters":{"b":"2"}}],`+
		`"Views":[{"name":"v"}]},"Execute":{"pageLoad":{}}}`), &r))
	require.NotNil(t, r.Context)
	assert.Equal(t, delivery.ChannelType("web"), r.Context.Channel)
	assert.Equal(t, "Y", r.Context.Geo.City)
	assert.Nil(t, r.Context.Geo.Latitude, "\"Latitude\" is not \"latitude\"")
	assert.Equal(t, "ua", r.Context.UserAgent)
	assert.Equal(t, delivery.Parameters{"b": "2"}, r.Prefetch.Mboxes[0].Parameters, "\"Parameters\" is not \"parameters\"")
	assert.Empty(t, r.Prefetch.Views)
	assert.Nil(t, r.Execute)

	// Names in their own case, and parameter names (data) in any case, are
	// read as before.
	var same delivery.Request
	require.NoError(t, json.Unmarshal([]byte(`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"A":"1","a":"2"}}]}}`), &same))
	assert.Equal(t, delivery.Parameters{"A": "1", "a": "2"}, same.Execute.Mboxes[0].Parameters)

	var bad delivery.Request
	err := json.Unmarshal([]byte(`{"context":{"channel":"web","geo":{"latitude":{}}}}`), &bad)
	require.Error(t, err, "type errors are still reported")
	require.Error(t, json.Unmarshal([]byte(`{"context":`), &bad), "syntax errors are still reported")
}

func TestGeoCoordinatesAsStrings(t *testing.T) {
	t.Parallel()
	var g delivery.Geo
	require.NoError(t, json.Unmarshal([]byte(`{"latitude":"37.75","longitude":" -122.4 ","city":"X"}`), &g))
	require.NotNil(t, g.Latitude)
	require.NotNil(t, g.Longitude)
	assert.Equal(t, 37.75, *g.Latitude)
	assert.Equal(t, -122.4, *g.Longitude)
	assert.Equal(t, "X", g.City)
	require.NoError(t, json.Unmarshal([]byte(`{"latitude":1.5,"longitude":null}`), &g))
	assert.Equal(t, 1.5, *g.Latitude)
	assert.Nil(t, g.Longitude)
	// Rules see a coordinate string as given, as in Adobe's engines, and it
	// is written on as given.
	require.NoError(t, json.Unmarshal([]byte(`{"latitude":" 49.28","longitude":"north"}`), &g))
	lat, ok := g.Coordinate("latitude")
	assert.True(t, ok)
	assert.Equal(t, " 49.28", lat)
	assert.Equal(t, 49.28, *g.Latitude)
	lon, ok := g.Coordinate("longitude")
	assert.True(t, ok)
	assert.Equal(t, "north", lon)
	assert.Nil(t, g.Longitude, "not a number")
	assert.True(t, g.Has("longitude"))
	b, err := json.Marshal(g)
	require.NoError(t, err)
	assert.JSONEq(t, `{"latitude":" 49.28","longitude":"north"}`, string(b))
	for _, bad := range []string{`{"latitude":true}`, `{"longitude":{}}`} {
		err := json.Unmarshal([]byte(bad), &g)
		require.Error(t, err, bad)
		assert.Regexp(t, "latitude|longitude", err.Error())
	}
}

// Strict decoding refuses every name the models do not hold, at every
// depth (in Geo and ClientHints too, whose own UnmarshalJSON reads with
// json.Unmarshal), and a name in another case; errors name the field and
// their offsets are the caller's.
func TestUnmarshalRequestStrict(t *testing.T) {
	t.Parallel()
	for body, field := range map[string]string{
		`{"context":{"channel":"web"},"bogus":1}`:                                           "bogus",
		`{"context":{"channel":"web","bogus":1}}`:                                           "context.bogus",
		`{"context":{"channel":"web","geo":{"city":"X","bogus":1}}}`:                        "context.geo.bogus",
		`{"context":{"channel":"web","clientHints":{"bogus":1}}}`:                           "context.clientHints.bogus",
		`{"execute":{"mboxes":[{"name":"m","index":1,"Parameters":{"a":"1"}}]}}`:            "execute.mboxes.0.Parameters",
		`{"Context":{"channel":"web"}}`:                                                     "Context",
		`{"prefetch":{"views":[{"name":"v"},{"name":"w","address":{"url":"u","x":true}}]}}`: "prefetch.views.1.address.x",
	} {
		var r delivery.Request
		err := delivery.UnmarshalRequestStrict([]byte(body), &r)
		require.Error(t, err, body)
		assert.Equal(t, `json: unknown field "`+field+`"`, err.Error(), body)
		// The lenient reading accepts it, as before.
		require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	}

	var r delivery.Request
	require.NoError(t, delivery.UnmarshalRequestStrict([]byte(`{"context":{"channel":"web","geo":{"city":"X"}},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"Parameters":"x"}}]}}`), &r))
	assert.Equal(t, "X", r.Context.Geo.City)
	assert.Equal(t, delivery.Parameters{"Parameters": "x"}, r.Execute.Mboxes[0].Parameters, "parameter names are data")

	body := []byte(`{"context":{"channel":"web","Context":1,"timeOffsetInMinutes":"x"}}`)
	require.Error(t, delivery.UnmarshalRequestStrict(body, &r))
	body = []byte(`{"context":{"channel":"web","timeOffsetInMinutes":"x"}}`)
	err := delivery.UnmarshalRequestStrict(body, &r)
	var typeErr *json.UnmarshalTypeError
	require.ErrorAs(t, err, &typeErr)
	at := int64(bytes.Index(body, []byte(`"x"`)))
	if errorOffsetPastValue {
		at += 3
	}
	assert.Equal(t, at, typeErr.Offset, "the offset is in the caller's text")
	var syntaxErr *json.SyntaxError
	body = []byte(`{"context":{"channel":"web"}} x`)
	require.ErrorAs(t, delivery.UnmarshalRequestStrict(body, &r), &syntaxErr)
	at = int64(bytes.LastIndexByte(body, 'x'))
	if errorOffsetPastValue {
		at++
	}
	assert.Equal(t, at, syntaxErr.Offset)
}

// A request whose geo or client hints hold a value of the wrong JSON type
// is refused with an error naming the field by its whole path and the
// exported type, never the unexported types they are decoded through, in
// both builds of encoding/json (GOEXPERIMENT=jsonv2 does not put the path
// in front of the field of a type error from Geo's or ClientHints' own
// UnmarshalJSON; decodepath_jsonv2.go does).
func TestTypeErrorsNameExportedTypes(t *testing.T) {
	t.Parallel()
	for body, field := range map[string]string{
		`{"context":{"channel":"web","geo":{"city":5}}}`:             "context.geo.city",
		`{"context":{"channel":"web","geo":{"latitude":true}}}`:      "context.geo.latitude",
		`{"context":{"channel":"web","geo":{"latitude":{"a":1}}}}`:   "context.geo.latitude",
		`{"context":{"channel":"web","geo":{"longitude":1e400}}}`:    "context.geo.longitude",
		`{"context":{"channel":"web","clientHints":{"platform":5}}}`: "context.clientHints.platform",
		`{"context":5}`: "Request.context",
	} {
		for _, strict := range []bool{false, true} {
			var r delivery.Request
			var err error
			if strict {
				err = delivery.UnmarshalRequestStrict([]byte(body), &r)
			} else {
				err = json.Unmarshal([]byte(body), &r)
			}
			require.Error(t, err, body)
			assert.Contains(t, err.Error(), field, body)
			assert.NotRegexp(t, `geoJSON|clientHintsJSON|\brequest\b`, err.Error(), body)
			var te *json.UnmarshalTypeError
			if assert.ErrorAs(t, err, &te, body) && strings.HasPrefix(field, "context.") {
				assert.Equal(t, field, te.Field, body)
			}
		}
	}
}

// A request that repeats a name in an object is refused with the place
// named, by UnmarshalJSON and UnmarshalRequestStrict alike: encoding/json
// would merge two "context" objects field by field (and JSON.parse keep
// the last one whole), losing one of the values either way.
func TestRequestDuplicateNames(t *testing.T) {
	for _, tc := range []struct{ body, path, name string }{
		{`{"context":{"channel":"web","userAgent":"a"},"context":{"channel":"mobile"}}`, "", "context"},
		{`{"context":{"channel":"web","channel":"mobile"}}`, "context", "channel"},
		{`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"x":"1","y":"2","x":"3"}}]}}`, "execute.mboxes.0.parameters", "x"},
		{`{"context":{"channel":"web","geo":{"city":"A","City":"B","city":"C"}}}`, "context.geo", "city"},
		// A name written with escapes is the same name.
		{`{"context":{"channel":"web"},"prefetch":{"views":[{},{"name":"v","n\u0061me":"w"}]}}`, "prefetch.views.1", "name"},
	} {
		for _, strict := range []bool{false, true} {
			var r delivery.Request
			var err error
			if strict {
				err = delivery.UnmarshalRequestStrict([]byte(tc.body), &r)
			} else {
				err = json.Unmarshal([]byte(tc.body), &r)
			}
			var dup *delivery.DuplicateNameError
			require.ErrorAs(t, err, &dup, "%s (strict %v)", tc.body, strict)
			require.Equal(t, tc.path, dup.Path, tc.body)
			require.Equal(t, tc.name, dup.Name, tc.body)
			require.Contains(t, err.Error(), strconv.Quote(tc.name))
		}
	}
	// The same names in different objects are no duplicates.
	var r delivery.Request
	require.NoError(t, json.Unmarshal([]byte(`{"context":{"channel":"web","address":{"url":"u"}},"execute":{"pageLoad":{"address":{"url":"u"},"parameters":{"url":"u"}}}}`), &r))
	require.Equal(t, "u", r.Execute.PageLoad.Parameters["url"])
}

// FuzzRequestDecode checks the request decoder on any input: it never
// panics, refuses exactly the inputs whose objects repeat a name (as a
// reader that records every name finds them), and otherwise reads what
// encoding/json reads.
func FuzzRequestDecode(f *testing.F) {
	for _, s := range []string{
		`{"context":{"channel":"web"}}`,
		`{"context":{"channel":"web"},"context":{"channel":"web"}}`,
		`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"a":"1","a":"2"}}]}}`,
		`{"context":{"channel":"web","geo":{"city":"\ud800"}}}`,
		`[1,{"a":1,"a":2}]`, `{"a":`, `null`, `{"a":1}{"a":1,"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r delivery.Request
		err := json.Unmarshal(b, &r)
		var dup *delivery.DuplicateNameError
		hasDup := errors.As(err, &dup)
		if json.Valid(b) && hasDuplicateName(b) != hasDup {
			t.Fatalf("duplicate refused %v, present %v: %q (%v)", hasDup, !hasDup, b, err)
		}
		if !json.Valid(b) && err == nil {
			t.Fatalf("invalid JSON accepted: %q", b)
		}
	})
}

// hasDuplicateName reports whether any object in the valid JSON text b
// repeats a name, by a token walk that records every name.
func hasDuplicateName(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		names  map[string]bool
		object bool
		key    bool // the next token is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				continue
			}
			k := tok.(string)
			if top.names[k] {
				return true
			}
			top.names[k] = true
			top.key = false
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				stack = append(stack, &frame{names: map[string]bool{}, object: true, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// UnmarshalRequestStrict's offsets refer to b, also for a type error made
// by Geo's or ClientHints' own UnmarshalJSON (which sees the geo object
// alone, and for a coordinate its value alone): the offset is the bad
// value's, at its start or just past it as encoding/json puts it in each
// build.
func TestStrictTypeErrorOffsetsReferToB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, value string }{
		{`{"context":{"channel":5}}`, `5`},
		{`{"context":{"channel":"web","geo":{"city":5}}}`, `5`},
		{`{"context":{"channel":"web", "geo" : {"zip":"1", "city":5}}}`, `5`},
		{`{"context":{"channel":"web","geo":{"latitude":true}}}`, `true`},
		{`{"context":{"channel":"web","geo":{"city":"x", "longitude" : {"a":1}}}}`, `{"a":1}`},
		{`{"context":{"channel":"web","clientHints":{"platform":5}}}`, `5`},
		{`{"context":{"channel":"web","clientHints":{"mobile":"yes"}}}`, `"yes"`},
	} {
		var r delivery.Request
		err := delivery.UnmarshalRequestStrict([]byte(tc.body), &r)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, tc.body)
		start := int64(strings.LastIndex(tc.body, tc.value))
		if errorOffsetPastValue {
			// Past the literal, or past the opening of an object.
			assert.Contains(t, []int64{start + int64(len(tc.value)), start + 1}, te.Offset, "%s: %v", tc.body, err)
		} else {
			assert.Equal(t, start, te.Offset, "%s: %v", tc.body, err)
		}
	}
}

// A geo, clientHints or request that is not a JSON object at all is
// refused with a type error naming the exported type (delivery.Geo,
// delivery.ClientHints, delivery.Request), never the unexported stand-ins
// they are decoded through.
func TestTypeErrorsNameExportedTypeOfWrongKind(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]reflect.Type{
		`{"context":{"channel":"web","geo":5}}`:           reflect.TypeFor[delivery.Geo](),
		`{"context":{"channel":"web","geo":[1]}}`:         reflect.TypeFor[delivery.Geo](),
		`{"context":{"channel":"web","clientHints":"x"}}`: reflect.TypeFor[delivery.ClientHints](),
		`[]`: reflect.TypeFor[delivery.Request](),
		`5`:  reflect.TypeFor[delivery.Request](),
	} {
		for _, strict := range []bool{false, true} {
			var r delivery.Request
			var err error
			if strict {
				err = delivery.UnmarshalRequestStrict([]byte(body), &r)
			} else {
				err = json.Unmarshal([]byte(body), &r)
			}
			var te *json.UnmarshalTypeError
			require.ErrorAs(t, err, &te, body)
			assert.Equal(t, want, te.Type, "%s: %v", body, err)
			assert.Contains(t, err.Error(), "of type "+want.String(), body)
			assert.NotRegexp(t, `geoJSON|clientHintsJSON|\brequest\b|struct \{`, err.Error(), body)
		}
	}
}
