// Package batch combines many futures into one, and merges many small calls
// into one bulk call.
//
// The combinators are the ones asyncio, JavaScript promises and Java's
// CompletableFuture and ExecutorService offer, over [*future.Future], with
// Go's error handling and without leaks. Each entry names the function,
// its counterparts, and how it fails:
//
//   - [All]: asyncio.gather, Promise.all, CompletableFuture.allOf.
//     Fails with the first error and cancels the rest, which none of the
//     three does (gather and allOf leave the others running, Promise.all
//     cannot cancel): [Settled] is the one that waits for every input and
//     cancels nothing, and derived inputs protect the originals (see
//     Cancellation).
//   - [Settled]: gather(return_exceptions=True), Promise.allSettled,
//     invokeAll. Never fails; each slot holds a value or an error.
//   - [Any]: Promise.any, invokeAny. Fails with an [*AllFailedError] only
//     if every input fails; cancels the rest on the first success.
//   - [Race]: Promise.race, CompletableFuture.anyOf. Settles like the
//     first input to settle, value or error; cancels the losers.
//   - [Completed], [CompletedContext]: as_completed. Never fail; an
//     iterator of outcomes in completion order.
//   - [Wait]: asyncio.wait with a timeout and return_when. Never fails;
//     returns which inputs are done and which are pending.
//   - [Quorum]: k of n successes (none of the three has it). Fails with a
//     [*QuorumError] as soon as k is out of reach; cancels the rest.
//   - [Map]: Semaphore with gather, errgroup.SetLimit. Fails with the first
//     error, or with a [*MapError] holding every error under [CollectAll].
//   - [Coalescer]: JavaScript's DataLoader. Each key fails with its bulk
//     call's error, or [ErrMissingKey].
//   - [Batcher]: many requests sent as one and split back (none of the
//     three has it). Each request fails with its bulk call's error.
//   - [Group]: golang.org/x/sync/singleflight, typed, returning a future.
//     Fails as the shared work does.
//
// Every combinator returns a future (or, for the iterator and Wait, plain
// values), so results compose further with [future.Then] and friends. The
// first sentence of each function's documentation states its error mode.
//
// # Cancellation
//
// The combinators that can settle before all their inputs do ([All] on an
// error, [Any], [Race], [Quorum]) cancel the remaining inputs when they
// settle, and so does cancelling the future they return. Cancelling an
// input means calling [future.Future.Cancel]: a pending input settles with
// context.Canceled at once, the work of an input started by [future.Go]
// sees its context cancelled and its goroutine ends when the work notices,
// and inputs already settled are untouched. Nothing waits for that work.
// [Settled], [Completed] and [Wait] cancel nothing (Wait on request).
//
// Inputs are shared handles: a future given to two combinators, or still
// awaited elsewhere, is cancelled for everyone. Pass a derived future
// ([future.Then] with an identity function) to protect the original: then
// only the derived one is cancelled, and the original's work goes on.
//
// # Goroutines and cost
//
// The combinators start no goroutine: they register one callback per input
// ([future.Future.OnComplete]) and count down an atomic counter, so whoever
// awaits the result wakes once, not once per input. [Map] runs at most its
// limit of goroutines and settles only after every call it started has
// returned. [Batcher] and [Coalescer] hold a [time.AfterFunc] timer while a
// batch is open and a goroutine while a bulk call runs, nothing when idle.
// The benchmarks in this package compare All with errgroup and a
// sync.WaitGroup, and Map with errgroup.SetLimit and conc's iter.Map; the
// figures are in the functions' documentation.
//
// # Coalescing for a client
//
// [Batcher] is the piece a client uses to merge calls: requests submitted
// under the same group key within a window go to one bulk function, which
// returns one response per request, in order. For the Delivery API the
// group is the visitor (session, ids, cookies), a request is one caller's
// mboxes, and the bulk function sends one Delivery request with every
// caller's mboxes under fresh unique indexes and splits the response back
// by index; requests for different visitors are never merged. [Coalescer]
// is the keyed form for lookups by id, and [Group] shares work already in
// flight. In outline:
//
//	type visitor struct{ sessionID, tntID, cookies string }
//	merger := batch.NewBatcher(func(ctx context.Context, v visitor, reqs []Request) ([]Response, error) {
//		one, spans := merge(reqs)      // caller i's mboxes get indexes spans[i]
//		resp, err := send(ctx, one)    // one Delivery request
//		if err != nil {
//			return nil, err            // fails every caller of this batch
//		}
//		return split(resp, spans), nil // caller i's response from its indexes
//	}, batch.BatchOptions{Window: 2 * time.Millisecond, MaxSize: 50})
//	offers := merger.Submit(ctx, visitorOf(req), req) // *future.Future[Response]
//
// Each caller keeps its own future and its own context: one giving up
// fails only its future, and a batch every caller gave up on is not sent
// (or, if in flight, its context is cancelled).
//
// # Panics and bad input
//
// A panicking input fails with its [*future.PanicError] like any other
// error; a panic in a function given to [Map], [Batcher], [Coalescer] or
// [Group] becomes one. Nothing panics on bad input: a nil input future
// counts as failed with [ErrNilFuture], and other mistakes (no inputs where
// one is needed, a limit below 1, a nil function) give an already failed
// future with an error naming the problem. A key of [Group], [Coalescer] or
// [Batcher] that cannot be hashed (a slice in a key of interface type)
// fails its caller with [ErrUnhashableKey], one that is not equal to itself
// (a NaN, which a map could never find again) with [ErrNaNKey], and the
// component goes on serving the others. A function that calls
// runtime.Goexit (t.FailNow, testify's require) fails its callers with an
// error saying so, as a panic does, and leaves no one pending; so does a
// callback on one caller's future or on an input (which the package runs
// when it settles or cancels it): the other callers are still answered and
// the other inputs still cancelled before the goroutine ends.
//
// # Callbacks on inputs
//
// The combinators register callbacks on their inputs. [Completed] and
// [CompletedContext] left early, [Wait] when it returns and [Settled]
// when its result is cancelled take theirs back from the inputs still
// pending ([future.Future.AfterFunc]), so polling a long-lived future
// leaves nothing behind. [All], [Any], [Race] and [Quorum] need not: when
// they settle early they cancel their inputs, which settles them. A
// combinator whose result is dropped while it and its inputs are still
// pending keeps its callbacks on those inputs until they settle: cancel
// the result to release them.
package batch
