package delivery

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// A platform client hint given as "" is a platform to Adobe's engines: the
// rule context's user.platform is "" and the user agent is not read. Only
// an absent hint falls back to the user agent. ClientHints keeps that
// distinction for the JSON it is read from and written to, as Geo does for
// its fields.

// HasPlatform reports whether the platform hint is given: not empty, or
// read from JSON as "".
func (h *ClientHints) HasPlatform() bool {
	return h != nil && (h.Platform != "" || h.emptyPlatform)
}

type clientHintsJSON ClientHints

// UnmarshalJSON reads ClientHints, remembering a platform given as "".
func (h *ClientHints) UnmarshalJSON(b []byte) error {
	var v clientHintsJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return publicTypeError(err, clientHintsType, reflect.TypeOf(v), "")
	}
	*h = ClientHints(v)
	h.emptyPlatform = false
	if h.Platform != "" || !bytes.Contains(b, []byte(`""`)) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if r, ok := raw["platform"]; ok && string(bytes.TrimSpace(r)) == `""` {
		h.emptyPlatform = true
	}
	return nil
}

// MarshalJSON writes ClientHints, with a platform read as "" written as "".
func (h ClientHints) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clientHintsJSON(h)); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if !h.emptyPlatform || h.Platform != "" {
		return b, nil
	}
	b = b[:len(b)-1] // the closing brace
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(b, `"platform":""}`...), nil
}
