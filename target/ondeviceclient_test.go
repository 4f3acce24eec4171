package target_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// testArtifact is a small artifact written for these tests: "hero" answers
// gold visitors with a JSON offer and everyone else with HTML; "checkout"
// is decided by the edge only.
const testArtifact = `{
  "version": "1.0.0",
  "meta": {"clientCode": "testclient", "environment": "production"},
  "globalMbox": "target-global-mbox",
  "responseTokens": ["activity.id", "experience.name"],
  "remoteMboxes": ["checkout"],
  "localMboxes": ["hero", "checkout"],
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
      ]
    },
    "views": {}
  }
}`

type onDeviceSetup struct {
	edge *targettest.Server
	c    *target.Client
	od   *target.OnDeviceHandle
	sent chan error
}

func setupOnDevice(t *testing.T) *onDeviceSetup {
	t.Helper()
	s := &onDeviceSetup{sent: make(chan error, 16)}
	s.edge = targettest.NewServer(targettest.Config{})
	t.Cleanup(s.edge.Close)
	c, err := target.NewClient(s.edge.ClientConfig())
	require.NoError(t, err)
	s.c = c
	s.od, err = target.NewOnDevice(c, target.OnDeviceConfig{
		ArtifactPayload:     []byte(testArtifact),
		OnNotificationsSent: func(_ *target.Response, err error) { s.sent <- err },
	})
	require.NoError(t, err)
	t.Cleanup(s.od.Close)
	return s
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
	s := setupOnDevice(t)
	r, err := s.od.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}, target.OnDevice).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	require.Len(t, r.Response.Execute.Mboxes, 1)
	m := r.Response.Execute.Mboxes[0]
	require.Len(t, m.Options, 1)
	assert.JSONEq(t, `{"discount":20}`, string(m.Options[0].Content))
	assert.Empty(t, m.Options[0].EventToken, "execute answers carry no event token")
	assert.Equal(t, "on-device", m.Options[0].ResponseTokens["activity.decisioningMethod"])
	assert.Equal(t, "Gold", m.Options[0].ResponseTokens["experience.name"])
	require.NotNil(t, r.TargetCookie)

	select {
	case err := <-s.sent:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no display notification was sent")
	}
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1, "one notification request, nothing else")
	d := reqs[0].Delivery
	require.NotNil(t, d)
	require.Len(t, d.Notifications, 1)
	assert.Equal(t, target.MetricTypeDisplay, d.Notifications[0].Type)
	assert.Equal(t, []string{"tok-gold"}, d.Notifications[0].Tokens)
	require.NotNil(t, d.Telemetry)
	require.NotEmpty(t, d.Telemetry.Entries)
	assert.Equal(t, target.OnDevice, d.Telemetry.Entries[0].Features.DecisioningMethod)
}

func TestOnDeviceReportsWhatNeedsTheEdge(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t)
	req := heroRequest("silver")
	req.Prefetch = &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "checkout", Index: 2}, {Name: "unknown", Index: 3}}}
	r, err := s.od.GetOffers(t.Context(), target.GetOffersOptions{Request: req}, target.OnDevice).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 206, r.Status)
	assert.Equal(t, []string{"checkout", "unknown"}, r.Meta.RemoteMboxes)
	<-s.sent // the execute decision's notification
}

func TestHybridGoesToTheEdgeWhenTheArtifactCannotDecide(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t)
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "checkout"}}}}
	r, err := s.od.GetOffers(t.Context(), target.GetOffersOptions{Request: req}, target.Hybrid).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod)
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "checkout", reqs[0].Delivery.Execute.Mboxes[0].Name)

	r, err = s.od.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}, target.Hybrid).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	<-s.sent
}

func TestOnDevicePrefetchTelemetryRidesOnTheNextCall(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t)
	req := target.DeliveryRequest{Prefetch: &target.PrefetchRequest{Mboxes: []target.MboxRequest{{Name: "hero"}}}}
	r, err := s.od.GetOffers(t.Context(), target.GetOffersOptions{Request: req}, target.OnDevice).Await(t.Context())
	require.NoError(t, err)
	require.Len(t, r.Response.Prefetch.Mboxes, 1)
	assert.Equal(t, "tok-default", r.Response.Prefetch.Mboxes[0].Options[0].EventToken, "prefetched options keep their event token")
	assert.Empty(t, s.edge.Requests(), "a prefetch decision sends nothing by itself")

	_, err = s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("x")}).Await(t.Context())
	require.NoError(t, err)
	reqs := s.edge.Requests()
	require.Len(t, reqs, 1)
	require.NotNil(t, reqs[0].Delivery.Telemetry)
	assert.Equal(t, target.OnDevice, reqs[0].Delivery.Telemetry.Entries[0].Features.DecisioningMethod)
}

func TestOnDeviceGetAttributes(t *testing.T) {
	t.Parallel()
	s := setupOnDevice(t)
	req := target.DeliveryRequest{ID: &target.VisitorID{TntID: "v"}, Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{
		Name: "hero", RequestDetails: target.RequestDetails{Parameters: map[string]string{"tier": "gold"}},
	}}}}
	a, err := s.od.GetAttributes(t.Context(), []string{"hero"}, target.GetOffersOptions{Request: req}, target.OnDevice).Await(t.Context())
	require.NoError(t, err)
	raw, err := json.Marshal(a.Response.Response.Execute.Mboxes[0].Options[0].Content)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "discount")
	<-s.sent
}

func TestOnDeviceNeedsAnArtifact(t *testing.T) {
	t.Parallel()
	_, err := target.NewOnDevice(mustClient(t), target.OnDeviceConfig{ArtifactPayload: []byte(`{"version":"2.0.0"}`)})
	require.ErrorIs(t, err, target.ErrArtifactVersion)
	_, err = target.NewOnDevice(mustClient(t), target.OnDeviceConfig{ArtifactPayload: []byte(`{"version":"1.0.0","rules":{"mboxes":{"m":[{"condition":{"nope":[1]}}]}}}`)})
	require.ErrorIs(t, err, target.ErrArtifactInvalid)
	require.ErrorIs(t, err, target.ErrLogic)
}

func mustClient(t *testing.T) *target.Client {
	t.Helper()
	c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org@AdobeOrg"})
	require.NoError(t, err)
	return c
}

func TestBeforeTheArtifactOnDeviceFailsAndHybridAsksTheEdge(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	c, err := target.NewClient(edge.ClientConfig())
	require.NoError(t, err)
	failed := make(chan error, 1)
	od, err := target.NewOnDevice(c, target.OnDeviceConfig{
		ArtifactLocation: edge.URL + "/no-artifact-here/rules.json",
		OnArtifactDownloadFailed: func(_ string, err error) {
			select {
			case failed <- err:
			default:
			}
		},
	})
	require.NoError(t, err)
	t.Cleanup(od.Close)

	_, err = od.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}, target.OnDevice).Await(t.Context())
	require.ErrorIs(t, err, target.ErrArtifactNotReady)

	r, err := od.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}, target.Hybrid).Await(t.Context())
	require.NoError(t, err)
	assert.Equal(t, target.ServerSide, r.Meta.DecisioningMethod)

	var dl *target.ArtifactDownloadError
	require.ErrorAs(t, <-failed, &dl, "the failed download is reported")
	assert.Equal(t, 404, dl.Status)
}
