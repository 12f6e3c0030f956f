package storecopy_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/storecopy"
)

func table(name string) *store.Table {
	for i := range store.Tables {
		if store.Tables[i].Name == name {
			return &store.Tables[i]
		}
	}
	panic("no table " + name)
}

// bulk writes, as raw rows, a user with an address book of n cards of
// about size bytes each, and their changes: a large store made fast.
func bulk(t testing.TB, s store.Rows, n, size int) {
	t.Helper()
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	err := s.WriteRows(ctx, func(w store.RowWriter) error {
		one := func(name string, row ...any) error {
			_, err := w.Insert(ctx, table(name), func(yield func([]any, error) bool) { yield(row, nil) })
			return err
		}
		if err := one("users", "u", "h", int64(1), false, int64(0), "", "", "", false, "", ""); err != nil {
			return err
		}
		if err := one("collections", int64(1), "u", "card", "book", "", "", "", int64(0), "", "", int64(1), int64(1),
			int64(n), int64(0), int64(n), int64(n*size)); err != nil {
			return err
		}
		objects := func(yield func([]any, error) bool) {
			for i := range n {
				uid := fmt.Sprintf("uid-%06d", i)
				data := fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nNOTE:%s\r\nEND:VCARD\r\n", uid, pad)
				if !yield([]any{int64(1), uid + ".vcf", uid, store.ETag(data), int64(len(data)), int64(1), int64(i + 1),
					"", int64(-1 << 63), int64(1<<63 - 1), data}, nil) {
					return
				}
			}
		}
		if _, err := w.Insert(ctx, table("objects"), objects); err != nil {
			return err
		}
		changes := func(yield func([]any, error) bool) {
			for i := range n {
				if !yield([]any{int64(1), fmt.Sprintf("uid-%06d.vcf", i), int64(i + 1), false, int64(1)}, nil) {
					return
				}
			}
		}
		_, err := w.Insert(ctx, table("changes"), changes)
		return err
	})
	must(t, err)
}

// The copy streams: copying 80 MB of cards holds a few rows in memory at
// a time, not a table.
func TestCopyStreams(t *testing.T) {
	src := newSQLite(t)
	bulk(t, src, 5000, 16<<10)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			to := tg.open(t)
			runtime.GC()
			var base, m runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak uint64
			res, err := storecopy.Copy(ctx, src, to, storecopy.Options{}, func(e storecopy.Event) {
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			})
			must(t, err)
			if res.ETags != 5000 {
				t.Fatalf("result: %+v", res)
			}
			grew := int64(peak) - int64(base.HeapAlloc)
			t.Logf("the heap grew by at most %.1f MB", float64(grew)/(1<<20))
			if grew > 40<<20 {
				t.Errorf("the heap grew by %d MB while copying 80 MB", grew>>20)
			}
		})
	}
}

// BenchmarkCopy copies 20 000 cards of about 1 KB with their changes
// between the drivers.
func BenchmarkCopy(b *testing.B) {
	const cards = 20000
	for _, from := range targets {
		for _, to := range targets {
			b.Run(from.name+"-to-"+to.name, func(b *testing.B) {
				src := from.open(b)
				bulk(b, src, cards, 1000)
				b.ReportAllocs()
				var took time.Duration
				for range b.N {
					b.StopTimer()
					dst := to.open(b)
					b.StartTimer()
					began := time.Now()
					if _, err := storecopy.Copy(ctx, src, dst, storecopy.Options{}, nil); err != nil {
						b.Fatal(err)
					}
					took += time.Since(began)
				}
				b.ReportMetric(float64(cards)/(took.Seconds()/float64(b.N)), "cards/s")
			})
		}
	}
}
