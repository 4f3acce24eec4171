package target

import (
	"log/slog"
	"net/http"
	"time"
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
