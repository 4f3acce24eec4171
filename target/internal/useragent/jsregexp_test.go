package useragent

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialectRunes are the characters on which RE2 and ECMAScript (without the
// u flag) disagree, or might: case folding beyond ASCII, line terminators
// for '.', JavaScript's white space for \s, non-ASCII digits and letters
// for \d, \w and \b.
var dialectRunes = []string{
	"\u212a", "\u017f", "\u0130", "\u0131", "\u00b5", "\u00c5", "\u212b", "\u01c5", "\u1e9e",
	"\n", "\r", "\u2028", "\u2029", "\u0085",
	"\t", "\v", "\f", " ", "\u00a0", "\u1680", "\u2000", "\u2005", "\u200a", "\u202f", "\u205f", "\u3000", "\ufeff", "\u180e", "\u200b",
	"\u0661", "\uff10", "\u00e9", "\u00df", "_", "-", ".", "K", "k", "S", "s", "0", "9",
}

// dialectPatterns exercise each construct the translation handles, next to
// the user-agent patterns themselves.
var dialectPatterns = []struct {
	src   string
	icase bool
}{
	{`a.b`, false}, {`a\sb`, false}, {`a\Sb`, false}, {`a\db`, false}, {`a\Db`, false}, {`a\wb`, false},
	{`a\Wb`, false}, {`\bk\b`, true}, {`\Bs`, true}, {`[\w.]+`, true}, {`[^\s]+`, false}, {`[a-z]+`, true},
	{`[:\s]x`, true}, {`sk`, true}, {`(?:s|k)+$`, true}, {`^.+$`, false},
}

func uaDialectPatterns() []struct {
	src   string
	icase bool
} {
	out := dialectPatterns
	for _, list := range [][]uaPattern{browserPatterns, clientHintBrowserPatterns, platformPatterns} {
		for _, p := range list {
			out = append(out, struct {
				src   string
				icase bool
			}{p.src, p.icase})
		}
	}
	return out
}

// dialectInputs puts every dialect rune at every place of a few strings
// each pattern matches or nearly matches.
func dialectInputs(samples []string) []string {
	var out []string
	for _, s := range samples {
		out = append(out, s)
		for i := 0; i <= len(s); i++ {
			if i < len(s) && s[i] >= 0x80 {
				continue
			}
			for _, r := range dialectRunes {
				out = append(out, s[:i]+r+s[i:])
				// Replacing matters where a pattern has a space, a folding
				// letter, a dot or a digit.
				if i < len(s) && strings.IndexByte(" kKsS.0123456789", s[i]) >= 0 {
					out = append(out, s[:i]+r+s[i+1:])
				}
			}
		}
	}
	return out
}

var dialectSamples = []string{
	"a b", "aKb", "a1b", "Kk Ss", "ms ie 10.0", "Trident/7.0; rv:11.0) like Gecko",
	"Version/17.1 Mobile/15E148 Safari/604.1", "Version/17.1 Safari/605", "Chrome/120.0 Edg/120.1",
	"Firefox/121.0", `"Chrome";v="120"`, `"Safari";v="17"`, "(iPhone; Android 13; Linux ; Windows ; Macintosh; CrOS",
}

func TestJSRegexpDialect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src   string
		icase bool
		in    string
		match bool
	}{
		{`like\sgecko`, true, "like\u00a0Gecko", true},              // JS \s includes the no-break space
		{`like\sgecko`, true, "like\u3000Gecko", true},              // and the ideographic space
		{`like\sgecko`, true, "like\ufeffGecko", true},              // and the BOM
		{`like\sgecko`, true, "like\u200bGecko", false},             // but not the zero-width space
		{`like\sgecko`, true, "li\u212ae Gecko", false},             // the Kelvin sign is not k
		{`safari`, true, "\u017fafari", false},                      // the long s is not s
		{`safari`, true, "SAFARI", true},                            // ASCII case folds
		{`version/.+?safari`, true, "version/1\u2028safari", false}, // '.' stops at U+2028
		{`version/.+?safari`, true, "version/1\u2029safari", false}, // and U+2029
		{`version/.+?safari`, true, "version/1\rsafari", false},     // and \r
		{`version/.+?safari`, true, "version/1\u0085safari", true},  // but not at NEL
		{`a\db`, false, "a\u0661b", false},                          // \d is ASCII
		{`a\wb`, false, "a\u00e9b", false},                          // \w is ASCII
		{`\bk`, true, "\u00e9k", true},                              // \b sees é as a non-word character
		{`(firefox)/([\w.-]+)$`, true, "Firefox/121.0\n", false},    // $ is the end of the input
	}
	for _, tt := range tests {
		re := jsRegexp(tt.src, tt.icase)
		assert.Equal(t, tt.match, re.MatchString(tt.in), "%s on %q", tt.src, tt.in)
	}
}

// TestJSRegexpAgainstNode compares every translated pattern with
// JavaScript's own on strings holding the characters where the dialects
// differ: the same match, and the same groups. It needs node on PATH.
func TestJSRegexpAgainstNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	type job struct {
		Src    string   `json:"src"`
		Flags  string   `json:"flags"`
		Inputs []string `json:"inputs"`
	}
	var jobs []job
	samples := dialectSamples
	if raceDetector {
		samples = samples[len(samples)-6:] // the user-agent-like ones
	}
	inputs := dialectInputs(samples)
	for _, p := range uaDialectPatterns() {
		flags := ""
		if p.icase {
			flags = "i"
		}
		jobs = append(jobs, job{Src: p.src, Flags: flags, Inputs: inputs})
	}
	in, err := json.Marshal(jobs)
	require.NoError(t, err)
	const script = `
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const out = JSON.parse(s).map(j => { const re = new RegExp(j.src, j.flags);
    return j.inputs.map(x => { const m = x.match(re); return m && Array.from(m, g => g === undefined ? null : g); }); });
  process.stdout.write(JSON.stringify(out));
});`
	cmd := exec.CommandContext(t.Context(), node, "-e", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	require.NoError(t, err)
	var want [][][]*string
	require.NoError(t, json.Unmarshal(out, &want))
	require.Len(t, want, len(jobs))
	checked := 0
	for i, j := range jobs {
		re := jsRegexp(j.Src, j.Flags == "i")
		for k, x := range j.Inputs {
			var got []*string
			if idx := re.FindStringSubmatchIndex(x); idx != nil {
				got = make([]*string, len(idx)/2)
				for g := range got {
					if idx[2*g] >= 0 {
						s := x[idx[2*g]:idx[2*g+1]]
						got[g] = &s
					}
				}
			}
			if !sameGroups(want[i][k], got) {
				assert.Equal(t, want[i][k], got, "/%s/%s on %q", j.Src, j.Flags, x)
				return
			}
			checked++
		}
	}
	t.Logf("%d pattern and input pairs agree with JavaScript", checked)
}

func sameGroups(a, b []*string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || a[i] != nil && *a[i] != *b[i] {
			return false
		}
	}
	return true
}
