package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

// TestOwnTransportTLSTimings: the client's own transport adds its DNS and
// connect hooks only when it dials (dialTraced). Over TLS, HTTP/1.1 and
// HTTP/2, through the first-connection gate: a call on a new connection
// has its Connect and TLS phases, a call on a reused one has none. It
// trusts the edges through SSL_CERT_FILE, which Go reads once per process,
// so it skips when a TLS client of the process ran first; run it alone to
// be sure it runs: go test -count=1 -run TestOwnTransportTLSTimings ./bench/
func TestOwnTransportTLSTimings(t *testing.T) {
	edges := map[bool]*edgeProcess{}
	for _, http1 := range []bool{true, false} {
		p, err := protocolEdge(t.Context(), http1)
		require.NoError(t, err)
		defer p.close()
		edges[http1] = p
	}
	if err := trustEdges(t.TempDir(), edges[true], edges[false]); err != nil {
		t.Skip(err)
	}
	for _, http1 := range []bool{true, false} {
		name := map[bool]string{true: "http1.1", false: "h2"}[http1]
		t.Run(name, func(t *testing.T) {
			c, conns, done, err := protocolClient(edges[http1], true)
			require.NoError(t, err)
			defer done()
			var fresh, reused, connect, tls, reusedWithPhases int
			for round := range 3 {
				fs := make([]*future.Future[*target.Response], 20)
				for i := range fs {
					fs[i] = c.GetOffers(t.Context(), target.GetOffersOptions{Request: oneMbox("bench-mbox-1"), SessionID: "s"})
				}
				for _, f := range fs {
					r, err := f.Await(t.Context())
					require.NoError(t, err)
					tm := r.Timings
					if tm.ConnReused {
						reused++
						if tm.DNS+tm.Connect+tm.TLS != 0 {
							reusedWithPhases++
						}
						continue
					}
					fresh++
					if tm.Connect > 0 {
						connect++
					}
					if tm.TLS > 0 {
						tls++
					}
					if round == 0 && (tm.Connect == 0 || tm.TLS == 0) {
						t.Logf("round %d: a call on a new connection without dial phases: %+v", round, tm)
					}
				}
			}
			n, err := conns()
			require.NoError(t, err)
			t.Logf("%s: conns %d, calls on new conns %d (with Connect %d, TLS %d), reused %d", name, n, fresh, connect, tls, reused)
			assert.Zero(t, reusedWithPhases, "a reused connection has no dial phases")
			assert.Positive(t, connect, "some call records its connect")
			assert.Positive(t, tls, "some call records its handshake")
			assert.LessOrEqual(t, int64(connect), n, "no more connects recorded than connections opened")
			assert.Equal(t, connect, tls, "every recorded connect has its handshake")
		})
	}
}
