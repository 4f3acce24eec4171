// Package future provides Future[T], a value that is being computed, and the
// functions that compose futures.
//
// Every call of the Target SDK returns a future, so that the time spent
// waiting on the network overlaps with other work: start several calls, do
// something else, then await them, register callbacks, or chain the next
// step with [Then].
//
// # Contracts
//
// A future settles exactly once, with a value and an error, and every reader
// sees the same pair. [Future.Await] may be called any number of times from
// any goroutine; the context given to it bounds the wait, never the work, and
// an Await that gives up changes nothing for the others. [Future.Done]
// returns the same channel on every call, closed at settlement, so futures
// work with select.
//
// The work of a future started by [Go] runs under a context derived from the
// one given to Go. It stops when that context is cancelled, when the future
// is cancelled ([Future.Cancel], [Timeout]), and it is released when the
// work returns.
//
// Callbacks ([Future.OnSuccess], [Future.OnError], [Future.OnComplete],
// [Future.AfterFunc]) and continuations ([Then], [Compose], [Recover],
// [Handle]) run exactly once, including when registered after settlement.
// None of them starts a goroutine: they run on the goroutine that settles
// the future, in the order they were registered, or at once on the
// registering goroutine if the future has settled and its callbacks have
// all run. A callback registered by another callback of the same future (or
// while that goroutine is still running them) runs after the ones
// registered before it, as in JavaScript's job queue; asyncio's call_soon
// gives the same order, and CompletableFuture leaves it unspecified.
// Callbacks one goroutine registers on a future therefore always run in the
// order it registered them.
//
// Settling a future whose continuations settle further futures runs their
// callbacks from a work list on the settling goroutine, breadth first, not
// by recursion: the stack depth of a settlement does not grow with the
// length of a chain of [Then] or [Compose] stages, or with the number of
// iterations of a loop that composes each step from the last, and a stage
// whose callbacks have run is no longer referenced by the work list. A
// continuation registered on a future that has already settled runs at once
// on the registering goroutine, like a plain call: a loop that composes on
// settled futures recurses in its own code.
//
// A callback that may stop mattering before the future settles (a wait that
// gives up, a loop left early) is registered with [Future.AfterFunc], whose
// stop takes it back, so that a long-lived pending future does not hold
// every callback ever registered on it; [Timeout] does this when its result
// is cancelled.
//
// # Panics
//
// A panic in the work of [Go] or in a continuation does not crash the
// program: the future fails with a [*PanicError] holding the panic value and
// the stack where it happened, and errors.As finds it. The work of a future
// runs on a goroutine the caller does not control, so a panic left to unwind
// would take the whole process down with a stack that does not name the
// caller; returning it as the future's error hands it to the code that waits
// for the result, which can log it, retry or re-panic. A panic is never
// silently dropped.
//
// A panicking callback is different: a callback has no future to fail. The
// remaining callbacks still run, then the first panic is raised again as a
// *PanicError on the goroutine that ran them, as a panic in a plain goroutine
// would be.
//
// # Errors
//
// A future's error is exactly what its work returned: nothing wraps it, so
// errors.Is(err, context.Canceled) and errors.As work as they would on a
// direct call. Errors this package makes are [ErrPending],
// [ErrAlreadySettled], [*PanicError], and the timeout of [Timeout], which
// satisfies errors.Is(err, context.DeadlineExceeded).
//
// # Cost
//
// A future is one allocation (72 bytes plus the value). [Go] plus a blocking
// Await costs three allocations (the future with its work's context, 128
// bytes plus the value; the goroutine's closure; the channel the waiter parks
// on) and one goroutine. A [Then] stage costs two allocations and no
// goroutine.
//
// Measured with the benchmarks in this package (go test -bench . -count 6,
// benchstat medians, 2 shared cores, Go 1.26):
//
//	Go + Await, one task        473 ns   1.18x a goroutine + buffered channel,
//	                                     0.78x errgroup, 0.37x a conc pool
//	Go + Await, 100 tasks       53 µs    1.05x goroutine + channel, 1.8x errgroup
//	Go + Await, 10000 tasks     4.7 ms   0.89x goroutine + channel, 0.92x errgroup
//	Then on a settled future    91 ns    2 allocations (a goroutine per stage: 533 ns, 5)
//	OnComplete + settle         80 ns    1 allocation (the promise)
//	100 waiters on one future   31 µs    0.97x the same waiters on a closed channel
package future
