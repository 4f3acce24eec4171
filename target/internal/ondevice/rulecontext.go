package ondevice

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/useragent"
	"golang.org/x/net/publicsuffix"
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
		m[k+"_lc"] = strings.ToLower(v)
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

// parseURLParts splits a URL the way rules expect: the registrable domain
// and its public suffix come from the Public Suffix List (so
// "test.wayne-enterprises.us-east-1.elasticbeanstalk.com" has domain
// "wayne-enterprises.us-east-1.elasticbeanstalk.com" and top-level domain
// "us-east-1.elasticbeanstalk.com"), and a leading "www" is not a subdomain.
// A host the list does not know (a single label such as "localhost", an IP
// address) is the domain, with no subdomain or top-level domain.
func parseURLParts(raw string) urlParts {
	var p urlParts
	if raw == "" {
		return p
	}
	u, err := url.Parse(raw)
	if err != nil {
		return p
	}
	p.path = u.EscapedPath()
	if u.Opaque != "" {
		p.path = u.Opaque
	}
	p.query = u.RawQuery
	p.fragment = u.EscapedFragment()
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	p.domain = host
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return p
	}
	suffix, _ := publicsuffix.PublicSuffix(host)
	if suffix == host {
		return p
	}
	registrable, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return p
	}
	p.tld = suffix
	p.domain = registrable
	sub := strings.TrimSuffix(strings.TrimSuffix(host, registrable), ".")
	if sub == "www" {
		sub = ""
	} else {
		sub = strings.TrimPrefix(sub, "www.")
	}
	p.subdomain = sub
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
		info = agentInfo{useragent.DetectBrowser(ua, brands), useragent.DetectPlatform(ua, hints.Platform)}
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
// that conditions on them are false rather than comparing with "".
func geoContext(g *delivery.Geo) map[string]any {
	m := make(map[string]any, 5)
	if g == nil {
		return m
	}
	if g.CountryCode != "" {
		m["country"] = g.CountryCode
	}
	if g.StateCode != "" {
		m["region"] = g.StateCode
	}
	if g.City != "" {
		m["city"] = g.City
	}
	if g.Latitude != nil {
		m["latitude"] = *g.Latitude
	}
	if g.Longitude != nil {
		m["longitude"] = *g.Longitude
	}
	return m
}

// mboxContext holds an mbox's (or page load's, or view's) parameters for
// conditions: dotted names become nested objects ("favorite.color" is
// read as mbox.favorite.color), and every string value has a lower-case
// "_lc" twin at its level.
func mboxContext(params map[string]string) map[string]any {
	if len(params) == 0 {
		return map[string]any{}
	}
	nested := make(map[string]any, len(params))
	for k, v := range params {
		if !expandableKey(k) {
			nested[k] = v
			continue
		}
		parts := strings.Split(k, ".")
		cur := nested
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[parts[len(parts)-1]] = v
	}
	return withLowerCase(nested)
}

func expandableKey(k string) bool {
	return strings.Contains(k, ".") && !strings.Contains(k, "..") &&
		!strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".")
}

func withLowerCase(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)*2)
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
			out[k+"_lc"] = strings.ToLower(x)
		case map[string]any:
			out[k] = withLowerCase(x)
		default:
			out[k] = v
		}
	}
	return out
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
