package target_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// BenchmarkGetOffers measures what the client adds to a Delivery call:
// "raw" posts the same body with net/http and decodes the answer into a
// DeliveryResponse, the least any client must do; "client" is GetOffers +
// Await (request preparation, cookies, host selection, tracing, the
// future, the result envelope). Both use one keep-alive connection to a
// local edge with no latency, so the difference is the client's overhead.
func BenchmarkGetOffers(b *testing.B) {
	notelemetry := false
	c, srv := setup(b, targettest.Config{Offers: offers, NoCluster: true, RecordLimit: -1}, func(cfg *target.Config) {
		cfg.TelemetryEnabled = &notelemetry // keep request sizes equal across iterations
	})
	req := offersRequest("hero", "flags")
	req.Execute.Mboxes[1].Index = 1

	b.Run("raw", func(b *testing.B) {
		body, err := json.Marshal(target.DeliveryRequest{Context: &target.Context{Channel: target.ChannelWeb}, Execute: req.Execute})
		if err != nil {
			b.Fatal(err)
		}
		q := url.Values{"imsOrgId": {targettest.DefaultOrganizationID}, "sessionId": {"s1"}}
		u := srv.URL + targettest.DeliveryPath + "?" + q.Encode()
		hc := srv.HTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			r, err := http.NewRequestWithContext(b.Context(), http.MethodPost, u, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(resp.StatusCode, err)
			}
			var out target.DeliveryResponse
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetOffers(b.Context(), target.GetOffersOptions{Request: req, SessionID: "s1"}).Await(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParallelConnections makes bursts of 100 parallel calls with the
// client's own transport and reports the connections the edge accepted per
// burst: with keep-alive sized for fan-out it stays at or under 100 however
// many bursts run, instead of growing by one per call.
func BenchmarkParallelConnections(b *testing.B) {
	const parallel = 100
	c, srv := setup(b, targettest.Config{NoCluster: true, RecordLimit: -1}, func(cfg *target.Config) {
		cfg.HTTPClient = nil
	})
	req := offersRequest("hero")
	bursts := 0
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				if _, err := c.GetOffers(b.Context(), target.GetOffersOptions{Request: req}).Await(b.Context()); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		bursts++
	}
	b.ReportMetric(float64(srv.Stats().Connections), "conns-total")
	b.ReportMetric(float64(srv.Stats().Connections)/float64(bursts*parallel), "conns/call")
}
