package target

// The fresh ids of a call (freshIDs): one read of crypto/rand shared by the
// request id, the session id and the supplemental data id.

import (
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	uuidV4Pattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sdidPattern   = regexp.MustCompile(`^[0-7][0-9A-F]{15}-[0-7][0-9A-F]{15}$`)
)

// idRandomBytes is the 16 random bytes an id (a UUID v4 or a supplemental
// data id) was made from, without the bits either format fixes (the
// UUID's version and variant, the top bit of each half of a supplemental
// data id), so that two ids of either format made from the same bytes
// give the same value.
func idRandomBytes(t testing.TB, id string) [16]byte {
	t.Helper()
	var b [16]byte
	if n, err := hex.Decode(b[:], []byte(strings.ReplaceAll(id, "-", ""))); err != nil || n != 16 {
		t.Fatalf("id %q is not 16 bytes in hex: %v", id, err)
	}
	b[0] &= 0x7f
	b[6] &= 0x0f
	b[8] &= 0x3f
	return b
}

// TestFreshIDsDistinctAcrossGoroutines: ids made by concurrent calls are
// in their format, present only when asked for, and no two of them, of
// one call or of different calls, come from the same random bytes.
func TestFreshIDsDistinctAcrossGoroutines(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen = map[[16]byte]string{}
		wg   sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := range 3000 {
				m := (i + w) % 8
				var ids [3]string
				ids[0], ids[1], ids[2] = freshIDs(m&1 != 0, m&2 != 0, m&4 != 0)
				mu.Lock()
				for k, id := range ids {
					if m&(1<<k) == 0 {
						if id != "" {
							t.Errorf("id %d not asked for: %q", k, id)
						}
						continue
					}
					re := uuidV4Pattern
					if k == 2 {
						re = sdidPattern
					}
					if !re.MatchString(id) {
						t.Errorf("id %d %q is not in its format", k, id)
						continue
					}
					b := idRandomBytes(t, id)
					if prev, ok := seen[b]; ok {
						t.Errorf("id %d %q has the random bytes of %q", k, id, prev)
					}
					seen[b] = id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
