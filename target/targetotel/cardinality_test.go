package targetotel_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
	"github.com/target-go/sdk/target/targettest"
)

// pointSets returns the attribute sets of a metric's data points.
func pointSets(t *testing.T, m metricdata.Metrics) []attribute.Set {
	t.Helper()
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	default:
		t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	}
	return out
}

// TestInvalidMethodsBoundedCardinality: 50 calls, each with a different
// invalid decisioning method, add a handful of data points, not one per
// method: the method attribute takes values from a fixed set.
func TestInvalidMethodsBoundedCardinality(t *testing.T) {
	tel := newTelemetry(t)
	c, _ := setup(t, tel, targettest.Config{})
	for i := range 50 {
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{
			Request:           mboxRequest("hero"),
			DecisioningMethod: target.DecisioningMethod(fmt.Sprintf("user-input-%d", i)),
		}).Await(t.Context())
		require.ErrorIs(t, err, target.ErrInvalidOption)
	}
	allowed := map[string]bool{
		string(target.ServerSide): true, string(target.OnDevice): true, string(target.Hybrid): true, "invalid": true,
	}
	points := 0
	for name, m := range tel.metrics(t) {
		sets := pointSets(t, m)
		points += len(sets)
		for _, s := range sets {
			if v, ok := s.Value(targetotel.DecisioningMethodKey); ok {
				assert.True(t, allowed[v.AsString()], "%s has method %q", name, v.AsString())
			}
		}
	}
	assert.LessOrEqual(t, points, 8, "data points for 50 invalid methods")
	for _, s := range tel.spans.Ended() {
		set := attribute.NewSet(s.Attributes()...)
		if v, ok := set.Value(targetotel.DecisioningMethodKey); ok {
			assert.True(t, allowed[v.AsString()], "span %s has method %q", s.Name(), v.AsString())
		}
	}
}

// TestEdgeClusterHostsBoundedCardinality: 60 visitors whose tntIds name
// 60 edge clusters send 60 requests to 60 hosts: the spans name each
// host, while the HTTP duration metric has one server.address for all of
// them (it had one series per cluster, which visitors choose).
func TestEdgeClusterHostsBoundedCardinality(t *testing.T) {
	tel := newTelemetry(t)
	c, _ := setup(t, tel, targettest.Config{})
	const visitors = 60
	for i := range visitors {
		req := mboxRequest("hero")
		req.ID = &target.VisitorID{TntID: fmt.Sprintf("visitor-%d.c%d_0", i, i)}
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, DecisioningMethod: target.ServerSide}).Await(t.Context())
		require.NoError(t, err)
	}
	hosts := map[string]bool{}
	for _, s := range newTree(tel.spans.Ended()).named["POST"] {
		hosts[attrs(s.Attributes())["server.address"].AsString()] = true
	}
	assert.Len(t, hosts, visitors, "the spans keep each host")
	assert.Contains(t, hosts, "mboxedgec7.tt.omtrdc.net")

	m := tel.metrics(t)
	addresses := map[string]bool{}
	for _, set := range pointSets(t, m["http.client.request.duration"]) {
		v, ok := set.Value("server.address")
		require.True(t, ok)
		addresses[v.AsString()] = true
	}
	assert.Equal(t, map[string]bool{targetotel.EdgeClusterHost: true}, addresses)
}
