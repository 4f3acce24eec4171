package targettest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

const validBody = `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"hero","index":1}]}}`

// rawPost posts validBody and returns the answer, or the transport error.
func rawPost(t *testing.T, srv *targettest.Server) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, deliveryURL(srv), strings.NewReader(validBody))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestForcedFaults(t *testing.T) {
	t.Parallel()
	faults := targettest.Faults{ServerErrorStatus: 502, RetryAfter: 1500 * time.Millisecond, SlowBodyChunk: 7, SlowBodyInterval: time.Microsecond}
	tests := []struct {
		fault targettest.Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{targettest.FaultServerError, func(t *testing.T, resp *http.Response, body []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, 502, resp.StatusCode)
			var e target.UnexpectedError
			require.NoError(t, json.Unmarshal(body, &e))
			assert.Equal(t, 502, e.Status)
			assert.NotEmpty(t, e.Message)
		}},
		{targettest.FaultTooManyRequests, func(t *testing.T, resp *http.Response, body []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			assert.Equal(t, "2", resp.Header.Get("Retry-After"), "rounded up to whole seconds")
			assert.JSONEq(t, `{"status":429,"message":"Too many requests (fault injected by the local edge)"}`, string(body))
		}},
		{targettest.FaultReset, func(t *testing.T, _ *http.Response, _ []byte, err error) {
			require.ErrorIs(t, err, syscall.ECONNRESET)
		}},
		{targettest.FaultSlowBody, func(t *testing.T, resp *http.Response, body []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			var d target.DeliveryResponse
			require.NoError(t, json.Unmarshal(body, &d), "a slow body is still whole")
			assert.Equal(t, "hero", d.Execute.Mboxes[0].Name)
		}},
		{targettest.FaultMalformedJSON, func(t *testing.T, resp *http.Response, body []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "application/json;charset=UTF-8", resp.Header.Get("Content-Type"))
			var d target.DeliveryResponse
			require.Error(t, json.Unmarshal(body, &d))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			srv := setup(t, targettest.Config{Faults: faults})
			srv.ForceFault(tt.fault, 1)
			resp, body, err := rawPost(t, srv)
			tt.check(t, resp, body, err)
			assert.Equal(t, tt.fault, srv.Requests()[0].Fault)
			assert.EqualValues(t, 1, srv.Stats().Faults)

			resp, body, err = rawPost(t, srv)
			require.NoError(t, err, "only the next answer was forced")
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		})
	}
}

func TestForceFaultQueues(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Faults: targettest.Faults{ServerError: 1}})
	srv.ForceFault(targettest.NoFault, 2)
	srv.ForceFault(targettest.FaultTooManyRequests, 1)
	var got []int
	for range 4 {
		resp, _, err := rawPost(t, srv)
		require.NoError(t, err)
		got = append(got, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 429, 503}, got, "forced faults first, in order, then the configured ones")
	assert.Panics(t, func() { srv.ForceFault(targettest.Fault(99), 1) })
}

// faultSequence sends n requests to a new edge and returns the fault each
// answer carried.
func faultSequence(t *testing.T, seed uint64, n int) []targettest.Fault {
	srv := setup(t, targettest.Config{Seed: seed, Faults: targettest.Faults{
		ServerError: 0.15, TooManyRequests: 0.15, Reset: 0.15, SlowBody: 0.15, MalformedJSON: 0.15,
		SlowBodyInterval: time.Microsecond, SlowBodyChunk: 64,
	}})
	for range n {
		_, _, _ = rawPost(t, srv) // every outcome is fine here; the record says which
	}
	var out []targettest.Fault
	for _, r := range srv.Requests() {
		out = append(out, r.Fault)
	}
	faulty := int64(len(out)) - int64(countOf(out, targettest.NoFault))
	assert.Equal(t, faulty, srv.Stats().Faults)
	return out
}

func countOf(fs []targettest.Fault, f targettest.Fault) int {
	n := 0
	for _, x := range fs {
		if x == f {
			n++
		}
	}
	return n
}

func TestSeededFaultsAreDeterministic(t *testing.T) {
	t.Parallel()
	const n = 60
	a := faultSequence(t, 7, n)
	require.Len(t, a, n)
	assert.Equal(t, a, faultSequence(t, 7, n), "the same seed gives the same faults")
	assert.NotEqual(t, a, faultSequence(t, 8, n), "another seed gives other faults")
	for f := targettest.NoFault; f <= targettest.FaultMalformedJSON; f++ {
		assert.Positive(t, countOf(a, f), "%v appears", f)
	}
}

func TestFaultString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "connection reset", targettest.FaultReset.String())
	assert.Equal(t, "Fault(42)", targettest.Fault(42).String())
}

// serve runs one request through the edge's handler and returns how long
// it took; inside a synctest bubble that is the fake clock's time.
func serve(ctx context.Context, srv *targettest.Server) (*httptest.ResponseRecorder, time.Duration) {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, deliveryURL(srv), strings.NewReader(validBody))
	rec := httptest.NewRecorder()
	start := time.Now()
	srv.ServeHTTP(rec, req)
	return rec, time.Since(start)
}

func TestLatencyFixed(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Latency: targettest.Latency{Fixed: 100 * time.Millisecond}})
	synctest.Test(t, func(t *testing.T) {
		done := make(chan *httptest.ResponseRecorder)
		go func() {
			rec, _ := serve(context.Background(), srv)
			done <- rec
		}()
		time.Sleep(100*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("answered before the latency passed")
		default:
		}
		time.Sleep(time.Nanosecond)
		rec := <-done
		assert.Equal(t, http.StatusOK, rec.Code)
	})
}

func TestLatencyEndsWithTheRequestContext(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Latency: targettest.Latency{Fixed: time.Hour}})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan time.Duration)
		var rec *httptest.ResponseRecorder
		go func() {
			var d time.Duration
			rec, d = serve(ctx, srv)
			done <- d
		}()
		time.Sleep(time.Second)
		cancel()
		assert.Equal(t, time.Second, <-done, "the wait ends when the context does")
		assert.Empty(t, rec.Body.String(), "nothing is answered")
	})
}

func TestLatencyDistribution(t *testing.T) {
	t.Parallel()
	const n = 1000
	median, p99 := 40*time.Millisecond, 200*time.Millisecond
	sample := func(seed uint64) []time.Duration {
		srv := setup(t, targettest.Config{Seed: seed, RecordLimit: -1, Latency: targettest.Latency{Fixed: time.Millisecond, Median: median, P99: p99}})
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			for range n {
				rec, d := serve(t.Context(), srv)
				require.Equal(t, http.StatusOK, rec.Code)
				out = append(out, d)
			}
		})
		return out
	}
	a := sample(1)
	assert.Equal(t, a, sample(1), "the same seed gives the same delays")
	assert.NotEqual(t, a, sample(2))

	slices.Sort(a)
	quantile := func(q float64) time.Duration { return a[int(math.Ceil(q*n))-1] - time.Millisecond }
	assert.InEpsilon(t, float64(median), float64(quantile(0.5)), 0.1, "median %v", quantile(0.5))
	assert.InEpsilon(t, float64(p99), float64(quantile(0.99)), 0.25, "p99 %v", quantile(0.99))
	assert.GreaterOrEqual(t, a[0], time.Millisecond, "Fixed is added to every draw")
	assert.LessOrEqual(t, a[n-1], time.Millisecond+10*p99, "draws are capped")
}

// timedWriter records when each piece of a body is written.
type timedWriter struct {
	header http.Header
	mu     sync.Mutex
	status int
	writes []time.Time
	body   []byte
}

func (w *timedWriter) Header() http.Header { return w.header }
func (w *timedWriter) WriteHeader(s int)   { w.status = s }
func (w *timedWriter) Flush()              {}
func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, time.Now())
	w.body = append(w.body, p...)
	return len(p), nil
}

func TestSlowBodyTrickles(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Faults: targettest.Faults{SlowBody: 1, SlowBodyChunk: 10, SlowBodyInterval: 20 * time.Millisecond}})
	synctest.Test(t, func(t *testing.T) {
		w := &timedWriter{header: http.Header{}}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, deliveryURL(srv), strings.NewReader(validBody))
		start := time.Now()
		srv.ServeHTTP(w, req)

		require.Equal(t, http.StatusOK, w.status)
		var d target.DeliveryResponse
		require.NoError(t, json.Unmarshal(w.body, &d))
		chunks := (len(w.body) + 9) / 10
		require.Len(t, w.writes, chunks)
		for i, at := range w.writes {
			assert.Equal(t, time.Duration(i+1)*20*time.Millisecond, at.Sub(start), "write %d", i)
		}
	})
}

func TestMalformedJSONKeepsTheStatus(t *testing.T) {
	t.Parallel()
	srv := setup(t, targettest.Config{Faults: targettest.Faults{MalformedJSON: 1}})
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"context":{}}`, http.StatusBadRequest},
		{`{"context":{"channel":"web","beacon":true}}`, http.StatusOK},
	} {
		resp, body := post(t, srv, deliveryURL(srv), tt.body)
		assert.Equal(t, tt.status, resp.StatusCode, "%s", tt.body)
		var v any
		assert.Error(t, json.Unmarshal(body, &v), "%s: %s", tt.body, body)
	}
}

func TestLogsRejectedRequests(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	srv := setup(t, targettest.Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	post(t, srv, deliveryURL(srv), `{"context":{"channel":"web"}}`)
	post(t, srv, deliveryURL(srv), `{"context":{"channel":"tv"}}`)
	logged := buf.String()
	assert.Equal(t, 1, strings.Count(logged, "\n"), "only the rejected request is logged at info: %s", logged)
	assert.Contains(t, logged, "status=400")
	assert.Contains(t, logged, `context.channel \"tv\"`)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
