package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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
func (p *Parameters) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*p = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
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
		return fmt.Errorf("parameter %q: %w", bad, badErr)
	}
	*p = out
	return nil
}

// ErrParameterType is matched (errors.Is) by the error for a parameter
// value that is an array or an object.
var ErrParameterType = errors.New("a parameter value must be a string, number or boolean")

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
		return "", fmt.Errorf("%w, not %s", ErrParameterType, map[byte]string{'[': "an array", '{': "an object"}[v[0]])
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
