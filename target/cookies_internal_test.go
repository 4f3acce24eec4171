package target

import (
	"fmt"
	"strings"
	"testing"
)

// TestEncodeURIComponentEveryByte holds encodeURIComponent's table to
// JavaScript's rule: letters, digits and -_.!~*'() as they are, every
// other byte as %XX with upper-case hex digits.
func TestEncodeURIComponentEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)})
		want := fmt.Sprintf("%%%02X", c)
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-_.!~*'()", rune(c)) {
			want = s
		}
		if got := encodeURIComponent(s); got != want {
			t.Errorf("encodeURIComponent(%q) = %q, want %q", s, got, want)
		}
		if got := encodeURIComponent("a" + s + "b"); got != "a"+want+"b" {
			t.Errorf("encodeURIComponent(%q) = %q, want %q", "a"+s+"b", got, "a"+want+"b")
		}
	}
}
