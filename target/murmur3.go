package target

import (
	"math"
	"math/bits"
	"unicode/utf8"
)

// murmur3UTF16 is MurmurHash3 x86 32-bit over the UTF-16LE encoding of s.
//
// Target buckets visitors by hashing the JavaScript string
// "{client}.{activityId}.{visitorId}.0" with Guava's hashUnencodedChars,
// which feeds the string's 16-bit code units to the hash two at a time, low
// unit first: exactly the UTF-16LE bytes. Hashing the Go string's UTF-8 bytes
// would give different buckets for the same visitor, so the code units are
// produced here from the runes, without allocating. Invalid UTF-8 hashes as
// U+FFFD, which is what a JavaScript string decoded from the same bytes holds.
func murmur3UTF16(s string, seed uint32) uint32 {
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

// allocationBucket maps a visitor to a percentage in [0, 100) with two
// decimals, the value the artifact's "allocation" conditions compare against.
//
// The steps and the float arithmetic follow Adobe's engines exactly (signed
// 32-bit hash, absolute value, modulo 10000, scaled to a percentage, rounded
// half up to two decimals): a visitor must land in the same experience
// whichever SDK decides for it.
func allocationBucket(client, activityID, visitorID string) float64 {
	return bucketOf(client + "." + activityID + "." + visitorID + "." + campaignBucketSalt)
}

// bucketOf is allocationBucket for a whole key.
func bucketOf(key string) float64 {
	signed := int64(int32(murmur3UTF16(key, 0)))
	if signed < 0 {
		signed = -signed
	}
	v := float64(signed%10000) / 10000 * 100
	return math.Floor(v*100+0.5) / 100
}

// campaignBucketSalt is the last component of the allocation key.
const campaignBucketSalt = "0"
