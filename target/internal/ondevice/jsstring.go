package ondevice

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// jsToLower is JavaScript's String.prototype.toLowerCase: Unicode's full
// lower-case mapping, which differs from Go's per-rune strings.ToLower in
// two places that matter to "_lc" values: 'İ' (U+0130) becomes "i̇" (i and
// a combining dot above), and a capital sigma at the end of a word becomes
// the final form 'ς'.
func jsToLower(s string) string {
	if !needsSpecialLower(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func needsSpecialLower(s string) bool {
	return strings.ContainsRune(s, 'İ') || strings.ContainsRune(s, 'Σ')
}

// finalSigma is Unicode's Final_Sigma condition for the sigma at byte i: a
// cased letter before it and none after it, skipping case-ignorable
// characters both ways.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xb7, 0x2018, 0x2019, 0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a, 0x05f4:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
