package ondevice

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The lengths of RFC 3492's sample strings (section 7.1) and of labels
// whose encoded and UTF-8 lengths fall on different sides of 63.
func TestPunycodeLen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		label, encoded string
	}{
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
		{"café", "caf-dma"},
		{"ü", "tda"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},
		{"ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"},
		{"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},
		{"3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"},
		{"mañana", "maana-pta"},
	} {
		assert.Equal(t, len(tt.encoded), punycodeLen(tt.label), tt.label)
	}
	// Lengths of punycode.toASCII (Node's punycode module) less "xn--".
	for label, n := range map[string]int{
		"ü𝄞中a€ñ😀ж": 27, "😀ü😀ü😀ü😀ü😀ü😀ü😀ü😀ü": 24, "😀a中b€cñdжe𝄞füg😀h中i€j": 45,
		"一二三四五六七八九十百千万億兆京垓秭穣溝澗": 55, strings.Repeat("日本語", 7): 31,
		strings.Repeat("ü", 35): 37, strings.Repeat("é", 30): 32, strings.Repeat("a", 62) + "é": 66,
	} {
		assert.Equal(t, n, punycodeLen(label), label)
	}
}

func TestIDNHostLabelsMeasuredInPunycode(t *testing.T) {
	t.Parallel()
	domain, sub, tld := hostParts(strings.Repeat("ü", 35) + ".example.com")
	assert.Equal(t, "example.com", domain)
	assert.Equal(t, strings.Repeat("ü", 35), sub)
	assert.Equal(t, "com", tld)
	// 62 UTF-8 bytes, 68 characters after punycode.
	long := strings.Repeat("a", 60) + "é.example.com"
	domain, sub, tld = hostParts(long)
	assert.Equal(t, long, domain, "a label over 63 characters after punycode is not a host name")
	assert.Empty(t, sub)
	assert.Empty(t, tld)
}
