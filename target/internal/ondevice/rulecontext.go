package ondevice

import (
	"strings"
	"time"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/useragent"
)

// The rule context: what a rule's condition can read. Its shape (names,
// lower-case "_lc" copies, numbers as float64) is fixed by the artifacts,
// which Target generates for every SDK alike.

// pageContext is the parsed form of a page or referring URL, as the
// key/value map conditions read ("page.domain", "page.url_lc", ...).
// The map is shared by every request for the same URL and must not be
// modified.
func pageContext(raw string) map[string]any {
	return urlMemo.get(raw, newPageContext)
}

func newPageContext(raw string) map[string]any {
	u := parseURLParts(raw)
	m := make(map[string]any, 14)
	add := func(k, v string) {
		m[k] = v
		m[k+"_lc"] = jsToLower(v)
	}
	add("url", raw)
	add("path", u.path)
	add("query", u.query)
	add("fragment", u.fragment)
	add("subdomain", u.subdomain)
	add("domain", u.domain)
	add("topLevelDomain", u.tld)
	return m
}

// urlMemo and agentMemo remember parsed URLs and user agents; 4096
// entries each bound them to a few megabytes.
var (
	urlMemo   = newMemo[map[string]any](4096)
	agentMemo = newMemo[agentInfo](4096)
)

type urlParts struct {
	path, query, fragment  string
	domain, subdomain, tld string
}

// parseURLParts splits a URL the way rules expect (see splitPageURL and
// hostParts).
func parseURLParts(raw string) urlParts {
	var p urlParts
	if raw == "" {
		return p
	}
	var host string
	host, p.path, p.query, p.fragment = splitPageURL(raw)
	p.domain, p.subdomain, p.tld = hostParts(host)
	return p
}

// timingContext is the time part of the context, in UTC: current_day is
// 1 (Monday) to 7 (Sunday), current_time is "HHmm".
func timingContext(now time.Time, m map[string]any) {
	now = now.UTC()
	day := int(now.Weekday())
	if day == 0 {
		day = 7
	}
	m["current_timestamp"] = float64(now.UnixMilli())
	m["current_time"] = now.Format("1504")
	m["current_day"] = float64(day)
}

// userContext is the browser part of the context.
func userContext(c *delivery.Context) map[string]any {
	ua := ""
	var hints *delivery.ClientHints
	if c != nil {
		ua = c.UserAgent
		hints = c.ClientHints
	}
	var info agentInfo
	if hints == nil {
		info = agentMemo.get(ua, func(ua string) agentInfo {
			return agentInfo{useragent.DetectBrowser(ua, ""), useragent.DetectPlatform(ua, "")}
		})
	} else {
		brands := hints.BrowserUAWithFullVersion
		if brands == "" {
			brands = hints.BrowserUAWithMajorVersion
		}
		info = agentInfo{useragent.DetectBrowser(ua, brands), useragent.DetectPlatformHint(ua, hints.Platform, hints.HasPlatform())}
	}
	return map[string]any{
		"browserType":    strings.ToLower(info.browser.Name),
		"platform":       info.platform,
		"locale":         "en",
		"browserVersion": float64(info.browser.Version),
	}
}

// agentInfo is what a user agent says about the browser and platform.
type agentInfo struct {
	browser  useragent.Browser
	platform string
}

// geoContext is the geo part of the context; absent values stay absent, so
// that conditions on them are false rather than comparing with "", and
// values given empty are "".
func geoContext(g *delivery.Geo) map[string]any {
	m := make(map[string]any, 5)
	if g == nil {
		return m
	}
	if g.Has("countryCode") {
		m["country"] = g.CountryCode
	}
	if g.Has("stateCode") {
		m["region"] = g.StateCode
	}
	if g.Has("city") {
		m["city"] = g.City
	}
	if v, ok := g.Coordinate("latitude"); ok {
		m["latitude"] = v
	}
	if v, ok := g.Coordinate("longitude"); ok {
		m["longitude"] = v
	}
	return m
}

// ruleScope is the data one rule's condition reads: the request-wide
// context plus what depends on the mbox and the activity. Resolving the
// top-level names here avoids building a map per rule.
type ruleScope struct {
	base       map[string]any
	page       map[string]any
	referring  map[string]any
	mbox       map[string]any
	allocation float64
}

func (s *ruleScope) Lookup(name string) (any, bool) {
	switch name {
	case "allocation":
		return s.allocation, true
	case "mbox":
		return s.mbox, true
	case "page":
		return s.page, true
	case "referring":
		return s.referring, true
	}
	v, ok := s.base[name]
	return v, ok
}

// value is the whole context as one object (for {"var": ""} and traces).
func (s *ruleScope) Value() any {
	m := make(map[string]any, len(s.base)+4)
	for k, v := range s.base {
		m[k] = v
	}
	m["page"] = s.page
	m["referring"] = s.referring
	m["mbox"] = s.mbox
	m["allocation"] = s.allocation
	return m
}
