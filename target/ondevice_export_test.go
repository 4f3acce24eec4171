package target

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/internal/jsonlogic"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// Test hooks for on-device decisioning: the engine as the client sets it
// up, for the conformance suite, the differential test and the benchmarks.

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
	defer func() { _ = e.Close(context.Background()) }()
	e.LookupGeo = func(context.Context, string) (*Geo, error) {
		if cfg.GeoPayload == nil {
			return nil, errors.New("no geo payload")
		}
		return geoFromPayload(cfg.GeoPayload), nil
	}
	var req DeliveryRequest
	if err := json.Unmarshal(request, &req); err != nil {
		return nil, nil, err
	}
	d, err := e.decide(ctx, &req, ondevice.Options{SessionID: sessionID, LocationHint: locationHint})
	if err != nil {
		return nil, nil, err
	}
	response, err = json.Marshal(d.Response)
	if err != nil {
		return nil, nil, err
	}
	if n := d.NotificationRequest(); n != nil {
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
		return c.Version()
	}
	return ""
}

var (
	ParseArtifact       = func(b []byte) error { _, err := ondevice.ParseArtifact(b); return err }
	DeobfuscateArtifact = ondevice.Deobfuscate
)

// SetOnDeviceClock and SetOnDeviceGeo replace the clock and the geo
// lookup of c's on-device engine, for the suite's mockDate and mockGeo.
// Call them before c's first call.
func SetOnDeviceClock(c *Client, now func() time.Time) { c.od.engine.Now = now }

func SetOnDeviceGeo(c *Client, payload map[string]any) {
	c.od.engine.LookupGeo = func(context.Context, string) (*Geo, error) {
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
		_ = e.Close(context.Background())
		return nil, err
	}
	return &Engine{e: e, req: &req}, nil
}

// Decide makes the decision and reports how many mbox answers it has.
func (e *Engine) Decide(ctx context.Context) (int, error) {
	d, err := e.e.decide(ctx, e.req, ondevice.Options{SessionID: "s"})
	if err != nil {
		return 0, err
	}
	n := 0
	if ex := d.Response.Execute; ex != nil {
		n += len(ex.Mboxes)
	}
	if pf := d.Response.Prefetch; pf != nil {
		n += len(pf.Mboxes) + len(pf.Views)
	}
	return n, nil
}

func (e *Engine) Close() { _ = e.e.Close(context.Background()) }
