package targetotel_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestEventsWithinTheirSpans: every event is stamped within its span,
// also when the hook that records it comes after the span's end: the
// AttemptDone of a retried attempt comes after the backoff, a CallDone
// and an ArtifactDownload after the Duration they report. The exception
// events used to be stamped at the hook's time, after their span's end.
func TestEventsWithinTheirSpans(t *testing.T) {
	tel := newTelemetry(t)
	// Times in the past, as if each hook came late: a second after the
	// end it reports.
	start := time.Now().Add(-10 * time.Second)
	call := &target.CallEvent{Operation: target.OpGetOffers, Client: "acme", Method: target.ServerSide, Host: "edge.example", Start: start}
	ctx := tel.obs.CallStart(t.Context(), call)
	url := "https://edge.example/rest/v1/delivery?sessionId=REDACTED"
	for i := range 2 {
		a := &target.AttemptEvent{Attempt: i + 1, Method: http.MethodPost, URL: url, Host: "edge.example", Header: http.Header{}, Start: start.Add(time.Duration(i) * 2 * time.Second)}
		actx := tel.obs.AttemptStart(ctx, a)
		a.Status, a.Duration = 503, 10*time.Millisecond
		a.Err, a.ErrorKind = &target.APIError{Status: 503, Message: "Service Unavailable"}, target.ErrorKindAPI
		if i == 0 {
			a.Backoff = time.Second
		}
		tel.obs.AttemptDone(actx, a)
	}
	call.Err, call.ErrorKind = &target.APIError{Status: 503, Message: "Service Unavailable"}, target.ErrorKindAPI
	call.Status, call.Duration = 503, 3*time.Second
	tel.obs.CallDone(ctx, call)
	tel.obs.ArtifactDownload(t.Context(), target.ArtifactEvent{
		Client: "acme", Location: "https://assets.example/rules.json", Status: 500,
		Err: errors.New("target: artifact download failed: 500"), ErrorKind: target.ErrorKindArtifact,
		Start: start, Duration: 5 * time.Millisecond,
	})

	spans := tel.spans.Ended()
	require.Len(t, spans, 4, "two attempts, the call, the download")
	events := 0
	for _, s := range spans {
		require.NotEmpty(t, s.Events(), "%s failed: it has its exception", s.Name())
		for _, e := range s.Events() {
			events++
			assert.False(t, e.Time.Before(s.StartTime()), "%s: event %s at %v, before its span's start %v", s.Name(), e.Name, e.Time, s.StartTime())
			assert.False(t, e.Time.After(s.EndTime()), "%s: event %s at %v, after its span's end %v", s.Name(), e.Name, e.Time, s.EndTime())
		}
	}
	assert.Equal(t, 4, events)
}
