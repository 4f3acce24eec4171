package targettest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// Under concurrent load with every fault at random, each answer is the one
// its recorded fault promises.
func TestConcurrentFaultsMatchTheirRecord(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{
		Seed:    3,
		Latency: targettest.Latency{Median: time.Millisecond, P99: 5 * time.Millisecond},
		Faults: targettest.Faults{
			ServerError: 0.1, TooManyRequests: 0.1, Reset: 0.1, SlowBody: 0.1, MalformedJSON: 0.1,
			SlowBodyChunk: 256, SlowBodyInterval: time.Millisecond,
		},
	})
	const n, workers = 200, 16
	type outcome struct {
		status int
		valid  bool // the body decodes as a DeliveryResponse
		err    error
	}
	var mu sync.Mutex
	outcomes := map[string]outcome{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				id := fmt.Sprintf("req-%d", i)
				req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, deliveryURL(srv),
					strings.NewReader(`{"requestId":"`+id+`","context":{"channel":"web"}}`))
				if !assert.NoError(t, err) {
					return
				}
				req.Header.Set("Content-Type", "application/json")
				var o outcome
				resp, err := srv.HTTPClient().Do(req)
				if err == nil {
					var body []byte
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					o.status = resp.StatusCode
					var d target.DeliveryResponse
					o.valid = json.Unmarshal(body, &d) == nil && d.RequestID == id
				}
				o.err = err
				mu.Lock()
				outcomes[id] = o
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	recorded := srv.Requests()
	require.Len(t, recorded, n)
	seen := map[targettest.Fault]int{}
	for _, r := range recorded {
		id := r.Delivery.RequestID
		o := outcomes[id]
		seen[r.Fault]++
		switch r.Fault {
		case targettest.NoFault, targettest.FaultSlowBody:
			assert.True(t, o.err == nil && o.status == 200 && o.valid, "%s %v: %+v", id, r.Fault, o)
		case targettest.FaultServerError:
			assert.True(t, o.err == nil && o.status == 503, "%s %v: %+v", id, r.Fault, o)
		case targettest.FaultTooManyRequests:
			assert.True(t, o.err == nil && o.status == 429, "%s %v: %+v", id, r.Fault, o)
		case targettest.FaultMalformedJSON:
			assert.True(t, o.err == nil && o.status == 200 && !o.valid, "%s %v: %+v", id, r.Fault, o)
		case targettest.FaultReset:
			assert.Error(t, o.err, "%s %v", id, r.Fault)
		}
	}
	assert.Len(t, seen, 6, "every fault occurred: %v", seen)
	assert.EqualValues(t, n-seen[targettest.NoFault], srv.Stats().Faults)
}
