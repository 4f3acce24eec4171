package batch_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/target-go/sdk/batch"
)

// TestGroupStress: concurrent Do, Forget and Cancel on few keys,
// with work that returns, fails or panics. Every future settles; callers
// that joined work in flight share its future; nothing is left behind.
func TestGroupStress(t *testing.T) {
	var g batch.Group[int, int]
	var runs atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := (w + i) % 4
				f := g.Do(context.Background(), key, func(ctx context.Context) (int, error) {
					n := runs.Add(1)
					switch n % 7 {
					case 3:
						return 0, errA
					case 5:
						panic("group panic")
					}
					return key, nil
				})
				switch i % 9 {
				case 4:
					g.Forget(key)
				case 7:
					f.Cancel()
				}
				v, err := f.Await(context.Background())
				if err == nil && v != key {
					t.Errorf("key %d got %d", key, v)
				}
			}
		})
	}
	wg.Wait()
}
