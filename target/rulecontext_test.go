package target_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/target-go/sdk/target"
)

func TestPageContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url                    string
		domain, subdomain, tld string
		path, query, fragment  string
	}{
		{"https://pied.piper.decentralized.test.hooli.com/?implementation=psl", "hooli.com", "pied.piper.decentralized.test", "com", "/", "implementation=psl", ""},
		{"https://test.wayne-enterprises.us-east-1.elasticbeanstalk.com", "wayne-enterprises.us-east-1.elasticbeanstalk.com", "test", "us-east-1.elasticbeanstalk.com", "", "", ""},
		{"http://www.bbc.co.uk/news?x=1#top", "bbc.co.uk", "", "co.uk", "/news", "x=1", "top"},
		{"http://www.shop.example.com/a", "example.com", "shop", "com", "/a", "", ""},
		{"http://local-target-test:8080/home?bar=true#hello", "local-target-test", "", "", "/home", "bar=true", "hello"},
		{"http://127.0.0.1:8080/", "127.0.0.1", "", "", "/", "", ""},
		{"", "", "", "", "", "", ""},
		// As Adobe's engines read it: no scheme, an empty host, an empty
		// port, and the rest is the path.
		{"::not a url", "", "", "", ":not a url", "", ""},
		{"https://shop.example.com/café/menu?q=straße#a#b", "example.com", "shop", "com", "/café/menu", "q=straße", "a#b"},
		{"example.com/no-scheme?x", "example.com", "", "com", "/no-scheme", "x", ""},
		{"https://user:pw@example.com/a@b", "example.com", "", "com", "/a@b", "", ""},
		{"https://foo.local/", "foo.local", "", "", "/", "", ""},
		{"https://my_host.example.com/", "my_host.example.com", "", "", "/", "", ""},
		{"https://[2001:db8::1]:8443/x", "2001:db8::1", "", "", "/x", "", ""},
		{"https://WWW.EXAMPLE.COM/", "example.com", "", "com", "/", "", ""},
	}
	for _, tt := range tests {
		m := target.PageContext(tt.url)
		assert.Equal(t, tt.url, m["url"], tt.url)
		assert.Equal(t, tt.domain, m["domain"], tt.url)
		assert.Equal(t, tt.subdomain, m["subdomain"], tt.url)
		assert.Equal(t, tt.tld, m["topLevelDomain"], tt.url)
		assert.Equal(t, tt.path, m["path"], tt.url)
		assert.Equal(t, tt.query, m["query"], tt.url)
		assert.Equal(t, tt.fragment, m["fragment"], tt.url)
	}
	assert.Equal(t, "http://x.com/a?b=c", target.PageContext("HTTP://X.COM/A?B=C")["url_lc"])
}

func TestUserContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ua, platformHint, brands string
		browser, platform        string
		version                  float64
	}{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36", "", "", "chrome", "mac", 80},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:73.0) Gecko/20100101 Firefox/73.0", "", "", "firefox", "mac", 73},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15", "", "", "safari", "mac", 13},
		{"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "", "", "ie", "windows", 11},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0.1", "", "", "edge", "windows", 120},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1", "", "", "mobile safari", "iOS", 16},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Safari/537.36", "", "", "chrome", "linux", 99},
		{"", "", "", "unknown", "unknown", -1},
		{"curl/8.0", "Android", `"Chromium";v="118", "Google Chrome";v="118"`, "chrome", "Android", 118},
		{"curl/8.0", "macOS", "", "unknown", "mac", -1},
	}
	for _, tt := range tests {
		m := target.UserContext(tt.ua, tt.platformHint, tt.brands)
		assert.Equal(t, tt.browser, m["browserType"], tt.ua)
		assert.Equal(t, tt.platform, m["platform"], tt.ua)
		assert.Equal(t, tt.version, m["browserVersion"], tt.ua)
		assert.Equal(t, "en", m["locale"])
	}
}

func TestTimingContextIsUTC(t *testing.T) {
	t.Parallel()
	sunday := time.Date(2021, 2, 14, 23, 5, 0, 0, time.FixedZone("PST", -8*3600)) // Monday 07:05 UTC
	m := target.TimingContext(sunday)
	assert.Equal(t, float64(1), m["current_day"])
	assert.Equal(t, "0705", m["current_time"])
	assert.Equal(t, float64(sunday.UnixMilli()), m["current_timestamp"])
	m = target.TimingContext(time.Date(2021, 2, 14, 9, 0, 0, 0, time.UTC))
	assert.Equal(t, float64(7), m["current_day"], "Sunday is 7")
}

func TestMboxContextNestsDottedNames(t *testing.T) {
	t.Parallel()
	m := target.MboxContext(map[string]string{"favorite.color": "Blue", "Plain": "MiXed", "n": "3", ".odd": "x", "a..b": "y"})
	assert.Equal(t, map[string]any{"color": "Blue", "color_lc": "blue"}, m["favorite"])
	assert.Equal(t, "mixed", m["Plain_lc"])
	assert.Equal(t, "3", m["n"])
	assert.Equal(t, "x", m[".odd"])
	assert.Equal(t, "y", m["a..b"])
}
