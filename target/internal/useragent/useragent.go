// Package useragent detects the browser and platform of a user agent, for
// the "user" part of the on-device rule context.
//
// Contract: DetectBrowser and DetectPlatform never fail; they read at most
// the first 2 KiB of a user agent, so a hostile one cannot make every
// decision slow beyond a bound. They cost 10 to 70 µs for real user agents
// and up to about 2 ms for a hostile 2 KiB one (BenchmarkDetectHostile:
// the regular expressions scan from every "version/"; measured on a shared
// 2-core machine), which is why the engine memoizes them per user agent;
// a visitor sending a new hostile user agent each time pays that bound
// each decision. Unknown values
// are "unknown" (name) and -1 (version). Client hints, when given, win over
// the user agent.
//
// Source of truth: the patterns and their order are the ones Adobe's
// decisioning engines use (the rules Target writes compare
// user.browserType with "chrome", "firefox", "safari", "ie", "edge",
// "mobile safari", and user.platform with "mac", "windows", "linux"...), so
// a user agent lands in the same audience here as there; the on-device
// differential test against Adobe's Node.js engine checks it. The patterns
// are JavaScript regular expressions: jsRegexp compiles each to an RE2 one
// that matches exactly what the JavaScript one matches (RE2 differs on
// case folding, '.', and \s), and a test compares them with node's on the
// characters where the dialects differ.
package useragent

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

type uaPattern struct {
	name    string
	src     string // the JavaScript pattern
	icase   bool   // its i flag
	re      *regexp.Regexp
	group   int    // submatch holding the version, 0 for none
	version string // version when the pattern has none
}

func init() {
	for _, list := range [][]uaPattern{browserPatterns, clientHintBrowserPatterns, platformPatterns} {
		for i := range list {
			list[i].re = jsRegexp(list[i].src, list[i].icase)
		}
	}
}

var browserPatterns = []uaPattern{
	{name: "Edge", src: `(edge|edgios|edga|edg)/((\d+)?[\w.]+)`, icase: true, group: 2},
	{name: "Mobile Safari", src: `version/([\w.]+).+?mobile/\w+\s(safari)`, icase: true, group: 1},
	{name: "Safari", src: `version/([\w.]+).+?(mobile\s?safari|safari)`, icase: true, group: 1},
	{name: "Chrome", src: `(chrome)/v?([\w.]+)`, icase: true, group: 2},
	{name: "Firefox", src: `(firefox)/([\w.-]+)$`, icase: true, group: 2},
	{name: "IE", src: `(?:ms|\()(ie)\s([\w.]+)`, icase: true, group: 2},
	{name: "IE", src: `(trident).+rv[:\s]([\w.]+).+like\sgecko`, icase: true, group: 2, version: "11"},
}

var clientHintBrowserPatterns = []uaPattern{
	{name: "Chrome", src: `Chrome";v="([0-9.]+)"`, icase: true, group: 1},
	{name: "Edge", src: `Edge";v="([0-9.]+)"`, icase: true, group: 1},
	{name: "Safari", src: `Safari";v="([0-9.]+)"`, icase: true, group: 1},
	{name: "Firefox", src: `Firefox";v="([0-9.]+)"`, icase: true, group: 1},
}

var platformPatterns = []uaPattern{
	{name: "iOS", src: `iPhone|iPad|iPod`, icase: false},
	{name: "Android", src: `Android [0-9.]+;`, icase: false},
	{name: "Linux", src: ` Linux `, icase: false},
	{name: "Unix", src: `FreeBSD|OpenBSD|CrOS`, icase: false},
	{name: "Windows", src: `[( ]Windows `, icase: false},
	{name: "Mac OS", src: `Macintosh;`, icase: false},
}

// targetPlatforms maps detected platform names to the ones rules use.
var targetPlatforms = map[string]string{
	"Windows": "windows", "Macintosh": "mac", "Mac OS": "mac", "macOS": "mac", "Linux": "linux",
}

const unknown = "unknown"

// maxUserAgent bounds the text the patterns scan: real user agents are a
// few hundred bytes, and a hostile one must not make every decision slow.
const maxUserAgent = 2048

// Browser is a detected browser: its name as the patterns spell it
// ("Chrome", "Mobile Safari", "IE"; rules compare it in lower case) and
// its major version, -1 when unknown. The version is a float64 because
// Adobe's engines read it with JavaScript's parseInt, which has no upper
// bound: "Chrome/99999999999999999999" is version 1e20, not an overflow.
type Browser struct {
	Name    string
	Version float64
}

func matchBrowser(patterns []uaPattern, s string) Browser {
	if len(s) > maxUserAgent {
		s = s[:maxUserAgent]
	}
	for _, p := range patterns {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		v := p.version
		if p.group > 0 && p.group < len(m) && m[p.group] != "" {
			v = m[p.group]
		}
		return Browser{Name: p.name, Version: MajorVersion(v)}
	}
	return Browser{Name: unknown, Version: -1}
}

// MajorVersion is parseInt of the part before the first dot, -1 when that
// is not a number: how Adobe's engines read browser versions. The patterns
// capture only ASCII letters, digits, '_', '.' and '-', so parseInt reads
// the leading decimal digits. A run too long for float64 (309 digits or
// more) is the largest float64, where JavaScript has Infinity: traces,
// which carry the context as JSON, cannot write an infinity. The two
// compare alike with every other number, but not with that number itself
// or a text JavaScript reads as Infinity ("Infinity", "1e309"), and
// arithmetic on them differs: a rule "== 1.7976931348623157e308" holds
// here and "== \"Infinity\"" in Adobe's engine (a kept difference; no
// browser sends such a version).
func MajorVersion(v string) float64 {
	major, _, _ := strings.Cut(v, ".")
	end := 0
	for end < len(major) && major[end] >= '0' && major[end] <= '9' {
		end++
	}
	if end == 0 {
		return -1
	}
	// ParseFloat rounds a decimal digit string correctly, as parseInt
	// does; out of range it returns +Inf with ErrRange.
	n, err := strconv.ParseFloat(major[:end], 64)
	if err != nil {
		return math.MaxFloat64
	}
	return n
}

// DetectBrowser combines the user agent with the client hints' brand list
// (Sec-CH-UA-Full-Version-List or Sec-CH-UA, "" when not given): a known
// value from the brands replaces the user agent's.
func DetectBrowser(userAgent, brands string) Browser {
	b := matchBrowser(browserPatterns, userAgent)
	if brands == "" {
		return b
	}
	h := matchBrowser(clientHintBrowserPatterns, brands)
	if h.Name != unknown {
		b.Name = h.Name
	}
	if h.Version >= 0 {
		b.Version = h.Version
	}
	return b
}

// DetectPlatform returns the platform as rules name it ("mac", "windows",
// "linux", "iOS", "Android"...). The platform client hint
// (Sec-CH-UA-Platform, "" when not given) wins over the user agent.
func DetectPlatform(userAgent, platformHint string) string {
	return detectPlatform(userAgent, platformHint, platformHint != "")
}

// DetectPlatformHint is DetectPlatform for a platform client hint that is
// given (hasHint) or not: a hint given as "" is the platform "", as in
// Adobe's engines, which only fall back to the user agent when the hint
// is absent.
func DetectPlatformHint(userAgent, platformHint string, hasHint bool) string {
	return detectPlatform(userAgent, platformHint, hasHint)
}

func detectPlatform(userAgent, platformHint string, hasHint bool) string {
	platform := ""
	if hasHint {
		platform = platformHint
	} else {
		if len(userAgent) > maxUserAgent {
			userAgent = userAgent[:maxUserAgent]
		}
		platform = unknown
		for _, p := range platformPatterns {
			if p.re.MatchString(userAgent) {
				platform = p.name
				break
			}
		}
	}
	if t, ok := targetPlatforms[platform]; ok {
		return t
	}
	return platform
}
