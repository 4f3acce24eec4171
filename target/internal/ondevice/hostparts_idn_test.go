package ondevice

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Internationalised hosts as Adobe's Node.js engine splits them (its
// answers, read by running it on these hosts):
// the list is looked up in ASCII, the top-level domain written as the
// list writes it (Unicode), the domain and subdomain as the host wrote
// them unless it holds an "xn--" label, then in punycode.
func TestHostPartsInternationalised(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ host, domain, sub, tld string }{
		{"a.b.xn--p1ai", "b.xn--p1ai", "a", "рф"},
		{"shop.xn--fiqs8s", "shop.xn--fiqs8s", "", "中国"},
		{"foo.xn--55qx5d.cn", "foo.xn--55qx5d.cn", "", "公司.cn"},
		{"foo.公司.cn", "foo.公司.cn", "", "公司.cn"},
		{"a.b.рф", "b.рф", "a", "рф"},
		{"x.bücher.de", "bücher.de", "x", "de"},
		{"x.xn--bcher-kva.de", "xn--bcher-kva.de", "x", "de"},
		{"ü.b.xn--p1ai", "b.xn--p1ai", "xn--tda", "рф"},
		{"xn--p1ai", "xn--p1ai", "", ""},
		{"рф", "рф", "", ""},
		{"www.example.com", "example.com", "", "com"},
	} {
		d, s, tld := hostParts(c.host)
		assert.Equal(t, []string{c.domain, c.sub, c.tld}, []string{d, s, tld}, c.host)
	}
}

// RFC 3492 section 7.1's samples, both ways.
func TestPunycodeEncodeDecode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ text, code string }{
		{"ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},
		{"Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"},
		{"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},
		{"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"},
		{"рф", "p1ai"},
		{"公司", "55qx5d"},
		{"bücher", "bcher-kva"},
	} {
		assert.Equal(t, c.code, punycodeEncode(c.text), c.text)
		assert.Equal(t, len(c.code), punycodeLen(c.text), c.text)
		got, ok := punycodeDecode(c.code)
		assert.True(t, ok, c.code)
		assert.Equal(t, c.text, got, c.code)
	}
	for _, bad := range []string{"é-a", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "a_b"} {
		_, ok := punycodeDecode(bad)
		assert.False(t, ok, bad)
	}
}
