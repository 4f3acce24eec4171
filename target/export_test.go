package target

// Internal parsers, exported to the external tests (fuzzing needs a
// function to call; the wire tests cover the rest through the public API).
var (
	ParseTargetCookie = parseTargetCookie
	DecodeResponse    = decodeResponse
	ParseRetryAfter   = parseRetryAfter
	ValidRequestID    = validRequestID
	ValidSessionID    = validSessionID
)

// CookieEntry exposes a parsed entry's fields to the tests.
func (e cookieEntry) Fields() (name, value string, expires int64) { return e.name, e.value, e.expires }
