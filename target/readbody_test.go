package target_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// TestResponseBodyByDeclaredLength covers the answers whose Content-Length
// decides how the body is read: one that is cut short, and one whose
// declared length is over the limit.
func TestResponseBodyByDeclaredLength(t *testing.T) {
	t.Parallel()
	t.Run("cut short", func(t *testing.T) {
		t.Parallel()
		c := rawClient(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\":")
			_ = buf.Flush()
		})
		_, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		var te *target.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "reading response", te.Op)
		assert.Equal(t, http.StatusOK, te.Status)
		assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	})
	t.Run("declared too large", func(t *testing.T) {
		t.Parallel()
		big := bytes.Repeat([]byte(" "), target.MaxResponseSize+10)
		copy(big, `{"status":200}`)
		srv := newRawServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write(big)
		})
		c, err := target.NewClient(target.Config{Client: "raw", OrganizationID: "org", ServerDomain: srv, Insecure: true, Timeout: time.Minute})
		require.NoError(t, err)
		t.Cleanup(c.CloseIdleConnections)
		_, err = c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
		require.ErrorIs(t, err, target.ErrResponseTooLarge)
	})
}

// TestResponseBodyBufferNotShared reads answers of every size the pooled
// read buffer goes through (with and without a Content-Length, small,
// grown, and past the size the pool keeps) and checks that each Response
// keeps its own content while later answers are read: a decoded value
// that aliased the buffer would change under the next call.
func TestResponseBodyBufferNotShared(t *testing.T) {
	t.Parallel()
	answer := func(fill string, n int) []byte {
		return []byte(`{"status":200,"execute":{"mboxes":[{"index":0,"name":"a","options":[{"type":"json","content":{"v":"` +
			strings.Repeat(fill, n) + `"}}]}]}}`)
	}
	sizes := []int{1, 300, 5000, 70 << 10, 2}
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			c := rawClient(t, func(w http.ResponseWriter, _ *http.Request) {
				i := int(calls.Add(1) - 1)
				body := answer(string(rune('a'+i%26)), sizes[i%len(sizes)])
				if chunked {
					// Two writes with a flush between: no Content-Length.
					_, _ = w.Write(body[:len(body)/2])
					w.(http.Flusher).Flush()
					_, _ = w.Write(body[len(body)/2:])
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				_, _ = w.Write(body)
			})
			var got []*target.Response
			for range 2 * len(sizes) {
				r, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: offersRequest("a")}).Await(t.Context())
				require.NoError(t, err)
				got = append(got, r)
			}
			for i, r := range got {
				want := `{"v":"` + strings.Repeat(string(rune('a'+i%26)), sizes[i%len(sizes)]) + `"}`
				content := string(r.Response.Execute.Mboxes[0].Options[0].Content)
				require.Equal(t, want, content, "answer %d", i)
				assert.Equal(t, int64(len(answer("x", sizes[i%len(sizes)]))), r.Timings.ResponseSize, "answer %d", i)
			}
		})
	}
}
