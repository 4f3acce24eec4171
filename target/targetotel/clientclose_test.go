package targetotel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
	"github.com/target-go/sdk/target/targettest"
)

// TestArtifactAgePerClient: two Clients with one client code and one
// Observer have an artifact age series each; closing one ends its series
// and leaves the other's, and closing it again changes nothing.
func TestArtifactAgePerClient(t *testing.T) {
	tel := newTelemetry(t)
	// Ready comes before the download is reported: wait for both reports.
	downloads := make(chan struct{}, 2)
	download := tel.obs.ArtifactDownload
	tel.obs.ArtifactDownload = func(ctx context.Context, e target.ArtifactEvent) {
		download(ctx, e)
		downloads <- struct{}{}
	}
	a, _ := setup(t, tel, targettest.Config{})
	b, _ := setup(t, tel, targettest.Config{})
	for range 2 {
		select {
		case <-downloads:
		case <-t.Context().Done():
			t.Fatal("no artifact download reported")
		}
	}

	series := func() map[int64]string {
		t.Helper()
		m, ok := tel.metrics(t)["target.client.artifact.age"]
		if !ok {
			return map[int64]string{}
		}
		gauge := m.Data.(metricdata.Gauge[float64])
		out := map[int64]string{}
		for _, dp := range gauge.DataPoints {
			at := setAttrs(dp.Attributes)
			out[at[targetotel.InstanceKey].AsInt64()] = at[targetotel.ClientCodeKey].AsString()
		}
		return out
	}
	both := series()
	require.Len(t, both, 2, "one series per Client")
	for _, code := range both {
		assert.Equal(t, targettest.DefaultClient, code)
	}

	require.NoError(t, a.Close(context.Background()))
	left := series()
	require.Len(t, left, 1, "the closed Client's series is gone")
	require.NoError(t, a.Close(context.Background()))
	assert.Equal(t, left, series())
	for instance := range left {
		assert.Contains(t, both, instance)
	}

	require.NoError(t, b.Close(context.Background()))
	assert.Empty(t, series())
}
