package target

import (
	"log/slog"
	"net/http"
	"time"
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
	// was downloaded and put in use, with its location. It runs on the
	// polling goroutine: it must not block for long.
	OnArtifactDownloaded func(location string)
	// OnArtifactDownloadFailed, when set, is called after each failed
	// download or unusable artifact (the last good artifact stays in use),
	// with the location and the error. It runs on the polling goroutine.
	OnArtifactDownloadFailed func(location string, err error)
	// OnNotificationsSent, when set, is called when the display
	// notifications of an on-device decision have been delivered, with the
	// edge's answer, or dropped, with the error (after the retries of
	// Config.Notifications); failures are logged as well. It runs on the
	// notification queue's goroutine (the caller's, with ErrClientClosed,
	// when Close came before the notifications could be queued).
	// Client.Close waits for it, so it must not call Close.
	OnNotificationsSent func(*Response, error)
}

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
	})
	if err != nil {
		return nil, err
	}
	return &decisionEngine{
		client:           o.client,
		propertyToken:    o.propertyToken,
		telemetryEnabled: o.telemetryEnabled,
		now:              o.now,
		lookupGeo:        httpGeoLookup(o.httpClient, defaultGeoLocation),
		artifacts:        p,
		logger:           o.logger,
	}, nil
}

// Close stops the engine's artifact polling.
func (e *decisionEngine) Close() { e.artifacts.Close() }
