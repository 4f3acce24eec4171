package target_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// TestRTDebugDump writes the debug records of the same calls, with their
// source function, to $RTDUMP, to diff main's against the branch's. It
// asserts nothing; it is skipped without RTDUMP.
func TestRTDebugDump(t *testing.T) {
	path := os.Getenv("RTDUMP")
	if path == "" {
		t.Skip("red team: set RTDUMP=file to dump the debug records")
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	h := slog.NewTextHandler(&lockedWriter{&mu, &buf}, &slog.HandlerOptions{
		Level: slog.LevelDebug, AddSource: true,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", "total", "dns", "connect", "tls", "ttfb", "download", "requestId", "connReused":
				return slog.Attr{}
			case slog.SourceKey:
				if s, ok := a.Value.Any().(*slog.Source); ok {
					return slog.String("fn", s.Function)
				}
			case "body":
				s := a.Value.String()
				if i := strings.Index(s, `"requestId"`); i >= 0 {
					s = s[:i]
				}
				return slog.String("body", s)
			}
			return a
		},
	})
	log := slog.New(h).With("with", "attr").WithGroup("g")
	c, _ := setup(t, targettest.Config{Offers: offers, NoCluster: true}, func(cfg *target.Config) {
		cfg.Logger = log
		cfg.LogBodies = true
	})
	req := offersRequest("hero")
	req.ID = &target.VisitorID{
		ThirdPartyID: `tp-"quoted"<&>`, MarketingCloudVisitorID: "mcid-secret-41",
		CustomerIDs: []target.CustomerID{{ID: "customer-secret-42", IntegrationCode: "crm", AuthenticatedState: "authenticated"}},
	}
	req.Property = &target.Property{Token: "property-secret-43"}
	req.Trace = &target.Trace{AuthorizationToken: "auth-secret-46"}
	_, _ = c.GetOffers(t.Context(), target.GetOffersOptions{Request: req, SessionID: "s1"}).Await(t.Context())
	_, _ = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("")}).Await(t.Context())
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, _ = c.GetOffers(cancelled, target.GetOffersOptions{Request: offersRequest("hero"), SessionID: "s1"}).Await(t.Context())
	_, _ = c.GetAttributes(t.Context(), []string{"hero"}, target.GetAttributesOptions{SessionID: "s1"}).Await(t.Context())
	_ = c.Close(t.Context())
	runtime.Gosched()
	mu.Lock()
	defer mu.Unlock()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
