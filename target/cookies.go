package target

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Lifetimes of the cookies a call returns, as Adobe's SDKs set them.
const (
	sessionMaxAge      = 1860     // seconds: the edge's 30-minute session, plus a minute
	deviceMaxAge       = 63244800 // seconds: two years for the visitor's tntId
	locationHintMaxAge = 1860     // seconds
)

// Entry names inside the mbox cookie.
const (
	sessionEntry = "session"
	deviceEntry  = "PC"
)

// A Cookie is a cookie a call asks the caller to set on its response to the
// visitor's browser: Set-Cookie: {Name}={Value}; Max-Age={MaxAge}.
type Cookie struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	MaxAge int    `json:"maxAge"` // seconds
}

// cookieEntry is one "name#value#expires" part of the mbox cookie.
type cookieEntry struct {
	name    string
	value   string
	expires int64 // Unix seconds
}

// errCookieEntry is wrapped by every error parseTargetCookie reports.
var errCookieEntry = errors.New("malformed mbox cookie entry")

// maxCookieLen bounds the work on a cookie value that comes from a browser;
// real ones are well under 200 bytes.
const maxCookieLen = 4096

// noCookieEntries is what an empty cookie parses to, shared so that the
// calls without a cookie allocate no map. Callers only read the map.
var noCookieEntries = map[string]cookieEntry{}

// parseTargetCookie parses the value of the mbox cookie and returns its
// entries by name, keeping only those that have not expired at now. A
// malformed entry is skipped and reported in the error (joined, one per
// entry, with the value redacted); the well-formed entries are still
// returned, because a cookie from a browser must not stop a visitor from
// getting content. Entry names and values are URI-component decoded.
func parseTargetCookie(value string, now time.Time) (map[string]cookieEntry, error) {
	if value == "" {
		return noCookieEntries, nil
	}
	entries := map[string]cookieEntry{}
	if len(value) > maxCookieLen {
		return entries, fmt.Errorf("%w: cookie is %d bytes, over the %d-byte limit", errCookieEntry, len(value), maxCookieLen)
	}
	nowSec := now.Unix()
	var errs []error
	for i, part := range strings.Split(value, "|") {
		e, err := parseCookieEntry(part)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %d: %v", errCookieEntry, i, err))
			continue
		}
		if e.expires >= nowSec {
			entries[e.name] = e
		}
	}
	return entries, errors.Join(errs...)
}

func parseCookieEntry(s string) (cookieEntry, error) {
	fields := strings.Split(s, "#")
	if len(fields) < 3 {
		return cookieEntry{}, fmt.Errorf("want name#value#expires, got %d field(s)", len(fields))
	}
	// The messages name the kind of problem only: a malformed entry may
	// hold a tntId anywhere, its name included ("PC%23{tntId}#..."), and
	// they end up in a WARN record.
	name, err := url.PathUnescape(fields[0])
	if err != nil {
		return cookieEntry{}, errors.New("name is not URI-encoded")
	}
	val, err := url.PathUnescape(fields[1])
	if err != nil {
		return cookieEntry{}, errors.New("value is not URI-encoded")
	}
	exp, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return cookieEntry{}, errors.New("expiry is not a number")
	}
	return cookieEntry{name: name, value: val, expires: exp}, nil
}

// targetCookie builds the mbox cookie for a visitor: the session entry, and
// the PC entry when the tntId is known. MaxAge is the later of the two.
func targetCookie(sessionID, tntID string, now time.Time) *Cookie {
	c := &Cookie{}
	setTargetCookie(c, sessionID, tntID, now)
	return c
}

// setTargetCookie makes c the mbox cookie as targetCookie does, in a
// Cookie the caller holds.
func setTargetCookie(c *Cookie, sessionID, tntID string, now time.Time) {
	sec := now.Unix()
	var b strings.Builder
	b.Grow(len(sessionID) + len(tntID) + 48)
	writeCookieEntry(&b, sessionEntry, sessionID, sec+sessionMaxAge)
	maxAge := sessionMaxAge
	if tntID != "" {
		b.WriteByte('|')
		writeCookieEntry(&b, deviceEntry, tntID, sec+deviceMaxAge)
		maxAge = deviceMaxAge
	}
	*c = Cookie{Name: MboxCookie, Value: b.String(), MaxAge: maxAge}
}

func writeCookieEntry(b *strings.Builder, name, value string, expires int64) {
	b.WriteString(encodeURIComponent(name))
	b.WriteByte('#')
	b.WriteString(encodeURIComponent(value))
	b.WriteByte('#')
	var digits [20]byte // FormatInt would allocate a string to copy
	b.Write(strconv.AppendInt(digits[:0], expires, 10))
}

// encodeURIComponent escapes like JavaScript's function of that name, which
// Adobe's SDKs use for cookie entries, so that their parsers read ours: all
// but letters, digits and -_.!~*'() are percent-encoded. This also keeps '#'
// and '|' out of names and values.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !uriUnreserved[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uriUnreserved[c] {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

// uriUnreserved marks the bytes encodeURIComponent keeps as they are:
// letters, digits and -_.!~*'(). A table, since every call writes the
// session id and tntId through it (a test compares it with the rule).
var uriUnreserved = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()", byte(c)) >= 0
	}
	return t
}()

// clusterFromTntID returns the edge cluster in a tntId of the form
// "{id}.{cluster}_{node}", or "".
func clusterFromTntID(tntID string) string {
	_, hint, ok := strings.Cut(tntID, ".")
	if !ok || strings.Contains(hint, ".") {
		return ""
	}
	cluster, node, ok := strings.Cut(hint, "_")
	if !ok || cluster == "" || node == "" || strings.Contains(node, "_") || !isHostLabel(cluster) {
		return ""
	}
	return cluster
}

// clusterFromEdgeHost returns the cluster of an edge host name of the form
// "mboxedge{cluster}.tt.omtrdc.net", or "".
func clusterFromEdgeHost(host string) string {
	rest, ok := strings.CutPrefix(host, "mboxedge")
	if !ok {
		return ""
	}
	cluster, domain, ok := strings.Cut(rest, ".")
	if !ok || domain != edgeDomain || !isHostLabel(cluster) {
		return ""
	}
	return cluster
}

// edgeDomain is the domain of Target's edge hosts.
const edgeDomain = "tt.omtrdc.net"

// validSessionID reports whether s can be a sessionId: 1 to 128 printable
// ASCII characters other than space, '?' and '/' (the API's rule).
func validSessionID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '?' || c == '/' {
			return false
		}
	}
	return true
}
