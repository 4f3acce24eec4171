package target_test

// Red team of rcperf4: a differential probe. TestRTProbe prints, for each
// odd answer or odd transport, the outcome of one call (error type, text,
// errors.Is of interesting sentinels, what a WrapTransport saw). Run it on
// main and on the branch and diff the two outputs:
//
//	RT_PROBE=1 go test -run TestRTProbe -v ./target/ | grep PROBE

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/target-go/sdk/target"
)

func probeOutcome(r *target.Response, err error) string {
	if err == nil {
		return fmt.Sprintf("ok status=%d", r.Status)
	}
	var api *target.APIError
	var te *target.TransportError
	var de *target.DecodeError
	kind := fmt.Sprintf("%T", err)
	switch {
	case errors.As(err, &api):
		kind = fmt.Sprintf("APIError status=%d msg=%q attempts=%d", api.Status, api.Message, api.Attempts)
	case errors.As(err, &te):
		kind = fmt.Sprintf("TransportError op=%q status=%d attempts=%d", te.Op, te.Status, te.Attempts)
	case errors.As(err, &de):
		kind = fmt.Sprintf("DecodeError status=%d", de.Status)
	}
	return fmt.Sprintf("%s schemeMismatch=%v err=%q", kind, errors.Is(err, http.ErrSchemeMismatch), err.Error())
}

// hijackServer answers every request with raw bytes.
func hijackServer(t *testing.T, raw string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, raw)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRTProbe(t *testing.T) {
	if os.Getenv("RT_PROBE") == "" {
		t.Skip("red team: a differential probe, not a test; set RT_PROBE=1 and diff its output between main and the branch")
	}
	call := func(cfg target.Config) string {
		c, err := target.NewClient(cfg)
		if err != nil {
			return "NewClient: " + err.Error()
		}
		defer c.CloseIdleConnections()
		r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		return probeOutcome(r, err)
	}
	base := func(host string) target.Config {
		return target.Config{Client: "p", OrganizationID: "org", ServerDomain: host, Insecure: true,
			Retry: target.RetryPolicy{MaxAttempts: 2}}
	}
	// 3xx of every code, with and without Location, with a bad one.
	for code := 300; code <= 308; code++ {
		for _, loc := range []string{"", "http://elsewhere.example/x", "%zz", "http://[::1"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if loc != "" {
					w.Header()["Location"] = []string{loc}
				}
				w.WriteHeader(code)
			}))
			t.Logf("PROBE 3xx code=%d loc=%q: %s", code, loc, call(base(strings.TrimPrefix(srv.URL, "http://"))))
			srv.Close()
		}
	}
	// Hanging edge: Config.Timeout, ctx cancel, future.Cancel abort the
	// exchange (the handler sees its request's context end).
	{
		ended := make(chan struct{}, 8)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			ended <- struct{}{}
		}))
		host := strings.TrimPrefix(srv.URL, "http://")
		cfg := base(host)
		cfg.Timeout = 300 * time.Millisecond
		t.Logf("PROBE hang timeout: %s", call(cfg))
		c, _ := target.NewClient(base(host))
		ctx, cancel := context.WithCancel(t.Context())
		f := c.GetOffers(ctx, target.GetOffersOptions{Request: offersRequest("a")})
		time.Sleep(100 * time.Millisecond)
		cancel()
		r, err := f.Await(t.Context())
		t.Logf("PROBE hang ctx cancel: %s", probeOutcome(r, err))
		f = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")})
		time.Sleep(100 * time.Millisecond)
		f.Cancel()
		r, err = f.Await(t.Context())
		t.Logf("PROBE hang future.Cancel: %s", probeOutcome(r, err))
		for range 3 {
			select {
			case <-ended:
			case <-time.After(5 * time.Second):
				t.Logf("PROBE hang: a server handler never saw its request end")
			}
		}
		c.CloseIdleConnections()
		srv.Close()
	}
	// A server domain with user info.
	{
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Logf("PROBE userinfo auth header: %q", r.Header.Get("Authorization"))
			_, _ = io.WriteString(w, `{"status":200}`)
		}))
		t.Logf("PROBE userinfo: %s", call(base("u:p@"+strings.TrimPrefix(srv.URL, "http://"))))
		srv.Close()
	}
	// HTTPS client against a plain-HTTP edge.
	{
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		cfg := base(strings.TrimPrefix(srv.URL, "http://"))
		cfg.Insecure = false
		t.Logf("PROBE https-to-http: %s", call(cfg))
		srv.Close()
	}
	// Raw answers: 1xx before the answer, trailers, a lying length.
	body := `{"status":200}`
	raws := map[string]string{
		"103 then 200":   "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" + body,
		"100 then 200":   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" + body,
		"101 switching":  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n",
		"trailers":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\ne\r\n" + body + "\r\n0\r\nX-T: v\r\n\r\n",
		"length longer":  "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n" + body,
		"length shorter": "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + body,
		"gzip unasked":   "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 14\r\n\r\n" + body,
		"empty 200":      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"204":            "HTTP/1.1 204 No Content\r\n\r\n",
		"no length":      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body,
		"dup length":     "HTTP/1.1 200 OK\r\nContent-Length: 14\r\nContent-Length: 15\r\n\r\n" + body,
		"302 raw no loc": "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
		"302 ctl loc":    "HTTP/1.1 302 Found\r\nLocation: http://a\x7fb/\r\nContent-Length: 0\r\n\r\n",
	}
	keys := make([]string, 0, len(raws))
	for k := range raws {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("PROBE raw %s: %s", k, call(base(hijackServer(t, raws[k]))))
	}
	// What a WrapTransport sees, and odd answers from it.
	{
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, body)
		}))
		host := strings.TrimPrefix(srv.URL, "http://")
		seen := ""
		cfg := base(host)
		// oddTransport closed r.Body: the clone's body is then closed too;
		// send with a fresh body instead.
		cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) {
				h := r.Header.Clone()
				h.Del("X-Request-Id")
				keys := make([]string, 0, len(h))
				for k := range h {
					keys = append(keys, k+"="+strings.Join(h[k], ","))
				}
				sort.Strings(keys)
				u := *r.URL
				q := u.Query()
				q.Del("sessionId")
				u.RawQuery = q.Encode()
				seen = fmt.Sprintf("method=%s url=%s host=%q cl=%d getBody=%v body=%v close=%v proto=%s header=%v te=%v",
					r.Method, u.String(), r.Host, r.ContentLength, r.GetBody != nil, r.Body != nil, r.Close, r.Proto, keys, r.TransferEncoding)
				return next.RoundTrip(r)
			})
		}
		t.Logf("PROBE wrap seen: %s -> %s", seen, call(cfg))
		t.Logf("PROBE wrap seen after: %s", seen)
		srv.Close()
	}
	for name, f := range map[string]func(*http.Request) (*http.Response, error){
		"resp+err": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Request: r}, errors.New("both")
		},
		"nil,nil": func(*http.Request) (*http.Response, error) { return nil, nil },
		"nil body cl=-1": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, ContentLength: -1, Request: r}, nil
		},
		"nil body cl=0 200": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Request: r}, nil
		},
		"nil header 200": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}, nil
		},
		"302 nil header": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 302, Body: http.NoBody, Request: r}, nil
		},
		"panic": func(*http.Request) (*http.Response, error) { panic("wrapper panic") },
		"cl lies short": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body + "garbage")), ContentLength: 14, Request: r}, nil
		},
		"cl lies long": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), ContentLength: 100, Request: r}, nil
		},
	} {
		cfg := base("edge.example")
		cfg.WrapTransport = func(http.RoundTripper) http.RoundTripper { return rtFunc(f) }
		t.Logf("PROBE wrap %s: %s", name, call(cfg))
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
