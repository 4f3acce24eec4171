package target

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// Test hooks for the on-device engine. The external tests check the hash
// and the bucket against the values Adobe's SDKs publish, which use their
// own keys and salts.
var BucketOf = bucketOf

// EngineConfig sets up an on-device decision engine for the tests.
type EngineConfig struct {
	Client, OrganizationID, PropertyToken string
	TelemetryEnabled                      bool
	Artifact                              []byte
	Now                                   func() time.Time
	// GeoPayload, when set, is what the geo lookup answers.
	GeoPayload map[string]any
}

// Decide makes one on-device decision for a Delivery request given as
// JSON, and returns the response and the notification request (nil when
// none would be sent) as JSON.
func Decide(ctx context.Context, cfg EngineConfig, request []byte, sessionID, locationHint string) (response, notification []byte, err error) {
	e, err := newDecisionEngine(OnDeviceConfig{ArtifactPayload: cfg.Artifact, PollingInterval: -1}, engineOptions{
		client:           cfg.Client,
		organizationID:   cfg.OrganizationID,
		propertyToken:    cfg.PropertyToken,
		telemetryEnabled: cfg.TelemetryEnabled,
		now:              cfg.Now,
	})
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	e.lookupGeo = func(context.Context, string) (*Geo, error) {
		if cfg.GeoPayload == nil {
			return nil, errors.New("no geo payload")
		}
		return geoFromPayload(cfg.GeoPayload), nil
	}
	var req DeliveryRequest
	if err := json.Unmarshal(request, &req); err != nil {
		return nil, nil, err
	}
	d, err := e.decide(ctx, &req, decideOptions{sessionID: sessionID, locationHint: locationHint})
	if err != nil {
		return nil, nil, err
	}
	response, err = json.Marshal(d.response)
	if err != nil {
		return nil, nil, err
	}
	if n := d.notificationRequest(); n != nil {
		if notification, err = json.Marshal(map[string]any{"request": n}); err != nil {
			return nil, nil, err
		}
	}
	return response, notification, nil
}

// ArtifactProvider exposes the provider for its own tests.
type ArtifactProvider struct{ p *artifactProvider }

func NewArtifactProvider(cfg OnDeviceConfig, client, orgID string, hc *http.Client) (*ArtifactProvider, error) {
	p, err := newArtifactProvider(cfg, artifactProviderOptions{client: client, organizationID: orgID, httpClient: hc})
	if err != nil {
		return nil, err
	}
	return &ArtifactProvider{p: p}, nil
}

func (a *ArtifactProvider) Ready() *future.Future[struct{}] { return a.p.Ready() }
func (a *ArtifactProvider) Close()                          { a.p.Close() }
func (a *ArtifactProvider) Location() string                { return a.p.location }

// Version is the version of the artifact in use, "" before the first.
func (a *ArtifactProvider) Version() string {
	if c := a.p.current(); c != nil {
		return c.version
	}
	return ""
}

var (
	ParseArtifact       = func(b []byte) error { _, err := parseArtifact(b); return err }
	DeobfuscateArtifact = deobfuscateArtifact
)

// SetOnDeviceClock and SetOnDeviceGeo replace the clock and the geo
// lookup of c's on-device engine, for the suite's mockDate and mockGeo.
// Call them before c's first call.
func SetOnDeviceClock(c *Client, now func() time.Time) { c.od.engine.now = now }

func SetOnDeviceGeo(c *Client, payload map[string]any) {
	c.od.engine.lookupGeo = func(context.Context, string) (*Geo, error) {
		if payload == nil {
			return nil, errors.New("no geo payload")
		}
		return geoFromPayload(payload), nil
	}
}

var JSString = jsonlogic.String

// Engine is a decision engine with a parsed request, for benchmarks.
type Engine struct {
	e   *decisionEngine
	req *DeliveryRequest
}

// NewEngine parses the artifact and the request once.
func NewEngine(cfg EngineConfig, request []byte) (*Engine, error) {
	e, err := newDecisionEngine(OnDeviceConfig{ArtifactPayload: cfg.Artifact, PollingInterval: -1}, engineOptions{
		client: cfg.Client, organizationID: cfg.OrganizationID, telemetryEnabled: cfg.TelemetryEnabled, now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	var req DeliveryRequest
	if err := json.Unmarshal(request, &req); err != nil {
		e.Close()
		return nil, err
	}
	return &Engine{e: e, req: &req}, nil
}

// Decide makes the decision and reports how many mbox answers it has.
func (e *Engine) Decide(ctx context.Context) (int, error) {
	d, err := e.e.decide(ctx, e.req, decideOptions{sessionID: "s"})
	if err != nil {
		return 0, err
	}
	n := 0
	if ex := d.response.Execute; ex != nil {
		n += len(ex.Mboxes)
	}
	if pf := d.response.Prefetch; pf != nil {
		n += len(pf.Mboxes) + len(pf.Views)
	}
	return n, nil
}

func (e *Engine) Close() { e.e.Close() }

// PageContext, UserContext, TimingContext and MboxContext expose the rule
// context builders.
func PageContext(url string) map[string]any { return pageContext(url) }

func UserContext(userAgent, platformHint, brandsHint string) map[string]any {
	c := &Context{UserAgent: userAgent}
	if platformHint != "" || brandsHint != "" {
		c.ClientHints = &ClientHints{Platform: platformHint, BrowserUAWithMajorVersion: brandsHint}
	}
	return userContext(c)
}

func TimingContext(now time.Time) map[string]any {
	m := map[string]any{}
	timingContext(now, m)
	return m
}

var MboxContext = mboxContext
