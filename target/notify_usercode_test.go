package target_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// The user's code that runs on the notification queue's goroutines (the
// Observer's attempt events of a queued exchange, the callbacks of the
// calls it settles) cannot leave a call unsettled, end the queue, crash the
// program or hold Close past its context.

// TestQueuedExchangeObserverPanicOrGoexit: an AttemptStart or AttemptDone
// that panics or calls runtime.Goexit in a queued notification's exchange
// settles the call (a *future.PanicError, or ErrCallGoexit, as a GetOffers
// call's), frees its room, is logged, and the queue sends the next
// notifications; Close returns. Before the fix the Goexit left the call
// pending for ever, and the panic ended the program.
func TestQueuedExchangeObserverPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, hook := range []string{"AttemptStart", "AttemptDone"} {
		for _, how := range []string{"panic", "Goexit"} {
			t.Run(hook+"/"+how, func(t *testing.T) {
				t.Parallel()
				var log syncBuffer
				var fired atomic.Bool
				misbehave := func() {
					if !fired.CompareAndSwap(false, true) {
						return // once: the next call goes through
					}
					if how == "panic" {
						panic("observer bug")
					}
					runtime.Goexit()
				}
				var (
					mu    sync.Mutex
					kinds []target.ErrorKind
				)
				obs := &target.Observer{CallDone: func(_ context.Context, e *target.CallEvent) {
					mu.Lock()
					kinds = append(kinds, e.ErrorKind)
					mu.Unlock()
				}}
				if hook == "AttemptStart" {
					obs.AttemptStart = func(ctx context.Context, _ *target.AttemptEvent) context.Context { misbehave(); return ctx }
				} else {
					obs.AttemptDone = func(context.Context, *target.AttemptEvent) { misbehave() }
				}
				c, srv := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
					cfg.Observer = obs
					cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
					cfg.Notifications.QueueSize = 1 // the call's room must come back
				})
				first := c.SendNotifications(t.Context(), oneNotification("n-1"))
				errs := make(chan error, 1)
				go func() { _, err := first.Await(context.Background()); errs <- err }()
				err := within(t, errs, "the call whose Observer function misbehaved")
				if how == "panic" {
					var pe *future.PanicError
					require.ErrorAs(t, err, &pe)
					assert.Equal(t, "observer bug", pe.Value)
					// The queue settles the call first and logs after.
					assert.Eventually(t, func() bool {
						return strings.Contains(log.String(), "recovered a panic on the notification queue")
					}, 10*time.Second, time.Millisecond)
				} else {
					require.ErrorIs(t, err, target.ErrCallGoexit)
					assert.Eventually(t, func() bool {
						return strings.Contains(log.String(), "runtime.Goexit called on the notification queue")
					}, 10*time.Second, time.Millisecond)
				}

				second := c.SendNotifications(t.Context(), oneNotification("n-2"))
				go func() { _, err := second.Await(context.Background()); errs <- err }()
				require.NoError(t, within(t, errs, "the next call"))
				closed := make(chan error, 1)
				go func() { closed <- c.Close(context.Background()) }()
				require.NoError(t, within(t, closed, "Close"))
				mu.Lock()
				assert.Equal(t, []target.ErrorKind{target.ErrorKindPanic, ""}, kinds, "CallDone for both calls")
				mu.Unlock()
				if hook == "AttemptStart" {
					assert.Len(t, srv.Requests(), 1, "only the second call reached the edge")
				}
			})
		}
	}
}

// TestQueuedExchangeObserverBlocksClose: an Observer function that blocks
// in a queued notification's exchange does not hold Close(ctx) past ctx:
// Close returns an error wrapping ctx's, with the call settled with
// ErrClientClosed, and the sender, when the Observer returns, finds the
// call settled and ends. Before the fix Close waited for the Observer.
func TestQueuedExchangeObserverBlocksClose(t *testing.T) {
	t.Parallel()
	for _, hook := range []string{"AttemptStart", "AttemptDone"} {
		t.Run(hook, func(t *testing.T) {
			t.Parallel()
			entered, unblock := make(chan struct{}), make(chan struct{})
			var once sync.Once
			block := func() {
				once.Do(func() { close(entered) })
				<-unblock
			}
			var dropped atomic.Int64
			obs := &target.Observer{}
			if hook == "AttemptStart" {
				obs.AttemptStart = func(ctx context.Context, _ *target.AttemptEvent) context.Context { block(); return ctx }
			} else {
				obs.AttemptDone = func(context.Context, *target.AttemptEvent) { block() }
			}
			c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
				cfg.Observer = obs
				cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
				cfg.Notifications.OnDropped = func(ns []target.Notification, err error) {
					if errors.Is(err, target.ErrClientClosed) {
						dropped.Add(int64(len(ns)))
					}
				}
			})
			var callbacks atomic.Int64
			f := c.SendNotifications(t.Context(), oneNotification("n-1"))
			f.OnComplete(func(*target.Response, error) { callbacks.Add(1) })
			within(t, entered, "the Observer function")

			ctx, cancel := context.WithCancel(context.Background())
			closed := make(chan error, 1)
			go func() { closed <- c.Close(ctx) }()
			cancel()
			err := within(t, closed, "Close with its ctx ended")
			require.ErrorIs(t, err, context.Canceled)
			select {
			case <-f.Done():
			default:
				t.Fatal("Close returned with the call unsettled")
			}
			_, err = f.Await(context.Background())
			require.ErrorIs(t, err, target.ErrClientClosed)

			close(unblock)
			// The sender comes back and ends; the call's callback ran once
			// and OnDropped heard of it once.
			require.Eventually(t, func() bool { return callbacks.Load() == 1 && dropped.Load() == 1 }, 10*time.Second, time.Millisecond)
			assert.EqualValues(t, 1, callbacks.Load())
			assert.EqualValues(t, 1, dropped.Load())
		})
	}
}

// status503 answers every request with 503 and counts them.
type status503 struct{ n atomic.Int64 }

func (s *status503) RoundTrip(r *http.Request) (*http.Response, error) {
	s.n.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := `{"status":503,"message":"down"}`
	return &http.Response{
		StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r, ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// TestDroppedNotificationCountsEveryAttempt: the error of a notification
// dropped after the queue's retries counts every request made for it (the
// queue's attempts times the client's own retries each), not only the
// last exchange's. Before the fix it said "attempts 2" of 6.
func TestDroppedNotificationCountsEveryAttempt(t *testing.T) {
	t.Parallel()
	edge := &status503{}
	var events []int
	var mu sync.Mutex
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.HTTPClient = &http.Client{Transport: edge}
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg.Retry = target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}
		cfg.Notifications.MaxAttempts = 3
		cfg.Notifications.RetryFor = time.Minute
		cfg.Observer = &target.Observer{CallDone: func(_ context.Context, e *target.CallEvent) {
			mu.Lock()
			events = append(events, e.Timings.Attempts)
			mu.Unlock()
		}}
	})
	f := c.SendNotifications(t.Context(), oneNotification("n-1"))
	errs := make(chan error, 1)
	go func() { _, err := f.Await(context.Background()); errs <- err }()
	err := within(t, errs, "the dropped call")
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	require.EqualValues(t, 6, edge.n.Load(), "3 queue attempts of 2 requests each")
	assert.Equal(t, 6, api.Attempts)
	assert.Equal(t, 6, api.Timings.Attempts)
	assert.Contains(t, err.Error(), "attempts 6")
	require.NoError(t, c.Close(t.Context()))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{6}, events, "CallDone's timings count them too")
}

// TestQueuedCallOnCompletePanicOrGoexit: a caller's own OnComplete on a
// queued call's future runs on the queue's goroutine, where the future
// package raises its panic again once the other callbacks ran. The queue
// recovers and logs it: the other calls of the request settle and run
// their callbacks, the queue sends the next notifications and Close
// returns. Before the fix the panic ended the program. A Goexit there ends
// that goroutine only, with the same outcome.
func TestQueuedCallOnCompletePanicOrGoexit(t *testing.T) {
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
			c, err := target.NewClient(cfg)
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)

			// The first request holds the worker, so that the three calls
			// of one session queued meanwhile go out in one request.
			blocker := oneNotification("blocker")
			blocker.SessionID = "other-session"
			first := c.SendNotifications(t.Context(), blocker)
			within(t, gate.entered, "the first request")
			var ran atomic.Int64
			var calls []*future.Future[*target.Response]
			for i, id := range []string{"a", "b", "c"} {
				opts := oneNotification(id)
				opts.SessionID = "one-session"
				f := c.SendNotifications(t.Context(), opts)
				f.OnComplete(func(*target.Response, error) {
					ran.Add(1)
					if i == 0 {
						if how == "panic" {
							panic("callback bug")
						}
						runtime.Goexit()
					}
				})
				calls = append(calls, f)
			}
			close(gate.release)
			errs := make(chan error, 4)
			go func() {
				for _, f := range append([]*future.Future[*target.Response]{first}, calls...) {
					_, err := f.Await(context.Background())
					errs <- err
				}
			}()
			for range 4 {
				require.NoError(t, within(t, errs, "the calls"))
			}
			require.Eventually(t, func() bool { return ran.Load() == 3 }, 10*time.Second, time.Millisecond, "every call's callback ran")

			later := c.SendNotifications(t.Context(), oneNotification("later"))
			go func() { _, err := later.Await(context.Background()); errs <- err }()
			require.NoError(t, within(t, errs, "a later call"))
			closed := make(chan error, 1)
			go func() { closed <- c.Close(context.Background()) }()
			require.NoError(t, within(t, closed, "Close"))
			assert.Len(t, srv.Requests(), 3, "the blocker, the three calls in one request, the later one")
			if how == "panic" {
				assert.Contains(t, log.String(), "recovered a panic on the notification queue")
				assert.Contains(t, log.String(), "callback bug")
			}
		})
	}
}

// TestArtifactObserverPanicOrGoexit: an Observer.ArtifactDownload that
// panics (recovered and logged) or calls runtime.Goexit does not end the
// artifact polling: the next download is reported again. Before the fix
// the Goexit ended the polling goroutine.
func TestArtifactObserverPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					_, _ = io.WriteString(w, testArtifact)
				})
				calls := make(chan int, 10)
				n := 0
				obs := &target.Observer{ArtifactDownload: func(context.Context, target.ArtifactEvent) {
					n++ // the downloads are reported one at a time
					calls <- n
					if n == 1 {
						if how == "panic" {
							panic("observer bug")
						}
						runtime.Goexit()
					}
				}}
				od := target.OnDeviceConfig{ArtifactLocation: "https://artifacts.example/rules.json", PollingInterval: target.MinPollingInterval}
				var logs syncBuffer
				c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", DecisioningMethod: target.OnDevice, OnDevice: od,
					Observer: obs, HTTPClient: &http.Client{Transport: inProcess{h}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				require.NoError(t, err)
				defer c.Close(context.Background())
				require.Equal(t, 1, <-calls)
				require.Equal(t, 2, <-calls, "polling went on after the first event's %s", how)
				if how == "panic" {
					assert.Contains(t, logs.String(), "observer bug")
				} else {
					assert.Contains(t, logs.String(), "Observer.ArtifactDownload called runtime.Goexit")
				}
			})
		})
	}
}

// TestNotificationResendObserverPanicOrGoexit: an AttemptDone that panics
// or calls runtime.Goexit in the exchange of a call re-sent alone (after
// the edge refused its merged request) fails that call only, the other
// calls of the batch are delivered and Close returns. Before the fix the
// Goexit left the call pending and the panic ended the program. Without
// either, the refused call's error counts both requests made for it.
func TestNotificationResendObserverPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"none", "panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			var refusals atomic.Int64
			c, release, warmArrived := resendClient(t, func(cfg *target.Config) {
				cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
				cfg.Observer = &target.Observer{AttemptDone: func(_ context.Context, e *target.AttemptEvent) {
					// The first refusal is the merged request's; the second
					// the re-sent n-bad's.
					if e.Status != http.StatusBadRequest || refusals.Add(1) != 2 {
						return
					}
					switch how {
					case "panic":
						panic("observer bug")
					case "Goexit":
						runtime.Goexit()
					}
				}}
			})
			fa, fbad, fb := queueRefusedBatch(t, c, release, warmArrived, nil)
			errs := make(chan error, 3)
			go func() {
				for _, f := range []*future.Future[*target.Response]{fa, fbad, fb} {
					_, err := f.Await(context.Background())
					errs <- err
				}
			}()
			require.NoError(t, within(t, errs, "n-a"))
			errBad := within(t, errs, "n-bad")
			require.NoError(t, within(t, errs, "n-b"))
			switch how {
			case "none":
				var api *target.APIError
				require.ErrorAs(t, errBad, &api)
				assert.Equal(t, 2, api.Attempts, "the merged request and its own")
			case "panic":
				var pe *future.PanicError
				require.ErrorAs(t, errBad, &pe)
			case "Goexit":
				require.ErrorIs(t, errBad, target.ErrCallGoexit)
			}
			closed := make(chan error, 1)
			go func() { closed <- c.Close(context.Background()) }()
			require.NoError(t, within(t, closed, "Close"))
		})
	}
}

// TestOnNotificationsSentPanicOrGoexit: an OnNotificationsSent that
// panics or calls runtime.Goexit on the notification queue's goroutine
// neither ends the program nor stops the queue: the next decision's
// notifications are sent and reported, and Close returns (setupOnDevice's
// cleanup). Before the fix the panic, raised again by the future package
// on the queue's goroutine, ended the program.
func TestOnNotificationsSentPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			var gate *firstRequestGate
			var runs atomic.Int64
			var logs syncBuffer
			s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) {
				next := cfg.HTTPClient.Transport
				if next == nil {
					next = http.DefaultTransport
				}
				// The first notification waits until its decision has
				// returned, so that its outcome runs on the queue's
				// goroutine, not the deciding one.
				gate = &firstRequestGate{next: next, entered: make(chan struct{}), release: make(chan struct{})}
				cfg.HTTPClient = &http.Client{Transport: gate}
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				cfg.OnDevice.OnNotificationsSent = func(*target.Response, error) {
					if runs.Add(1) == 1 {
						if how == "panic" {
							panic("callback bug")
						}
						runtime.Goexit()
					}
				}
			})
			_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
			require.NoError(t, err)
			within(t, gate.entered, "the first notification")
			close(gate.release)
			require.Eventually(t, func() bool { return runs.Load() == 1 }, 10*time.Second, time.Millisecond)
			_, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
			require.NoError(t, err)
			require.Eventually(t, func() bool { return runs.Load() == 2 }, 10*time.Second, time.Millisecond, "the next notification was reported")
			if how == "panic" {
				assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "callback bug") }, 10*time.Second, time.Millisecond)
			}
		})
	}
}

// TestRemoteCallObserverPanicOrGoexit: on a GetOffers call's own
// goroutine, an AttemptStart, AttemptDone or CallDone that panics or calls
// runtime.Goexit settles the call once (a *future.PanicError, or
// ErrCallGoexit), and the next call works.
func TestRemoteCallObserverPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, hook := range []string{"AttemptStart", "AttemptDone", "CallDone"} {
		for _, how := range []string{"panic", "Goexit"} {
			t.Run(hook+"/"+how, func(t *testing.T) {
				t.Parallel()
				var fired atomic.Bool
				misbehave := func() {
					if !fired.CompareAndSwap(false, true) {
						return
					}
					if how == "panic" {
						panic("observer bug")
					}
					runtime.Goexit()
				}
				obs := &target.Observer{}
				switch hook {
				case "AttemptStart":
					obs.AttemptStart = func(ctx context.Context, _ *target.AttemptEvent) context.Context { misbehave(); return ctx }
				case "AttemptDone":
					obs.AttemptDone = func(context.Context, *target.AttemptEvent) { misbehave() }
				case "CallDone":
					obs.CallDone = func(context.Context, *target.CallEvent) { misbehave() }
				}
				c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Observer = obs })
				errs := make(chan error, 1)
				f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
				go func() { _, err := f.Await(context.Background()); errs <- err }()
				err := within(t, errs, "the call")
				if how == "panic" {
					var pe *future.PanicError
					require.ErrorAs(t, err, &pe)
				} else {
					require.ErrorIs(t, err, target.ErrCallGoexit)
				}
				_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")}).Await(t.Context())
				require.NoError(t, err)
				require.NoError(t, c.Close(t.Context()))
			})
		}
	}
}
