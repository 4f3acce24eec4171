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
