// Package murmur3 is MurmurHash3 x86 32-bit over the UTF-16 code units of a
// string, the hash Target buckets visitors with.
//
// Contract: UTF16(s, seed) equals Guava's
// Hashing.murmur3_32(seed).hashUnencodedChars(s) and the murmurhash3_32_gc
// of Adobe's JavaScript engines for the JavaScript string holding the same
// text. It does not allocate.
//
// Invalid UTF-8 hashes as one U+FFFD per byte that does not start a valid
// sequence, as utf8.DecodeRune reads it. That is not what JavaScript
// holds for the same bytes in every case: a TextDecoder (WHATWG's
// "maximal subpart" rule) gives one U+FFFD for a truncated multi-byte
// sequence ("\xe2\x82" is two U+FFFD here, one there). The strings the
// engine hashes come from encoding/json, which has already replaced
// invalid bytes the same per-byte way, so they reach this function as
// valid UTF-8; the difference with Adobe's engines, for such input, is in
// that decoding.
//
// Source of truth: the MurmurHash3 reference (MurmurHash3_x86_32, public
// domain) for the algorithm, and the bucket values Adobe's SDKs publish in
// their tests for the UTF-16 input; the tests pin both.
package murmur3

import (
	"math/bits"
	"unicode/utf8"
)

// UTF16 is MurmurHash3 x86 32-bit over the UTF-16LE encoding of s.
//
// Target buckets visitors by hashing the JavaScript string
// "{client}.{activityId}.{visitorId}.0" with Guava's hashUnencodedChars,
// which feeds the string's 16-bit code units to the hash two at a time, low
// unit first: exactly the UTF-16LE bytes. Hashing the Go string's UTF-8 bytes
// would give different buckets for the same visitor, so the code units are
// produced here from the runes, without allocating. Invalid UTF-8: see the
// package doc.
func UTF16(s string, seed uint32) uint32 {
	const (
		c1 = 0xcc9e2d51
		c2 = 0x1b873593
	)
	h := seed
	var block uint32 // the pending code unit when half is set
	half := false
	units := 0
	mix := func(k uint32) {
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	push := func(u uint32) {
		units++
		if !half {
			block = u
			half = true
			return
		}
		mix(block | u<<16)
		half = false
	}
	for i := 0; i < len(s); {
		// Two ASCII bytes at a block boundary are one whole block (two
		// UTF-16 code units): mixed at once, without the pending unit.
		// Allocation keys are ASCII, and this is most of their hashing.
		if !half && i+1 < len(s) && s[i]|s[i+1] < utf8.RuneSelf {
			j := i
			for ; j+1 < len(s) && s[j]|s[j+1] < utf8.RuneSelf; j += 2 {
				k := (uint32(s[j]) | uint32(s[j+1])<<16) * c1
				k = bits.RotateLeft32(k, 15) * c2
				h ^= k
				h = bits.RotateLeft32(h, 13)*5 + 0xe6546b64
			}
			units += j - i
			i = j
			continue
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			push(uint32(0xd800 + (r>>10)&0x3ff))
			push(uint32(0xdc00 + r&0x3ff))
			continue
		}
		push(uint32(r))
	}
	if half {
		k := block * c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(units * 2)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
