package targettest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure the edge injects in place of, or into, its normal
// answer to a Delivery request.
type Fault int

// The faults, each the way a client meets it on the wire.
const (
	// NoFault is a normal answer.
	NoFault Fault = iota
	// FaultServerError answers [Faults.ServerErrorStatus] (default 503) with
	// the edge's error body {"status":N,"message":"..."}.
	FaultServerError
	// FaultTooManyRequests answers 429 with a Retry-After header
	// ([Faults.RetryAfter], in whole seconds) and the error body.
	FaultTooManyRequests
	// FaultReset closes the connection with a TCP reset (SO_LINGER 0)
	// before any byte of the answer is written. Served through a
	// ResponseRecorder, it writes nothing.
	FaultReset
	// FaultSlowBody sends the status and headers at once, then the normal
	// body in [Faults.SlowBodyChunk]-byte pieces every
	// [Faults.SlowBodyInterval].
	FaultSlowBody
	// FaultMalformedJSON answers with the normal status (200 for a beacon's
	// 204), a JSON content type and the first half of the normal body,
	// which no JSON decoder accepts.
	FaultMalformedJSON

	faultCount = iota
)

var faultNames = [faultCount]string{"none", "server error", "too many requests", "connection reset", "slow body", "malformed JSON"}

// String returns the fault's name, as used in logs and test names.
func (f Fault) String() string {
	if f < 0 || int(f) >= len(faultNames) {
		return "Fault(" + strconv.Itoa(int(f)) + ")"
	}
	return faultNames[f]
}

// Faults sets how often the edge injects each fault into its answers to
// Delivery requests. Each probability is in [0, 1] and their sum must not
// exceed 1: one uniform draw per request picks at most one fault. The zero
// Faults injects nothing. [Server.ForceFault] overrides the draw for the
// next requests.
type Faults struct {
	// The probability of each fault, per Delivery request.
	ServerError     float64
	TooManyRequests float64
	Reset           float64
	SlowBody        float64
	MalformedJSON   float64

	// ServerErrorStatus is the status of FaultServerError; zero means 503.
	// It must be 5xx.
	ServerErrorStatus int
	// RetryAfter is sent with FaultTooManyRequests, rounded up to whole
	// seconds as the header requires; zero means 1s.
	RetryAfter time.Duration
	// SlowBodyChunk is how many bytes FaultSlowBody writes at a time; zero
	// means 16.
	SlowBodyChunk int
	// SlowBodyInterval is the pause between FaultSlowBody's writes; zero
	// means 20ms.
	SlowBodyInterval time.Duration
}

func (f Faults) validate() error {
	sum := 0.0
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"ServerError", f.ServerError}, {"TooManyRequests", f.TooManyRequests},
		{"Reset", f.Reset}, {"SlowBody", f.SlowBody}, {"MalformedJSON", f.MalformedJSON},
	} {
		// The negated comparison also rejects NaN.
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("targettest: Faults.%s probability %v is outside [0, 1]", p.name, p.v)
		}
		sum += p.v
	}
	switch {
	case sum > 1+1e-9:
		return fmt.Errorf("targettest: Faults probabilities add up to %v, more than 1", sum)
	case f.ServerErrorStatus != 0 && (f.ServerErrorStatus < 500 || f.ServerErrorStatus > 599):
		return fmt.Errorf("targettest: Faults.ServerErrorStatus %d is not 5xx", f.ServerErrorStatus)
	case f.RetryAfter < 0:
		return fmt.Errorf("targettest: Faults.RetryAfter %v is negative", f.RetryAfter)
	case f.SlowBodyChunk < 0:
		return fmt.Errorf("targettest: Faults.SlowBodyChunk %d is negative", f.SlowBodyChunk)
	case f.SlowBodyInterval < 0:
		return fmt.Errorf("targettest: Faults.SlowBodyInterval %v is negative", f.SlowBodyInterval)
	}
	return nil
}

// withDefaults fills the zero knobs.
func (f Faults) withDefaults() Faults {
	if f.ServerErrorStatus == 0 {
		f.ServerErrorStatus = http.StatusServiceUnavailable
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = time.Second
	}
	if f.SlowBodyChunk == 0 {
		f.SlowBodyChunk = 16
	}
	if f.SlowBodyInterval == 0 {
		f.SlowBodyInterval = 20 * time.Millisecond
	}
	return f
}

// draw picks a fault. It always consumes exactly one uniform variate.
func (f Faults) draw(r *rand.Rand) Fault {
	u := r.Float64()
	for _, c := range []struct {
		p     float64
		fault Fault
	}{
		{f.ServerError, FaultServerError}, {f.TooManyRequests, FaultTooManyRequests},
		{f.Reset, FaultReset}, {f.SlowBody, FaultSlowBody}, {f.MalformedJSON, FaultMalformedJSON},
	} {
		if u < c.p {
			return c.fault
		}
		u -= c.p
	}
	return NoFault
}

// retryAfterSeconds is d in whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// dropConnection ends the exchange without an answer. Over HTTP/1 it takes
// the connection and closes it, with SO_LINGER 0 when reset is set so the
// client sees a TCP reset rather than an orderly EOF. Where the connection
// cannot be taken it returns with nothing written: a ResponseRecorder stays
// empty, and over HTTP/2 [Server.ServeHTTP] then resets the stream.
func dropConnection(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = nc.NetConn() // the TCP connection under TLS
	}
	if tcp, ok := raw.(*net.TCPConn); reset && ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// writeSlowly writes body in chunks with a pause before each, giving up
// when ctx ends (the client went away or the server is closing).
func writeSlowly(ctx context.Context, w http.ResponseWriter, body []byte, chunk int, interval time.Duration) {
	rc := http.NewResponseController(w)
	_ = rc.Flush() // the status line and headers go out at once
	for len(body) > 0 {
		if !sleep(ctx, interval) {
			return
		}
		n := min(chunk, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		_ = rc.Flush()
		body = body[n:]
	}
}
