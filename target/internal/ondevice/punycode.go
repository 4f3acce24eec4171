package ondevice

// punycodeLen is the length of the label's RFC 3492 encoding, the part
// after "xn--" that ToASCII writes for a label with non-ASCII characters:
// the label's ASCII characters, a '-' when there are any, then one to a
// few letters or digits per non-ASCII character, depending on how far
// apart the characters are and where they fall. Only the length is
// needed (host label limits count it), so the digits are counted, not
// written.
func punycodeLen(label string) int {
	const (
		base        = 36
		tMin        = 1
		tMax        = 26
		skew        = 38
		damp        = 700
		initialBias = 72
		initialN    = 0x80
	)
	runes := []rune(label)
	basic := 0
	for _, r := range runes {
		if r < 0x80 {
			basic++
		}
	}
	out := basic
	if basic > 0 {
		out++ // the delimiter
	}
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tMin)*tMax)/2 {
			delta /= base - tMin
			k += base
		}
		return k + (base-tMin+1)*delta/(delta+skew)
	}
	n, delta, bias, h := initialN, 0, initialBias, basic
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
			for k := base; ; k += base {
				t := k - bias
				if t < tMin {
					t = tMin
				} else if t > tMax {
					t = tMax
				}
				if q < t {
					break
				}
				out++
				q = (q - t) / (base - t)
			}
			out++
			bias = adapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out
}
