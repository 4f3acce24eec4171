//go:build !goexperiment.jsonv2

package delivery

import (
	"encoding/json"
	"strings"
)

// unmarshalModels decodes b into v (a Request's stand-in) with
// encoding/json. Its decoder puts the path to a value in front of the
// Field of a *json.UnmarshalTypeError that Geo's or ClientHints' own
// UnmarshalJSON returns ("city" becomes "context.geo.city"); under
// GOEXPERIMENT=jsonv2 it does not, and decodepath_jsonv2.go adds the path
// itself. The Offset of such an error refers to the value the method was
// given, and is moved here to refer to b (Geo and ClientHints sit at
// context.geo and context.clientHints, the path in front of its Field);
// decodepath_jsonv2.go moves it with the decoder's position. The error of
// a Parameters value is placed by placeParameterError, in both builds: its
// path has indexes (execute.mboxes.0.parameters), which this decoder does
// not write.
func unmarshalModels(b []byte, v any) error {
	err := placeParameterError(b, json.Unmarshal(b, v))
	te, ok := err.(*json.UnmarshalTypeError)
	if !ok {
		return err
	}
	for _, name := range []string{"geo", "clientHints"} {
		if path := "context." + name; te.Field == path || strings.HasPrefix(te.Field, path+".") {
			at, _ := valueStart(b, "context", name)
			return shiftOffset(err, at)
		}
	}
	return err
}
