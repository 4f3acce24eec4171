package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// Parameters are mbox or profile parameters: names and values, both
// strings, as the Delivery API defines them. Adobe's own SDKs and their
// conformance suite also send numbers and booleans ("browserWidth": 1024);
// those are accepted and kept as the strings JavaScript's String() makes
// of them ("1024", "true", "1e+21"), which is what the edge and Adobe's
// engines compare. JSON null reads as "" (as for any string field); an
// array or object is an error naming the parameter.
type Parameters map[string]string

// UnmarshalJSON reads a JSON object of strings, numbers and booleans.
//
// A value that is not an object is refused with a *json.UnmarshalTypeError
// of Type Parameters; a parameter that is an array or an object, with an
// error that matches ErrParameterType (errors.Is) and is a
// *json.UnmarshalTypeError (errors.As) whose Field is the parameter's name
// (of several, the first in byte order). Offsets refer to b, as
// encoding/json puts them in each build: just past the offending literal
// or opening bracket by default, at its start under GOEXPERIMENT=jsonv2.
// Decoding a Request puts the path from the request in front of Field
// (execute.mboxes.0.parameters.x, indexes included, in both builds) and
// makes the offset refer to the request's text.
func (p *Parameters) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*p = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return err
		}
		// Parameters, not the map it is read through.
		return &json.UnmarshalTypeError{Value: te.Value, Type: parametersType, Offset: te.Offset}
	}
	out := make(Parameters, len(raw))
	var bad string
	var badErr error
	for k, v := range raw {
		s, err := parameterString(v)
		if err != nil {
			// Of several bad values, always name the same one.
			if badErr == nil || k < bad {
				bad, badErr = k, err
			}
			continue
		}
		out[k] = s
	}
	if badErr != nil {
		if pe, ok := badErr.(*parameterTypeError); ok {
			// The value's offset, moved to refer to b.
			at, _ := valueStart(b, bad)
			pe.typeErr.Offset += at
			pe.typeErr.Field = bad
			pe.name = bad
			return pe
		}
		return fmt.Errorf("parameter %q: %w", bad, badErr)
	}
	*p = out
	return nil
}

var parametersType = reflect.TypeFor[Parameters]()

// ErrParameterType is matched (errors.Is) by the error for a parameter
// value that is an array or an object.
var ErrParameterType = errors.New("a parameter value must be a string, number or boolean")

// parameterTypeError is the error for a parameter value that is an array
// or an object: ErrParameterType, and the *json.UnmarshalTypeError that
// names the parameter and where its value is.
type parameterTypeError struct {
	// typeErr's Field is the parameter's name, with the path to the
	// parameters in front of it in a Request (placeParameterError).
	typeErr json.UnmarshalTypeError
	name    string
	// at is the path to the parameters in a Request; "" when they were
	// decoded on their own.
	at string
}

func (e *parameterTypeError) Error() string {
	msg := fmt.Sprintf("parameter %q: %v, not an %s", e.name, ErrParameterType, e.typeErr.Value)
	if e.at != "" {
		return e.at + ": " + msg
	}
	return msg
}

// Unwrap makes the error match ErrParameterType (errors.Is) and
// *json.UnmarshalTypeError (errors.As).
func (e *parameterTypeError) Unwrap() []error { return []error{ErrParameterType, &e.typeErr} }

func parameterString(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", ErrParameterType
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	case 'n':
		return "", nil
	case '[', '{':
		// The type error encoding/json makes for it, for its Value and
		// its Offset (past the bracket or at it, as in each build).
		var s string
		var te *json.UnmarshalTypeError
		if !errors.As(json.Unmarshal(v, &s), &te) {
			te = &json.UnmarshalTypeError{Value: map[byte]string{'[': "array", '{': "object"}[v[0]], Type: reflect.TypeFor[string]()}
		}
		return "", &parameterTypeError{typeErr: json.UnmarshalTypeError{Value: te.Value, Type: te.Type, Offset: te.Offset}}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		// Out of float64's range: JavaScript reads it as Infinity.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return "", fmt.Errorf("%w: %s", ErrParameterType, v)
		}
	}
	return jsonlogic.NumberString(f), nil
}

// placeParameterError returns err, when it is the error of a Parameters
// value in b (a Request's text), with the path from the request to the
// value in front of its Field (indexes included: execute.mboxes.0.parameters)
// and its Offset moved to refer to b; any other error as it is. Neither
// build of encoding/json can: the default one writes the path without
// indexes (and with the embedded RequestDetails) and leaves the offset
// referring to the parameters, GOEXPERIMENT=jsonv2 writes neither. The
// decoder stops at (or keeps) the first error in document order, so the
// value is the first parameters in b that Parameters.UnmarshalJSON
// refuses; b is read again to find it only when there is such an error.
func placeParameterError(b []byte, err error) error {
	var pe *parameterTypeError
	var te *json.UnmarshalTypeError
	if !errors.As(err, &pe) && !(errors.As(err, &te) && te.Type == parametersType) {
		return err
	}
	f := parametersFinder{b: b, dec: json.NewDecoder(bytes.NewReader(b)), paths: parametersPaths()}
	if found := f.value("", ""); found != nil {
		return found
	}
	return err
}

// replaceParameterError returns err, when placeParameterError placed it in
// another text than the caller's orig (the request read again without the
// names that match a field only in another case), placed in orig: the
// parameters at the same path, which the other text holds in another
// order of names. Any other error is returned as it is.
func replaceParameterError(orig []byte, err error) error {
	var want string
	var pe *parameterTypeError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &pe) && pe.at != "":
		want = pe.at
	case errors.As(err, &te) && te.Type == parametersType && te.Struct != "":
		want = te.Field
	default:
		return err
	}
	f := parametersFinder{b: orig, dec: json.NewDecoder(bytes.NewReader(orig)), paths: parametersPaths(), want: want}
	if found := f.value("", ""); found != nil {
		return found
	}
	return err
}

// parametersFinder walks a Request's text for the first Parameters value
// that does not decode.
type parametersFinder struct {
	b     []byte
	dec   *json.Decoder
	paths map[string]bool
	// want, when set, is the only path (with indexes) looked at.
	want string
}

// value reads the next value, at path (JSON names, without indexes) and
// at (with them), and returns the error of the first parameters in it
// that do not decode, placed (nil when there is none, or b is not JSON).
func (f *parametersFinder) value(path, at string) error {
	t, err := f.dec.Token()
	if err != nil {
		return nil
	}
	switch t {
	case json.Delim('{'):
		for f.dec.More() {
			k, err := f.dec.Token()
			name, ok := k.(string)
			if err != nil || !ok {
				return nil
			}
			kPath, kAt := joinPath(path, name), joinPath(at, name)
			if !f.paths[kPath] || f.want != "" && kAt != f.want {
				if found := f.value(kPath, kAt); found != nil {
					return found
				}
				continue
			}
			start := f.dec.InputOffset()
			for start < int64(len(f.b)) && strings.IndexByte(" \t\r\n:", f.b[start]) >= 0 {
				start++
			}
			var raw json.RawMessage
			if f.dec.Decode(&raw) != nil {
				return nil
			}
			var p Parameters
			if err := p.UnmarshalJSON(raw); err != nil {
				return placed(err, kAt, start)
			}
		}
		_, _ = f.dec.Token() // '}'
	case json.Delim('['):
		for i := 0; f.dec.More(); i++ {
			if found := f.value(path, joinPath(at, strconv.Itoa(i))); found != nil {
				return found
			}
		}
		_, _ = f.dec.Token() // ']'
	}
	return nil
}

// placed returns err, the error of the Parameters at path whose value
// starts at offset start of a Request's text, with the path in front of
// its Field and start added to its Offset.
func placed(err error, path string, start int64) error {
	switch e := err.(type) {
	case *parameterTypeError:
		out := *e
		out.at = path
		out.typeErr.Struct = requestType.Name()
		out.typeErr.Field = path + "." + e.typeErr.Field
		out.typeErr.Offset += start
		return &out
	case *json.UnmarshalTypeError:
		out := *e
		out.Struct = requestType.Name()
		out.Field = path
		out.Offset += start
		return &out
	}
	return err
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// parametersPaths are the paths (JSON names, without indexes) at which a
// Request holds Parameters: execute.mboxes.parameters and the like.
var parametersPaths = sync.OnceValue(func() map[string]bool {
	paths := map[string]bool{}
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 10 {
			return
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if tag == "-" || !sf.IsExported() && !sf.Anonymous {
				continue
			}
			if sf.Anonymous && tag == "" {
				walk(sf.Type, prefix, depth+1) // its fields are the outer struct's
				continue
			}
			if tag == "" {
				tag = sf.Name
			}
			if sf.Type == parametersType {
				paths[prefix+tag] = true
				continue
			}
			walk(sf.Type, prefix+tag+".", depth+1)
		}
	}
	walk(requestType, "", 0)
	return paths
})
