package batch

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
)

// Completed returns an iterator over the inputs' outcomes in the order they
// settle, as (input index, outcome) pairs (asyncio.as_completed); it never
// fails and cancels nothing.
//
// Inputs already settled come first, in input order. The loop blocks while
// nothing has settled; breaking out of it early is safe and leaves nothing
// behind: no goroutine is started, and the callbacks registered on inputs
// still pending are taken back ([future.Future.AfterFunc]) when the loop
// ends, so a long-lived input holds nothing of it. Each range over the
// iterator starts afresh, and ranges may run at the same time. Use
// [CompletedContext] to bound the wait.
//
// Cost: one buffered channel of len(fs), and one callback (two
// allocations) per input pending when the range starts; the loop wakes
// once per input.
func Completed[T any](fs ...*future.Future[T]) iter.Seq2[int, Result[T]] {
	return CompletedContext(context.Background(), fs...)
}

// CompletedContext is [Completed], which never fails, with a bound on the
// wait: the loop ends when ctx does, without yielding the inputs still
// pending (outcomes already in are yielded first), and ctx.Err() then tells
// why it ended early. The inputs go on; ctx bounds the waiting only, as in
// [future.Future.Await], and the loop's callbacks are taken back from them.
// A nil ctx never ends.
func CompletedContext[T any](ctx context.Context, fs ...*future.Future[T]) iter.Seq2[int, Result[T]] {
	if ctx == nil {
		ctx = context.Background()
	}
	fs = fillNil(fs)
	return func(yield func(int, Result[T]) bool) {
		if len(fs) == 0 {
			return
		}
		type outcome struct {
			i int
			r Result[T]
		}
		// Buffered for every input, so a callback never blocks the
		// goroutine that settles an input.
		ch := make(chan outcome, len(fs))
		var stops []func() bool
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		for i, f := range fs {
			if v, err := f.Peek(); err != future.ErrPending {
				ch <- outcome{i, Result[T]{v, err}}
				continue
			}
			stops = append(stops, f.AfterFunc(func(v T, err error) { ch <- outcome{i, Result[T]{v, err}} }))
		}
		for range fs {
			var o outcome
			// An outcome already there is yielded even if ctx has ended
			// too: select alone would pick between them at random.
			select {
			case o = <-ch:
			default:
				select {
				case o = <-ch:
				case <-ctx.Done():
					return
				}
			}
			if !yield(o.i, o.r) {
				return
			}
		}
	}
}

// Until says when [Wait] returns (asyncio.wait's return_when).
type Until int

const (
	// AllCompleted waits for every input (ALL_COMPLETED).
	AllCompleted Until = iota
	// FirstCompleted returns once any input has settled (FIRST_COMPLETED).
	FirstCompleted
	// FirstError returns once any input has failed, or every input has
	// settled (FIRST_EXCEPTION).
	FirstError
)

// WaitOptions configures [Wait]. The zero value waits for every input,
// bounded by the context only, and cancels nothing.
type WaitOptions struct {
	// Until is the condition Wait returns on.
	Until Until
	// Timeout, if positive, bounds the wait in addition to the context.
	Timeout time.Duration
	// CancelPending, if set, cancels the inputs still pending when Wait
	// returns (see [future.Future.Cancel]); they then appear in pending.
	CancelPending bool
}

// Wait blocks until the condition in opts holds, the timeout passes or ctx
// ends, and returns the indexes of the inputs settled by then (done) and of
// the others (pending), each in input order (asyncio.wait); it never fails.
//
// A timeout or a cancelled ctx is not an error: the pending list says what
// did not finish, and ctx.Err() whether ctx ended. The pending inputs go on
// unless opts.CancelPending is set. A nil ctx waits without a bound other
// than opts.Timeout. A nil input counts as settled (failed
// with [ErrNilFuture]). With no inputs Wait returns at once.
//
// Cost: no goroutine; a timer when opts.Timeout is set, one callback (two
// allocations) per input pending at the call, and one wake-up. Wait takes
// its callbacks back from the inputs still pending when it returns
// ([future.Future.AfterFunc]), so polling a long-lived future with Wait in
// a loop leaves nothing behind on it.
func Wait[T any](ctx context.Context, opts WaitOptions, fs ...*future.Future[T]) (done, pending []int) {
	if len(fs) == 0 {
		return []int{}, []int{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	fs = fillNil(fs)
	var (
		ready     = make(chan struct{})
		readyOnce sync.Once
		left      atomic.Int64
	)
	signal := func() { readyOnce.Do(func() { close(ready) }) }
	left.Store(int64(len(fs)))
	settled := func(_ T, err error) {
		if left.Add(-1) == 0 || opts.Until == FirstCompleted || (opts.Until == FirstError && err != nil) {
			signal()
		}
	}
	stops := make([]func() bool, 0, len(fs))
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	for _, f := range fs {
		// A settled input counts at once: its callbacks may still be
		// running on the goroutine that settled it, and one registered
		// now would wait for them.
		if v, err := f.Peek(); err != future.ErrPending {
			settled(v, err)
			continue
		}
		stops = append(stops, f.AfterFunc(settled))
	}
	var timeout <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ready:
	case <-timeout:
	case <-ctx.Done():
	}
	done, pending = []int{}, []int{}
	for i, f := range fs {
		_, err := f.Peek()
		// An input that settles between Peek and Cancel makes Cancel
		// return false: it finished on its own and belongs in done.
		if err == future.ErrPending && (!opts.CancelPending || f.Cancel()) {
			pending = append(pending, i)
		} else {
			done = append(done, i)
		}
	}
	return done, pending
}
