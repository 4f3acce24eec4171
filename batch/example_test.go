package batch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// fetch stands for a network call: it returns name's offer, or fails for
// names starting with "bad".
func fetch(ctx context.Context, name string) *future.Future[string] {
	return future.Go(ctx, func(context.Context) (string, error) {
		if strings.HasPrefix(name, "bad") {
			return "", fmt.Errorf("fetch %s: %w", name, errNotFound)
		}
		return "offer for " + name, nil
	})
}

var errNotFound = errors.New("not found")

// The asyncio version:
//
//	offers = await asyncio.gather(fetch("home"), fetch("cart"), fetch("checkout"))
func ExampleAll() {
	ctx := context.Background()
	offers, err := batch.All(fetch(ctx, "home"), fetch(ctx, "cart"), fetch(ctx, "checkout")).Await(ctx)
	fmt.Println(offers, err)

	// One failure fails the whole, and the other calls are cancelled.
	_, err = batch.All(fetch(ctx, "home"), fetch(ctx, "bad-cart")).Await(ctx)
	fmt.Println(err, errors.Is(err, errNotFound))
	// Output:
	// [offer for home offer for cart offer for checkout] <nil>
	// fetch bad-cart: not found true
}

// The asyncio version:
//
//	results = await asyncio.gather(fetch("home"), fetch("bad-cart"), return_exceptions=True)
func ExampleSettled() {
	ctx := context.Background()
	results, _ := batch.Settled(fetch(ctx, "home"), fetch(ctx, "bad-cart")).Await(ctx)
	for i, r := range results {
		if r.Err != nil {
			fmt.Println(i, "failed:", r.Err)
			continue
		}
		fmt.Println(i, r.Value)
	}
	// Output:
	// 0 offer for home
	// 1 failed: fetch bad-cart: not found
}

// The asyncio version:
//
//	done, pending = await asyncio.wait(tasks, timeout=10, return_when=FIRST_COMPLETED)
//	for t in pending: t.cancel()
func ExampleWait() {
	ctx := context.Background()
	slow := future.NewPromise[string]() // a call that has not answered yet
	tasks := []*future.Future[string]{slow.Future(), fetch(ctx, "home")}
	done, pending := batch.Wait(ctx, batch.WaitOptions{
		Until:         batch.FirstCompleted,
		Timeout:       10 * time.Second,
		CancelPending: true,
	}, tasks...)
	fmt.Println("done:", done, "pending:", pending)
	v, _ := tasks[done[0]].Await(ctx)
	fmt.Println(v)
	_, err := tasks[pending[0]].Await(ctx)
	fmt.Println(err)
	// Output:
	// done: [1] pending: [0]
	// offer for home
	// context canceled
}

// The asyncio version:
//
//	for coro in asyncio.as_completed(tasks):
//	    print(await coro)
func ExampleCompleted() {
	ctx := context.Background()
	slow := future.NewPromise[string]() // a call that has not answered yet
	fast := fetch(ctx, "cart")
	_, _ = fast.Await(ctx) // make sure it has answered, for a fixed output
	for i, r := range batch.Completed(slow.Future(), fast) {
		fmt.Println(i, r.Value, r.Err)
		// The slow answer arrives while the loop handles the fast one;
		// the second Resolve does nothing.
		_ = slow.Resolve("offer for home")
	}
	// Output:
	// 1 offer for cart <nil>
	// 0 offer for home <nil>
}

// The asyncio version:
//
//	sem = asyncio.Semaphore(2)
//	async def bounded(name):
//	    async with sem:
//	        return await fetch(name)
//	offers = await asyncio.gather(*(bounded(n) for n in names))
func ExampleMap() {
	ctx := context.Background()
	names := []string{"home", "cart", "checkout", "account"}
	offers, err := batch.Map(ctx, names, 2, func(ctx context.Context, name string) (string, error) {
		return fetch(ctx, name).Await(ctx)
	}).Await(ctx)
	fmt.Println(offers, err)

	// CollectAll runs every input and reports each failure.
	offers, err = batch.Map(ctx, []string{"home", "bad-cart"}, 2, func(ctx context.Context, name string) (string, error) {
		return fetch(ctx, name).Await(ctx)
	}, batch.CollectAll()).Await(ctx)
	var me *batch.MapError
	fmt.Println(offers[0], errors.As(err, &me), me.Errs[1])
	// Output:
	// [offer for home offer for cart offer for checkout offer for account] <nil>
	// offer for home true fetch bad-cart: not found
}

// Coalescing has no asyncio counterpart; it is JavaScript's DataLoader:
// loads made close together become one bulk call.
func ExampleCoalescer() {
	ctx := context.Background()
	profiles := batch.NewCoalescer(func(_ context.Context, ids []string) (map[string]string, error) {
		fmt.Println("one bulk call for", ids)
		m := map[string]string{}
		for _, id := range ids {
			if id != "ghost" {
				m[id] = "profile of " + id
			}
		}
		return m, nil
	}, batch.BatchOptions{Window: time.Second, MaxSize: 3})

	// Four loads, one of them a duplicate: the batch is sent as soon as it
	// holds three distinct keys (or when the window ends, if fewer come).
	loads := []*future.Future[string]{
		profiles.Load(ctx, "ann"),
		profiles.Load(ctx, "bob"),
		profiles.Load(ctx, "ann"),
		profiles.Load(ctx, "ghost"),
	}
	results, _ := batch.Settled(loads...).Await(ctx)
	for _, r := range results {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// one bulk call for [ann bob ghost]
	// profile of ann <nil>
	// profile of bob <nil>
	// profile of ann <nil>
	//  batch: bulk result has no value for the key
}

// Promise.any: the first success wins; the others are cancelled.
func ExampleAny() {
	ctx := context.Background()
	slow := future.NewPromise[string]()
	v, err := batch.Any(fetch(ctx, "bad-primary"), slow.Future(), future.Then(fetch(ctx, "replica"), func(s string) (string, error) { return s, nil })).Await(ctx)
	fmt.Println(v, err)
	_, err = slow.Future().Await(ctx)
	fmt.Println("the slow one:", err)

	_, err = batch.Any(fetch(ctx, "bad-a"), fetch(ctx, "bad-b")).Await(ctx)
	var all *batch.AllFailedError
	fmt.Println(errors.As(err, &all), len(all.Errs), errors.Is(err, errNotFound))
	// Output:
	// offer for replica <nil>
	// the slow one: context canceled
	// true 2 true
}

// Group shares work in flight: concurrent requests for the same key get
// the same future.
func ExampleGroup() {
	ctx := context.Background()
	var g batch.Group[string, string]
	release := make(chan struct{})
	load := func(context.Context) (string, error) { <-release; return "config v7", nil }
	a := g.Do(ctx, "config", load)
	b := g.Do(ctx, "config", load)
	close(release)
	v, _ := b.Await(ctx)
	fmt.Println(a == b, v)
	// Output:
	// true config v7
}

// Quorum: two of three replicas must answer.
func ExampleQuorum() {
	ctx := context.Background()
	got, err := batch.Quorum(2, fetch(ctx, "r1"), fetch(ctx, "bad-r2"), fetch(ctx, "r3")).Await(ctx)
	keys := slices.Sorted(func(yield func(int) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	fmt.Println(keys, err)
	// Output:
	// [0 2] <nil>
}

// A Batcher merges the requests of one group into one call and splits the
// answer back, the way same-visitor mbox requests become one Delivery
// request whose response is split by mbox index. Different groups are
// never merged.
func ExampleBatcher() {
	ctx := context.Background()
	delivery := batch.NewBatcher(func(_ context.Context, visitor string, reqs [][]string) ([][]string, error) {
		// Merge: caller i's mboxes take the indexes from start[i] on.
		var mboxes []string
		start := make([]int, len(reqs))
		for i, r := range reqs {
			start[i] = len(mboxes)
			mboxes = append(mboxes, r...)
		}
		fmt.Println("one request for", visitor, "with", mboxes)
		// Split: each caller gets the answers at its own indexes.
		out := make([][]string, len(reqs))
		for i, r := range reqs {
			for j := range r {
				out[i] = append(out[i], fmt.Sprintf("%d:%s", start[i]+j, mboxes[start[i]+j]))
			}
		}
		return out, nil
	}, batch.BatchOptions{Window: time.Second})

	header := delivery.Submit(ctx, "visitor-1", []string{"header", "banner"})
	footer := delivery.Submit(ctx, "visitor-1", []string{"footer"})
	delivery.Flush() // send now rather than when the window ends
	h, _ := header.Await(ctx)
	f, _ := footer.Await(ctx)
	fmt.Println(h, f)
	// Output:
	// one request for visitor-1 with [header banner footer]
	// [0:header 1:banner] [2:footer]
}
