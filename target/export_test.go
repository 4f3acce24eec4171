package target

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Test hooks: the external tests check the hash and the bucket against the
// values Adobe's SDKs publish, which use their own keys and salts.
var (
	Murmur3UTF16 = murmur3UTF16
	BucketOf     = bucketOf
)

// EvalLogic compiles and evaluates a json-logic condition.
func EvalLogic(logic, data any) (any, error) {
	c, err := compileLogic(logic)
	if err != nil {
		return nil, err
	}
	return c.eval(data), nil
}

var JSNumberString = jsNumberString

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
	e.lookupGeo = func(context.Context, string) (*odGeo, error) {
		if cfg.GeoPayload == nil {
			return nil, errors.New("no geo payload")
		}
		return geoFromPayload(cfg.GeoPayload), nil
	}
	var req odRequest
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
