package target_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
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

// TestFaultInjection drives 2,000 calls through an edge that injects every
// fault kind at random, with per-call timeouts and cancellations mixed in,
// and checks the contracts that must hold whatever happens: every future
// settles once with one outcome, exactly the matching callback runs exactly
// once, errors are of the documented kinds, and no request is attempted
// more often than the retry policy allows. TestMain's goleak check covers
// goroutines left behind.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	const (
		calls       = 2000
		inFlight    = 64
		maxAttempts = 3
	)
	c, srv := setup(t, targettest.Config{
		Offers:  offers,
		Seed:    7,
		Latency: targettest.Latency{Median: time.Millisecond, P99: 5 * time.Millisecond},
		Faults: targettest.Faults{
			ServerError: 0.1, TooManyRequests: 0.05, Reset: 0.1, SlowBody: 0.05, MalformedJSON: 0.05,
			SlowBodyChunk: 64, SlowBodyInterval: time.Millisecond,
		},
	}, func(cfg *target.Config) {
		cfg.Timeout = 100 * time.Millisecond
		cfg.Retry = target.RetryPolicy{MaxAttempts: maxAttempts, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	})

	type outcome struct {
		okCalls, errCalls atomic.Int32
		cbErr             error
		cbRes             *target.Response
	}
	outcomes := make([]outcome, calls)
	futures := make([]*future.Future[*target.Response], calls)
	var callbacks sync.WaitGroup
	callbacks.Add(calls)
	rng := rand.New(rand.NewPCG(1, 2))
	sem := make(chan struct{}, inFlight)

	for i := range calls {
		sem <- struct{}{}
		o := &outcomes[i]
		ctx, cancel := t.Context(), context.CancelFunc(func() {})
		mode := rng.IntN(10)
		switch mode {
		case 0: // a deadline shorter than the latency tail
			ctx, cancel = context.WithTimeout(t.Context(), time.Duration(1+rng.IntN(3))*time.Millisecond)
		case 1: // the caller gives up right away
			ctx, cancel = context.WithCancel(t.Context())
		}
		opts := target.GetOffersOptions{
			Request: offersRequest("hero", "flags"),
			Callback: func(r *target.Response) {
				o.cbRes = r
				o.okCalls.Add(1)
				callbacks.Done()
			},
			ErrCallback: func(err error) {
				o.cbErr = err
				o.errCalls.Add(1)
				callbacks.Done()
			},
		}
		f := c.GetOffers(ctx, opts)
		futures[i] = f
		switch mode {
		case 1:
			cancel()
		case 2:
			if rng.IntN(2) == 0 {
				f.Cancel()
			}
		}
		f.OnComplete(func(*target.Response, error) {
			cancel()
			<-sem
		})
	}
	callbacks.Wait() // a callback that ran twice would have panicked here

	kinds := map[string]int{}
	for i, f := range futures {
		o := &outcomes[i]
		res, err := f.Peek()
		require.NotErrorIs(t, err, future.ErrPending, "call %d never settled", i)
		res2, err2 := f.Await(t.Context())
		assert.Same(t, res, res2)
		assert.Equal(t, err, err2)
		assert.EqualValues(t, 1, o.okCalls.Load()+o.errCalls.Load(), "call %d: callbacks", i)
		if err != nil {
			assert.EqualValues(t, 1, o.errCalls.Load(), "call %d: ErrCallback for a failure", i)
			assert.Equal(t, err, o.cbErr)
			kinds[errorKind(t, err)]++
			continue
		}
		assert.EqualValues(t, 1, o.okCalls.Load(), "call %d: Callback for a success", i)
		assert.Same(t, res, o.cbRes)
		assert.LessOrEqual(t, res.Timings.Attempts, maxAttempts)
		require.Len(t, res.Response.Execute.Mboxes, 2)
		kinds["ok"]++
	}
	t.Logf("outcomes: %v", kinds)
	// Which kinds occur depends on timing (on a loaded machine more calls
	// time out), so only their presence at all is asserted.
	assert.Positive(t, kinds["ok"])
	assert.Positive(t, kinds["context"])
	assert.Positive(t, kinds["api"]+kinds["transport"]+kinds["decode"], "no edge fault reached a caller")

	// The edge saw every fault kind, and no request id more than the policy
	// allows.
	attempts := map[string]int{}
	faults := map[targettest.Fault]int{}
	for _, r := range srv.Requests() {
		attempts[r.Header.Get("X-Request-Id")]++
		faults[r.Fault]++
	}
	for f := targettest.FaultServerError; f <= targettest.FaultMalformedJSON; f++ {
		assert.Positive(t, faults[f], "fault %v never injected", f)
	}
	for id, n := range attempts {
		assert.LessOrEqual(t, n, maxAttempts, "request %s attempted %d times", id, n)
	}
}

// errorKind sorts a call's error into the documented kinds; anything else
// fails the test.
func errorKind(t *testing.T, err error) string {
	var api *target.APIError
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "context"
	case errors.As(err, &api):
		if api.Status != http.StatusTooManyRequests && api.Status < 500 {
			t.Errorf("unexpected API status %d", api.Status)
		}
		return "api"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "decode"
	case errors.Unwrap(err) != nil:
		return "transport"
	}
	t.Errorf("error of no documented kind: %T %v", err, err)
	return "other"
}
