package sqlite

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// benchCard is a typical small vCard.
var benchCard = []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:0123456789abcdef\r\nFN:Jane Doe\r\nN:Doe;Jane;;;\r\n" +
	"EMAIL;TYPE=INTERNET:jane@example.com\r\nTEL;TYPE=CELL:+1 555 0100\r\nEND:VCARD\r\n")

// fill puts n objects; fsync is off meanwhile, setup is not what we measure.
func fill(b *testing.B, s *Store, coll int64, n int) {
	b.Helper()
	if _, err := s.wdb.Exec(`PRAGMA synchronous = OFF`); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("%06d.vcf", i)
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: name, Data: benchCard}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.wdb.Exec(`PRAGMA synchronous = FULL`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPut measures durable (synchronous=FULL) writes from 4 concurrent
// writers; ns/op is per write.
func BenchmarkPut(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	c := fixture(b, s)
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
	s := openTemp(b)
	defer s.Close()
	c := fixture(b, s)
	const n = 10000
	fill(b, s, c.ID, n)
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
	s := openTemp(b)
	defer s.Close()
	c := fixture(b, s)
	const n = 10000
	fill(b, s, c.ID, n)
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
	s := openTemp(b)
	defer s.Close()
	c := fixture(b, s)
	fill(b, s, c.ID, 10000)
	for b.Loop() {
		if _, err := s.GetCollection(ctx, "u", store.KindCard, "book"); err != nil {
			b.Fatal(err)
		}
	}
}

// besideMerges is a book of 2*merges cards where merges took away every
// second one, fsync off: a setup, not what is measured.
func besideMerges(b *testing.B, s *Store, merges int) *store.Collection {
	b.Helper()
	c := fixture(b, s)
	fill(b, s, c.ID, 2*merges)
	if _, err := s.wdb.Exec(`PRAGMA synchronous = OFF`); err != nil {
		b.Fatal(err)
	}
	etag := store.ETag(benchCard)
	for i := range merges {
		ref, away := fmt.Sprintf("%06d.vcf", 2*i), fmt.Sprintf("%06d.vcf", 2*i+1)
		_, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
			Reference:     &store.Object{Collection: c.ID, Name: ref, UID: ref, Data: benchCard},
			ReferenceETag: etag,
			Removed:       []store.Removed{{Name: away, UID: away, ETag: etag}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkPutBesideMerges creates cards in a book where merges took away
// 5000 cards: each creation looks its name and UID up among them (see
// mergedInto). fsync is off throughout, so that ns/op is the work of the
// write, not the disk's.
func BenchmarkPutBesideMerges(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	c := besideMerges(b, s, 5000)
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("new-%d.vcf", i)
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: benchCard}, store.Conditions{IfNoneMatch: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergedInto is the lookup alone, among 5000 merges: a name and
// UID never merged away (what every creation asks), and a merged-away one.
func BenchmarkMergedInto(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	c := besideMerges(b, s, 5000)
	for _, bc := range []struct{ what, name, survivor string }{
		{"absent", "new.vcf", ""},
		{"merged", "004001.vcf", "004000.vcf"},
	} {
		b.Run(bc.what, func(b *testing.B) {
			for b.Loop() {
				got, _, err := s.MergedInto(ctx, c.ID, bc.name, bc.name)
				if err != nil || got != bc.survivor {
					b.Fatalf("MergedInto(%s) = %q, %v", bc.name, got, err)
				}
			}
		})
	}
}

// BenchmarkPruneTombstones measures one prune of n old deletions spread
// over 100 collections, ns/op per prune, while a writer puts cards beside
// it: max-put-ms is the longest such write, what every writer may wait.
func BenchmarkPruneTombstones(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openTemp(b)
			defer s.Close()
			c := fixture(b, s)
			for i := 1; i < 100; i++ {
				if err := s.CreateCollection(ctx, &store.Collection{Owner: "u", Kind: store.KindCard, Name: fmt.Sprint("b", i)}); err != nil {
					b.Fatal(err)
				}
			}
			// Live names beside the deletions, as in a real log.
			if _, err := s.wdb.Exec(`WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < ?)
				INSERT INTO changes (collection, name, seq, deleted, changed)
				SELECT ? + x % 100, 'live' || x, 1000000 + x, FALSE, 1 FROM i`, n, c.ID); err != nil {
				b.Fatal(err)
			}
			var slowest time.Duration
			for b.Loop() {
				b.StopTimer()
				if _, err := s.wdb.Exec(`WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < ?)
					INSERT INTO changes (collection, name, seq, deleted, changed)
					SELECT ? + x % 100, 'gone' || x, x, TRUE, 1 FROM i`, n, c.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				done := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-done:
							return
						default:
						}
						name := fmt.Sprintf("w%d.vcf", i%10)
						t0 := time.Now()
						if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: benchCard}, store.Conditions{}); err != nil {
							b.Error(err)
							return
						}
						slowest = max(slowest, time.Since(t0))
					}
				})
				got, err := s.PruneTombstones(ctx, fromMicros(2))
				close(done)
				wg.Wait()
				if err != nil || got != n {
					b.Fatalf("pruned %d, %v", got, err)
				}
			}
			b.ReportMetric(float64(slowest.Microseconds())/1000, "max-put-ms")
		})
	}
}

// BenchmarkListObjects streams a book of 10000 cards (PROPFIND, exports),
// without and with their data; and GetObject reads one card (GET).
func BenchmarkListObjects(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	c := fixture(b, s)
	const n = 10000
	fill(b, s, c.ID, n)
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
