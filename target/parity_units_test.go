package target

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSToLower(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ABC":           "abc",
		"İstanbul":      "i\u0307stanbul",
		"ΟΔΟΣ":          "οδος",
		"ΟΔΟΣ ΑΣ":       "οδος ας",
		"Σ":             "σ",
		"ΑΣ.":           "ας.",
		"ΑΣ'Α":          "ασ'α",
		"straße":        "straße",
		"CAFÉ":          "café",
		"\u212a":        "k",
		"mixed İ and Σ": "mixed i\u0307 and σ",
	} {
		assert.Equal(t, want, jsToLower(in), in)
	}
}

func TestValidIPAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"203.0.113.7": true, " 203.0.113.7 ": true, "0.0.0.0": true, "255.255.255.255": true,
		"256.1.1.1": false, "01.2.3.4": false, "1.2.3": false, "1.2.3.4.5": false, "": false,
		"2001:db8::7": true, "::1": true, "::": true, "fe80::1%eth0": true, "fe80::1%": false,
		"1.2.3.4%eth0": false, "::ffff:1.2.3.4": true, "not-an-ip": false, "unknownIpAddress": false,
		"2001:db8::7::1": false, "12345::": false,
	} {
		assert.Equal(t, want, validIPAddress(in), "%q", in)
	}
}

func TestParametersFromJSON(t *testing.T) {
	t.Parallel()
	var p Parameters
	require.NoError(t, json.Unmarshal([]byte(`{"s":"x","n":1024,"f":0.000001,"big":1e21,"neg":-0,"t":true,"b":false,"z":null}`), &p))
	assert.Equal(t, Parameters{"s": "x", "n": "1024", "f": "0.000001", "big": "1e+21", "neg": "0", "t": "true", "b": "false", "z": ""}, p)

	err := json.Unmarshal([]byte(`{"ok":"x","b":[1],"a":{"k":1}}`), &p)
	require.ErrorIs(t, err, ErrParameterType)
	assert.Contains(t, err.Error(), `parameter "a"`, "the first bad name, in order")

	var d RequestDetails
	require.NoError(t, json.Unmarshal([]byte(`{"parameters":{"w":1},"profileParameters":{"age":42}}`), &d))
	assert.Equal(t, "1", d.Parameters["w"])
	assert.Equal(t, "42", d.ProfileParameters["age"])
	var m MboxRequest
	require.NoError(t, json.Unmarshal([]byte(`{"index":3,"name":"m","parameters":{"w":true}}`), &m))
	assert.Equal(t, MboxRequest{Index: 3, Name: "m", RequestDetails: RequestDetails{Parameters: Parameters{"w": "true"}}}, m)
	assert.False(t, errors.Is(json.Unmarshal([]byte(`{"x":"y"}`), &p), ErrParameterType))
}

func TestGeoKeepsEmptyFields(t *testing.T) {
	t.Parallel()
	var g Geo
	require.NoError(t, json.Unmarshal([]byte(`{"city":"","countryCode":"RO","stateCode":""}`), &g))
	assert.True(t, g.Has("city"))
	assert.True(t, g.Has("stateCode"))
	assert.True(t, g.Has("countryCode"))
	assert.False(t, g.Has("latitude"))
	assert.False(t, g.Has("zip"))
	b, err := json.Marshal(g)
	require.NoError(t, err)
	assert.JSONEq(t, `{"city":"","countryCode":"RO","stateCode":""}`, string(b))

	// A Geo built in Go has no empty fields: "" is absent.
	b, err = json.Marshal(Geo{City: ""})
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(b))
	assert.False(t, (&Geo{}).Has("city"))
	assert.False(t, (*Geo)(nil).Has("city"))
}
