package ondevice

import (
	"strings"
	"sync"
)

// memo remembers the results of a pure function of a string, for the
// parsing every decision repeats on values that recur across visitors: user
// agents and page URLs. It remembers at most limit keys of at most maxKey
// bytes each and forgets them all when full, so hostile variety costs
// memory only up to limit × maxKey bytes of keys plus what f makes of them;
// a longer key is computed every time. Safe for concurrent use.
type memo[V any] struct {
	mu     sync.Mutex
	m      map[string]V
	limit  int
	maxKey int
}

func newMemo[V any](limit, maxKey int) *memo[V] {
	return &memo[V]{m: make(map[string]V), limit: limit, maxKey: maxKey}
}

// get returns f(key), computing it at most once while it is remembered.
// f runs outside the lock, so two callers may compute the same key.
func (c *memo[V]) get(key string, f func(string) V) V {
	if len(key) > c.maxKey {
		return f(key)
	}
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	// The memo keeps its own copy: the caller's string may be part of a
	// larger buffer (a request body), which the memo must not keep.
	key = strings.Clone(key)
	v = f(key)
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v
}
