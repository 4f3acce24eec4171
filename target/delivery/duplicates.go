package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
// encoding/json/v2 does by default.

// DuplicateNameError reports an object in a request that holds the same
// name twice. Request.UnmarshalJSON and UnmarshalRequestStrict return it;
// use errors.As to get the place.
type DuplicateNameError struct {
	// Path is where the object is: the dotted names and list indexes
	// from the top of the request ("execute.mboxes.0.parameters"), ""
	// for the request itself.
	Path string
	// Name is the name the object holds twice.
	Name string
	// Offset is the byte offset in the input just after the second
	// occurrence of the name.
	Offset int64
}

func (e *DuplicateNameError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("json: duplicate name %q in the request (offset %d)", e.Name, e.Offset)
	}
	return fmt.Sprintf("json: duplicate name %q in %s (offset %d)", e.Name, e.Path, e.Offset)
}

// findDuplicate returns the first object name held twice by an object in
// the JSON value b starts with, or nil. It scans the text without
// decoding it (a name is unescaped only when it holds an escape), so it
// costs no allocation beyond its stacks; b must hold valid JSON up to the
// end of the value (a text it cannot read is reported as no duplicate,
// and left to the decoder to refuse).
func findDuplicate(b []byte) *DuplicateNameError {
	s := dupScanner{b: b}
	s.value()
	return s.dup
}

type dupScanner struct {
	b     []byte
	i     int
	names [][]byte   // the names of the open objects, innermost last
	path  []pathElem // where the scan is
	dup   *DuplicateNameError
	bad   bool
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

// str scans a string at s.i and returns its text, unescaped.
func (s *dupScanner) str() []byte {
	start := s.i
	s.i++
	esc := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			esc = true
			s.i += 2
			continue
		case '"':
			s.i++
			if !esc {
				return s.b[start+1 : s.i-1]
			}
			var out string
			if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
				s.bad = true
				return nil
			}
			return []byte(out)
		}
		s.i++
	}
	s.bad = true
	return nil
}

func (s *dupScanner) value() {
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
			name := s.str()
			for _, n := range s.names[start:] {
				if bytes.Equal(n, name) {
					s.dup = &DuplicateNameError{Path: s.pathText(), Name: string(name), Offset: int64(s.i)}
					return
				}
			}
			s.names = append(s.names, name)
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			s.path = append(s.path, pathElem{name: name, index: -1})
			s.value()
			s.path = s.path[:len(s.path)-1]
		}
	case '[':
		s.i++
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
			s.value()
			s.path = s.path[:len(s.path)-1]
		}
	case '"':
		s.str()
	default:
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
	}
}

func (s *dupScanner) pathText() string {
	var b strings.Builder
	for i, e := range s.path {
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
