package delivery

import (
	"encoding/json"
	"errors"
	"testing"
)

// placeParameterError runs on every decode of a Request: without an error
// of a Parameters value it returns at once and allocates nothing, so a
// successful decode costs what it did before errors were placed.
func TestPlaceParameterErrorAllocatesNothingWithoutOne(t *testing.T) {
	b := []byte(`{"context":{"channel":"web"}}`)
	other := &json.UnmarshalTypeError{Value: "number", Field: "context.channel"}
	for _, err := range []error{nil, other, errors.New("x")} {
		if n := testing.AllocsPerRun(100, func() { _ = placeParameterError(b, err) }); n != 0 {
			t.Errorf("placeParameterError(b, %v): %v allocations", err, n)
		}
		if got := placeParameterError(b, err); got != err {
			t.Errorf("placeParameterError(b, %v) = %v", err, got)
		}
	}
}

// The finder ends on text that is not JSON (a reader checks the text
// before, so this is its own guard): it returns the error as it is.
func TestParametersFinderStopsOnInvalidText(t *testing.T) {
	pe := &parameterTypeError{name: "x"}
	for _, b := range []string{
		`{"z":[1 2],"execute":{}}`,
		`{"execute":{"mboxes":[1 2]}}`,
		`{"execute":{"mboxes":[{"name":"m"} {"parameters":{"x":[1]}}]}}`,
		`{"execute":{"mboxes":[{"parameters":{"x":[1]`,
		`{"execute":{"mboxes":[{"parameters" 5}]}}`,
		`{"execute" {}}`,
		`[`,
		``,
	} {
		if got := placeParameterError([]byte(b), pe); got != error(pe) {
			t.Errorf("%s: %v", b, got)
		}
	}
}
