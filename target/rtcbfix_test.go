package target_test

// Red-team reproductions for branch cbfix (task rt-cbfix). Each parent test
// re-runs this binary as a child that plays one scenario: a caller's own
// OnComplete panics on a future the SDK settles on a goroutine of its own.
// GetOffers' doc (cbfix) says such a panic is recovered by "the call's
// goroutine" and logged at Error; the child waits for that record and
// prints "child: done". A child that dies shows the panic ended the
// process. They are skipped unless RTCBFIX=1, to keep the package green.

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

const rtChildEnv = "TARGET_RTCBFIX_CHILD"

func runRTChild(t *testing.T, scenario string) {
	t.Helper()
	if os.Getenv(rtChildEnv) != "" {
		t.Skip("child")
	}
	if os.Getenv("RTCBFIX") == "" {
		t.Skip("red team: reproduces a finding of rt-cbfix (set RTCBFIX=1)")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRTChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rtChildEnv+"="+scenario)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child died:\n%s", out)
	require.Contains(t, string(out), "child: done")
}

// Finding 1: the geo lookup's goroutine (future.Go's) settles the call;
// nothing recovers a panic raised again there.
func TestRTGeoPathOnCompletePanicEndsProcess(t *testing.T) { runRTChild(t, "geo") }

// Finding 2: a Visitor's waiting call whose ctx ends is settled on
// context.AfterFunc's goroutine, neither its own call's nor the releasing one.
func TestRTVisitorWaitCancelOnCompletePanicEndsProcess(t *testing.T) {
	runRTChild(t, "visitorwait")
}

// Finding 3: a Coalescer's merged call is settled on the batch's goroutine,
// whose forEach raises the panic again.
func TestRTCoalescerOnCompletePanicEndsProcess(t *testing.T) { runRTChild(t, "coalescer") }

func TestRTChild(t *testing.T) {
	scenario := os.Getenv(rtChildEnv)
	if scenario == "" {
		t.Skip("run as a child by the TestRT* tests")
	}
	records := make(chan string, 16)
	log := slog.New(recordHandler{level: slog.LevelError, records: records})
	var f *future2
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
		f = wrap(c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}))
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
		f = wrap(v.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("m")}))
		defer func() { _ = c.Close(context.Background()) }()
		defer cancel()
		f.cancel = cancel
	case "coalescer":
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg", Logger: log,
			HTTPClient: &http.Client{Transport: instantEdge{}},
		})
		require.NoError(t, err)
		defer c.Close(context.Background())
		k, err := c.NewCoalescer(target.CoalesceOptions{})
		require.NoError(t, err)
		f = wrap(k.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m"), SessionID: "s1"}))
	case "manypanics":
		// Held: 200 remote calls at once, each with an OnComplete that
		// panics, and a Logger whose handler panics on the record.
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg", Logger: slog.New(panicOnError{records}),
			HTTPClient: &http.Client{Transport: instantEdge{}},
		})
		require.NoError(t, err)
		defer c.Close(context.Background())
		const n = 200
		for range n {
			go func() {
				g := c.GetAttributes(context.Background(), []string{"m"}, target.GetAttributesOptions{})
				g.OnComplete(func(*target.Attributes, error) { panic("rt boom") })
			}()
		}
		for range n {
			require.Contains(t, <-records, "rt boom")
		}
		fmt.Println("child: done")
		return
	case "loggerpanic", "panicnil":
		// Held: a remote call whose OnComplete panics (with nil too) while
		// the Logger's handler panics as well; the child must survive.
		edge := heldEdge{release: make(chan struct{})}
		var l *slog.Logger = log
		if scenario == "loggerpanic" {
			l = slog.New(panicOnError{records})
		}
		c, err := target.NewClient(target.Config{
			Client: "c", OrganizationID: "O@AdobeOrg", Logger: l,
			HTTPClient: &http.Client{Transport: edge},
		})
		require.NoError(t, err)
		defer c.Close(context.Background())
		g := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("m")})
		if scenario == "panicnil" {
			g.OnComplete(func(*target.Response, error) { panic(nil) })
			close(edge.release)
			<-g.Done()
			rec := <-records
			require.Contains(t, rec, "nil")
			fmt.Println("child: done")
			return
		}
		f = wrap(g)
		f.cancel = func() { close(edge.release) }
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
	f.f.OnComplete(func(*target.Response, error) { panic("rt boom") })
	if f.cancel != nil {
		f.cancel()
	}
	<-f.f.Done()
	select {
	case rec := <-records:
		require.Contains(t, rec, "rt boom")
	case <-time.After(time.Minute): // a guard against hanging, not a timing
		t.Fatal("the panic was not logged")
	}
	fmt.Println("child: done")
}

type future2 struct {
	f interface {
		OnComplete(func(*target.Response, error))
		Done() <-chan struct{}
	}
	cancel func()
}

func wrap(f interface {
	OnComplete(func(*target.Response, error))
	Done() <-chan struct{}
}) *future2 {
	return &future2{f: f}
}

// panicOnError reports each Error record's message and then panics.
type panicOnError struct{ records chan string }

func (panicOnError) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h panicOnError) WithAttrs([]slog.Attr) slog.Handler         { return h }
func (h panicOnError) WithGroup(string) slog.Handler              { return h }
func (h panicOnError) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	h.records <- b.String()
	panic("logger boom")
}

// Held: see the child's scenarios.
func TestRTLoggerPanicWhileLoggingSettlementPanic(t *testing.T)  { runRTChild(t, "loggerpanic") }
func TestRTManySettlementPanicsWithPanickingLogger(t *testing.T) { runRTChild(t, "manypanics") }
func TestRTPanicNilInOnCompleteOnCallGoroutine(t *testing.T)     { runRTChild(t, "panicnil") }
