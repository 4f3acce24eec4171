package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// A JSON object may repeat a name (RFC 8259 section 4: "the names within
// an object SHOULD be unique"), and readers then disagree about what it
// means: encoding/json merges two "context" objects field by field into
// one struct (and keeps the last value of a map entry), JavaScript's
// JSON.parse, which Adobe's SDKs use, keeps the last value whole. Either
// way one of the values is lost without a word, and which one depends on
// the reader, so the same request would decide differently here and in
// Adobe's engine. A Request is therefore refused when any object in it
// repeats a name, with a *DuplicateNameError naming the place, as
// encoding/json/v2 does by default. Names are compared as encoding/json
// reads them: escapes undone, and each byte that is not UTF-8 read as
// U+FFFD, so "\xff" and "\ufffd" are the same name.

// DuplicateNameError reports an object in a request that holds the same
// name twice. Request.UnmarshalJSON and UnmarshalRequestStrict return it;
// use errors.As to get the place.
//
// A duplicate inside a value the models hold as text or a number (a
// parameter's value, a visitor id, a token: the secret slots) is
// reported without what the value holds: Path ends at the slot and Name
// is "". Such a value is refused anyway (it is no string), and its
// contents are the visitor's, which errors never show.
type DuplicateNameError struct {
	// Path is where the object is: the dotted names and list indexes
	// from the top of the request ("execute.mboxes.0.parameters"), ""
	// for the request itself. For a duplicate inside a value held as
	// text, it is the path of that value ("execute.mboxes.0.parameters.pw").
	Path string
	// Name is the name the object holds twice, as encoding/json reads it;
	// "" when the object is inside a value held as text (see above), as
	// well as for a repeated empty name.
	Name string
	// Offset is the byte offset just after the second occurrence of the
	// name. Offset and Path are relative to the Request's own JSON: when
	// the Request is a member of a larger document decoded by
	// json.Unmarshal, they count from the start of the Request's value,
	// not from the start of the document.
	Offset int64

	inValue bool // the object is inside a value held as text: Name is withheld
}

func (e *DuplicateNameError) Error() string {
	if e.inValue {
		return fmt.Sprintf("json: duplicate name in an object given as the value of %s (offset %d)", e.Path, e.Offset)
	}
	if e.Path == "" {
		return fmt.Sprintf("json: duplicate name %q in the request (offset %d)", e.Name, e.Offset)
	}
	return fmt.Sprintf("json: duplicate name %q in %s (offset %d)", e.Name, e.Path, e.Offset)
}

// linearNames is how many names of one object are compared one by one
// with each new name; past it, the object's names go into a set, so that
// an object of n names costs O(n), not O(n²) (10,000 parameters cost the
// linear scan 15.6 times the decode itself). Below it a set costs more
// than the comparisons: most objects in a request hold a few names.
const linearNames = 16

// findDuplicate returns the first object name held twice by an object in
// the JSON value b starts with, or nil. t is the Go type the value is
// decoded into: a duplicate inside a value it holds as text is reported
// without the value's contents. It scans the text without decoding it (a
// name is unescaped only when it holds an escape or is not UTF-8), so it
// costs no allocation beyond its stacks for the common request; b must
// hold valid JSON up to the end of the value (a text it cannot read is
// reported as no duplicate, and left to the decoder to refuse).
func findDuplicate(b []byte, t reflect.Type) *DuplicateNameError {
	s := dupScanner{b: b, secretAt: -1}
	s.value(t)
	return s.dup
}

type dupScanner struct {
	b     []byte
	i     int
	names [][]byte   // the names of the open objects, innermost last
	path  []pathElem // where the scan is
	dup   *DuplicateNameError
	bad   bool
	// secretAt is the length of path at the first value the models hold
	// as text (or a number, or anything but an object or a list), -1
	// when the scan is not inside one.
	secretAt int
}

type pathElem struct {
	name  []byte
	index int // -1 for an object's member
}

func (s *dupScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// skipStr moves past the string at s.i without reading it: a string
// value's contents do not matter to the scan.
func (s *dupScanner) skipStr() {
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return
		}
		s.i++
	}
	s.bad = true
}

// name scans the object name at s.i and returns it as encoding/json reads
// it: unescaped, each byte that is not UTF-8 replaced by U+FFFD. An ASCII
// name without escapes, the common one, is returned in place.
func (s *dupScanner) name() []byte {
	start := s.i
	s.i++
	esc, ascii := false, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '\\':
			esc = true
			s.i += 2
			continue
		case c == '"':
			s.i++
			raw := s.b[start+1 : s.i-1]
			switch {
			case esc:
				// encoding/json undoes escapes and replaces bad UTF-8
				// (and lone surrogates) in one step.
				var out string
				if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
					s.bad = true
					return nil
				}
				return []byte(out)
			case ascii || utf8.Valid(raw):
				return raw
			}
			return toJSONUTF8(raw)
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	s.bad = true
	return nil
}

// toJSONUTF8 is b with each byte that does not begin a valid UTF-8
// sequence replaced by U+FFFD, as encoding/json reads it
// (bytes.ToValidUTF8 replaces a run of them by one, which is another
// name).
func toJSONUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[n:]
	}
	return out
}

// anyType stands for a value the models do not describe (under a name no
// field has): it may hold anything, and nothing in it is taken as text.
var anyType = reflect.TypeFor[any]()

// member is the type of the value under name in an object of type t (nil
// when t holds no object).
func member(t reflect.Type, name []byte) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return nil
	case t.Kind() == reflect.Struct:
		// The index does not allocate: the compiler converts the
		// []byte in place for a map lookup.
		f := jsonFields(t)
		if ft, ok := f.exact[string(name)]; ok {
			return ft
		}
		// A name in another case is dropped before decoding, but what it
		// holds is what the field would hold ("Parameters" holds
		// parameters); a name no field has is read as anything.
		for _, n := range f.names {
			if strings.EqualFold(n, unsafe.String(unsafe.SliceData(name), len(name))) {
				return f.exact[n]
			}
		}
		return anyType
	case t.Kind() == reflect.Map:
		return t.Elem()
	case t.Kind() == reflect.Interface:
		return t
	}
	return nil
}

// element is the type of a list's elements in a value of type t (nil when
// t holds no list).
func element(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return nil
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return t.Elem()
	case t.Kind() == reflect.Interface:
		return t
	}
	return nil
}

// holdsText reports whether a value of type t is read as text (or a
// number, a boolean): an object given there is no part of the model, and
// what it holds may be the visitor's (a parameter value, an id). t is nil
// inside such a value.
func holdsText(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		return false
	}
	return true
}

func (s *dupScanner) value(t reflect.Type) {
	s.ws()
	if s.i >= len(s.b) {
		s.bad = true
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		start := len(s.names)
		defer func() { s.names = s.names[:start] }()
		// set holds the object's names once it has more than
		// linearNames of them; its keys alias the names' bytes, which
		// stay unchanged until the scan returns, and it does not outlive
		// the scan.
		var set map[string]struct{}
		for !s.bad && s.dup == nil {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				return
			}
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				s.ws()
			}
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				s.bad = true
				return
			}
			name := s.name()
			if s.bad {
				return
			}
			if s.seen(name, start, &set) {
				s.dup = s.duplicate(name)
				return
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			s.path = append(s.path, pathElem{name: name, index: -1})
			mt := member(t, name)
			if s.secretAt < 0 && holdsText(mt) {
				s.secretAt = len(s.path)
				s.value(nil)
				s.secretAt = -1
			} else {
				s.value(mt)
			}
			s.path = s.path[:len(s.path)-1]
		}
	case '[':
		s.i++
		et := element(t)
		for n := 0; !s.bad && s.dup == nil; n++ {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return
			}
			if n > 0 {
				if s.i >= len(s.b) || s.b[s.i] != ',' {
					s.bad = true
					return
				}
				s.i++
			}
			s.path = append(s.path, pathElem{index: n})
			if s.secretAt < 0 && holdsText(et) {
				s.secretAt = len(s.path)
				s.value(nil)
				s.secretAt = -1
			} else {
				s.value(et)
			}
			s.path = s.path[:len(s.path)-1]
		}
	case '"':
		s.skipStr()
	default:
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
	}
}

// seen reports whether the object whose names begin at s.names[start]
// already holds name, and adds it. Past linearNames names it keeps them
// in *set as well.
func (s *dupScanner) seen(name []byte, start int, set *map[string]struct{}) bool {
	key := unsafe.String(unsafe.SliceData(name), len(name))
	if *set != nil {
		if _, ok := (*set)[key]; ok {
			return true
		}
		(*set)[key] = struct{}{}
		return false
	}
	for _, n := range s.names[start:] {
		if bytes.Equal(n, name) {
			return true
		}
	}
	s.names = append(s.names, name)
	if len(s.names)-start > linearNames {
		*set = make(map[string]struct{}, 2*linearNames)
		for _, n := range s.names[start:] {
			(*set)[unsafe.String(unsafe.SliceData(n), len(n))] = struct{}{}
		}
	}
	return false
}

// duplicate is the error for name, found twice in the object at s.path.
func (s *dupScanner) duplicate(name []byte) *DuplicateNameError {
	if s.secretAt >= 0 {
		return &DuplicateNameError{Path: pathText(s.path[:s.secretAt]), Offset: int64(s.i), inValue: true}
	}
	return &DuplicateNameError{Path: pathText(s.path), Name: string(name), Offset: int64(s.i)}
}

func pathText(path []pathElem) string {
	var b strings.Builder
	for i, e := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if e.index >= 0 {
			b.WriteString(strconv.Itoa(e.index))
		} else {
			b.Write(e.name)
		}
	}
	return b.String()
}
