//go:build goexperiment.jsonv2

package delivery_test

// errorOffsetPastValue is false under GOEXPERIMENT=jsonv2: encoding/json's
// errors give the offset at the start of the offending value or character
// (jsonv1_test.go has the default's).
const errorOffsetPastValue = false

// defaultJSONBuild is false under GOEXPERIMENT=jsonv2 (jsonv1_test.go).
const defaultJSONBuild = false
