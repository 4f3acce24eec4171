// Command rtstack (red team of rcperf2) measures the goroutine stack memory
// of N remote calls parked in the transport at once, and after GCs: go run
// ./bench/rtstack -n 10000. It prints StackInuse and RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/target-go/sdk/future"
	"github.com/target-go/sdk/target"
)

type blockRT struct {
	in      atomic.Int64
	release chan struct{}
}

func (b *blockRT) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	b.in.Add(1)
	<-b.release
	body := `{"status":200,"requestId":"x","id":{"tntId":"t.35_0"},"client":"c","edgeHost":"mboxedge35.tt.omtrdc.net"}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r, ContentLength: int64(len(body))}, nil
}

func rss() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

func report(what string, n int) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Printf("%-28s StackInuse %7.1f MB (%5.1f KB/call)  RSS %s\n", what, float64(m.StackInuse)/1e6, float64(m.StackInuse)/1024/float64(n), rss())
}

func main() {
	n := flag.Int("n", 10000, "parallel calls")
	flag.Parse()
	rt := &blockRT{release: make(chan struct{})}
	c, err := target.NewClient(target.Config{Client: "c", OrganizationID: "o@AdobeOrg",
		HTTPClient: &http.Client{Transport: rt}, Timeout: time.Minute})
	if err != nil {
		panic(err)
	}
	report("before", *n)
	ctx := context.Background()
	fs := make([]*future.Future[*target.Response], *n)
	req := target.DeliveryRequest{Execute: &target.ExecuteRequest{Mboxes: []target.MboxRequest{{Name: "m"}}}}
	for i := range fs {
		fs[i] = c.GetOffers(ctx, target.GetOffersOptions{Request: req, SessionID: "s"})
	}
	for rt.in.Load() < int64(*n) {
		time.Sleep(10 * time.Millisecond)
	}
	report("parked", *n)
	runtime.GC()
	runtime.GC()
	report("parked, after 2 GCs", *n)
	close(rt.release)
	var wg sync.WaitGroup
	for _, f := range fs {
		wg.Go(func() {
			if _, err := f.Await(ctx); err != nil {
				panic(err)
			}
		})
	}
	wg.Wait()
	runtime.GC()
	report("done, after GC", *n)
	_ = c.Close(ctx)
}
