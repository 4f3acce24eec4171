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
	if v, ok := c.cached(key); ok {
		return v
	}
	// f gets a copy of its own, which it may keep.
	own := strings.Clone(key)
	v := f(own)
	c.store(own, v)
	return v
}

// cached returns the value remembered for key; it does not keep key, so
// key may be built in the caller's stack.
func (c *memo[V]) cached(key string) (V, bool) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	return v, ok
}

// remember stores v for a copy of key, unless key is too long to
// remember. The memo keeps its own copy: the caller's string may be part
// of a larger buffer (a request body, a key built on the caller's stack),
// which the memo must not keep.
func (c *memo[V]) remember(key string, v V) {
	if len(key) > c.maxKey {
		return
	}
	c.store(strings.Clone(key), v)
}

// store stores v for key, which is the memo's own.
func (c *memo[V]) store(key string, v V) {
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[key] = v
	c.mu.Unlock()
}
