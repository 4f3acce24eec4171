// Package useragent detects the browser and platform of a user agent, for
// the "user" part of the on-device rule context.
//
// Contract: DetectBrowser and DetectPlatform never fail; they read at most
// the first 2 KiB of a user agent, so a hostile one cannot make every
// decision slow. They cost 10 to 30 µs (regular expressions), which is why
// the engine memoizes them per user agent. Unknown values
// are "unknown" (name) and -1 (version). Client hints, when given, win over
// the user agent.
//
// Source of truth: the patterns and their order are the ones Adobe's
// decisioning engines use (the rules Target writes compare
// user.browserType with "chrome", "firefox", "safari", "ie", "edge",
// "mobile safari", and user.platform with "mac", "windows", "linux"...), so
// a user agent lands in the same audience here as there; the on-device
// differential test against Adobe's Node.js engine checks it.
package useragent

import (
	"regexp"
	"strconv"
	"strings"
)

type uaPattern struct {
	name    string
	re      *regexp.Regexp
	group   int    // submatch holding the version, 0 for none
	version string // version when the pattern has none
}

var browserPatterns = []uaPattern{
	{name: "Edge", re: regexp.MustCompile(`(?i)(edge|edgios|edga|edg)/((\d+)?[\w.]+)`), group: 2},
	{name: "Mobile Safari", re: regexp.MustCompile(`(?i)version/([\w.]+).+?mobile/\w+\s(safari)`), group: 1},
	{name: "Safari", re: regexp.MustCompile(`(?i)version/([\w.]+).+?(mobile\s?safari|safari)`), group: 1},
	{name: "Chrome", re: regexp.MustCompile(`(?i)(chrome)/v?([\w.]+)`), group: 2},
	{name: "Firefox", re: regexp.MustCompile(`(?i)(firefox)/([\w.-]+)$`), group: 2},
	{name: "IE", re: regexp.MustCompile(`(?i)(?:ms|\()(ie)\s([\w.]+)`), group: 2},
	{name: "IE", re: regexp.MustCompile(`(?i)(trident).+rv[:\s]([\w.]+).+like\sgecko`), group: 2, version: "11"},
}

var clientHintBrowserPatterns = []uaPattern{
	{name: "Chrome", re: regexp.MustCompile(`(?i)Chrome";v="([0-9.]+)"`), group: 1},
	{name: "Edge", re: regexp.MustCompile(`(?i)Edge";v="([0-9.]+)"`), group: 1},
	{name: "Safari", re: regexp.MustCompile(`(?i)Safari";v="([0-9.]+)"`), group: 1},
	{name: "Firefox", re: regexp.MustCompile(`(?i)Firefox";v="([0-9.]+)"`), group: 1},
}

var platformPatterns = []uaPattern{
	{name: "iOS", re: regexp.MustCompile(`iPhone|iPad|iPod`)},
	{name: "Android", re: regexp.MustCompile(`Android [0-9.]+;`)},
	{name: "Linux", re: regexp.MustCompile(` Linux `)},
	{name: "Unix", re: regexp.MustCompile(`FreeBSD|OpenBSD|CrOS`)},
	{name: "Windows", re: regexp.MustCompile(`[( ]Windows `)},
	{name: "Mac OS", re: regexp.MustCompile(`Macintosh;`)},
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
// its major version, -1 when unknown.
type Browser struct {
	Name    string
	Version int
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
// is not a number: how Adobe's engines read browser versions, and the
// version field of an obfuscated artifact's header.
func MajorVersion(v string) int {
	major, _, _ := strings.Cut(v, ".")
	end := 0
	for end < len(major) && major[end] >= '0' && major[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(major[:end])
	if err != nil {
		return -1
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
	platform := ""
	if platformHint != "" {
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
