package target

import (
	"net/http"
	"strings"
)

// CookieOptions say how the mbox and mboxEdgeCluster cookies are written
// to a net/http response (see [Cookie.HTTPCookie]). The zero value suits a
// site served over HTTPS, directly or behind a proxy that sets
// X-Forwarded-Proto, on a single host name.
type CookieOptions struct {
	// Secure marks the cookies Secure on every response, not only on those
	// to requests that arrived over TLS or with X-Forwarded-Proto: https.
	// Set it when TLS ends at a proxy that does not say so.
	Secure bool
	// SameSite is the cookies' SameSite attribute. Zero means Lax:
	// browsers send the cookies on the site's own pages and on top-level
	// navigations to it, which is every request a server-side integration
	// sees, and Lax is the browsers' default anyway. http.SameSiteNoneMode
	// (for a page embedded in another site) makes the cookies Secure too,
	// since browsers reject SameSite=None without it.
	SameSite http.SameSite
	// Domain is the cookies' Domain attribute, for a visitor shared by the
	// hosts of one domain (e.g. "example.com" for www. and shop.); empty
	// means the host that answered only.
	Domain string
}

// HTTPCookie returns c as a cookie for http.SetCookie on the response to
// r: the name, value and Max-Age of c, Path=/ (the visitor is the same on
// every page of the site), Secure when r came over TLS (r.TLS, or an
// X-Forwarded-Proto of https from a proxy) or opts.Secure says so, SameSite
// as opts says (Lax by default), and opts.Domain.
//
// The cookies are not HttpOnly: at.js and the Web SDK read them in hybrid
// integrations, and they hold no secret (a session id and the visitor's
// Target id, which the browser sends to Target's edge anyway). A nil r is a
// request over plain HTTP.
func (c *Cookie) HTTPCookie(r *http.Request, opts CookieOptions) *http.Cookie {
	secure := opts.Secure || requestOverTLS(r)
	sameSite := opts.SameSite
	switch sameSite {
	case 0, http.SameSiteDefaultMode:
		sameSite = http.SameSiteLaxMode
	case http.SameSiteNoneMode:
		secure = true
	}
	return &http.Cookie{
		Name:     c.Name,
		Value:    c.Value,
		MaxAge:   c.MaxAge,
		Path:     "/",
		Domain:   opts.Domain,
		Secure:   secure,
		SameSite: sameSite,
	}
}

// requestOverTLS reports whether the visitor's browser reached the site
// over TLS: directly, or through a proxy that says so in X-Forwarded-Proto
// (its first value, the one the client-facing proxy set).
func requestOverTLS(r *http.Request) bool {
	if r == nil {
		return false
	}
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// RequestCookies returns the values of the visitor's mbox and
// mboxEdgeCluster cookies in r, "" for a cookie r does not carry: the
// TargetCookie and TargetLocationHint options of a call. When a browser
// sends a cookie twice (one set per host and one per domain, say), the
// first is used, as net/http's Request.Cookie does; the call ignores a
// value that does not parse.
func RequestCookies(r *http.Request) (targetCookie, locationHint string) {
	if r == nil {
		return "", ""
	}
	if c, err := r.Cookie(MboxCookie); err == nil {
		targetCookie = c.Value
	}
	if c, err := r.Cookie(LocationHintCookie); err == nil {
		locationHint = c.Value
	}
	return targetCookie, locationHint
}

// SetCookies writes the mbox and mboxEdgeCluster cookies of resp to w as
// [Cookie.HTTPCookie] makes them for r, with the client's
// Config.Cookies. It must be called before the handler writes the status
// or the body. For the calls of a [Visitor], use [Visitor.SetCookies]
// instead: it writes one merged pair for all of them.
func (c *Client) SetCookies(w http.ResponseWriter, r *http.Request, resp *Response) {
	if resp == nil {
		return
	}
	for _, ck := range []*Cookie{resp.TargetCookie, resp.TargetLocationHintCookie} {
		if ck != nil {
			http.SetCookie(w, ck.HTTPCookie(r, c.cfg.Cookies))
		}
	}
}
