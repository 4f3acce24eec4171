package delivery_test

import (
	"encoding/json"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// TestGeoAndClientHintsNotHTMLEscaped: Marshal writes without HTML
// escaping, and so do the MarshalJSON methods of Geo and ClientHints on
// the paths they write themselves (a coordinate read as a string, a field
// or platform read as ""), which Marshal keeps as they return it;
// AppendRequest, which leaves those to Marshal, writes the same bytes.
func TestGeoAndClientHintsNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{
			`{"context":{"channel":"web","geo":{"latitude":"<1&>","city":"<b>"}}}`,
			`{"context":{"channel":"web","geo":{"city":"<b>","latitude":"<1&>"}}}`,
		},
		{
			`{"context":{"channel":"web","geo":{"latitude":1.5,"longitude":"&lt;\u2028>","zip":""}}}`,
			`{"context":{"channel":"web","geo":{"latitude":1.5,"longitude":"&lt;\u2028>","zip":""}}}`,
		},
		{
			`{"context":{"channel":"web","clientHints":{"model":"<m&>","platform":""}}}`,
			`{"context":{"channel":"web","clientHints":{"model":"<m&>","platform":""}}}`,
		},
	} {
		var req delivery.Request
		if err := json.Unmarshal([]byte(c.body), &req); err != nil {
			t.Fatal(err)
		}
		b, err := delivery.Marshal(&req)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("Marshal:\ngot  %s\nwant %s", b, c.want)
		}
		a, err := delivery.AppendRequest(nil, &req)
		if err != nil || string(a) != c.want {
			t.Errorf("AppendRequest: %v\ngot  %s\nwant %s", err, a, c.want)
		}
	}
}
