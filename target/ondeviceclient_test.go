package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// testArtifact is a small artifact written for these tests: "hero" answers
// gold visitors with a JSON offer and everyone else with HTML; "banner"
// answers everyone; "checkout" is decided by the edge only.
const testArtifact = `{
  "version": "1.0.0",
  "meta": {"clientCode": "testclient", "environment": "production"},
  "globalMbox": "target-global-mbox",
  "responseTokens": ["activity.id", "experience.name"],
  "remoteMboxes": ["checkout"],
  "localMboxes": ["hero", "banner", "checkout"],
  "remoteViews": [],
  "localViews": [],
  "rules": {
    "mboxes": {
      "hero": [
        {
          "ruleKey": "r1", "activityId": 1001,
          "meta": {"activity.id": 1001, "experience.name": "Gold", "audience.ids": [7]},
          "condition": {"==": [{"var": "mbox.tier"}, "gold"]},
          "consequence": {"name": "hero",
            "options": [{"type": "json", "content": {"discount": 20}, "eventToken": "tok-gold"}],
            "metrics": [{"type": "display", "eventToken": "tok-gold"}]}
        },
        {
          "ruleKey": "r2", "activityId": 1001,
          "meta": {"activity.id": 1001, "experience.name": "Default"},
          "condition": true,
          "consequence": {"name": "hero",
            "options": [{"type": "html", "content": "<b>hi</b>", "eventToken": "tok-default"}],
            "metrics": [{"type": "display", "eventToken": "tok-default"}]}
        }
      ],
      "banner": [
        {
          "ruleKey": "b1", "activityId": 1002,
          "meta": {"activity.id": 1002, "experience.name": "Everyone"},
          "condition": true,
          "consequence": {"name": "banner",
            "options": [{"type": "html", "content": "<i>new</i>", "eventToken": "tok-banner"}],
            "metrics": [{"type": "display", "eventToken": "tok-banner"}]}
        }
      ]
    },
    "views": {}
  }
}`

type onDeviceSetup struct {
	edge *targettest.Server
	c    *target.Client
	sent chan notified
	log  *bytes.Buffer // written by the client's logger; read after a receive from sent
}

// notified is what OnNotificationsSent was called with.
type notified struct {
	r   *target.Response
	err error
}

// setupOnDevice starts a local edge and an on-device client deciding from
// testArtifact; edit adjusts both configs before the client is made. The
// client is closed before the edge when the test ends.
func setupOnDevice(t *testing.T, ecfg targettest.Config, edit ...func(*target.Config)) *onDeviceSetup {
	t.Helper()
	s := &onDeviceSetup{sent: make(chan notified, 16), log: &bytes.Buffer{}}
	s.edge = targettest.NewServer(ecfg)
	t.Cleanup(s.edge.Close)
	cfg := s.edge.ClientConfig()
	cfg.DecisioningMethod = target.OnDevice
	cfg.Logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.OnDevice = target.OnDeviceConfig{
		ArtifactPayload:     []byte(testArtifact),
		OnNotificationsSent: func(r *target.Response, err error) { s.sent <- notified{r, err} },
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	s.c = c
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	return s
}

func (s *onDeviceSetup) notification(t *testing.T) notified {
	t.Helper()
	select {
	case n := <-s.sent:
		return n
	case <-t.Context().Done():
		t.Fatal("no display notification was sent")
		return notified{}
	}
}

func heroRequest(tier string) target.DeliveryRequest {
	return target.DeliveryRequest{
		ID: &target.VisitorID{TntID: "visitor-1"},
		Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{
			Name: "hero", Index: 1,
			RequestDetails: target.RequestDetails{Parameters: map[string]string{"tier": tier}},
		}}},
	}
}

func TestOnDeviceGetOffersDecidesLocallyAndNotifies(t *testing.T) {
	t.Parallel()
	// The edge's latency shows that the caller does not wait for the
	// notification: the result is in before the edge could have answered.
	s := setupOnDevice(t, targettest.Config{Latency: targettest.Latency{Fixed: 200 * time.Millisecond}})
	req := heroRequest("gold")
	req.Execute.Mboxes = append(req.Execute.Mboxes, target.MboxRequest{Name: "banner", Index: 2})
	f := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req})
	r, err := f.Peek()
	require.NoError(t, err, "an on-device decision is settled on return")
	require.Empty(t, s.sent, "the caller does not wait for the notification")

	assert.Equal(t, 200, r.Status)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	assert.Empty(t, r.Meta.RemoteMboxes)
	require.Len(t, r.Response.Execute.Mboxes, 2)
	m := r.Response.Execute.Mboxes[0]
	require.Len(t, m.Options, 1)
	assert.JSONEq(t, `{"discount":20}`, string(m.Options[0].Content))
	assert.Empty(t, m.Options[0].EventToken, "execute answers carry no event token")
	assert.Equal(t, "on-device", m.Options[0].ResponseTokens["activity.decisioningMethod"])
	assert.Equal(t, "Gold", m.Options[0].ResponseTokens["experience.name"])
	require.NotNil(t, r.TargetCookie)

	n := s.notification(t)
	require.NoError(t, n.err)
	assert.Equal(t, target.ServerSide, n.r.Meta.DecisioningMethod, "notifications go to the edge")
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1, "one notification request for the call, nothing else")
	d := reqs[0].Delivery
	require.NotNil(t, d)
	require.Len(t, d.Notifications, 2, "both mboxes' impressions in one request")
	var tokens []string
	for _, n := range d.Notifications {
		assert.Equal(t, target.MetricTypeDisplay, n.Type)
		tokens = append(tokens, n.Tokens...)
	}
	assert.ElementsMatch(t, []string{"tok-gold", "tok-banner"}, tokens)
	require.NotNil(t, d.Telemetry)
	require.NotEmpty(t, d.Telemetry.Entries)
	assert.Equal(t, target.OnDevice, d.Telemetry.Entries[0].Features.DecisioningMethod)
}

func TestOnDeviceNotificationFailureIsObservable(t *testing.T) {
	t.Parallel()
	// One attempt: a transient failure would be retried otherwise.
	s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) { cfg.Notifications.MaxAttempts = 1 })
	s.edge.ForceFault(targettest.FaultServerError, 1)
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err, "the decision does not depend on the notification")
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)

	n := s.notification(t)
	var apiErr *target.APIError
	require.ErrorAs(t, n.err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.Status)
	assert.Contains(t, s.log.String(), "notifications dropped")
	assert.Contains(t, s.log.String(), "on-device display notifications failed")
	assert.Contains(t, s.log.String(), r.Request.RequestID)
}

func TestOnDeviceReportsWhatNeedsTheEdge(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	req := heroRequest("silver")
	req.Prefetch = &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "checkout", Index: 2}, {Name: "unknown", Index: 3}}}
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, http.StatusPartialContent, r.Status)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	assert.Equal(t, []string{"checkout", "unknown"}, r.Meta.RemoteMboxes)
	require.NoError(t, s.notification(t).err) // the execute decision's
}

func TestHybridAsksTheEdgeOnlyForWhatTheArtifactCannotDecide(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{}, func(c *target.Config) { c.DecisioningMethod = target.Hybrid })
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "checkout"}}}}
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod)
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "checkout", reqs[0].Delivery.Execute.Mboxes[0].Name)

	r, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	require.NoError(t, s.notification(t).err)
	assert.Len(t, s.edge.Requests(), 2, "the decision's notification, no delivery request")
}

// downloading starts a server that serves testArtifact once release is
// called (until then downloads wait, or end with the client's request), an
// edge without clusters, and a client with the given default method that
// downloads the artifact over a transport of its own (the edge's
// HTTPClient would send the download to the edge). edit adjusts the
// client's config. All are closed when the test ends, the client first.
func downloading(t *testing.T, method target.DecisioningMethod, edit ...func(*target.Config)) (c *target.Client, edge *targettest.Server, release func()) {
	t.Helper()
	gate := make(chan struct{})
	artifacts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write([]byte(testArtifact))
	}))
	t.Cleanup(artifacts.Close)
	edge = targettest.NewServer(targettest.Config{NoCluster: true})
	t.Cleanup(edge.Close)
	cfg := edge.ClientConfig()
	cfg.HTTPClient = nil
	cfg.DecisioningMethod = method
	cfg.OnDevice = target.OnDeviceConfig{ArtifactLocation: artifacts.URL + "/rules.json"}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	return c, edge, sync.OnceFunc(func() { close(gate) })
}

func TestHybridIsRemoteUntilTheArtifactIsReady(t *testing.T) {
	t.Parallel()
	c, edge, release := downloading(t, target.Hybrid)

	ready := c.Ready()
	_, err := ready.Peek()
	require.ErrorIs(t, err, future.ErrPending)
	req := target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}}
	r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod, "before the artifact, the edge decides")
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, DecisioningMethod: target.OnDevice}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrArtifactNotReady, "OnDevice does not fall back")

	release()
	_, err = ready.Await(t.Context())
	require.NoError(t, err)
	r, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod, "once ready, the artifact decides")
	assert.Equal(t, "tok-default", r.Response.Prefetch.Mboxes[0].Options[0].EventToken)
	assert.Len(t, edge.Requests(), 1, "only the call before the artifact reached the edge")
}

func TestPerCallDecisioningMethod(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	client := func(method target.DecisioningMethod, payload bool) *target.Client {
		cfg := edge.ClientConfig()
		cfg.DecisioningMethod = method
		if payload {
			cfg.OnDevice.ArtifactPayload = []byte(testArtifact)
		}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
		return c
	}
	req := target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}}
	tests := []struct {
		name    string
		client  *target.Client
		call    target.DecisioningMethod
		want    target.DecisioningMethod
		wantErr error
	}{
		{"on-device client, server-side call", client(target.OnDevice, true), target.ServerSide, target.ServerSide, nil},
		{"on-device client, default", client(target.OnDevice, true), "", target.OnDevice, nil},
		{"server-side client with an artifact, on-device call", client(target.ServerSide, true), target.OnDevice, target.OnDevice, nil},
		{"server-side client with an artifact, hybrid call", client("", true), target.Hybrid, target.OnDevice, nil},
		{"server-side client with an artifact, default", client("", true), "", target.ServerSide, nil},
		{"server-side client, on-device call", client("", false), target.OnDevice, "", target.ErrOnDeviceUnavailable},
		{"server-side client, hybrid call", client("", false), target.Hybrid, "", target.ErrOnDeviceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tt.client.GetOffers(t.Context(), target.GetOffersOptions{Request: req, DecisioningMethod: tt.call})
			r, err := f.Await(t.Context())
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				_, err = f.Peek()
				require.Error(t, err, "already failed on return")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Meta.DecisioningMethod)
		})
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	t.Run("server-side client", func(t *testing.T) {
		t.Parallel()
		c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org@AdobeOrg"})
		require.NoError(t, err)
		defer func() { _ = c.Close(context.Background()) }()
		_, err = c.Ready().Peek()
		require.NoError(t, err, "ready at once")
		assert.Same(t, c.Ready(), c.Ready(), "the same future on every call")
	})
	t.Run("payload", func(t *testing.T) {
		t.Parallel()
		s := setupOnDevice(t, targettest.Config{})
		_, err := s.c.Ready().Peek()
		require.NoError(t, err, "ready at once")
	})
	t.Run("download", func(t *testing.T) {
		t.Parallel()
		c, _, release := downloading(t, target.OnDevice)
		ready := c.Ready()
		assert.Same(t, ready, c.Ready(), "the same future on every call")
		_, err := ready.Peek()
		require.ErrorIs(t, err, future.ErrPending)
		release()
		_, err = ready.Await(t.Context())
		require.NoError(t, err)
	})
	t.Run("closed first", func(t *testing.T) {
		t.Parallel()
		c, _, _ := downloading(t, target.OnDevice)
		_ = c.Close(context.Background())
		_, err := c.Ready().Await(t.Context())
		require.ErrorIs(t, err, target.ErrProviderClosed)
	})
}

func TestAfterCloseOnDeviceCallsFail(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	_ = s.c.Close(context.Background())
	_ = s.c.Close(context.Background()) // twice is fine
	_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Peek()
	require.ErrorIs(t, err, target.ErrClientClosed)
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), DecisioningMethod: target.ServerSide}).Await(t.Context())
	require.NoError(t, err, "server-side calls keep working")
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod)
}

// TestCloseLeavesNoGoroutine is not parallel: goleak looks at every
// goroutine of the process, and parallel tests are paused while it runs.
// Its check is registered first so that it runs after the servers close.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	sent := make(chan error, 1)
	c, _, release := downloading(t, target.OnDevice, func(cfg *target.Config) {
		cfg.OnDevice.OnNotificationsSent = func(_ *target.Response, err error) { sent <- err }
	})
	release()
	_, err := c.Ready().Await(t.Context())
	require.NoError(t, err)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), DecisioningMethod: target.ServerSide}).Await(t.Context())
	require.NoError(t, err)

	_ = c.Close(context.Background()) // waits for the notification in flight
	select {
	case err := <-sent:
		require.NoError(t, err)
	default:
		t.Fatal("Close returned before the notification was sent")
	}
}

func TestOnDevicePrefetchTelemetryRidesOnTheNextCall(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	req := target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}}
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	require.Len(t, r.Response.Prefetch.Mboxes, 1)
	assert.Equal(t, "tok-default", r.Response.Prefetch.Mboxes[0].Options[0].EventToken, "prefetched options keep their event token")
	assert.Empty(t, s.edge.Requests(), "a prefetch decision sends nothing by itself")

	_, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x"), DecisioningMethod: target.ServerSide}).Await(t.Context())
	require.NoError(t, err)
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1)
	require.NotNil(t, reqs[0].Delivery.Telemetry)
	assert.Equal(t, target.OnDevice, reqs[0].Delivery.Telemetry.Entries[0].Features.DecisioningMethod)
}

func TestOnDeviceGetAttributes(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	req := target.DeliveryRequest{ID: &target.VisitorID{TntID: "v"}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{
		Name: "hero", RequestDetails: target.RequestDetails{Parameters: map[string]string{"tier": "gold"}},
	}}}}
	f := s.c.GetAttributes(t.Context(), []string{"hero"}, target.GetAttributesOptions{Request: req})
	a, err := f.Peek()
	require.NoError(t, err, "settled on return")
	assert.Equal(t, target.OnDevice, a.Response.Meta.DecisioningMethod)
	raw, err := json.Marshal(a.Response.Response.Execute.Mboxes[0].Options[0].Content)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "discount")
	require.NoError(t, s.notification(t).err)
}

func TestNewClientRejectsBadOnDeviceConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		od    target.OnDeviceConfig
		field string
		is    error
	}{
		{"artifact version", target.OnDeviceConfig{ArtifactPayload: []byte(`{"version":"2.0.0"}`)}, "OnDevice.ArtifactPayload", target.ErrArtifactVersion},
		{"bad condition", target.OnDeviceConfig{ArtifactPayload: []byte(`{"version":"1.0.0","rules":{"mboxes":{"m":[{"condition":{"nope":[1]}}]}}}`)}, "OnDevice.ArtifactPayload", target.ErrLogic},
		{"location", target.OnDeviceConfig{ArtifactLocation: "ftp://example.com/rules.json"}, "OnDevice.ArtifactLocation", nil},
		{"environment", target.OnDeviceConfig{Environment: "qa"}, "OnDevice.Environment", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org@AdobeOrg", OnDevice: tt.od})
			var ce *target.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.ErrorIs(t, err, target.ErrInvalidConfig)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestBeforeTheArtifactOnDeviceFailsAndHybridAsksTheEdge(t *testing.T) {
	t.Parallel()
	failed := make(chan error, 1)
	s := setupOnDevice(t, targettest.Config{}, func(c *target.Config) {
		c.OnDevice = target.OnDeviceConfig{
			// The edge has no artifact to serve.
			ArtifactLocation: "http://" + c.ServerDomain + "/no-artifact-here/rules.json",
			OnArtifactDownloadFailed: func(_ string, err error) {
				select {
				case failed <- err:
				default:
				}
			},
		}
	})

	_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.ErrorIs(t, err, target.ErrArtifactNotReady)

	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold"), DecisioningMethod: target.Hybrid}).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod)

	var dl *target.ArtifactDownloadError
	require.ErrorAs(t, <-failed, &dl, "the failed download is reported")
	assert.Equal(t, 404, dl.Status)
}

// An artifact given as a payload has no location: the trace says "Not
// Applicable", in Adobe's engines' words.
func TestOnDeviceTraceOfAPayloadArtifact(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	req := heroRequest("gold")
	req.Trace = &target.Trace{AuthorizationToken: "x"}
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, r.Trace)
	assert.Equal(t, "Not Applicable", r.Trace[0]["artifact"].(map[string]any)["artifactLocation"])
	require.NoError(t, s.notification(t).err)
}

// A negative mbox index is an index like any other (the spec's is any
// int32, and Adobe's engine decides it); it was refused as an invalid
// option.
func TestOnDeviceDecidesANegativeIndex(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t, targettest.Config{})
	req := heroRequest("gold")
	req.Execute.Mboxes[0].Index = -1
	r, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)
	require.Len(t, r.Response.Execute.Mboxes, 1)
	assert.Equal(t, -1, r.Response.Execute.Mboxes[0].Index)
	assert.NotEmpty(t, r.Response.Execute.Mboxes[0].Options)
	require.NoError(t, s.notification(t).err)
}
