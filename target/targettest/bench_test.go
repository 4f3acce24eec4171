package targettest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/targettest"
)

const benchBody = `{"context":{"channel":"web"},"id":{"tntId":"abc.35_0"},` +
	`"execute":{"mboxes":[{"name":"hero","index":1},{"name":"flags","index":2}]},` +
	`"prefetch":{"mboxes":[{"name":"hero","index":1}],"views":[{}]}}`

// BenchmarkEdge measures what the local edge adds to a call, so that client
// benchmarks against it can tell the edge's cost from their own: the
// handler alone, a full round trip over loopback, and as the baseline a
// round trip to a handler that only drains the body.
func BenchmarkEdge(b *testing.B) {
	srv := targettest.NewServer(targettest.Config{Offers: offers, RecordLimit: -1})
	defer srv.Close()
	url := deliveryURL(srv)

	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(benchBody))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	roundTrip := func(b *testing.B, client *http.Client, url string) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Post(url, "application/json", strings.NewReader(benchBody))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("loopback", func(b *testing.B) { roundTrip(b, srv.HTTPClient(), url) })
	b.Run("baseline-drain-handler", func(b *testing.B) {
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte(`{"status":200}`))
		}))
		defer bare.Close()
		defer bare.Client().CloseIdleConnections()
		roundTrip(b, bare.Client(), bare.URL)
	})
}
