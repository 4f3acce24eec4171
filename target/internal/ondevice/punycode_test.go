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

// validHostNameEncoded is validHostName without the early length checks:
// every non-ASCII label encoded, as ToASCII does.
func validHostNameEncoded(h string) bool {
	if len(h) < 1 {
		return false
	}
	total := 0
	for i, label := range strings.Split(h, ".") {
		n := len(label)
		ascii := true
		for _, c := range label {
			if c >= 0x80 {
				ascii = false
			}
		}
		if !ascii {
			n = len("xn--") + punycodeLen(label)
		}
		if i > 0 {
			total++
		}
		total += n
		if n < 1 || n > 63 || total > 255 {
			return false
		}
		if ascii && (label[0] == '-' || label[len(label)-1] == '-') {
			return false
		}
		for _, c := range label {
			if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// The early length checks refuse only hosts that encoding would refuse:
// labels and hosts around each limit, in ASCII, Latin and astral code
// points, with and without ASCII characters beside them.
func TestValidHostNameEarlyExitsKeepDecisions(t *testing.T) {
	t.Parallel()
	var hosts []string
	for _, unit := range []string{"a", "ü", "中", "😀", "aü", "ü-", "\U0010FFFD"} {
		for n := 50; n <= 70; n++ {
			label := strings.Repeat(unit, n/len([]rune(unit))+1)
			label = string([]rune(label)[:n])
			for _, prefix := range []string{"", "a", "ab-"} {
				hosts = append(hosts, prefix+label, prefix+label+".example.com")
			}
		}
		for labels := 1; labels <= 9; labels++ {
			for size := 25; size <= 35; size++ {
				l := string([]rune(strings.Repeat(unit, size))[:size])
				hosts = append(hosts, strings.TrimSuffix(strings.Repeat(l+".", labels), ".")+".com")
			}
		}
	}
	hosts = append(hosts, "", ".", "a..b", strings.Repeat("a.", 128)+"a", strings.Repeat("ü.", 127)+"com")
	for _, h := range hosts {
		assert.Equal(t, validHostNameEncoded(h), validHostName(h), "%q", h)
	}
}

// hostileHosts are hosts a visitor can send that the check must refuse
// without encoding them: one 48 KB label of 16,000 distinct code points
// (encoding costs their number times the label's length), many labels.
var hostileHosts = map[string]string{
	"48 KB label":     distinctRunes(0x4e00, 16000) + ".example.com",
	"270 KB labels":   strings.Repeat(strings.Repeat("\u4e2d", 60)+"\U0001F600.", 1024) + "com",
	"250 code points": strings.Repeat("\u4e2d", 190) + "." + strings.Repeat("\u00e9", 55) + ".com",
}

// A host too long to be valid is refused before encoding: no label is
// encoded (encoding allocates the label's code points), so the cost does
// not grow with the distinct code points times the length.
func TestValidHostNameRefusesLongHostsBeforeEncoding(t *testing.T) {
	for name, h := range hostileHosts {
		assert.False(t, validHostName(h), name)
		assert.LessOrEqual(t, testing.AllocsPerRun(10, func() { validHostName(h) }), 1.0, name)
	}
}

func BenchmarkValidHostNameHostile(b *testing.B) {
	for name, h := range hostileHosts {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				validHostName(h)
			}
		})
	}
}

func distinctRunes(first rune, n int) string {
	var b strings.Builder
	for r := first; r < first+rune(n); r++ {
		b.WriteRune(r)
	}
	return b.String()
}
