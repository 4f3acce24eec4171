package ondevice

import (
	"sync"
)

// memo remembers the results of a pure function of a string, for the
// parsing every decision repeats on values that recur across visitors: user
// agents and page URLs. It holds at most limit entries and forgets them all
// when full, so hostile variety costs memory only up to the limit. Safe for
// concurrent use.
type memo[V any] struct {
	mu    sync.Mutex
	m     map[string]V
	limit int
}

func newMemo[V any](limit int) *memo[V] {
	return &memo[V]{m: make(map[string]V), limit: limit}
}

// get returns f(key), computing it at most once while it is remembered.
// f runs outside the lock, so two callers may compute the same key.
func (c *memo[V]) get(key string, f func(string) V) V {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = f(key)
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v
}
