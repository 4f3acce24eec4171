package targettest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// z99 is the 99th percentile of the standard normal distribution: a
// log-normal variable with median m and shape σ has its p99 at m·e^(z99·σ).
const z99 = 2.326347874040841

// Latency is the delay the edge adds to each Delivery request, after reading
// the request and before answering, as an edge's processing time would be.
//
// The delay is Fixed plus, when Median is set, a draw from a log-normal
// distribution with that median and P99 as its 99th percentile: most
// answers are close to Median and about one in a hundred is slower than P99,
// the long right tail of real network round trips. A draw is capped at Max
// (default 10×P99) so a test never waits unboundedly. The zero Latency adds
// nothing.
//
// Draws come from the server's seeded generator (see [Config.Seed]), so the
// sequence of delays is the same on every run.
type Latency struct {
	// Fixed is added to every answer.
	Fixed time.Duration
	// Median is the median of the random part; zero disables it.
	Median time.Duration
	// P99 is the 99th percentile of the random part; it must be at least
	// Median. Equal to Median, the random part is constant.
	P99 time.Duration
	// Max caps the random part; zero means 10×P99.
	Max time.Duration
}

func (l Latency) validate() error {
	switch {
	case l.Fixed < 0:
		return fmt.Errorf("targettest: Latency.Fixed %v is negative", l.Fixed)
	case l.Median < 0:
		return fmt.Errorf("targettest: Latency.Median %v is negative", l.Median)
	case l.Max < 0:
		return fmt.Errorf("targettest: Latency.Max %v is negative", l.Max)
	case l.Median == 0 && (l.P99 != 0 || l.Max != 0):
		return fmt.Errorf("targettest: Latency.P99 and Latency.Max need Latency.Median")
	case l.Median > 0 && l.P99 < l.Median:
		return fmt.Errorf("targettest: Latency.P99 %v is below Latency.Median %v", l.P99, l.Median)
	}
	return nil
}

// sample draws one delay. It always consumes exactly one normal variate, so
// that the n-th request's draws depend only on the seed and n.
func (l Latency) sample(r *rand.Rand) time.Duration {
	z := r.NormFloat64()
	if l.Median == 0 {
		return l.Fixed
	}
	sigma := math.Log(float64(l.P99)/float64(l.Median)) / z99
	d := time.Duration(float64(l.Median) * math.Exp(sigma*z))
	limit := l.Max
	if limit == 0 {
		limit = 10 * l.P99
	}
	return l.Fixed + min(d, limit)
}

// sleep waits for d or until ctx ends, whichever is first; it reports
// whether the full delay passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
