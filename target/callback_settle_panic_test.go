package target_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// heldEdge answers like instantEdge once release is closed, so that a
// test can register callbacks on a call's future before the call's
// goroutine settles it.
type heldEdge struct{ release chan struct{} }

func (e heldEdge) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-e.release:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return instantEdge{}.RoundTrip(r)
}

// recordHandler sends the message and attributes of each record at or
// above its level to records.
type recordHandler struct {
	level   slog.Level
	records chan string
}

func (h recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h recordHandler) WithGroup(string) slog.Handler                { return h }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.records <- b.String()
	return nil
}

// childEnv names the variable that makes the test binary, re-run by
// TestFutureCallbackPanicOnCallGoroutine, play the child.
const childEnv = "TARGET_TEST_SETTLE_PANIC_CHILD"

// TestFutureCallbackPanicOnCallGoroutine: a panic in the caller's own
// OnComplete on a GetOffers or GetAttributes future, which the future
// package raises again on the goroutine that settles the future, the
// call's, is recovered there and logged at level Error with its stack, as
// the notification queue does, instead of ending the program. It ran
// uncaught on the SDK's goroutine and killed the process, so the scenario
// runs in a child process (this test binary, re-run), whose exit the test
// checks.
func TestFutureCallbackPanicOnCallGoroutine(t *testing.T) {
	t.Parallel()
	if os.Getenv(childEnv) != "" {
		t.Skip("the child runs TestFutureCallbackPanicChild")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFutureCallbackPanicChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child died:\n%s", out)
	assert.Contains(t, string(out), "child: done")
}

// TestFutureCallbackPanicChild is the child of
// TestFutureCallbackPanicOnCallGoroutine; it skips unless run as one.
func TestFutureCallbackPanicChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestFutureCallbackPanicOnCallGoroutine in a child process")
	}
	edge := heldEdge{release: make(chan struct{})}
	records := make(chan string, 16)
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: edge},
		Logger:     slog.New(recordHandler{level: slog.LevelError, records: records}),
	})
	require.NoError(t, err)
	f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m")})
	f.OnComplete(func(*target.Response, error) { panic("boom in OnComplete") })
	ran := make(chan struct{})
	f.OnComplete(func(*target.Response, error) { close(ran) }) // runs too
	g := c.GetAttributes(t.Context(), []string{"m"}, target.GetAttributesOptions{})
	g.OnSuccess(func(*target.Attributes) { panic("boom in OnSuccess") })
	close(edge.release)
	_, err = f.Await(t.Context())
	require.NoError(t, err)
	_, err = g.Await(t.Context())
	require.NoError(t, err)
	<-ran
	// The two calls settle on goroutines of their own, in either order.
	var all []string
	for range 2 {
		rec := <-records
		assert.Contains(t, rec, "target: recovered a panic in a callback of a call's future, on the SDK's goroutine")
		assert.Contains(t, rec, "stack=goroutine", "the record carries the stack")
		all = append(all, rec)
	}
	for _, want := range []string{"boom in OnComplete", "boom in OnSuccess"} {
		assert.Contains(t, strings.Join(all, "\n"), want)
	}
	require.NoError(t, c.Close(t.Context()))
	fmt.Println("child: done")
}

// TestFutureCallbackGoexitOnCallGoroutine: a runtime.Goexit in the
// caller's own OnComplete ends the call's goroutine only, after the other
// callbacks ran; it is logged at level Error, and the call's cleanup runs
// (goleak, in TestMain, sees no goroutine left behind).
func TestFutureCallbackGoexitOnCallGoroutine(t *testing.T) {
	t.Parallel()
	edge := heldEdge{release: make(chan struct{})}
	records := make(chan string, 16)
	c, err := target.NewClient(target.Config{
		Client: "c", OrganizationID: "O@AdobeOrg",
		HTTPClient: &http.Client{Transport: edge},
		Logger:     slog.New(recordHandler{level: slog.LevelError, records: records}),
	})
	require.NoError(t, err)
	defer c.Close(t.Context())
	var got []string
	f := c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:  offersRequest("m"),
		Callback: func(*target.Response) { got = append(got, "Callback") },
	})
	f.OnComplete(func(*target.Response, error) { runtime.Goexit() })
	ran := make(chan struct{})
	f.OnComplete(func(*target.Response, error) { close(ran) })
	close(edge.release)
	r, err := f.Await(t.Context())
	require.NoError(t, err)
	require.NotNil(t, r)
	<-ran
	select {
	case rec := <-records:
		assert.Contains(t, rec, "target: runtime.Goexit called by a callback of a call's future")
	case <-time.After(time.Minute): // a guard against hanging, not a timing
		t.Fatal("the Goexit was not logged")
	}
	assert.Equal(t, []string{"Callback"}, got)
}
