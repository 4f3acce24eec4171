package delivery

import (
	"os"
	"testing"
	"time"
)

// Finding 4: placeParameterError and replaceParameterError move their
// error targets (pe, te: &pe and &te go to errors.As) to the heap, so every
// decode of a Request costs 2 allocations more than on main even when
// there is no error (4 when the lenient reader dropped a miscased name):
// "on the error path only" does not hold for allocations.
func TestRTPlaceParameterErrorFreeOnSuccess(t *testing.T) {
	if os.Getenv("RT_FINDINGS") == "" {
		t.Skip("red team: reproduces finding 4 (RT_FINDINGS=1 runs it)")
	}
	b := []byte(`{"context":{"channel":"web"}}`)
	if n := testing.AllocsPerRun(100, func() { _ = placeParameterError(b, nil) }); n != 0 {
		t.Errorf("placeParameterError(b, nil): %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = replaceParameterError(b, nil) }); n != 0 {
		t.Errorf("replaceParameterError(b, nil): %v allocations", n)
	}
}

// Finding 7 (latent): parametersFinder loops forever on text that is not
// JSON: after a Token error inside an array, value returns nil and the
// array loop asks More() again, which stays true. Both builds validate the
// text before placeParameterError can see it, so no public reader reaches
// it today; the goroutine below spins until the process exits.
func TestRTFinderStopsOnInvalidText(t *testing.T) {
	if os.Getenv("RT_FINDINGS") == "" {
		t.Skip("red team: reproduces finding 7 (RT_FINDINGS=1 runs it; it leaves a spinning goroutine)")
	}
	done := make(chan error, 1)
	go func() {
		done <- placeParameterError([]byte(`{"z":[1 2],"execute":{}}`), &parameterTypeError{name: "x"})
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Errorf("placeParameterError on invalid text: no answer after 3 s")
	}
}
