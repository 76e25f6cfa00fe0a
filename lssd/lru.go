package lssd

import (
	"container/list"
	"sync"
)

// lru is a size-bounded map that evicts the least recently used entry when full.
// It backs every per-client or per-peer table the server keeps in memory (shared
// secrets, new-client rate limits, the pruner's clients), so that none of them can
// be grown without bound by made-up identities, and so that an entry in steady use
// is never the one evicted. It is safe for concurrent use.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; elements hold *lruEntry
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{max: max, order: list.New(), items: make(map[K]*list.Element)}
}

// get returns the value of k and marks it used.
func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// getOrAdd returns the value of k, adding mk() first if k is absent.
func (c *lru[K, V]) getOrAdd(k K, mk func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val
	}
	v := mk()
	c.addLocked(k, v)
	return v
}

// put sets k to v and marks it used, evicting the least recently used entry if
// the map is full.
func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	c.addLocked(k, v)
}

func (c *lru[K, V]) addLocked(k K, v V) {
	if len(c.items) >= c.max {
		oldest := c.order.Back()
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
		c.order.Remove(oldest)
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
}

// remove deletes k.
func (c *lru[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		delete(c.items, k)
		c.order.Remove(e)
	}
}

// keys returns the keys, most recently used first.
func (c *lru[K, V]) keys() []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]K, 0, len(c.items))
	for e := c.order.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*lruEntry[K, V]).key)
	}
	return out
}

func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
