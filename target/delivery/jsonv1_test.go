//go:build !goexperiment.jsonv2

package delivery_test

// errorOffsetPastValue is whether encoding/json's errors give the offset
// just past the offending value or character (the default encoding/json),
// rather than at its start (GOEXPERIMENT=jsonv2, jsonv2_test.go).
const errorOffsetPastValue = true

// defaultJSONBuild is whether encoding/json is the default one (false
// under GOEXPERIMENT=jsonv2, jsonv2_test.go).
const defaultJSONBuild = true
