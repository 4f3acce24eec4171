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
// Callbacks ([Future.OnSuccess], [Future.OnError], [Future.OnComplete]) and
// continuations ([Then], [Compose], [Recover], [Handle]) run exactly once,
// including when registered after settlement. None of them starts a
// goroutine: they run on the goroutine that settles the future, in the order
// they were registered, or at once on the registering goroutine if the
// future has settled.
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
// A future is one allocation. [Go] plus a blocking Await costs three
// allocations and one goroutine; a [Then] stage costs two allocations and no
// goroutine. The benchmarks in this package measure them against a bare
// goroutine with a channel, errgroup and conc.
package future
