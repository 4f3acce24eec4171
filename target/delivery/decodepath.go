//go:build !goexperiment.jsonv2

package delivery

import "encoding/json"

// unmarshalModels decodes b into v (a Request's stand-in) with
// encoding/json. Its decoder puts the path to a value in front of the
// Field of a *json.UnmarshalTypeError that Geo's or ClientHints' own
// UnmarshalJSON returns ("city" becomes "context.geo.city"); under
// GOEXPERIMENT=jsonv2 it does not, and decodepath_jsonv2.go adds the path
// itself.
func unmarshalModels(b []byte, v any) error {
	return json.Unmarshal(b, v)
}
