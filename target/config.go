package target

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/target-go/sdk/future"
)

// DefaultTimeout bounds a call when Config.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// Config configures a Client. The zero value is not usable: Client and
// OrganizationID are required. NewClient copies the Config, so changing it
// afterwards has no effect on the Client.
type Config struct {
	// Client is the Target client code; the default host is
	// {Client}.tt.omtrdc.net. Required.
	Client string
	// OrganizationID is the IMS organization id, sent as the imsOrgId query
	// parameter. Required.
	OrganizationID string
	// Timeout bounds each call, retries and backoff included, and aborts the
	// HTTP request when it expires. Zero means DefaultTimeout (3 s); a
	// deadline on the call's context applies too, whichever is earlier.
	Timeout time.Duration
	// ServerDomain is the host[:port] to use when no edge cluster is known,
	// instead of {Client}.tt.omtrdc.net.
	ServerDomain string
	// Insecure sends requests over plain http instead of https; meant for a
	// local edge.
	Insecure bool
	// LocationHint is an edge cluster (e.g. "35") to use until a call learns
	// one; requests then go to mboxedge{LocationHint}.tt.omtrdc.net.
	LocationHint string
	// PropertyToken is sent as property.token unless a request has its own.
	PropertyToken string
	// EnvironmentID is sent as environmentId unless a request has its own.
	// Zero means unset.
	EnvironmentID int64
	// HTTPClient sends the requests. Nil means a client over one keep-alive
	// transport owned by this Client, with up to 100 idle connections per
	// host so that parallel calls reuse connections, and whose first burst
	// of parallel calls to an HTTP/2 edge opens one connection instead of
	// one per call (the package documentation has the figures). A caller-supplied client
	// is used through a copy made by NewClient that follows no redirect (a
	// 3xx fails the call with an *APIError), whatever its CheckRedirect; its
	// Transport, Jar and Timeout apply, and the caller's value is not
	// changed. Bring one for proxies, tracing or custom TLS.
	HTTPClient *http.Client
	// WrapTransport, when set, wraps the transport the Client makes (the
	// tuned, keep-alive pool described at HTTPClient, an *http.Transport,
	// which is what the function receives) in a RoundTripper of the
	// caller's: for tracing (otelhttp.NewTransport), metrics or headers,
	// without giving up the pool. The Client keeps its first-connection
	// gate in front of the wrapper, so the wrapper sees a request once the
	// gate lets it go; the gate learns of the first connection through
	// httptrace on the request's context, so a wrapper should pass that
	// context (or one derived from it) on, as otelhttp does; one that does
	// not makes a first burst wait for the first answer instead of the
	// first connection. Wrapping http.DefaultTransport
	// in an HTTPClient instead keeps net/http's two idle connections per
	// host, so each burst of parallel calls dials again. It is called once,
	// by NewClient, and must not return nil. It cannot be combined with
	// HTTPClient: wrap that client's own transport instead.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Logger receives debug records of requests and responses with cookies
	// and tokens redacted. Nil discards them. The SDK's own records run
	// the handler contained: the debug records of calls, attempts, retries
	// and bodies (on the caller's goroutine for an on-device call, on the
	// call's or the notification queue's otherwise), the records of a
	// recovered callback panic (see OnCallbackPanic) and the queue's. The
	// handler's Handle then runs on a goroutine of its own, which the
	// logging goroutine waits for: a panic in it is dropped and a
	// runtime.Goexit ends only that goroutine, so that neither reaches the
	// caller or ends the program, changes a call's outcome or leaves its
	// future unsettled. That costs a goroutine a debug record, paid only
	// when the handler is Enabled for debug records; the Enabled check
	// itself runs on the logging goroutine, not contained. The warnings
	// about a malformed mbox or visitor cookie or location hint, logged on
	// the caller's goroutine inside the call, and an on-device decision's
	// warnings (a failed geo lookup, a rule condition over its budget) are
	// not contained: a handler that panics on them panics there.
	//
	// The handler may call Client.Close. From a call's record it waits as
	// Close from elsewhere does, for the notification queue among the
	// rest (an on-device decision's display notifications), whose requests
	// write debug records to the same handler: a handler that holds a lock
	// of its own across Close (a mutex, or a sync.Once whose function
	// calls Close), which its other records then wait for, deadlocks. So
	// does Close from an on-device decision's warnings above, logged
	// inside the decision that Close waits for: a handler must not call
	// Close on those.
	Logger *slog.Logger
	// LogBodies adds the request and response bodies of each HTTP attempt
	// to the Logger's debug records ("target: request body", "target:
	// response body"), with the call's session id, visitor ids, tokens and
	// mbox and profile parameter values replaced by "[redacted]" as in
	// errors, and the visitor ids of the answer too. For debugging only:
	// parameter names, addresses and the rest of the bodies are kept.
	LogBodies bool
	// Observer, when set, hears of each call, HTTP attempt, on-device
	// decision, notification delivery and artifact download, for traces and
	// metrics (see package targetotel for OpenTelemetry). Nil costs nothing.
	Observer *Observer
	// Retry is the retry policy; the zero value makes one attempt per call.
	Retry RetryPolicy
	// TelemetryEnabled sends the timings of earlier calls with later ones,
	// as Adobe's SDKs do. Nil means enabled.
	TelemetryEnabled *bool
	// DecisioningMethod is the default for calls that do not set one. The
	// zero value means ServerSide. OnDevice and Hybrid start on-device
	// decisioning as configured by OnDevice.
	DecisioningMethod DecisioningMethod
	// OnDevice configures on-device decisioning: the rules artifact, its
	// polling and the callbacks that report downloads and notifications.
	// NewClient starts it when DecisioningMethod is OnDevice or Hybrid, or
	// when OnDevice names an artifact source (ArtifactPayload,
	// ArtifactLocation or Environment), so that a server-side client can
	// serve the calls that ask for OnDevice or Hybrid themselves. Without
	// it such calls fail with ErrOnDeviceUnavailable.
	OnDevice OnDeviceConfig
	// Cookies say how [Client.SetCookies] and [Visitor.SetCookies] write
	// the mbox and mboxEdgeCluster cookies to a net/http response: Secure,
	// SameSite and Domain (see CookieOptions).
	Cookies CookieOptions
	// Notifications configures the queue that delivers notifications:
	// its bound, batching, retries and the report of what it drops (see
	// Client.SendNotifications).
	Notifications NotificationsConfig
	// OnCallbackPanic, when set, is called with every panic recovered from
	// the Callback and ErrCallback options of a call, with its value and
	// stack, after it was logged; for a metric or an alert. It runs on a
	// goroutine of its own, which the callback's goroutine waits for, so
	// that a runtime.Goexit in it (t.FailNow in a test's hook) ends only
	// that goroutine, and is logged; a panic in it is recovered and logged
	// too. A Close from it is a Close from the callback (see Client.Close).
	// The same containment holds for the Logger's handler while it records
	// the callback's panic. Panics in a future's own callbacks (OnComplete
	// and friends) that the SDK's goroutines recover (see GetOffers and
	// SendNotifications) are logged, not handed to it.
	OnCallbackPanic func(*future.PanicError)
}

// RetryPolicy says when and how often a failed attempt is repeated. Only
// network errors before any answer, 429 Too Many Requests and 5xx answers
// are retried; never other 4xx answers, redirects, undecodable bodies or
// requests the transport refused, and never past the call's deadline. The
// zero value makes a single attempt.
type RetryPolicy struct {
	// MaxAttempts is the most attempts a call makes, the first included.
	// Zero and one both mean no retries.
	MaxAttempts int
	// MinBackoff is the base wait before the first retry; each later retry
	// doubles it, up to MaxBackoff. Zero means 50 ms.
	MinBackoff time.Duration
	// MaxBackoff caps a single wait. Zero means 1 s. A Retry-After header on a
	// 429 or 503 answer replaces the computed wait, still capped by the
	// deadline rather than by MaxBackoff.
	MaxBackoff time.Duration
}

// ErrInvalidConfig is matched (errors.Is) by every *ConfigError.
var ErrInvalidConfig = errors.New("target: invalid config")

// ConfigError reports a Config field NewClient rejected.
type ConfigError struct {
	Field  string // the Config field, e.g. "Client" or "Retry.MaxBackoff"
	Reason string
	// Err is the underlying error, when there is one (an artifact payload
	// that does not parse, say); errors.Is and errors.As see it.
	Err error
}

// Error names the Config field and the reason.
func (e *ConfigError) Error() string {
	return "target: invalid Config." + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// NewClient validates cfg and returns a Client built from a copy of it. A
// rejected field comes back as a *ConfigError naming it. The Client is safe
// for concurrent use; create one and share it, since it owns the connection
// pool and, with on-device decisioning, the artifact and its polling
// goroutine, which Close stops.
//
// With on-device decisioning NewClient parses ArtifactPayload, if any, and
// starts the download of the artifact from its location without waiting
// for it: Ready settles when the first artifact is in use.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := newClient(cfg)
	if cfg.WrapTransport != nil {
		// The wrapper gets the *http.Transport, and the gate stays in
		// front of it: the wrapper sees each request once the gate lets
		// it go, and the gate still hears of the probe's connection
		// through the request's context (firstconn.go).
		rt := cfg.WrapTransport(c.transport)
		if rt == nil {
			c.transport.CloseIdleConnections()
			return nil, &ConfigError{Field: "WrapTransport", Reason: "returned a nil RoundTripper"}
		}
		c.gate.next = rt // before the Client is used: no one else reads it yet
	}
	c.ready = future.Resolved(struct{}{})
	if cfg.wantsOnDevice() {
		od, err := newOnDevice(c, cfg.OnDevice)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				err = &ConfigError{Field: "OnDevice.ArtifactPayload", Reason: err.Error(), Err: err}
			}
			return nil, err
		}
		c.od = od
		c.ready = od.Ready()
	}
	return c, nil
}

// wantsOnDevice reports whether the client needs on-device decisioning:
// it decides on-device by default, or it was told where the artifact is.
func (cfg *Config) wantsOnDevice() bool {
	od := &cfg.OnDevice
	return cfg.DecisioningMethod == OnDevice || cfg.DecisioningMethod == Hybrid ||
		od.ArtifactPayload != nil || od.ArtifactLocation != "" || od.Environment != ""
}

func (cfg *Config) validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case cfg.Client == "":
		return bad("Client", "required")
	case !isHostLabel(cfg.Client):
		return bad("Client", "%q is not a host name label (letters, digits, '-')", cfg.Client)
	case strings.TrimSpace(cfg.OrganizationID) == "":
		return bad("OrganizationID", "required")
	case strings.ContainsAny(cfg.OrganizationID, " \t\r\n"):
		return bad("OrganizationID", "must not contain white space")
	case cfg.Timeout < 0:
		return bad("Timeout", "negative (%v)", cfg.Timeout)
	case cfg.LocationHint != "" && !isHostLabel(cfg.LocationHint):
		return bad("LocationHint", "%q is not an edge cluster id (letters, digits, '-')", cfg.LocationHint)
	case cfg.EnvironmentID < 0:
		return bad("EnvironmentID", "negative (%d)", cfg.EnvironmentID)
	case cfg.Retry.MaxAttempts < 0:
		return bad("Retry.MaxAttempts", "negative (%d)", cfg.Retry.MaxAttempts)
	case cfg.Retry.MinBackoff < 0:
		return bad("Retry.MinBackoff", "negative (%v)", cfg.Retry.MinBackoff)
	case cfg.Retry.MaxBackoff < 0:
		return bad("Retry.MaxBackoff", "negative (%v)", cfg.Retry.MaxBackoff)
	case cfg.Retry.MaxBackoff != 0 && cfg.Retry.MaxBackoff < cfg.Retry.MinBackoff:
		return bad("Retry.MaxBackoff", "%v is below MinBackoff %v", cfg.Retry.MaxBackoff, cfg.Retry.MinBackoff)
	}
	if err := validDecisioningMethod(cfg.DecisioningMethod); err != nil {
		return bad("DecisioningMethod", "%v", err)
	}
	if err := cfg.Notifications.validate(); err != nil {
		return err
	}
	if cfg.WrapTransport != nil && cfg.HTTPClient != nil {
		return bad("WrapTransport", "cannot be combined with HTTPClient: wrap that client's transport instead")
	}
	switch ss := cfg.Cookies.SameSite; {
	case ss < 0 || ss > http.SameSiteNoneMode:
		return bad("Cookies.SameSite", "%d is not an http.SameSite mode", ss)
	case strings.ContainsAny(cfg.Cookies.Domain, " \t\r\n;,\"/:"):
		return bad("Cookies.Domain", "%q is not a cookie domain", cfg.Cookies.Domain)
	}
	if cfg.ServerDomain != "" {
		if err := validHostPort(cfg.ServerDomain); err != nil {
			return bad("ServerDomain", "%v", err)
		}
	}
	return nil
}

func validDecisioningMethod(m DecisioningMethod) error {
	switch m {
	case "", ServerSide, OnDevice, Hybrid:
		return nil
	}
	return fmt.Errorf("%q is not one of %q, %q, %q", m, ServerSide, OnDevice, Hybrid)
}

// validHostPort accepts "host" or "host:port" with no scheme or path, since
// the value becomes the authority of the request URL.
func validHostPort(s string) error {
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@ ") {
		return fmt.Errorf("%q must be host[:port], without scheme or path", s)
	}
	host := s
	if strings.Contains(s, ":") && !strings.HasSuffix(s, "]") {
		h, port, err := net.SplitHostPort(s)
		if err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q out of range", s, port)
		}
		host = h
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	// The host goes into the request URL as it is: an IPv4 address, an
	// IPv6 address in brackets without zone (a zone must be written "%25"
	// in a URL, and no edge has one), or DNS labels; nothing a URL parser
	// could read otherwise.
	bracketed := strings.HasPrefix(s, "[")
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: an IPv6 zone cannot be part of the request URL", s)
		}
		if a.Is4() == bracketed {
			return fmt.Errorf("%q: only IPv6 addresses go in brackets, and they must", s)
		}
		return nil
	}
	if bracketed {
		return fmt.Errorf("%q: %q in brackets is not an IPv6 address", s, host)
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(host, "."), ".") {
		if label == "" || strings.Trim(label, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
			return fmt.Errorf("%q: host %q is not a host name or IP address", s, host)
		}
	}
	return nil
}

// isHostLabel reports whether s can be one label of a DNS name, as the
// client code and the cluster id are in {client}.tt.omtrdc.net and
// mboxedge{cluster}.tt.omtrdc.net.
func isHostLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ErrOnDeviceUnavailable is the error of calls that ask for OnDevice or
// Hybrid decisioning from a Client without on-device decisioning: one whose
// Config neither has DecisioningMethod OnDevice or Hybrid nor names an
// artifact source in Config.OnDevice (see Config.OnDevice).
var ErrOnDeviceUnavailable = errors.New("target: on-device decisioning is not configured (see Config.OnDevice)")
