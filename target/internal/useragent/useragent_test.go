package useragent_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/target-go/sdk/target/internal/useragent"
)

var cases = []struct {
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
	// parseInt has no upper bound: a version past int64 is a large number,
	// and past float64 the largest float64 (JavaScript's Infinity).
	{"Mozilla/5.0 (X11; Linux x86_64) Chrome/99999999999999999999.0 Safari/537.36", "", "", "chrome", "linux", 1e20},
	{"Mozilla/5.0 (X11; Linux x86_64) Chrome/" + strings.Repeat("9", 400) + " Safari/537.36", "", "", "chrome", "linux", math.MaxFloat64},
	{"curl/8.0", "", `"Google Chrome";v="123456789012345678901234"`, "chrome", "unknown", 123456789012345678901234},
}

func TestDetectPlatformHintGivenEmpty(t *testing.T) {
	t.Parallel()
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"
	assert.Equal(t, "", useragent.DetectPlatformHint(ua, "", true), "a hint given as \"\" is the platform")
	assert.Equal(t, "windows", useragent.DetectPlatformHint(ua, "", false), "an absent hint reads the user agent")
}

func TestDetect(t *testing.T) {
	t.Parallel()
	for _, tt := range cases {
		b := useragent.DetectBrowser(tt.ua, tt.brands)
		assert.Equal(t, tt.browser, strings.ToLower(b.Name), tt.ua)
		assert.Equal(t, tt.version, b.Version, tt.ua)
		assert.Equal(t, tt.platform, useragent.DetectPlatform(tt.ua, tt.platformHint), tt.ua)
	}
}

func TestDetectReadsABoundedPrefix(t *testing.T) {
	t.Parallel()
	// Past the first 2 KiB nothing counts: a browser token there is not seen.
	long := strings.Repeat("x", 4096) + " Chrome/99.0 (Windows NT 10.0)"
	assert.Equal(t, useragent.Browser{Name: "unknown", Version: -1}, useragent.DetectBrowser(long, ""))
	assert.Equal(t, "unknown", useragent.DetectPlatform(long, ""))
}

// BenchmarkDetect is the detection of one decision without the engine's
// memo: a desktop Chrome user agent, and an iPhone one.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct{ name, ua string }{{"chrome", cases[0].ua}, {"iPhone", cases[5].ua}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				useragent.DetectBrowser(bc.ua, "")
				useragent.DetectPlatform(bc.ua, "")
			}
		})
	}
}

// FuzzDetect feeds hostile user agents and hints: detection must not panic,
// and a version is -1 or a non-negative number.
func FuzzDetect(f *testing.F) {
	for _, tt := range cases {
		f.Add(tt.ua, tt.platformHint, tt.brands)
	}
	f.Fuzz(func(t *testing.T, ua, platformHint, brands string) {
		b := useragent.DetectBrowser(ua, brands)
		if b.Name == "" || b.Version < -1 {
			t.Fatalf("DetectBrowser(%q, %q) = %+v", ua, brands, b)
		}
		if useragent.DetectPlatform(ua, platformHint) == "" {
			t.Fatalf("DetectPlatform(%q, %q) is empty", ua, platformHint)
		}
	})
}
