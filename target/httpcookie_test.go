package target_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

// cookieSite answers every request with the cookies of one GetOffers call,
// written by Client.SetCookies, and reports what RequestCookies read.
func cookieSite(t *testing.T, c *target.Client, tls bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mbox, hint := target.RequestCookies(r)
		w.Header().Set("X-Seen-Mbox", mbox)
		w.Header().Set("X-Seen-Hint", hint)
		res, err := c.GetOffers(r.Context(), target.GetOffersOptions{
			Request: offersRequest("hero"), TargetCookie: mbox, TargetLocationHint: hint,
		}).Await(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c.SetCookies(w, r, res)
		w.WriteHeader(http.StatusNoContent)
	})
	if tls {
		return httptest.NewTLSServer(h)
	}
	return httptest.NewServer(h)
}

func TestCookiesToAndFromNetHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tls      bool
		header   string // X-Forwarded-Proto
		opts     target.CookieOptions
		secure   bool
		sameSite http.SameSite
	}{
		{name: "plain http", sameSite: http.SameSiteLaxMode},
		{name: "tls", tls: true, secure: true, sameSite: http.SameSiteLaxMode},
		{name: "behind a tls proxy", header: "https, http", secure: true, sameSite: http.SameSiteLaxMode},
		{name: "proxy says http", header: "http", sameSite: http.SameSiteLaxMode},
		{name: "configured secure", opts: target.CookieOptions{Secure: true, Domain: "example.com"}, secure: true, sameSite: http.SameSiteLaxMode},
		{name: "strict", opts: target.CookieOptions{SameSite: http.SameSiteStrictMode}, sameSite: http.SameSiteStrictMode},
		{name: "none needs secure", opts: target.CookieOptions{SameSite: http.SameSiteNoneMode}, secure: true, sameSite: http.SameSiteNoneMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, targettest.Config{Offers: offers}, func(cfg *target.Config) { cfg.Cookies = tt.opts })
			site := cookieSite(t, c, tt.tls)
			t.Cleanup(site.Close)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, site.URL, nil)
			require.NoError(t, err)
			if tt.header != "" {
				req.Header.Set("X-Forwarded-Proto", tt.header)
			}
			resp, err := site.Client().Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			got := map[string]*http.Cookie{}
			for _, ck := range resp.Cookies() {
				got[ck.Name] = ck
			}
			require.Len(t, got, 2)
			for _, name := range []string{target.MboxCookie, target.LocationHintCookie} {
				ck := got[name]
				require.NotNil(t, ck, name)
				assert.Equal(t, "/", ck.Path, name)
				assert.Equal(t, tt.secure, ck.Secure, name)
				assert.Equal(t, tt.sameSite, ck.SameSite, name)
				assert.Equal(t, tt.opts.Domain, ck.Domain, name)
				assert.False(t, ck.HttpOnly, "%s: at.js reads it", name)
			}
			assert.Equal(t, 63244800, got[target.MboxCookie].MaxAge)
			assert.Equal(t, 1860, got[target.LocationHintCookie].MaxAge)
			assert.Equal(t, "35", got[target.LocationHintCookie].Value)

			// The browser sends them back; RequestCookies reads them.
			req2, err := http.NewRequestWithContext(t.Context(), http.MethodGet, site.URL, nil)
			require.NoError(t, err)
			req2.AddCookie(&http.Cookie{Name: "other", Value: "x"})
			req2.AddCookie(&http.Cookie{Name: target.MboxCookie, Value: got[target.MboxCookie].Value})
			req2.AddCookie(&http.Cookie{Name: target.LocationHintCookie, Value: "35"})
			resp2, err := site.Client().Do(req2)
			require.NoError(t, err)
			require.NoError(t, resp2.Body.Close())
			assert.Equal(t, got[target.MboxCookie].Value, resp2.Header.Get("X-Seen-Mbox"))
			assert.Equal(t, "35", resp2.Header.Get("X-Seen-Hint"))
		})
	}
}

func TestRequestCookiesWithout(t *testing.T) {
	t.Parallel()
	mbox, hint := target.RequestCookies(nil)
	assert.Empty(t, mbox)
	assert.Empty(t, hint)
	mbox, hint = target.RequestCookies(httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Empty(t, mbox)
	assert.Empty(t, hint)
	ck := (&target.Cookie{Name: "mbox", Value: "v", MaxAge: 5}).HTTPCookie(nil, target.CookieOptions{})
	assert.Equal(t, &http.Cookie{Name: "mbox", Value: "v", MaxAge: 5, Path: "/", SameSite: http.SameSiteLaxMode}, ck)
}

func TestConfigCookiesValidated(t *testing.T) {
	t.Parallel()
	for _, co := range []target.CookieOptions{{SameSite: 9}, {SameSite: -1}, {Domain: "a b"}, {Domain: "x;y"}} {
		_, err := target.NewClient(target.Config{Client: "c", OrganizationID: "o", Cookies: co})
		var ce *target.ConfigError
		require.ErrorAs(t, err, &ce, "%+v", co)
		assert.Contains(t, ce.Field, "Cookies.")
	}
}
