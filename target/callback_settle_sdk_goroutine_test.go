package target_test

// A caller's own OnComplete that panics on a future the SDK settles on a
// goroutine of its own, other than a server-side call's (covered by
// TestFutureCallbackPanicOnCallGoroutine): nothing of the caller's could
// recover the panic the future package raises again there, so the SDK
// recovers it and logs it at level Error. Each test re-runs this binary as
// a child that plays one scenario, waits for the record and prints
// "child: done": a child that dies shows the panic ended the process.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

const sdkGoroutineChildEnv = "TARGET_SDK_GOROUTINE_PANIC_CHILD"

func runSDKGoroutineChild(t *testing.T, scenario string) {
	t.Helper()
	if os.Getenv(sdkGoroutineChildEnv) != "" {
		t.Skip("child")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSettlementPanicChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), sdkGoroutineChildEnv+"="+scenario)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child died:\n%s", out)
	require.Contains(t, string(out), "child: done")
}

// An on-device call that needs a geo lookup is settled on the lookup's
// goroutine.
func TestGeoLookupCallOnCompletePanicIsLogged(t *testing.T) { runSDKGoroutineChild(t, "geo") }

// A Visitor's waiting call whose ctx ends during the wait is settled on
// context.AfterFunc's goroutine.
func TestVisitorWaitEndOnCompletePanicIsLogged(t *testing.T) {
	runSDKGoroutineChild(t, "visitorwait")
}

// A Coalescer's merged calls are settled on the batch's goroutine, one
// after another: a panic of the first call's OnComplete neither ends the
// process nor keeps the second call from settling and running its
// Callback.
func TestCoalescerOnCompletePanicIsLogged(t *testing.T) { runSDKGoroutineChild(t, "coalescer") }

func TestSettlementPanicChild(t *testing.T) {
	scenario := os.Getenv(sdkGoroutineChildEnv)
	if scenario == "" {
		t.Skip("run as a child by the tests above")
	}
	records := make(chan string, 16)
	log := slog.New(recordHandler{level: slog.LevelError, records: records})
	var (
		f interface {
			OnComplete(func(*target.Response, error))
			Done() <-chan struct{}
		}
		release func()
		others  chan struct{}
	)
	switch scenario {
	case "geo":
		edge := targettest.NewServer(targettest.Config{})
		defer edge.Close()
		geoArtifact := strings.Replace(testArtifact, `"globalMbox"`, `"geoTargetingEnabled": true, "globalMbox"`, 1)
		cfg := edge.ClientConfig()
		cfg.Logger = log
		cfg.HTTPClient = &http.Client{Transport: &geoGate{edge: edge, release: closedChan()}}
		cfg.DecisioningMethod = target.OnDevice
		cfg.OnDevice = target.OnDeviceConfig{ArtifactPayload: []byte(geoArtifact)}
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		defer c.Close(context.Background())
		req := heroRequest("gold")
		req.Context = &target.Context{Channel: target.ChannelWeb, Geo: &target.Geo{IPAddress: "203.0.113.7"}}
		f = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req})
	case "visitorwait":
		edge := heldEdge{release: make(chan struct{})}
		defer close(edge.release)
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg", Logger: log,
			HTTPClient: &http.Client{Transport: edge},
		})
		require.NoError(t, err)
		v := c.NewVisitorFromCookies("", "")
		lead := v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m")})
		defer lead.Cancel()
		ctx, cancel := context.WithCancel(t.Context())
		f = v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m")})
		defer func() { _ = c.Close(context.Background()) }()
		defer cancel()
		release = cancel
	case "coalescer":
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg", Logger: log,
			HTTPClient: &http.Client{Transport: instantEdge{}},
		})
		require.NoError(t, err)
		defer c.Close(context.Background())
		k, err := c.NewCoalescer(target.CoalesceOptions{Window: time.Hour})
		require.NoError(t, err)
		f = k.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"})
		others = make(chan struct{})
		second := k.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("n"), SessionID: "s1",
			Callback: func(*target.Response) { close(others) }})
		defer second.Cancel()
		release = k.Flush
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
	f.OnComplete(func(*target.Response, error) { panic("settlement boom") })
	if release != nil {
		release()
	}
	<-f.Done()
	select {
	case rec := <-records:
		require.Contains(t, rec, "settlement boom")
	case <-time.After(time.Minute): // a guard against hanging, not a timing
		t.Fatal("the panic was not logged")
	}
	if others != nil {
		<-others
	}
	fmt.Println("child: done")
}
