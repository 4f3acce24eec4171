package delivery

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendRequest appends the JSON encoding of r to dst and returns the
// extended slice, or dst and Marshal's error (a NaN or an infinity, which
// JSON cannot hold). The bytes are exactly Marshal(r)'s ("null" for a nil
// r), without the reflection: every field of the request is written field
// by field, with a quarter to a third of Marshal's instructions (see the
// package doc) and no allocation beyond dst's growth, except one sorted key list
// for a map (Parameters, ProfileParameters, Trace.Usage) of more than 16
// entries. What it does not write as Marshal would is given to Marshal,
// whose output is appended: Geo and ClientHints read from JSON with ""
// fields or string coordinates (their MarshalJSON writes those), and NaN
// and infinities (Marshal's error).
//
// The bytes between len(dst) and cap(dst) may have been written even when
// dst is returned unchanged (on an error) or Marshal's output is appended
// (the field-by-field writing had started before it gave up): do not keep
// data there.
func AppendRequest(dst []byte, r *Request) ([]byte, error) {
	if r == nil {
		return append(dst, "null"...), nil
	}
	e := appender{b: dst}
	if e.request(r) {
		return e.b, nil
	}
	return appendMarshal(dst, r)
}

// appender writes a request as encoding/json does
// (struct fields in declaration order, omitempty as encoding/json reads
// it, map keys sorted, strings escaped without HTML escaping). Each method
// reports false for a value it does not write the way Marshal would (a
// float that is NaN or infinite, a shape it leaves to Marshal): the caller
// then starts over with Marshal.
type appender struct {
	b []byte
	// first is whether the object being written has no field yet.
	first bool
}

func (e *appender) open() { e.b = append(e.b, '{'); e.first = true }

func (e *appender) close() { e.b = append(e.b, '}'); e.first = false }

// key writes the name of the next field, with the comma before it; name
// needs no escaping.
func (e *appender) key(name string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

func (e *appender) str(name, v string) {
	e.key(name)
	e.b = appendString(e.b, v)
}

// strOmit writes a string field tagged omitempty.
func (e *appender) strOmit(name, v string) {
	if v != "" {
		e.str(name, v)
	}
}

func (e *appender) intOmit(name string, v int64) {
	if v != 0 {
		e.key(name)
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

func (e *appender) boolOmit(name string, v bool) {
	if v {
		e.key(name)
		e.b = append(e.b, "true"...)
	}
}

func (e *appender) boolPtr(name string, v *bool) {
	if v != nil {
		e.key(name)
		e.b = strconv.AppendBool(e.b, *v)
	}
}

// float writes a float64 field; false for NaN and infinities.
func (e *appender) float(name string, v float64) bool {
	e.key(name)
	var ok bool
	e.b, ok = appendFloat(e.b, v)
	return ok
}

func (e *appender) floatOmit(name string, v float64) bool {
	if v == 0 {
		return true
	}
	return e.float(name, v)
}

func (e *appender) floatPtr(name string, v *float64) bool {
	if v == nil {
		return true
	}
	return e.float(name, *v)
}

// stringMap writes a map[string]string field tagged omitempty, keys
// sorted as encoding/json sorts them (by their UTF-8 bytes).
func (e *appender) stringMap(name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	e.key(name)
	// Up to len(stack) keys are sorted on the stack; a larger map costs
	// one allocation (AppendRequest's doc states it).
	var stack [16]string
	keys := stack[:0]
	if len(m) > len(stack) {
		keys = make([]string, 0, len(m))
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		e.b = appendString(e.b, m[k])
	}
	e.b = append(e.b, '}')
	e.first = false
}

func (e *appender) request(r *Request) bool {
	e.open()
	e.strOmit("requestId", r.RequestID)
	e.strOmit("impressionId", r.ImpressionID)
	if id := r.ID; id != nil {
		e.key("id")
		e.visitorID(id)
	}
	e.intOmit("environmentId", r.EnvironmentID)
	if p := r.Property; p != nil {
		e.key("property")
		e.open()
		e.str("token", p.Token)
		e.close()
	}
	if t := r.Trace; t != nil {
		e.key("trace")
		e.open()
		e.str("authorizationToken", t.AuthorizationToken)
		e.stringMap("usage", t.Usage)
		e.close()
	}
	if c := r.Context; c != nil {
		e.key("context")
		if !e.context(c) {
			return false
		}
	}
	if ec := r.ExperienceCloud; ec != nil {
		e.key("experienceCloud")
		e.experienceCloud(ec)
	}
	if x := r.Execute; x != nil {
		e.key("execute")
		e.open()
		if !e.pageLoad(x.PageLoad) || !e.mboxes(x.Mboxes) {
			return false
		}
		e.close()
	}
	if pf := r.Prefetch; pf != nil {
		e.key("prefetch")
		e.open()
		if len(pf.Views) > 0 {
			e.key("views")
			e.b = append(e.b, '[')
			for i := range pf.Views {
				if i > 0 {
					e.b = append(e.b, ',')
				}
				v := &pf.Views[i]
				e.open()
				if !e.requestDetails(&v.RequestDetails) {
					return false
				}
				e.strOmit("name", v.Name)
				e.strOmit("key", v.Key)
				e.close()
			}
			e.b = append(e.b, ']')
		}
		if !e.pageLoad(pf.PageLoad) || !e.mboxes(pf.Mboxes) {
			return false
		}
		e.close()
	}
	if t := r.Telemetry; t != nil {
		e.key("telemetry")
		if !e.telemetry(t) {
			return false
		}
	}
	if len(r.Notifications) > 0 {
		e.key("notifications")
		e.b = append(e.b, '[')
		for i := range r.Notifications {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			if !e.notification(&r.Notifications[i]) {
				return false
			}
		}
		e.b = append(e.b, ']')
	}
	if q := r.QAMode; q != nil {
		e.key("qaMode")
		e.qaMode(q)
	}
	if p := r.Preview; p != nil {
		e.key("preview")
		e.open()
		e.strOmit("token", p.Token)
		e.close()
	}
	e.close()
	return true
}

// pageLoad writes an execute or prefetch pageLoad field, when set.
func (e *appender) pageLoad(d *RequestDetails) bool {
	if d == nil {
		return true
	}
	e.key("pageLoad")
	e.open()
	if !e.requestDetails(d) {
		return false
	}
	e.close()
	return true
}

// mboxes writes an execute or prefetch mboxes field, when not empty.
func (e *appender) mboxes(ms []MboxRequest) bool {
	if len(ms) == 0 {
		return true
	}
	e.key("mboxes")
	e.b = append(e.b, '[')
	for i := range ms {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		m := &ms[i]
		e.open()
		if !e.requestDetails(&m.RequestDetails) {
			return false
		}
		e.key("index")
		e.b = strconv.AppendInt(e.b, int64(m.Index), 10)
		e.strOmit("name", m.Name)
		e.close()
	}
	e.b = append(e.b, ']')
	return true
}

func (e *appender) qaMode(q *QAMode) {
	e.open()
	e.strOmit("token", q.Token)
	e.boolPtr("listedActivitiesOnly", q.ListedActivitiesOnly)
	e.int64s("evaluateAsTrueAudienceIds", q.EvaluateAsTrueAudienceIDs)
	e.int64s("evaluateAsFalseAudienceIds", q.EvaluateAsFalseAudienceIDs)
	if len(q.PreviewIndexes) > 0 {
		e.key("previewIndexes")
		e.b = append(e.b, '[')
		for i, p := range q.PreviewIndexes {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.open()
			e.intOmit("activityIndex", int64(p.ActivityIndex))
			e.intOmit("experienceIndex", int64(p.ExperienceIndex))
			e.close()
		}
		e.b = append(e.b, ']')
	}
	e.close()
}

// int64s writes a []int64 field tagged omitempty.
func (e *appender) int64s(name string, v []int64) {
	if len(v) == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i, x := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = strconv.AppendInt(e.b, x, 10)
	}
	e.b = append(e.b, ']')
}

func (e *appender) visitorID(id *VisitorID) {
	e.open()
	e.strOmit("tntId", id.TntID)
	e.strOmit("thirdPartyId", id.ThirdPartyID)
	e.strOmit("marketingCloudVisitorId", id.MarketingCloudVisitorID)
	if len(id.CustomerIDs) > 0 {
		e.key("customerIds")
		e.b = append(e.b, '[')
		for i, c := range id.CustomerIDs {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.open()
			e.str("id", c.ID)
			e.str("integrationCode", c.IntegrationCode)
			e.str("authenticatedState", string(c.AuthenticatedState))
			e.close()
		}
		e.b = append(e.b, ']')
	}
	e.close()
}

func (e *appender) context(c *Context) bool {
	e.open()
	e.str("channel", string(c.Channel))
	if m := c.MobilePlatform; m != nil {
		e.key("mobilePlatform")
		e.open()
		e.strOmit("deviceName", m.DeviceName)
		e.str("deviceType", string(m.DeviceType))
		e.str("platformType", string(m.PlatformType))
		e.strOmit("version", m.Version)
		e.close()
	}
	if a := c.Application; a != nil {
		e.key("application")
		e.open()
		e.strOmit("id", a.ID)
		e.strOmit("name", a.Name)
		e.strOmit("version", a.Version)
		e.close()
	}
	if s := c.Screen; s != nil {
		e.key("screen")
		e.open()
		if !e.floatOmit("width", s.Width) || !e.floatOmit("height", s.Height) ||
			!e.floatOmit("colorDepth", s.ColorDepth) || !e.floatOmit("pixelRatio", s.PixelRatio) {
			return false
		}
		e.strOmit("orientation", string(s.Orientation))
		e.close()
	}
	if w := c.Window; w != nil {
		e.key("window")
		e.open()
		if !e.floatOmit("width", w.Width) || !e.floatOmit("height", w.Height) {
			return false
		}
		e.close()
	}
	if b := c.Browser; b != nil {
		e.key("browser")
		e.open()
		e.strOmit("host", b.Host)
		e.strOmit("language", b.Language)
		e.strOmit("webGLRenderer", b.WebGLRenderer)
		e.close()
	}
	if a := c.Address; a != nil {
		e.key("address")
		e.address(a)
	}
	if g := c.Geo; g != nil {
		e.key("geo")
		if !e.geo(g) {
			return false
		}
	}
	if c.TimeOffsetInMinutes != nil && !e.float("timeOffsetInMinutes", *c.TimeOffsetInMinutes) {
		return false
	}
	e.strOmit("userAgent", c.UserAgent)
	if h := c.ClientHints; h != nil {
		if h.emptyPlatform && h.Platform == "" {
			return false // a platform read as "": ClientHints.MarshalJSON writes it
		}
		e.key("clientHints")
		e.open()
		e.boolPtr("mobile", h.Mobile)
		e.strOmit("model", h.Model)
		e.strOmit("platform", h.Platform)
		e.strOmit("platformVersion", h.PlatformVersion)
		e.strOmit("browserUAWithMajorVersion", h.BrowserUAWithMajorVersion)
		e.strOmit("browserUAWithFullVersion", h.BrowserUAWithFullVersion)
		e.strOmit("architecture", h.Architecture)
		e.strOmit("bitness", h.Bitness)
		e.close()
	}
	e.boolOmit("beacon", c.Beacon)
	e.close()
	return true
}

// geo writes a Geo read with numbers for coordinates and no field given
// as "" (any other is Geo.MarshalJSON's job: false).
func (e *appender) geo(g *Geo) bool {
	if g.empty != 0 || g.latitudeText != nil || g.longitudeText != nil {
		return false
	}
	e.open()
	e.strOmit("ipAddress", g.IPAddress)
	if !e.floatPtr("latitude", g.Latitude) || !e.floatPtr("longitude", g.Longitude) {
		return false
	}
	e.strOmit("countryCode", g.CountryCode)
	e.strOmit("stateCode", g.StateCode)
	e.strOmit("city", g.City)
	e.strOmit("zip", g.Zip)
	e.close()
	return true
}

func (e *appender) address(a *Address) {
	e.open()
	e.strOmit("url", a.URL)
	e.strOmit("referringUrl", a.ReferringURL)
	e.close()
}

func (e *appender) experienceCloud(ec *ExperienceCloud) {
	e.open()
	if am := ec.AudienceManager; am != nil {
		e.key("audienceManager")
		e.open()
		e.intOmit("locationHint", int64(am.LocationHint))
		e.strOmit("blob", am.Blob)
		e.close()
	}
	if a := ec.Analytics; a != nil {
		e.key("analytics")
		e.open()
		e.strOmit("supplementalDataId", a.SupplementalDataID)
		e.strOmit("logging", string(a.Logging))
		e.strOmit("trackingServer", a.TrackingServer)
		e.strOmit("trackingServerSecure", a.TrackingServerSecure)
		e.close()
	}
	e.close()
}

func (e *appender) telemetry(t *Telemetry) bool {
	e.open()
	if len(t.Entries) > 0 {
		e.key("entries")
		e.b = append(e.b, '[')
		for i := range t.Entries {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			te := &t.Entries[i]
			e.open()
			e.strOmit("requestId", te.RequestID)
			e.intOmit("timestamp", te.Timestamp)
			e.strOmit("mode", string(te.Mode))
			if !e.floatOmit("execution", te.Execution) || !e.floatOmit("parsing", te.Parsing) {
				return false
			}
			if f := te.Features; f != nil {
				e.key("features")
				e.open()
				e.strOmit("decisioningMethod", string(f.DecisioningMethod))
				e.intOmit("executeMboxCount", int64(f.ExecuteMboxCount))
				e.boolOmit("executePageLoad", f.ExecutePageLoad)
				e.intOmit("prefetchMboxCount", int64(f.PrefetchMboxCount))
				e.boolOmit("prefetchPageLoad", f.PrefetchPageLoad)
				e.intOmit("prefetchViewCount", int64(f.PrefetchViewCount))
				e.close()
			}
			if rq := te.Request; rq != nil {
				e.key("request")
				e.open()
				if !e.floatOmit("dns", rq.DNS) || !e.floatOmit("tls", rq.TLS) ||
					!e.floatOmit("timeToFirstByte", rq.TimeToFirstByte) || !e.floatOmit("download", rq.Download) {
					return false
				}
				e.intOmit("responseSize", rq.ResponseSize)
				e.close()
			}
			e.strOmit("telemetryServerToken", te.TelemetryServerToken)
			e.close()
		}
		e.b = append(e.b, ']')
	}
	e.close()
	return true
}

func (e *appender) notification(n *Notification) bool {
	e.open()
	if !e.requestDetails(&n.RequestDetails) {
		return false
	}
	e.str("id", n.ID)
	e.strOmit("impressionId", n.ImpressionID)
	e.str("type", string(n.Type))
	e.key("timestamp")
	e.b = strconv.AppendInt(e.b, n.Timestamp, 10)
	if len(n.Tokens) > 0 {
		e.key("tokens")
		e.b = append(e.b, '[')
		for i, t := range n.Tokens {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = appendString(e.b, t)
		}
		e.b = append(e.b, ']')
	}
	if m := n.Mbox; m != nil {
		e.key("mbox")
		e.open()
		e.strOmit("name", m.Name)
		e.strOmit("state", m.State)
		e.close()
	}
	if v := n.View; v != nil {
		e.key("view")
		e.open()
		e.strOmit("name", v.Name)
		e.strOmit("key", v.Key)
		e.strOmit("state", v.State)
		e.close()
	}
	if p := n.PageLoad; p != nil {
		e.key("pageLoad")
		e.open()
		e.strOmit("state", p.State)
		e.close()
	}
	e.close()
	return true
}

// requestDetails writes the fields of an embedded RequestDetails into the
// object being written, as encoding/json promotes them.
func (e *appender) requestDetails(d *RequestDetails) bool {
	if a := d.Address; a != nil {
		e.key("address")
		e.address(a)
	}
	e.stringMap("parameters", d.Parameters)
	e.stringMap("profileParameters", d.ProfileParameters)
	if o := d.Order; o != nil {
		e.key("order")
		e.open()
		e.strOmit("id", o.ID)
		if !e.floatPtr("total", o.Total) {
			return false
		}
		if len(o.PurchasedProductIDs) > 0 {
			e.key("purchasedProductIds")
			e.b = append(e.b, '[')
			for i, p := range o.PurchasedProductIDs {
				if i > 0 {
					e.b = append(e.b, ',')
				}
				e.b = appendString(e.b, p)
			}
			e.b = append(e.b, ']')
		}
		e.strOmit("time", o.Time)
		if o.ExperienceLocalID != nil {
			e.key("experienceLocalId")
			e.b = strconv.AppendInt(e.b, int64(*o.ExperienceLocalID), 10)
		}
		e.boolPtr("duplicate", o.Duplicate)
		e.boolPtr("outlier", o.Outlier)
		e.close()
	}
	if p := d.Product; p != nil {
		e.key("product")
		e.open()
		e.strOmit("id", p.ID)
		e.strOmit("categoryId", p.CategoryID)
		e.close()
	}
	return true
}

// appendFloat writes f as encoding/json writes a float64 (the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from 1e21
// on, with a two-digit exponent trimmed to one); false for NaN and
// infinities, which JSON cannot hold.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does
// without HTML escaping: '"' and '\\' escaped, control characters as \b,
// \f, \n, \r, \t or \u00XX, invalid UTF-8 as invalidUTF8 (a replacement
// character, as encoding/json writes it in this build), U+2028 and U+2029 as
// \u2028 and \u2029 (JSONP safety, which encoding/json keeps even then),
// everything else as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := plainPrefix(s); i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, invalidUTF8...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainPrefix returns the length of a prefix of s that appendString writes
// as it is, found 8 bytes at a time (ids, names and URLs are mostly such
// bytes): a multiple of 8, stopping before the first 8 that hold a byte
// below 0x20, '"', '\\' or from 0x80 up. Each test below sets a byte's high
// bit for such a byte; a borrow into the next byte comes only from a byte
// already flagged, so no plain block is flagged, and a flagged one is left
// to appendString's loop, byte by byte.
func plainPrefix(s string) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		_ = s[i+7]
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x|(x-ones*0x20)|((x^(ones*'"'))-ones)|((x^(ones*'\\'))-ones))&highs != 0 {
			break
		}
	}
	return i
}
