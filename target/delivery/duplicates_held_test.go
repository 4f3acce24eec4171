package delivery_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// Deep nesting, duplicates found at depth and in arrays of objects,
// escaped and raw names equal after unescaping, case-only differences
// kept apart, odd whitespace, and trailing text after a duplicate.
func TestDuplicateScanCases(t *testing.T) {
	deep := `{"context":{"channel":"web"},"x":` + strings.Repeat("[", 9990) + `{"a":1,"a":2}` + strings.Repeat("]", 9990) + `}`
	tooDeep := `{"context":{"channel":"web"},"x":` + strings.Repeat("[", 10010) + strings.Repeat("]", 10010) + `}`
	for _, tc := range []struct {
		body string
		dup  bool
		path string
	}{
		{deep, true, "x" + strings.Repeat(".0", 9990)},
		{tooDeep, false, ""},
		{`{"context":{"channel":"web"},"prefetch":{"views":[{"name":"a"},{"name":"b","parameters":{"k":"1","\u006b":"2"}}]}}`, true, "prefetch.views.1.parameters"},
		{`{"context":{"channel":"web"},"prefetch":{"views":[{"name":"a"},{"name":"b","parameters":{"k":"1","K":"2"}}]}}`, false, ""},
		{"{\"context\":{\"channel\":\"web\"},\r\n\t\"a\\/b\" : 1 ,\"a/b\":2}", true, ""},
		{`{"context":{"channel":"web"},"a":"x\"y","b":"x\\","a\\":1,"a":2}`, true, ""},
		{`{"context":{"channel":"web"},"a":1,"a":2} trailing`, false, ""},
		{`{"context":{"channel":"web"},"a":{"":1,"":2}}`, true, "a"},
		{`{"context":{"channel":"web"},"a":{"\ud800":1,"\udbff":2}}`, true, "a"}, // both U+FFFD to encoding/json
	} {
		var r delivery.Request
		err := json.Unmarshal([]byte(tc.body), &r)
		var dup *delivery.DuplicateNameError
		got := errors.As(err, &dup)
		if got != tc.dup {
			t.Errorf("%.80q: duplicate %v, want %v (%v)", tc.body, got, tc.dup, err)
			continue
		}
		if got && dup.Path != tc.path {
			t.Errorf("%.80q: path %.60q, want %.60q", tc.body, dup.Path, tc.path)
		}
		if !got && tc.body == tooDeep && err == nil {
			t.Errorf("too deep accepted")
		}
	}
}
