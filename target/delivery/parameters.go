package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

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
// Of a name given twice, the last value is kept (encoding/json's rule for
// a map) and the offset is that value's.
//
// Decoding a Request puts the path from the request in front of Field
// (execute.mboxes.0.parameters.x, indexes included, in both builds) and
// makes the offset refer to the request's text; of several bad parameters
// objects, the first in the text the decoder reads is named (not one in a
// value it skips, such as an array where an mbox belongs). A Request
// decoded as a field of the caller's own struct keeps that path from the
// request for a bad parameter, in both builds; the default encoding/json
// puts the path to the request in front of the Field of parameters that
// are not an object (req.execute.mboxes.0.parameters), as of any
// *json.UnmarshalTypeError the Request returns itself, but cannot reach
// the one a bad parameter's error wraps, and GOEXPERIMENT=jsonv2 adds it
// to neither.
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
			// The value's offset, moved to refer to b: of a name
			// given twice, the last value's, which the map kept.
			pe.typeErr.Offset += lastValueStart(b, bad)
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

// lastValueStart returns the offset in b, a JSON object, of the value of
// the last member named name (encoding/json keeps the last of a name given
// twice); 0 when there is none. It runs on the error path only.
func lastValueStart(b []byte, name string) int64 {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	var at int64
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			break
		}
		start := dec.InputOffset()
		for start < int64(len(b)) && strings.IndexByte(" \t\r\n:", b[start]) >= 0 {
			start++
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
		if k == name {
			at = start
		}
	}
	return at
}

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
// and its Offset moved to refer to b; any other error (nil included) as it
// is, without allocating. Neither build of encoding/json can: the default
// one writes the path without indexes (and with the embedded
// RequestDetails) and leaves the offset referring to the parameters,
// GOEXPERIMENT=jsonv2 writes neither.
//
// b is read again, on this error path only, along the Request's types as
// the decoder reads it (parametersFinder), for the first Parameters value
// in b that Parameters.UnmarshalJSON refuses: the one the decoder refused.
// An UnmarshalJSON error ends the default decoder at once, and jsonv2 reports
// its first error, so no earlier Parameters it reached was refused. b
// may also be another text than the one decoded: the caller's, when the
// lenient reader decoded it again without the names that match a field
// only in another case (in another order of names); those names are no
// field, so the finder skips them as the decoder never saw them.
func placeParameterError(b []byte, err error) error {
	if err == nil || !isParametersError(err) {
		return err
	}
	f := parametersFinder{b: b, dec: json.NewDecoder(bytes.NewReader(b))}
	if found := f.value(requestType); found != nil {
		return found
	}
	return err
}

// isParametersError reports whether err is, or wraps, the error of a
// Parameters value. It unwraps by hand, where errors.As would move its
// target to the heap: it runs on every decode.
func isParametersError(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *parameterTypeError:
			return true
		case *json.UnmarshalTypeError:
			return e.Type == parametersType
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return false
		}
	}
	return false
}

// parametersFinder walks a Request's text along the Go types it decodes
// into, for the first Parameters value that does not decode. It goes only
// where the decoder goes: into the value of a name that is a field of the
// struct (exactly: the readers drop or refuse the others), an array where
// a slice belongs, an object where a struct or a map belongs; a value of
// another kind (an array where an mbox belongs) the decoder refuses and
// skips, and so does the finder, so it never names parameters the decoder
// did not read. The names and indexes on the way are kept as a stack and
// written as a path only for the value found: reading costs time and
// memory linear in the text's length, whatever its nesting.
type parametersFinder struct {
	b    []byte
	dec  *json.Decoder
	path []pathStep
	// stop is set when the text cannot be read further (it is not JSON):
	// the walk ends, finding nothing.
	stop bool
}

// pathStep is a name in an object, or an index in an array when index
// is not -1.
type pathStep struct {
	name  string
	index int
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value reads the next value, of Go type t, and returns the error of the
// first Parameters in it that do not decode, placed (nil when there is
// none, or the text is not JSON).
func (f *parametersFinder) value(t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	start := f.dec.InputOffset()
	for start < int64(len(f.b)) && strings.IndexByte(" \t\r\n:,", f.b[start]) >= 0 {
		start++
	}
	if start >= int64(len(f.b)) {
		f.stop = true
		return nil
	}
	if t == parametersType {
		var raw json.RawMessage
		if f.dec.Decode(&raw) != nil {
			f.stop = true
			return nil
		}
		var p Parameters
		if err := p.UnmarshalJSON(raw); err != nil {
			return f.placed(err, start)
		}
		return nil
	}
	// A type with its own UnmarshalJSON (Geo, ClientHints) is given its
	// value whole: the decoder does not walk it. The Request is walked
	// through its stand-in, which has none.
	own := t != requestType && reflect.PointerTo(t).Implements(unmarshalerType)
	switch c := f.b[start]; {
	case c == '{' && !own && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map && t.Key().Kind() == reflect.String):
		f.token() // '{'
		for !f.stop && f.dec.More() {
			k, err := f.dec.Token()
			name, ok := k.(string)
			if err != nil || !ok {
				f.stop = true
				return nil
			}
			var et reflect.Type
			if t.Kind() == reflect.Map {
				et = t.Elem()
			} else {
				et = jsonFields(t).exact[name]
			}
			if et == nil {
				f.skip() // no field: the decoder skips it too
				continue
			}
			f.path = append(f.path, pathStep{name: name, index: -1})
			found := f.value(et)
			f.path = f.path[:len(f.path)-1]
			if found != nil {
				return found
			}
		}
		f.token() // '}'
	case c == '[' && !own && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		f.token() // '['
		for i := 0; !f.stop && f.dec.More(); i++ {
			if t.Kind() == reflect.Array && i >= t.Len() {
				f.skip() // past a Go array's end, skipped by the decoder
				continue
			}
			f.path = append(f.path, pathStep{index: i})
			found := f.value(t.Elem())
			f.path = f.path[:len(f.path)-1]
			if found != nil {
				return found
			}
		}
		f.token() // ']'
	default:
		f.skip()
	}
	return nil
}

// token reads a delimiter.
func (f *parametersFinder) token() {
	if f.stop {
		return
	}
	if _, err := f.dec.Token(); err != nil {
		f.stop = true
	}
}

// skip reads a value the decoder does not walk.
func (f *parametersFinder) skip() {
	var raw json.RawMessage
	if f.dec.Decode(&raw) != nil {
		f.stop = true
	}
}

// placed returns err, the error of the Parameters whose value starts at
// offset start of the text, at the finder's path, with the path in front
// of its Field and start added to its Offset.
func (f *parametersFinder) placed(err error, start int64) error {
	var sb strings.Builder
	for i, s := range f.path {
		if i > 0 {
			sb.WriteByte('.')
		}
		if s.index >= 0 {
			sb.WriteString(strconv.Itoa(s.index))
		} else {
			sb.WriteString(s.name)
		}
	}
	path := sb.String()
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
