package ondevice

import (
	"slices"
	"strings"
)

// punycodeLen is the length of the label's RFC 3492 encoding, the part
// after "xn--" that ToASCII writes for a label with non-ASCII characters.
// Host label limits count it; the digits are counted, not written.
func punycodeLen(label string) int {
	return punycode(label, nil)
}

// RFC 3492's parameters for IDNA.
const (
	punyBase        = 36
	punyTMin        = 1
	punyTMax        = 26
	punySkew        = 38
	punyDamp        = 700
	punyInitialBias = 72
	punyInitialN    = 0x80
)

func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}

func punyThreshold(k, bias int) int {
	return min(max(k-bias, punyTMin), punyTMax)
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punycodeEncode is the label's RFC 3492 encoding (without "xn--"); its
// length is punycodeLen(label). Callers bound the label's length first
// (validHostName), so the arithmetic cannot overflow.
func punycodeEncode(label string) string {
	var out []byte
	punycode(label, &out)
	return string(out)
}

// punycode runs RFC 3492's encoder over label: the label's ASCII
// characters, a '-' when there are any, then one to a few letters or
// digits per non-ASCII character, depending on how far apart the
// characters are and where they fall. It appends them to *out unless out
// is nil, and returns how many there are.
func punycode(label string, out *[]byte) int {
	written := 0
	emit := func(c byte) {
		written++
		if out != nil {
			*out = append(*out, c)
		}
	}
	runes := []rune(label)
	for _, r := range runes {
		if r < 0x80 {
			emit(byte(r))
		}
	}
	basic := written
	if basic > 0 {
		emit('-')
	}
	n, delta, bias, h := punyInitialN, 0, punyInitialBias, basic
	for h < len(runes) {
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := punyBase; ; k += punyBase {
				t := punyThreshold(k, bias)
				if q < t {
					break
				}
				emit(punyDigit(t + (q-t)%(punyBase-t)))
				q = (q - t) / (punyBase - t)
			}
			emit(punyDigit(q))
			bias = punyAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return written
}

// punycodeDecode decodes an RFC 3492 encoding (without "xn--"); ok is
// false when s is not one.
func punycodeDecode(s string) (_ string, ok bool) {
	var out []rune
	rest := s
	if b := strings.LastIndexByte(s, '-'); b > 0 {
		for i := 0; i < b; i++ {
			if s[i] >= 0x80 {
				return "", false
			}
			out = append(out, rune(s[i]))
		}
		rest = s[b+1:]
	}
	const maxCode = 0x10FFFF
	n, i, bias := punyInitialN, 0, punyInitialBias
	for pos := 0; pos < len(rest); {
		oldi, w := i, 1
		for k := punyBase; ; k += punyBase {
			if pos >= len(rest) {
				return "", false
			}
			c := rest[pos]
			pos++
			var d int
			switch {
			case c >= 'a' && c <= 'z':
				d = int(c - 'a')
			case c >= 'A' && c <= 'Z':
				d = int(c - 'A')
			case c >= '0' && c <= '9':
				d = int(c-'0') + 26
			default:
				return "", false
			}
			if d > (maxCode*64-i)/w {
				return "", false
			}
			i += d * w
			t := punyThreshold(k, bias)
			if d < t {
				break
			}
			if w > maxCode*64/(punyBase-t) {
				return "", false
			}
			w *= punyBase - t
		}
		l := len(out) + 1
		bias = punyAdapt(i-oldi, l, oldi == 0)
		n += i / l
		i %= l
		if n > maxCode {
			return "", false
		}
		out = slices.Insert(out, i, rune(n))
		i++
	}
	return string(out), true
}

// hostToASCII is punycode's ToASCII as Adobe's engine applies it to a
// host: the IDNA full stops become '.', and each label with non-ASCII
// characters becomes "xn--" and its encoding. An ASCII host is returned
// as it is.
func hostToASCII(h string) string {
	ascii := true
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return h
	}
	var b strings.Builder
	for i, rest, more := 0, h, true; more; i++ {
		var label string
		label, rest, more = cutIDNALabel(rest)
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.IndexFunc(label, func(r rune) bool { return r >= 0x80 }) >= 0 {
			b.WriteString("xn--")
			b.WriteString(punycodeEncode(label))
		} else {
			b.WriteString(label)
		}
	}
	return b.String()
}

// suffixToUnicode writes each "xn--" label of a public suffix found in
// the list's ASCII form as the list writes it, in Unicode: the text
// Adobe's engine reports as the top-level domain.
func suffixToUnicode(suffix string) string {
	if !strings.Contains(suffix, "xn--") {
		return suffix
	}
	labels := strings.Split(suffix, ".")
	for i, l := range labels {
		if strings.HasPrefix(l, "xn--") {
			if u, ok := punycodeDecode(l[len("xn--"):]); ok {
				labels[i] = u
			}
		}
	}
	return strings.Join(labels, ".")
}
