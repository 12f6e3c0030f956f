package merges

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

// Cache keeps the cards and the groups found in the last few books loaded
// through it, so that showing a book's groups again (another page of them,
// the list after a merge) does not run the matcher again. An entry is for
// a collection at one sync sequence number (Collection.SyncSeq, which
// every write changes, in every process) and one phone region: it is
// never stale. Hidden groups are left out on each Load (hiding writes no
// card). A merge made in a Book loaded through the cache moves its entry
// to the sequence number after the merge, when nobody else wrote
// meanwhile: the groups are then those found before, less the merged one.
// Safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	books    int   // at most this many entries
	bytes    int64 // and at most this many bytes of cards, all told
	entries  []*entry
	size     int64 // bytes of cards in entries
	hits     int   // Loads answered from the cache
	searches int   // Loads that ran the matcher
}

type entry struct {
	coll    int64
	seq     int64
	region  string
	cards   map[string]*store.Object
	members map[string]bool
	found   []dedup.Group
	size    int64
}

// NewCache returns a cache of the groups of at most books address books
// holding at most bytes of cards all told (a bigger book is not kept).
func NewCache(books int, bytes int64) *Cache {
	return &Cache{books: books, bytes: bytes}
}

// Load is the package's Load through the cache.
func (c *Cache) Load(ctx context.Context, st Store, coll *store.Collection, region string) (*Book, error) {
	b := c.get(st, coll, region)
	if b == nil {
		var err error
		if b, err = find(ctx, st, coll, region); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.searches++
		c.mu.Unlock()
		b.cache = c
		if coll.SyncSeq > 0 {
			// The cards were read after coll: settle finds at which
			// sequence number they are, if they are all of one.
			b.seq = coll.SyncSeq
			b.settle(ctx)
		}
	}
	if err := b.propose(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Stats says how many Loads were answered from the cache and how many ran
// the matcher.
func (c *Cache) Stats() (hits, searches int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.searches
}

// get returns a Book of the entry for coll as it is now, or nil.
func (c *Cache) get(st Store, coll *store.Collection, region string) *Book {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.coll != coll.ID || e.seq != coll.SyncSeq || e.region != region {
			continue
		}
		// Most recently used first.
		copy(c.entries[1:i+1], c.entries[:i])
		c.entries[0] = e
		c.hits++
		// The Book changes its maps and slices in place: it gets copies.
		// The cards themselves are shared, and never changed.
		return &Book{st: st, coll: coll, region: region, cards: maps.Clone(e.cards), members: maps.Clone(e.members),
			found: slices.Clone(e.found), cache: c, seq: e.seq}
	}
	return nil
}

// put keeps what b holds, at b.seq, in place of any older entry of its
// collection and region.
func (c *Cache) put(b *Book) {
	e := &entry{coll: b.coll.ID, seq: b.seq, region: b.region, cards: maps.Clone(b.cards), members: maps.Clone(b.members),
		found: slices.Clone(b.found)}
	for _, o := range e.cards {
		e.size += int64(len(o.Data)+len(o.Name)+len(o.UID)+len(o.ETag)) + cardOverhead
	}
	for _, g := range e.found {
		e.size += groupOverhead + int64(len(g.UIDs))*16 + int64(len(g.Why))*64
	}
	if e.size > c.bytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(old *entry) bool {
		if old.coll == e.coll && old.region == e.region {
			c.size -= old.size
			return true
		}
		return false
	})
	c.entries = slices.Insert(c.entries, 0, e)
	c.size += e.size
	for len(c.entries) > c.books || c.size > c.bytes {
		last := c.entries[len(c.entries)-1]
		c.entries = c.entries[:len(c.entries)-1]
		c.size -= last.size
	}
}

// What a card and a group cost on the heap besides their text: the
// store.Object (about 180 bytes) and its map entries, a group's
// dedup.Group and ID. Without them a book of small cards holds more than
// twice the bytes counted.
const (
	cardOverhead  = 256
	groupOverhead = 160
)

// errUnsettled stops reading the changes at the first that b does not hold.
var errUnsettled = errors.New("the book changed beyond its own merges")

// settle finds whether the cards b holds are the collection as it is now,
// from the changes made after b.seq: each must be a card b holds with
// that ETag, or the deletion of one b does not hold. If so b.seq becomes
// the current sequence number and the cache keeps b; if not (another
// client wrote), b.seq becomes 0 and nothing is kept.
func (b *Book) settle(ctx context.Context) {
	if b.cache == nil || b.seq == 0 {
		return
	}
	byName := make(map[string]*store.Object, len(b.cards))
	for _, o := range b.cards {
		byName[o.Name] = o
	}
	next, _, err := b.st.ChangesSince(ctx, b.coll.ID, b.seq, 0, false, func(ch *store.Change) error {
		o := byName[ch.Name]
		if ch.Deleted {
			if o != nil {
				return errUnsettled
			}
			return nil
		}
		if o == nil || ch.Object == nil || o.ETag != ch.Object.ETag || o.UID != ch.Object.UID {
			return errUnsettled
		}
		return nil
	})
	if err != nil {
		b.seq = 0
		return
	}
	b.seq = next
	b.cache.put(b)
}
