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
//
// A memo made with a byte budget (newSizedMemo) also forgets everything
// when what it keeps, as its callers estimate it (rememberOwn's cost),
// would pass the budget: the values of some keys are far larger than the
// keys.
type memo[V any] struct {
	mu     sync.Mutex
	m      map[string]V
	limit  int
	maxKey int
	budget int // bytes; 0: limit × maxKey bounds the keys, not the values
	bytes  int // the costs of what m holds
}

func newMemo[V any](limit, maxKey int) *memo[V] {
	return &memo[V]{m: make(map[string]V), limit: limit, maxKey: maxKey}
}

// newSizedMemo is newMemo with a budget of bytes for what it keeps.
func newSizedMemo[V any](limit, maxKey, budget int) *memo[V] {
	return &memo[V]{m: make(map[string]V), limit: limit, maxKey: maxKey, budget: budget}
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
	c.store(own, v, 0)
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

// rememberOwn stores v for key, which is the memo's own (the caller made
// it and keeps no part of it it may change), and which with v costs cost
// bytes of the memo's budget. A value above the whole budget is not kept.
func (c *memo[V]) rememberOwn(key string, v V, cost int) {
	if len(key) > c.maxKey || c.budget > 0 && cost > c.budget {
		return
	}
	c.store(key, v, cost)
}

// store stores v for key, which is the memo's own, at cost bytes.
func (c *memo[V]) store(key string, v V, cost int) {
	c.mu.Lock()
	if len(c.m) >= c.limit || c.budget > 0 && c.bytes+cost > c.budget {
		clear(c.m)
		c.bytes = 0
	}
	c.m[key] = v
	c.bytes += cost
	c.mu.Unlock()
}
