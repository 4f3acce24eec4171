package target_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestCallbackPanicDoesNotStopTheServer: a nil-index bug in a Callback,
// which runs on the SDK's goroutine outside net/http's recovery, used to
// end the whole process. Now it is recovered, logged with its stack, and
// handed to Config.OnCallbackPanic, and the server keeps serving.
func TestCallbackPanicDoesNotStopTheServer(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	panics := make(chan *future.PanicError, 10)
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.OnCallbackPanic = func(p *future.PanicError) { panics <- p }
	})
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		var once sync.Once
		finish := func() { once.Do(func() { close(done) }) }
		opts := target.GetOffersOptions{Request: offersRequest("nothing-here")}
		switch r.URL.Path {
		case "/callback":
			opts.Callback = func(res *target.Response) {
				defer finish()
				m, _ := res.Mbox("nothing-here")
				_, _ = w.Write(m.Options[0].Content) // no offer: index out of range
			}
		case "/errcallback":
			opts.Request = target.DeliveryRequest{} // invalid: ErrCallback runs on this goroutine
			opts.ErrCallback = func(error) {
				defer finish()
				var m map[string]*target.Response
				_ = m["x"].Status // nil pointer
			}
		case "/goexit":
			opts.Callback = func(*target.Response) {
				defer finish()
				runtime.Goexit()
			}
		default:
			opts.Callback = func(*target.Response) { finish() }
		}
		f := c.GetOffers(r.Context(), opts)
		<-done
		_, _ = f.Await(r.Context())
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(site.Close)
	get := func(path string) {
		t.Helper()
		resp, err := site.Client().Get(site.URL + path)
		require.NoError(t, err, path)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	get("/callback")
	p := <-panics
	var re runtime.Error
	require.ErrorAs(t, p, &re)
	assert.Contains(t, re.Error(), "index out of range")
	assert.Contains(t, string(p.Stack), "TestCallbackPanicDoesNotStopTheServer")
	get("/ok") // still serving

	get("/errcallback")
	p = <-panics
	require.ErrorAs(t, p, &re)
	assert.Contains(t, re.Error(), "nil pointer")
	get("/goexit") // the SDK goroutine ends; nothing to recover, nothing hangs
	get("/ok")
	assert.Empty(t, panics)

	out := logs.String()
	assert.Contains(t, out, "recovered a panic in a Callback or ErrCallback")
	assert.Contains(t, out, "index out of range")
	assert.Contains(t, out, "stack=")
}

// TestCallbackPanicHookPanics: the hook itself is guarded, and without a
// client (a zero Visitor) the panic is still recovered.
func TestCallbackPanicHookPanics(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.OnCallbackPanic = func(*future.PanicError) { panic("hook too") }
	})
	hookLogged := func() bool { return strings.Contains(logs.String(), "recovered a panic in Config.OnCallbackPanic") }
	_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:  offersRequest("hero"),
		Callback: func(*target.Response) { panic(errors.New("callback")) },
	}).Await(t.Context())
	require.NoError(t, err, "the future's outcome is the call's")
	// The callback runs after the future settles: wait for its log.
	require.Eventually(t, hookLogged, 10*time.Second, time.Millisecond)

	var zero target.Visitor
	_, err = zero.GetOffers(context.Background(), target.GetOffersOptions{
		ErrCallback: func(error) { panic("no client") },
	}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrNoVisitorClient)
}

// failingHandler is a slog handler that counts the records of recovered
// panics ("target: recovered a panic in ...") and runs fn for each; it
// discards the others.
type failingHandler struct {
	records *atomic.Int32
	fn      func()
}

func (h failingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h failingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "target: recovered a panic in ") {
		h.records.Add(1)
		h.fn()
	}
	return nil
}
func (h failingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h failingHandler) WithGroup(string) slog.Handler      { return h }

// TestCallbackPanicLoggerFails: the record of a Callback's or
// ErrCallback's panic goes to Config.Logger, whose handler is the user's
// code, from inside the recovery. A handler that panics there used to
// raise the panic again from the callback, ending the program on the
// SDK's goroutine (and out of GetOffers on the caller's); one that called
// runtime.Goexit ended the goroutine before OnCallbackPanic ran (and
// GetOffers never returned to its caller). Now the log line is contained:
// every call settles, GetOffers returns, and OnCallbackPanic gets the
// panic, also when it panics itself and that line's log fails too.
func TestCallbackPanicLoggerFails(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"panic", "Goexit"} {
		for _, hookPanics := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/hookPanics=%v", how, hookPanics), func(t *testing.T) {
				t.Parallel()
				fn := func() { panic("handler bug") }
				if how == "Goexit" {
					fn = runtime.Goexit
				}
				var records atomic.Int32
				hooked := make(chan *future.PanicError, 4)
				c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
					cfg.Logger = slog.New(failingHandler{records: &records, fn: fn})
					cfg.OnCallbackPanic = func(p *future.PanicError) {
						hooked <- p
						if hookPanics {
							panic("hook bug")
						}
					}
				})
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				hook := func(want string) {
					t.Helper()
					select {
					case p := <-hooked:
						assert.Equal(t, want, p.Value)
					case <-ctx.Done():
						t.Fatalf("OnCallbackPanic never got the panic %q", want)
					}
				}

				// On the caller's goroutine: an invalid request's
				// ErrCallback runs before GetOffers returns.
				var (
					f        *future.Future[*target.Response]
					returned bool
					raised   any
				)
				done := make(chan struct{})
				go func() {
					defer close(done)
					defer func() { raised = recover() }()
					f = c.GetOffers(ctx, target.GetOffersOptions{ErrCallback: func(error) { panic("sync callback") }})
					returned = true
				}()
				<-done
				if raised != nil {
					t.Fatalf("GetOffers raised the logger's panic: %v", raised)
				}
				require.True(t, returned, "GetOffers never returned: the logger's Goexit ended its caller")
				_, err := f.Await(ctx)
				require.Error(t, err)
				require.NotErrorIs(t, err, context.DeadlineExceeded)
				hook("sync callback")

				// On the SDK's goroutine: a remote call's Callback.
				f = c.GetOffers(ctx, target.GetOffersOptions{
					Request:  offersRequest("hero"),
					Callback: func(*target.Response) { panic("async callback") },
				})
				_, err = f.Await(ctx)
				require.NoError(t, err)
				hook("async callback")

				want := int32(2) // one record per callback panic
				if hookPanics {
					want = 4 // and one per hook panic
				}
				require.Eventually(t, func() bool { return records.Load() == want }, 10*time.Second, time.Millisecond)
			})
		}
	}
}

// panicRecordHandler is a slog handler that runs fn for each record of a
// recovered panic ("target: recovered a panic in ...") and discards the
// others.
type panicRecordHandler struct{ fn func() }

func (h panicRecordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicRecordHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "target: recovered a panic in ") {
		h.fn()
	}
	return nil
}
func (h panicRecordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicRecordHandler) WithGroup(string) slog.Handler      { return h }

// TestCallbackPanicCloseFromLoggerOrHook: the Logger's handler recording
// a Callback's panic, and OnCallbackPanic, run on goroutines of their own
// (so that a panic or Goexit in them stays there), which count as the
// callback's: a Close from them returns nil at once where the callback
// runs in the notification queue (a SendNotifications Callback), instead
// of waiting for the queue, which waits for the callback, which waits for
// the log line; and returns nil, having waited, on the caller's goroutine
// (an invalid request's ErrCallback) and the SDK's (a remote call's
// Callback), where nothing waits for the callback.
func TestCallbackPanicCloseFromLoggerOrHook(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"queue", "caller", "sdk"} {
		for _, from := range []string{"Logger", "OnCallbackPanic"} {
			t.Run(where+"/"+from, func(t *testing.T) {
				t.Parallel()
				closed := make(chan error, 4)
				var c *target.Client
				closeNow := func() {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					defer cancel()
					closed <- c.Close(ctx)
				}
				c, _ = setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
					cfg.Logger = slog.New(slog.DiscardHandler)
					if from == "Logger" {
						cfg.Logger = slog.New(panicRecordHandler{fn: closeNow})
					} else {
						cfg.OnCallbackPanic = func(*future.PanicError) { closeNow() }
					}
				})
				var f *future.Future[*target.Response]
				switch where {
				case "queue":
					f = c.SendNotifications(t.Context(), target.SendNotificationsOptions{
						Request:  target.DeliveryRequest{Notifications: []target.Notification{{ID: "n1", Type: target.MetricTypeDisplay, Mbox: &target.NotificationMbox{Name: "hero"}, Tokens: []string{"t"}}}},
						Callback: func(*target.Response) { panic("callback bug") },
					})
				case "caller":
					f = c.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) { panic("callback bug") }})
				case "sdk":
					f = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero"), Callback: func(*target.Response) { panic("callback bug") }})
				}
				_, err := f.Await(t.Context())
				if where == "caller" {
					require.Error(t, err)
				} else {
					require.NoError(t, err)
				}
				select {
				case err := <-closed:
					require.NoError(t, err, "Close from the %s, for a callback's panic, waited for the callback", from)
				case <-time.After(10 * time.Second):
					t.Fatalf("Close from the %s never returned", from)
				}
			})
		}
	}
}

// TestCallbackPanicHookGoexit: an OnCallbackPanic that calls
// runtime.Goexit (as t.FailNow and require do in a test's hook) ends only
// its own goroutine, which is logged: GetOffers returns to its caller for
// an invalid request's ErrCallback, and a remote call whose Callback
// panicked settles with its answer.
func TestCallbackPanicHookGoexit(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	var hooked atomic.Int32
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.OnCallbackPanic = func(*future.PanicError) {
			hooked.Add(1)
			runtime.Goexit()
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	returned := make(chan bool, 1)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		c.GetOffers(ctx, target.GetOffersOptions{ErrCallback: func(error) { panic("sync callback") }})
		ok = true
	}()
	require.True(t, <-returned, "GetOffers never returned: OnCallbackPanic's Goexit ended its caller")
	_, err := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("hero"), Callback: func(*target.Response) { panic("async callback") }}).Await(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), "Config.OnCallbackPanic called runtime.Goexit") == 2
	}, 10*time.Second, time.Millisecond, logs.String())
	assert.Equal(t, int32(2), hooked.Load())
}

// TestCallbackPanicRecordSource: with AddSource, the record of a
// Callback's panic names the place in the SDK that logs it (the
// recovery), not the goroutine the handler runs on.
func TestCallbackPanicRecordSource(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{AddSource: true}))
	})
	c.GetOffers(t.Context(), target.GetOffersOptions{ErrCallback: func(error) { panic("sync callback") }})
	out := logs.String()
	require.Contains(t, out, `"msg":"target: recovered a panic in a Callback or ErrCallback"`)
	assert.Regexp(t, `"function":"github.com/target-go/sdk/target.\(\*Client\).recoverCallback"`, out)
}
