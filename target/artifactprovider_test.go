package target_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// cdn is an in-memory artifact server: an http.RoundTripper, so that the
// provider's polling runs inside a synctest bubble without a network.
type cdn struct {
	mu       sync.Mutex
	status   int
	body     []byte
	etag     string
	requests []*http.Request
}

func (c *cdn) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, r)
	resp := &http.Response{StatusCode: c.status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}
	if c.status == 0 {
		return nil, errors.New("connection refused")
	}
	if c.etag != "" && r.Header.Get("If-None-Match") == c.etag {
		resp.StatusCode = http.StatusNotModified
		return resp, nil
	}
	if c.etag != "" {
		resp.Header.Set("ETag", c.etag)
	}
	resp.Body = io.NopCloser(bytes.NewReader(c.body))
	return resp, nil
}

func (c *cdn) set(status int, body, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.body, c.etag = status, []byte(body), etag
}

func (c *cdn) requestCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

func (c *cdn) lastRequest() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[len(c.requests)-1]
}

func artifactVersion(v string) string {
	return strings.Replace(testArtifact, `"version": "1.0.0"`, `"version": "`+v+`"`, 1)
}

type events struct {
	mu         sync.Mutex
	downloaded int
	failures   []error
}

func (e *events) config(cfg target.OnDeviceConfig) target.OnDeviceConfig {
	cfg.OnArtifactDownloaded = func(string) { e.mu.Lock(); e.downloaded++; e.mu.Unlock() }
	cfg.OnArtifactDownloadFailed = func(_ string, err error) { e.mu.Lock(); e.failures = append(e.failures, err); e.mu.Unlock() }
	return cfg
}

func (e *events) counts() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.downloaded, len(e.failures)
}

func TestArtifactProviderPollsWithETagAndKeepsTheLastGoodArtifact(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &cdn{}
		c.set(200, artifactVersion("1.0.0"), `"v1"`)
		var ev events
		p, err := target.NewArtifactProvider(ev.config(target.OnDeviceConfig{}), "acme", "org", &http.Client{Transport: c})
		require.NoError(t, err)
		defer p.Close()
		assert.Equal(t, "https://assets.adobetarget.com/acme/production/v1/rules.json", p.Location())

		_, err = p.Ready().Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "1.0.0", p.Version())

		// Unchanged: a conditional request answered 304.
		time.Sleep(target.DefaultPollingInterval)
		synctest.Wait()
		assert.Equal(t, 2, c.requestCount())
		assert.Equal(t, `"v1"`, c.lastRequest().Header.Get("If-None-Match"))
		assert.Equal(t, "1.0.0", p.Version())

		// A broken refresh keeps the artifact in use and is reported.
		c.set(500, "", "")
		time.Sleep(target.DefaultPollingInterval)
		synctest.Wait()
		assert.Equal(t, "1.0.0", p.Version())
		c.set(200, `{"version": "1.0`, "")
		time.Sleep(target.DefaultPollingInterval)
		synctest.Wait()
		assert.Equal(t, "1.0.0", p.Version())
		c.set(200, artifactVersion("2.0.0"), "")
		time.Sleep(target.DefaultPollingInterval)
		synctest.Wait()
		assert.Equal(t, "1.0.0", p.Version())

		// A new version is put in use.
		c.set(200, artifactVersion("1.1.0"), `"v2"`)
		time.Sleep(target.DefaultPollingInterval)
		synctest.Wait()
		assert.Equal(t, "1.1.0", p.Version())

		downloaded, failed := ev.counts()
		assert.Equal(t, 2, downloaded)
		assert.Equal(t, 3, failed)
		var dl *target.ArtifactDownloadError
		require.ErrorAs(t, ev.failures[0], &dl)
		assert.Equal(t, 500, dl.Status)
		require.ErrorIs(t, ev.failures[1], target.ErrArtifactInvalid)
		require.ErrorIs(t, ev.failures[2], target.ErrArtifactVersion)
	})
}

func TestArtifactProviderMinimumInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &cdn{}
		c.set(200, testArtifact, "")
		p, err := target.NewArtifactProvider(target.OnDeviceConfig{PollingInterval: time.Second}, "acme", "org", &http.Client{Transport: c})
		require.NoError(t, err)
		defer p.Close()
		_, err = p.Ready().Await(t.Context())
		require.NoError(t, err)
		time.Sleep(target.MinPollingInterval - time.Second)
		synctest.Wait()
		assert.Equal(t, 1, c.requestCount(), "no poll before the minimum interval")
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 2, c.requestCount())
	})
}

func TestArtifactProviderRetriesTheFirstDownload(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &cdn{} // connection refused
		p, err := target.NewArtifactProvider(target.OnDeviceConfig{}, "acme", "org", &http.Client{Transport: c})
		require.NoError(t, err)
		defer p.Close()
		synctest.Wait()
		_, err = p.Ready().Peek()
		require.Error(t, err, "not ready without an artifact")
		c.set(200, testArtifact, "")
		time.Sleep(3 * time.Second) // retries back off from one second
		synctest.Wait()
		_, err = p.Ready().Peek()
		require.NoError(t, err)
	})
}

func TestArtifactProviderClosedBeforeReady(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p, err := target.NewArtifactProvider(target.OnDeviceConfig{PollingInterval: -1}, "acme", "org", &http.Client{Transport: &cdn{}})
		require.NoError(t, err)
		p.Close()
		_, err = p.Ready().Await(t.Context())
		require.ErrorIs(t, err, target.ErrProviderClosed)
	})
}

func TestArtifactProviderReadsTheObfuscatedForm(t *testing.T) {
	t.Parallel()
	const org = "ACME123@AdobeOrg"
	key := "0123456789abcdef0123456789abcdef"
	header := "TGT:1   " + key
	require.Len(t, header, 40)
	full := []byte(org + key)
	body := []byte(testArtifact)
	for i := range body {
		body[i] ^= full[i%len(full)]
	}
	bin := append([]byte(header), body...)

	out, err := target.DeobfuscateArtifact(bin, org)
	require.NoError(t, err)
	assert.JSONEq(t, testArtifact, string(out))

	_, err = target.DeobfuscateArtifact(bin, "someone else")
	require.ErrorIs(t, err, target.ErrArtifactInvalid)
	_, err = target.DeobfuscateArtifact([]byte("TGT:2   "+key+"{}"), org)
	require.ErrorIs(t, err, target.ErrArtifactInvalid)

	synctest.Test(t, func(t *testing.T) {
		c := &cdn{}
		c.set(200, string(bin), "")
		p, err := target.NewArtifactProvider(target.OnDeviceConfig{ArtifactLocation: "https://cdn.example/acme/rules.bin", PollingInterval: -1}, "acme", org, &http.Client{Transport: c})
		require.NoError(t, err)
		defer p.Close()
		_, err = p.Ready().Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "1.0.0", p.Version())
	})
}

func TestArtifactProviderRejectsBadLocations(t *testing.T) {
	t.Parallel()
	for _, cfg := range []target.OnDeviceConfig{
		{ArtifactLocation: "ftp://cdn.example/rules.json"},
		{ArtifactLocation: "rules.json"},
		{Environment: "prod"},
	} {
		_, err := target.NewArtifactProvider(cfg, "acme", "org", nil)
		require.ErrorIs(t, err, target.ErrInvalidConfig)
		var ce *target.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Field, "OnDevice.")
	}
}
