package target_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/goroutine"
)

// instantEdge answers every request at once, without a network, so that
// the notification queue can settle a call while SendNotifications is
// still returning.
type instantEdge struct{}

func (instantEdge) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	const body = `{"status":200,"requestId":"r","client":"c"}`
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// TestSendNotificationsCallbackNeverOnCallersGoroutine: a SendNotifications
// Callback runs on the goroutine that settles the call (the queue's), never
// on the caller's inside SendNotifications, however fast the queue is: the
// callbacks are registered before the queue can settle the call. (They
// were registered after the call was queued, so a fast round ran them on
// the caller's goroutine, and a Callback that blocked blocked
// SendNotifications.)
func TestSendNotificationsCallbackNeverOnCallersGoroutine(t *testing.T) {
	t.Parallel()
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: instantEdge{}},
	})
	require.NoError(t, err)
	defer c.Close(t.Context())
	var onCaller, ran atomic.Int64
	const calls = 3000
	for i := range calls {
		caller := goroutine.ID()
		opts := oneNotification("n")
		opts.Callback = func(*target.Response) {
			ran.Add(1)
			if goroutine.ID() == caller {
				onCaller.Add(1)
			}
		}
		opts.ErrCallback = func(err error) { t.Errorf("call %d: %v", i, err) }
		_, err := c.SendNotifications(t.Context(), opts).Await(t.Context())
		require.NoError(t, err)
	}
	require.NoError(t, c.Close(t.Context()))
	require.EqualValues(t, calls, ran.Load())
	require.Zero(t, onCaller.Load(), "callbacks run on the caller's goroutine inside SendNotifications")
}
