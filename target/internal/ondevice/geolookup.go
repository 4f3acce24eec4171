package ondevice

import (
	"net"
	"strings"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// When an on-device decision looks geo up, as Adobe's engines decide it:
// only for a request whose geo holds nothing but an IP address (a valid
// one, or "unknownIpAddress" for the caller's own), never for a request
// without geo data at all (the lookup would locate the server, not the
// visitor).

// unknownIPAddress asks for a lookup of the caller's own address.
const unknownIPAddress = "unknownIpAddress"

// geoLookupAddress returns the address to look up ("" for the caller's
// own) and whether to look anything up.
func geoLookupAddress(r *delivery.Request) (ip string, lookup bool) {
	if r.Context == nil || r.Context.Geo == nil {
		return "", false
	}
	g := r.Context.Geo
	for _, f := range []string{"latitude", "longitude", "countryCode", "stateCode", "city"} {
		if g.Has(f) {
			return "", false
		}
	}
	switch {
	case g.IPAddress == unknownIPAddress:
		return "", true
	case validIPAddress(g.IPAddress):
		return strings.TrimFunc(g.IPAddress, jsonlogic.IsSpace), true
	}
	return "", false
}

// validIPAddress is Adobe's address check: an IPv4 address in dotted
// decimal without leading zeros, or an IPv6 address, possibly with a zone
// ("%eth0"), with white space around either allowed.
func validIPAddress(s string) bool {
	s = strings.TrimFunc(s, jsonlogic.IsSpace)
	if s == "" {
		return false
	}
	if !strings.Contains(s, ":") {
		parts := strings.Split(s, ".")
		if len(parts) != 4 {
			return false
		}
		for _, p := range parts {
			if p == "" || len(p) > 3 || len(p) > 1 && p[0] == '0' || strings.Trim(p, "0123456789") != "" {
				return false
			}
			if n := atoi3(p); n > 255 {
				return false
			}
		}
		return true
	}
	if addr, zone, ok := strings.Cut(s, "%"); ok {
		if zone == "" || strings.ContainsAny(zone, "\n\r\u2028\u2029") {
			return false
		}
		s = addr
	}
	return !strings.ContainsFunc(s, jsonlogic.IsSpace) && net.ParseIP(s) != nil && net.ParseIP(s).To16() != nil
}

func atoi3(p string) int {
	n := 0
	for i := 0; i < len(p); i++ {
		n = n*10 + int(p[i]-'0')
	}
	return n
}
