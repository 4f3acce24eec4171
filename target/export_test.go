package target

import "time"

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

// The observation hook's classifications, tested on their own.
var (
	ErrorKindOf = errorKind
	RedactedURL = redactedURL
)

// VisitorIDs is what ParseVisitorCookie found in an AMCV cookie.
type VisitorIDs struct {
	MCMID        string
	LocationHint int
	Blob         string
}

// ParseVisitorCookie exposes parseVisitorCookie.
func ParseVisitorCookie(value string, now time.Time) (VisitorIDs, []string, error) {
	ids, expired, err := parseVisitorCookie(value, now)
	return VisitorIDs{ids.mcmid, ids.locationHint, ids.blob}, expired, err
}

// Backoff exposes the wait before attempt+1 after err.
func (c *Client) Backoff(attempt int, err error) time.Duration { return c.backoff(attempt, err) }

// GoroutineIDCalls is how many times goroutineID has run in the process.
func GoroutineIDCalls() int64 { return goroutineIDCalls.Load() }

// GoroutineID is the calling goroutine's id, as Close reads it.
var GoroutineID = goroutineID

// SetAfterDecision makes c call fn after each on-device decision, once
// the decision no longer counts for Close, on the deciding goroutine: a
// test forces there what may interleave.
func SetAfterDecision(c *Client, fn func()) { c.afterDecision = fn }

// ObservingLookups is how many goroutine ids c's marks of observed work
// have read.
func ObservingLookups(c *Client) int64 { return c.observing.lookups.Load() }
