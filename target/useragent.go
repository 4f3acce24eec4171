package target

import (
	"regexp"
	"strconv"
	"strings"
)

// Browser and platform detection for the "user" part of the rule context.
//
// The rules Target writes compare user.browserType with lower-case names
// ("chrome", "firefox", "safari", "ie", "edge", "mobile safari") and
// user.platform with "mac", "windows", "linux"...; the patterns and their
// order are the ones Adobe's engines use, so a user agent lands in the same
// audience here as there. They are JavaScript regular expressions, compiled
// by jsRegexp to RE2 ones that match exactly what JavaScript's match.
// Client hints win over the user agent when given.

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

type browserInfo struct {
	name    string
	version int // major version, -1 when unknown
}

func matchBrowser(patterns []uaPattern, s string) browserInfo {
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
		return browserInfo{name: p.name, version: majorVersion(v)}
	}
	return browserInfo{name: unknown, version: -1}
}

// majorVersion is parseInt of the part before the first dot, -1 when that
// is not a number.
func majorVersion(v string) int {
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

// detectBrowser combines the user agent with the client hints' brand list:
// a known value from the hints replaces the user agent's.
func detectBrowser(userAgent string, hints *ClientHints) browserInfo {
	b := matchBrowser(browserPatterns, userAgent)
	if hints == nil {
		return b
	}
	brands := hints.BrowserUAWithFullVersion
	if brands == "" {
		brands = hints.BrowserUAWithMajorVersion
	}
	if brands == "" {
		return b
	}
	h := matchBrowser(clientHintBrowserPatterns, brands)
	if h.name != unknown {
		b.name = h.name
	}
	if h.version >= 0 {
		b.version = h.version
	}
	return b
}

// detectPlatform prefers the platform client hint.
func detectPlatform(userAgent string, hints *ClientHints) string {
	platform := ""
	if hints != nil && hints.Platform != "" {
		platform = hints.Platform
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
