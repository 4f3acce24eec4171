package target_test

// The pooled answer buffer must not be kept by
// anything a call returns or logs. Concurrent calls get different
// answers (successes with raw content, traces, response tokens, analytics
// payloads, numbers; API errors quoting a message; decode errors of
// several kinds); everything is kept (Responses, errors, every slog record
// the client wrote with LogBodies); 2,000 more calls (TARGET_ALIAS_CALLS) reuse the buffers;
// then each kept thing is compared with what a fresh decode of its own
// answer gives, and with its rendering taken right when it was returned.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// keepingHandler keeps every record, attrs unresolved, to read later.
type keepingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *keepingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *keepingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r)
	h.mu.Unlock()
	return nil
}
func (h *keepingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *keepingHandler) WithGroup(string) slog.Handler      { return h }

func renderRecord(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve().Any())
		return true
	})
	return b.String()
}

var aliasMboxName = regexp.MustCompile(`"name":"m(\d+)"`)

// aliasAnswer is the answer to call i: its status and body.
func aliasAnswer(i int) (int, string) {
	fill := strings.Repeat(string(rune('a'+i%26)), (i*37)%3000)
	switch i % 9 {
	case 3:
		return 400, fmt.Sprintf(`{"status":400,"message":"bad %d %s"}`, i, fill)
	case 5:
		// A type error: UnmarshalTypeError quotes the value.
		return 200, fmt.Sprintf(`{"status":200,"execute":{"mboxes":[{"index":"x%d%s","name":"m%d"}]}}`, i, fill, i)
	case 7:
		return 200, fmt.Sprintf(`{"status":200,"execute":{"mboxes":[{"index":0,"name":"m%d%s"`, i, fill) // cut
	}
	return 200, fmt.Sprintf(`{"status":200,"requestId":"r%d","client":"c%d","edgeHost":"mboxedge3%d.tt.omtrdc.net",
	 "execute":{"mboxes":[{"index":0,"name":"m%d","trace":{"k%d":"%s","n":%d.5,"l":["x%d",{"y":"%s"}]},
	  "options":[{"type":"json","content":{"v":"%s","n":%d,"arr":[1,"%d"]},"eventToken":"t%d",
	    "responseTokens":{"activity.id":%d,"s":"%s"}},
	   {"type":"html","content":"<p>%d %s</p>"}],
	  "analytics":{"payload":{"pe":"tnt","tnta":"%d:%s"}},
	  "metrics":[{"type":"click","selector":"#s%d","eventToken":"e%d"}]}]}}`,
		i, i, i, i, i, fill, i, i, fill, fill, i, i, i, i, fill, i, fill, i, fill, i, i)
}

func TestPooledBodyNeverAliased(t *testing.T) {
	t.Parallel()
	h := &keepingHandler{}
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := aliasMboxName.FindSubmatch(b)
		if m == nil {
			w.WriteHeader(500)
			return
		}
		i, _ := strconv.Atoi(string(m[1]))
		status, body := aliasAnswer(i)
		if i%2 == 0 {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		} // else chunked
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	c, err := target.NewClient(target.Config{Client: "raw", OrganizationID: "org", ServerDomain: srv, Insecure: true,
		Logger: slog.New(h), LogBodies: true, Retry: target.RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	type kept struct {
		r         *target.Response
		err       error
		renderErr string // %v %+v %#v at once
		renderR   string
	}
	const first = 300
	keep := make([]kept, first)
	var wg sync.WaitGroup
	for i := range first {
		wg.Go(func() {
			r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m" + strconv.Itoa(i))}).Await(t.Context())
			k := kept{r: r, err: err}
			if err != nil {
				k.renderErr = fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err)
			}
			if r != nil {
				b, _ := json.Marshal(r.Response)
				k.renderR = string(b)
			}
			keep[i] = k
		})
	}
	wg.Wait()
	h.mu.Lock()
	recs := append([]slog.Record(nil), h.recs...)
	h.mu.Unlock()
	rendered := make([]string, len(recs))
	for i, r := range recs {
		rendered[i] = renderRecord(r)
	}

	// 10,000 more calls with other answers, through the same buffers
	// (TARGET_ALIAS_CALLS=10000, which held, takes four minutes here; 2,000
	// by default).
	more := 2000
	if n, err := strconv.Atoi(os.Getenv("TARGET_ALIAS_CALLS")); err == nil {
		more = n
	}
	sem := make(chan struct{}, 8)
	for i := first; i < first+more; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, _ = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m" + strconv.Itoa(i))}).Await(t.Context())
		})
	}
	wg.Wait()

	for i, k := range keep {
		status, body := aliasAnswer(i)
		if k.err != nil {
			require.Equal(t, k.renderErr, fmt.Sprintf("%v|%+v|%#v|%s|%q", k.err, k.err, k.err, k.err, k.err), "call %d error changed", i)
			continue
		}
		require.Equal(t, 200, status, "call %d", i)
		var fresh target.DeliveryResponse
		require.NoError(t, json.Unmarshal([]byte(body), &fresh))
		want, _ := json.Marshal(&fresh)
		got, _ := json.Marshal(k.r.Response)
		require.JSONEq(t, string(want), string(got), "call %d", i)
		require.Equal(t, k.renderR, string(got), "call %d changed after later calls", i)
		// The Response's own slices (tokens, traces, analytics) too.
		all, _ := json.Marshal(k.r)
		require.Contains(t, string(all), fmt.Sprintf(`"tnta":"%d:`, i))
	}
	for i, r := range recs {
		require.Equal(t, rendered[i], renderRecord(r), "log record %d changed", i)
	}
	t.Logf("kept %d records; %d errors", len(recs), func() (n int) {
		for _, k := range keep {
			if k.err != nil {
				n++
			}
		}
		return
	}())
}
