package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// Two parameter names that encoding/json (and a UTF-8-decoding
// JSON.parse) both read as the same name "\ufffd" are refused: one value
// would be lost without a word (FuzzRequestDecode's oracle agrees: it is a
// duplicate). Names that differ once read stay apart.
func TestDuplicateInvalidUTF8Names(t *testing.T) {
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
			t.Errorf("%q: not refused (err %v); request read: %+v", body, err, r.Execute)
		} else if dup.Name != "\ufffd" || dup.Path != "execute.mboxes.0.parameters" {
			t.Errorf("%q: name %q in %q, want \"\\ufffd\" in execute.mboxes.0.parameters", body, dup.Name, dup.Path)
		}
	}
	// encoding/json reads each bad byte as one U+FFFD: two bad bytes are
	// not one; valid UTF-8 equals its escaped form.
	for _, tc := range []struct {
		a, b string
		dup  bool
	}{
		{"\xff\xfe", "\xff", false},
		{"\xff\xfe", `\ufffd\ufffd`, true},
		{"a\xffb", "a\xfeb", true},
		{"\u00e9", `\u00e9`, true}, // é raw and escaped
		{"\u00e9", "e\u0301", false},
		{"\xc3", "\xc3\xa9", false},
	} {
		body := `{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{"` + tc.a + `":"1","` + tc.b + `":"2"}}]}}`
		if hasDuplicateName([]byte(body)) != tc.dup {
			t.Fatalf("%q: the oracle disagrees with the case", body)
		}
		var r delivery.Request
		var dup *delivery.DuplicateNameError
		if got := errors.As(json.Unmarshal([]byte(body), &r), &dup); got != tc.dup {
			t.Errorf("%q and %q: refused as duplicates %v, want %v", tc.a, tc.b, got, tc.dup)
		}
	}
}

// A duplicate inside any value the models hold as text (every secret slot
// of the redaction test: ids, tokens, parameter values, states) is
// reported with the path of the slot and no name; the value's contents
// appear in no form of the error. Elsewhere the name is given.
func TestDuplicateInSecretSlotsHidesName(t *testing.T) {
	const inner = `{"hunter2":1,"hunter2":2}`
	const deeper = `{"a":{"b":[{"hunter2":1,"hunter2":2}]}}`
	for _, tc := range []struct {
		body, path string
	}{
		{`{"id":{"tntId":` + inner + `}}`, "id.tntId"},
		{`{"id":{"thirdPartyId":` + deeper + `}}`, "id.thirdPartyId"},
		{`{"id":{"marketingCloudVisitorId":` + inner + `}}`, "id.marketingCloudVisitorId"},
		{`{"id":{"customerIds":[{"id":` + inner + `}]}}`, "id.customerIds.0.id"},
		{`{"property":{"token":` + deeper + `}}`, "property.token"},
		{`{"trace":{"authorizationToken":` + inner + `}}`, "trace.authorizationToken"},
		{`{"qaMode":{"token":` + inner + `}}`, "qaMode.token"},
		{`{"preview":{"token":` + inner + `}}`, "preview.token"},
		{`{"experienceCloud":{"audienceManager":{"blob":` + inner + `}}}`, "experienceCloud.audienceManager.blob"},
		{`{"execute":{"pageLoad":{"order":{"id":` + inner + `}}}}`, "execute.pageLoad.order.id"},
		{`{"notifications":[{"tokens":[` + inner + `]}]}`, "notifications.0.tokens.0"},
		{`{"notifications":[{"mbox":{"state":` + inner + `}}]}`, "notifications.0.mbox.state"},
		{`{"notifications":[{"view":{"state":` + inner + `}}]}`, "notifications.0.view.state"},
		{`{"notifications":[{"pageLoad":{"state":` + inner + `}}]}`, "notifications.0.pageLoad.state"},
		{`{"telemetry":{"entries":[{"telemetryServerToken":` + inner + `}]}}`, "telemetry.entries.0.telemetryServerToken"},
		{`{"context":{"geo":{"ipAddress":` + inner + `}}}`, "context.geo.ipAddress"},
		{`{"execute":{"mboxes":[{"profileParameters":{"email":` + deeper + `}}]}}`, "execute.mboxes.0.profileParameters.email"},
		{`{"prefetch":{"views":[{"parameters":{"q":` + inner + `}}]}}`, "prefetch.views.0.parameters.q"},
		// A name in another case holds what the field holds.
		{`{"execute":{"mboxes":[{"Parameters":{"pw":` + inner + `}}]}}`, "execute.mboxes.0.Parameters.pw"},
	} {
		for _, strict := range []bool{false, true} {
			var r delivery.Request
			var err error
			if strict {
				err = delivery.UnmarshalRequestStrict([]byte(tc.body), &r)
			} else {
				err = json.Unmarshal([]byte(tc.body), &r)
			}
			var dup *delivery.DuplicateNameError
			if !errors.As(err, &dup) {
				t.Errorf("%s: not a duplicate: %v", tc.body, err)
				continue
			}
			if dup.Path != tc.path || dup.Name != "" {
				t.Errorf("%s: path %q name %q, want %q and no name", tc.body, dup.Path, dup.Name, tc.path)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%v", dup), fmt.Sprintf("%+v", dup), fmt.Sprintf("%#v", dup), fmt.Sprintf("%+v", *dup)} {
				if strings.Contains(s, "hunter2") {
					t.Errorf("%s: the value's contents reach the error: %s", tc.body, s)
				}
			}
		}
	}
	// Outside the secret slots the name is given: a repeated parameter
	// name (names are not secret), a name inside an object the model
	// holds as an object, a name under a name no field has.
	for _, tc := range []struct {
		body, path, name string
	}{
		{`{"execute":{"mboxes":[{"parameters":{"pw":"1","pw":"2"}}]}}`, "execute.mboxes.0.parameters", "pw"},
		{`{"context":{"geo":{"city":"a","city":"b"}}}`, "context.geo", "city"},
		{`{"unknown":[{"x":1,"x":2}]}`, "unknown.0", "x"},
	} {
		var r delivery.Request
		var dup *delivery.DuplicateNameError
		if err := json.Unmarshal([]byte(tc.body), &r); !errors.As(err, &dup) || dup.Path != tc.path || dup.Name != tc.name || !strings.Contains(err.Error(), strconv.Quote(tc.name)) {
			t.Errorf("%s: %v, want %q in %q", tc.body, err, tc.name, tc.path)
		}
	}
}

// UnmarshalRequestStrict refuses text after the value with encoding/json's
// syntax error, as json.Unmarshal does, even when the value repeats a
// name.
func TestUnmarshalRequestStrictTrailingText(t *testing.T) {
	for _, body := range []string{
		`{"context":{"channel":"web"},"a":1,"a":2} trailing`,
		`{"context":{"channel":"web"}} {}`,
	} {
		var r delivery.Request
		err := delivery.UnmarshalRequestStrict([]byte(body), &r)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v (%T), want a *json.SyntaxError", body, err, err)
		}
	}
	var r delivery.Request
	if err := delivery.UnmarshalRequestStrict([]byte("{\"context\":{\"channel\":\"web\"}} \r\n\t"), &r); err != nil {
		t.Errorf("white space after the value: %v", err)
	}
}

// An object with many names is scanned with a set past the first few: a
// duplicate is found wherever its two occurrences fall (both among the
// first names, one on each side of the switch, both past it), and
// distinct names are not mistaken for one.
func TestDuplicateManyNames(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 18, 40} {
		for first := 0; first < n; first++ {
			for _, second := range []int{first + 1, n} {
				if second <= first || second > n {
					continue
				}
				names := make([]string, 0, n+1)
				for i := range n {
					names = append(names, fmt.Sprintf(`"p%d":"v"`, i))
				}
				// Repeat name first at position second.
				names = append(names[:second], append([]string{fmt.Sprintf(`"p%d":"w"`, first)}, names[second:]...)...)
				body := `{"execute":{"mboxes":[{"parameters":{` + strings.Join(names, ",") + `}}]}}`
				var r delivery.Request
				var dup *delivery.DuplicateNameError
				if err := json.Unmarshal([]byte(body), &r); !errors.As(err, &dup) || dup.Name != fmt.Sprintf("p%d", first) {
					t.Fatalf("n=%d first=%d second=%d: %v", n, first, second, err)
				}
			}
		}
		names := make([]string, 0, n)
		for i := range n {
			names = append(names, fmt.Sprintf(`"p%d":"v"`, i))
		}
		var r delivery.Request
		if err := json.Unmarshal([]byte(`{"execute":{"mboxes":[{"parameters":{`+strings.Join(names, ",")+`}}]}}`), &r); err != nil || len(r.Execute.Mboxes[0].Parameters) != n {
			t.Fatalf("n=%d distinct: %v", n, err)
		}
	}
}

// A parameter value that is an object is refused by
// Parameters.UnmarshalJSON naming the parameter only (values are
// secrets); when the object repeats a name, the DuplicateNameError names
// the parameter too, never the value's contents.
func TestDuplicateNameErrorHidesParameterValue(t *testing.T) {
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
