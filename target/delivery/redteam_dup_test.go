package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// Red team finding 1 (FuzzRequestDecode's oracle agrees: it is a duplicate): two parameter names that encoding/json (and a
// UTF-8-decoding JSON.parse) both read as the same name "\ufffd" are not
// refused: one value is lost without a word, which DuplicateNameError
// promises cannot happen.
func TestRedTeamDuplicateInvalidUTF8Names(t *testing.T) {
	t.Skip("red team: reproduces finding 1")
	for _, body := range []string{
		"{\"context\":{\"channel\":\"web\"},\"execute\":{\"mboxes\":[{\"name\":\"m\",\"index\":1,\"parameters\":{\"\xff\":\"first\",\"\xfe\":\"second\"}}]}}",
		"{\"context\":{\"channel\":\"web\"},\"execute\":{\"mboxes\":[{\"name\":\"m\",\"index\":1,\"parameters\":{\"\xff\":\"first\",\"\\ufffd\":\"second\"}}]}}",
	} {
		if !hasDuplicateName([]byte(body)) {
			t.Fatalf("FuzzRequestDecode's own oracle sees no duplicate in %q", body)
		}
		var r delivery.Request
		err := json.Unmarshal([]byte(body), &r)
		var dup *delivery.DuplicateNameError
		if !errors.As(err, &dup) {
			t.Errorf("%q: not refused (err %v); parameters read: %q", body, err, r.Execute.Mboxes[0].Parameters)
		}
	}
}

// Red team finding 2: a parameter value that is an object is refused by
// Parameters.UnmarshalJSON naming the parameter only (values are secrets);
// when the object repeats a name, the DuplicateNameError names the
// value's contents instead.
func TestRedTeamDuplicateNameErrorShowsParameterValue(t *testing.T) {
	t.Skip("red team: reproduces finding 2")
	body := `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"pw":{"hunter2-secret":1,"hunter2-secret":2}}}]}}`
	var r delivery.Request
	err := json.Unmarshal([]byte(body), &r)
	if err == nil {
		t.Fatal("accepted")
	}
	var dup *delivery.DuplicateNameError
	if errors.As(err, &dup) {
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", dup), fmt.Sprintf("%#v", dup), dup.Name, dup.Path} {
			if strings.Contains(s, "hunter2") {
				t.Errorf("a parameter value's contents reach the error: %s", s)
				break
			}
		}
	}
	// Without the repeated name, the error names the parameter only.
	err = json.Unmarshal([]byte(strings.Replace(body, `,"hunter2-secret":2`, ``, 1)), &r)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !errors.Is(err, delivery.ErrParameterType) {
		t.Errorf("single: %v", err)
	}
}
