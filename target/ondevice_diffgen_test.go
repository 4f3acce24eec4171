package target_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The request generator of the differential fuzzer, and the artifacts it
// derives from the suite's. Everything is seeded: a seed gives the same
// requests on every machine.

// diffAgents are real user agents across browsers, versions, platforms
// and bots.
var diffAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:73.0) Gecko/20100101 Firefox/73.0",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
	"Mozilla/5.0 (Android 13; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0",
	"Mozilla/5.0 (X11; FreeBSD amd64; rv:109.0) Gecko/20100101 Firefox/117.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.77",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
	"Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.116 Mobile Safari/537.36 EdgA/120.0.2210.84",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.2210.79 Mobile/15E148 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko",
	"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)",
	"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
	"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/120.0.6099.129 Safari/537.36",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/300.0]",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"curl/8.4.0",
	"python-requests/2.31.0",
	"Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.289 Version/12.00",
	"",
}

// uaMutations change a user agent where RE2 and ECMAScript regular
// expressions disagree: case folding beyond ASCII (the Kelvin sign, the long
// s), '.' against line terminators, '\s' against JavaScript's wider white
// space, and plain upper and lower case.
var uaMutations = []func(string) string{
	strings.ToUpper,
	strings.ToLower,
	func(s string) string { return strings.ReplaceAll(s, "Safari", "\u017fafari") },         // long s folds to s in RE2 only
	func(s string) string { return strings.ReplaceAll(s, "like", "li\u212ae") },             // Kelvin sign folds to k in RE2 only
	func(s string) string { return strings.Replace(s, " Safari", "\u00a0Safari", 1) },       // JS \s matches a no-break space
	func(s string) string { return strings.Replace(s, " Safari", "\u2009Safari", 1) },       // thin space
	func(s string) string { return strings.Replace(s, " Safari", "\ufeffSafari", 1) },       // BOM is JS white space
	func(s string) string { return strings.Replace(s, " Gecko", "\u3000Gecko", 1) },         // ideographic space
	func(s string) string { return strings.Replace(s, " (KHTML", "\u2028(KHTML", 1) },       // JS '.' stops at U+2028
	func(s string) string { return strings.Replace(s, " (KHTML", "\u2029(KHTML", 1) },       // and U+2029
	func(s string) string { return strings.Replace(s, " (KHTML", "\r(KHTML", 1) },           // and \r
	func(s string) string { return strings.Replace(s, " (KHTML", "\n(KHTML", 1) },           // both stop at \n
	func(s string) string { return strings.Replace(s, "like Gecko", "like\u00a0Gecko", 1) }, // \s in the IE pattern
	func(s string) string { return strings.Replace(s, "Trident", "TRİDENT", 1) },            // dotted capital I
	func(s string) string { return strings.Replace(s, "Version/", "Version/\u0661", 1) },    // Arabic-Indic digit: \d is ASCII in both
	func(s string) string { return strings.Replace(s, "Chrome/", "Chrome/v", 1) },
	// Versions past int64 and past float64: parseInt has no bound.
	func(s string) string { return strings.Replace(s, "Chrome/", "Chrome/99999999999999999999", 1) },
	func(s string) string {
		return strings.Replace(s, "Version/", "Version/123456789012345678901234567890.", 1)
	},
	func(s string) string { return strings.Replace(s, "Firefox/", "Firefox/"+strings.Repeat("9", 400), 1) },
	func(s string) string { return s + "\u2028" },
	func(s string) string { return s + " " },
	func(s string) string { return strings.Replace(s, "Firefox/", "Firefox/é", 1) },
	func(s string) string { return strings.ReplaceAll(s, "MSIE", "MSİE") },
	func(s string) string { return strings.ReplaceAll(s, "Edg/", "EDG/") },
	func(s string) string { return strings.Replace(s, "Mobile/15E148 Safari", "Mobile/15E148\tSafari", 1) },
	func(s string) string { return strings.Replace(s, "Mobile/15E148 Safari", "Mobile/15E148\vSafari", 1) },
	func(s string) string {
		return strings.Replace(s, "Mobile/15E148 Safari", "Mobile/15E148\u0085Safari", 1)
	},
}

var diffBrandLists = []string{
	`"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
	`"Chromium";v="120.0.6099.130", "Google Chrome";v="120.0.6099.130", "Not_A Brand";v="8.0.0.0"`,
	`"Not_A Brand";v="8", "Chromium";v="120", "Microsoft Edge";v="120"`,
	`"Safari";v="17"`, `"\u017fafari";v="17"`, `"Firefox";v="121"`, `"Opera";v="106"`, `"Brave";v="1"`,
	`"Chrome"; v="99"`, `Chrome";v="x"`, `"Google Chrome";v="123456789012345678901"`, "",
}

var diffPlatformHints = []string{"Windows", "macOS", "Linux", "Android", "Chrome OS", "iOS", "Unknown", ""}

// URL parts; hosts include the kinds Adobe's engine gets wrong (upper case,
// www-prefixed labels, IPv6), which the kept differences cover.
var (
	diffHosts = []string{
		"www.example.com", "example.com", "shop.example.co.uk", "www.shop.example.co.uk", "a.b.c.example.org",
		"local-target-test", "local-target-test:8080", "localhost:3000", "127.0.0.1", "10.0.0.1:8443",
		"test.wayne-enterprises.us-east-1.elasticbeanstalk.com", "foo.local", "a.b.local", "xn--caf-dma.com",
		"café.example.com", "user:pw@example.com", "example.com.", "my_host.example.com", "-bad-.example.com",
		"www", "co.uk", "adobe.com", "www.adobe.com", "target.adobe.com", "Shop.Example.com",
		// Labels measured after punycode: 35 "ü" are 70 UTF-8 bytes but
		// "xn--" and 37 letters; 60 "a" and an "é" are 62 UTF-8 bytes but
		// 68 characters after punycode.
		strings.Repeat("ü", 35) + ".example.com", "shop." + strings.Repeat("ü", 60) + ".de",
		"日本語日本語日本語日本語日本語日本語日本語.example.jp", strings.Repeat("a", 60) + "é.example.com",
		strings.Repeat("a", 62) + "é.example.com", strings.Repeat(strings.Repeat("é", 30)+".", 9) + "example.com",
		// IDNA full stops, labels' ends for punycode's ToASCII.
		"shop\u3002.example.com", "\u3002example.com", strings.Repeat("a", 40) + "\u3002" + strings.Repeat("b", 40) + ".example.com",
		"shop\uff0eexample.com", "a\uff61b.example.com", "example.com\u3002",
	}
	// hazardHosts are hosts Adobe's engine gets wrong (kept differences),
	// used only by requests generated to show those.
	hazardHosts = map[string][]string{
		"upper": {"WWW.EXAMPLE.COM", "LOCALHOST:3000", "Foo.Local"},
		"www":   {"www2.example.com", "wwwshop.example.com", "www-1.shop.example.com"},
		"ipv6":  {"[2001:db8::1]", "[::1]:8080"},
		// Several '@' before the host.
		"multiat": {"a@b@example.com", "user@x:pw@shop.example.co.uk", "@@example.com", "u@v@localhost:3000"},
		// Labels punycode's encoder overflows on.
		"overflow": {strings.Repeat("a", 2100) + "\U0010FFFD.example.com", "shop." + strings.Repeat("b", 3000) + "\u00e9\U0010FFFD.com"},
	}
	diffPaths = []string{
		"", "/", "/index.html", "/products/item.html", "/café/menu", "/über/straße", "/日本語/ページ",
		"/search results", "/a%20b", "/%E2%82%AC", "/%zz", "/path;matrix=1", "//double//slash", "/a.b/c.d",
		"/home", "/HOME", "/contact/", "/a:b", "/emoji/😀",
	}
	diffQueries = []string{
		"", "?", "?x=1", "?q=a+b&c=%C3%A9", "?q=café", "?a=1?b=2", "?=&&", "?bar=true", "?implementation=psl",
		"?Q=UPPER", "?x=%", "?redirect=https://other.example.com/#frag",
	}
	diffFragments = []string{"", "#", "#top", "#a#b", "#/route?x=1", "#café", "#%23", "#hello", "#Hello World"}
	diffSchemes   = []string{"https://", "http://", "HTTP://"}
)

// diffGen generates requests aimed at one artifact.
type diffGen struct {
	rng        *rand.Rand
	mboxes     []string
	views      []string
	params     []string
	strs       []string
	domains    []string
	tokens     []string
	globalMbox string
	allMboxes  bool // ask for every mbox at once (the probe artifact)
	protoRead  bool // the artifact's rules read Object.prototype members (withProtoReads)
	visitors   []map[string]any
	// hazard names the one kind of input Adobe's engine gets wrong (a kept
	// difference) that the request being generated may hold; most
	// requests hold none, so that a kept difference never hides another.
	hazard string
}

// hazards are the kinds of input behind the kept differences.
var hazards = []string{"composite", "prototype", "noname", "dotted", "upper", "www", "ipv6", "typed", "at", "multiat", "longua", "order", "typedgeo", "overflow", "infversion", "protoplatform", "protoparam", "surrogate", "duplicate"}

func newDiffGen(t *testing.T, artifact []byte, seed uint64) *diffGen {
	t.Helper()
	var a struct {
		GlobalMbox   string   `json:"globalMbox"`
		LocalMboxes  []string `json:"localMboxes"`
		RemoteMboxes []string `json:"remoteMboxes"`
		LocalViews   []string `json:"localViews"`
		RemoteViews  []string `json:"remoteViews"`
		Meta         struct {
			Probe     bool `json:"probe"`
			ProtoRead bool `json:"protoRead"`
		} `json:"meta"`
		Rules struct {
			Mboxes map[string][]diffRule `json:"mboxes"`
			Views  map[string][]diffRule `json:"views"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(artifact, &a))
	g := &diffGen{rng: rand.New(rand.NewPCG(seed, 0x0d1ff)), globalMbox: a.GlobalMbox, allMboxes: a.Meta.Probe, protoRead: a.Meta.ProtoRead}
	params, strs, tokens := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "var" {
					if p, ok := e.(string); ok && strings.HasPrefix(p, "mbox.") {
						params[strings.TrimSuffix(strings.TrimPrefix(p, "mbox."), "_lc")] = true
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			strs[x] = true
		}
	}
	collect := func(rules map[string][]diffRule) []string {
		var names []string
		for name, rs := range rules {
			names = append(names, name)
			for _, r := range rs {
				walk(r.Condition)
				for _, p := range r.PropertyTokens {
					tokens[p] = true
				}
			}
		}
		return names
	}
	g.mboxes = append(collect(a.Rules.Mboxes), a.LocalMboxes...)
	g.mboxes = append(g.mboxes, a.RemoteMboxes...)
	g.views = append(collect(a.Rules.Views), a.LocalViews...)
	g.views = append(g.views, a.RemoteViews...)
	g.mboxes = sortedUnique(append(g.mboxes, "no-such-mbox"))
	g.views = sortedUnique(g.views)
	g.params = sortedKeys(params)
	g.strs = sortedKeys(strs)
	g.tokens = sortedKeys(tokens)
	for _, s := range g.strs {
		if strings.Contains(s, ".") && !strings.ContainsAny(s, " /<>{}") && len(s) < 80 {
			g.domains = append(g.domains, s)
		}
	}
	// Parameter names that collide once the context is built: x and x_lc,
	// a and a.b, and names that are not expanded.
	g.params = append(g.params, "x", "x_lc", "a", "a.b", "a.b.c", "a_lc", ".dot", "dot.", "a..b", "user", "pgname", "browserWidth")
	g.params = sortedUnique(g.params)
	for range 300 {
		g.visitors = append(g.visitors, g.visitor())
	}
	return g
}

type diffRule struct {
	Condition      any      `json:"condition"`
	PropertyTokens []string `json:"propertyTokens"`
}

func sortedUnique(l []string) []string {
	sort.Strings(l)
	return slices.Compact(l)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (g *diffGen) pick(l []string) string { return l[g.rng.IntN(len(l))] }
func (g *diffGen) chance(n int) bool      { return g.rng.IntN(n) == 0 }

func (g *diffGen) hex(k int) string {
	var b strings.Builder
	for range k {
		fmt.Fprintf(&b, "%x", g.rng.IntN(16))
	}
	return b.String()
}

func (g *diffGen) visitor() map[string]any {
	id := map[string]any{}
	switch g.rng.IntN(6) {
	case 0:
		id["marketingCloudVisitorId"] = fmt.Sprintf("%038d", g.rng.Uint64())
	case 1:
		id["thirdPartyId"] = "tp-" + g.hex(12)
	case 2:
		id["tntId"] = g.hex(32) + "." + g.pick([]string{"28_0", "35_0", "17_12"})
	case 3:
		id["tntId"] = g.hex(32)
		id["marketingCloudVisitorId"] = fmt.Sprintf("%038d", g.rng.Uint64())
	default:
		id["tntId"] = g.hex(32)
	}
	return id
}

func (g *diffGen) userAgent() string {
	ua := g.pick(diffAgents)
	if g.chance(3) {
		ua = uaMutations[g.rng.IntN(len(uaMutations))](ua)
	}
	if g.hazard == "infversion" {
		// A major version past float64's range: Infinity to JavaScript
		// (a kept difference).
		for _, token := range []string{"Chrome/", "Firefox/", "Version/", "Edg/", "MSIE "} {
			ua = strings.Replace(ua, token, token+strings.Repeat("9", 400), 1)
		}
	}
	if g.hazard == "longua" {
		// Over 2 KiB, with the browser and platform tokens before, across or
		// after the 2 KiB mark.
		unit := g.pick([]string{"x", "Version/1.1 ", "é", "; "})
		pad := strings.Repeat(unit, 2100/len(unit)+1)
		switch g.rng.IntN(3) {
		case 0:
			ua = pad + " " + ua
		case 1:
			ua += " " + pad
		default:
			// Valid UTF-8, so that the length is the same on both sides.
			ua = strings.ToValidUTF8(pad[:2048-len(ua)%97], "") + ua
		}
	}
	return ua
}

func (g *diffGen) url() string {
	if g.chance(12) {
		return g.pick([]string{"", "not a url", "/relative/path?x=1#y", "example.com/no-scheme", "mailto:someone@example.com", "https://", "//example.com/protocol-relative"})
	}
	host := g.pick(diffHosts)
	if hh := hazardHosts[g.hazard]; hh != nil && !g.chance(4) {
		host = g.pick(hh)
	} else if len(g.domains) > 0 && g.chance(2) {
		host = g.pick(g.domains)
		if g.chance(3) {
			host = g.pick([]string{"test.", "www.", "a.b."}) + host
		}
	}
	path := g.pick(diffPaths)
	if g.hazard == "at" && g.chance(2) {
		path = g.pick([]string{"/a@b", "/@user/page", "/x/y@z.html"})
	}
	if path == "" && g.chance(2) {
		path = "/"
	}
	return g.pick(diffSchemes) + host + path + g.pick(diffQueries) + g.pick(diffFragments)
}

func (g *diffGen) address() map[string]any {
	a := map[string]any{}
	if !g.chance(10) {
		a["url"] = g.url()
	}
	if g.chance(2) {
		a["referringUrl"] = g.url()
	}
	return a
}

// geo gives every combination of fields, none, or only an address.
func (g *diffGen) geo() (map[string]any, bool) {
	switch g.rng.IntN(8) {
	case 0:
		return nil, false
	case 1:
		return map[string]any{}, true
	case 2:
		return map[string]any{"ipAddress": g.pick([]string{"203.0.113.7", "2001:db8::7", "198.51.100.1", "not-an-ip", "unknownIpAddress", " 203.0.113.7 ", ""})}, true
	}
	fields := []func(m map[string]any){
		func(m map[string]any) {
			m["city"] = g.pick([]string{"SAN FRANCISCO", "VANCOUVER", "BUCHAREST", "san francisco", "", "SÃO PAULO"})
		},
		func(m map[string]any) { m["countryCode"] = g.pick([]string{"US", "CA", "CANADA", "RO", "us", ""}) },
		func(m map[string]any) { m["stateCode"] = g.pick([]string{"CA", "BC", "NY", "ca", ""}) },
		func(m map[string]any) {
			m["latitude"] = g.pick2([]any{37.75, 49.28, 0.0, -33.9, 44.4, "37.75", " 49.28", "north"})
		},
		// Names in another case are not the fields to Adobe's engine.
		func(m map[string]any) {
			m[g.pick([]string{"CITY", "City", "countrycode", "Latitude"})] = g.pick2([]any{"VANCOUVER", "RO", 37.75})
		},
		func(m map[string]any) { m["longitude"] = g.pick2([]any{-122.4, -123.12, 0.0, 151.2, 26.1}) },
		func(m map[string]any) { m["ipAddress"] = g.pick([]string{"203.0.113.7", "2001:db8::7", "not-an-ip"}) },
	}
	m := map[string]any{}
	mask := 1 + g.rng.IntN(1<<len(fields)-1)
	for i, f := range fields {
		if mask&(1<<i) != 0 {
			f(m)
		}
	}
	if g.hazard == "typedgeo" {
		// Values of another JSON type, refused here (a kept difference).
		if g.chance(2) {
			m[g.pick([]string{"city", "countryCode", "stateCode"})] = g.pick2([]any{5, true, map[string]any{"a": 1}})
		} else {
			m[g.pick([]string{"latitude", "longitude"})] = g.pick2([]any{true, map[string]any{"a": 1}, json.Number("1e400")})
		}
	}
	return m, true
}

func (g *diffGen) pick2(l []any) any { return l[g.rng.IntN(len(l))] }

// paramValue is a parameter value of any JSON type.
func (g *diffGen) paramValue() any {
	n := g.rng.IntN(16)
	if g.hazard == "typed" && g.chance(2) {
		n = 0 // with more hazards, each is drawn less often: keep this one seen
	}
	switch n {
	case 0, 1, 2:
		// JSON numbers, booleans and null are read as text here and kept
		// typed by Adobe's engine (a kept difference): only in requests
		// generated to show it; the others send their text.
		v := g.pick2([]any{1024, 0, -1, 3.5, 1e21, 1e-7, 0.1, int64(123456789012), math.Copysign(0, -1), true, false, nil})
		if g.hazard == "typed" {
			return v
		}
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	case 3:
		if g.hazard == "composite" {
			return g.pick2([]any{[]any{"a", 1}, map[string]any{"k": "v"}})
		}
		return "1024"
	case 4:
		return g.pick2([]any{"0", "-1", "1e3", " 42 ", "0x10"})
	case 5:
		return g.pick([]string{"", "café", "CAFÉ", "İstanbul", "ǅ", "straße", "ﬃ", "  spaced  ", "1024", "true", "null"})
	}
	if g.hazard == "surrogate" && g.chance(2) {
		return g.surrogateText()
	}
	if len(g.strs) == 0 {
		return "value-" + g.hex(2)
	}
	v := g.pick(g.strs)
	switch g.rng.IntN(5) {
	case 0:
		v = strings.ToUpper(v)
	case 1:
		v += g.hex(1)
	}
	return v
}

// orderedObject is a JSON object written with its names in a given
// order: Adobe's engine reads parameters in the order of the JSON text.
type orderedObject struct {
	keys []string
	vals map[string]any
}

func (o *orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

func (g *diffGen) parameters() *orderedObject {
	p := map[string]any{}
	for range 1 + g.rng.IntN(4) {
		p[g.pick(g.params)] = g.paramValue()
	}
	if g.chance(6) || g.hazard == "order" {
		// Colliding names.
		p["x"], p["x_lc"] = g.paramValue(), g.paramValue()
		p["a"], p["a.b"] = g.paramValue(), g.paramValue()
	}
	switch g.hazard {
	case "protoparam":
		// Object.prototype members' names as parameter names: JavaScript's
		// assignment treats __proto__ apart (a kept difference).
		for range 1 + g.rng.IntN(2) {
			p[g.pick([]string{"__proto__", "constructor", "toString", "hasOwnProperty", "__proto___lc", "toString_lc"})] = g.paramValue()
		}
	case "surrogate":
		if g.chance(2) {
			p[g.surrogateText()] = g.paramValue()
		}
	case "duplicate":
		// A name given twice (see duplicateMark).
		p[duplicateMark+g.pick(sortedKeys(keysOf(p)))] = g.paramValue()
	}
	keys := sortedKeys(keysOf(p))
	if g.hazard == "order" {
		// The names in another order than the sorted one the client
		// writes: a dotted name before its prefix, x_lc before x.
		if g.chance(2) {
			g.rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		} else {
			slices.Reverse(keys)
		}
	}
	if g.hazard != "dotted" {
		// A dotted name after a parameter with a value fails Adobe's
		// engine: give such parameters a value it replaces instead.
		for i, k := range keys {
			for _, prefix := range keys[:i] {
				if strings.HasPrefix(k, prefix+".") && expandable(k) && jsTruthyValue(p[prefix]) {
					p[prefix] = ""
				}
			}
		}
	}
	return &orderedObject{keys: keys, vals: p}
}

func (g *diffGen) details(withName bool, index int) map[string]any {
	m := map[string]any{}
	if withName {
		name := g.pick(g.mboxes)
		switch g.rng.IntN(12) {
		case 0:
			name = "no-such-mbox"
		case 1:
			switch g.hazard {
			case "prototype":
				name = g.pick([]string{"constructor", "toString", "__proto__", "hasOwnProperty"})
			case "noname":
				name = ""
			case "surrogate":
				name = g.surrogateText()
			default:
				name = g.pick([]string{"mbox-ü", "mbox with space", "MBOX-MAGICIAN"})
			}
		case 2:
			name = g.globalMbox
		}
		m["name"] = name
		m["index"] = index
	}
	if g.chance(2) {
		m["parameters"] = g.parameters()
	}
	if g.chance(12) {
		m[g.pick([]string{"Parameters", "PARAMETERS", "Address"})] = map[string]any{"x": "miscased", "a": "miscased", "url": "https://miscased.example.com/"}
	}
	if g.chance(8) {
		m["profileParameters"] = g.parameters()
	}
	if g.chance(8) {
		m["address"] = g.address()
	}
	return m
}

func (g *diffGen) request() map[string]any {
	g.hazard = ""
	if g.chance(5) {
		g.hazard = g.pick(hazards)
		if g.protoRead && g.chance(2) {
			// The artifact's rules read what these hazards change.
			g.hazard = g.pick([]string{"protoplatform", "protoparam"})
		}
	}
	id := g.visitors[g.rng.IntN(len(g.visitors))]
	if g.hazard == "surrogate" && g.chance(2) {
		// A visitor id with a lone surrogate: allocation hashes its UTF-16
		// code units.
		id = maps.Clone(id)
		for _, k := range []string{"tntId", "thirdPartyId", "marketingCloudVisitorId"} {
			if v, ok := id[k].(string); ok {
				id[k] = g.surrogateText() + v
			}
		}
	}
	ctx := map[string]any{"channel": g.pick([]string{"web", "web", "mobile"})}
	if !g.chance(10) {
		ctx["userAgent"] = g.userAgent()
	}
	if g.chance(4) || g.hazard == "protoplatform" {
		h := map[string]any{}
		if b := g.pick(diffBrandLists); b != "" {
			if g.chance(2) {
				h["browserUAWithFullVersion"] = b
			} else {
				h["browserUAWithMajorVersion"] = b
			}
		}
		// An empty platform hint is a platform ("") to Adobe's engine,
		// not an absent one.
		if p := g.pick(diffPlatformHints); p != "" || g.chance(2) {
			h["platform"] = p
		}
		if g.hazard == "typedgeo" && g.chance(2) {
			h["platform"] = g.pick2([]any{5, true})
		}
		if g.hazard == "protoplatform" {
			h = map[string]any{}
			// Adobe's engine maps the hint through a plain object, so an
			// Object.prototype member's name finds the member (a kept
			// difference).
			h["platform"] = g.pick([]string{"constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf"})
		}
		ctx["clientHints"] = h
	}
	if !g.chance(8) {
		ctx["address"] = g.address()
	}
	if geo, ok := g.geo(); ok {
		ctx["geo"] = geo
	}
	if g.chance(16) {
		ctx[g.pick([]string{"UserAgent", "Geo", "Address", "clienthints"})] = map[string]any{"city": "BUCHAREST", "url": "https://miscased.example.com/"}
	}
	if g.chance(6) {
		ctx["timeOffsetInMinutes"] = g.pick2([]any{-480, 0, 60, 330, 345.5})
	}
	if g.hazard == "surrogate" && g.chance(3) {
		ctx["userAgent"] = g.surrogateText() + g.userAgent()
	}
	req := map[string]any{"id": id, "context": ctx}
	if g.hazard == "duplicate" && g.chance(2) {
		// The whole context given twice, the second one last (see
		// duplicateMark): JSON.parse keeps it, here the request is refused.
		other := map[string]any{"channel": "web", "userAgent": g.userAgent()}
		if geo, ok := g.geo(); ok {
			other["geo"] = geo
		}
		req[duplicateMark+"context"] = other
	}
	if len(g.tokens) > 0 && g.chance(2) || g.chance(10) {
		tok := "no-such-token"
		if len(g.tokens) > 0 && !g.chance(4) {
			tok = g.pick(g.tokens)
		}
		req["property"] = map[string]any{"token": tok}
	}
	index := 1
	mboxes := func(n int) []any {
		var l []any
		for range n {
			l = append(l, g.details(true, index))
			index++
		}
		return l
	}
	if g.allMboxes {
		var l []any
		for _, name := range g.mboxes {
			d := g.details(false, index)
			d["name"], d["index"] = name, index
			index++
			l = append(l, d)
		}
		if g.chance(2) {
			req["prefetch"] = map[string]any{"mboxes": l}
		} else {
			req["execute"] = map[string]any{"mboxes": l}
		}
		return req
	}
	if g.chance(2) {
		ex := map[string]any{}
		if !g.chance(4) {
			ex["mboxes"] = mboxes(1 + g.rng.IntN(3))
		}
		if g.chance(3) || len(ex) == 0 {
			ex["pageLoad"] = g.details(false, 0)
		}
		req["execute"] = ex
	}
	if _, ok := req["execute"]; !ok || g.chance(2) {
		pf := map[string]any{}
		if !g.chance(3) {
			pf["mboxes"] = mboxes(1 + g.rng.IntN(3))
		}
		if len(g.views) > 0 && g.chance(2) || g.chance(8) {
			var views []any
			for range 1 + g.rng.IntN(2) {
				v := g.details(false, 0)
				if !g.chance(3) {
					if len(g.views) > 0 && !g.chance(5) {
						v["name"] = g.pick(g.views)
					} else {
						v["name"] = "no-such-view"
						switch g.hazard {
						case "prototype":
							v["name"] = "constructor"
						case "noname":
							v["name"] = "" // no name here, a remote view to Adobe's engine
						}
					}
				}
				views = append(views, v)
			}
			pf["views"] = views
		}
		if g.chance(4) || len(pf) == 0 {
			pf["pageLoad"] = g.details(false, 0)
		}
		req["prefetch"] = pf
	}
	if g.chance(50) {
		// A part that asks for nothing, beside the other or alone.
		part := g.pick([]string{"execute", "prefetch"})
		req[part] = emptyParts[g.rng.IntN(len(emptyParts))]()
		if g.chance(3) {
			delete(req, map[string]string{"execute": "prefetch", "prefetch": "execute"}[part])
		}
	}
	return req
}

// emptyParts are execute and prefetch parts that ask for nothing.
var emptyParts = []func() map[string]any{
	func() map[string]any { return map[string]any{} },
	func() map[string]any { return map[string]any{"mboxes": []any{}} },
	func() map[string]any { return map[string]any{"views": []any{}} },
	func() map[string]any { return map[string]any{"mboxes": []any{}, "views": []any{}} },
	func() map[string]any { return map[string]any{"mboxes": nil, "pageLoad": nil} },
}

// Lone surrogates and repeated names cannot be held by a Go string or map,
// so the generator writes marks that the request's JSON text turns into
// them (withRawJSON): surrogateMarks become the escapes of lone UTF-16
// surrogates, and a name starting with duplicateMark the name without it,
// a second time in the same object (the mark sorts after every ASCII name,
// so the repeated name comes last).
var surrogateMarks = map[string]string{"\ue000": `\ud800`, "\ue001": `\udc00`, "\ue002": `\udbff`}

const duplicateMark = "\ue003"

// surrogateText is a text with lone surrogates, alone, at either end or
// inside, high or low, and a low one before a high one (no pair).
func (g *diffGen) surrogateText() string {
	return g.pick([]string{"\ue000", "\ue001", "a\ue000b", "caf\ue001", "\ue001\ue000", "\ue002x", "v\ue000\ue000"})
}

// withRawJSON is a generated request's JSON text with its marks made lone
// surrogates and repeated names.
func withRawJSON(b []byte) []byte {
	for mark, esc := range surrogateMarks {
		b = bytes.ReplaceAll(b, []byte(mark), []byte(esc))
	}
	return bytes.ReplaceAll(b, []byte(`"`+duplicateMark), []byte(`"`))
}

func (g *diffGen) requests(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = g.request()
		g.addRequestHazards(out[i])
	}
	return out
}

// withMacros returns the artifact with campaign macros of every kind in
// each html offer and each action's content, and some meta values null.
func withMacros(t *testing.T, data []byte) []byte {
	const macros = "|${mbox.index}|${Campaign.name}|${CAMPAIGN.ID}|${campaign.recipe.name}|${Recipe.Id}|${offer.name}" +
		"|${option.name}|${mbox.name}|${mbox.user}|${mbox.browserWidth}|${mbox.a.b}|${mbox.x_lc}|${mbox.x}" +
		"|${unknown}|${activity.decisioningMethod}|${mbox.mbox.name}|${a.b.c.d}|${}|${Mbox.Name}|${experience.name}" +
		"|${activity.type}|${location.name}|${audience.ids}|${mbox.pgname}|" +
		"${mbox.constructor}|${toString}|${mbox.__proto__}|${campaign.hasOwnProperty}|${a.b.valueOf}|"
	var a map[string]any
	require.NoError(t, json.Unmarshal(data, &a))
	n := 0
	eachRule(a, func(r map[string]any) {
		n++
		if meta, ok := r["meta"].(map[string]any); ok && n%3 == 0 {
			meta["offer.name"] = nil
			meta["experience.name"] = nil
		}
		c, _ := r["consequence"].(map[string]any)
		opts, _ := c["options"].([]any)
		for _, o := range opts {
			opt, _ := o.(map[string]any)
			switch opt["type"] {
			case "html":
				if s, ok := opt["content"].(string); ok {
					opt["content"] = s + macros
				}
			case "json":
				opt["content"] = map[string]any{"text": macros, "orig": opt["content"]}
			case "actions":
				actions, _ := opt["content"].([]any)
				for _, ac := range actions {
					if action, ok := ac.(map[string]any); ok {
						if s, ok := action["content"].(string); ok {
							action["content"] = s + macros
						} else if action["content"] == nil {
							action["content"] = macros
						}
					}
				}
			}
		}
	})
	out, err := json.Marshal(a)
	require.NoError(t, err)
	return out
}

func eachRule(a map[string]any, f func(r map[string]any)) {
	rules, _ := a["rules"].(map[string]any)
	for _, kind := range []string{"mboxes", "views"} {
		byName, _ := rules[kind].(map[string]any)
		for _, name := range sortedKeys(keysOf(byName)) {
			list, _ := byName[name].([]any)
			for _, r := range list {
				if rule, ok := r.(map[string]any); ok {
					f(rule)
				}
			}
		}
	}
}

func keysOf(m map[string]any) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// withClockRules returns the artifact with each rule repeated under clock
// conditions around now: timestamps, days and times of day, each at least
// half an hour from now so that the two engines, deciding seconds apart,
// agree.
func withClockRules(t *testing.T, data []byte, now time.Time) []byte {
	now = now.UTC()
	ms := func(d time.Duration) float64 { return float64(now.Add(d).UnixMilli()) }
	hhmm := func(d time.Duration) string { return now.Add(d).Format("1504") }
	day := int(now.Weekday())
	if day == 0 {
		day = 7
	}
	v := func(name string) any { return map[string]any{"var": name} }
	clocks := []any{
		map[string]any{"<=": []any{ms(-time.Hour), v("current_timestamp"), ms(time.Hour)}},
		map[string]any{"<=": []any{ms(time.Hour), v("current_timestamp")}},
		map[string]any{">": []any{v("current_timestamp"), ms(-48 * time.Hour)}},
		map[string]any{"<": []any{v("current_timestamp"), ms(-30 * time.Minute)}},
		map[string]any{"==": []any{v("current_day"), day}},
		map[string]any{"in": []any{v("current_day"), []any{day%7 + 1, (day+1)%7 + 1}}},
		map[string]any{"<=": []any{hhmm(-2 * time.Hour), v("current_time"), hhmm(2 * time.Hour)}},
		map[string]any{">": []any{v("current_time"), hhmm(time.Hour)}},
		map[string]any{"and": []any{map[string]any{"==": []any{v("current_day"), day}}, map[string]any{"<": []any{v("current_time"), hhmm(45 * time.Minute)}}}},
	}
	var a map[string]any
	require.NoError(t, json.Unmarshal(data, &a))
	rules, _ := a["rules"].(map[string]any)
	for _, kind := range []string{"mboxes", "views"} {
		byName, _ := rules[kind].(map[string]any)
		for name, l := range byName {
			list, _ := l.([]any)
			var out []any
			for i, c := range clocks {
				for _, r := range list {
					var rule map[string]any
					b, _ := json.Marshal(r)
					require.NoError(t, json.Unmarshal(b, &rule))
					rule["condition"] = map[string]any{"and": []any{c, rule["condition"]}}
					rule["ruleKey"] = fmt.Sprintf("%v-clock%d", rule["ruleKey"], i)
					out = append(out, rule)
				}
			}
			byName[name] = out
		}
	}
	out, err := json.Marshal(a)
	require.NoError(t, err)
	return out
}

// probeArtifact is an artifact whose mboxes each read one context field:
// "probe:page.path" answers which of the candidate values the field
// equals (or that none does), so that every difference in how the
// engines build the context shows as a decision.
func probeArtifact(t *testing.T, base []byte) []byte {
	var a map[string]any
	require.NoError(t, json.Unmarshal(base, &a))
	var pathCandidates, queryCandidates, fragmentCandidates, hostCandidates []string
	for _, p := range diffPaths {
		pathCandidates = append(pathCandidates, p, (&url.URL{Path: p}).EscapedPath())
	}
	for _, q := range diffQueries {
		q = strings.TrimPrefix(q, "?")
		queryCandidates = append(queryCandidates, q, strings.ToLower(q))
	}
	for _, f := range diffFragments {
		f = strings.TrimPrefix(f, "#")
		fragmentCandidates = append(fragmentCandidates, f, strings.ToLower(f), url.PathEscape(f))
	}
	for _, h := range diffHosts {
		h = strings.ToLower(diffHost("http://" + h))
		labels := strings.Split(strings.TrimSuffix(h, "."), ".")
		for i := range labels {
			hostCandidates = append(hostCandidates, strings.Join(labels[i:], "."), strings.Join(labels[:i], "."))
		}
	}
	hostCandidates = append(hostCandidates, "")
	fields := map[string][]any{}
	for _, side := range []string{"page", "referring"} {
		for _, f := range []struct {
			name  string
			cands []string
		}{{"path", pathCandidates}, {"query", queryCandidates}, {"fragment", fragmentCandidates},
			{"domain", hostCandidates}, {"subdomain", hostCandidates}, {"topLevelDomain", hostCandidates}} {
			for _, suffix := range []string{"", "_lc"} {
				fields[side+"."+f.name+suffix] = anys(sortedUnique(slices.Clone(f.cands)))
			}
		}
		fields[side+".url"] = nil
	}
	fields["user.browserType"] = anys([]string{"chrome", "firefox", "safari", "mobile safari", "edge", "ie", "unknown"})
	fields["user.platform"] = anys(append(slices.Clone(diffPlatformHints), "windows", "mac", "linux", "iOS", "Android", "Unix", "unknown"))
	fields["user.browserVersion"] = []any{-1, 4, 8, 10, 11, 12, 16, 17, 18, 70, 73, 99, 112, 115, 120, 121, 1e20, 123456789012345678901.0, 123456789012345678901234567890.0, math.MaxFloat64, "Infinity", 1e300}
	fields["user.locale"] = []any{"en"}
	fields["geo.city"] = anys([]string{"SAN FRANCISCO", "VANCOUVER", "SERVERTOWN", "BUCHAREST", "san francisco", "", "SÃO PAULO"})
	fields["geo.country"] = anys([]string{"US", "CA", "CANADA", "RO", "us", "SERVERLAND", ""})
	fields["geo.region"] = anys([]string{"CA", "BC", "NY", "ca", ""})
	fields["geo.latitude"] = []any{37.75, 49.28, 0.0, -33.9, 44.4, 1.5}
	fields["geo.longitude"] = []any{-122.4, -123.12, 0.0, 151.2, 26.1, 2.5}
	paramCands := []any{"", "1024", 1024, "true", true, false, "false", "null", "café", "CAFÉ", "straße", "STRASSE", "1e+21", "1e-7", "0.1", "0", "-1", "a,1", "[object Object]", "v"}
	for _, p := range []string{"x", "x_lc", "x_lc_lc", "a", "a.b", "a_lc", "a.b_lc", "a.b.c", "user", "user_lc", "browserWidth", "browserWidth_lc", "dot.", "a..b", ".dot"} {
		fields["mbox."+p] = paramCands
	}
	v := func(name string) any { return map[string]any{"var": name} }
	tmpl := firstRule(t, a)
	mboxes := map[string]any{}
	var names []string
	for _, f := range sortedKeys(keysOf(anyMap(fields))) {
		name := "probe:" + f
		names = append(names, name)
		var list []any
		add := func(i int, cond any, value any) {
			r := cloneJSON(t, tmpl).(map[string]any)
			r["ruleKey"] = fmt.Sprintf("%s-%d", name, i)
			r["activityId"] = 900000 + len(names)
			r["condition"] = cond
			c := r["consequence"].(map[string]any)
			c["name"] = name
			c["options"] = []any{map[string]any{"type": "json", "content": map[string]any{"field": f, "value": value}, "eventToken": fmt.Sprintf("tok-%s-%d", name, i)}}
			c["metrics"] = []any{}
			list = append(list, r)
		}
		for i, c := range fields[f] {
			add(i, map[string]any{"==": []any{v(f), c}}, c)
		}
		// Else: present but not a candidate (with its type), or absent.
		add(len(fields[f]), map[string]any{"===": []any{v(f), nil}}, "null")
		add(len(fields[f])+1, map[string]any{"in": []any{"%", map[string]any{"cat": []any{v(f), ""}}}}, "has %")
		add(len(fields[f])+2, map[string]any{"!!": []any{map[string]any{"cat": []any{v(f), ""}}}}, "other")
		mboxes[name] = list

		// A value that is no candidate is still told apart: its type and
		// its length (in UTF-16 code units, as JavaScript counts) are
		// answered by mboxes of their own, so two engines that build
		// different values the candidates do not cover still decide
		// differently.
		shape := name + "#shape"
		names = append(names, shape)
		list = nil
		text := map[string]any{"cat": []any{v(f), ""}}
		kinds := []struct {
			cond any
			kind string
		}{
			{map[string]any{"===": []any{v(f), nil}}, "null"},
			{map[string]any{"===": []any{v(f), text}}, "string"},
			{map[string]any{"===": []any{v(f), map[string]any{"+": []any{v(f)}}}}, "number"},
			{true, "other"},
		}
		for _, k := range kinds {
			for _, l := range probeLengths {
				cond := any(map[string]any{"and": []any{k.cond, map[string]any{"==": []any{map[string]any{"substr": []any{text, l}}, ""}}}})
				add(len(list), cond, fmt.Sprintf("%s, length up to %d", k.kind, l))
			}
			add(len(list), k.cond, fmt.Sprintf("%s, longer", k.kind))
		}
		for i := range list {
			r := list[i].(map[string]any)
			r["ruleKey"] = fmt.Sprintf("%s-%d", shape, i)
			c := r["consequence"].(map[string]any)
			c["name"] = shape
			c["options"].([]any)[0].(map[string]any)["eventToken"] = fmt.Sprintf("tok-%s-%d", shape, i)
		}
		mboxes[shape] = list
	}
	a["rules"] = map[string]any{"mboxes": mboxes, "views": map[string]any{}}
	a["localMboxes"] = anys(names)
	a["remoteMboxes"] = []any{}
	a["localViews"] = []any{}
	a["remoteViews"] = []any{}
	meta, _ := a["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		a["meta"] = meta
	}
	meta["probe"] = true
	out, err := json.Marshal(a)
	require.NoError(t, err)
	return out
}

// probeLengths are the lengths the probe tells a value's length by:
// exactly up to 16, then in steps.
var probeLengths = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 24, 32, 48, 64, 128, 256}

func firstRule(t *testing.T, a map[string]any) map[string]any {
	var first map[string]any
	eachRule(a, func(r map[string]any) {
		if first == nil {
			first = r
		}
	})
	require.NotNil(t, first)
	return first
}

func cloneJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func anys(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func anyMap(m map[string][]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// protoReadRules are rule conditions that read Object.prototype members
// through the context (json-logic's var walks plain JavaScript objects in
// Adobe's engine, so mbox.toString is a function there, whatever the
// request). They use only operations under which a member and its
// String() text behave alike (!!, !, == with a text, cat), so that
// nodeReadsArtifact can write what Adobe's engine reads.
var protoReadRules = []any{
	map[string]any{"!!": []any{map[string]any{"var": "mbox.toString"}}},
	map[string]any{"!": []any{map[string]any{"var": "mbox.constructor"}}},
	map[string]any{"==": []any{map[string]any{"var": "mbox.__proto__"}, "[object Object]"}},
	map[string]any{"!!": []any{map[string]any{"var": "mbox.__proto___lc"}}},
	map[string]any{"in": []any{"native", map[string]any{"cat": []any{map[string]any{"var": "mbox.hasOwnProperty"}}}}},
	map[string]any{"!!": []any{map[string]any{"var": "user.constructor"}}},
	map[string]any{"!": []any{map[string]any{"var": "page.valueOf"}}},
	map[string]any{"==": []any{map[string]any{"var": "toString"}, "function toString() { [native code] }"}},
	map[string]any{"!!": []any{map[string]any{"var": "mbox.toString_lc"}}},
	map[string]any{"==": []any{map[string]any{"var": "geo.isPrototypeOf"}, map[string]any{"var": "mbox.isPrototypeOf"}}},
	// Not a read of a member, but of what a platform hint named like one
	// becomes in Adobe's engine.
	map[string]any{"in": []any{"native code", map[string]any{"cat": []any{map[string]any{"var": "user.platform"}}}}},
}

// withProtoReads returns the artifact with each rule's condition joined
// (and, or) to one of protoReadRules.
func withProtoReads(t *testing.T, data []byte) []byte {
	var a map[string]any
	require.NoError(t, json.Unmarshal(data, &a))
	n := 0
	eachRule(a, func(r map[string]any) {
		op := "and"
		if n%2 == 1 {
			op = "or"
		}
		r["condition"] = map[string]any{op: []any{protoReadRules[n%len(protoReadRules)], r["condition"]}}
		n++
	})
	meta, _ := a["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		a["meta"] = meta
	}
	meta["protoRead"] = true
	out, err := json.Marshal(a)
	require.NoError(t, err)
	return out
}

// nodeReadsArtifact is the artifact as Adobe's engine reads it, for this
// engine: a rule's read of an Object.prototype member (the last name of
// the var) is the member's String() text where the context holds no value
// of that name, and always for __proto__ (JavaScript's assignment of
// __proto__ does not make a property, so a parameter of that name is
// never in the context, nor its "_lc" twin). Nil if no rule reads such a
// member.
func nodeReadsArtifact(t *testing.T, data []byte) []byte {
	var a map[string]any
	require.NoError(t, json.Unmarshal(data, &a))
	changed := false
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["var"].(string); ok && len(x) == 1 {
				parts := strings.Split(p, ".")
				last := parts[len(parts)-1]
				switch {
				case last == "__proto__":
					changed = true
					return jsPrototypeText["__proto__"]
				case last == "__proto___lc" && len(parts) == 2 && parts[0] == "mbox":
					changed = true
					return nil
				case jsPrototypeText[last] != "":
					changed = true
					return map[string]any{"if": []any{map[string]any{"==": []any{x, nil}}, jsPrototypeText[last], x}}
				}
				return x
			}
			for k, e := range x {
				x[k] = rewrite(e)
			}
		case []any:
			for i, e := range x {
				x[i] = rewrite(e)
			}
		}
		return v
	}
	eachRule(a, func(r map[string]any) { r["condition"] = rewrite(r["condition"]) })
	if !changed {
		return nil
	}
	out, err := json.Marshal(a)
	require.NoError(t, err)
	return out
}
