package target

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/target-go/sdk/target/internal/jsonlogic"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// OnDeviceConfig configures on-device decisioning (Config.OnDevice): where
// the rules artifact comes from, how often it is refreshed, and who hears
// about downloads and notifications. For a client whose DecisioningMethod
// is OnDevice or Hybrid, the zero value downloads the artifact for the
// client and environment from Target's CDN and refreshes it every five
// minutes.
type OnDeviceConfig struct {
	// ArtifactPayload is an artifact (rules.json content) to start from.
	// With a payload and no ArtifactLocation nothing is downloaded.
	ArtifactPayload []byte
	// ArtifactLocation is the URL of the artifact. Empty means
	// https://assets.adobetarget.com/{client}/{environment}/v1/[{propertyToken}/]rules.json.
	// A location ending in .bin is read as the obfuscated form.
	ArtifactLocation string
	// Environment names the Target environment of the default location:
	// "production" (the default), "staging" or "development".
	Environment string
	// PollingInterval is how often the artifact is checked for a newer
	// version (with If-None-Match, so an unchanged artifact costs a 304).
	// Zero means five minutes; a negative value turns polling off; values
	// under MinPollingInterval are raised to it.
	PollingInterval time.Duration
	// OnArtifactDownloaded, when set, is called after each artifact that
	// was downloaded and put in use, with its location (without query,
	// fragment and user info, the property token redacted). It runs on the
	// polling goroutine: it must not block for long. It may call
	// Client.Close.
	OnArtifactDownloaded func(location string)
	// OnArtifactDownloadFailed, when set, is called after each failed
	// download or unusable artifact (the last good artifact stays in use),
	// with the location, redacted as above, and the error. It runs on the
	// polling goroutine. It may call Client.Close.
	OnArtifactDownloadFailed func(location string, err error)
	// OnNotificationsSent, when set, is called when the display
	// notifications of an on-device decision have been delivered, with the
	// edge's answer, or dropped, with the error (after the retries of
	// Config.Notifications); failures are logged as well. It runs on the
	// notification queue's goroutine (the deciding one, with
	// ErrClientClosed, when Close came before the notifications could be
	// queued). Client.Close waits for it, unless Close is called from a
	// callback (this one included, which may call Close). A panic in it
	// on the queue's goroutine is recovered and logged, and a
	// runtime.Goexit ends that goroutine only (see
	// Client.SendNotifications).
	OnNotificationsSent func(*Response, error)
}

// The conditions of on-device decisioning, from the engine: errors.Is
// works across the two packages, the values are the same.
var (
	// ErrArtifactInvalid is the condition of an artifact that cannot be
	// used: not JSON, a bad rule, an unsupported obfuscation header. Errors
	// wrapping it say what is wrong.
	ErrArtifactInvalid = ondevice.ErrArtifactInvalid
	// ErrArtifactVersion is the condition of an artifact whose major
	// version this SDK does not support.
	ErrArtifactVersion = ondevice.ErrArtifactVersion
	// ErrArtifactNotReady is returned by an on-device decision before the
	// first artifact has loaded.
	ErrArtifactNotReady = ondevice.ErrArtifactNotReady
)

// ErrLogic is the condition of an artifact rule whose json-logic condition
// cannot be compiled (an unknown operator, nesting too deep); errors
// wrapping it, and ErrArtifactInvalid, name the problem.
var ErrLogic = jsonlogic.ErrInvalid

// Polling limits: an artifact changes when someone activates an activity,
// and a fleet of servers polling faster than this would load the CDN for
// nothing.
const (
	DefaultPollingInterval = 5 * time.Minute
	MinPollingInterval     = time.Minute
)

// engineOptions are what a decision engine takes from the client's
// configuration.
type engineOptions struct {
	client, organizationID, propertyToken string
	telemetryEnabled                      bool
	httpClient                            *http.Client
	logger                                *slog.Logger
	now                                   func() time.Time // nil: the wall clock
	observe                               func(context.Context, ArtifactEvent)
}

// decisionEngine is the engine (package ondevice) with the provider whose
// artifact it decides from.
type decisionEngine struct {
	ondevice.Engine
	artifacts *artifactProvider
}

// newDecisionEngine starts the artifact provider for cfg and returns the
// engine that decides from it. Close releases the provider's goroutine.
func newDecisionEngine(cfg OnDeviceConfig, o engineOptions) (*decisionEngine, error) {
	p, err := newArtifactProvider(cfg, artifactProviderOptions{
		client:         o.client,
		organizationID: o.organizationID,
		propertyToken:  o.propertyToken,
		httpClient:     o.httpClient,
		logger:         o.logger,
		observe:        o.observe,
	})
	if err != nil {
		return nil, err
	}
	return &decisionEngine{
		Engine: ondevice.Engine{
			Client:           o.client,
			PropertyToken:    o.propertyToken,
			TelemetryEnabled: o.telemetryEnabled,
			Now:              o.now,
			NewID:            newUUID,
			NewIDs:           newUUIDs,
			LookupGeo:        httpGeoLookup(o.httpClient, defaultGeoLocation),
			ArtifactTrace:    p.trace,
			Logger:           o.logger,
		},
		artifacts: p,
	}, nil
}

// decide makes an on-device decision from the artifact in use; it fails
// with ErrArtifactNotReady before the first one has loaded.
func (e *decisionEngine) decide(ctx context.Context, req *DeliveryRequest, opts ondevice.Options) (*ondevice.Decision, error) {
	return e.Decide(ctx, e.artifacts.current(), req, opts)
}

// Close stops the engine's artifact polling, waiting for it at most until
// ctx ends (see artifactProvider.closeContext).
func (e *decisionEngine) Close(ctx context.Context) error { return e.artifacts.closeContext(ctx) }
