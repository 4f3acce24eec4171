package target

// Red team of rcperf3: growStack's frame, encodeURIComponent against
// JavaScript's (node), and the fresh ids of one crypto/rand read under
// concurrency.

import (
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

//go:noinline
func rtStackAddr() uintptr {
	var x [64]byte
	x[0] = 1
	return uintptr(unsafe.Pointer(&x)) + uintptr(x[0]) - 1
}

//go:noinline
func rtDeepFrame(i int) byte {
	var b [12 << 10]byte
	b[i%len(b)] = byte(i)
	return b[(i*7)%len(b)]
}

// TestRedTeamGrowStackGrows: growStack(0) in a fresh goroutine moves its
// stack (the runtime copied it to a larger one), and a later 12 KB frame
// does not move it again. A local's address in the caller's frame changes
// exactly when the stack is copied.
func TestRedTeamGrowStackGrows(t *testing.T) {
	type res struct{ before, afterGrow, afterDeep uintptr }
	for range 20 {
		ch := make(chan res)
		go func() {
			var x int
			before := uintptr(unsafe.Pointer(&x))
			growStack(0)
			afterGrow := uintptr(unsafe.Pointer(&x))
			rtDeepFrame(int(before))
			afterDeep := uintptr(unsafe.Pointer(&x))
			ch <- res{before, afterGrow, afterDeep}
		}()
		r := <-ch
		if r.before == r.afterGrow {
			t.Fatalf("growStack(0) did not move the stack: %x", r.before)
		}
		if r.afterGrow != r.afterDeep {
			t.Fatalf("a 12 KB frame after growStack(0) moved the stack again: %x -> %x", r.afterGrow, r.afterDeep)
		}
	}
	// Control: without growStack, the 12 KB frame moves it.
	ch := make(chan bool)
	go func() {
		var x int
		before := uintptr(unsafe.Pointer(&x))
		rtDeepFrame(int(before))
		ch <- before != uintptr(unsafe.Pointer(&x))
	}()
	if !<-ch {
		t.Fatal("control: a 12 KB frame did not move a fresh goroutine's stack")
	}
}

// TestRedTeamEncodeURIComponentNode compares encodeURIComponent with
// node's on every BMP code point that is not a surrogate, every 61st
// astral one, and strings mixing them.
func TestRedTeamEncodeURIComponentNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
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

// TestRedTeamFreshIDsConcurrent: ids from concurrent calls are all
// distinct, in format, and the request, session and supplemental data ids
// of one call come from different random bytes, in every combination.
func TestRedTeamFreshIDsConcurrent(t *testing.T) {
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sdidRe := regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
	// rawBytes are 4 fully random bytes of an id (bytes 1..4 of each).
	raw := func(id string) string {
		h := strings.ToLower(strings.ReplaceAll(id, "-", ""))
		b, _ := hex.DecodeString(h[2:10])
		return string(b)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	seenRaw := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				m := (i + w) % 8
				ids := [3]string{}
				ids[0], ids[1], ids[2] = freshIDs(m&1 != 0, m&2 != 0, m&4 != 0)
				mu.Lock()
				for k, id := range ids {
					if m&(1<<k) == 0 {
						if id != "" {
							t.Errorf("id %d not asked for: %q", k, id)
						}
						continue
					}
					re := uuidRe
					if k == 2 {
						re = sdidRe
					}
					if !re.MatchString(id) {
						t.Errorf("id %d %q: bad format", k, id)
					}
					if seen[id] || seenRaw[raw(id)] {
						t.Errorf("id %d %q repeats (or its random bytes do)", k, id)
					}
					seen[id], seenRaw[raw(id)] = true, true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestRedTeamCookieExpiry: the cookie made from one reading of the clock
// has its entries' expiries at now+1860 and now+63244800 seconds.
func TestRedTeamCookieExpiry(t *testing.T) {
	now := time.Unix(1764680000, 999_999_999)
	c := targetCookie("sess", "tnt", now)
	want := "session#sess#" + itoa(now.Unix()+1860) + "|PC#tnt#" + itoa(now.Unix()+63244800)
	if c.Value != want {
		t.Fatalf("cookie %q, want %q", c.Value, want)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
