package ondevice_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// rtOddStrings are parameter keys and values nobody thought of.
var rtOddStrings = []string{"", "foo", "bar", "1", "-0", "0", "1e+21", "true", "null", "__proto__", "constructor",
	"a.b", "a..b", ".", "日本語", "\u2028\u2029", "<&>", "\"quoted\"", "\\", "\x00", "\t\n", "😀", "e\u0301",
	"bad\xff", "\xed\xa0\x80", "NaN", "-Infinity", "mbox-params", "color=red&x=1"}

func rtRandomRequest(r *rand.Rand) string {
	str := func() string {
		if r.IntN(10) == 0 {
			n := 1 + r.IntN(3000)
			b := make([]rune, n)
			for i := range b {
				b[i] = rune('a' + r.IntN(26))
			}
			return string(b)
		}
		return rtOddStrings[r.IntN(len(rtOddStrings))]
	}
	params := func() string {
		n := r.IntN(5)
		m := map[string]string{}
		for range n {
			m[str()] = str()
		}
		if r.IntN(3) == 0 {
			m["foo"] = "bar"
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	details := func() string {
		s := ""
		if r.IntN(2) == 0 {
			s += `,"parameters":` + params()
		}
		if r.IntN(3) == 0 {
			s += `,"profileParameters":` + params()
		}
		if r.IntN(6) == 0 {
			s += `,"address":{"url":"https://www.example.com/a?x=` + fmt.Sprint(r.IntN(9)) + `"}`
		}
		if r.IntN(8) == 0 {
			s += `,"order":{"id":"o1","total":-0}`
		}
		return s
	}
	inner := func(s string) string {
		if s == "" {
			return s
		}
		return s[1:]
	}
	mboxes := []string{"mbox-macros", "mbox-salutations", "super-duper", "mbox-magician", "mbox-geography", "perf-mbox", "mbox-params", "target-global-mbox", "mbox-feature-flags", "mbox-urlcontains", "mbox-prioritized", "mbox-browsers", "browserTest", "mbox-dateranges", "unknown"}
	mboxList := func() string {
		n := r.IntN(4)
		s := ""
		for i := range n {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf(`{"name":%q,"index":%d%s}`, mboxes[r.IntN(len(mboxes))], i+1, details())
		}
		return "[" + s + "]"
	}
	lat := []string{"37.75", "-0", "0", "-0.0", "1e-320"}[r.IntN(5)]
	ctx := `"id":{"tntId":"` + fmt.Sprintf("%032x", r.Uint64()) + `.28_0"},
	"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36",
	"address":{"url":"https://www.example.com/products/shoes?color=red","referringUrl":"https://search.example.org/?q=shoes"},
	"geo":{"city":"SAN FRANCISCO","countryCode":"US","stateCode":"CA","latitude":` + lat + `,"longitude":-0}},
	"trace":{"authorizationToken":"token"}`
	s := `{` + ctx
	if r.IntN(3) != 0 {
		s += `,"execute":{"mboxes":` + mboxList()
		if r.IntN(2) == 0 {
			s += `,"pageLoad":{` + inner(details()) + `}`
		}
		s += `}`
	}
	if r.IntN(2) == 0 {
		s += `,"prefetch":{"mboxes":` + mboxList()
		if r.IntN(2) == 0 {
			s += `,"views":[{` + inner(details()) + `}]`
		}
		if r.IntN(2) == 0 {
			s += `,"pageLoad":{}`
		}
		s += `}`
	}
	return s + `}`
}

// TestRedTeamTraceDifferential writes the digest of the JSON of many traced
// decisions, made and kept, then marshalled after GC pressure, to
// $RT_DIFF_OUT; run on two branches and diff the files.
func TestRedTeamTraceDifferential(t *testing.T) {
	dir := os.Getenv("TARGET_SDK_TESTING_DIR")
	out := os.Getenv("RT_DIFF_OUT")
	if dir == "" || out == "" {
		t.Skip("TARGET_SDK_TESTING_DIR or RT_DIFF_OUT is not set")
	}
	data, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	a, err := ondevice.ParseArtifact(data)
	require.NoError(t, err)
	n := 3000
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	type kept struct {
		req   string
		d     *ondevice.Decision
		first []byte
	}
	var all []kept
	for i := range n {
		reqText := rtRandomRequest(r)
		var req delivery.Request
		if err := json.Unmarshal([]byte(reqText), &req); err != nil {
			all = append(all, kept{req: reqText})
			continue
		}
		e := &ondevice.Engine{Client: "targettesting", NewID: newID(), Now: func() time.Time { return now }}
		d, err := e.Decide(t.Context(), a, &req, ondevice.Options{SessionID: "s"})
		require.NoError(t, err)
		first, err := json.Marshal(d)
		require.NoError(t, err)
		all = append(all, kept{req: reqText, d: d, first: first})
		if i%100 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	runtime.GC()
	f, err := os.Create(out)
	require.NoError(t, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	for i, k := range all {
		if k.d == nil {
			fmt.Fprintf(w, "%d bad request\n", i)
			continue
		}
		late, err := json.Marshal(k.d)
		require.NoError(t, err)
		require.Equal(t, string(k.first), string(late), "decision %d changed after later decisions: %s", i, k.req)
		sum := sha256.Sum256(late)
		fmt.Fprintf(w, "%d %s\n", i, hex.EncodeToString(sum[:]))
		if os.Getenv("RT_DIFF_FULL") != "" {
			fmt.Fprintf(w, "%s\n%s\n", k.req, late)
		}
	}
}
