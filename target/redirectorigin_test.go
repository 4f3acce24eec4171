package target_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestArtifactTransportFollowsRedirect: an artifact download made through
// a caller's transport that follows a redirect to another host or scheme
// fails with a *TransportError naming where the answer came from; that
// host's artifact is not installed, and the location's query (a signed
// location's signature) does not show in the error.
func TestArtifactTransportFollowsRedirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		other := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, testArtifact)
		})
		cdn := newCountingServer(t, true, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/rules.json", status)
		})
		hc := &http.Client{Transport: cdn.Client().Transport}
		failed := make(chan error, 1)
		cfg := target.OnDeviceConfig{
			ArtifactLocation:     cdn.URL + "/acme/production/v1/rules.json?sig=SIG-SECRET",
			OnArtifactDownloaded: func(string) { t.Error("the other host's artifact was installed") },
			OnArtifactDownloadFailed: func(_ string, err error) {
				select {
				case failed <- err:
				default:
				}
			},
		}
		p, err := target.NewArtifactProvider(cfg, "acme", "org", &http.Client{Transport: followingRT{hc}})
		require.NoError(t, err)
		var got error
		select {
		case got = <-failed:
		case <-time.After(time.Minute):
			t.Fatal("no download failure reported")
		}
		p.Close()
		hc.CloseIdleConnections()
		var te *target.TransportError
		require.ErrorAs(t, got, &te, "status %d", status)
		assert.Contains(t, got.Error(), "http://"+other.host(), "names where the answer came from")
		assert.NotContains(t, got.Error(), "SECRET")
		assert.Empty(t, p.Version(), "nothing installed")
		assert.Positive(t, other.hits.Load(), "the caller's transport did follow the redirect")
	}
}
