//go:build goexperiment.jsonv2

package delivery

import (
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"reflect"
	"strings"
)

// pathUnmarshalers decode Geo and ClientHints with their UnmarshalJSON,
// from the decoder, which knows where they are in the document.
var pathUnmarshalers = jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, g *Geo) error {
		return unmarshalWithPath(dec, g.UnmarshalJSON)
	}),
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, h *ClientHints) error {
		return unmarshalWithPath(dec, h.UnmarshalJSON)
	}),
))

// unmarshalModels decodes b into v (a Request's stand-in) as
// json.Unmarshal does. Under GOEXPERIMENT=jsonv2, encoding/json returns a
// type error from a type's UnmarshalJSON as it is, without the path to the
// value in front of its Field ("city", not "context.geo.city", as the
// default encoding/json writes it; decodepath.go): Geo and ClientHints are
// decoded through pathUnmarshalers, which add it; the error of a
// Parameters value is placed by placeParameterError, in both builds.
func unmarshalModels(b []byte, v any) error {
	err := placeParameterError(b, jsonv2.Unmarshal(b, v, json.DefaultOptionsV1(), pathUnmarshalers))
	var pe *pathTypeError
	if !errors.As(err, &pe) {
		return err
	}
	// The root type is named, as encoding/json names it in the type
	// errors it makes itself.
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
		pe.err.Struct = t.Elem().Name()
	}
	return pe.err
}

// pathTypeError carries a type error with its path from pathUnmarshalers
// to unmarshalModels, which names the root type in it.
type pathTypeError struct{ err *json.UnmarshalTypeError }

func (e *pathTypeError) Error() string { return e.err.Error() }

// unmarshalWithPath reads the next value from dec and decodes it with
// unmarshal; a *json.UnmarshalTypeError from it gets the path to the value
// in front of its Field, as encoding/json writes paths ("context.geo").
// Its Offset, which refers to the value, is moved to refer to the
// document, by where the value starts in it.
func unmarshalWithPath(dec *jsontext.Decoder, unmarshal func([]byte) error) error {
	b, err := dec.ReadValue()
	if err != nil {
		return err
	}
	err = unmarshal(b)
	te, ok := err.(*json.UnmarshalTypeError) // as encoding/json, which extends only these
	if !ok {
		return err
	}
	out := *te
	out.Offset += dec.InputOffset() - int64(len(b))
	path := strings.ReplaceAll(strings.TrimPrefix(string(dec.StackPointer()), "/"), "/", ".")
	if out.Field == "" {
		out.Field = path
	} else if path != "" {
		out.Field = path + "." + out.Field
	}
	return &pathTypeError{&out}
}
