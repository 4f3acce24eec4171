package target_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
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
