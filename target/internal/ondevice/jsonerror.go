package ondevice

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// describeJSONError says what is wrong with an artifact in the artifact's
// own terms: encoding/json's messages name this package's Go types
// ("Go struct field Document.version of type string"), which mean nothing
// to whoever wrote the artifact.
func describeJSONError(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		where := "artifact"
		if te.Field != "" {
			where = "artifact: field " + te.Field
		}
		return fmt.Sprintf("%s: want %s, got a JSON %s", where, jsonKind(te.Type), te.Value)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("artifact: not JSON at byte %d: %v", se.Offset, se)
	}
	return "artifact: " + err.Error() // e.g. unexpected end of JSON input
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another value"
}
