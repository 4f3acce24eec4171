package ondevice

import (
	"net"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// Page URLs as rules see them. Adobe's engines split a URL as text, with
// the "loose" URI grammar their JavaScript parser uses, and compare the
// pieces as given: a path is not percent-encoded ("/café" stays "/café"),
// a fragment is everything after the first '#', a URL with no scheme still
// has a host ("example.com/x"). Rules are written against those pieces, so
// this parser cuts the same ones, except where that grammar is wrong about
// a URL (see splitPageURL).

// splitPageURL cuts raw into host, path, query and fragment the way the
// loose grammar does, with two corrections: userinfo ends at the
// authority (an '@' in a path is part of the path), and an IPv6 literal
// is one host ("[2001:db8::1]"), not a host ending at its first ':'.
func splitPageURL(raw string) (host, path, query, fragment string) {
	rest := raw
	// A scheme: letters up to ':' with no '/', '?', '#' or '.', unless the
	// text reads as user:password@ (then it is userinfo, not a scheme).
	if i := strings.IndexAny(rest, ":/?#."); i > 0 && rest[i] == ':' && !looksLikeUserinfo(rest) {
		rest = rest[i+1:]
	}
	rest = strings.TrimPrefix(rest, "//")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		rest = rest[at+1:]
		end -= at + 1
		authority = rest[:end]
	}
	var after string
	if strings.HasPrefix(authority, "[") {
		if i := strings.IndexByte(authority, ']'); i >= 0 {
			host = authority[:i+1]
			after = rest[i+1:]
		} else {
			host, after = authority, rest[end:]
		}
	} else {
		i := strings.IndexAny(rest, ":/?#")
		if i < 0 {
			i = len(rest)
		}
		host, after = rest[:i], rest[i:]
	}
	// A port: ':' and digits.
	if strings.HasPrefix(after, ":") {
		i := 1
		for i < len(after) && after[i] >= '0' && after[i] <= '9' {
			i++
		}
		after = after[i:]
	}
	// The path runs to the first '?' or '#' when it starts with '/';
	// otherwise it is one segment, and what follows a '/' after it is not
	// read at all (the grammar matches a prefix).
	if strings.HasPrefix(after, "/") {
		i := strings.IndexAny(after, "?#")
		if i < 0 {
			i = len(after)
		}
		path, after = after[:i], after[i:]
	} else {
		i := strings.IndexAny(after, "/?#")
		if i < 0 {
			i = len(after)
		}
		path, after = after[:i], after[i:]
		if strings.HasPrefix(after, "/") {
			return host, path, "", ""
		}
	}
	if strings.HasPrefix(after, "?") {
		i := strings.IndexByte(after, '#')
		if i < 0 {
			i = len(after)
		}
		query, after = after[1:i], after[i:]
	}
	if strings.HasPrefix(after, "#") {
		fragment = after[1:]
		// JavaScript's '.' stops at line terminators.
		if i := strings.IndexAny(fragment, "\n\r\u2028\u2029"); i >= 0 {
			fragment = fragment[:i]
		}
	}
	return host, path, query, fragment
}

// looksLikeUserinfo reports whether s starts with [^:@]+:[^:@/]*@.
func looksLikeUserinfo(s string) bool {
	colon := strings.IndexAny(s, ":@")
	if colon <= 0 || s[colon] != ':' {
		return false
	}
	rest := s[colon+1:]
	i := strings.IndexAny(rest, ":@/")
	return i >= 0 && rest[i] == '@'
}

// hostParts splits a host into domain, subdomain and top-level domain with
// the Public Suffix List, as Adobe's Node.js engine does: a host the list
// does not cover (one label, an unlisted or ".local" suffix, a label with
// characters a host name cannot have, an IP address) is all domain, with
// no subdomain or top-level domain. Hosts are compared in lower case (host
// names are case-insensitive), and a leading "www" label is not a
// subdomain.
//
// The list is looked up in ASCII (golang.org/x/net/publicsuffix holds it
// in punycode), so an internationalised host finds its suffix whether it
// is written in Unicode ("foo.公司.cn") or punycode ("foo.xn--55qx5d.cn").
// The top-level domain is written as the list writes it, in Unicode
// ("公司.cn" for both), and the domain and subdomain as the host wrote
// them, except that a host with any "xn--" label has them in punycode:
// both as Adobe's engine writes them.
func hostParts(host string) (domain, subdomain, tld string) {
	h := jsToLower(host)
	if strings.HasPrefix(h, "[") {
		return strings.Trim(h, "[]"), "", ""
	}
	h = strings.TrimSuffix(h, ".")
	if !validHostName(h) || net.ParseIP(h) != nil {
		return jsToLower(host), "", ""
	}
	labels := strings.Split(h, ".")
	if labels[len(labels)-1] == "local" {
		return jsToLower(host), "", ""
	}
	ascii := hostToASCII(h)
	suffix, icann := publicsuffix.PublicSuffix(ascii)
	n := strings.Count(suffix, ".") + 1
	if !icann && n == 1 || suffix == ascii || n >= len(labels) {
		// Unlisted (the list's default rule, not a listed suffix), or
		// nothing but a suffix.
		return jsToLower(host), "", ""
	}
	tld = suffixToUnicode(suffix)
	private := labels[:len(labels)-n]
	domain = private[len(private)-1] + "." + tld
	sub := strings.Join(private[:len(private)-1], ".")
	if strings.Contains(h, "xn--") {
		domain, sub = hostToASCII(domain), hostToASCII(sub)
	}
	if sub == "www" {
		sub = ""
	} else {
		sub = strings.TrimPrefix(sub, "www.")
	}
	return domain, sub, tld
}

// validHostName is the host name check of the list's JavaScript library:
// after punycode's ToASCII, 1 to 255 characters, labels of 1 to 63
// letters, digits and hyphens, not starting or ending with a hyphen. A
// label with non-ASCII characters becomes "xn--" and its RFC 3492
// encoding, which copies the label's ASCII characters and so still fails
// on any of them a host name cannot have; lengths are those of the
// encoded form, not of the UTF-8 text. ToASCII splits labels at the IDNA
// full stops (U+3002, U+FF0E, U+FF61) as well as at '.', and writes '.'
// for each, so they end labels here too.
//
// The encoding costs time in the number of distinct code points times the
// label's length, and the host is the visitor's to choose, so lengths that
// cannot fit are refused before encoding: every code point encodes to at
// least one character, so a host of more than 255 code points, or a
// non-ASCII label of more than 63 less "xn--" (and the '-' after its ASCII
// characters), is too long whatever its encoding.
func validHostName(h string) bool {
	if len(h) < 1 || utf8.RuneCountInString(h) > 255 {
		return false
	}
	total := 0
	for i, rest, more := 0, h, true; more; i++ {
		var label string
		label, rest, more = cutIDNALabel(rest)
		ascii := true
		basic, runes := 0, 0
		for _, c := range label {
			runes++
			if c < 0x80 {
				basic++
			} else {
				ascii = false
			}
		}
		n := len(label)
		if !ascii {
			least := len("xn--") + runes
			if basic > 0 {
				least++
			}
			if least > 63 {
				return false
			}
			n = len("xn--") + punycodeLen(label)
		}
		if i > 0 {
			total++ // the dot
		}
		total += n
		if n < 1 || n > 63 || total > 255 {
			return false
		}
		if ascii && (label[0] == '-' || label[len(label)-1] == '-') {
			return false
		}
		for _, c := range label {
			if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// cutIDNALabel cuts a host's first label off at '.' or an IDNA full stop,
// as punycode's ToASCII splits labels (RFC 3490 section 3.1); more reports
// whether a separator followed it.
func cutIDNALabel(h string) (label, rest string, more bool) {
	for i, c := range h {
		switch c {
		case '.', '\u3002', '\uFF0E', '\uFF61':
			return h[:i], h[i+utf8.RuneLen(c):], true
		}
	}
	return h, "", false
}
