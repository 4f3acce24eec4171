package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// encoding/json matches an object's names to struct fields without regard
// to case: "Parameters" fills Parameters and "CITY" fills City. Adobe's
// SDKs read the request as JavaScript objects, where "Parameters" is not
// "parameters" and is ignored; a request must mean the same to this client
// as to them, so decisions do not change with the case of a name. A
// Request is therefore read case-sensitively: a name that matches a field
// only in another case is dropped before decoding.

// UnmarshalJSON reads a Request, ignoring names that match a field only in
// another case (as Adobe's SDKs do). An object that holds a name twice
// (two "context" objects, a parameter given twice) is refused with a
// *DuplicateNameError naming it, rather than merged or read last-wins: one
// of the values would be lost without a word (see DuplicateNameError).
func (r *Request) UnmarshalJSON(b []byte) error {
	type request Request
	return unmarshalCaseSensitive(b, (*request)(r), false)
}

// UnmarshalRequestStrict reads a Request from b as its UnmarshalJSON does,
// but refuses a name that is no field of the models, in any case (a name
// in another case, such as "Parameters", is unknown to Adobe's SDKs too),
// with an error naming it, as a json.Decoder with DisallowUnknownFields
// would. A Decoder's settings do not reach a type's UnmarshalJSON, so
// decoding a Request with such a Decoder does not refuse unknown names:
// use this to check a request against the models. A name held twice by an
// object is refused as UnmarshalJSON refuses it. Error offsets refer to b.
// A text that is not one JSON value (trailing text included) is refused
// with encoding/json's syntax error, before any duplicate name.
func UnmarshalRequestStrict(b []byte, r *Request) error {
	type request Request
	return unmarshalCaseSensitive(b, (*request)(r), true)
}

func unmarshalCaseSensitive(b []byte, v any, strict bool) error {
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil || !onlySpace(b[dec.InputOffset():]) {
		// Let encoding/json report the error as it would: a syntax
		// error, text after the value included, comes before any
		// duplicate name (json.Unmarshal checks the whole text before
		// UnmarshalJSON sees it; UnmarshalRequestStrict must as well).
		return unmarshalModels(b, v)
	}
	if dup := findDuplicate(b, reflect.TypeOf(v)); dup != nil {
		return dup
	}
	w := miscaseWalk{strict: strict}
	w.walk(generic, reflect.TypeOf(v), "")
	if strict {
		if len(w.unknown) > 0 {
			slices.Sort(w.unknown)
			return fmt.Errorf("json: unknown field %q", w.unknown[0])
		}
		// Nothing was dropped: b itself is decoded, so error offsets are
		// b's.
		return publicTypeError(unmarshalModels(b, v), requestType, reflect.TypeOf(v).Elem(), "")
	}
	if len(w.dropped) > 0 {
		orig := b
		var err error
		if b, err = json.Marshal(generic); err != nil {
			return err
		}
		// The offsets of b's errors refer to b, and of several bad
		// parameters b's first in its order of names is named; a
		// parameter's error is placed again in orig, at the first bad
		// parameters in the caller's text.
		return publicTypeError(placeParameterError(orig, unmarshalModels(b, v)), requestType, reflect.TypeOf(v).Elem(), "")
	}
	return publicTypeError(unmarshalModels(b, v), requestType, reflect.TypeOf(v).Elem(), "")
}

// onlySpace reports whether b is JSON white space only.
func onlySpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

var (
	requestType     = reflect.TypeFor[Request]()
	geoType         = reflect.TypeFor[Geo]()
	clientHintsType = reflect.TypeFor[ClientHints]()
)

// publicTypeError names the exported type public in a type error from
// decoding into standIn, one of the package's unexported stand-ins for it
// (which exist to decode without the type's own UnmarshalJSON): the
// stand-in's name means nothing to the caller, as its Struct (when it is
// the struct named) or its Type (when the value was not an object at
// all, such as "geo": 5). embedded is the prefix of Field that names a
// stand-in embedded in standIn. The error stays a *json.UnmarshalTypeError.
func publicTypeError(err error, public, standIn reflect.Type, embedded string) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || (te.Struct == "" || token.IsExported(te.Struct)) && (embedded == "" || !strings.HasPrefix(te.Field, embedded)) && te.Type != standIn {
		return err
	}
	out := *te
	if out.Struct != "" && !token.IsExported(out.Struct) {
		out.Struct = public.Name()
	}
	if out.Type == standIn {
		out.Type = public
	}
	out.Field = strings.TrimPrefix(out.Field, embedded)
	return &out
}

// valueStart returns the offset in b, a JSON object, of the value at path
// (names of nested objects); ok is false when there is none. It is for
// the offset of a type error made by a type's own UnmarshalJSON, which
// refers to the value that method was given: it only runs on that error.
func valueStart(b []byte, path ...string) (offset int64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	for _, name := range path {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return 0, false
		}
		for {
			if !dec.More() {
				return 0, false
			}
			k, err := dec.Token()
			if err != nil {
				return 0, false
			}
			if k == name {
				break
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return 0, false
			}
		}
	}
	// After the name: the white space and colon before its value.
	offset = dec.InputOffset()
	for offset < int64(len(b)) && strings.IndexByte(" \t\r\n:", b[offset]) >= 0 {
		offset++
	}
	return offset, offset < int64(len(b))
}

// shiftOffset returns err, when it is a *json.UnmarshalTypeError, with by
// added to its Offset: a copy, the error being another decoder's.
func shiftOffset(err error, by int64) error {
	te, ok := err.(*json.UnmarshalTypeError)
	if !ok || by == 0 {
		return err
	}
	out := *te
	out.Offset += by
	return &out
}

// miscaseWalk walks a value decoded from JSON along the Go type it is to
// be decoded into, and deletes the object names that match a field of a
// struct only in another case, adding each to dropped. When strict, it
// also lists in unknown, by their path, the names of an object that are
// no field of its struct in any case: the types' own UnmarshalJSON
// methods (Geo, ClientHints) decode with json.Unmarshal, which ignores
// them, so the check is made here for every struct at once.
type miscaseWalk struct {
	strict           bool
	dropped, unknown []string
}

func (w *miscaseWalk) walk(v any, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for k, e := range m {
			if ft, ok := fields.exact[k]; ok {
				w.walk(e, ft, w.child(path, k))
				continue
			}
			if fields.matchesFolded(k) {
				delete(m, k)
				w.dropped = append(w.dropped, k)
			}
			if w.strict {
				w.unknown = append(w.unknown, path+k)
			}
		}
	case reflect.Slice, reflect.Array:
		if l, ok := v.([]any); ok {
			for i, e := range l {
				w.walk(e, t.Elem(), w.child(path, strconv.Itoa(i)))
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				w.walk(e, t.Elem(), w.child(path, k))
			}
		}
	}
}

type fieldSet struct {
	exact map[string]reflect.Type
	names []string
}

// matchesFolded is encoding/json's case-insensitive match (Unicode simple
// folding: the Kelvin sign is a k, the long s an s).
func (f *fieldSet) matchesFolded(k string) bool {
	for _, n := range f.names {
		if strings.EqualFold(n, k) {
			return true
		}
	}
	return false
}

var fieldCache sync.Map // reflect.Type → *fieldSet

// jsonFields are the JSON names of a struct's fields, promoted ones
// included, as encoding/json sees them.
func jsonFields(t reflect.Type) *fieldSet {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*fieldSet)
	}
	f := &fieldSet{exact: map[string]reflect.Type{}}
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || sf.Anonymous && sf.Tag.Get("json") == "" {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.exact[name]; dup {
			continue
		}
		f.exact[name] = sf.Type
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}

// child is the path of name under path, built only when it can be
// reported.
func (w *miscaseWalk) child(path, name string) string {
	if !w.strict {
		return ""
	}
	return path + name + "."
}
