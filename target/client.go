package target

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
)

// Cookie names the client reads and writes.
const (
	// MboxCookie holds the session id and the visitor's tntId:
	// "session#{sid}#{expires}|PC#{tntId}#{expires}".
	MboxCookie = "mbox"
	// LocationHintCookie holds the edge cluster the visitor is served by.
	LocationHintCookie = "mboxEdgeCluster"
)

// maxIdleConnsPerHost lets a burst of parallel calls to one edge host keep
// its connections for the next burst; net/http's default of 2 would close all
// but two and open them again each time.
const maxIdleConnsPerHost = 100

// A Client calls the Delivery API, or decides on-device from a rules
// artifact (see Config.OnDevice). It is safe for concurrent use; its
// configuration is fixed at NewClient. The only state it keeps between calls
// is what Adobe's SDKs keep too: the edge cluster learned from earlier
// responses, when telemetry is enabled the timings of earlier calls that
// ride on the next request, and with on-device decisioning the artifact in
// use. A Client with on-device decisioning runs a polling goroutine until
// Close.
type Client struct {
	cfg    Config
	scheme string
	http   *http.Client
	// transport is the transport the client made, nil when the caller
	// supplied the http.Client; CloseIdleConnections closes only its own.
	transport *http.Transport
	// gate is the RoundTripper in front of transport (firstconn.go);
	// nil when transport is.
	gate      *firstConnGate
	log       *slog.Logger
	telemetry bool
	// deliveryQuery is the Delivery URL's path and query up to the
	// session id, escaped once rather than on every call.
	deliveryQuery string
	// obs is the Config's Observer, copied; nil when none.
	obs *Observer
	// instance tells this Client from the others of the process, for the
	// Observer; observing knows the goroutines running work that Close
	// waits for while they may call the Observer; closeReported is set by
	// the Close that reports the Client's end (see Observer.ClientClosed).
	instance      uint64
	observing     callbackSet
	closeReported atomic.Bool
	// obsInDecision is set when the Observer has a function that an
	// on-device decision calls: only then does a decision mark its
	// goroutine in observing, which costs a goroutine id.
	obsInDecision bool
	// afterDecision, set by tests only, runs after an on-device decision
	// has released its count, on the deciding goroutine.
	afterDecision func()

	// cluster is the edge cluster learned from the last answer that named
	// one; nil until then.
	cluster atomic.Pointer[string]

	// notes is the queue through which notifications go.
	notes *notifier

	// od is the on-device decisioning, nil when not configured.
	od *onDevice
	// ready is what Ready returns, the same future every time.
	ready *future.Future[struct{}]

	mu      sync.Mutex
	pending []TelemetryEntry // timings not sent yet, oldest first
}

// ErrClientClosed is the error of on-device and hybrid calls made after
// Client.Close.
var ErrClientClosed = errors.New("target: client closed")

func newClient(cfg Config) *Client {
	c := &Client{cfg: cfg, scheme: "https", log: cfg.Logger, telemetry: true, instance: clientInstances.Add(1)}
	if cfg.Insecure {
		c.scheme = "http"
	}
	c.deliveryQuery = "/rest/v1/delivery?imsOrgId=" + url.QueryEscape(cfg.OrganizationID) + "&sessionId="
	if cfg.Timeout == 0 {
		c.cfg.Timeout = DefaultTimeout
	}
	if cfg.TelemetryEnabled != nil {
		c.telemetry = *cfg.TelemetryEnabled
		v := c.telemetry
		c.cfg.TelemetryEnabled = &v // the copy must not alias the caller's bool
	}
	if c.cfg.DecisioningMethod == "" {
		c.cfg.DecisioningMethod = ServerSide
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer != nil {
		o := *cfg.Observer
		c.obs = &o
		c.cfg.Observer = &o
		// The functions an on-device decision may call while Close waits
		// for it: its own, and those of the SendNotifications call of its
		// display notifications.
		c.obsInDecision = o.DecisionStart != nil || o.DecisionDone != nil || o.Notifications != nil ||
			o.CallStart != nil || o.CallDone != nil
	}
	if cfg.HTTPClient != nil {
		// A shallow copy, so that the caller's client keeps its own
		// redirect policy; its Transport, Jar and Timeout are shared.
		hc := *cfg.HTTPClient
		hc.CheckRedirect = noRedirect
		c.http = &hc
	} else {
		// A clone keeps the default transport's HTTP/2 over TLS, chosen
		// from measurements: see "HTTP/2" in the package documentation.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 2 * maxIdleConnsPerHost
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
		t.DialContext = dialTraced(t.DialContext)
		c.transport = t
		// The gate makes a first burst over HTTP/2 open one connection.
		c.gate = newFirstConnGate(t)
		c.http = &http.Client{Transport: c.gate, CheckRedirect: noRedirect}
	}
	c.notes = newNotifier(c)
	return c
}

// noRedirect makes http.Client return a redirect as the answer. Following
// one would send the request body (visitor ids, tokens) to whatever host
// the Location names, maybe over plain http, or turn the POST into a GET
// whose answer would pass for the edge's; the Delivery API never
// redirects, so a 3xx fails the call with an *APIError instead. The
// Delivery requests of a Client with its own transport do not go through
// its http.Client at all (see Client.send), and get a redirect as the
// answer from the RoundTripper; the http.Client, with noRedirect, is what
// the on-device artifact downloads and geo lookups use.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CloseIdleConnections closes the idle keep-alive connections of the
// transport the Client made. It does nothing for a caller-supplied
// HTTPClient, whose connections belong to the caller. The Client stays
// usable; later calls open new connections, and the first of them to a
// host goes alone again (see "Creating a client" in the package
// documentation).
func (c *Client) CloseIdleConnections() {
	if c.transport != nil {
		c.gate.forget()
		c.transport.CloseIdleConnections()
	}
}

// Ready returns a future that settles when the Client can serve its
// configured DecisioningMethod: with on-device decisioning, when the first
// artifact is in use (from ArtifactPayload at once, else after the first
// successful download); it fails with ErrProviderClosed if Close comes
// first. A Client without on-device decisioning is ready at once. The same
// future is returned on every call; like Adobe's clientReady event, it
// never settles again, so a later failed refresh does not show here (see
// OnDeviceConfig.OnArtifactDownloadFailed).
func (c *Client) Ready() *future.Future[struct{}] { return c.ready }

// Close releases what the Client runs in the background, and delivers
// what it was asked to: it stops the artifact polling (waiting for a
// download in progress to end), waits for the on-device decisions in
// flight (a geo lookup is bounded by Config.Timeout), then waits until
// every notification accepted by SendNotifications and every display
// notification of an on-device decision has been delivered or dropped
// (see Client.SendNotifications), with their callbacks, then closes idle
// connections as CloseIdleConnections does.
//
// Close may be called from the client's callbacks: the on-device ones
// (OnArtifactDownloaded, OnArtifactDownloadFailed, OnNotificationsSent),
// NotificationsConfig.OnDropped, the callbacks of a SendNotifications
// future that run when the queue settles it (its Callback and
// ErrCallback, and the future's own callbacks registered before), the
// Observer's events of the queue's requests, and, for a panic in a
// Callback or ErrCallback run there, Config.OnCallbackPanic and the
// Logger's handler recording the panic (each on a goroutine of its own
// that counts as the callback's). Called
// there it marks the client closed, waits for nothing (what it would wait
// for may be waiting for the callback) and returns nil; the notifications
// already queued are still delivered, and no artifact callback starts
// after Close. A later Close from elsewhere waits as usual.
//
// Close must not be called from an Observer function either; there it does
// not deadlock: from one that runs in what Close waits for (an on-device
// decision, the artifact polling) it marks the client closed, waits for
// nothing, as from a callback, and returns ErrCloseInObserver. The
// Observer's events of the notification queue's requests, and the sent
// and dropped Notifications events, count as the queue's callbacks above
// (nil).
//
// ctx bounds the wait for the artifact polling and for the notifications.
// An artifact callback (OnArtifactDownloaded, OnArtifactDownloadFailed)
// that blocks, or that waits for a Close started on another goroutine,
// holds the polling: when ctx ends first, Close stops waiting for it and
// returns an error wrapping ctx's error; no callback starts after that,
// and the polling goroutine ends as soon as the callback returns. When ctx
// ends during the wait for the notifications, the
// requests in flight are aborted, the notifications left are dropped and
// reported (NotificationsConfig.OnDropped and the log, with an error
// wrapping ErrClientClosed), and Close returns an error wrapping ctx's
// error promptly, even when user code the queue runs blocks (a
// SendNotifications Callback or ErrCallback, a future's callback,
// OnDropped, an Observer function in a queued request's exchange): from
// then on Close waits for no user code. Every call
// queued or in flight is settled before Close returns, but OnDropped
// (called once for each dropped notification) and the calls' callbacks
// may still be running, or not yet have started, when it does; a blocked
// one keeps only its own goroutine, which ends when it returns. It returns nil when everything was delivered or dropped for its
// own reasons. A nil ctx waits as long as the retries take. When Close
// returns, the Client has no goroutine left of its own, apart from
// GetOffers calls still in flight, whose futures settle as usual, and
// those running user code after ctx ended, as above.
//
// After Close, on-device and hybrid calls and SendNotifications fail with
// ErrClientClosed; server-side GetOffers calls keep working, opening new
// connections. Close is safe to call more than once and concurrently.
func (c *Client) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// A decision in flight may be waiting for an OnDropped of the queue
	// (a full queue), so a Close from a notification callback must not
	// wait for the decisions either. Called from an Observer function
	// that runs in what Close waits for (see Observer), Close must not
	// wait, as from a callback.
	inNotes := c.notes.callbacks.current()
	fromObserver := c.obs != nil && c.observing.current()
	inCallback := inNotes || fromObserver
	var pollErr error
	if c.od != nil {
		// The decisions in flight queue their notifications before they
		// end: the queue is closed after them.
		inCallback, pollErr = c.od.stop(ctx, inCallback)
	}
	var err error
	if inCallback {
		c.notes.closeNoWait()
	} else {
		// Every notification, and its callbacks, has settled when this
		// returns.
		err = c.notes.close(ctx)
	}
	c.CloseIdleConnections()
	c.reportClosed(ctx)
	if fromObserver && !inNotes {
		return ErrCloseInObserver
	}
	if err == nil {
		err = pollErr
	}
	return err
}
