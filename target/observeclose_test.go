package target_test

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestCloseFromObserver: Close called from any Observer function returns
// (it used to deadlock in those that run in work Close waits for: a
// decision, the notification queue, the artifact polling), with
// ErrCloseInObserver where it could not wait, and the Client's end is
// reported once to ClientClosed.
func TestCloseFromObserver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		// want is what Close returns there (see Client.Close and
		// Observer): ErrCloseInObserver from a decision or the artifact
		// polling, which Close would wait for; nil from the functions
		// that run on the call's goroutine outside a decision, where Close
		// waits as usual, and from the queue's callbacks.
		want error
	}{
		{in: "CallStart"},
		{in: "CallDone"},
		// The first attempt is the display notification's, on the queue,
		// or the server-side call's, on its own goroutine: nil either way.
		{in: "AttemptStart"},
		{in: "AttemptDone"},
		{in: "DecisionStart", want: target.ErrCloseInObserver},
		{in: "DecisionDone", want: target.ErrCloseInObserver},
		{in: "Notifications/queued", want: target.ErrCloseInObserver},
		// The queue's callback, also when the queue settled the
		// notification before the decision registered its outcome.
		{in: "Notifications/sent"},
		{in: "ArtifactDownload", want: target.ErrCloseInObserver},
		// A SendNotifications call settles on the queue, whose callbacks a
		// Close from them does not wait for: nil (see Client.Close).
		{in: "SendNotifications/CallDone"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			clients := make(chan *target.Client, 1)
			closedIn := make(chan error, 1)
			ended := make(chan target.ClientEvent, 2)
			// Not a sync.Once: the other Observer functions must not wait
			// for the one that closes.
			var closing atomic.Bool
			at := func(name string) {
				if name == tc.in && closing.CompareAndSwap(false, true) {
					c := <-clients
					closedIn <- c.Close(context.Background())
				}
			}
			obs := &target.Observer{
				CallStart: func(ctx context.Context, e *target.CallEvent) context.Context {
					at("CallStart")
					return ctx
				},
				CallDone: func(_ context.Context, e *target.CallEvent) {
					if e.Operation == target.OpSendNotifications {
						at("SendNotifications/CallDone")
						return
					}
					at("CallDone")
				},
				AttemptStart: func(ctx context.Context, _ *target.AttemptEvent) context.Context {
					at("AttemptStart")
					return ctx
				},
				AttemptDone: func(context.Context, *target.AttemptEvent) { at("AttemptDone") },
				DecisionStart: func(ctx context.Context, _ *target.DecisionEvent) context.Context {
					at("DecisionStart")
					return ctx
				},
				DecisionDone:     func(context.Context, *target.DecisionEvent) { at("DecisionDone") },
				Notifications:    func(_ context.Context, e target.NotificationEvent) { at("Notifications/" + string(e.State)) },
				ArtifactDownload: func(context.Context, target.ArtifactEvent) { at("ArtifactDownload") },
				ClientClosed:     func(_ context.Context, e target.ClientEvent) { ended <- e },
			}
			srv := targettest.NewServer(targettest.Config{Offers: offers})
			t.Cleanup(srv.Close)
			cfg := srv.ClientConfig()
			cfg.Observer = obs
			cfg.Logger = slog.New(slog.DiscardHandler)
			cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: srv.ArtifactURL(), PollingInterval: -1}
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			clients <- c
			// Close from ArtifactDownload may come first: then Ready fails
			// and the calls below fail with ErrClientClosed, or succeed
			// server-side; either way nothing hangs.
			// On a goroutine of their own, so that a deadlock fails the
			// test below instead of hanging it.
			driven := make(chan struct{})
			go func() {
				defer close(driven)
				_, _ = c.Ready().Await(t.Context())
				_, _ = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), DecisioningMethod: target.OnDevice}).Await(t.Context())
				_, _ = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
			}()
			err = within(t, closedIn, "Close from Observer."+tc.in)
			within(t, driven, "the calls")
			require.Equal(t, tc.want, err)
			done := make(chan error, 1)
			go func() { done <- c.Close(context.Background()) }()
			require.NoError(t, within(t, done, "Close after Close from Observer."+tc.in))
			e := within(t, ended, "ClientClosed")
			assert.Equal(t, targettest.DefaultClient, e.Client)
			assert.NotZero(t, e.Instance)
			select {
			case e := <-ended:
				t.Errorf("ClientClosed called twice: %+v", e)
			default:
			}
		})
	}
}

// TestClientClosedInstance: ArtifactDownload and ClientClosed name the
// Client by an Instance of its own, the same in both, different for two
// Clients with one client code; ClientClosed comes once, after the last
// ArtifactDownload, also when Close is called from a callback of the
// polling goroutine.
func TestClientClosedInstance(t *testing.T) {
	t.Parallel()
	type event struct {
		closed   bool
		instance uint64
	}
	newClient := func(t *testing.T, events chan<- event, fromCallback bool) *target.Client {
		srv := targettest.NewServer(targettest.Config{Offers: offers})
		t.Cleanup(srv.Close)
		cfg := srv.ClientConfig()
		cfg.Observer = &target.Observer{
			ArtifactDownload: func(_ context.Context, e target.ArtifactEvent) { events <- event{instance: e.Instance} },
			ClientClosed:     func(_ context.Context, e target.ClientEvent) { events <- event{closed: true, instance: e.Instance} },
		}
		clients := make(chan *target.Client, 1)
		cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: srv.ArtifactURL(), PollingInterval: -1}
		if fromCallback {
			cfg.OnDevice.OnArtifactDownloaded = func(string) {
				// Before the download's ArtifactDownload, which must still
				// come before ClientClosed.
				assert.NoError(t, (<-clients).Close(context.Background()))
			}
		}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		clients <- c
		return c
	}
	events := make(chan event, 8)
	a, b := newClient(t, events, false), newClient(t, events, false)
	_, err := a.Ready().Await(t.Context())
	require.NoError(t, err)
	_, err = b.Ready().Await(t.Context())
	require.NoError(t, err)
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	require.NoError(t, a.Close(context.Background()))
	close(events)
	var got []event
	for e := range events {
		got = append(got, e)
	}
	require.Len(t, got, 4)
	byInstance := map[uint64][]bool{}
	for _, e := range got {
		byInstance[e.instance] = append(byInstance[e.instance], e.closed)
	}
	require.Len(t, byInstance, 2, "two Clients, two instances")
	for i, seq := range byInstance {
		assert.NotZero(t, i)
		assert.Equal(t, []bool{false, true}, seq, "a download, then the end")
	}

	t.Run("Close from OnArtifactDownloaded", func(t *testing.T) {
		events := make(chan event, 4)
		newClient(t, events, true)
		first := within(t, events, "ArtifactDownload")
		second := within(t, events, "ClientClosed")
		assert.Equal(t, event{instance: first.instance}, first)
		assert.Equal(t, event{closed: true, instance: first.instance}, second)
	})
}

// TestClientClosedPanics: a panic in ClientClosed is logged with its stack
// and Close returns as usual.
func TestClientClosedPanics(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
		cfg.Observer = &target.Observer{ClientClosed: func(context.Context, target.ClientEvent) { panic("observer bug") }}
	})
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, c.Close(context.Background()))
	out := log.String()
	assert.Contains(t, out, "Observer.ClientClosed")
	assert.Contains(t, out, "observer bug")
	assert.Equal(t, 1, strings.Count(out, "observer bug"), "called once")
}
