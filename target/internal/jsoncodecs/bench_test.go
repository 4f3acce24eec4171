package jsoncodecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	gojson "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// codec is one JSON library's Marshal and Unmarshal.
type codec struct {
	name      string
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
}

var codecs = []codec{
	{"encoding-json", json.Marshal, json.Unmarshal},
	{"goccy-go-json", gojson.Marshal, gojson.Unmarshal},
	{"sonic-std", sonic.ConfigStd.Marshal, sonic.ConfigStd.Unmarshal},
	{"segmentio", segjson.Marshal, segjson.Unmarshal},
}

// request is a Delivery request as a server-side page sends it: a
// returning visitor with cookies' ids, page context, a page load, three
// mboxes with parameters, two prefetched views and the telemetry of an
// earlier call.
func request() *target.DeliveryRequest {
	offset := 60.0
	mboxes := make([]target.MboxRequest, 3)
	for i := range mboxes {
		mboxes[i] = target.MboxRequest{Index: i, Name: fmt.Sprintf("hero-banner-%d", i),
			RequestDetails: target.RequestDetails{Parameters: map[string]string{"category": "shoes", "size": "42", "position": fmt.Sprint(i)}}}
	}
	return &target.DeliveryRequest{
		RequestID: "6b0c0c8e-5d2f-4c55-9d1a-3f6f0e6c9b21",
		ID:        &target.VisitorID{TntID: "338e3c1e51f7416a8e1ccba4f81acea0.35_0", MarketingCloudVisitorID: "07327024324407615852294135870030620007"},
		Property:  &target.Property{Token: "08b62abd-c3e7-dfb2-da93-96b3aa724d81"},
		Context: &target.Context{
			Channel:             target.ChannelWeb,
			Address:             &target.Address{URL: "https://shop.example.com/products/shoes?color=red&utm_source=news", ReferringURL: "https://www.example.com/"},
			UserAgent:           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Screen:              &target.Screen{Width: 1920, Height: 1080, ColorDepth: 24, PixelRatio: 2},
			Window:              &target.Window{Width: 1440, Height: 900},
			Browser:             &target.Browser{Host: "shop.example.com", Language: "en-US"},
			TimeOffsetInMinutes: &offset,
		},
		Execute:  &target.ExecuteRequest{PageLoad: &target.RequestDetails{Parameters: map[string]string{"pageType": "product"}}, Mboxes: mboxes},
		Prefetch: &target.PrefetchRequest{Views: []target.ViewRequest{{Name: "home"}, {Name: "checkout"}}},
		Telemetry: &target.Telemetry{Entries: []target.TelemetryEntry{{
			RequestID: "0e9b8a6f-7a51-4c39-8d4a-0a8f2b5c1d33", Timestamp: 1733112000000, Execution: 1.25,
			Features: &target.TelemetryFeatures{DecisioningMethod: target.ServerSide, ExecuteMboxCount: 3, ExecutePageLoad: true},
			Request:  &target.TelemetryRequest{TimeToFirstByte: 21.5, Download: 0.4, ResponseSize: 2048},
		}}},
	}
}

// edgeResponse is the local edge's answer to request, with an offer for
// every mbox and view: the response shape the SDK decodes most.
func edgeResponse(tb testing.TB) []byte {
	tb.Helper()
	offers := targettest.Offers{Mboxes: map[string]targettest.Offer{}, Views: map[string]targettest.Offer{}}
	for i := range 3 {
		offers.Mboxes[fmt.Sprintf("hero-banner-%d", i)] = targettest.Offer{
			Options: []target.Option{{Type: target.OptionTypeJSON, Content: []byte(`{"headline":"Summer sale","cta":"Shop now","color":"#ff6600","experience":"B"}`)}},
			Metrics: []target.Metric{{Type: target.MetricTypeClick, Selector: "#cta"}},
		}
	}
	for _, v := range []string{"home", "checkout"} {
		offers.Views[v] = targettest.Offer{Options: []target.Option{{Type: target.OptionTypeHTML, Content: []byte(`"<div class=\"banner\">Free shipping over $50</div>"`)}}}
	}
	srv := targettest.NewServer(targettest.Config{Offers: offers, RecordLimit: -1})
	defer srv.Close()
	body, err := json.Marshal(request())
	if err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, targettest.DeliveryPath+"?imsOrgId="+targettest.DefaultOrganizationID+"&sessionId=s1", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		tb.Fatalf("edge answered %d: %s", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// shape is one document to decode into a fresh value of its type.
type shape struct {
	name string
	data []byte
	new  func() any
}

// shapes are the response and artifact documents: the edge's answer, the
// canned Delivery responses of the reference data, and the conformance
// suite's artifacts, when their environment variables name them.
func shapes(tb testing.TB) []shape {
	out := []shape{{"response-edge", edgeResponse(tb), func() any { return new(target.DeliveryResponse) }}}
	if dir := os.Getenv("TARGET_REFERENCE_DIR"); dir != "" {
		out = append(out, readShapes(tb, filepath.Join(dir, "delivery-responses", "*.json"), "response-", func() any { return new(target.DeliveryResponse) })...)
	}
	if dir := os.Getenv("TARGET_SDK_TESTING_DIR"); dir != "" {
		out = append(out, readShapes(tb, filepath.Join(dir, "schema", "artifacts", "*.json"), "artifact-", newArtifact)...)
	}
	return out
}

func readShapes(tb testing.TB, pattern, prefix string, newValue func() any) []shape {
	tb.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil || len(names) == 0 {
		tb.Fatalf("%s: no files (%v)", pattern, err)
	}
	var out []shape
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		if json.Unmarshal(data, newValue()) != nil {
			continue // an error document (invalid_request_error.json) is not this shape
		}
		out = append(out, shape{prefix + strings.TrimSuffix(filepath.Base(n), ".json"), data, newValue})
	}
	return out
}

// TestCodecsAgree checks that each codec decodes every shape to the value
// encoding/json decodes, and encodes the request to bytes that
// encoding/json decodes to the same request: a codec that is fast but
// wrong is out.
func TestCodecsAgree(t *testing.T) {
	want := request()
	for _, c := range codecs {
		b, err := c.marshal(want)
		if err != nil {
			t.Fatalf("%s: marshal: %v", c.name, err)
		}
		got := new(target.DeliveryRequest)
		if err := json.Unmarshal(b, got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the request does not round-trip (%v)", c.name, err)
		}
	}
	for _, s := range shapes(t) {
		ref := s.new()
		if err := json.Unmarshal(s.data, ref); err != nil {
			t.Fatal(err)
		}
		for _, c := range codecs[1:] {
			got := s.new()
			if err := c.unmarshal(s.data, got); err != nil {
				t.Errorf("%s %s: %v", c.name, s.name, err)
			} else if !reflect.DeepEqual(got, ref) {
				t.Errorf("%s %s: decoded differently from encoding/json", c.name, s.name)
			}
		}
	}
}

// BenchmarkEncodeRequest encodes the request of a page.
func BenchmarkEncodeRequest(b *testing.B) {
	req := request()
	for _, c := range codecs {
		b.Run("codec="+c.name, func(b *testing.B) {
			// sonic compiles a codec per type on first use (over 100 ms
			// here): that is a start-up cost, not a per-call one.
			if _, err := c.marshal(req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.marshal(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode decodes each shape (MB/s is over the document's size).
func BenchmarkDecode(b *testing.B) {
	for _, s := range shapes(b) {
		for _, c := range codecs {
			b.Run("shape="+s.name+"/codec="+c.name, func(b *testing.B) {
				if err := c.unmarshal(s.data, s.new()); err != nil {
					b.Fatal(err) // the warm-up, as in BenchmarkEncodeRequest
				}
				b.SetBytes(int64(len(s.data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.unmarshal(s.data, s.new()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
