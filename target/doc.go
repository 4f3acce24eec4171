// Package target is a client for the Adobe Target Delivery API
// (POST /rest/v1/delivery) whose every call returns a [future.Future]:
// start several calls, do other work, then await them, register callbacks,
// or chain the next step with [future.Then].
//
// It gives what Adobe's Python, Node.js and Java SDKs give for server-side
// delivery (offers, notifications, attributes, the mbox and mboxEdgeCluster
// cookies, analytics details, response tokens, trace, telemetry) and
// behaves as they do on the wire, with the transport they lack: one
// keep-alive connection pool sized for parallel calls, a deadline that
// aborts the request, and bounded, opt-in retries.
//
// # Creating a client
//
// A [Client] is built once from a [Config], validated by [NewClient], and
// shared: it is safe for concurrent use and owns its connection pool.
//
//	client, err := target.NewClient(target.Config{
//		Client:         "acmeclient",                  // {client}.tt.omtrdc.net
//		OrganizationID: "0123456789ABCDEF@AdobeOrg",
//		Timeout:        500 * time.Millisecond,        // per call; 0 means 3s
//		Retry:          target.RetryPolicy{MaxAttempts: 3},
//		Logger:         slog.Default(),                // debug records, redacted
//	})
//	if err != nil {
//		// *target.ConfigError names the field, e.g. Config.OrganizationID
//	}
//
// Bring an *http.Client in Config.HTTPClient for proxies, tracing or custom
// TLS; it is then used as is. Without one the client makes a transport that
// keeps up to 100 idle connections per host, so that a burst of parallel
// calls reuses its connections for the next burst instead of dialling again
// (measured by TestParallelCallsReuseConnections: 300 calls in bursts of 100
// open 100 connections). Call [Client.CloseIdleConnections] when done with a
// client in tests.
//
// # Calls
//
// [Client.GetOffers], [Client.SendNotifications] and [Client.GetAttributes]
// take a context and an options struct that mirrors the options of Adobe's
// SDKs, and return a future at once. Await it:
//
//	res, err := client.GetOffers(ctx, target.GetOffersOptions{
//		Request: target.DeliveryRequest{
//			Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}},
//		},
//		TargetCookie:       cookieValue(r, target.MboxCookie),
//		TargetLocationHint: cookieValue(r, target.LocationHintCookie),
//	}).Await(ctx)
//
// or pass callbacks, as with the callback and err_callback options of the
// Python SDK: exactly one of Callback and ErrCallback runs, exactly once,
// right after the future settles, on the goroutine that settled it:
//
//	client.SendNotifications(ctx, target.SendNotificationsOptions{
//		Request:     target.DeliveryRequest{Notifications: displayed},
//		ErrCallback: func(err error) { log.Warn("notification lost", "error", err) },
//	})
//
// or chain, without a goroutine per step:
//
//	html := future.Then(client.GetOffers(ctx, opts), func(r *target.Response) (string, error) {
//		s, _ := r.Response.Execute.Mboxes[0].Options[0].ContentString()
//		return s, nil
//	})
//
// GetAttributes is future.Then over GetOffers: it asks for the named mboxes
// and merges their JSON offers into [Attributes] with typed getters that take
// a default ([Attributes.GetString], [Attributes.GetBool],
// [Attributes.GetInt], [Attributes.GetFloat], [Attributes.GetValue],
// [Attributes.AsMap]).
//
// The client fills in a request the way Adobe's SDKs do, on a copy (the
// caller's value is never changed): a request id, context.channel "web"
// when unset, the tntId from the cookie, the configured property token and
// environment id, experienceCloud.analytics with logging "server_side" and
// a new supplemental data id, mbox indexes 0..n-1 when all are unset, the
// current time for a notification without a timestamp, and, with telemetry
// on, the timings of earlier calls. [Response.Request] is the request as
// sent.
//
// # Where a call goes
//
// The host is mboxedge{cluster}.tt.omtrdc.net when a cluster is known, from,
// in order: the tntId's location hint ("{id}.{cluster}_{node}", from the
// request or the cookie's PC entry), the TargetLocationHint option (the
// mboxEdgeCluster cookie), the cluster this client learned from earlier
// answers (their tntId or edgeHost), and Config.LocationHint. Without a
// cluster it is Config.ServerDomain, else {client}.tt.omtrdc.net. The scheme
// is https unless Config.Insecure.
//
// # Cookies and sessions
//
// Pass the visitor's mbox cookie value as TargetCookie and set
// [Response.TargetCookie] and [Response.TargetLocationHintCookie] on your
// answer to the browser. The mbox cookie is
// "session#{sessionId}#{expires}|PC#{tntId}#{expires}" (entries
// URI-component encoded, expiries in Unix seconds): the session entry lasts
// 1860 s, the PC entry 63244800 s (two years), and MaxAge is the later one;
// the mboxEdgeCluster cookie lasts 1860 s.
//
// The session id is the cookie's session entry when it is unexpired and
// valid, else the SessionID option, else a new UUID v4. Expired and
// malformed cookie entries are ignored, malformed ones logged (without their
// values): a browser's cookie never stops a visitor from getting content.
//
// # Errors
//
// Invalid options come back as an already failed future (ErrCallback runs
// before the call returns) with an [*OptionError] naming the field, such as
// "Request.Execute.Mboxes[1].Name"; errors.Is(err, [ErrInvalidOption]) holds.
// Nothing panics on bad input. An answer other than 2xx is an [*APIError]
// with the HTTP status and the edge's message. A failure to get an answer
// (dial, reset, a broken body) wraps its cause, for errors.Is and errors.As
// (*net.OpError, syscall.ECONNRESET, ...). A 2xx body that is not a Delivery
// response fails with an error wrapping the JSON error; one over
// [MaxResponseSize] with [ErrResponseTooLarge]. Calls asking for on-device
// decisioning fail with [ErrOnDeviceUnavailable] (Hybrid is served by the
// edge, as Adobe's SDKs do until their rules are loaded).
//
// Errors and logs never contain cookie values, session ids, tntIds or
// tokens: transport errors name the host and path but not the query, and
// log records carry the request id, host, attempt, status and sizes.
//
// # Cancellation and deadlines
//
// Each call runs under the context given to it, bounded by Config.Timeout
// (default 3 s) from the moment it starts: whichever ends first aborts the
// HTTP request, any retry and any backoff wait, and fails the future with an
// error for which errors.Is(err, context.DeadlineExceeded) or
// errors.Is(err, context.Canceled) holds. [future.Future.Cancel] does the
// same for one call. The context given to Await bounds only the wait.
//
// # Retries
//
// The zero [RetryPolicy] makes one attempt. With MaxAttempts > 1 a failed
// attempt is repeated only for network errors, 429 and 5xx answers, never
// for other 4xx answers or an undecodable 2xx body. The wait before retry n
// is MinBackoff·2^(n-1) capped at MaxBackoff, with equal jitter (half fixed,
// half random), or the edge's Retry-After on a 429 or 503. A wait that would
// end past the deadline is not started: the call fails at once with the last
// error. Every wait selects on the context.
//
// # Timings and telemetry
//
// [Response.Timings] holds the phases of the call, measured with
// net/http/httptrace: DNS, connect, TLS, time to first byte, download, total
// and attempts. With telemetry on (the default, Config.TelemetryEnabled),
// each successful call's timings are sent with the next request as
// telemetry.entries, in the shape Adobe's SDKs send (milliseconds, the
// request's features, execution mode "edge"). Entries a failed request
// carried are kept for the next one, up to 64.
//
// # Cost
//
// BenchmarkGetOffers compares GetOffers + Await with a bare net/http POST
// and JSON decode of a two-mbox request against an in-process local edge
// with no latency: 292 allocations and 20.1 KB per call against 202 and
// 14.4 KB, so the client adds about 90 allocations and 6 KB (request
// preparation, ids, the trace hooks, the future, the result envelope, and
// the edge's work on the larger request it sends). Time per call is within
// noise of the bare POST on a shared machine (85-240 µs against 88-160 µs
// over runs), small next to a network round trip.
package target
