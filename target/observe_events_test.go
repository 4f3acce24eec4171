package target_test

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// firstRequestGate holds the first request it sees until release is
// closed, telling entered when it got there; the others go through.
type firstRequestGate struct {
	next    http.RoundTripper
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *firstRequestGate) RoundTrip(r *http.Request) (*http.Response, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		select {
		case <-g.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.RoundTrip(r)
}

// TestSendNotificationsCallDoneContained: the CallDone of a
// SendNotifications call runs on the notification queue's goroutine,
// outside any future's recovery. A panic in it is recovered and logged
// (it used to end the process), and a runtime.Goexit in it, which cannot
// be stopped, is logged and leaves no call of the same request unsettled
// (it used to leave the calls after it pending forever, and Close with
// them).
func TestSendNotificationsCallDoneContained(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv := targettest.NewServer(targettest.Config{Offers: offers})
			t.Cleanup(srv.Close)
			var log syncBuffer
			cfg := srv.ClientConfig()
			next := cfg.HTTPClient.Transport
			if next == nil {
				next = http.DefaultTransport
			}
			gate := &firstRequestGate{next: next, entered: make(chan struct{}), release: make(chan struct{})}
			cfg.HTTPClient = &http.Client{Transport: gate}
			cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
			var (
				mu    sync.Mutex
				dones int
			)
			cfg.Observer = &target.Observer{CallDone: func(_ context.Context, e *target.CallEvent) {
				if e.Operation != target.OpSendNotifications {
					return
				}
				mu.Lock()
				dones++
				mu.Unlock()
				if how == "panic" {
					panic("observer bug")
				}
				runtime.Goexit()
			}}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)

			// The first request holds the queue's worker, so that the three
			// calls of one session queued meanwhile go out in one request.
			blocker := oneNotification("blocker")
			blocker.SessionID = "other-session"
			first := c.SendNotifications(t.Context(), blocker)
			within(t, gate.entered, "the first request")
			var calls []interface {
				Await(context.Context) (*target.Response, error)
			}
			for _, id := range []string{"a", "b", "c"} {
				opts := oneNotification(id)
				opts.SessionID = "one-session"
				calls = append(calls, c.SendNotifications(t.Context(), opts))
			}
			close(gate.release)
			settled := make(chan error, 4)
			go func() {
				_, err := first.Await(context.Background())
				settled <- err
				for _, f := range calls {
					_, err := f.Await(context.Background())
					settled <- err
				}
			}()
			for range 4 {
				require.NoError(t, within(t, settled, "the calls"))
			}
			closed := make(chan error, 1)
			go func() { closed <- c.Close(context.Background()) }()
			require.NoError(t, within(t, closed, "Close"))

			assert.Len(t, srv.Requests(), 2, "the blocker, then the three calls in one request")
			mu.Lock()
			assert.Equal(t, 4, dones, "CallDone ran for every call")
			mu.Unlock()
			out := log.String()
			if how == "panic" {
				assert.Contains(t, out, "recovered a panic in Observer.CallDone")
				assert.Contains(t, out, "observer bug")
			} else {
				assert.Contains(t, out, "Observer.CallDone called runtime.Goexit")
			}
		})
	}
}

// TestCloseWaitsForDisplayNotificationOutcome: Close waits for the
// outcome of every display notification of an on-device decision, with
// OnNotificationsSent and the Observer's "sent" event, also when it
// starts right after the decision stopped counting as work in flight (it
// used to return before the outcome was even registered: the queue then
// settled the notification with no callback, which ran later on the
// deciding goroutine).
func TestCloseWaitsForDisplayNotificationOutcome(t *testing.T) {
	t.Parallel()
	var sent, observed atomic.Bool
	s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.OnDevice.OnNotificationsSent = func(_ *target.Response, err error) {
			assert.NoError(t, err)
			sent.Store(true)
		}
		cfg.Observer = &target.Observer{Notifications: func(_ context.Context, e target.NotificationEvent) {
			if e.State == target.NotificationsSent {
				observed.Store(true)
			}
		}}
	})
	type state struct {
		err            error
		sent, observed bool
	}
	closed := make(chan state, 1)
	target.SetAfterDecision(s.c, func() {
		// Close on another goroutine, to its end, while the decision's
		// goroutine is held here.
		done := make(chan state, 1)
		go func() {
			err := s.c.Close(context.Background())
			done <- state{err, sent.Load(), observed.Load()}
		}()
		closed <- within(t, done, "Close after the decision")
	})
	_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err)
	got := within(t, closed, "Close")
	require.NoError(t, got.err)
	assert.True(t, got.sent, "OnNotificationsSent ran before Close returned")
	assert.True(t, got.observed, "the Observer's sent event came before Close returned")
}

// TestCloseFromObserverWaitsNotForPolling: Close from an Observer
// function of a decision waits for nothing, the artifact polling
// included: here the polling goroutine is held in ArtifactDownload until
// that Close returns (Close used to wait for the polling goroutine to
// end: a deadlock).
func TestCloseFromObserverWaitsNotForPolling(t *testing.T) {
	t.Parallel()
	srv := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(srv.Close)
	entered := make(chan struct{})
	closed := make(chan error, 1)
	closeReturned := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	clients := make(chan *target.Client, 1)
	var once sync.Once
	cfg := srv.ClientConfig()
	cfg.DecisioningMethod = target.OnDevice
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(testArtifact), ArtifactLocation: srv.ArtifactURL(), PollingInterval: -1}
	ended := make(chan target.ClientEvent, 1)
	cfg.Observer = &target.Observer{
		ArtifactDownload: func(context.Context, target.ArtifactEvent) {
			once.Do(func() { close(entered) })
			select {
			case <-closeReturned:
			case <-release:
			}
		},
		DecisionStart: func(ctx context.Context, _ *target.DecisionEvent) context.Context {
			closed <- (<-clients).Close(context.Background())
			close(closeReturned)
			return ctx
		},
		ClientClosed: func(_ context.Context, e target.ClientEvent) { ended <- e },
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	clients <- c
	within(t, entered, "the download's ArtifactDownload")
	decided := make(chan struct{})
	go func() {
		defer close(decided)
		_, _ = c.GetOffers(context.Background(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(context.Background())
	}()
	within(t, decided, "the decision whose DecisionStart calls Close")
	require.ErrorIs(t, within(t, closed, "Close from DecisionStart"), target.ErrCloseInObserver)
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err, "the payload was in before Close")
	// The polling goroutine ends after the Close that did not wait for it,
	// and reports the Client's end then.
	within(t, ended, "ClientClosed")
	require.NoError(t, c.Close(context.Background()))
}

// TestObservedWorkMarksOnlyWhenNeeded: a goroutine id (runtime.Stack, a
// few microseconds) is read to mark the work Close waits for only where
// an Observer function could call Close from it: an on-device decision
// whose Observer has a function the decision calls. The notification
// queue's requests are marked as the queue's callbacks already, and an
// Observer of the HTTP attempts alone costs a decision nothing.
func TestObservedWorkMarksOnlyWhenNeeded(t *testing.T) {
	t.Parallel()
	attemptsOnly := &target.Observer{
		AttemptStart: func(ctx context.Context, _ *target.AttemptEvent) context.Context { return ctx },
		AttemptDone:  func(context.Context, *target.AttemptEvent) {},
	}
	decisions := &target.Observer{
		DecisionStart: func(ctx context.Context, _ *target.DecisionEvent) context.Context { return ctx },
	}
	for _, tc := range []struct {
		name string
		obs  *target.Observer
		want int64
	}{
		{"attempts only", attemptsOnly, 0},
		{"decisions", decisions, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.Observer = tc.obs })
			for range 3 {
				_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
				require.NoError(t, err)
				require.NoError(t, s.notification(t).err, "the display notification went through the queue")
			}
			assert.Equal(t, tc.want, target.ObservingLookups(s.c), "one per decision, none for the queue")
		})
	}
}
