package ondevice

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
)

// hostileHandler is a user's slog handler that panics, or calls
// runtime.Goexit, when it is given a record.
type hostileHandler struct{ goexit bool }

func (h hostileHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hostileHandler) Handle(context.Context, slog.Record) error {
	if h.goexit {
		runtime.Goexit()
	}
	panic("hostile handler")
}
func (h hostileHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hostileHandler) WithGroup(string) slog.Handler      { return h }

// TestLoggerPanicLeavesScratchClean: a decision that panics or calls
// runtime.Goexit from the engine's Logger (reached when a rule goes over its
// budget) after it has filled allocation slots, notified keys, geo tokens
// and a trace puts its scratch back clean, and the next decision answers as
// the one before the panic did. It sets releaseHook, so it runs alone (not
// in parallel).
func TestLoggerPanicLeavesScratchClean(t *testing.T) {
	hostile := "false"
	for range 40 {
		hostile = `{"some":[[1,2],` + hostile + `]}`
	}
	var rules []string
	for i := range 40 { // more activities than allocation slots
		rules = append(rules, `{"ruleKey":"k`+string(rune('a'+i%26))+`","activityId":`+itoa(i+1)+`,"meta":{"activity.id":`+itoa(i+1)+`},"condition":{"<=":[0,{"var":"allocation"},100]},
			"consequence":{"name":"target-global-mbox","options":[{"type":"html","content":"c`+itoa(i)+`","eventToken":"t`+itoa(i)+`"}],"metrics":[{"type":"display","eventToken":"t`+itoa(i)+`"}]}}`)
	}
	rules = append(rules, `{"ruleKey":"hostile","activityId":999,"condition":`+hostile+`,"consequence":{"name":"target-global-mbox","options":[{"type":"html","content":"never"}]}}`)
	a, err := ParseArtifact([]byte(`{"version":"1.0.0","globalMbox":"target-global-mbox","localMboxes":["target-global-mbox"],"responseTokens":["activity.id","geo.city","geo.country"],
		"rules":{"mboxes":{"target-global-mbox":[` + strings.Join(rules, ",") + `]}}}`))
	require.NoError(t, err)
	req := &delivery.Request{
		ID:      &delivery.VisitorID{TntID: "v1"},
		Trace:   &delivery.Trace{AuthorizationToken: "t"},
		Context: &delivery.Context{Geo: &delivery.Geo{City: "X", CountryCode: "US"}},
		Execute: &delivery.ExecuteRequest{PageLoad: &delivery.RequestDetails{}},
	}
	at := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	quiet := &Engine{Client: "acme", NewID: func() string { return "id" }, Now: func() time.Time { return at }}
	answer := func() string {
		out, err := quiet.Decide(context.Background(), a, req, Options{})
		require.NoError(t, err)
		js, err := json.Marshal(out.Response)
		require.NoError(t, err)
		return string(js)
	}
	want := answer()
	for _, goexit := range []bool{false, true} {
		e := &Engine{Client: "acme", NewID: func() string { return "id" }, Logger: slog.New(hostileHandler{goexit})}
		// The scratch is checked as the panicking decision puts it back,
		// not taken from the pool afterwards: under -race sync.Pool drops
		// a Put now and then, and a fresh scratch would pass.
		var released []string
		releaseHook = func(s *scratch) {
			zero := scratch{matched: s.matched}
			if reflect.DeepEqual(&zero, s) {
				released = append(released, "")
			} else {
				released = append(released, fmt.Sprintf("%.400v", fmt.Sprintf("%+v", s.d)))
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() { _ = recover() }()
			_, _ = e.Decide(context.Background(), a, req, Options{})
			t.Error("the hostile handler did not stop the decision")
		})
		wg.Wait()
		releaseHook = nil
		require.Len(t, released, 1, "goexit=%v: the decision put back %d scratches", goexit, len(released))
		require.Empty(t, released[0], "goexit=%v: a dirty scratch went back to the pool", goexit)
		require.JSONEq(t, want, answer(), "goexit=%v", goexit)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
