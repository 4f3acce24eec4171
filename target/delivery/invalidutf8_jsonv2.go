//go:build goexperiment.jsonv2

package delivery

// invalidUTF8 is what encoding/json writes for each byte of invalid UTF-8
// in a string under GOEXPERIMENT=jsonv2: the replacement character U+FFFD
// itself, where the default encoding/json writes the escape \ufffd
// (invalidutf8.go).
const invalidUTF8 = "\ufffd"
