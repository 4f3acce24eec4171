package target

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// TestEncodeURIComponentAgainstNode compares encodeURIComponent with
// node's on every BMP code point that is not a surrogate, every 61st
// astral one, and strings mixing them.
func TestEncodeURIComponentAgainstNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		// node's own encodeURIComponent is the reference; the Node
		// SDK is not needed, but TARGET_INTEROP=1 (.ci/run) promises
		// node, so the test is mandatory there.
		if os.Getenv("TARGET_INTEROP") == "1" {
			t.Fatal("TARGET_INTEROP=1 but node is not on PATH: this test compares encodeURIComponent with node's")
		}
		t.Skip("skipping the comparison of encodeURIComponent with JavaScript's: node is not on PATH (install Node.js; TARGET_INTEROP=1 makes it mandatory)")
	}
	var in []string
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r > 0xFFFF && r%61 != 0 {
			continue
		}
		in = append(in, string(r))
	}
	in = append(in, "session#a|b c", "tnt.28_0", "é🎉\u2028-_.!~*'()", "%41", "")
	js, _ := json.Marshal(in)
	cmd := exec.Command(node, "-e", `let d="";process.stdin.setEncoding("utf8");process.stdin.on("data",c=>d+=c).on("end",()=>{process.stdout.write(JSON.stringify(JSON.parse(d).map(encodeURIComponent)))})`)
	cmd.Stdin = strings.NewReader(string(js))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, s := range in {
		if got := encodeURIComponent(s); got != want[i] {
			bad++
			if bad < 5 {
				t.Errorf("encodeURIComponent(%q) = %q, node %q", s, got, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d differ", bad, len(in))
	}
}

// TestTargetCookieExpiry: the cookie made from one reading of the clock
// has its entries' expiries at now+1860 and now+63244800 seconds.
func TestTargetCookieExpiry(t *testing.T) {
	now := time.Unix(1764680000, 999_999_999)
	c := targetCookie("sess", "tnt", now)
	want := fmt.Sprintf("session#sess#%d|PC#tnt#%d", now.Unix()+1860, now.Unix()+63244800)
	if c.Value != want {
		t.Fatalf("cookie %q, want %q", c.Value, want)
	}
}
