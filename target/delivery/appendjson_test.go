package delivery_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
)

// oddStrings are the strings where a JSON encoder can differ from
// encoding/json: escapes, control characters, HTML characters (not
// escaped here), invalid UTF-8, U+2028 and U+2029, multi-byte runes.
var oddStrings = []string{
	"", "a", `"`, `\`, "<script>&amp;</script>", "\x00", "\x1f", "\b\f\n\r\t", "\x7f",
	"\xff", "a\xc3", "\xed\xa0\x80", "\u2028", "x\u2029y", "é日本🎉", "\ufffd", "mbox-1",
	"https://www.example.com/?a=1&b=<2>", strings.Repeat("z", 40),
}

var oddFloats = []float64{0, 1, -1, 0.5, 1e-7, 1e-6, 123456789, 1e20, 1e21, 1.5e300, -2.25e-9, math.SmallestNonzeroFloat64, math.MaxFloat64, 48.8566}

// randomRequest makes a request, every field set or not at random
// (decisions asked, notifications, QA mode, preview), strings and floats
// from the odd ones or random.
func randomRequest(r *rand.Rand) *delivery.Request {
	s := func() string {
		if r.IntN(4) == 0 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return string(b)
		}
		return oddStrings[r.IntN(len(oddStrings))]
	}
	maybe := func() bool { return r.IntN(2) == 0 }
	f := func() float64 {
		if maybe() {
			return oddFloats[r.IntN(len(oddFloats))]
		}
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-20))
	}
	fp := func() *float64 {
		if maybe() {
			return nil
		}
		v := f()
		return &v
	}
	bp := func() *bool {
		if maybe() {
			return nil
		}
		v := maybe()
		return &v
	}
	i64 := func() int64 {
		if maybe() {
			return 0
		}
		return r.Int64() - r.Int64()
	}
	params := func() delivery.Parameters {
		if maybe() {
			return nil
		}
		p := delivery.Parameters{}
		for range r.IntN(4) {
			p[s()] = s()
		}
		return p
	}
	strs := func() []string {
		if maybe() {
			return nil
		}
		out := make([]string, r.IntN(3))
		for i := range out {
			out[i] = s()
		}
		return out
	}
	req := &delivery.Request{RequestID: s(), ImpressionID: s(), EnvironmentID: i64()}
	if maybe() {
		req.ID = &delivery.VisitorID{TntID: s(), ThirdPartyID: s(), MarketingCloudVisitorID: s()}
		for range r.IntN(3) {
			req.ID.CustomerIDs = append(req.ID.CustomerIDs, delivery.CustomerID{ID: s(), IntegrationCode: s(), AuthenticatedState: delivery.AuthenticatedState(s())})
		}
	}
	if maybe() {
		req.Property = &delivery.Property{Token: s()}
	}
	if maybe() {
		req.Trace = &delivery.Trace{AuthorizationToken: s(), Usage: params()}
	}
	if maybe() {
		c := &delivery.Context{Channel: delivery.ChannelType(s()), UserAgent: s(), Beacon: maybe(), TimeOffsetInMinutes: fp()}
		if maybe() {
			c.MobilePlatform = &delivery.MobilePlatform{DeviceName: s(), DeviceType: delivery.DeviceType(s()), PlatformType: delivery.MobilePlatformType(s()), Version: s()}
		}
		if maybe() {
			c.Application = &delivery.Application{ID: s(), Name: s(), Version: s()}
		}
		if maybe() {
			c.Screen = &delivery.Screen{Width: f(), Height: f(), ColorDepth: f(), PixelRatio: f(), Orientation: delivery.ScreenOrientationType(s())}
		}
		if maybe() {
			c.Window = &delivery.Window{Width: f(), Height: f()}
		}
		if maybe() {
			c.Browser = &delivery.Browser{Host: s(), Language: s(), WebGLRenderer: s()}
		}
		if maybe() {
			c.Address = &delivery.Address{URL: s(), ReferringURL: s()}
		}
		if maybe() {
			c.Geo = &delivery.Geo{IPAddress: s(), Latitude: fp(), Longitude: fp(), CountryCode: s(), StateCode: s(), City: s(), Zip: s()}
		}
		if maybe() {
			c.ClientHints = &delivery.ClientHints{Mobile: bp(), Model: s(), Platform: s(), PlatformVersion: s(), BrowserUAWithMajorVersion: s(), BrowserUAWithFullVersion: s(), Architecture: s(), Bitness: s()}
		}
		req.Context = c
	}
	if maybe() {
		req.ExperienceCloud = &delivery.ExperienceCloud{}
		if maybe() {
			req.ExperienceCloud.AudienceManager = &delivery.AudienceManager{LocationHint: int(i64() % 1000), Blob: s()}
		}
		if maybe() {
			req.ExperienceCloud.Analytics = &delivery.AnalyticsRequest{SupplementalDataID: s(), Logging: delivery.LoggingType(s()), TrackingServer: s(), TrackingServerSecure: s()}
		}
	}
	if maybe() {
		req.Telemetry = &delivery.Telemetry{}
		for range r.IntN(3) {
			te := delivery.TelemetryEntry{RequestID: s(), Timestamp: i64(), Mode: delivery.ExecutionMode(s()), Execution: f(), Parsing: f(), TelemetryServerToken: s()}
			if maybe() {
				te.Features = &delivery.TelemetryFeatures{DecisioningMethod: delivery.DecisioningMethod(s()), ExecuteMboxCount: r.IntN(3), ExecutePageLoad: maybe(),
					PrefetchMboxCount: r.IntN(3), PrefetchPageLoad: maybe(), PrefetchViewCount: r.IntN(3)}
			}
			if maybe() {
				te.Request = &delivery.TelemetryRequest{DNS: f(), TLS: f(), TimeToFirstByte: f(), Download: f(), ResponseSize: i64()}
			}
			req.Telemetry.Entries = append(req.Telemetry.Entries, te)
		}
	}
	details := func() delivery.RequestDetails {
		d := delivery.RequestDetails{Parameters: params(), ProfileParameters: params()}
		if maybe() {
			d.Address = &delivery.Address{URL: s(), ReferringURL: s()}
		}
		if maybe() {
			d.Product = &delivery.Product{ID: s(), CategoryID: s()}
		}
		if maybe() {
			d.Order = &delivery.Order{ID: s(), Total: fp(), PurchasedProductIDs: strs()}
		}
		return d
	}
	mboxes := func() []delivery.MboxRequest {
		var ms []delivery.MboxRequest
		for i := range r.IntN(4) {
			ms = append(ms, delivery.MboxRequest{RequestDetails: details(), Index: i - 1, Name: s()})
		}
		return ms
	}
	if maybe() {
		req.Execute = &delivery.ExecuteRequest{Mboxes: mboxes()}
		if maybe() {
			pl := details()
			req.Execute.PageLoad = &pl
		}
	}
	if maybe() {
		req.Prefetch = &delivery.PrefetchRequest{Mboxes: mboxes()}
		if maybe() {
			pl := details()
			req.Prefetch.PageLoad = &pl
		}
		for range r.IntN(3) {
			req.Prefetch.Views = append(req.Prefetch.Views, delivery.ViewRequest{RequestDetails: details(), Name: s(), Key: s()})
		}
	}
	if r.IntN(8) == 0 {
		req.QAMode = &delivery.QAMode{Token: s(), ListedActivitiesOnly: bp(), EvaluateAsTrueAudienceIDs: []int64{i64(), i64()},
			PreviewIndexes: []delivery.QAModePreviewIndex{{ActivityIndex: int(i64() % 5), ExperienceIndex: 1}}}
	}
	if r.IntN(8) == 0 {
		req.Preview = &delivery.Preview{Token: s()}
	}
	for range r.IntN(4) {
		n := delivery.Notification{ID: s(), ImpressionID: s(), Type: delivery.MetricType(s()), Timestamp: i64(), Tokens: strs()}
		n.Parameters, n.ProfileParameters = params(), params()
		if maybe() {
			n.Address = &delivery.Address{URL: s()}
		}
		if maybe() {
			var eli *int32
			if maybe() {
				v := r.Int32() - r.Int32()
				eli = &v
			}
			n.Order = &delivery.Order{ID: s(), Total: fp(), PurchasedProductIDs: strs(), Time: s(), ExperienceLocalID: eli, Duplicate: bp(), Outlier: bp()}
		}
		if maybe() {
			n.Product = &delivery.Product{ID: s(), CategoryID: s()}
		}
		switch r.IntN(4) {
		case 0:
			n.Mbox = &delivery.NotificationMbox{Name: s(), State: s()}
		case 1:
			n.View = &delivery.NotificationView{Name: s(), Key: s(), State: s()}
		case 2:
			n.PageLoad = &delivery.NotificationPageLoad{State: s()}
		}
		req.Notifications = append(req.Notifications, n)
	}
	if r.IntN(50) == 0 {
		req.Notifications = []delivery.Notification{} // empty, not nil: omitted
	}
	return req
}

// requireSameAsMarshal checks that AppendRequest writes Marshal's bytes
// (after a prefix it must keep) or fails with Marshal's error.
func requireSameAsMarshal(t testing.TB, req *delivery.Request) {
	want, wantErr := delivery.Marshal(req)
	prefix := []byte("prefix")
	got, err := delivery.AppendRequest(prefix, req)
	if wantErr != nil {
		require.Error(t, err)
		require.Equal(t, wantErr.Error(), err.Error())
		require.Equal(t, "prefix", string(got))
		return
	}
	require.NoError(t, err)
	require.Equal(t, "prefix"+string(want), string(got))
}

// TestAppendRequestIsMarshal compares AppendRequest with Marshal on random
// requests, odd strings and floats included.
func TestAppendRequestIsMarshal(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		requireSameAsMarshal(t, randomRequest(r))
	}
}

// TestAppendRequestFallback covers what AppendRequest leaves to Marshal:
// Geo and ClientHints read with "" fields or string coordinates, and NaN
// and infinities, which are Marshal's error. The first requests, read from
// JSON, ask for decisions, QA mode and preview, which AppendRequest writes
// itself: they check that what reading fills in is written as Marshal
// writes it.
func TestAppendRequestFallback(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a","index":1}]}}`,
		`{"context":{"channel":"web"},"prefetch":{"views":[{}]}}`,
		`{"context":{"channel":"web"},"qaMode":{"token":"t"}}`,
		`{"context":{"channel":"web"},"preview":{"token":"t"}}`,
		`{"context":{"channel":"web","geo":{"city":"","latitude":"48.86","longitude":2.35}}}`,
		`{"context":{"channel":"web","geo":{"zip":""}}}`,
		`{"context":{"channel":"web","geo":{"latitude":1,"longitude":"x"}}}`,
		`{"context":{"channel":"web","clientHints":{"platform":""}}}`,
		`{"context":{"channel":"web","clientHints":{"platform":"","model":"m"}},"notifications":[{"id":"1","type":"display","timestamp":1}]}`,
	} {
		var req delivery.Request
		require.NoError(t, json.Unmarshal([]byte(body), &req), body)
		requireSameAsMarshal(t, &req)
	}
	nan, inf := math.NaN(), math.Inf(-1)
	for _, req := range []*delivery.Request{
		{Context: &delivery.Context{Channel: "web", Screen: &delivery.Screen{Width: nan}}},
		{Context: &delivery.Context{Channel: "web", Geo: &delivery.Geo{Latitude: &inf}}},
		{Context: &delivery.Context{Channel: "web", TimeOffsetInMinutes: &nan}},
		{Telemetry: &delivery.Telemetry{Entries: []delivery.TelemetryEntry{{Execution: inf}}}},
		{Notifications: []delivery.Notification{{RequestDetails: delivery.RequestDetails{Order: &delivery.Order{Total: &nan}}}}},
	} {
		requireSameAsMarshal(t, req)
	}
}

// FuzzAppendRequest puts the fuzzer's string and float in the string and
// float fields of a random request: its ids, context and geo, a
// notification, the decisions asked for (an execute and a prefetch mbox,
// page loads and a view, with their parameters, profile parameters,
// address, order and product), QA mode and preview.
func FuzzAppendRequest(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(uint64(i), s, oddFloats[i%len(oddFloats)])
	}
	f.Fuzz(func(t *testing.T, seed uint64, s string, x float64) {
		req := randomRequest(rand.New(rand.NewPCG(seed, 0)))
		requireSameAsMarshal(t, req)
		req.RequestID, req.ImpressionID = s, s
		if req.Context == nil {
			req.Context = &delivery.Context{}
		}
		req.Context.Channel, req.Context.UserAgent = delivery.ChannelType(s), s
		req.Context.TimeOffsetInMinutes = &x
		req.Context.Geo = &delivery.Geo{City: s, Latitude: &x}
		details := func() delivery.RequestDetails {
			return delivery.RequestDetails{
				Address:           &delivery.Address{URL: s, ReferringURL: s},
				Parameters:        delivery.Parameters{s: s, "k": s},
				ProfileParameters: delivery.Parameters{s: s},
				Order:             &delivery.Order{ID: s, Total: &x, PurchasedProductIDs: []string{s, s}},
				Product:           &delivery.Product{ID: s, CategoryID: s},
			}
		}
		req.Notifications = append(req.Notifications, delivery.Notification{
			ID: s, Type: delivery.MetricType(s), Tokens: []string{s},
			RequestDetails: delivery.RequestDetails{Parameters: delivery.Parameters{s: s}},
			Mbox:           &delivery.NotificationMbox{Name: s},
		})
		if req.Execute == nil {
			req.Execute = &delivery.ExecuteRequest{}
		}
		pl := details()
		req.Execute.PageLoad = &pl
		req.Execute.Mboxes = append(req.Execute.Mboxes, delivery.MboxRequest{RequestDetails: details(), Index: len(req.Execute.Mboxes), Name: s})
		if req.Prefetch == nil {
			req.Prefetch = &delivery.PrefetchRequest{}
		}
		ppl := details()
		req.Prefetch.PageLoad = &ppl
		req.Prefetch.Mboxes = append(req.Prefetch.Mboxes, delivery.MboxRequest{RequestDetails: details(), Index: len(req.Prefetch.Mboxes), Name: s})
		req.Prefetch.Views = append(req.Prefetch.Views, delivery.ViewRequest{RequestDetails: details(), Name: s, Key: s})
		req.QAMode = &delivery.QAMode{Token: s, EvaluateAsTrueAudienceIDs: []int64{1}, PreviewIndexes: []delivery.QAModePreviewIndex{{ActivityIndex: 1}}}
		req.Preview = &delivery.Preview{Token: s}
		requireSameAsMarshal(t, req)
	})
}

// BenchmarkAppendRequest compares AppendRequest with Marshal on a display
// notification request as an on-device decision sends it and on a
// GetOffers request as the client sends it to the edge.
func BenchmarkAppendRequest(b *testing.B) {
	for _, shape := range []struct {
		name string
		req  *delivery.Request
	}{{"notifications", notificationRequest()}, {"offers", offersRequest()}} {
		b.Run("shape="+shape.name+"/way=Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := delivery.Marshal(shape.req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("shape="+shape.name+"/way=AppendRequest", func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = delivery.AppendRequest(buf[:0], shape.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// offersRequest is a GetOffers request for one mbox as the client sends
// it: its ids, the context, the Analytics logging and the telemetry of the
// call before.
func offersRequest() *delivery.Request {
	const body = `{"requestId":"b1d0f1e4-7c1f-4d0e-9a1c-2f0b8c6e1a11","context":{"channel":"web"},
	"experienceCloud":{"analytics":{"supplementalDataId":"1A2B3C4D5E6F7A8B-0123456789ABCDEF","logging":"server_side"}},
	"execute":{"mboxes":[{"index":0,"name":"bench-mbox-1"}]},
	"telemetry":{"entries":[{"requestId":"a8e7c1d2-0000-4c1f-9a1c-2f0b8c6e1a12","timestamp":1733140000123,"mode":"edge","execution":0.412,
	"features":{"decisioningMethod":"server-side","executeMboxCount":1},"request":{"timeToFirstByte":0.31,"download":0.02,"responseSize":612}}]}}`
	var req delivery.Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		panic(err)
	}
	return &req
}

// notificationRequest is the shape of an on-device decision's display
// notifications: the visitor, the context, telemetry and two mbox
// notifications with their tokens.
func notificationRequest() *delivery.Request {
	const body = `{"requestId":"b1d0f1e4-7c1f-4d0e-9a1c-2f0b8c6e1a11","id":{"tntId":"0c45bd3b4b3f4d1e9a3e2b6f1c7d8e9f.35_0","marketingCloudVisitorId":"07327024324407615753137395757522138211"},
	"context":{"channel":"web","address":{"url":"https://www.example.com/products?x=1&y=2"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"geo":{"city":"SAN FRANCISCO","countryCode":"US","stateCode":"CA","latitude":37.75,"longitude":-122.4},"browser":{"host":"www.example.com"},"timeOffsetInMinutes":-480},
	"experienceCloud":{"analytics":{"supplementalDataId":"1A2B3C4D5E6F7A8B-0123456789ABCDEF","logging":"server_side"}},
	"telemetry":{"entries":[{"requestId":"a8e7c1d2-0000-4c1f-9a1c-2f0b8c6e1a12","timestamp":1733140000123,"mode":"local","execution":0.0412,"features":{"decisioningMethod":"on-device","executeMboxCount":2}}]},
	"notifications":[{"id":"e1","impressionId":"i1","type":"display","timestamp":1733140000456,"tokens":["yn2d7xL1vIu1T+7a0ue4MWqipfsIHvVzTQxHolz2IpSCnQ9Y9OaLL2gsdrWQTvE54PwSz67rmXWmSnkXpSSS2Q=="],"mbox":{"name":"mbox-browsers"},"parameters":{"foo":"bar"}},
	{"id":"e2","impressionId":"i1","type":"display","timestamp":1733140000456,"tokens":["abc","def"],"mbox":{"name":"mbox-params"}}]}`
	var req delivery.Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		panic(err)
	}
	return &req
}

// TestAppendRequestEveryByteEveryPlace puts every byte value, and the
// runes encoding/json escapes or replaces, at every place of strings
// longer than the 8-byte blocks appendString skips plain bytes in, next to
// plain bytes on both sides.
func TestAppendRequestEveryByteEveryPlace(t *testing.T) {
	t.Parallel()
	specials := []string{"\u2028", "\u2029", "é", "\xed\xa0\x80"}
	for c := range 256 {
		specials = append(specials, string([]byte{byte(c)}))
	}
	for _, sp := range specials {
		for at := range 25 {
			s := strings.Repeat("a", at) + sp + strings.Repeat("b", 24-at)
			requireSameAsMarshal(t, &delivery.Request{RequestID: s})
		}
	}
}
