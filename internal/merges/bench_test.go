package merges_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/dedup/gen"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// BenchmarkMergeAuto loads a generated book of 10 000 cards with 20 group
// cards and merges its auto groups, each run on a fresh copy of the
// database.
func BenchmarkMergeAuto(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	built := filepath.Join(dir, "built.db")
	st, err := sqlite.Open(built)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "contacts"}
	if err := st.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	book := gen.Generate(gen.Options{Cards: 10000, Seed: 7})
	for _, card := range book.Cards {
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: card.UID + ".vcf", UID: card.UID, Data: card.Data}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Group cards, each listing cards of ten auto groups.
	bk, err := merges.Load(ctx, st, c, book.Region)
	if err != nil {
		b.Fatal(err)
	}
	var auto []dedup.Group
	for _, g := range bk.Groups() {
		if g.Band == dedup.BandAuto {
			auto = append(auto, g)
		}
	}
	for i := range 20 {
		var list []string
		for j := i * 10; j < i*10+10 && j < len(auto); j++ {
			list = append(list, auto[j].UIDs[0])
		}
		team := fmt.Sprintf("team-%d", i)
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: team + ".vcf", UID: team, Data: []byte(groupCard(team, list...))}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	b.Logf("%d cards, %d auto groups", len(book.Cards), len(auto))
	for b.Loop() {
		b.StopTimer()
		db := filepath.Join(dir, "run.db")
		copyFile(b, built, db)
		st, err := sqlite.Open(db)
		if err != nil {
			b.Fatal(err)
		}
		c, err := st.GetCollection(ctx, "ann", store.KindCard, "contacts")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		bk, err := merges.Load(ctx, st, c, book.Region)
		if err != nil {
			b.Fatal(err)
		}
		out, err := bk.MergeAuto(ctx, merges.NewBatch(), time.Now(), false)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			if o.Skipped != nil {
				b.Fatalf("group %v skipped: %v", o.Group.UIDs, o.Skipped)
			}
		}
		b.StopTimer()
		st.Close()
		os.Remove(db)
		b.StartTimer()
	}
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUndoBatch merges every auto group of a generated book of 5 000
// cards as one batch, and undoes the batch; each run on the book as the
// undo left it. It reports the time of each half.
func BenchmarkUndoBatch(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "rolodav.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "contacts"}
	if err := st.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	book := gen.Generate(gen.Options{Cards: 5000, Seed: 1})
	for _, card := range book.Cards {
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: card.UID + ".vcf", UID: card.UID, Data: card.Data}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	var merging, undoing time.Duration
	merged := 0
	for b.Loop() {
		b.StopTimer()
		bk, err := merges.Load(ctx, st, c, book.Region)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		batch := merges.NewBatch()
		start := time.Now()
		out, err := bk.MergeAuto(ctx, batch, time.Now(), false)
		if err != nil {
			b.Fatal(err)
		}
		merging += time.Since(start)
		merged += len(out)
		start = time.Now()
		if _, err := merges.UndoBatch(ctx, st, c, batch); err != nil {
			b.Fatal(err)
		}
		undoing += time.Since(start)
	}
	b.ReportMetric(float64(merged)/float64(b.N), "merges/op")
	b.ReportMetric(float64(merging.Milliseconds())/float64(b.N), "merge-ms/op")
	b.ReportMetric(float64(undoing.Milliseconds())/float64(b.N), "undo-ms/op")
}
