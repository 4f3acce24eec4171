package target

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/target-go/sdk/target/delivery"
)

// prepared is a validated request, filled in as Adobe's SDKs fill it; body
// is set by encode, for the wire only.
type prepared struct {
	req       *DeliveryRequest
	method    DecisioningMethod // the call's decisioning method, never ""
	body      []byte
	host      string
	cluster   string // the edge cluster the request goes to, "" for none
	sessionID string
	tntID     string
	sent      []TelemetryEntry // telemetry entries the request carries
	secrets   callSecrets      // built only if the call fails; see secretSet
	// visitor is what the Response's VisitorState is built from, set by
	// takeSDID, so that it shows the ids this call used.
	visitor visitorSource
	// The supplemental data ids the call takes its id from (nil when it
	// shows no state), under consumerID; needSDID when the request needs
	// one. See takeSDID.
	sdids       *SupplementalDataIDs
	consumerID  string
	needSDID    bool
	customerIDs []VisitorCustomerID
	// freshSDID is the fresh supplemental data id prepare made for a
	// direct call that needs one without a page view's ids.
	freshSDID string

	// The parts of the request the call replaces, kept here so that the
	// call's copy costs one allocation, not one per part.
	reqv      DeliveryRequest
	ec        ExperienceCloud
	analytics AnalyticsRequest
	ex        ExecuteRequest
	pf        PrefetchRequest
	telemetry Telemetry

	// remote is the state of a server-side call (see goRemote), in the
	// same allocation (a callState); a pointer, so that prepared can be
	// copied.
	remote *remoteCall
	// into, when set, is where exchange builds the Response: set by
	// goRemote for this call only (a copy of p made for another request
	// must clear it).
	into *Response
}

// callState puts a call's prepared request and its remote call state in
// one allocation.
type callState struct {
	prepared
	remote remoteCall
}

// secretSet returns the call's secrets, inside p so that a call that
// succeeds pays no allocation for them.
func (p *prepared) secretSet() *callSecrets {
	p.secrets.p = p
	return &p.secrets
}

// prepare checks a call and fills in its request, on the caller's
// goroutine, for the edge and on-device decisioning alike: decisioning
// method, session id, cookie, request checks, visitor, request id,
// environment, property, analytics, edge cluster. What only the wire needs
// is left to encode: on-device decisions skip it, since the encoding and
// the pending telemetry cost more than the decision itself.
func (c *Client) prepare(in DeliveryRequest, co callOptions, check func(*DeliveryRequest) error) (*prepared, error) {
	method := co.method
	if method == "" {
		method = c.cfg.DecisioningMethod
	}
	if err := validDecisioningMethod(method); err != nil {
		return nil, optionError("DecisioningMethod", "%v", err)
	}
	if method != ServerSide && c.od == nil {
		return nil, fmt.Errorf("%w: the call asks for %s", ErrOnDeviceUnavailable, method)
	}
	if co.sessionID != "" && !validSessionID(co.sessionID) {
		return nil, optionError("SessionID", "must be 1 to 128 printable characters without space, '?' or '/'")
	}
	now := time.Now()
	entries, err := parseTargetCookie(co.cookie, now)
	if err != nil {
		// err names entry positions and reasons, never values.
		c.log.Warn("target: ignoring malformed parts of the mbox cookie", "error", err)
	}

	cs := &callState{}
	p := &cs.prepared
	p.remote = &cs.remote
	p.reqv, p.method, p.consumerID, p.customerIDs = in, method, co.consumerID, co.customerIDs
	req := &p.reqv // shallow copy; every field changed below is replaced, not mutated
	p.req = req
	// The request id becomes a header and the environment id a query-like
	// field of the body: both are checked here, before anything is sent,
	// rather than left to net/http's error on the wire.
	if req.RequestID != "" && !validRequestID(req.RequestID) {
		return nil, optionError("Request.RequestID", "must be 1 to %d visible ASCII characters (it is sent as the X-Request-Id header)", maxRequestIDLen)
	}
	if req.EnvironmentID < 0 {
		return nil, optionError("Request.EnvironmentID", "negative (%d)", req.EnvironmentID)
	}
	// An on-device geo lookup sends the address as X-Forwarded-For, when
	// the engine takes it for an address (as Adobe's does); anything else,
	// "unknownIpAddress" included, goes only in the JSON body, where the
	// edge judges it. So no control character, and no IPv6 zone: netip
	// and Adobe's check take a zone ("%eth0") as free text, and no
	// visitor's address has one.
	if cx := req.Context; cx != nil && cx.Geo != nil && cx.Geo.IPAddress != "" {
		ip := cx.Geo.IPAddress
		if strings.ContainsFunc(ip, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return nil, optionError("Request.Context.Geo.IPAddress", "holds a control character (it may be sent as the X-Forwarded-For header)")
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(ip)); err == nil && a.Zone() != "" || strings.Contains(ip, "%") {
			return nil, optionError("Request.Context.Geo.IPAddress", "an IPv6 zone is not a visitor's address")
		}
	}
	if err := normalizeRequest(req, now, &p.ex, &p.pf); err != nil {
		return nil, err
	}
	if err := check(req); err != nil {
		return nil, err
	}
	customerIDs, err := deliveryCustomerIDs(co.customerIDs)
	if err != nil {
		return nil, err
	}
	if err := checkMergedCustomerIDs(req, len(customerIDs)); err != nil {
		return nil, err
	}
	ids := c.readVisitorCookie(co.visitorCookie, now)
	fillVisitor(req, entries, customerIDs, ids.mcmid)
	if req.EnvironmentID == 0 {
		req.EnvironmentID = c.cfg.EnvironmentID
	}
	if req.Property == nil && c.cfg.PropertyToken != "" {
		req.Property = &Property{Token: c.cfg.PropertyToken}
	}
	req.ExperienceCloud, p.sdids, p.needSDID = withExperienceCloud(&p.ec, &p.analytics, req.ExperienceCloud, ids, co)
	if req.ID != nil {
		p.tntID = req.ID.TntID
	}
	p.sessionID = co.sessionID
	if e, ok := entries[sessionEntry]; ok && validSessionID(e.value) {
		p.sessionID = e.value
	}
	// The ids the call makes share one string (one allocation, not three).
	// Only a direct call makes its fresh supplemental data id here: a
	// notification's request may be encoded again, with another id each
	// time (see takeSDID).
	freshSD := co.direct && p.needSDID && p.sdids == nil
	if req.RequestID == "" || p.sessionID == "" || freshSD {
		var rid, sid string
		rid, sid, p.freshSDID = freshIDs(req.RequestID == "", p.sessionID == "", freshSD)
		if rid != "" {
			req.RequestID = rid
		}
		if sid != "" {
			p.sessionID = sid
		}
	}
	hint := co.hint
	if hint != "" && !isHostLabel(hint) {
		c.log.Warn("target: ignoring a location hint that is not a cluster id")
		hint = ""
	}
	p.host, p.cluster = c.selectHost(p.tntID, hint)
	return p, nil
}

// takeSDID gives p's request its supplemental data id, when it needs one,
// and sets p.visitor. It runs only once the call is sure to be sent or
// decided, so that a call failing before that leaves a page view's ids as
// they were; encode gives the id back if it cannot encode the request.
func (c *Client) takeSDID(p *prepared) (undo sdidUndo) {
	if p.needSDID && p.sdids == nil {
		// A call without a page view's ids gets a fresh id, whose state
		// is known without the SupplementalDataIDs a take would make,
		// lock and copy: a fifth of the allocations of a call. Nothing
		// is shared, so there is nothing to undo either.
		id := p.freshSDID
		if id == "" {
			id = newSupplementalDataID()
		}
		p.req.ExperienceCloud.Analytics.SupplementalDataID = id
		p.visitor = newVisitorSource(c.cfg.OrganizationID, p.customerIDs, nil)
		p.visitor.freshID, p.visitor.freshKey = id, consumedKey(p.consumerID)
		return sdidUndo{}
	}
	if p.needSDID {
		if p.sdids == nil {
			p.sdids = &SupplementalDataIDs{}
		}
		// withExperienceCloud made Analytics the call's own copy.
		p.req.ExperienceCloud.Analytics.SupplementalDataID, undo = p.sdids.take(p.consumerID)
	}
	var sdid *SupplementalDataIDState
	if p.sdids != nil {
		sdid = p.sdids.State()
	}
	p.visitor = newVisitorSource(c.cfg.OrganizationID, p.customerIDs, sdid)
	return undo
}

// defaultConsumerKey is the consumed-map key of DefaultConsumerID.
const defaultConsumerKey = "payload:" + DefaultConsumerID

// consumedKey is the consumed-map key of consumerID ("" for
// DefaultConsumerID).
func consumedKey(consumerID string) string {
	if consumerID != "" && consumerID != DefaultConsumerID {
		return "payload:" + consumerID
	}
	return defaultConsumerKey
}

// encode readies p for the wire: it takes the supplemental data id, adds
// the pending telemetry to the request and encodes it. The telemetry and
// the id are given back if encoding fails.
func (c *Client) encode(p *prepared) error {
	req := p.req
	undo := c.takeSDID(p)
	if c.telemetry {
		p.sent = c.takeTelemetry()
		if len(p.sent) > 0 {
			// p.sent is the call's own (takeTelemetry hands the pending
			// slice over), so with no entries of the caller's it is sent
			// as it is.
			t := &p.telemetry
			if req.Telemetry != nil && len(req.Telemetry.Entries) > 0 {
				t.Entries = make([]TelemetryEntry, 0, len(req.Telemetry.Entries)+len(p.sent))
				t.Entries = append(t.Entries, req.Telemetry.Entries...)
				t.Entries = append(t.Entries, p.sent...)
			} else {
				t.Entries = p.sent
			}
			req.Telemetry = t
		}
	}
	var err error
	if p.body, err = encodeRequest(req); err != nil {
		c.giveBackTelemetry(p.sent)
		undo.undo()
		// Only values JSON cannot hold (NaN, infinities) get here.
		return &OptionError{Field: "Request", Reason: "cannot be encoded as JSON: " + err.Error()}
	}
	return nil
}

// encodeRequest encodes a request as encodeJSON does, with
// delivery.AppendRequest: written without reflection into a pooled
// buffer, with a quarter to a third of encoding/json's instructions, and
// the result is
// the one allocation (one more for a map of more than 16 entries:
// AppendRequest sorts its keys on the heap).
func encodeRequest(req *DeliveryRequest) ([]byte, error) {
	e := encoderPool.Get().(*pooledEncoder)
	defer e.put()
	b, err := delivery.AppendRequest(e.scratch[:0], req)
	if err != nil {
		return nil, err
	}
	if cap(b) <= maxPooledEncoderBuf {
		e.scratch = b[:0]
	}
	return bytes.Clone(b), nil
}

// encodeJSON encodes v without HTML escaping: option content and URLs go to
// the edge byte for byte, as Adobe's SDKs send them. It gives the same
// bytes as delivery.Marshal, through a pooled encoder and buffer: the
// result is the one allocation, where a fresh encoder and buffer cost
// three.
func encodeJSON(v any) ([]byte, error) {
	e := encoderPool.Get().(*pooledEncoder)
	defer e.put()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})), nil
}

// pooledEncoder is a JSON encoder without HTML escaping, writing to buf.
type pooledEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	// scratch is encodeRequest's buffer.
	scratch []byte
}

// maxPooledEncoderBuf keeps an encoder that wrote a large request (a big
// batch of notifications, say) out of the pool, so that the pool does not
// pin its buffer.
const maxPooledEncoderBuf = 64 << 10

var encoderPool = sync.Pool{New: func() any {
	e := &pooledEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *pooledEncoder) put() {
	if e.buf.Cap() > maxPooledEncoderBuf {
		return
	}
	e.buf.Reset()
	encoderPool.Put(e)
}

// selectHost picks the edge host: the cluster from the tntId, else the
// caller's location hint, else the cluster learned from earlier answers,
// else the configured hint; with no cluster, the server domain, else
// {client}.tt.omtrdc.net.
func (c *Client) selectHost(tntID, hint string) (host, cluster string) {
	cluster = clusterFromTntID(tntID)
	if cluster == "" {
		cluster = hint
	}
	if cluster == "" {
		if p := c.cluster.Load(); p != nil {
			cluster = *p
		}
	}
	if cluster == "" {
		cluster = c.cfg.LocationHint
	}
	switch {
	case cluster != "":
		return "mboxedge" + cluster + "." + edgeDomain, cluster
	case c.cfg.ServerDomain != "":
		return c.cfg.ServerDomain, ""
	}
	return c.cfg.Client + "." + edgeDomain, ""
}

// fillVisitor sets the visitor ids: the tntId from the cookie's PC entry
// and the Experience Cloud id from the visitor cookie, each unless the
// request has one, and the call's customer ids before the request's own,
// as Adobe's SDKs order them.
func fillVisitor(req *DeliveryRequest, entries map[string]cookieEntry, customerIDs []CustomerID, mcmid string) {
	var id VisitorID
	if req.ID != nil {
		id = *req.ID
	}
	if len(customerIDs) > 0 {
		id.CustomerIDs = append(customerIDs, id.CustomerIDs...)
	}
	if e, ok := entries[deviceEntry]; ok && id.TntID == "" && e.value != "" {
		id.TntID = e.value
	}
	if id.MarketingCloudVisitorID == "" {
		id.MarketingCloudVisitorID = mcmid
	}
	req.ID = nil // an empty "id" object would be rejected by the edge
	if id.TntID != "" || id.ThirdPartyID != "" || id.MarketingCloudVisitorID != "" || len(id.CustomerIDs) > 0 {
		// A copy made here, not &id: that would put id on the heap for
		// the calls that send none too.
		out := id
		req.ID = &out
	}
}

// readVisitorCookie parses the call's AMCV cookie value. What it cannot use
// is logged by field name, never with a value, and otherwise ignored: a
// browser's cookie must not stop the visitor from getting content.
func (c *Client) readVisitorCookie(value string, now time.Time) visitorIDs {
	ids, expired, err := parseVisitorCookie(value, now)
	if err != nil {
		c.log.Warn("target: ignoring malformed parts of the visitor cookie", "error", err)
	}
	if len(expired) > 0 {
		c.log.Info("target: ignoring expired fields of the visitor cookie", "fields", expired)
	}
	return ids
}

// withExperienceCloud returns ec, keeping whatever the caller set, with the
// Audience Manager location hint and blob of the visitor cookie, analytics
// logging (server_side unless set) and, for server-side logging, a
// supplemental data id, as Adobe's SDKs send on every request. The id is
// taken later, by takeSDID, from the call's SupplementalDataIDs (a fresh
// one when it has none) under its consumer id: need reports whether the
// request needs one (a request that carries an id keeps it, and client-side
// logging takes none, since the page forwards the Analytics payload
// itself), and sdids is the call's state for the Response, nil when it has
// none and needs no id.
//
// The copies are made in e and a, which the caller provides (a call's
// prepared state), so that they cost no allocation of their own.
func withExperienceCloud(e *ExperienceCloud, a *AnalyticsRequest, ec *ExperienceCloud, ids visitorIDs, co callOptions) (out *ExperienceCloud, sdids *SupplementalDataIDs, need bool) {
	*e = ExperienceCloud{}
	if ec != nil {
		*e = *ec
	}
	if ids.locationHint != 0 || ids.blob != "" {
		am := AudienceManager{}
		if e.AudienceManager != nil {
			am = *e.AudienceManager
		}
		if am.LocationHint == 0 {
			am.LocationHint = ids.locationHint
		}
		if am.Blob == "" {
			am.Blob = ids.blob
		}
		e.AudienceManager = &am
	}
	*a = AnalyticsRequest{}
	if e.Analytics != nil {
		*a = *e.Analytics
	}
	if a.Logging == "" {
		a.Logging = LoggingServerSide
	}
	need = a.SupplementalDataID == "" && a.Logging == LoggingServerSide
	e.Analytics = a
	return e, co.sdids, need
}

// normalizeRequest applies the defaults every request gets and checks what
// both calls share: the channel, mbox names and indexes. The copies of
// req's Execute and Prefetch are made in ex and pf when they are not nil
// (a call's own state), else allocated.
func normalizeRequest(req *DeliveryRequest, now time.Time, ex *ExecuteRequest, pf *PrefetchRequest) error {
	switch {
	case req.Context == nil:
		req.Context = &Context{Channel: ChannelWeb}
	case req.Context.Channel == "":
		cx := *req.Context
		cx.Channel = ChannelWeb
		req.Context = &cx
	case req.Context.Channel != ChannelWeb && req.Context.Channel != ChannelMobile:
		return optionError("Request.Context.Channel", "%q is not web or mobile", req.Context.Channel)
	}
	// Execute and Prefetch are copied whatever they hold: the call reads
	// them after it returns (telemetry, Response.Request), when the
	// caller may be changing its own.
	if req.Execute != nil {
		if ex == nil {
			ex = new(ExecuteRequest)
		}
		*ex = *req.Execute
		req.Execute = ex
		if len(ex.Mboxes) > 0 {
			mboxes, err := normalizeMboxes(ex.Mboxes, "Request.Execute.Mboxes")
			if err != nil {
				return err
			}
			ex.Mboxes = mboxes
		}
	}
	if req.Prefetch != nil {
		if pf == nil {
			pf = new(PrefetchRequest)
		}
		*pf = *req.Prefetch
		req.Prefetch = pf
		if len(pf.Mboxes) > 0 {
			mboxes, err := normalizeMboxes(pf.Mboxes, "Request.Prefetch.Mboxes")
			if err != nil {
				return err
			}
			pf.Mboxes = mboxes
		}
	}
	if len(req.Notifications) > 0 {
		ns := make([]Notification, len(req.Notifications))
		for i, n := range req.Notifications {
			// Named only on error: every on-device display notification
			// passes here.
			field := func(sub string) string { return "Request.Notifications[" + strconv.Itoa(i) + "]" + sub }
			switch {
			case n.ID == "":
				return optionError(field(".ID"), "required")
			case n.Type != MetricTypeDisplay && n.Type != MetricTypeClick:
				return optionError(field(".Type"), "%q is not display or click", n.Type)
			case n.Mbox != nil && n.View != nil:
				return optionError(field(""), "Mbox and View are mutually exclusive")
			case n.Timestamp < 0:
				return optionError(field(".Timestamp"), "negative")
			// The spec's limits, which the edge enforces by refusing the
			// whole request: checked here so that a notification the
			// queue would merge with others' fails alone, at once.
			case utf8.RuneCountInString(n.ID) > maxNotificationIDLen:
				return optionError(field(".ID"), "longer than %d characters", maxNotificationIDLen)
			case utf8.RuneCountInString(n.ImpressionID) > maxImpressionIDLen:
				return optionError(field(".ImpressionID"), "longer than %d characters", maxImpressionIDLen)
			case n.Mbox != nil && n.Mbox.Name == "":
				return optionError(field(".Mbox.Name"), "required when Mbox is set")
			}
			if n.Timestamp == 0 {
				n.Timestamp = now.UnixMilli()
			}
			ns[i] = n
		}
		req.Notifications = ns
	}
	return nil
}

// normalizeMboxes checks names and indexes. Go cannot tell an unset index
// from index 0, so a list whose indexes are all zero gets positions 0..n-1
// (what Adobe's SDKs do for mboxes without an index); otherwise indexes
// must be unique, since they correlate requests with responses. A
// negative index is an index like any other: the spec's is any int32, and
// Adobe's engine decides it.
func normalizeMboxes(in []MboxRequest, field string) ([]MboxRequest, error) {
	allZero := true
	seen := make(map[int]int, len(in))
	for i, m := range in {
		if m.Name == "" {
			return nil, optionError(fmt.Sprintf("%s[%d].Name", field, i), "required")
		}
		if m.Index != 0 {
			allZero = false
		}
	}
	if allZero && len(in) > 1 {
		out := make([]MboxRequest, len(in))
		for i, m := range in {
			m.Index = i
			out[i] = m
		}
		return out, nil
	}
	for i, m := range in {
		if j, dup := seen[m.Index]; dup {
			return nil, optionError(fmt.Sprintf("%s[%d].Index", field, i), "%d is also the index of %s[%d]", m.Index, field, j)
		}
		seen[m.Index] = i
	}
	return in, nil
}

func validateOffersRequest(req *DeliveryRequest) error {
	ex, pf := req.Execute, req.Prefetch
	hasExecute := ex != nil && (ex.PageLoad != nil || len(ex.Mboxes) > 0)
	hasPrefetch := pf != nil && (pf.PageLoad != nil || len(pf.Mboxes) > 0 || len(pf.Views) > 0)
	if !hasExecute && !hasPrefetch {
		return optionError("Request", "needs Execute or Prefetch with a page load, view or mbox")
	}
	return nil
}

func validateNotificationsRequest(req *DeliveryRequest) error {
	if len(req.Notifications) == 0 {
		return optionError("Request.Notifications", "at least one notification is required")
	}
	return nil
}

// The spec's maxLength of a notification's id and impressionId.
const (
	maxNotificationIDLen = 200
	maxImpressionIDLen   = 128
)

// maxRequestIDLen is the spec's maxLength of requestId.
const maxRequestIDLen = 128

// validRequestID reports whether s can be sent as the request id: in the
// X-Request-Id header it must survive as it is, so no control characters,
// no DEL, no white space (which a header value loses at its ends) and no
// bytes outside ASCII.
func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// uuidLen and sdidLen are the lengths of newUUID's and
// newSupplementalDataID's ids.
const (
	uuidLen = 36
	sdidLen = 33
)

// newUUID returns a random (version 4) UUID from crypto/rand.
func newUUID() string {
	var s [uuidLen]byte
	putUUID(&s)
	return string(s[:])
}

// putUUID writes a random (version 4) UUID from crypto/rand into s.
func putUUID(s *[uuidLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	formatUUID(s[:], b[:])
}

// newUUIDs fills dst with random (version 4) UUIDs, up to four from one
// read of crypto/rand and one string: an execute decision needs three
// (request, notification, impression), and each string is an allocation.
// The ids share their backing array, 36 bytes apiece, and live together.
func newUUIDs(dst []string) {
	for len(dst) > 0 {
		n := min(len(dst), 4)
		var b [4 * 16]byte
		_, _ = rand.Read(b[:n*16])
		var s [4 * uuidLen]byte
		for i := range n {
			formatUUID(s[i*uuidLen:(i+1)*uuidLen], b[i*16:(i+1)*16])
		}
		all := string(s[:n*uuidLen])
		for i := range n {
			dst[i] = all[i*uuidLen : (i+1)*uuidLen]
		}
		dst = dst[n:]
	}
}

// formatUUID writes the 16 random bytes b as a version 4 UUID into s (36
// bytes). Each byte's two digits are one table entry stored at a constant
// place, without a loop or a bounds check: hex.Encode, a loop per group,
// cost about 400 instructions a UUID, this about 80, and an on-device
// decision formats three.
func formatUUID(s, b []byte) {
	d, r := (*[uuidLen]byte)(s), (*[16]byte)(b)
	r[6] = r[6]&0x0f | 0x40
	r[8] = r[8]&0x3f | 0x80
	le := binary.LittleEndian
	le.PutUint16(d[0:], hexPairs[r[0]])
	le.PutUint16(d[2:], hexPairs[r[1]])
	le.PutUint16(d[4:], hexPairs[r[2]])
	le.PutUint16(d[6:], hexPairs[r[3]])
	d[8] = '-'
	le.PutUint16(d[9:], hexPairs[r[4]])
	le.PutUint16(d[11:], hexPairs[r[5]])
	d[13] = '-'
	le.PutUint16(d[14:], hexPairs[r[6]])
	le.PutUint16(d[16:], hexPairs[r[7]])
	d[18] = '-'
	le.PutUint16(d[19:], hexPairs[r[8]])
	le.PutUint16(d[21:], hexPairs[r[9]])
	d[23] = '-'
	le.PutUint16(d[24:], hexPairs[r[10]])
	le.PutUint16(d[26:], hexPairs[r[11]])
	le.PutUint16(d[28:], hexPairs[r[12]])
	le.PutUint16(d[30:], hexPairs[r[13]])
	le.PutUint16(d[32:], hexPairs[r[14]])
	le.PutUint16(d[34:], hexPairs[r[15]])
}

// hexPairs holds the two lower-case hex digits of every byte value, the
// first in the low byte (stored little-endian, it comes first).
var hexPairs = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = uint16(digits[i>>4]) | uint16(digits[i&0x0f])<<8
	}
	return t
}()

// newSupplementalDataID returns a random id in the Analytics format: 16 hex
// digits, '-', 16 hex digits (33 characters, as the spec requires). Each
// half is a non-negative signed 64-bit number, first digit 0-7, as Adobe's
// Visitor API generates them.
func newSupplementalDataID() string {
	var s [sdidLen]byte
	putSupplementalDataID(&s)
	return string(s[:])
}

// putSupplementalDataID writes a random id in newSupplementalDataID's
// format into s.
func putSupplementalDataID(s *[sdidLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	formatSupplementalDataID(s, &b)
}

// formatSupplementalDataID writes the 16 random bytes b into s in
// newSupplementalDataID's format.
func formatSupplementalDataID(s *[sdidLen]byte, b *[16]byte) {
	// Each half is a signed 64-bit number in Adobe's generator: its first
	// hex digit is 0-7.
	b[0] &= 0x7f
	b[8] &= 0x7f
	// Upper-case hex written in place: bytes.ToUpper would allocate a copy
	// before the string does.
	const digits = "0123456789ABCDEF"
	for i, c := range b {
		j := 2 * i
		if i >= 8 {
			j++ // past the '-'
		}
		s[j], s[j+1] = digits[c>>4], digits[c&0x0f]
	}
	s[16] = '-'
}

// freshIDs returns the random ids a call needs, made in one string from
// one read of crypto/rand: a request id when reqID, a session id when
// session, a supplemental data id when sdid; "" for each not asked for.
func freshIDs(reqID, session, sdid bool) (r, sess, sd string) {
	var rnd [3 * 16]byte
	k := 0
	for _, want := range [...]bool{reqID, session, sdid} {
		if want {
			k += 16
		}
	}
	_, _ = rand.Read(rnd[:k])
	var buf [2*uuidLen + sdidLen]byte
	n, k := 0, 0
	if reqID {
		formatUUID(buf[n:n+uuidLen], rnd[k:k+16])
		n, k = n+uuidLen, k+16
	}
	if session {
		formatUUID(buf[n:n+uuidLen], rnd[k:k+16])
		n, k = n+uuidLen, k+16
	}
	if sdid {
		formatSupplementalDataID((*[sdidLen]byte)(buf[n:]), (*[16]byte)(rnd[k:]))
		n += sdidLen
	}
	all := string(buf[:n])
	if reqID {
		r, all = all[:uuidLen], all[uuidLen:]
	}
	if session {
		sess, all = all[:uuidLen], all[uuidLen:]
	}
	return r, sess, all
}
