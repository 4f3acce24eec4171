package delivery

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
