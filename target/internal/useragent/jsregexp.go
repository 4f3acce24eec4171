package useragent

import (
	"fmt"
	"regexp"
	"strings"
)

// jsRegexp compiles an ECMAScript regular expression (without the u flag)
// to an RE2 one that matches exactly the same strings, with the same
// groups, for the subset of the syntax user-agent patterns use: literals,
// escapes, '.', \d \w \s (and \D \W \S), character classes, groups,
// alternation and quantifiers. Where the two dialects differ it spells
// JavaScript's meaning out:
//
//   - '.' excludes the line terminators \n, \r, U+2028 and U+2029 (RE2's
//     excludes only \n);
//   - \s is JavaScript's white space and line terminators, which include
//     the no-break space, U+1680, U+2000 to U+200A, U+202F, U+205F,
//     U+3000 and U+FEFF (RE2's is ASCII only);
//   - with ignoreCase, an ASCII letter matches only its two ASCII cases
//     (RE2's case folding also lets the Kelvin sign match k and the long s
//     match s; JavaScript's non-Unicode folding never maps a non-ASCII
//     character to an ASCII one);
//   - \d and \w are ASCII in both.
//
// It panics on syntax outside that subset: patterns are fixed at build
// time, and a test compiles each one.
func jsRegexp(pattern string, ignoreCase bool) *regexp.Regexp {
	return regexp.MustCompile(translateJSRegexp(pattern, ignoreCase))
}

const (
	jsSpaceClass    = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`
	jsLineTerminals = `\n\r\x{2028}\x{2029}`
)

func translateJSRegexp(p string, ignoreCase bool) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
			if i >= len(p) {
				panic("jsRegexp: trailing backslash in " + p)
			}
			b.WriteString(translateEscape(p[i], false, ignoreCase, p))
		case c == '.':
			b.WriteString(`[^` + jsLineTerminals + `]`)
		case c == '[':
			end := i + 1
			if end < len(p) && p[end] == '^' {
				end++
			}
			if end < len(p) && p[end] == ']' {
				end++
			}
			for end < len(p) && p[end] != ']' {
				if p[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(p) {
				panic("jsRegexp: unclosed class in " + p)
			}
			b.WriteString(translateClass(p[i+1:end], ignoreCase, p))
			i = end
		case c == '$' || c == '^':
			// Without the m flag both anchor at the ends of the input, as
			// RE2's do without (?m).
			b.WriteByte(c)
		case strings.IndexByte("()|?*+{},:=!", c) >= 0:
			b.WriteByte(c)
		case c >= 0x80:
			panic("jsRegexp: non-ASCII pattern " + p)
		default:
			b.WriteString(literal(c, ignoreCase))
		}
	}
	return b.String()
}

func literal(c byte, ignoreCase bool) string {
	if ignoreCase && isASCIILetter(c) {
		return "[" + string(lowerASCII(c)) + string(upperASCII(c)) + "]"
	}
	return regexp.QuoteMeta(string(c))
}

func translateEscape(c byte, inClass, ignoreCase bool, p string) string {
	var set string
	switch c {
	case 'd':
		set = `0-9`
	case 'w':
		set = `A-Za-z0-9_`
	case 's':
		set = jsSpaceClass
	case 'D', 'W', 'S':
		if inClass {
			panic("jsRegexp: negated class escape inside a class in " + p)
		}
		return `[^` + strings.TrimSuffix(strings.TrimPrefix(translateEscape(c+('a'-'A'), false, false, p), "["), "]") + `]`
	case 't':
		return `\t`
	case 'n':
		return `\n`
	case 'r':
		return `\r`
	case 'b', 'B':
		if inClass {
			panic("jsRegexp: \\b in a class in " + p)
		}
		// \w is ASCII in both dialects, and so are word boundaries.
		return `\` + string(c)
	default:
		if isASCIILetter(c) || c >= '0' && c <= '9' {
			panic(fmt.Sprintf("jsRegexp: unsupported escape \\%c in %s", c, p))
		}
		if inClass {
			return regexp.QuoteMeta(string(c))
		}
		return literal(c, ignoreCase)
	}
	if inClass {
		return set
	}
	return "[" + set + "]"
}

func translateClass(body string, ignoreCase bool, p string) string {
	var b strings.Builder
	b.WriteByte('[')
	if strings.HasPrefix(body, "^") {
		b.WriteByte('^')
		body = body[1:]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\':
			i++
			b.WriteString(translateEscape(body[i], true, ignoreCase, p))
		case i+2 < len(body) && body[i+1] == '-' && body[i+2] != '\\':
			lo, hi := c, body[i+2]
			fmt.Fprintf(&b, `\x{%x}-\x{%x}`, lo, hi)
			if ignoreCase && isASCIILetter(lo) && isASCIILetter(hi) && (lo >= 'a') == (hi >= 'a') {
				fmt.Fprintf(&b, `\x{%x}-\x{%x}`, swapASCII(lo), swapASCII(hi))
			}
			i += 2
		case c >= 0x80:
			panic("jsRegexp: non-ASCII class in " + p)
		default:
			fmt.Fprintf(&b, `\x{%x}`, c)
			if ignoreCase && isASCIILetter(c) {
				fmt.Fprintf(&b, `\x{%x}`, swapASCII(c))
			}
		}
	}
	b.WriteByte(']')
	return b.String()
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func swapASCII(c byte) byte {
	if c >= 'a' {
		return upperASCII(c)
	}
	return lowerASCII(c)
}
