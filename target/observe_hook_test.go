package target_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// recorder is an Observer that keeps what it hears, checking that every
// Done matches a Start it saw, once, with the context its Start returned.
type recorder struct {
	t  *testing.T
	mu sync.Mutex

	open          map[any]context.Context
	calls         []*target.CallEvent
	attempts      []*target.AttemptEvent
	decisions     []*target.DecisionEvent
	notifications []target.NotificationEvent
	artifacts     []target.ArtifactEvent
}

// stepKey keys the innermost step's event in the contexts the recorder
// returns.
type stepKey struct{}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, open: map[any]context.Context{}} }

func (r *recorder) start(ctx context.Context, e any) context.Context {
	ctx = context.WithValue(ctx, stepKey{}, e)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, dup := r.open[e]
	assert.False(r.t, dup, "started twice")
	r.open[e] = ctx
	return ctx
}

func (r *recorder) done(ctx context.Context, e any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	started, ok := r.open[e]
	assert.True(r.t, ok, "done without start, or twice")
	assert.Equal(r.t, started, ctx, "done gets the context its start returned")
	delete(r.open, e)
}

func (r *recorder) observer() *target.Observer {
	return &target.Observer{
		CallStart: func(ctx context.Context, e *target.CallEvent) context.Context { return r.start(ctx, e) },
		CallDone: func(ctx context.Context, e *target.CallEvent) {
			r.done(ctx, e)
			r.mu.Lock()
			r.calls = append(r.calls, e)
			r.mu.Unlock()
		},
		AttemptStart: func(ctx context.Context, e *target.AttemptEvent) context.Context {
			_, inCall := ctx.Value(stepKey{}).(*target.CallEvent)
			assert.True(r.t, inCall, "an attempt starts in its call's context")
			e.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			e.Header.Set("Content-Type", "text/plain") // must not win over the client's
			return r.start(ctx, e)
		},
		AttemptDone: func(ctx context.Context, e *target.AttemptEvent) {
			r.done(ctx, e)
			assert.Nil(r.t, e.Header, "the request's header is not kept")
			r.mu.Lock()
			r.attempts = append(r.attempts, e)
			r.mu.Unlock()
		},
		DecisionStart: func(ctx context.Context, e *target.DecisionEvent) context.Context { return r.start(ctx, e) },
		DecisionDone: func(ctx context.Context, e *target.DecisionEvent) {
			r.done(ctx, e)
			r.mu.Lock()
			r.decisions = append(r.decisions, e)
			r.mu.Unlock()
		},
		Notifications: func(_ context.Context, e target.NotificationEvent) {
			r.mu.Lock()
			r.notifications = append(r.notifications, e)
			r.mu.Unlock()
		},
		ArtifactDownload: func(_ context.Context, e target.ArtifactEvent) {
			r.mu.Lock()
			r.artifacts = append(r.artifacts, e)
			r.mu.Unlock()
		},
	}
}

func (r *recorder) openSteps() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.open)
}

// TestObserverServerSideCall: a call with a retried 503 gives one call
// event and two attempt events with what happened, the attempts' contexts
// nested in the call's, and the Observer's headers on the wire without
// replacing the client's.
func TestObserverServerSideCall(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Observer = rec.observer()
		cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	})
	srv.ForceFault(targettest.FaultServerError, 1)
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero", "flags"), SessionID: "secret-session-9"}).Await(t.Context())
	require.NoError(t, err)

	require.Len(t, rec.calls, 1)
	e := rec.calls[0]
	assert.Equal(t, target.OpGetOffers, e.Operation)
	assert.Equal(t, targettest.DefaultClient, e.Client)
	assert.Equal(t, target.ServerSide, e.Method)
	assert.Equal(t, target.ServerSide, e.DecidedBy)
	assert.Equal(t, res.Request.RequestID, e.RequestID)
	assert.Equal(t, srv.Addr(), e.Host)
	assert.Equal(t, 2, e.Mboxes)
	assert.Equal(t, http.StatusOK, e.Status)
	assert.NoError(t, e.Err)
	assert.Equal(t, 2, e.Timings.Attempts)
	assert.GreaterOrEqual(t, e.Duration, e.Timings.Total)

	require.Len(t, rec.attempts, 2)
	first, second := rec.attempts[0], rec.attempts[1]
	assert.Equal(t, 1, first.Attempt)
	assert.Equal(t, http.StatusServiceUnavailable, first.Status)
	assert.Equal(t, target.ErrorKindAPI, first.ErrorKind)
	assert.Positive(t, first.Backoff)
	assert.Equal(t, 2, second.Attempt)
	assert.Equal(t, http.StatusOK, second.Status)
	assert.Zero(t, second.Backoff)
	assert.NotContains(t, second.URL, "secret-session-9")
	assert.Contains(t, second.URL, "sessionId=REDACTED")
	assert.Positive(t, second.RequestSize)
	assert.Positive(t, second.Timings.ResponseSize)

	for _, r := range srv.Requests() {
		assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", r.Header.Get("Traceparent"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
	assert.Zero(t, rec.openSteps())
}

// TestObserverOnDeviceCall: an on-device call gives a decision event
// inside the call, and its display notifications are queued then sent.
func TestObserverOnDeviceCall(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.Observer = rec.observer() })
	req := heroRequest("gold")
	req.Execute.Mboxes = append(req.Execute.Mboxes, target.MboxRequest{Name: "checkout", Index: 2})
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	require.NoError(t, s.notification(t).err)
	s.c.Close(context.Background())

	require.Len(t, rec.decisions, 1)
	d := rec.decisions[0]
	assert.Equal(t, 2, d.Mboxes)
	assert.Equal(t, "1.0.0", d.ArtifactVersion)
	assert.Equal(t, []string{"checkout"}, d.RemoteMboxes)
	assert.Equal(t, 1, d.Notifications)
	assert.NoError(t, d.Err)

	require.Len(t, rec.calls, 2, "the call and the SendNotifications call that carries its notification")
	var get *target.CallEvent
	for _, e := range rec.calls {
		if e.Operation == target.OpGetOffers {
			get = e
		} else {
			assert.Equal(t, target.OpSendNotifications, e.Operation)
			assert.Equal(t, 1, e.Notifications)
		}
	}
	require.NotNil(t, get)
	assert.Equal(t, target.OnDevice, get.Method)
	assert.Equal(t, target.OnDevice, get.DecidedBy)
	assert.Equal(t, r.Status, get.Status)
	assert.Equal(t, http.StatusPartialContent, get.Status)

	states := map[target.NotificationState]int{}
	for _, n := range rec.notifications {
		states[n.State] += n.Count
	}
	assert.Equal(t, map[target.NotificationState]int{target.NotificationsQueued: 1, target.NotificationsSent: 1}, states)
	assert.Zero(t, rec.openSteps())
}

// TestObserverFailedCalls: invalid options, an on-device call before the
// artifact and a closed client each give one call event with the kind of
// their error, and no attempt.
func TestObserverFailedCalls(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	artifacts := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(artifacts.Close)
	failed := make(chan struct{}, 1)
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Observer = rec.observer()
		// An artifact location that never answers 200: no artifact.
		cfg.OnDevice = target.OnDeviceConfig{
			ArtifactLocation: artifacts.URL + "/missing/rules.json",
			OnArtifactDownloadFailed: func(string, error) {
				select {
				case failed <- struct{}{}:
				default: // a retry's failure: the test has what it needs
				}
			},
		}
	})
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "bad session"}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrInvalidOption)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), DecisioningMethod: target.OnDevice}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrArtifactNotReady)
	<-failed // the first download's event is in
	c.Close(context.Background())
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), DecisioningMethod: target.OnDevice}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrClientClosed)

	require.Len(t, rec.calls, 3)
	var kinds []target.ErrorKind
	for _, e := range rec.calls {
		require.Error(t, e.Err)
		kinds = append(kinds, e.ErrorKind)
		assert.Empty(t, e.DecidedBy)
	}
	assert.Equal(t, []target.ErrorKind{target.ErrorKindInvalidOption, target.ErrorKindNotReady, target.ErrorKindClosed}, kinds)
	assert.Empty(t, rec.attempts)
	require.Len(t, rec.decisions, 1, "the on-device call tried to decide")
	assert.Equal(t, target.ErrorKindNotReady, rec.decisions[0].ErrorKind)
	require.NotEmpty(t, rec.artifacts)
	a := rec.artifacts[0]
	assert.Equal(t, http.StatusNotFound, a.Status)
	assert.Equal(t, target.ErrorKindArtifact, a.ErrorKind)
	assert.True(t, a.Current.IsZero())
	assert.Zero(t, rec.openSteps())
}

// TestObserverCallDoneOnPanic: when the call's work panics (here in the
// Observer's own AttemptStart), CallDone still runs, once, with
// ErrorKindPanic, and the future fails with the panic.
func TestObserverCallDoneOnPanic(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	obs := rec.observer()
	obs.AttemptStart = func(context.Context, *target.AttemptEvent) context.Context { panic("observer bug") }
	obs.AttemptDone = nil
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Observer = obs })
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
	var pe *future.PanicError
	require.ErrorAs(t, err, &pe)
	require.Len(t, rec.calls, 1)
	assert.Equal(t, target.ErrorKindPanic, rec.calls[0].ErrorKind)
	assert.Zero(t, rec.openSteps())
}

// TestObserverArtifactDownloads: a download and an unchanged check each
// give an event; the artifact is current from the last of them.
func TestObserverArtifactDownloads(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	edge := targettest.NewServer(targettest.Config{Offers: offers})
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.Observer = rec.observer()
	cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: edge.ArtifactURL(), PollingInterval: -1}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err)
	c.Close(context.Background())
	require.Len(t, rec.artifacts, 1)
	a := rec.artifacts[0]
	assert.Equal(t, targettest.DefaultClient, a.Client)
	assert.Equal(t, edge.ArtifactURL(), a.Location)
	assert.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, "1.0.0", a.Version)
	assert.NoError(t, a.Err)
	assert.False(t, a.Current.IsZero())
	assert.False(t, a.Current.Before(a.Start))
}
