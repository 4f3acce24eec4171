package ondevice

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

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

// urlMemo and agentMemo remember parsed URLs and user agents: 4096 URLs of
// up to 1 KB (about 4 KB each with the page context made of them, 16 MB at
// most) and 4096 user agents of up to 512 bytes (2 MB). Longer values,
// rare in real traffic, are parsed for each decision.
var (
	urlMemo   = newMemo[map[string]any](4096, maxURLMemoKey)
	agentMemo = newMemo[agentInfo](4096, maxAgentMemoKey)
)

// The longest keys the memos remember.
const (
	maxURLMemoKey    = 1024
	maxAgentMemoKey  = 512
	maxGeoMemoKey    = 256
	maxParamsMemoKey = 512
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

// paramsMemo remembers the contexts of mbox parameters by the parameters'
// names and values: a site's pages send the same few parameters for most
// visitors, and each context costs a map and a string per value. It keeps
// sets of at most 16 parameters with keys of up to maxParamsMemoKey bytes,
// and only simple ones (paramsContext's: no dotted name, which unflattens
// into nested maps far larger than the name), and at most
// paramsMemoBudget bytes of them, as paramsSetCost estimates them (about
// 4.5 KB for 16 parameters of 12-byte names and values; 4,096 sets of one
// short parameter fit).
//
// Like the URL, user agent and geo memos, it keeps visitor input after the
// decision: here parameter values, which the SDK otherwise treats as
// secrets (never in an error or a log). They stay in the process's
// memory only, until forgotten (the memo forgets everything when full),
// and nothing reads them but later decisions with the same parameters;
// the memo holds its own copies, not the caller's buffers. A memo per
// Engine would not shorten that: an artifact lives as long as the client.
var paramsMemo = newSizedMemo[map[string]any](4096, maxParamsMemoKey, paramsMemoBudget)

// paramsMemoBudget is the most paramsMemo keeps, in bytes (paramsSetCost).
const paramsMemoBudget = 1 << 20

// paramsSetCost estimates the heap a remembered set of n parameters keeps
// for a key of keyLen bytes (the names and values, which the context's
// strings share, and lengths): the key, a "_lc" name and a lower-case
// value per parameter (at most the key again), a map of 2n entries (about
// 100 bytes each with its boxed values, the map's spare room included)
// and the memo's own entry. TestParamsMemoRetained checks it against the
// heap measured.
func paramsSetCost(n, keyLen int) int {
	return 2*keyLen + n*(200+8) + 256
}

// sharedParamsContext is paramsContext, remembered (see paramsMemo). The
// map is shared by every request with the same parameters and must not be
// modified. The key is built on the stack: a remembered set costs no
// allocation.
func sharedParamsContext(params map[string]string) map[string]any {
	var names [16]string
	if len(params) > len(names) {
		return paramsContext(params)
	}
	keys := names[:0]
	for k := range params {
		if !simpleParam(k) {
			return mboxContext(params)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // a map's order varies; the key must not
	var buf [maxParamsMemoKey]byte
	key := buf[:0]
	for _, k := range keys {
		v := params[k]
		if len(key)+len(k)+len(v)+2*binary.MaxVarintLen64 > len(buf) {
			return paramsContext(params)
		}
		key = binary.AppendUvarint(key, uint64(len(k)))
		key = append(key, k...)
		key = binary.AppendUvarint(key, uint64(len(v)))
		key = append(key, v...)
	}
	k := unsafe.String(unsafe.SliceData(key), len(key))
	if m, ok := paramsMemo.cached(k); ok {
		return m
	}
	// The context is made of the memo's own copy of the key: the caller's
	// strings may be parts of a larger buffer (a request body) the memo
	// must not keep.
	own := strings.Clone(k)
	m := make(map[string]any, 2*len(keys))
	for rest := own; rest != ""; {
		name, r := cutLengthPrefixed(rest)
		value, r := cutLengthPrefixed(r)
		rest = r
		m[name] = value
		m[name+"_lc"] = jsToLower(value)
	}
	paramsMemo.rememberOwn(own, m, paramsSetCost(len(keys), len(own)))
	return m
}

// cutLengthPrefixed splits s, which begins with a uvarint length n, into
// the n bytes after it and the rest.
func cutLengthPrefixed(s string) (string, string) {
	n, w := binary.Uvarint(unsafe.Slice(unsafe.StringData(s), len(s)))
	s = s[w:]
	return s[:n], s[n:]
}

// simpleParam reports whether a parameter's context is its value and its
// lower-case twin (see paramsContext).
func simpleParam(k string) bool {
	digit := k != "" && '0' <= k[0] && k[0] <= '9' // isArrayIndex allocates an error for other names
	return !strings.Contains(k, ".") && !strings.HasSuffix(k, "_lc") && !(digit && isArrayIndex(k))
}

// paramsContext is mboxContext, faster for the common parameters: names
// with no dot (nothing to nest), no "_lc" suffix (no twin to collide with)
// and that are not array indexes. Their context is each value and its
// lower-case twin, whatever the order they are built in.
func paramsContext(params map[string]string) map[string]any {
	for k := range params {
		if !simpleParam(k) {
			return mboxContext(params)
		}
	}
	m := make(map[string]any, 2*len(params))
	for k, v := range params {
		m[k] = v
		m[k+"_lc"] = jsToLower(v)
	}
	return m
}

// requestContext is the request-wide part of the rule context: time,
// geo and browser. Each part is built the first time a condition (or a
// trace) reads it: most rules read one or two names, and a decision that
// builds every map whatever the rules read pays for all of them.
type requestContext struct {
	now     time.Time
	context *delivery.Context

	timing         bool // the three timing values are set
	timestamp, day any
	clock          any
	geo            map[string]any
	user           map[string]any
}

func (c *requestContext) lookup(name string) (any, bool) {
	switch name {
	case "geo":
		return c.geoContext(), true
	case "user":
		return c.userContext(), true
	case "current_timestamp", "current_time", "current_day":
		if !c.timing {
			m := make(map[string]any, 3)
			timingContext(c.now, m)
			c.timestamp, c.clock, c.day = m["current_timestamp"], m["current_time"], m["current_day"]
			c.timing = true
		}
		switch name {
		case "current_timestamp":
			return c.timestamp, true
		case "current_time":
			return c.clock, true
		}
		return c.day, true
	}
	return nil, false
}

func (c *requestContext) geoContext() map[string]any {
	if c.geo == nil {
		var g *delivery.Geo
		if c.context != nil {
			g = c.context.Geo
		}
		c.geo = geoMemo.get(g)
	}
	return c.geo
}

// geoContextMemo remembers geo contexts by their values: the values must
// be boxed for conditions and response tokens, which allocates, and the
// same few places recur across visitors. Contexts are shared: conditions
// only read them, response tokens copy their values, traces copy them. It
// remembers at most limit places whose key (every field, see get) is at
// most maxGeoMemoKey bytes: about 1 MB of keys and as much of values.
type geoContextMemo struct {
	mu    sync.Mutex
	m     map[string]map[string]any
	limit int
}

var noGeo delivery.Geo

var geoMemo = &geoContextMemo{m: map[string]map[string]any{}, limit: 4096}

func (c *geoContextMemo) get(g *delivery.Geo) map[string]any {
	if g == nil {
		g = &noGeo // the same context as geoContext(nil): no field present
	}
	// The key holds every field geoContext reads, each present or not,
	// strings length-prefixed so that no two geos share a key.
	var buf [128]byte
	key := buf[:0]
	for _, f := range [...]struct {
		name, value string
	}{{"countryCode", g.CountryCode}, {"stateCode", g.StateCode}, {"city", g.City}} {
		if !g.Has(f.name) {
			key = append(key, 0)
			continue
		}
		key = append(key, 1)
		key = binary.AppendUvarint(key, uint64(len(f.value)))
		key = append(key, f.value...)
	}
	// A coordinate reaches rules as the string it was read as, or as a
	// number (delivery.Geo.Coordinate): both forms are in the key.
	for _, name := range [...]string{"latitude", "longitude"} {
		// CoordinateParts, not Coordinate: boxing the number would
		// allocate on every decision, memo hit or not.
		switch f, text, isText, ok := g.CoordinateParts(name); {
		case isText:
			key = append(key, 2)
			key = binary.AppendUvarint(key, uint64(len(text)))
			key = append(key, text...)
		case ok:
			key = append(key, 1)
			key = binary.LittleEndian.AppendUint64(key, math.Float64bits(f))
		default:
			key = append(key, 0)
		}
	}
	if len(key) > maxGeoMemoKey {
		return geoContext(g) // no real place has names this long
	}
	c.mu.Lock()
	m, ok := c.m[string(key)]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = geoContext(g)
	for k, v := range m {
		if s, ok := v.(string); ok {
			m[k] = strings.Clone(s) // the caller's string may be part of a larger buffer
		}
	}
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[string(key)] = m
	c.mu.Unlock()
	return m
}

// userContext is shared with every request for the same user agent when
// there are no client hints: conditions only read it, and traces copy it.
func (c *requestContext) userContext() map[string]any {
	if c.user == nil {
		if c.context == nil || c.context.ClientHints == nil {
			ua := ""
			if c.context != nil {
				ua = c.context.UserAgent
			}
			c.user = userMemo.get(ua, func(string) map[string]any { return userContext(c.context) })
		} else {
			c.user = userContext(c.context)
		}
	}
	return c.user
}

// userMemo remembers the browser part of the context per user agent
// (without client hints), bounded as agentMemo is.
var userMemo = newMemo[map[string]any](4096, maxAgentMemoKey)

// ruleScope is the data one rule's condition reads: the request-wide
// context plus what depends on the mbox and the activity. Resolving the
// top-level names here avoids building a map per rule.
type ruleScope struct {
	req        *requestContext
	page       map[string]any
	referring  map[string]any
	mbox       map[string]any
	allocation any // a float64 in the pointer-free table (see bucketAny)
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
	return s.req.lookup(name)
}

// Value is the whole context as one object (for {"var": ""}). It is a
// deep copy: the parts are shared with later rules and requests.
func (s *ruleScope) Value() any {
	return cloneJSON(s.parts())
}

// parts is the whole context as one object whose values are shared with
// later rules and requests: its reader must copy what it hands out.
func (s *ruleScope) parts() map[string]any {
	var v contextValues
	s.values(&v)
	m := make(map[string]any, len(v))
	for i, name := range contextNames {
		m[name] = v[i]
	}
	return m
}

// contextNames are the top-level names of a rule's context, in the order
// of contextValues.
var contextNames = [...]string{"current_timestamp", "current_time", "current_day", "geo", "user", "page", "referring", "mbox", "allocation"}

// contextValues are the values of a rule's context by contextNames: the
// parts without the map (a trace keeps one per activity and builds the
// map only when it is handed out).
type contextValues [len(contextNames)]any

// values fills v with the context's values, shared with later rules and
// requests as parts' are.
func (s *ruleScope) values(v *contextValues) {
	for i, name := range contextNames[:5] {
		v[i], _ = s.req.lookup(name)
	}
	v[5] = s.page
	v[6] = s.referring
	mbox := s.mbox
	if mbox == nil {
		mbox = emptyMbox // copied by every reader, never written
	}
	v[7] = mbox
	v[8] = s.allocation
}

// cloneJSON copies the maps and slices of a JSON-like value. A map is
// copied whole (maps.Clone copies its table without hashing a key again)
// and only its maps and slices are then replaced by their copies: most of
// a context's values are strings and numbers.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any{}
		}
		out := maps.Clone(x)
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				out[k] = cloneJSON(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				out[i] = cloneJSON(e)
			default:
				out[i] = e
			}
		}
		return out
	}
	return v
}

// copyPlan copies one immutable JSON-like value (a rule's condition, in
// every trace that lists it) as cloneJSON does, without searching it: it
// holds where the value's maps and slices are, found once when the
// artifact is read. A nil plan is a value with no map or slice to copy.
type copyPlan struct {
	// The map keys or slice indexes of the containers, their values and
	// their plans.
	keys  []string
	index []int
	vals  []any
	plans []*copyPlan
	// lists and elems are what a copy takes from its slab: how many
	// lists (the value's slices, nested ones too) and how many elements
	// in all, so that a trace can size its slab before it copies.
	lists, elems int
}

// planCopy is v's copy plan; nil when v is no map or slice.
func planCopy(v any) *copyPlan {
	p := &copyPlan{}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				p.keys = append(p.keys, k)
				p.vals = append(p.vals, e)
				p.add(planCopy(e))
			}
		}
	case []any:
		p.lists, p.elems = 1, len(x)
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				p.index = append(p.index, i)
				p.vals = append(p.vals, e)
				p.add(planCopy(e))
			}
		}
	default:
		return nil
	}
	return p
}

// add appends a nested value's plan, counting what it takes.
func (p *copyPlan) add(nested *copyPlan) {
	p.plans = append(p.plans, nested)
	p.lists += nested.lists
	p.elems += nested.elems
}

// copy is a copy of v, the value p was planned from, as cloneJSON makes it;
// its lists are taken from slab.
func (p *copyPlan) copy(v any, slab *anySlab) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any{}
		}
		out := maps.Clone(x)
		for i, k := range p.keys {
			out[k] = p.plans[i].copy(p.vals[i], slab)
		}
		return out
	case []any:
		out := slab.take(len(x))
		copy(out, x)
		for i, j := range p.index {
			out[j] = p.plans[i].copy(p.vals[i], slab)
		}
		return slab.box(out)
	}
	return v
}

// anySlab hands out lists carved from larger blocks: a trace holds a
// hundred small lists, and one allocation for many of them is cheaper for
// the allocator and the collector. Each list is cut to its length and
// capacity, so an append by its owner reallocates it rather than writing
// into the next one. A block lives as long as any of its lists, so the
// lists of one slab live and die together: a trace builds its lists from
// a slab of its own, sized to it (reserve), and a trace the caller keeps
// holds its own lists and headers and nothing of any other trace. The zero
// slab is ready; without reserve it takes blocks of slabBlock elements.
type anySlab struct {
	free []any
	// headers holds the slice headers of the lists box puts in an
	// interface.
	headers [][]any
}

// reserve makes room, in one block each, for lists lists of elems elements
// in all, so that a slab filled as counted allocates twice whatever the
// number of its lists and holds nothing unused.
func (s *anySlab) reserve(lists, elems int) {
	if elems > 0 {
		s.free = make([]any, elems)
	}
	if lists > 0 {
		s.headers = make([][]any, lists)
	}
}

// box is list in an interface, as any(list) is, with the slice header
// stored in the slab's room: any(list) allocates 24 bytes for the header,
// a hundred times per trace. An interface holding a slice is a type word
// and a pointer to a header that nobody writes (the language gives no way
// to, x.([]any) copies it), which is what box builds: the type word of
// any([]any(nil)), which does not allocate, and a pointer to the header.
func (s *anySlab) box(list []any) any {
	if len(s.headers) == 0 {
		s.headers = make([][]any, slabBlock/4)
	}
	h := &s.headers[0]
	s.headers = s.headers[1:]
	*h = list
	return pointAt(any([]any(nil)), unsafe.Pointer(h))
}

// pointAt returns v, an interface holding a value of a non-pointer type
// T, with its data word set to p, which must point to a T that nobody
// writes while the interface lives: the interface then holds *p, as
// any(*p) would, without the allocation that boxing copies *p into. It
// relies on the two-word layout (type, data) of interfaces in gc, the
// one place this package does (bucketAny and anySlab.box go through it).
func pointAt(v any, p unsafe.Pointer) any {
	(*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] = p
	return v
}

// slabBlock is the length of one block; a longer list is its own block.
const slabBlock = 256

// take is a new zeroed list of n elements, never nil.
func (s *anySlab) take(n int) []any {
	if n == 0 {
		return []any{} // no allocation
	}
	if n > len(s.free) {
		if n > slabBlock/4 {
			return make([]any, n)
		}
		s.free = make([]any, slabBlock)
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}
