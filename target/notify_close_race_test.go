package target_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestBlockedObserverManySendersClose: 40 calls of 40 visitors (more
// senders than the queue runs at once), every exchange's AttemptStart
// blocked, then Close with its ctx ended: Close returns, every call is
// settled once with ErrClientClosed, OnDropped hears of each notification
// once, and once the Observer returns every goroutine ends.
func TestBlockedObserverManySendersClose(t *testing.T) {
	const calls = 40
	ignore := goleak.IgnoreCurrent()
	unblock := make(chan struct{})
	entered := make(chan struct{}, calls)
	var dropped, callbacks atomic.Int64
	var dropErrs sync.Map
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg.Observer = &target.Observer{AttemptStart: func(ctx context.Context, _ *target.AttemptEvent) context.Context {
			entered <- struct{}{}
			<-unblock
			return ctx
		}}
		cfg.Notifications.OnDropped = func(ns []target.Notification, err error) {
			dropped.Add(int64(len(ns)))
			for _, n := range ns {
				if _, dup := dropErrs.LoadOrStore(n.ID, err); dup {
					t.Errorf("notification %s dropped twice", n.ID)
				}
			}
		}
	})
	fs := make([]*future.Future[*target.Response], calls)
	for i := range calls {
		o := oneNotification(fmt.Sprintf("n-%d", i))
		o.SessionID = fmt.Sprintf("s-%d", i) // one batch each
		fs[i] = c.SendNotifications(t.Context(), o)
		fs[i].OnComplete(func(*target.Response, error) { callbacks.Add(1) })
	}
	within(t, entered, "the first exchange")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ctx) }()
	require.ErrorIs(t, within(t, closed, "Close"), context.Canceled)
	for i, f := range fs {
		select {
		case <-f.Done():
		default:
			t.Fatalf("call %d unsettled after Close", i)
		}
		_, err := f.Await(context.Background())
		require.ErrorIs(t, err, target.ErrClientClosed, "call %d", i)
	}
	close(unblock)
	require.Eventually(t, func() bool { return callbacks.Load() == calls && dropped.Load() == calls }, 10*time.Second, time.Millisecond)
	srv.Close()
	c.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
	require.EqualValues(t, calls, callbacks.Load())
	require.EqualValues(t, calls, dropped.Load())
}

// status400 refuses every request.
type status400 struct{}

func (status400) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := `{"status":400,"message":"bad notification"}`
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r, ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// TestBlockedResendObserverClose: one merged request of 30 calls is
// refused; the calls go again alone and every single's AttemptStart
// blocks; Close with its ctx ended returns, each call settled once,
// OnDropped once per notification, and no goroutine left once the
// Observer returns.
func TestBlockedResendObserverClose(t *testing.T) {
	const calls = 30
	ignore := goleak.IgnoreCurrent()
	unblock := make(chan struct{})
	entered := make(chan struct{}, 1000)
	var attempts, dropped, callbacks atomic.Int64
	c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.HTTPClient = &http.Client{Transport: status400{}}
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg.Observer = &target.Observer{AttemptStart: func(ctx context.Context, _ *target.AttemptEvent) context.Context {
			if attempts.Add(1) > 1 {
				entered <- struct{}{}
				<-unblock
			}
			return ctx
		}}
		cfg.Notifications.OnDropped = func(ns []target.Notification, err error) { dropped.Add(int64(len(ns))) }
	})
	// Held in the first exchange's Observer until all are queued: one round.
	fs := make([]*future.Future[*target.Response], calls)
	for i := range calls {
		o := oneNotification(fmt.Sprintf("n-%d", i))
		o.SessionID = "s"
		fs[i] = c.SendNotifications(t.Context(), o)
		fs[i].OnComplete(func(*target.Response, error) { callbacks.Add(1) })
	}
	within(t, entered, "a single's exchange")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ctx) }()
	require.ErrorIs(t, within(t, closed, "Close"), context.Canceled)
	for i, f := range fs {
		select {
		case <-f.Done():
		default:
			t.Fatalf("call %d unsettled after Close", i)
		}
	}
	close(unblock)
	require.Eventually(t, func() bool { return callbacks.Load() == calls && dropped.Load() == calls }, 10*time.Second, time.Millisecond)
	srv.Close()
	c.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
	require.EqualValues(t, calls, callbacks.Load())
	require.EqualValues(t, calls, dropped.Load())
}

// TestCloseRacesSenders: 120 calls of 12 visitors, the edge 2 ms late,
// and Close's ctx ending at some moment while they are being sent; every
// call settles once, each notification is either delivered (its call
// succeeded) or reaches OnDropped, once, never both.
func TestCloseRacesSenders(t *testing.T) {
	for round := range 20 {
		const calls = 120
		var mu sync.Mutex
		dropped := map[string]int{}
		c, srv := setup(t, targettest.Config{Offers: offers, Latency: targettest.Latency{Fixed: 2 * time.Millisecond}}, func(cfg *target.Config) {
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			cfg.Notifications.OnDropped = func(ns []target.Notification, err error) {
				mu.Lock()
				defer mu.Unlock()
				for _, n := range ns {
					dropped[n.ID]++
				}
			}
		})
		fs := make([]*future.Future[*target.Response], calls)
		var settled [calls]atomic.Int32
		for i := range calls {
			o := oneNotification(fmt.Sprintf("n-%d", i))
			o.SessionID = fmt.Sprintf("s-%d", i%12)
			fs[i] = c.SendNotifications(t.Context(), o)
			fs[i].OnComplete(func(*target.Response, error) { settled[i].Add(1) })
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(round)*3*time.Millisecond)
		_ = c.Close(ctx)
		cancel()
		for i, f := range fs {
			_, err := f.Await(t.Context())
			mu.Lock()
			d := dropped[fmt.Sprintf("n-%d", i)]
			mu.Unlock()
			if err == nil {
				require.Zero(t, d, "call %d delivered and dropped", i)
			} else {
				require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return dropped[fmt.Sprintf("n-%d", i)] == 1 }, 5*time.Second, time.Millisecond, "call %d failed (%v), dropped %d times", i, err, d)
			}
			require.Eventually(t, func() bool { return settled[i].Load() == 1 }, 5*time.Second, time.Millisecond)
		}
		mu.Lock()
		t.Logf("round %d: %d of %d dropped", round, len(dropped), calls)
		mu.Unlock()
		srv.Close()
	}
}
