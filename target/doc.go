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
// aborts the request, and bounded, opt-in retries. Like them it can also
// decide on-device, from a rules artifact, in microseconds (see Decisioning
// methods).
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
// To trace or measure the client's requests, wrap its own transport with
// Config.WrapTransport (otelhttp.NewTransport, say), which keeps the pool
// below: wrapping http.DefaultTransport instead opened 56 connections for
// three bursts of 20 calls, against 20 (TestWrapTransportKeepsThePool).
// Bring an *http.Client in Config.HTTPClient for proxies or custom TLS; it
// is then used as is. Without one the client makes a transport that
// keeps up to 100 idle connections per host, so that a burst of parallel
// calls reuses its connections for the next burst instead of dialling again
// (measured by TestParallelCallsReuseConnections: 300 calls in bursts of 100
// open 100 connections). Call [Client.CloseIdleConnections] when done with a
// client in tests.
//
// That transport offers HTTP/2 in the TLS handshake and speaks it with an
// edge that accepts it, HTTP/1.1 otherwise, as Go's default transport does.
// The choice comes from bench.BenchmarkProtocols (and go run ./bench -cost):
// bursts of 100 parallel calls to a local TLS edge in another process, six
// interleaved runs on a shared 2-core machine. HTTP/2 cost 11% fewer
// allocations per call (significant), 19% less CPU per call and 26% less
// wall time per burst (both within the machine's noise), and never more; so
// nothing argues for turning it off.
//
// On its own, net/http does not save connections on a cold start: it dials
// for every call that finds no connection up, before the handshake says the
// connection could be shared (golang/go#13957), so a first burst of 100
// calls opened 8 to 100 connections over HTTP/2 (median 81 in eleven runs),
// each a TLS handshake on both sides. The client's transport therefore sends
// the first call to an HTTPS host alone, and the calls that come while it
// has no connection wait for it, each bounded by its own context. When it
// has one they all go: over HTTP/2 they share it, over HTTP/1.1 they dial
// their own at once. If it gets none (the edge refuses it, the handshake
// fails, its context ends) they go at once too, each trying for itself,
// rather than fail with it or queue behind one another. Measured
// (BenchmarkProtocols, transport=own, six interleaved runs against the same
// code without the wait, medians): over HTTP/2 a first burst of 100 opened 1
// connection instead of 42 to 100, took 32 ms instead of 191 ms, and cost
// 135 µs of CPU per call instead of 792 µs; over HTTP/1.1 it opened 100
// either way and took 412 ms instead of 354 ms (one handshake longer, within
// the noise: runs spread 290 to 510 ms either way). Later calls only look
// their host up and read the clock (no allocation), and later bursts cost
// the same. The first call to a host goes alone again after the host has
// gone unused for the idle timeout (90 s, when its connections are closed)
// and after CloseIdleConnections; a burst that follows an HTTP/2 connection
// the edge closed itself (GOAWAY) still dials per call, as net/http does.
// Bring a Config.HTTPClient whose transport sets Protocols to choose
// otherwise: a caller's transport is used as given.
//
// Requests, responses and artifacts go through encoding/json. goccy/go-json
// decodes the Delivery responses and artifacts about 2x faster (sonic 1.6x,
// segmentio/encoding no faster), but decoding is about a fifth of a
// call's CPU, goccy/go-json rests on copies of the runtime's type layouts
// with no fallback, and the wire, conformance and fuzz tests have not been
// run with it: target/internal/jsoncodecs has the measurements and the
// decision in full.
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
//		return target.MboxContent[string](r, "hero") // ErrNoContent without an offer
//	})
//
// [Response.Mbox], [Response.PrefetchedMbox] and [Response.View] find an
// answer by name; [MboxContent] and [DecodeContent] decode an offer's JSON
// content into the caller's type in one call. An mbox the visitor has no
// offer for is answered with no options: never index Options[0] unchecked.
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
// # Coalescing calls for one visitor
//
// A page handler often asks for its mboxes from several places at once.
// A [Coalescer] ([Client.NewCoalescer]) merges the GetOffers calls for one
// visitor made within a short window into one Delivery request with all
// their execute and prefetch mboxes, under fresh indexes 0..n-1, and
// splits the answer back by index, so that each call's future settles with
// its own mboxes under its own indexes and its own request as it would
// have sent it:
//
//	coalescer, err := client.NewCoalescer(target.CoalesceOptions{
//		Window:    time.Millisecond, // the first call waits this long for others
//		MaxMboxes: 50,               // at most this many mboxes per request
//	})
//	hero := coalescer.GetOffers(ctx, heroOpts)   // same session and cookies,
//	recs := coalescer.GetOffers(ctx, recsOpts)   // other mboxes: one request
//
// Calls merge only when everything but their mboxes is equal (cookies,
// session id, visitor ids, location hint, context, experienceCloud,
// property, trace, qaMode, preview, ...): requests for different visitors
// are never merged. Calls with a page load, views or notifications, with
// no known session, or not decided server-side, go to the edge on their
// own at once, through [Client.GetOffers]. A merged request runs under the
// client's Timeout and fails every call it carries with the same error;
// one call's context or Cancel gives up that call only.
//
// Over a network both ways take about one round trip, since separate calls
// run in parallel; what coalescing saves is requests, connections and work
// on both sides. BenchmarkCoalescer, against a local edge with no latency:
// twenty one-mbox calls send one request instead of twenty, with 1 395
// allocations instead of about 5 640 (132 KB instead of 423 KB); a hundred
// calls, 5 739 allocations instead of about 28 300 (557 KB instead of
// 2.1 MB or more), in a tenth of the time or less.
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
// # Decisioning methods
//
// Config.DecisioningMethod sets where calls are decided, and
// GetOffersOptions.DecisioningMethod overrides it per call (GetAttributes
// included). [Response.Meta] says which method answered.
//
//   - [ServerSide] (the default): every call asks the edge, one round trip.
//   - [OnDevice]: the client decides from a rules artifact that it keeps in
//     memory, on the caller's goroutine, without a request: the future is
//     settled when GetOffers returns (BenchmarkOnDeviceGetOffers: about
//     12 µs and 23 allocations for one mbox with its notification queued,
//     33 with an Observer, on the shared 2-core test machine, against
//     360 µs and 362 allocations for a local edge over loopback; a user agent, URL or place the client has not seen lately
//     costs about 80 allocations more, to parse). Only a geo lookup, when the artifact targets on geo and the
//     request has no geo, makes a request. Mboxes and views the artifact
//     cannot decide (it has no rules for them, or its rules need data only
//     the edge has) come back empty: the answer's Status is 206 and
//     [Meta].RemoteMboxes and RemoteViews name them, for a server-side call
//     if they matter. Before the first artifact is in, calls fail with
//     [ErrArtifactNotReady].
//   - [Hybrid]: on-device when the artifact is in and can decide everything
//     the request asks for, server-side otherwise, so answers are always
//     complete; calls made before the artifact is in go to the edge.
//
// Rules on a page's (or referrer's) domain, subdomain and top-level domain
// split its host with the Public Suffix List of golang.org/x/net/publicsuffix,
// at the version go.mod pins (v0.62.0); Adobe's SDKs bundle an older copy,
// so a host whose suffix is in one list only (shop.nom.ad, a.b.hf.space)
// splits differently there, and upgrading golang.org/x/net can move
// decisions on such hosts. Internationalised hosts are looked up in
// punycode, and their top-level domain is written in Unicode ("рф"), as
// Adobe's engine writes it.
//
// On-device decisioning runs when Config.DecisioningMethod is OnDevice or
// Hybrid, or when [Config].OnDevice names an artifact source (so that a
// server-side client can serve the calls that ask for it); otherwise calls
// asking for OnDevice or Hybrid fail with [ErrOnDeviceUnavailable]. The
// artifact comes from [OnDeviceConfig].ArtifactPayload, from
// ArtifactLocation, or by default from
// https://assets.adobetarget.com/{client}/{environment}/v1/[{propertyToken}/]rules.json
// (Environment defaults to production); a location ending in .bin is read
// in its obfuscated form. Only artifacts of major version 1 are accepted.
// A downloaded artifact is checked again every PollingInterval (default 5
// minutes, at least 1 minute, negative for never) with If-None-Match; a
// failed or unusable download keeps the last good artifact in use, and is
// logged and reported to OnArtifactDownloadFailed; a new one is reported to
// OnArtifactDownloaded. A payload that does not parse fails NewClient with
// a *ConfigError for OnDevice.ArtifactPayload.
//
//	client, err := target.NewClient(target.Config{
//		Client:            "acmeclient",
//		OrganizationID:    "0123456789ABCDEF@AdobeOrg",
//		DecisioningMethod: target.Hybrid,
//	})
//	defer client.Close(shutdownCtx) // delivers the queued notifications first
//	_, err = client.Ready().Await(ctx) // optional: until then Hybrid asks the edge
//
// [Client.Ready] returns a future that settles when the first artifact is
// in use, like the clientReady event of Adobe's SDKs (at once for a
// payload, or for a client without on-device decisioning).
//
// Notifications always go to the edge. An on-device decision that executes
// mboxes or a page load sends their display notifications, with the
// decision's telemetry, in one SendNotifications request per call, in the
// background: the caller never waits for it. Its outcome goes to
// OnDeviceConfig.OnNotificationsSent, and failures are logged too. Prefetch
// decisions send nothing (notify with SendNotifications when the content
// is shown); their telemetry rides on the client's next request.
//
// [Client.Close] stops the artifact polling, waits for the on-device
// decisions in flight, delivers the notifications still queued (bounded
// by its context) and closes idle connections; afterwards on-device and
// hybrid calls and SendNotifications fail with [ErrClientClosed] while
// server-side GetOffers calls still work. It may be called from the
// client's on-device callbacks. An artifact callback that panics is
// logged with its stack and one that calls runtime.Goexit is logged too;
// polling goes on after either. Artifact errors, logs and callbacks show
// the artifact location without its query, fragment and user info, and
// with the property token redacted. Artifact downloads and geo lookups go
// through the client's http.Client and follow no redirect either; when a
// caller's Transport follows one itself, the answer is refused with a
// [TransportError] naming the scheme and host it came from.
//
// # Notifications
//
// [Client.SendNotifications] and the display notifications of on-device
// decisions share one path: a bounded queue (Config.Notifications) whose
// worker sends the notifications queued for one visitor in one request,
// retries transient failures (network errors, 429, 5xx) with backoff up to
// a bound, and reports what it cannot deliver or cannot accept to
// NotificationsConfig.OnDropped and the log. A notification outlives the
// context of the call that sent it (it keeps the context's values, not its
// cancellation), so a handler can send and return:
//
//	client.SendNotifications(r.Context(), target.SendNotificationsOptions{
//		Request: target.DeliveryRequest{Notifications: clicked},
//	}) // no need to wait: Close(ctx) at shutdown delivers what is queued
//
// TestNotificationsOutliveTheirHandlers sends 10,000 notifications from
// handlers that return at once while the edge fails 10% of requests: none
// is lost and none delivered twice; 2,000 calls for 50 visitors went out
// in about 550 requests.
//
// # Serving a visitor from an http.Handler
//
// Make a [Visitor] per incoming request, make the request's calls through
// it, and write its cookies back:
//
//	func page(w http.ResponseWriter, r *http.Request) {
//		v := client.NewVisitor(r) // the mbox and mboxEdgeCluster cookies of r
//		hero := v.GetOffers(r.Context(), heroOpts)
//		flags := v.GetAttributes(r.Context(), []string{"flags"}, target.GetAttributesOptions{})
//		res, err := hero.Await(r.Context())
//		attrs, err := flags.Await(r.Context())
//		v.SetCookies(w) // one mbox and one mboxEdgeCluster cookie for both calls
//		...
//	}
//
// The Visitor pins one session id for all of the page's calls, and for a
// first-time visitor lets the first GetOffers or GetAttributes call
// establish the tntId and edge cluster before the others start (one extra
// round trip; a returning visitor's calls all start at once).
// Notifications through it never wait: they carry what is known. Without it, parallel calls for a
// visitor without cookies each get a new session id from the client and a
// new tntId from the edge, since none carries the other's: one page
// gives as many mbox cookies as calls, and the profile activity of all but
// the one whose cookie the browser keeps is lost. A shared SessionID
// option does not help: the edge mints a tntId per request that carries
// none. Calls with the same known session merged by a [Coalescer] carry one
// identity too, but only for mbox calls.
//
// [RequestCookies] reads the two cookies from an *http.Request,
// [Cookie.HTTPCookie] turns a returned [Cookie] into an *http.Cookie (Path
// /, SameSite Lax, Secure over TLS or when configured, see
// [CookieOptions]), and [Client.SetCookies] sets those of one [Response].
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
// # Experience Cloud identity and Analytics
//
// Sites that run the Experience Cloud ID service have a second visitor
// cookie, AMCV_{org id} (see [VisitorCookieName]), which the browser's
// Visitor API writes and owns. Pass its value as VisitorCookie
// ([Client.VisitorCookie] finds it in an *http.Request, with the org id's
// '@' raw or percent-encoded). A call takes from it, unless the request sets
// them: the Experience Cloud visitor id (MCMID) as
// id.marketingCloudVisitorId, and the Audience Manager location hint and
// blob (MCAAMLH, MCAAMB) for Audience Manager segments. Expiries and the
// location hint are read with JavaScript's parseInt, as Adobe's libraries
// read them. Expired fields, fields the API would reject (an MCMID over 128
// characters, a blank blob, a location hint outside 1..2^31-1) and a
// malformed cookie are ignored and logged by field name, never by value.
//
// Customer ids go in CustomerIDs in the Visitor API's form
// ([VisitorCustomerID]: integration code, id, [AuthState] 0, 1 or 2); they
// are sent as unknown, authenticated or logged_out, before the request's own
// id.customerIds, as Adobe's SDKs send them: in the key order of the
// Visitor API's JavaScript object, so integration codes that are array
// indexes ("3", "20") come first, ascending.
//
// Which id Target uses when several are present: the tntId (from the mbox
// cookie) is the primary id of the visitor's profile on the edge; a
// thirdPartyId or marketingCloudVisitorId sent with it is mapped to that
// profile, and one the edge already knows brings its profile along, which
// is how a visitor is recognised on a new device. Customer ids count only in
// the authenticated state, and need the marketingCloudVisitorId with them.
// On-device decisions allocate visitors to experiences by the
// marketingCloudVisitorId, else the tntId (without its location hint), else
// the thirdPartyId, as Adobe's SDKs do, so a visitor with an AMCV cookie sees
// the same experiences whichever way a call is decided.
//
// Analytics for Target (A4T): by default requests ask the edge to forward
// the Analytics data itself (logging server_side), stitched to the page's
// own Analytics hit by a supplemental data id. Calls of one page view share
// ids through one [SupplementalDataIDs] given to each call, each naming its
// ConsumerID: consumers in turn share an id, a consumer asking twice starts
// the next one, which is the Experience Cloud ID service's rule. A request
// that carries an id keeps it. With logging client_side the request carries
// no supplemental data id and [Response.AnalyticsDetails] holds the payloads
// for the page (or a Data Insertion API call) to send to Analytics itself.
// On-device decisions fill the request the same way, and their display
// notifications carry the same visitor ids, Audience Manager data and
// supplemental data id.
//
// What a service sends back to the browser: the mbox and mboxEdgeCluster
// cookies ([Response.TargetCookie], [Response.TargetLocationHintCookie]);
// [Response.VisitorState], encoded as JSON into the page, where it goes to
// Visitor.getInstance(orgId, {serverState: state}) so that the page's
// Visitor API, at.js and Analytics continue with the same customer ids and
// supplemental data ids (with several calls in a page view, the state
// [Client.VisitorState] gives once all of them have settled: a Coalescer's
// calls take their id when their merged request is sent, so the response
// that settles last need not hold every id); and, with client-side logging, the AnalyticsDetails
// payloads. It never writes the AMCV cookie: that belongs to the Visitor
// API.
//
// # Errors
//
// Invalid options come back as an already failed future (ErrCallback runs
// before the call returns) with an [*OptionError] naming the field, such as
// "Request.Execute.Mboxes[1].Name"; errors.Is(err, [ErrInvalidOption]) holds.
// Every field that becomes a header, a query parameter or part of the URL
// is checked before anything is sent: a request id must be 1 to 128 visible
// ASCII characters (it is the X-Request-Id header), a session id 1 to 128
// printable characters without space, '?' or '/', an environment id not
// negative. Nothing panics on bad input.
//
// A call that was sent fails with one of three types, each carrying what an
// operator needs to find it in the edge's logs and their own: RequestID (the
// X-Request-Id and requestId sent), Host, Attempts and [Timings] (the last
// attempt's phases, the call's total):
//
//   - [*APIError]: the edge answered other than 2xx. Status is the HTTP
//     status, Message and EdgeStatus the edge's {"status","message"} body,
//     RetryAfter its Retry-After header. A redirect (3xx) is an APIError
//     too: the Delivery API never redirects, so the client follows none,
//     with its own http.Client and with a caller's (through a copy whose
//     CheckRedirect refuses them), sends nothing to the Location and
//     echoes nothing of the body. A caller's Transport that follows a
//     redirect itself gets a TransportError naming the scheme and host the
//     answer came from; that answer is not read and not retried.
//   - [*TransportError]: no usable answer. Op says what failed; Err, the
//     cause, is seen by errors.Is and errors.As (*net.OpError,
//     syscall.ECONNRESET, context.DeadlineExceeded, context.Canceled: a
//     call its context or deadline ended is a TransportError whose Last
//     holds the last attempt's error, if any; a context ended with a cause
//     matches both its error and the cause).
//   - [*DecodeError]: a 2xx body that is not one JSON object of the
//     Delivery response's shape (null, an array and trailing data
//     included, and an empty body with any 2xx but 204), or one over
//     [MaxResponseSize] (errors.Is(err, [ErrResponseTooLarge])); Err is
//     the JSON error.
//
// The Err of a TransportError or DecodeError is a wrapper whose text is
// redacted: errors.Is and errors.As see the cause through it, but
// errors.Unwrap stops there, so printing each link of the chain shows no
// secret either.
//
// On-device decisioning adds [ErrOnDeviceUnavailable],
// [ErrArtifactNotReady] and [ErrClientClosed] (see Decisioning methods).
// Example_errors shows how to tell them apart with errors.As.
//
// Errors and logs never contain cookie values, session ids, visitor ids or
// tokens. Each failed call builds one set of its secrets, used by every
// redaction of that call: the session id, the tntId (also without its
// ".{cluster}_{node}" location hint or its node, as the edge may quote it),
// thirdPartyId, marketingCloudVisitorId, every customer id, the property,
// trace, QA-mode and preview tokens, the Audience Manager blob, order ids,
// notification, state and telemetry tokens, the geo IP address and the
// values of mbox and profile parameters (their names stay readable), each
// also URL-encoded and JSON-escaped. Values shorter than four bytes are
// not looked for: they would match by chance. A parameter value made of
// letters, '-', '_' and spaces only ("hero", "Home page") is replaced only
// as a whole token, never inside a longer word, and not at all when it is
// true, false or null, or a name that is no secret in the same request (an
// mbox or view name, a parameter name, a field name or enumerated value of
// the Delivery API such as "parameters" or "server_side"); any other
// value (an email, a number, a code) is replaced wherever it appears. A
// *url.Error in a cause, which quotes the URL (a caller's Transport built
// on an http.Client adds its own), shows the URL without its query, and
// errors.As hands out a copy of it with the query left out. Every text
// an error takes from the edge or the network is redacted with it before it
// is stored, so the errors are safe under every fmt verb (%v, %+v, %#v,
// %q) and in the "retrying" and "call" debug records. Transport
// errors name the host and path but not the query; log records carry the
// request id, host, attempt, status and sizes. A malformed mbox cookie entry
// is logged by the kind of problem and its position only.
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
// attempt is repeated only for network errors before any answer (a dial, a
// reset, a connection closed before the status line), 429 and 5xx answers;
// never for other 4xx answers, redirects, an undecodable 2xx body, a body
// that broke off after the answer began (the edge may have served it), or
// a request the transport refused to send. The wait before retry n
// is MinBackoff·2^(n-1) capped at MaxBackoff, with equal jitter (half fixed,
// half random), or the edge's Retry-After on a 429 or 503 (delay seconds or
// an HTTP date; a delay too large for a Duration saturates rather than
// wrapping). A wait that would end past the deadline is not started: the
// call fails at once with the last error. Every wait selects on the
// context.
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
// # Observability: traces, metrics, logs
//
// [Config].Observer is the hook through which a Client reports each call,
// each HTTP attempt, each on-device decision, what becomes of display
// notifications, and each artifact download (see [Observer]). Package
// targetotel implements it on OpenTelemetry: a client span per call
// ("target.GetOffers") under the span of the call's context, a POST span
// per attempt with the HTTP semantic conventions' attributes and the
// attempt's traceparent in the request's headers, a "target.decide" span
// per on-device decision, and metrics (call duration by call, decisioning
// method and outcome; attempts, retries and errors by kind; calls in
// flight; notifications queued, sent and dropped; artifact age and refresh
// failures). Only targetotel imports OpenTelemetry.
//
//	obs, err := targetotel.New(targetotel.Options{}) // OpenTelemetry's global providers
//	client, err := target.NewClient(target.Config{..., Observer: obs})
//
// With a Logger enabled at debug level, each call writes one "target: call"
// record with its operation, request id, decisioning method, outcome,
// status, error kind and timings, besides a record per attempt; none holds
// a session id, visitor id or token. [Config].LogBodies adds the request
// and response bodies of each attempt, redacted by the same rule as
// errors. Events, attributes and records never hold the call's secrets:
// the session id in a URL is "REDACTED", and error texts are the redacted
// ones of the errors themselves.
//
// Without an Observer and with debug logging off, the hook costs one
// pointer test and one Logger.Enabled call per call (BenchmarkGetOffers,
// which has neither, counts 312 allocations and 23.2 KB per call, the
// in-process edge's work included: see Cost).
//
// # Cost
//
// BenchmarkGetOffers compares GetOffers + Await with a bare net/http POST
// and JSON decode of a two-mbox request against an in-process local edge
// with no latency: 312 allocations and 23.2 KB per call against 245 and
// 17.6 KB (go1.26, after issue 16's first changes; the edge's own work is
// in both), so the client adds about 67 allocations
// and 5.6 KB (the call's deadline, the trace context, ids,
// cookies and VisitorState, the future, and the edge's work on the larger
// request it sends). The call's own state (request copy, promise, Response)
// is one allocation, its trace hooks are pooled over HTTP/1.1 (over
// HTTP/2, the usual protocol with an HTTPS edge, each attempt builds its
// own: about ten allocations more, see attemptTrace.recyclable), and bench's
// BenchmarkRemoteCall counts the rest against the floor. Time per call
// here follows the shared machine's load (at load average 20, 530-1210 µs
// against the bare POST's 140-470 µs over three runs): BenchmarkRemoteCall,
// with the edge in another process and CPU time per call, is the measure.
//
// # Where things live
//
// Package target is the client, and the only non-test package that does
// I/O (targettest, the local edge, serves HTTP). Its files read top-down:
// config.go (Config, validated once by NewClient), client.go (the Client:
// Ready, Close), callbacks.go (telling a Close from inside the client's
// callbacks), calls.go (GetOffers, SendNotifications and their results),
// request.go (preparing a request: ids, validation, the edge host),
// transport.go (HTTP, retries, timings, decoding), firstconn.go (one
// connection for a first burst over HTTP/2), errors.go (APIError,
// TransportError, DecodeError, and redacting secrets from messages),
// cookies.go (the mbox and location-hint cookies), amcv.go (the Experience
// Cloud ID service's AMCV cookie), visitor.go (customer ids in the Visitor
// API's form, supplemental data ids, VisitorState), coalesce.go and
// telemetry.go; then the on-device glue: ondevice.go (OnDeviceConfig, the
// engine with its artifact), artifactprovider.go (downloading and polling
// the artifact), geo.go (the HTTP geo lookup), ondeviceclient.go (OnDevice
// and Hybrid calls, reporting their notifications). observe.go (the
// Observer hook, its events and the per-call debug record) is called from
// calls.go, transport.go, ondeviceclient.go and artifactprovider.go.
// attributes.go
// (GetAttributes: feature flags on top of GetOffers) sits beside calls.go,
// and delivery.go aliases the models. For a net/http service: scope.go (the
// Visitor: one identity for one incoming request's calls), httpcookie.go
// (the cookies to and from net/http), notify.go (the notification queue
// that SendNotifications and on-device decisions share, flushed by Close)
// and lookup.go (answers by mbox or view name, content decoded into a
// caller's type).
//
// The packages beside it:
//
//   - [github.com/target-go/sdk/target/delivery]: the Delivery API's wire
//     models (target.DeliveryRequest is delivery.Request, every other model
//     keeps its name), shared by the client, the engine and the local edge.
//   - target/internal/ondevice: the on-device decision engine. It parses an
//     artifact (rules.json, or the obfuscated rules.bin) and compiles its
//     rules, and decides a request from it: responses, notifications,
//     telemetry, traces, and what only the edge can decide. No I/O, and it
//     does not import this package.
//   - target/internal/artifact: the artifact's JSON shape, declared once for
//     the engine's parser and the local edge's generator.
//   - target/internal/jsonlogic: json-logic with json-logic-js semantics
//     (JavaScript coercions), compiled once per rule.
//   - target/internal/murmur3: MurmurHash3 over UTF-16 code units, the hash
//     visitors are bucketed with.
//   - target/internal/useragent: browser and platform detection as Adobe's
//     engines do it.
//   - target/internal/goroutine: the calling goroutine's identity, which
//     Close needs to tell a call from inside a callback (callbacks.go).
//   - target/internal/deliverytest: random values of the delivery models
//     for tests (the encoders' comparisons, the wire-body dump); only
//     tests import it.
//   - [github.com/target-go/sdk/target/targettest]: a local Delivery edge
//     for tests, serving answers and an artifact from configured offers.
//   - [github.com/target-go/sdk/target/targetotel]: the Observer on
//     OpenTelemetry (spans, metrics, trace-context propagation); the only
//     package that imports OpenTelemetry.
package target
