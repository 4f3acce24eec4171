package targettest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// Whatever the body, the edge answers 200 with a DeliveryResponse, 204, or
// 400 with an error naming the problem; it never panics or hangs.
func FuzzDelivery(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `[]`, `{}`, `{"context":{"channel":"web"}}`,
		`{"context":{"channel":"web","beacon":true}}`,
		`{"context":{"channel":"mobile","mobilePlatform":{"deviceType":"phone","platformType":"ios"}}}`,
		`{"context":{"channel":"web"},"execute":{"pageLoad":{},"mboxes":[{"name":"hero","index":1},{"name":"x","index":2}]}}`,
		`{"context":{"channel":"web"},"prefetch":{"views":[{}],"pageLoad":{},"mboxes":[{"name":"hero","index":-1}]}}`,
		`{"context":{"channel":"web"},"notifications":[{"id":"n","type":"click","timestamp":1,"mbox":{"name":"hero"}}]}`,
		`{"context":{"channel":"web"},"trace":{"authorizationToken":"t"},"id":{"tntId":"a.1_1","customerIds":[{"id":"1","integrationCode":"c","authenticatedState":"unknown"}]}}`,
		`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a","index":1e10}]}}`,
		`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"a","index":1.5}]}}`,
	} {
		f.Add(seed)
	}
	srv := targettest.NewServer(targettest.Config{Offers: offers, RecordLimit: -1})
	f.Cleanup(srv.Close)
	url := deliveryURL(srv)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var resp target.DeliveryResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Status != 200 || resp.ID == nil || resp.ID.TntID == "" {
				t.Fatalf("200 with a bad answer (%v): %s", err, rec.Body)
			}
		case http.StatusNoContent:
			if rec.Body.Len() != 0 {
				t.Fatalf("204 with a body: %s", rec.Body)
			}
		case http.StatusBadRequest:
			var e target.UnexpectedError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != 400 || !strings.HasPrefix(e.Message, "Invalid request: ") {
				t.Fatalf("400 with a bad error (%v): %s", err, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
