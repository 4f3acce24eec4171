package target

// The pooled scratch buffer encodeRequest and notificationKey share, under
// concurrent use, large requests and fallbacks to Marshal.

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// geoWithEmptyZip is a Geo read from JSON with "zip":"", which
// AppendRequest leaves to Marshal (Geo.MarshalJSON writes the "").
var geoWithEmptyZip = func() *delivery.Geo {
	var g delivery.Geo
	if err := json.Unmarshal([]byte(`{"zip":""}`), &g); err != nil {
		panic(err)
	}
	return &g
}()

func scratchTestRequest(w, i int) *DeliveryRequest {
	n := 1 + i%7
	if i%97 == 0 {
		n = 900 // larger than maxPooledEncoderBuf once encoded
	}
	req := &DeliveryRequest{
		RequestID: fmt.Sprintf("r-%d-%d", w, i),
		Context:   &delivery.Context{Channel: "web", UserAgent: strings.Repeat("u", i%40)},
	}
	if i%3 == 0 {
		req.Execute = &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Index: 1, Name: "m"}}}
	}
	if i%5 == 0 { // falls back to Marshal: a Geo read with a "" field
		req.Context.Geo = geoWithEmptyZip
	}
	for k := range n {
		req.Notifications = append(req.Notifications, delivery.Notification{
			ID: fmt.Sprintf("%d-%d-%d", w, i, k), Type: "display", Timestamp: int64(i),
			Tokens: []string{strings.Repeat("t", 80)}, Mbox: &delivery.NotificationMbox{Name: "mbox"},
		})
	}
	return req
}

// TestEncodeRequestPooledConcurrent encodes different requests from
// several goroutines and checks each body and key against Marshal: a body
// aliasing the pooled scratch would change under the next call.
func TestEncodeRequestPooledConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var keep [][]byte
			var wants [][]byte
			for i := range 400 {
				req := scratchTestRequest(w, i)
				want, err := delivery.Marshal(req)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := encodeRequest(req)
				if err != nil || string(got) != string(want) {
					t.Errorf("encodeRequest %d/%d differs from Marshal", w, i)
					return
				}
				keep, wants = append(keep, got), append(wants, want)
				p := &prepared{req: req, host: fmt.Sprintf("h%d", w), sessionID: "s"}
				k := notificationKey(p)
				k2 := notificationKey(p)
				if k != k2 {
					t.Errorf("notificationKey not stable: %q vs %q", k, k2)
					return
				}
			}
			for i := range keep {
				if string(keep[i]) != string(wants[i]) {
					t.Errorf("body %d/%d changed after later calls", w, i)
				}
			}
		}()
	}
	wg.Wait()
}
