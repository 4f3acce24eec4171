package delivery_test

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// skipFinding keeps the package green: the red team's findings fail until
// fixed; RT_FINDINGS=1 runs them.
func skipFinding(t *testing.T, n int) {
	t.Helper()
	if os.Getenv("RT_FINDINGS") == "" {
		t.Skipf("red team: reproduces finding %d (RT_FINDINGS=1 runs it)", n)
	}
}

func rtFieldOf(t *testing.T, body string, strict bool) (*json.UnmarshalTypeError, error) {
	t.Helper()
	var r delivery.Request
	var err error
	if strict {
		err = delivery.UnmarshalRequestStrict([]byte(body), &r)
	} else {
		err = json.Unmarshal([]byte(body), &r)
	}
	var ute *json.UnmarshalTypeError
	if !asType(err, &ute) {
		t.Fatalf("%s: %v is no *json.UnmarshalTypeError", body, err)
	}
	return ute, err
}

func asType(err error, target **json.UnmarshalTypeError) bool {
	return errorsAs(err, target)
}

// Finding 1: of two bad parameters objects, the first in the text is
// named (TestParameterTypeErrorsNamePathAndOffset's own case) - unless the
// request also holds a name in another case anywhere, which the lenient
// reader drops and re-marshals the request with its names sorted: then
// the first in sorted order (execute before prefetch, parameters before
// profileParameters) is named, not the first in the caller's text.
func TestRTFirstInTextWithMiscasedName(t *testing.T) {
	skipFinding(t, 1)
	for _, body := range []string{
		`{"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"p":[1]}}]},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"e":[2]}}]},"context":{"channel":"web","Channel":"x"}}`,
		`{"context":{"channel":"web","Channel":"x"},"execute":{"pageLoad":{"profileParameters":{"p":[1]},"parameters":{"e":[2]}}}}`,
	} {
		te, err := rtFieldOf(t, body, false)
		if want := "prefetch.mboxes.0.parameters.p"; strings.HasPrefix(body, `{"prefetch"`) && te.Field != want {
			t.Errorf("%s: Field %q, want %q, the first in the text (%v)", body, te.Field, want, err)
		}
		if want := "execute.pageLoad.profileParameters.p"; strings.HasPrefix(body, `{"context"`) && te.Field != want {
			t.Errorf("%s: Field %q, want %q, the first in the text (%v)", body, te.Field, want, err)
		}
	}
}

// Finding 2: the finder matches paths without indexes, so parameters in a
// value the decoder skipped (an array where an mbox or the execute object
// belongs, an object where the mbox list belongs) are named in place of
// the parameters the decoder refused, at a path the models do not have
// (execute.mboxes.0.0.parameters.a). Default build only (jsonv2 reports
// the misplaced array); main named "b", the refused value.
func TestRTSkippedValueNotNamed(t *testing.T) {
	skipFinding(t, 2)
	for _, tc := range []struct{ body, want string }{
		{`{"context":{"channel":"web"},"execute":{"mboxes":[[{"parameters":{"a":[1]}}],{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "execute.mboxes.1.parameters.b"},
		{`{"context":{"channel":"web"},"execute":{"mboxes":{"parameters":{"a":[1]}}},"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
		{`{"context":{"channel":"web"},"execute":[{"mboxes":[{"parameters":{"a":[1]}}]}],"prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"b":[2]}}]}}`, "prefetch.mboxes.0.parameters.b"},
	} {
		for _, strict := range []bool{false, true} {
			te, err := rtFieldOf(t, tc.body, strict)
			if strings.HasSuffix(te.Field, ".a") {
				t.Errorf("strict %v: %s: names %q, a value the decoder never read, not %q (%v)", strict, tc.body, te.Field, tc.want, err)
			}
		}
	}
}

// Finding 3: on the error path the finder builds the dotted path of every
// value it walks, also inside unknown names (which the lenient reader
// ignores), by concatenation: nesting depth d costs O(d^2) bytes. An 18 KB
// request allocates ~89 MB, a 210 KB one ~420 MB (2000x its size); the
// same request without the bad parameter allocates ~10x its size.
func TestRTErrorPathAllocationLinear(t *testing.T) {
	skipFinding(t, 3)
	measure := func(b []byte) uint64 {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		var r delivery.Request
		_ = json.Unmarshal(b, &r)
		runtime.ReadMemStats(&ms1)
		return ms1.TotalAlloc - ms0.TotalAlloc
	}
	for _, d := range []int{1000, 4000, 9000} {
		body := func(v string) []byte {
			return []byte(`{"context":{"channel":"web"},"x":` + strings.Repeat("[", d) + strings.Repeat("]", d) + `,"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"p":` + v + `}}]}}`)
		}
		ok, bad := measure(body(`"1"`)), measure(body(`[1]`))
		t.Logf("depth %d (%d bytes): valid %d bytes allocated, bad parameter %d", d, len(body("[1]")), ok, bad)
		if bad > 4*ok+1<<20 {
			t.Errorf("depth %d: the error path allocates %d bytes, the success path %d", d, bad, ok)
		}
	}
}

// Finding 5: Parameters decoded on their own keep the last of a name held
// twice (encoding/json's map rule), but the offset is found by the first
// occurrence: for {"x":"ok","x":[1]} it points into "ok", not at [1].
func TestRTStandaloneDuplicateOffset(t *testing.T) {
	skipFinding(t, 5)
	body := `{"x":"ok","x":[1]}`
	var p delivery.Parameters
	err := json.Unmarshal([]byte(body), &p)
	var te *json.UnmarshalTypeError
	if !asType(err, &te) {
		t.Fatalf("%v", err)
	}
	if want := wantOffset(`[1]`, strings.LastIndex(body, `[1]`)); te.Offset != want {
		t.Errorf("offset %d (%q), want %d", te.Offset, body[te.Offset:], want)
	}
}

func errorsAs(err error, target **json.UnmarshalTypeError) bool { return errors.As(err, target) }
