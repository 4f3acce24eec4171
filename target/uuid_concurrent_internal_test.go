package target

import (
	"regexp"
	"sync"
	"testing"
)

// newUUIDs called from many goroutines at once, in batches of every size
// a decision asks for: every id a version 4 UUID, none given twice.
func TestNewUUIDsConcurrent(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	const workers, rounds = 8, 2000
	out := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				ids := make([]string, r%6)
				newUUIDs(ids)
				out[w] = append(out[w], ids...)
				out[w] = append(out[w], newUUID())
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ids := range out {
		for _, id := range ids {
			if !v4.MatchString(id) {
				t.Fatalf("not a version 4 UUID: %q", id)
			}
			if seen[id] {
				t.Fatalf("%s minted twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) < workers*rounds {
		t.Fatalf("%d ids", len(seen))
	}
}
