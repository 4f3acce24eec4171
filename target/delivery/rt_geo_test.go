package delivery_test

import (
	"encoding/json"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// TestRedTeamGeoTextCoordinateHTML: Marshal is documented as encoding/json
// without HTML escaping, but a coordinate read as a string goes through
// json.Marshal inside Geo.MarshalJSON and comes out HTML-escaped (on main
// too; AppendRequest falls back to Marshal, so it matches it).
func TestRedTeamGeoTextCoordinateHTML(t *testing.T) {
	var req delivery.Request
	if err := json.Unmarshal([]byte(`{"context":{"channel":"web","geo":{"latitude":"<1&>","city":"<b>"}}}`), &req); err != nil {
		t.Fatal(err)
	}
	b, err := delivery.Marshal(&req)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"context":{"channel":"web","geo":{"city":"<b>","latitude":"<1&>"}}}`
	if string(b) != want {
		t.Skipf("red team: reproduces finding 1 (pre-existing): got %s, want %s", b, want)
	}
}
