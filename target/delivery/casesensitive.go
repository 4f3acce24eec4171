package delivery

import (
	"bytes"
	"encoding/json"
	"reflect"
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
// another case (as Adobe's SDKs do).
func (r *Request) UnmarshalJSON(b []byte) error {
	type request Request
	return unmarshalCaseSensitive(b, (*request)(r))
}

func unmarshalCaseSensitive(b []byte, v any) error {
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		// Let encoding/json report the error as it would.
		return json.Unmarshal(b, v)
	}
	if dropMiscased(generic, reflect.TypeOf(v)) {
		var err error
		if b, err = json.Marshal(generic); err != nil {
			return err
		}
	}
	return json.Unmarshal(b, v)
}

// dropMiscased walks v, decoded from JSON, along the Go type t it is to
// be decoded into, and deletes the object names that match a field of a
// struct only in another case. It reports whether it deleted any.
func dropMiscased(v any, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	changed := false
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		fields := jsonFields(t)
		for k, e := range m {
			if ft, ok := fields.exact[k]; ok {
				changed = dropMiscased(e, ft) || changed
				continue
			}
			if fields.matchesFolded(k) {
				delete(m, k)
				changed = true
			}
		}
	case reflect.Slice, reflect.Array:
		if l, ok := v.([]any); ok {
			for _, e := range l {
				changed = dropMiscased(e, t.Elem()) || changed
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for _, e := range m {
				changed = dropMiscased(e, t.Elem()) || changed
			}
		}
	}
	return changed
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
