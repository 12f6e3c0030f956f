package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
)

// openPair opens two stores on one new database, as two server processes
// do.
func openPair(t *testing.T) (a, b *Store) {
	t.Helper()
	ctx := context.Background() // the stores outlive t.Context, until the cleanups
	url := pgtest.URL(t)
	var err error
	if a, err = Open(ctx, url, store.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b, err = Open(ctx, url, store.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

// replica is what a sync-collection client keeps: ETags by name, and
// every change it was told of, to catch one told twice.
type replica struct {
	name  string
	s     *Store
	coll  int64
	limit int
	token int64
	syncs int
	etags map[string]string
	told  map[string]bool // "name@seq"
}

// sync runs ChangesSince from the replica's token (an initial sync when
// it has none yet) and applies what it streams, page by page, until a
// page is not truncated. It checks that seqs ascend within a response and
// lie between the token and next, and that no change comes twice.
func (r *replica) sync(ctx context.Context) error {
	for {
		since, prev := r.token, int64(0)
		initial := since == 0 && r.etags == nil
		if initial {
			r.etags = map[string]string{}
		}
		next, truncated, err := r.s.ChangesSince(ctx, r.coll, since, r.limit, false, func(c *store.Change) error {
			if c.Seq <= since || c.Seq <= prev {
				return fmt.Errorf("%s@%d after token %d and seq %d", c.Name, c.Seq, since, prev)
			}
			prev = c.Seq
			key := fmt.Sprintf("%s@%d", c.Name, c.Seq)
			if r.told[key] {
				return fmt.Errorf("%s told twice", key)
			}
			r.told[key] = true
			if c.Deleted {
				delete(r.etags, c.Name)
			} else {
				r.etags[c.Name] = c.Object.ETag
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: sync %d since %d: %w", r.name, r.syncs, since, err)
		}
		r.syncs++
		if next < since || prev > next || (truncated && next != prev) {
			return fmt.Errorf("%s: since %d: next %d after seq %d (truncated %v)", r.name, since, next, prev, truncated)
		}
		r.token = next
		if !truncated {
			return nil
		}
	}
}

// TestSharedWriters runs 8 writers on one collection through two stores on
// one database (two server processes) for a few seconds: unconditional
// PUTs and DELETEs of names of their own, and If-None-Match creates of
// names they all race for. Two clients sync meanwhile, one through each
// store, one of them in small pages. Every acknowledged write must be in
// the final state, each raced name has one winner, the collection's seq
// counts the writes, and the clients, applying only what their syncs
// told them, end with exactly the final state.
func TestSharedWriters(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	if err := a.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := b.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}

	const writers, own = 8, 20
	const load = 3 * time.Second
	type state struct {
		data    []byte // nil: deleted or never written
		written bool
	}
	var (
		mu      sync.Mutex
		final   = map[string]state{} // what each acknowledged write left
		winners = map[string]int{}   // raced name: writers that won it
		writes  int64                // acknowledged writes
	)
	stop := make(chan struct{})
	errs := make(chan error, writers+2)
	var wg sync.WaitGroup
	for w := range writers {
		s := []*Store{a, b}[w%2]
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch op := i % 10; {
				case op < 6:
					name := fmt.Sprintf("w%d-%02d.vcf", w, i%own)
					data := fmt.Appendf(nil, "BEGIN:VCARD\r\nUID:%s\r\nFN:%d %d\r\nEND:VCARD\r\n", name, w, i)
					if _, _, err = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: data}, store.Conditions{}); err == nil {
						mu.Lock()
						final[name], writes = state{data, true}, writes+1
						mu.Unlock()
					}
				case op < 8:
					name := fmt.Sprintf("w%d-%02d.vcf", w, (i+7)%own)
					err = s.DeleteObject(ctx, c.ID, name, store.Conditions{})
					mu.Lock()
					switch {
					case err == nil:
						final[name], writes = state{nil, true}, writes+1
					case errors.Is(err, store.ErrNotFound) && final[name].data == nil:
						err = nil // it was not there: this writer alone writes it
					}
					mu.Unlock()
				default:
					name := fmt.Sprintf("raced-%04d.vcf", i/10)
					data := fmt.Appendf(nil, "BEGIN:VCARD\r\nUID:%s\r\nFN:won by %d\r\nEND:VCARD\r\n", name, w)
					_, _, err = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: data},
						store.Conditions{IfNoneMatch: true})
					mu.Lock()
					switch {
					case err == nil:
						winners[name]++
						final[name], writes = state{data, true}, writes+1
					case errors.Is(err, store.ErrPrecondition):
						err = nil
					}
					mu.Unlock()
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d, op %d: %w", w, i, err)
					return
				}
			}
		})
	}
	readers := []*replica{
		{name: "client of A", s: a, coll: c.ID, told: map[string]bool{}},
		{name: "client of B, pages of 7", s: b, coll: c.ID, limit: 7, told: map[string]bool{}},
	}
	for _, r := range readers {
		wg.Go(func() {
			time.Sleep(100 * time.Millisecond) // the initial sync sees some writes
			for {
				if err := r.sync(ctx); err != nil {
					errs <- err
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	}
	time.Sleep(load)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// The final state holds every acknowledged write, and nothing else.
	got := map[string][]byte{}
	err := a.ListObjects(ctx, c.ID, true, func(o *store.Object) error {
		got[o.Name] = o.Data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for name, st := range final {
		if st.data != nil {
			want[name] = store.ETag(st.data)
			if string(got[name]) != string(st.data) {
				t.Errorf("%s: %q, acknowledged %q", name, got[name], st.data)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d objects, %d acknowledged", len(got), len(want))
	}
	for name, n := range winners {
		if n != 1 {
			t.Errorf("%s: %d writers won If-None-Match", name, n)
		}
	}
	coll, err := b.GetCollection(ctx, "u", store.KindCard, "book")
	if err != nil {
		t.Fatal(err)
	}
	if coll.SyncSeq != writes || coll.Count != int64(len(want)) {
		t.Errorf("seq %d after %d writes, %d objects of %d", coll.SyncSeq, writes, coll.Count, len(want))
	}
	t.Logf("%d writes, %d objects, %d raced names", writes, len(want), len(winners))

	// Each client, from what its syncs told it, has the final state.
	for _, r := range readers {
		if err := r.sync(ctx); err != nil {
			t.Fatal(err)
		}
		if r.token != coll.SyncSeq {
			t.Errorf("%s: token %d, seq %d", r.name, r.token, coll.SyncSeq)
		}
		for name, etag := range want {
			if r.etags[name] != etag {
				t.Errorf("%s: %s has ETag %q, want %q", r.name, name, r.etags[name], etag)
			}
		}
		for name := range r.etags {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: keeps %s, which is gone", r.name, name)
			}
		}
		if r.syncs < 10 {
			t.Errorf("%s: %d syncs during the load, want many", r.name, r.syncs)
		}
		t.Logf("%s: %d syncs, %d changes told", r.name, r.syncs, len(r.told))
	}
}

// bookFixture opens a store with user u and an address book.
func bookFixture(t testing.TB) (*Store, *store.Collection) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// A prune that runs while an incremental sync streams its pages, and
// forgets deletions the sync has not streamed yet, makes the sync fail
// with ErrInvalidSyncToken (its token is refused from then on) instead of
// ending without them; one that forgets only what was streamed already
// does not disturb it.
func TestSyncAcrossPrune(t *testing.T) {
	const n = 3 * pageRows // deletions, at seqs 1..n
	for _, tc := range []struct {
		what  string
		upTo  int64 // the prune forgets the deletions up to this seq
		after int   // it runs in the callback of this change
		fails bool
	}{
		{"of what was streamed", 100, 200, false},
		{"of what was not", n, 10, true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			ctx := t.Context()
			s, c := bookFixture(t)
			// The log of n deletions, written directly: a fixture.
			if _, err := s.pool.Exec(ctx, `INSERT INTO changes (collection, name, seq, deleted, changed)
				SELECT $1, 'gone-' || i, i, TRUE, 1 FROM generate_series(1, $2::bigint) i`, c.ID, n); err != nil {
				t.Fatal(err)
			}
			if _, err := s.pool.Exec(ctx, `UPDATE collections SET sync_seq = $2 WHERE id = $1`, c.ID, n); err != nil {
				t.Fatal(err)
			}
			got := 0
			next, _, err := s.ChangesSince(ctx, c.ID, 1, 0, false, func(ch *store.Change) error {
				got++
				if got != tc.after {
					return nil
				}
				// What PruneTombstones does: forget and raise the floor, in one transaction.
				_, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM changes WHERE collection = $1 AND deleted AND seq <= $2 RETURNING seq)
					UPDATE collections SET sync_floor = (SELECT MAX(seq) FROM d) WHERE id = $1`, c.ID, tc.upTo)
				return err
			})
			if tc.fails {
				if !errors.Is(err, store.ErrInvalidSyncToken) {
					t.Fatalf("%d changes, next %d, error %v; want ErrInvalidSyncToken", got, next, err)
				}
				return
			}
			if err != nil || got != n-1 || next != n {
				t.Fatalf("%d changes, next %d, error %v; want %d, %d", got, next, err, n-1, n)
			}
		})
	}
}

// A streaming read with data holds a page of about pageBytes, not every
// row of pageRows: large objects are read a few at a time.
func TestPageBytes(t *testing.T) {
	ctx := t.Context()
	s, c := bookFixture(t)
	const objects, size = 40, 1 << 20
	for i := range objects {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte('a' + (i+j)%26)
		}
		name := fmt.Sprintf("%02d.vcf", i)
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: data}, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteObject(ctx, c.ID, "00.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	// each checks the live heap while a callback runs: the page and
	// the driver's buffers.
	var peak uint64
	each := func(o *store.Object) error {
		if len(o.Data) != size {
			return fmt.Errorf("%s: %d bytes", o.Name, len(o.Data))
		}
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > base.HeapAlloc {
			peak = max(peak, m.HeapAlloc-base.HeapAlloc)
		}
		return nil
	}
	for _, stream := range []struct {
		what string
		run  func() (int, error)
	}{
		{"ListObjects", func() (int, error) {
			n := 0
			return n, s.ListObjects(ctx, c.ID, true, func(o *store.Object) error { n++; return each(o) })
		}},
		{"initial sync", func() (int, error) {
			n := 0
			_, _, err := s.ChangesSince(ctx, c.ID, 0, 0, true, func(ch *store.Change) error { n++; return each(ch.Object) })
			return n, err
		}},
		{"incremental sync", func() (int, error) {
			n := 0
			_, _, err := s.ChangesSince(ctx, c.ID, 1, 0, true, func(ch *store.Change) error {
				n++
				if ch.Deleted {
					return nil
				}
				return each(ch.Object)
			})
			return n, err
		}},
	} {
		peak = 0
		n, err := stream.run()
		if err != nil {
			t.Fatalf("%s: %v", stream.what, err)
		}
		if n < objects-1 {
			t.Fatalf("%s: %d objects", stream.what, n)
		}
		// A page holds 4 or 5 objects, the driver buffers one or two.
		if peak > 12*size {
			t.Errorf("%s: %d MB live in a callback", stream.what, peak>>20)
		}
		t.Logf("%s: %d MB live in a callback at most", stream.what, peak>>20)
	}
}
