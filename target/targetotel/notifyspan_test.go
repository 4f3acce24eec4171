package targetotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
	"github.com/target-go/sdk/target/targettest"
)

// TestNotificationsSentIsVisible: the display notifications of an
// on-device call are sent through the notification queue, on its own
// goroutine, and their "sent" record is a span of its own under the call's
// span, whether the call's span has ended by then or not. Close waits for
// the queue, so the span is there when Close returns.
//
// The second case forces the interleaving that made this test fail about
// once in 20 to 40 full CI runs: the queue delivers the notifications
// while the caller's goroutine has not yet ended the call's span. The
// adapter then chose by span.IsRecording() and added "sent" as an event to
// the still-open call span, so no "target.notifications" span ever came.
func TestNotificationsSentIsVisible(t *testing.T) {
	for _, tc := range []struct {
		name string
		// sentFirst holds the GetOffers call's CallDone until the
		// notifications are reported sent.
		sentFirst bool
	}{
		{name: "as it comes"},
		{name: "sent before the call ends", sentFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t)
			if tc.sentFirst {
				sent := make(chan struct{})
				notify, callDone := tel.obs.Notifications, tel.obs.CallDone
				tel.obs.Notifications = func(ctx context.Context, e target.NotificationEvent) {
					notify(ctx, e)
					if e.State == target.NotificationsSent {
						close(sent)
					}
				}
				tel.obs.CallDone = func(ctx context.Context, e *target.CallEvent) {
					if e.Operation == target.OpGetOffers {
						select {
						case <-sent:
						case <-time.After(10 * time.Second):
							t.Error("the notifications were not sent while the call was ending")
						}
					}
					callDone(ctx, e)
				}
			}
			c, _ := setup(t, tel, targettest.Config{})
			ctx, handler := tel.handlerSpan(t.Context())
			_, err := c.GetOffers(ctx, target.GetOffersOptions{Request: mboxRequest("hero"), DecisioningMethod: target.OnDevice}).Await(t.Context())
			require.NoError(t, err)
			handler.End()
			require.NoError(t, c.Close(context.Background())) // waits for the notifications

			tr := newTree(tel.spans.Ended())
			own := tr.named["target.notifications"]
			require.Len(t, own, 1, "one span for the sent notifications")
			a := attrs(own[0].Attributes())
			assert.Equal(t, "sent", a[targetotel.NotificationStateKey].AsString())
			assert.Equal(t, int64(1), a[targetotel.NotificationCountKey].AsInt64())
			assert.Equal(t, handler.SpanContext().TraceID(), own[0].SpanContext().TraceID())
			calls := tr.named["target.GetOffers"]
			require.Len(t, calls, 1)
			assert.Equal(t, calls[0].SpanContext().SpanID(), own[0].Parent().SpanID(), "under the call's span")
			for _, ev := range calls[0].Events() {
				if ev.Name == "target.notifications" {
					assert.Equal(t, "queued", attrs(ev.Attributes)[targetotel.NotificationStateKey].AsString(), "only queued is an event of the call")
				}
			}
		})
	}
}
