package future_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/target-go/sdk/future"
)

// Start work with Go, do something else, then await the result.
func ExampleGo() {
	ctx := context.Background()
	offer := future.Go(ctx, func(ctx context.Context) (string, error) {
		return "hero-banner", nil // a Target call, say
	})

	// ... render the rest of the page meanwhile ...

	v, err := offer.Await(ctx)
	fmt.Println(v, err)
	// Output: hero-banner <nil>
}

// Chain steps with Then; an error skips the remaining steps.
func ExampleThen() {
	ctx := context.Background()
	name := future.Resolved("  summer-sale ")
	trimmed := future.Then(name, func(s string) (string, error) { return strings.TrimSpace(s), nil })
	upper := future.Then(trimmed, func(s string) (string, error) { return strings.ToUpper(s), nil })
	fmt.Println(upper.Await(ctx))

	failed := future.Then(future.Rejected[string](errors.New("no offer")), func(s string) (int, error) {
		return len(s), nil // not called
	})
	fmt.Println(failed.Await(ctx))
	// Output:
	// SUMMER-SALE <nil>
	// 0 no offer
}

// Callbacks registered before settlement run in registration order on the
// settling goroutine; a callback registered afterwards runs at once.
func ExampleFuture_OnComplete() {
	p := future.NewPromise[int]()
	f := p.Future()
	f.OnSuccess(func(v int) { fmt.Println("success:", v) })
	f.OnError(func(err error) { fmt.Println("error:", err) }) // not called
	f.OnComplete(func(v int, err error) { fmt.Println("complete:", v, err) })

	_ = p.Resolve(7)
	f.OnSuccess(func(v int) { fmt.Println("late:", v) })
	// Output:
	// success: 7
	// complete: 7 <nil>
	// late: 7
}

// legacyFetch reports its result through callbacks, as callback-style APIs do.
func legacyFetch(mbox string, callback func(string), errCallback func(error)) {
	go func() {
		if mbox == "" {
			errCallback(errors.New("empty mbox name"))
			return
		}
		callback("content for " + mbox)
	}()
}

// A Promise turns a callback-style API into a future.
func ExampleNewPromise() {
	fetch := func(mbox string) *future.Future[string] {
		p := future.NewPromise[string]()
		legacyFetch(mbox,
			func(v string) { _ = p.Resolve(v) },
			func(err error) { _ = p.Reject(err) })
		return p.Future()
	}

	ctx := context.Background()
	fmt.Println(fetch("home").Await(ctx))
	fmt.Println(fetch("").Await(ctx))
	// Output:
	// content for home <nil>
	//  empty mbox name
}

// Done composes with select, here to take whichever of two futures settles
// first.
func ExampleFuture_Done() {
	ctx := context.Background()
	slow := future.NewPromise[string]() // never settles in this example
	fast := future.Resolved("cached")

	select {
	case <-slow.Future().Done():
		fmt.Println(slow.Future().Await(ctx))
	case <-fast.Done():
		fmt.Println(fast.Await(ctx))
	}
	// Output: cached <nil>
}

// Timeout gives up on a future after a while and stops the work it owns.
func ExampleTimeout() {
	ctx := context.Background()
	work := future.Go(ctx, func(ctx context.Context) (string, error) {
		<-ctx.Done() // a call that takes too long
		return "", ctx.Err()
	})
	_, err := future.Timeout(work, 10*time.Millisecond).Await(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// A wait that gives up takes its callback back, so that a future that
// stays pending for long does not keep it.
func ExampleFuture_AfterFunc() {
	p := future.NewPromise[string]()
	f := p.Future()
	stop := f.AfterFunc(func(v string, err error) { fmt.Println("first:", v) })
	f.AfterFunc(func(v string, err error) { fmt.Println("second:", v) })

	fmt.Println("stopped:", stop())
	_ = p.Resolve("offer")
	fmt.Println("stopped after settlement:", stop())
	// Output:
	// stopped: true
	// second: offer
	// stopped after settlement: false
}

// A promise settled from another future's callback: CompleteDeferred hands
// the promise's callbacks back to the goroutine's work list, so a long
// chain of such relays settles without growing the stack.
func ExamplePromise_CompleteDeferred() {
	src := future.NewPromise[int]()
	relay := future.NewPromise[string]()
	src.Future().OnCompleteDeferred(func(v int, err error) future.Deferred {
		d, _ := relay.CompleteDeferred(fmt.Sprint("got ", v), err)
		return d // runs relay's callbacks after this one returns
	})
	relay.Future().OnSuccess(func(s string) { fmt.Println(s) })
	_ = src.Resolve(42)
	// Output: got 42
}
