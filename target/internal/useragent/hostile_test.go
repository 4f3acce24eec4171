package useragent_test

import (
	"strings"
	"testing"

	"github.com/target-go/sdk/target/internal/useragent"
)

// BenchmarkDetectHostile is the worst user agent known here: 2 KiB
// (all that is read) of "Version/1.1 ", on which the Safari patterns try a
// match from every "version/" and scan to the end. It is the bound the
// package doc states.
func BenchmarkDetectHostile(b *testing.B) {
	for _, bc := range []struct{ name, ua string }{
		{"version", strings.Repeat("Version/1.1 ", 200)[:2048]},
		{"version+mobile", strings.Repeat("Version/1.1 Mobile/1 ", 120)[:2048]},
		{"x", strings.Repeat("x", 2048)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				useragent.DetectBrowser(bc.ua, "")
				useragent.DetectPlatform(bc.ua, "")
			}
		})
	}
}
