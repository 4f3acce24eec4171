package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// An empty string and a missing field mean different things to Adobe's
// engines: a request whose geo says "city": "" has geo data (so no lookup
// is made) and answers the response token geo.city with "". Geo keeps that
// distinction for the JSON it is read from and written to.

// geoFields is a set of Geo's string fields.
type geoFields uint8

const (
	geoCountryCode geoFields = 1 << iota
	geoStateCode
	geoCity
	geoZip
	geoIPAddress
)

var geoFieldNames = []struct {
	field geoFields
	name  string
}{
	{geoIPAddress, "ipAddress"}, {geoCountryCode, "countryCode"}, {geoStateCode, "stateCode"},
	{geoCity, "city"}, {geoZip, "zip"},
}

func (g *Geo) str(f geoFields) string {
	switch f {
	case geoCountryCode:
		return g.CountryCode
	case geoStateCode:
		return g.StateCode
	case geoCity:
		return g.City
	case geoZip:
		return g.Zip
	}
	return g.IPAddress
}

// Has reports whether the field with the given JSON name ("city",
// "countryCode", "latitude"...) is set: not empty (not nil for latitude
// and longitude), or read from JSON as "".
func (g *Geo) Has(name string) bool {
	if g == nil {
		return false
	}
	switch name {
	case "latitude", "longitude":
		_, _, _, ok := g.CoordinateParts(name)
		return ok
	}
	for _, f := range geoFieldNames {
		if f.name == name {
			return g.str(f.field) != "" || g.empty&f.field != 0
		}
	}
	return false
}

type geoJSON Geo

// coordinate reads a latitude or longitude: a JSON number, or a string,
// which Adobe's engines accept and give rules as it is (the geo service
// itself answers coordinates as strings). A string holding a decimal
// number also sets the float64; null or absent is nil.
func coordinate(name string, raw json.RawMessage) (*float64, *string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, nil, err
		}
		t := strings.TrimSpace(s)
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || !isDecimal(t) {
			return nil, &s, nil
		}
		return &f, &s, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil, nil, fmt.Errorf("geo %s: %w", name, err)
		}
		// A type error naming the field, as for Geo's other fields:
		// the decoder of the document puts the path in front of it
		// ("context.geo.latitude").
		return nil, nil, &json.UnmarshalTypeError{Value: te.Value, Type: te.Type, Offset: te.Offset, Struct: "Geo", Field: name}
	}
	return &f, nil, nil
}

// Coordinate is the latitude or longitude (name) as rules see it: the
// string it was read from JSON as, or the float64; ok is false when it is
// not given. Boxing the float64 allocates; CoordinateParts does not.
func (g *Geo) Coordinate(name string) (v any, ok bool) {
	f, text, isText, ok := g.CoordinateParts(name)
	switch {
	case isText:
		return text, true
	case ok:
		return f, true
	}
	return nil, false
}

// CoordinateParts is Coordinate without an interface: the coordinate is
// text when isText, else f; ok is false when it is not given.
func (g *Geo) CoordinateParts(name string) (f float64, text string, isText, ok bool) {
	if g == nil {
		return 0, "", false, false
	}
	fp, tp := g.Latitude, g.latitudeText
	if name == "longitude" {
		fp, tp = g.Longitude, g.longitudeText
	}
	switch {
	case tp != nil && (fp == nil || coordinateOf(*tp) == *fp):
		return 0, *tp, true, true
	case fp != nil:
		return *fp, "", false, true
	}
	return 0, "", false, false
}

// coordinateOf is the number a coordinate string holds (NaN when none).
func coordinateOf(s string) float64 {
	t := strings.TrimSpace(s)
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || !isDecimal(t) {
		return math.NaN()
	}
	return f
}

// isDecimal reports a decimal number as JSON writes one, with an optional
// leading '+' or '.' as JavaScript's Number() reads them: not hexadecimal,
// Infinity or the other spellings ParseFloat also takes.
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads a Geo, remembering which string fields were given
// empty.
func (g *Geo) UnmarshalJSON(b []byte) error {
	var v struct {
		geoJSON
		// Shallower than geoJSON's, so these are the ones filled.
		Latitude  json.RawMessage `json:"latitude"`
		Longitude json.RawMessage `json:"longitude"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return publicTypeError(err, geoType, reflect.TypeOf(v), "geoJSON.")
	}
	*g = Geo(v.geoJSON)
	var err error
	// A coordinate's error refers to its value: its offset is moved to
	// refer to b, as for the other fields.
	if g.Latitude, g.latitudeText, err = coordinate("latitude", v.Latitude); err != nil {
		at, _ := valueStart(b, "latitude")
		return shiftOffset(err, at)
	}
	if g.Longitude, g.longitudeText, err = coordinate("longitude", v.Longitude); err != nil {
		at, _ := valueStart(b, "longitude")
		return shiftOffset(err, at)
	}
	g.empty = 0
	if !bytes.Contains(b, []byte(`""`)) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range geoFieldNames {
		if r, ok := raw[f.name]; ok && string(bytes.TrimSpace(r)) == `""` {
			g.empty |= f.field
		}
	}
	return nil
}

// MarshalJSON writes a Geo, with the string fields it was read with as ""
// written as "".
func (g Geo) MarshalJSON() ([]byte, error) {
	// As delivery.Marshal, without HTML escaping: the outer encoder keeps
	// what this returns as it is.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// A coordinate read as a string is written as that string, as
	// Adobe's SDKs pass it on.
	lat, _ := g.Coordinate("latitude")
	lon, _ := g.Coordinate("longitude")
	_, latIsText := lat.(string)
	_, lonIsText := lon.(string)
	plain := geoJSON(g)
	if latIsText {
		plain.Latitude = nil
	}
	if lonIsText {
		plain.Longitude = nil
	}
	if err := enc.Encode(plain); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if g.empty == 0 && !latIsText && !lonIsText {
		return b, nil
	}
	b = b[:len(b)-1] // the closing brace
	for _, c := range []struct {
		name string
		text any
	}{{"latitude", lat}, {"longitude", lon}} {
		if s, ok := c.text.(string); ok {
			if len(b) > 1 {
				b = append(b, ',')
			}
			// appendString, not json.Marshal, which escapes HTML
			// ("<" as \u003c) where the rest of the object does not.
			b = appendString(append(b, `"`+c.name+`":`...), s)
		}
	}
	for _, f := range geoFieldNames {
		if g.empty&f.field != 0 && g.str(f.field) == "" {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, `"`+f.name+`":""`...)
		}
	}
	return append(b, '}'), nil
}
