package delivery

import (
	"os"
	"testing"
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
