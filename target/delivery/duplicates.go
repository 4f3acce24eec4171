package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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

// decodeGeneric decodes one JSON value from b as a json.Decoder with
// UseNumber does (objects as map[string]any, numbers as json.Number),
// refusing an object that repeats a name. Text after the value is left
// alone, as Decoder.Decode leaves it.
func decodeGeneric(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return decodeValue(dec, "")
}

func decodeValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("json: object name expected at offset %d", dec.InputOffset())
				}
				if _, dup := m[k]; dup {
					return nil, &DuplicateNameError{Path: path, Name: k, Offset: dec.InputOffset()}
				}
				v, err := decodeValue(dec, childPath(path, k))
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return m, nil
		case '[':
			l := []any{}
			for i := 0; dec.More(); i++ {
				v, err := decodeValue(dec, childPath(path, strconv.Itoa(i)))
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("json: unexpected %q at offset %d", rune(d), dec.InputOffset())
	}
	return tok, nil
}

func childPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
