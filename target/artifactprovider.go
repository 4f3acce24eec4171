package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// ErrProviderClosed fails the readiness future of an artifact provider
// closed before its first artifact arrived.
var ErrProviderClosed = errors.New("target: artifact provider closed")

// ArtifactDownloadError is a failed artifact download: an HTTP status other
// than 200 or 304 (a redirect included: none is followed), with the
// location it came from.
type ArtifactDownloadError struct {
	// Location is the artifact's URL without its query, fragment and user
	// info, and with the property token replaced by "[redacted]": a signed
	// location's signature and the token must not reach logs.
	Location string
	Status   int
}

// Error names the location and the status.
func (e *ArtifactDownloadError) Error() string {
	return fmt.Sprintf("target: artifact download from %s: HTTP status %d", e.Location, e.Status)
}

// artifactProvider holds the current artifact and keeps it fresh. Readers
// never block: they get the artifact in use, swapped atomically when a
// newer one has been downloaded and validated.
type artifactProvider struct {
	cur         atomic.Pointer[ondevice.Artifact]
	location    string
	shown       string   // location for errors, logs and callbacks: see safeLocation
	scrub       scrubber // shows a failed download's cause: see newArtifactScrubber
	binary      bool
	orgID       string
	clientCode  string
	client      *http.Client
	interval    time.Duration // 0: no polling
	fromPayload bool
	cfg         OnDeviceConfig
	logger      *slog.Logger
	ready       *future.Promise[struct{}]

	mu            sync.Mutex // guards the fields below
	etag          string
	retrievals    int
	lastRetrieved time.Time
	checked       time.Time // when the artifact in use was last known current

	observe func(context.Context, ArtifactEvent) // nil: nobody listens

	stop context.CancelFunc
	done chan struct{}
	// inCallback is set while the polling goroutine runs a callback, and
	// callbacks knows the goroutines running one: a Close from a callback
	// must not wait for the polling goroutine while it runs one.
	inCallback atomic.Bool
	callbacks  *callbackSet
}

// artifactProviderOptions are what the provider needs from the client.
type artifactProviderOptions struct {
	client, organizationID, propertyToken string
	httpClient                            *http.Client
	logger                                *slog.Logger
	// observe hears of each download (Observer.ArtifactDownload).
	observe func(context.Context, ArtifactEvent)
}

// newArtifactProvider starts a provider: from the payload at once, and
// from the location (downloaded now and then polled) on a goroutine that
// Close stops. A payload that does not parse is an error here.
func newArtifactProvider(cfg OnDeviceConfig, o artifactProviderOptions) (*artifactProvider, error) {
	p := &artifactProvider{
		clientCode: o.client,
		orgID:      o.organizationID,
		client:     o.httpClient,
		cfg:        cfg,
		logger:     o.logger,
		ready:      future.NewPromise[struct{}](),
		observe:    o.observe,
		done:       make(chan struct{}),

		callbacks: &callbackSet{},
	}
	if p.client == nil {
		p.client = http.DefaultClient
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.location = cfg.ArtifactLocation
	if p.location != "" {
		u, err := url.Parse(p.location)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &ConfigError{Field: "OnDevice.ArtifactLocation", Reason: "not an http or https URL"}
		}
	}
	env := cfg.Environment
	switch env {
	case "":
		env = "production"
	case "production", "staging", "development":
	default:
		return nil, &ConfigError{Field: "OnDevice.Environment", Reason: fmt.Sprintf("%q is not production, staging or development", env)}
	}
	if p.location == "" {
		parts := []string{"https://assets.adobetarget.com", o.client, env, "v1"}
		if o.propertyToken != "" {
			// Escaped: a '/', '?' or '#' in the token must not change the URL.
			parts = append(parts, url.PathEscape(o.propertyToken))
		}
		p.location = strings.Join(append(parts, "rules.json"), "/")
	}
	p.binary = strings.HasSuffix(strings.SplitN(p.location, "?", 2)[0], ".bin")
	p.shown = safeLocation(p.location, o.propertyToken)
	p.scrub = newArtifactScrubber(p.location, o.propertyToken)
	switch {
	case cfg.PollingInterval < 0:
	case cfg.PollingInterval == 0:
		p.interval = DefaultPollingInterval
	default:
		p.interval = max(cfg.PollingInterval, MinPollingInterval)
	}

	download := true
	if cfg.ArtifactPayload != nil {
		a, err := ondevice.ParseArtifact(cfg.ArtifactPayload)
		if err != nil {
			return nil, err
		}
		p.fromPayload = true
		p.install(a)
		download = cfg.ArtifactLocation != ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	if !download {
		close(p.done)
		return p, nil
	}
	go p.run(ctx)
	return p, nil
}

func (p *artifactProvider) current() *ondevice.Artifact { return p.cur.Load() }

func (p *artifactProvider) install(a *ondevice.Artifact) {
	p.cur.Store(a)
	p.mu.Lock()
	p.retrievals++
	p.lastRetrieved = time.Now()
	p.checked = p.lastRetrieved
	p.mu.Unlock()
	_ = p.ready.Resolve(struct{}{}) // only the first install settles it
}

// Ready settles when the first artifact is in use; it fails with
// ErrProviderClosed if the provider is closed first.
func (p *artifactProvider) Ready() *future.Future[struct{}] { return p.ready.Future() }

// Close stops polling and waits for an ongoing download to end. Called
// from a callback of the client while the polling goroutine runs one (the
// caller's or another), it does not wait for that goroutine, which ends as
// soon as its callback returns; no callback starts after Close.
func (p *artifactProvider) Close() { _ = p.closeContext(context.Background()) }

// closeContext is Close with its wait bounded by ctx: a callback that
// blocks, or waits for a Close started on another goroutine, would
// otherwise hold it forever. When ctx ends first it returns an error
// wrapping ctx's; the polling goroutine, stopped, ends when the callback
// it runs returns.
func (p *artifactProvider) closeContext(ctx context.Context) error {
	p.stop()
	defer func() { _ = p.ready.Reject(ErrProviderClosed) }()
	if p.inCallback.Load() && p.callbacks.current() {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("target: close: the artifact polling is still running a callback: %w", context.Cause(ctx))
	}
}

// callback runs fn, the callback named name, unless Close has begun, and
// waits for it. fn runs on a goroutine of its own: a panic in it is
// recovered and logged with its stack, and a runtime.Goexit in it ends
// that goroutine only, so that neither ends the polling (a Goexit cannot
// be stopped on the goroutine that calls it).
func (p *artifactProvider) callback(ctx context.Context, name string, fn func()) {
	p.inCallback.Store(true)
	defer p.inCallback.Store(false)
	// Checked after the flag is set: a Close that saw the flag clear waits
	// for this goroutine, and a Close that began before is not called
	// back.
	if ctx.Err() != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		returned := false
		defer func() {
			if returned {
				return
			}
			if r := recover(); r != nil {
				p.logger.Error("target: "+name+" panicked; polling goes on", "panic", r, "stack", string(debug.Stack()))
				return
			}
			p.logger.Error("target: " + name + " called runtime.Goexit; polling goes on")
		}()
		p.callbacks.run(fn)
		returned = true
	}()
	<-done
}

// safeLocation is location as errors, logs and callbacks show it: without
// query, fragment and user info (a signed URL's signature, credentials),
// and with the property token, a path segment of the default location,
// redacted.
func safeLocation(location, propertyToken string) string {
	u, err := url.Parse(location)
	if err != nil {
		return "[unparsable artifact location]"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return redact(u.String(), []string{propertyToken, url.PathEscape(propertyToken)})
}

// run downloads the artifact, then polls. Until the first artifact is in,
// failed attempts are retried sooner, backing off from one second up to
// the polling interval.
func (p *artifactProvider) run(ctx context.Context) {
	defer close(p.done)
	retry := time.Second
	for {
		err := p.refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := p.interval
		if err != nil && p.current() == nil {
			wait = retry
			retry = min(retry*2, max(p.interval, time.Second))
		}
		if wait == 0 {
			if err == nil || p.current() != nil {
				return
			}
			wait = retry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refresh downloads the artifact once. A failure leaves the current
// artifact in use and is reported to the callback and the log.
func (p *artifactProvider) refresh(ctx context.Context) error {
	start := time.Now()
	status, err := p.fetch(ctx)
	if err != nil && ctx.Err() != nil {
		return err // Close cut it short: not a failure to report
	}
	if p.observe != nil {
		e := ArtifactEvent{Client: p.clientCode, Location: p.shown, Status: status, Err: err, ErrorKind: errorKind(err), Start: start, Duration: time.Since(start)}
		if a := p.current(); a != nil {
			e.Version = a.Version()
			p.mu.Lock()
			e.Current = p.checked
			p.mu.Unlock()
		}
		// Marked as a callback: a Close from the Observer must not wait
		// for this goroutine. On a goroutine of its own, waited for: a
		// runtime.Goexit in the Observer's function must not end the
		// polling (its panic is recovered in observe itself).
		func() {
			p.inCallback.Store(true)
			defer p.inCallback.Store(false)
			done := make(chan struct{})
			go func() {
				defer close(done)
				returned := false
				defer func() {
					if returned {
						return
					}
					if r := recover(); r != nil {
						p.logger.Error("target: Observer.ArtifactDownload panicked; polling goes on", "panic", r, "stack", string(debug.Stack()))
						return
					}
					p.logger.Error("target: Observer.ArtifactDownload called runtime.Goexit; polling goes on")
				}()
				p.callbacks.run(func() { p.observe(ctx, e) })
				returned = true
			}()
			<-done
		}()
	}
	if err != nil {
		p.logger.Warn("target: on-device artifact download failed", "location", p.shown, "error", err)
		if p.cfg.OnArtifactDownloadFailed != nil {
			p.callback(ctx, "OnArtifactDownloadFailed", func() { p.cfg.OnArtifactDownloadFailed(p.shown, err) })
		}
	}
	return err
}

// fetch downloads the artifact once and returns the HTTP status, zero
// when no answer came.
func (p *artifactProvider) fetch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.location, nil)
	if err != nil {
		return 0, fmt.Errorf("target: artifact location %s: %w", p.shown, p.scrub.wrap(stripURLErrors(err)))
	}
	p.mu.Lock()
	etag := p.etag
	p.mu.Unlock()
	if etag != "" && p.current() != nil {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		// *url.Error repeats the whole location, query included, and a
		// caller's transport built on an http.Client adds its own.
		return 0, fmt.Errorf("target: artifact download from %s: %w", p.shown, p.scrub.wrap(stripURLErrors(err)))
	}
	defer resp.Body.Close()
	if err := answeredElsewhere(req, resp); err != nil {
		// Not the CDN's answer: no status of it is reported, as none came
		// from where the artifact was asked for.
		return 0, &TransportError{Op: "GET " + p.shown, Host: req.URL.Host, Attempts: 1, Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && p.current() != nil:
		p.mu.Lock()
		p.checked = time.Now()
		p.mu.Unlock()
		return resp.StatusCode, nil
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return resp.StatusCode, &ArtifactDownloadError{Location: p.shown, Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, ondevice.MaxArtifactBytes+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("target: artifact download: %w", err)
	}
	if len(body) > ondevice.MaxArtifactBytes {
		return resp.StatusCode, fmt.Errorf("%w: larger than %d bytes", ErrArtifactInvalid, ondevice.MaxArtifactBytes)
	}
	if p.binary {
		if body, err = ondevice.Deobfuscate(body, p.orgID); err != nil {
			return resp.StatusCode, err
		}
	}
	a, err := ondevice.ParseArtifact(body)
	if err != nil {
		return resp.StatusCode, err
	}
	p.install(a)
	p.mu.Lock()
	p.etag = resp.Header.Get("ETag")
	p.mu.Unlock()
	if p.cfg.OnArtifactDownloaded != nil {
		p.callback(ctx, "OnArtifactDownloaded", func() { p.cfg.OnArtifactDownloaded(p.shown) })
	}
	return resp.StatusCode, nil
}

// trace describes the artifact in use, for decision traces.
func (p *artifactProvider) trace() map[string]any {
	p.mu.Lock()
	count, last := p.retrievals, p.lastRetrieved
	p.mu.Unlock()
	// Traces are returned to the caller and often logged: the location is
	// shown as in errors, without a signature or the property token.
	location := p.shown
	if p.fromPayload && p.cfg.ArtifactLocation == "" {
		location = "Not Applicable" // Adobe's engines' words
	}
	m := map[string]any{
		"artifactLocation":       location,
		"pollingInterval":        p.interval.Milliseconds(),
		"pollingHalted":          p.interval == 0,
		"artifactVersion":        "unknown",
		"artifactRetrievalCount": count,
		"artifactLastRetrieved":  last.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if a := p.current(); a != nil {
		m["artifactVersion"] = a.Version()
		for k, v := range a.Meta() {
			m[k] = v
		}
	}
	return m
}

// newArtifactScrubber returns how the cause of a failed download of
// location is shown: every URL quoted as safeLocation shows it, and the
// location's query and the property token redacted wherever else the
// cause (a caller's transport) may quote them.
func newArtifactScrubber(location, propertyToken string) scrubber {
	secrets := []string{propertyToken, url.PathEscape(propertyToken)}
	if u, err := url.Parse(location); err == nil && u.RawQuery != "" {
		secrets = append(secrets, u.RawQuery)
	}
	return scrubber{
		url:  func(u string) string { return safeLocation(u, propertyToken) },
		text: func(msg string) string { return redact(msg, secrets) },
	}
}
