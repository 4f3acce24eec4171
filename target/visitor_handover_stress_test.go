package target_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// Many Visitors, each with calls arriving while its
// first call fails (503), hands over, or is cancelled; some callers cancel
// or time out while waiting, some callbacks call runtime.Goexit. Every call
// must settle, each call makes at most one request (MaxAttempts 1), and
// nothing is left running afterwards.
func TestVisitorHandOverStress(t *testing.T) {
	edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
	t.Cleanup(edge.Close)
	var reqs atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := reqs.Add(1)
		h := rand.New(rand.NewPCG(uint64(n), 3))
		time.Sleep(time.Duration(h.IntN(2000)) * time.Microsecond)
		if h.IntN(3) > 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":503,"message":"busy"}`))
			return
		}
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := edge.ClientConfig()
	cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
	cfg.HTTPClient = nil
	cfg.Timeout = 5 * time.Second
	cfg.Retry.MaxAttempts = 1
	c, err := target.NewClient(cfg)
	require.NoError(t, err)
	const visitors, calls = 40, 8
	var made atomic.Int64
	var wg sync.WaitGroup
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 11))
			v := c.NewVisitorFromCookies("", "")
			var fs []*future.Future[*target.Response]
			for j := range calls {
				ctx := t.Context()
				var cancel context.CancelFunc = func() {}
				switch r.IntN(6) {
				case 0:
					ctx, cancel = context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
				case 1:
					ctx, cancel = context.WithCancel(ctx)
				}
				req := offersRequest("hero")
				if r.IntN(10) == 0 {
					req.EnvironmentID = -1 // fails at once
				}
				made.Add(1)
				f := v.GetOffers(ctx, target.GetOffersOptions{Request: req})
				f.OnComplete(func(*target.Response, error) { cancel() })
				switch r.IntN(8) {
				case 0:
					d := time.Duration(r.IntN(1000)) * time.Microsecond
					go func() { time.Sleep(d); cancel() }()
				case 1:
					go func() { f.Cancel() }()
				case 2:
					// A callback on the settling goroutine that exits it.
					f.OnComplete(func(*target.Response, error) { callGoexit() })
				}
				_ = j
				fs = append(fs, f)
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer wcancel()
			for j, f := range fs {
				if _, err := f.Await(wctx); err != nil && wctx.Err() != nil {
					t.Errorf("visitor %d call %d never settled", i, j)
				}
			}
		}()
	}
	wg.Wait()
	require.LessOrEqual(t, reqs.Load(), made.Load(), "at most one request per call")
	require.NoError(t, c.Close(context.Background()))
	front.Close()
	edge.Close()
	goleak.VerifyNone(t, goleak.IgnoreCurrent())
}

func callGoexit() { runtime.Goexit() }

// One identity per page. The first call gets a 503
// and hands over; calls arrive concurrently from many goroutines all the
// while (some cancelled by their callers). Every call that succeeds must
// carry and learn the one tntId the edge minted.
func TestVisitorOneIdentityAfterHandOver(t *testing.T) {
	for round := range 20 {
		edge := targettest.NewServer(targettest.Config{Offers: offers, NoCluster: true})
		var reqs atomic.Int64
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := reqs.Add(1)
			time.Sleep(time.Duration(n%3) * time.Millisecond)
			if n == 1 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"status":503,"message":"busy"}`))
				return
			}
			edge.ServeHTTP(w, r)
		}))
		cfg := edge.ClientConfig()
		cfg.ServerDomain = strings.TrimPrefix(front.URL, "http://")
		cfg.HTTPClient = nil
		cfg.Timeout = 10 * time.Second
		cfg.Retry.MaxAttempts = 1
		c, err := target.NewClient(cfg)
		require.NoError(t, err)
		v := c.NewVisitorFromCookies("", "")
		const calls = 16
		fs := make([]*future.Future[*target.Response], calls)
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i%4) * time.Millisecond)
				fs[i] = v.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("hero")})
				if i%5 == 4 {
					fs[i].Cancel()
				}
			}()
		}
		wg.Wait()
		tnts := map[string]int{}
		for _, f := range fs {
			r, err := f.Await(t.Context())
			if err == nil {
				tnts[r.Response.ID.TntID]++
			}
		}
		require.LessOrEqual(t, len(tnts), 1, "round %d: one visitor, one tntId: %v", round, tnts)
		for tnt := range tnts {
			require.Equal(t, tnt, v.TntID(), "round %d", round)
		}
		require.NoError(t, c.Close(context.Background()))
		front.Close()
		edge.Close()
	}
}
