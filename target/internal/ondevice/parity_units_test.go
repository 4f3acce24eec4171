package ondevice

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
