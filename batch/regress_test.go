package batch_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// A chain of Settled stages (each Settled over the previous stage, turned
// back into a Future[int] by a Then) used to settle by recursion: Settled's
// input callback called Promise.Resolve, which ran the result's callbacks
// nested inside it. It now settles through CompleteDeferred (with
// AfterFuncDeferred, so that it can still be taken back), like All, Any,
// Race and Quorum. With a 10 MB stack, as in
// TestLongCombinatorChainsSettleOnAFlatStack, the recursion killed the
// process, so the chain runs in a child process.
func TestSettledChainSettlesOnAFlatStack(t *testing.T) {
	if os.Getenv("BATCH_SETTLED_CHAIN_CHILD") == "1" {
		settledChain()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSettledChainSettlesOnAFlatStack$")
	cmd.Env = append(os.Environ(), "BATCH_SETTLED_CHAIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		first := string(out)
		if i := strings.Index(first, "\n"); i > 0 {
			first = first[:i]
		}
		t.Fatalf("a 100 000-stage Settled chain did not settle on a 10 MB stack: %v: %s", err, first)
	}
}

func settledChain() {
	debug.SetMaxStack(10 << 20)
	p := future.NewPromise[int]()
	f := p.Future()
	for range 100_000 {
		f = future.Then(batch.Settled(f), func(r []batch.Result[int]) (int, error) { return r[0].Value, r[0].Err })
	}
	_ = p.Resolve(7)
	if v, err := f.Await(context.Background()); err != nil || v != 7 {
		panic(fmt.Sprintf("got %v, %v", v, err))
	}
}

// A Batcher delivers a batch to its callers one after another on one
// goroutine, settling each promise there. If a callback of one caller's
// future calls runtime.Goexit (t.FailNow in a test callback, testify's
// require), deliver used to never reach the callers after it: they were
// already marked answered, so neither their ctx nor Cancel could settle
// them any more, and they stayed pending forever. forEach now takes its
// loop up again after a Goexit.
func TestBatcherCallbackGoexitAnswersOtherCallers(t *testing.T) {
	b := batch.NewBatcher(func(_ context.Context, _ struct{}, reqs []int) ([]int, error) {
		return reqs, nil
	}, batch.BatchOptions{Window: time.Hour, MaxSize: 2})
	first := b.Submit(t.Context(), struct{}{}, 1)
	first.OnComplete(func(int, error) { runtime.Goexit() })
	second := b.Submit(t.Context(), struct{}{}, 2) // fills the batch: sent at once
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	v, err := second.Await(ctx)
	require.NoError(t, err, "the second caller of the batch was never answered")
	require.Equal(t, 2, v)
}

// All cancels its inputs through forEach, which used to recover a
// panicking callback but not a Goexit: a callback on one input that calls
// runtime.Goexit (it runs when All cancels that input) stopped the loop,
// and the inputs after it were never cancelled, although All promises to
// cancel every input on its first error.
func TestAllCancelsEveryInputDespiteGoexitingCallback(t *testing.T) {
	fail := future.NewPromise[int]()
	mid := future.NewPromise[int]()
	mid.Future().OnComplete(func(int, error) { runtime.Goexit() })
	last := future.NewPromise[int]()
	all := batch.All(fail.Future(), mid.Future(), last.Future())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = fail.Reject(errA)
	}()
	wg.Wait()
	_, err := all.Await(t.Context())
	require.ErrorIs(t, err, errA)
	_, err = last.Future().Peek()
	require.ErrorIs(t, err, context.Canceled, "the input after the Goexiting callback was not cancelled")
}

// valuePanicCtx can end (its Done is not nil), but its Value panics, and
// context.AfterFunc calls Value.
type valuePanicCtx struct{ context.Context }

func (valuePanicCtx) Done() <-chan struct{} { return make(chan struct{}) }
func (valuePanicCtx) Value(any) any         { panic("hostile Value") }

// Submit registered the caller's ctx watch (context.AfterFunc, which calls
// the ctx's Done and Value) with the Batcher's mutex held: a ctx whose
// Value panics left the mutex locked, and every later Submit of the
// Batcher blocked forever. The panic now fails only its own call, on the
// caller's goroutine, and the request is left out of the batch.
func TestBatcherHostileCtxFailsOnlyItsOwnCall(t *testing.T) {
	sent := make(chan []int, 1)
	b := batch.NewBatcher(func(_ context.Context, _ struct{}, reqs []int) ([]int, error) {
		sent <- reqs
		return reqs, nil
	}, batch.BatchOptions{Window: time.Hour, MaxSize: 2})
	require.PanicsWithValue(t, "hostile Value", func() {
		b.Submit(valuePanicCtx{context.Background()}, struct{}{}, 1)
	})
	done := make(chan []int, 1)
	go func() {
		second := b.Submit(t.Context(), struct{}{}, 2)
		third := b.Submit(t.Context(), struct{}{}, 3) // fills the batch: sent at once
		v2, err2 := second.Await(t.Context())
		v3, err3 := third.Await(t.Context())
		if err2 == nil && err3 == nil {
			done <- []int{v2, v3}
		}
		close(done)
	}()
	select {
	case got := <-done:
		require.Equal(t, []int{2, 3}, got)
	case <-time.After(10 * time.Second): // a guard against hanging, not a timing
		t.Fatal("a later Submit blocked: the Batcher's mutex is held")
	}
	require.Equal(t, []int{2, 3}, <-sent, "the hostile call's request was sent")
}
