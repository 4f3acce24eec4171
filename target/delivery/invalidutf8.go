//go:build !goexperiment.jsonv2

package delivery

// invalidUTF8 is what encoding/json writes for each byte of invalid UTF-8
// in a string: the escape \ufffd. Under GOEXPERIMENT=jsonv2 it writes the
// replacement character itself (invalidutf8_jsonv2.go), and AppendRequest
// follows, so that its bytes stay Marshal's in both builds.
const invalidUTF8 = `\ufffd`
