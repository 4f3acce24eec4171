package target_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// within fails the test unless ch is closed or sent on within a generous
// bound: what it guards would otherwise hang forever.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: still waiting after 20s (deadlock)", what)
	}
	var zero T
	return zero
}

type failure struct {
	location string
	err      error
}

// TestArtifactErrorsRedactLocation: neither the signature of a signed
// ArtifactLocation, nor its user info, nor the property token in the
// default location's path reaches the ArtifactDownloadError, the wrapped
// transport error, the WARN record or the callback's location.
func TestArtifactErrorsRedactLocation(t *testing.T) {
	t.Parallel()
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }))
	t.Cleanup(notFound.Close)
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close() // nothing listens there any more
	const sig, password, token = "SIGSECRET123", "pw-secret-456", "proptoken-secret-789"
	tests := []struct {
		name     string
		location string
		client   *http.Client
		status   int
	}{
		{"signed location, 404", strings.Replace(notFound.URL, "://", "://user:"+password+"@", 1) + "/rules.json?sig=" + sig + "#frag", nil, http.StatusNotFound},
		{"signed location, refused", refused.URL + "/rules.bin?sig=" + sig, nil, 0},
		{"default location with the property token", "", &http.Client{Transport: &errTransport{err: errors.New("no route")}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			failed := make(chan failure, 1)
			c, err := target.NewClient(target.Config{
				Client: "acme", OrganizationID: "org", PropertyToken: token, HTTPClient: tt.client,
				DecisioningMethod: target.OnDevice,
				Logger:            slog.New(slog.NewTextHandler(&logs, nil)),
				OnDevice: target.OnDeviceConfig{
					ArtifactLocation: tt.location,
					OnArtifactDownloadFailed: func(location string, err error) {
						select {
						case failed <- failure{location, err}:
						default:
						}
					},
				},
			})
			require.NoError(t, err)
			f := within(t, failed, "the download failure")
			_ = c.Close(context.Background())
			if tt.status != 0 {
				var de *target.ArtifactDownloadError
				require.ErrorAs(t, f.err, &de)
				assert.Equal(t, tt.status, de.Status)
				assert.Equal(t, f.location, de.Location)
			}
			texts := []string{f.location, f.err.Error(), fmt.Sprintf("%+v", f.err), fmt.Sprintf("%#v", f.err), logs.String()}
			for _, text := range texts {
				for _, secret := range []string{sig, password, token, "frag"} {
					assert.NotContains(t, text, secret)
				}
			}
			assert.Contains(t, logs.String(), "artifact download failed")
			if tt.location == "" {
				assert.Equal(t, "https://assets.adobetarget.com/acme/production/v1/[redacted]/rules.json", f.location)
			} else {
				assert.Contains(t, f.location, "/rules.")
			}
		})
	}
}

// TestCloseFromArtifactCallbacks: Close called from OnArtifactDownloaded or
// OnArtifactDownloadFailed returns, and the client is closed.
func TestCloseFromArtifactCallbacks(t *testing.T) {
	t.Parallel()
	for _, ok := range []bool{true, false} {
		t.Run(fmt.Sprintf("downloaded %v", ok), func(t *testing.T) {
			t.Parallel()
			artifacts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if !ok {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				_, _ = io.WriteString(w, testArtifact)
			}))
			t.Cleanup(artifacts.Close)
			clients := make(chan *target.Client, 1)
			closed := make(chan struct{})
			closeFromCallback := func() {
				c := <-clients
				_ = c.Close(context.Background())
				close(closed)
			}
			od := target.OnDeviceConfig{ArtifactLocation: artifacts.URL + "/rules.json"}
			if ok {
				od.OnArtifactDownloaded = func(string) { closeFromCallback() }
			} else {
				od.OnArtifactDownloadFailed = func(string, error) { closeFromCallback() }
			}
			c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", DecisioningMethod: target.OnDevice, OnDevice: od})
			require.NoError(t, err)
			clients <- c
			within(t, closed, "Close from the callback")
			_ = c.Close(context.Background()) // and again from outside: it waits for the polling goroutine
			_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Peek()
			require.ErrorIs(t, err, target.ErrClientClosed)
		})
	}
}

// TestCloseFromNotificationCallback: Close called from OnNotificationsSent
// returns.
func TestCloseFromNotificationCallback(t *testing.T) {
	t.Parallel()
	clients := make(chan *target.Client, 1)
	closed := make(chan error, 1)
	s := setupOnDevice(t, targettest.Config{}, func(cfg *target.Config) {
		cfg.OnDevice.OnNotificationsSent = func(_ *target.Response, err error) {
			_ = (<-clients).Close(context.Background())
			closed <- err
		}
	})
	clients <- s.c
	_, err := s.c.GetOffers(t.Context(), target.GetOffersOptions{Request: heroRequest("gold")}).Await(t.Context())
	require.NoError(t, err)
	require.NoError(t, within(t, closed, "Close from OnNotificationsSent"))
}

// geoGate is a transport that holds the geo lookups until released and
// serves everything else with the edge's handler, in process.
type geoGate struct {
	edge    http.Handler
	release chan struct{}
}

func (g *geoGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "assets.adobetarget.com" {
		return inProcess{g.edge}.RoundTrip(r)
	}
	select {
	case <-g.release:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	rec := httptest.NewRecorder()
	_, _ = io.WriteString(rec, `{"x-geo-country-code":"US","x-geo-region-code":"CA","x-geo-city":"SANFRANCISCO"}`)
	return rec.Result(), nil
}

// TestCloseWaitsForOnDeviceCallsInFlight: an on-device call that needs a
// geo lookup is still deciding when Close is called; Close waits for it,
// and its display notification is sent, not dropped.
func TestCloseWaitsForOnDeviceCallsInFlight(t *testing.T) {
	t.Parallel()
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	geoArtifact := strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1)
	synctest.Test(t, func(t *testing.T) {
		gate := &geoGate{edge: edge, release: make(chan struct{})}
		sent := make(chan error, 1)
		cfg := edge.ClientConfig()
		cfg.HTTPClient = &http.Client{Transport: gate}
		cfg.DecisioningMethod = target.OnDevice
		cfg.OnDevice = target.OnDeviceConfig{
			ArtifactPayload:     []byte(geoArtifact),
			OnNotificationsSent: func(_ *target.Response, err error) { sent <- err },
		}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		// Only an address and no geo data: the engine looks the rest up.
		req := heroRequest("gold")
		req.Context = &target.Context{Channel: target.ChannelWeb, Geo: &target.Geo{IPAddress: "203.0.113.7"}}
		f := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req})
		closed := make(chan struct{})
		go func() {
			_ = c.Close(context.Background())
			close(closed)
		}()
		synctest.Wait() // the lookup is held, and Close is waiting or done
		select {
		case <-closed:
			t.Fatal("Close returned while an on-device call was deciding")
		default:
		}
		close(gate.release)
		<-closed
		select {
		case err := <-sent:
			require.NoError(t, err, "the notification was sent before Close returned")
		default:
			t.Fatal("Close returned before the call's notification was sent")
		}
		r, err := f.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, target.OnDevice, r.Meta.DecisioningMethod)
	})
}

// TestCloseFromNotificationCallbackOnDecidingGoroutine: the notification's
// future may be settled before its callback is registered, and then
// OnNotificationsSent runs on the goroutine that decided; a Close called
// there returns, and so does the call. The notification fails at once when
// the request cannot be encoded (NaN); it is answered at once often enough
// by an in-process edge, looped.
func TestCloseFromNotificationCallbackOnDecidingGoroutine(t *testing.T) {
	t.Parallel()
	geoArtifact := strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1)
	edge := targettest.NewServer(targettest.Config{})
	t.Cleanup(edge.Close)
	run := func(t *testing.T, artifact string, req target.DeliveryRequest, wantErr bool) {
		t.Helper()
		clients := make(chan *target.Client, 1)
		closed := make(chan error, 1)
		cfg := edge.ClientConfig()
		cfg.HTTPClient = &http.Client{Transport: &geoGate{edge: edge, release: closedChan()}}
		cfg.DecisioningMethod = target.OnDevice
		cfg.OnDevice = target.OnDeviceConfig{
			ArtifactPayload: []byte(artifact),
			OnNotificationsSent: func(_ *target.Response, err error) {
				(<-clients).Close(context.Background())
				closed <- err
			},
		}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		clients <- c
		done := make(chan error, 1)
		go func() {
			_, err := c.GetOffers(context.Background(), target.GetOffersOptions{Request: req}).Await(context.Background())
			done <- err
		}()
		require.NoError(t, within(t, done, "GetOffers with Close in OnNotificationsSent"))
		err = within(t, closed, "Close from OnNotificationsSent")
		if wantErr {
			require.Error(t, err)
		} else {
			require.NoError(t, err)
		}
		c.Close(context.Background())
	}
	nan := heroRequest("gold")
	nan.Context = &target.Context{Channel: target.ChannelWeb, Screen: &target.Screen{PixelRatio: math.NaN()}}
	t.Run("sync failure", func(t *testing.T) { run(t, testArtifact, nan, true) })
	// Only an address and no geo data: the engine looks the rest up first.
	nanGeo := heroRequest("gold")
	nanGeo.Context = &target.Context{Channel: target.ChannelWeb, Screen: &target.Screen{PixelRatio: math.NaN()}, Geo: &target.Geo{IPAddress: "203.0.113.7"}}
	t.Run("sync failure after geo lookup", func(t *testing.T) { run(t, geoArtifact, nanGeo, true) })
	t.Run("answered at once", func(t *testing.T) {
		for range 100 {
			run(t, testArtifact, heroRequest("gold"), false)
		}
	})
}

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// TestArtifactCallbackPanicOrGoexit: an OnArtifactDownloaded or
// OnArtifactDownloadFailed that panics (logged with its stack) or calls
// runtime.Goexit does not end the polling: the next download calls it
// again.
func TestArtifactCallbackPanicOrGoexit(t *testing.T) {
	t.Parallel()
	for _, ok := range []bool{true, false} {
		for _, how := range []string{"panic", "goexit"} {
			t.Run(fmt.Sprintf("downloaded %v %s", ok, how), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
						if !ok {
							w.WriteHeader(http.StatusInternalServerError)
							return
						}
						_, _ = io.WriteString(w, testArtifact)
					})
					calls := make(chan int, 10)
					n := 0
					cb := func() {
						n++ // the callbacks run one at a time
						calls <- n
						if n == 1 {
							if how == "panic" {
								panic("user bug")
							}
							runtime.Goexit()
						}
					}
					od := target.OnDeviceConfig{ArtifactLocation: "https://artifacts.example/rules.json", PollingInterval: target.MinPollingInterval}
					if ok {
						od.OnArtifactDownloaded = func(string) { cb() }
					} else {
						od.OnArtifactDownloadFailed = func(string, error) { cb() }
					}
					var logs syncBuffer
					c, err := target.NewClient(target.Config{Client: "acme", OrganizationID: "org", DecisioningMethod: target.OnDevice, OnDevice: od,
						HTTPClient: &http.Client{Transport: inProcess{h}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
					require.NoError(t, err)
					defer c.Close(context.Background())
					require.Equal(t, 1, <-calls)
					require.Equal(t, 2, <-calls, "polling went on after the first callback's %s", how)
					if how == "panic" {
						assert.Contains(t, logs.String(), "user bug")
						assert.Contains(t, logs.String(), "goroutine", "the stack is logged")
					} else {
						assert.Contains(t, logs.String(), "Goexit")
					}
				})
			})
		}
	}
}
