package target

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// visitorCookiePrefix starts the name of the Experience Cloud ID service's
// visitor cookie, which the browser's Visitor API writes once per
// organization.
const visitorCookiePrefix = "AMCV_"

// visitorOrgID returns orgID as the Visitor API keys its state and cookie:
// an id without '@' gets the "@AdobeOrg" suffix.
func visitorOrgID(orgID string) string {
	if strings.Contains(orgID, "@") {
		return orgID
	}
	return orgID + "@AdobeOrg"
}

// VisitorCookieName returns the name of the cookie in which the browser's
// Visitor API keeps a visitor's Experience Cloud ids for the organization
// orgID: "AMCV_" and the org id (with "@AdobeOrg" added when it has no '@'),
// percent-encoded as browsers store it, so "AMCV_0123ABC%40AdobeOrg".
// Client.VisitorCookie also accepts the name with a raw '@'.
func VisitorCookieName(orgID string) string {
	return visitorCookiePrefix + encodeURIComponent(visitorOrgID(orgID))
}

// VisitorCookie returns the value of the visitor's AMCV cookie for the
// Client's organization among the cookies of r, or "" when r has none; the
// value goes as is into GetOffersOptions.VisitorCookie. The first cookie of
// that name counts, as with Request.Cookie. The name may carry the org id's
// '@' percent-encoded, as the browser's Visitor API writes it, or raw, as
// Adobe's Node SDK names it. Request.Cookie cannot find the raw form ('@' is
// not allowed in a cookie name, so net/http skips such cookies), which is
// why this reads the Cookie headers itself.
func (c *Client) VisitorCookie(r *http.Request) string {
	if r == nil {
		return ""
	}
	raw := visitorCookiePrefix + visitorOrgID(c.cfg.OrganizationID)
	encoded := VisitorCookieName(c.cfg.OrganizationID)
	for _, line := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			name = strings.TrimSpace(name)
			if name != encoded && name != raw {
				continue
			}
			value = strings.TrimSpace(value)
			if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			return value
		}
	}
	return ""
}

// visitorIDs are what a call takes from the AMCV cookie.
type visitorIDs struct {
	mcmid        string // MCMID: the Experience Cloud (Marketing Cloud) visitor id
	locationHint int    // MCAAMLH: the Audience Manager location hint, 0 for none
	blob         string // MCAAMB: the Audience Manager blob
}

// errVisitorCookie is wrapped by every error parseVisitorCookie reports.
var errVisitorCookie = errors.New("malformed visitor cookie")

// parseVisitorCookie reads the MCMID, MCAAMLH and MCAAMB fields of an AMCV
// cookie value, as the Visitor API's server library does: the value is
// URI-decoded whole, then split at '|' into an optional settings digest (a
// leading run of digits and '-'; with it, an unpaired last part is dropped)
// and KEY[-EXPIRY[s]]|VALUE pairs, a later pair overriding an earlier one.
// An expiry is Unix seconds; a field whose expiry has passed at now is left
// out and named in expired (Adobe's Node SDK would still send it, but the
// browser's Visitor API treats such a field as gone and fetches it again).
// A cookie that cannot be decoded gives no ids and an error; a used field
// without a value or with an unreadable expiry or location hint is left out
// and reported in the error, the others still count. Errors name fields and
// positions, never values, since they end up in logs.
func parseVisitorCookie(value string, now time.Time) (ids visitorIDs, expired []string, err error) {
	if value == "" || value == "T" { // "T" is the Visitor API's cookie-support probe
		return ids, nil, nil
	}
	if len(value) > maxCookieLen {
		return ids, nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", errVisitorCookie, len(value), maxCookieLen)
	}
	decoded, derr := url.PathUnescape(value)
	if derr != nil || !utf8.ValidString(decoded) {
		return ids, nil, fmt.Errorf("%w: not URI-encoded UTF-8", errVisitorCookie)
	}
	parts := strings.Split(decoded, "|")
	if isSettingsDigest(parts[0]) {
		parts = parts[1:]
		if len(parts)%2 == 1 {
			parts = parts[:len(parts)-1]
		}
	}
	type field struct {
		value   string
		expires int64 // Unix seconds, 0 for none
		bad     string
	}
	fields := make(map[string]field, 3)
	for i := 0; i < len(parts); i += 2 {
		key, exp, _ := strings.Cut(parts[i], "-")
		if key != "MCMID" && key != "MCAAMLH" && key != "MCAAMB" {
			continue
		}
		exp, _, _ = strings.Cut(exp, "-") // the Visitor API reads up to the next '-'
		var f field
		switch {
		case i+1 == len(parts):
			f.bad = "has no value"
		default:
			f.value = parts[i+1]
			if exp != "" {
				n, perr := strconv.ParseInt(strings.TrimSuffix(exp, "s"), 10, 64)
				if perr != nil || n < 0 {
					f.bad = "has an expiry that is not Unix seconds"
				}
				f.expires = n
			}
		}
		fields[key] = f
	}
	var errs []error
	use := func(key string) (string, bool) {
		f, ok := fields[key]
		switch {
		case !ok || (f.value == "" && f.bad == ""):
			return "", false
		case f.bad != "":
			errs = append(errs, fmt.Errorf("%w: field %s %s", errVisitorCookie, key, f.bad))
			return "", false
		case f.expires > 0 && now.Unix() >= f.expires:
			expired = append(expired, key)
			return "", false
		}
		return f.value, true
	}
	ids.mcmid, _ = use("MCMID")
	if v, ok := use("MCAAMLH"); ok {
		// The API takes a location hint of at least 1.
		if n, perr := strconv.ParseInt(v, 10, 32); perr == nil && n >= 1 {
			ids.locationHint = int(n)
		} else {
			errs = append(errs, fmt.Errorf("%w: field MCAAMLH is not a positive integer", errVisitorCookie))
		}
	}
	if v, ok := use("MCAAMB"); ok {
		// The edge rejects a request whose blob is over 1024 characters.
		if utf8.RuneCountInString(v) <= maxBlobLen {
			ids.blob = v
		} else {
			errs = append(errs, fmt.Errorf("%w: field MCAAMB is over %d characters", errVisitorCookie, maxBlobLen))
		}
	}
	return ids, expired, errors.Join(errs...)
}

// maxBlobLen is the longest Audience Manager blob the API accepts.
const maxBlobLen = 1024

// isSettingsDigest reports whether s is the settings digest that starts an
// AMCV cookie: one or more digits and '-'.
func isSettingsDigest(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '-' {
			return false
		}
	}
	return true
}
