package delivery_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// Concurrent reads of bad and miscased requests, for -race.
func TestRTConcurrentParameterErrors(t *testing.T) {
	bodies := []string{
		`{"context":{"channel":"web","Channel":"x"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"x":[1]}}]}}`,
		`{"context":{"channel":"web"},"prefetch":{"views":[{"parameters":5}]}}`,
		`{"context":{"channel":"web"},"notifications":[{"id":"n","parameters":{"a":"1"}}]}`,
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				body := bodies[(i+j)%len(bodies)]
				var r delivery.Request
				err := json.Unmarshal([]byte(body), &r)
				if err2 := delivery.UnmarshalRequestStrict([]byte(body), &r); (err == nil) != (err2 == nil) && (i+j)%len(bodies) != 0 {
					t.Errorf("%s: %v / %v", body, err, err2)
				}
			}
		})
	}
	wg.Wait()
}

// Finding 6: in a document that holds a Request (json.Unmarshal of a
// wrapper), the default build puts the wrapper's path in front of every
// *json.UnmarshalTypeError the Request returns (req.context.channel,
// req.execute.mboxes.0.parameters for parameters that are not an object),
// but not in front of a bad parameter's (execute.mboxes.0.parameters.x,
// Struct "Request"): it is no *json.UnmarshalTypeError itself.
func TestRTWrapperPathConsistent(t *testing.T) {
	skipFinding(t, 6)
	var w struct {
		Req delivery.Request `json:"req"`
	}
	var fields []string
	for _, body := range []string{
		`{"req":{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":5}]}}}`,
		`{"req":{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"x":[1]}}]}}}`,
	} {
		err := json.Unmarshal([]byte(body), &w)
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			t.Fatalf("%s: %v", body, err)
		}
		fields = append(fields, te.Field)
	}
	if strings.HasPrefix(fields[0], "req.") != strings.HasPrefix(fields[1], "req.") {
		t.Errorf("the two kinds of parameter error name their paths differently: %q, %q", fields[0], fields[1])
	}
}

// A name that matches a field only by Unicode folding ("mboxeſ") is
// dropped by the lenient reader; the error is placed in the caller's text.
func TestRTFoldedNameDropped(t *testing.T) {
	body := `{"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"execute":{"mboxeſ":[{"parameters":{"q":[1]}}]}}`
	var r delivery.Request
	err := json.Unmarshal([]byte(body), &r)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || !errors.Is(err, delivery.ErrParameterType) {
		t.Fatalf("%v", err)
	}
	if te.Field != "prefetch.mboxes.0.parameters.p" || te.Offset != wantOffset(`[1]`, strings.Index(body, `[1]`)) {
		t.Errorf("Field %q Offset %d (%q)", te.Field, te.Offset, body[te.Offset:])
	}
}
