package auth

import "container/list"

// lru is a map bounded to max entries that evicts the least recently used
// entry when full. It is not safe for concurrent use.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*list.Element
	order list.List // front = most recently used; values are *lruEntry[K, V]
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{max: max, items: make(map[K]*list.Element)}
}

// get returns the value for k and marks it most recently used.
func (c *lru[K, V]) get(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// put stores v under k, evicting the least recently used entry if needed.
func (c *lru[K, V]) put(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	for len(c.items) >= c.max {
		oldest := c.order.Back()
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
		c.order.Remove(oldest)
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
}

func (c *lru[K, V]) remove(k K) {
	if e, ok := c.items[k]; ok {
		delete(c.items, k)
		c.order.Remove(e)
	}
}

func (c *lru[K, V]) len() int { return len(c.items) }
