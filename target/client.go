package target

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
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

// A Client calls the Delivery API. It is safe for concurrent use; its
// configuration is fixed at NewClient. The only state it keeps between calls
// is what Adobe's SDKs keep too: the edge cluster learned from earlier
// responses, and, when telemetry is enabled, the timings of earlier calls
// that ride on the next request.
type Client struct {
	cfg    Config
	scheme string
	http   *http.Client
	// transport is the transport the client made, nil when the caller
	// supplied the http.Client; CloseIdleConnections closes only its own.
	transport *http.Transport
	log       *slog.Logger
	telemetry bool

	// cluster is the edge cluster learned from the last answer that named
	// one; nil until then.
	cluster atomic.Pointer[string]

	mu      sync.Mutex
	pending []TelemetryEntry // timings not sent yet, oldest first
}

func newClient(cfg Config) *Client {
	c := &Client{cfg: cfg, scheme: "https", log: cfg.Logger, telemetry: true}
	if cfg.Insecure {
		c.scheme = "http"
	}
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
	c.http = cfg.HTTPClient
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 2 * maxIdleConnsPerHost
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
		c.transport = t
		c.http = &http.Client{Transport: t}
	}
	return c
}

// CloseIdleConnections closes the idle keep-alive connections of the
// transport the Client made. It does nothing for a caller-supplied
// HTTPClient, whose connections belong to the caller. The Client stays
// usable; later calls open new connections.
func (c *Client) CloseIdleConnections() {
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}
