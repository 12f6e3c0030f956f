package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// The cases of store/sqlite's benchmarks that this driver has so far, on
// the same data, so that the numbers compare. The throwaway cluster runs
// without fsync (see pgtest): ns/op is the work of the driver and the
// server, not of a disk.

// benchCard is a typical small vCard, the same as sqlite's.
var benchCard = []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:0123456789abcdef\r\nFN:Jane Doe\r\nN:Doe;Jane;;;\r\n" +
	"EMAIL;TYPE=INTERNET:jane@example.com\r\nTEL;TYPE=CELL:+1 555 0100\r\nEND:VCARD\r\n")

// fillBook writes n objects named %06d.vcf, with their changes and counters,
// as n PutObject calls would (seqs 1..n), in a few statements: a setup,
// not what is measured. ANALYZE gives the planner what autovacuum would.
func fillBook(b *testing.B, s *Store, coll int64, n int) {
	b.Helper()
	ctx := b.Context()
	size := int64(len(benchCard))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO objects (collection, name, uid, etag, size, modified, seq, component, first_start, last_end, data)
			SELECT $1, lpad(i::text, 6, '0') || '.vcf', lpad(i::text, 6, '0') || '.vcf', $2, $3, $4, i + 1, '', $5, $6, $7
			FROM generate_series(0, $8::bigint - 1) i`,
			[]any{coll, store.ETag(benchCard), size, micros(now()), int64(spanMin), int64(spanMax), benchCard, n}},
		{`INSERT INTO changes (collection, name, seq, deleted, changed)
			SELECT collection, name, seq, FALSE, modified FROM objects WHERE collection = $1`, []any{coll}},
		{`UPDATE collections SET sync_seq = $2, obj_count = $2, obj_bytes = $2::bigint * $3::bigint WHERE id = $1`, []any{coll, n, size}},
		{`UPDATE users SET used_bytes = used_bytes + (SELECT SUM(size + length(name) + $2) FROM objects WHERE collection = $1)
			WHERE login = 'u'`, []any{coll, store.ObjectOverhead}},
		{`ANALYZE`, nil},
	} {
		if _, err := s.pool.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut measures writes from 4 concurrent writers; ns/op is per
// write.
func BenchmarkPut(b *testing.B) {
	ctx := b.Context()
	s, c := bookFixture(b)
	const writers = 4
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < b.N; i += writers {
				name := fmt.Sprintf("%d.vcf", i)
				if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: benchCard}, store.Conditions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkChangesSince(b *testing.B) {
	ctx := b.Context()
	s, c := bookFixture(b)
	const n = 10000
	fillBook(b, s, c.ID, n)
	for _, bc := range []struct {
		name     string
		seq      int64
		limit    int
		withData bool
	}{
		{"initial", 0, 0, false},
		{"initial-data", 0, 0, true},
		{"since-half", n / 2, 0, false},
		{"page-1000", 0, 1000, false},
		{"nothing-new", n, 0, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.ChangesSince(ctx, c.ID, bc.seq, bc.limit, bc.withData, func(*store.Change) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetObjects(b *testing.B) {
	ctx := b.Context()
	s, c := bookFixture(b)
	const n = 10000
	fillBook(b, s, c.ID, n)
	for _, batch := range []int{10, 100} {
		names := make([]string, batch)
		for i := range names {
			names[i] = fmt.Sprintf("%06d.vcf", i*(n/batch))
		}
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			for b.Loop() {
				objs, err := s.GetObjects(ctx, c.ID, names, true)
				if err != nil || len(objs) != batch {
					b.Fatalf("%d objects, %v", len(objs), err)
				}
			}
		})
	}
}

// BenchmarkGetCollection shows the cost of the Count/Bytes aggregates on a
// large collection (PROPFIND on a home reads every collection).
func BenchmarkGetCollection(b *testing.B) {
	ctx := b.Context()
	s, c := bookFixture(b)
	fillBook(b, s, c.ID, 10000)
	for b.Loop() {
		if _, err := s.GetCollection(ctx, "u", store.KindCard, "book"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListObjects streams a book of 10000 cards (PROPFIND, exports),
// without and with their data; and GetObject reads one card (GET).
func BenchmarkListObjects(b *testing.B) {
	ctx := b.Context()
	s, c := bookFixture(b)
	const n = 10000
	fillBook(b, s, c.ID, n)
	for _, withData := range []bool{false, true} {
		b.Run(fmt.Sprint("data=", withData), func(b *testing.B) {
			for b.Loop() {
				got := 0
				if err := s.ListObjects(ctx, c.ID, withData, func(*store.Object) error { got++; return nil }); err != nil || got != n {
					b.Fatalf("%d objects, %v", got, err)
				}
			}
		})
	}
	b.Run("GetObject", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.GetObject(ctx, c.ID, fmt.Sprintf("%06d.vcf", i%n)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPutDelete writes and deletes a card, one writer at a time: what
// a write costs without contention, with no push registration on the
// collection (as most have), where its queueing finds none, and with one,
// where each write queues a message (joining the one queued).
func BenchmarkPutDelete(b *testing.B) {
	ctx := b.Context()
	for _, registered := range []bool{false, true} {
		b.Run(fmt.Sprint("registered=", registered), func(b *testing.B) {
			s, c := bookFixture(b)
			if registered {
				if _, err := s.PushKey(ctx, testKey); err != nil {
					b.Fatal(err)
				}
				if _, err := s.RegisterPush(ctx, &store.PushRegistration{Login: "u", Collection: c.ID, Resource: "https://push/1",
					PublicKey: "k", AuthSecret: "a", Content: true, Expires: time.Now().Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("%d.vcf", i)
				if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: benchCard}, store.Conditions{}); err != nil {
					b.Fatal(err)
				}
				if err := s.DeleteObject(ctx, c.ID, name, store.Conditions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
