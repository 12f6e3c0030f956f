package merges_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// listStore is a book of cards held in memory: what Cache.Load reads.
type listStore struct {
	store.Store
	cards []store.Object
}

func (s *listStore) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	for i := range s.cards {
		o := s.cards[i]
		o.Data = append([]byte(nil), o.Data...) // a driver's fresh copy
		if err := fn(&o); err != nil {
			return err
		}
	}
	return nil
}

func (s *listStore) HiddenGroups(ctx context.Context, coll int64) ([][]string, error) {
	return nil, nil
}

func (s *listStore) ChangesSince(ctx context.Context, coll, seq int64, limit int, withData bool, fn func(c *store.Change) error) (int64, bool, error) {
	return seq, false, nil
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The cache's bound is on the bytes of cards it keeps: what an entry
// holds on the heap must be within that bound, give or take a little, or
// 8 books of "256 MB" hold several times that.
func TestCacheSizeIsHonest(t *testing.T) {
	const n = 20000
	st := &listStore{}
	var data int64
	for i := range n {
		uid := fmt.Sprintf("%08x-1b2c-4d5e-8f90-%012x", i, i)
		card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Person %d Name\r\nN:Name;Person %d;;;\r\nTEL;TYPE=CELL:+4915%08d\r\nEMAIL:p%d@example.org\r\nEND:VCARD\r\n", uid, i, i, i, i)
		st.cards = append(st.cards, store.Object{Collection: 1, Name: uid + ".vcf", UID: uid, ETag: fmt.Sprintf("%032x", i), Data: []byte(card), Size: int64(len(card))})
		data += int64(len(card))
	}
	coll := &store.Collection{ID: 1, Owner: "ann", Kind: store.KindCard, Name: "contacts", SyncSeq: 5}
	bound := data * 3 / 2
	cache := merges.NewCache(8, bound)
	before := heap()
	// The Book Load returns is dropped at once: what stays is the cache's.
	if _, err := cache.Load(context.Background(), st, coll, ""); err != nil {
		t.Fatal(err)
	}
	held := int64(heap() - before)
	t.Logf("%d cards of %d bytes of vCard: the cache bounded at %d bytes holds %d bytes on the heap", n, data, bound, held)
	if held > bound {
		t.Errorf("a cache bounded at %d bytes holds %d bytes (%.1fx the cards' data it counts)", bound, held, float64(held)/float64(data))
	}
	runtime.KeepAlive(cache)
	runtime.KeepAlive(st)
}
