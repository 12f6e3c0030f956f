package dedup_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/dedup/gen"
)

// dataDir holds labelled books nobody here wrote (../shared/dedup-data
// beside the repository, or $ROLODAV_DEDUP_DATA).
func dataDir() string {
	if d := os.Getenv("ROLODAV_DEDUP_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "dedup-data")
}

// labelled is a book with the person of each card.
type labelled struct {
	name   string
	region string
	book   gen.Book
}

// loadLabelled reads NAME.vcf and NAME.truth.json (UID → person).
func loadLabelled(tb testing.TB, vcf string) labelled {
	tb.Helper()
	data, err := os.ReadFile(vcf)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile(strings.TrimSuffix(vcf, ".vcf") + ".truth.json")
	if err != nil {
		tb.Fatal(err)
	}
	var truth map[string]string
	if err := json.Unmarshal(raw, &truth); err != nil {
		tb.Fatalf("%s: %v", vcf, err)
	}
	ids := map[string]int{}
	var bk gen.Book
	err = contacts.Split(bytes.NewReader(data), func(card []byte, line int) error {
		info, err := contacts.Validate(card)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", vcf, line, err)
		}
		p, ok := truth[info.UID]
		if !ok {
			return fmt.Errorf("%s:%d: UID %s not in the truth", vcf, line, info.UID)
		}
		if _, ok := ids[p]; !ok {
			ids[p] = len(ids)
		}
		bk.Cards = append(bk.Cards, dedup.Card{UID: info.UID, Data: bytes.Clone(card)})
		bk.Person = append(bk.Person, ids[p])
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return labelled{name: strings.TrimSuffix(filepath.Base(vcf), ".vcf"), region: "AU", book: bk}
}

// evalBooks are the shared labelled books (region AU, as their README
// says) and two generated ones.
func evalBooks(tb testing.TB) []labelled {
	files, _ := filepath.Glob(filepath.Join(dataDir(), "*.vcf"))
	if len(files) == 0 {
		tb.Logf("no labelled books in %s (set ROLODAV_DEDUP_DATA): scoring the generated ones only", dataDir())
	}
	var out []labelled
	for _, f := range files {
		out = append(out, loadLabelled(tb, f))
	}
	for _, seed := range []uint64{1, 2} {
		g := gen.Generate(gen.Options{Cards: 10000, Seed: seed})
		out = append(out, labelled{name: fmt.Sprintf("gen-10000-seed%d", seed), region: g.Region, book: g})
	}
	return out
}

// blockingRecall is the share of true pairs that share a block.
func blockingRecall(l labelled) float64 {
	blocked := dedup.Blocked(l.book.Cards, dedup.Options{Region: l.region})
	byPerson := map[int][]int{}
	for i, p := range l.book.Person {
		byPerson[p] = append(byPerson[p], i)
	}
	found, total := 0, 0
	for _, m := range byPerson {
		for x := 0; x < len(m); x++ {
			for y := x + 1; y < len(m); y++ {
				total++
				if blocked(m[x], m[y]) {
					found++
				}
			}
		}
	}
	return ratio(found, total)
}

// BenchmarkQuality scores every labelled book: pairwise precision, recall
// and F1, the same for the auto band, blocking recall, time and memory.
//
//	go test -run '^$' -bench Quality -benchtime 1x ./dedup
func BenchmarkQuality(b *testing.B) {
	for _, l := range evalBooks(b) {
		b.Run(l.name, func(b *testing.B) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			var groups []dedup.Group
			for i := 0; i < b.N; i++ {
				groups, _ = dedup.Find(l.book.Cards, dedup.Options{Region: l.region})
			}
			el := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			runtime.ReadMemStats(&after)
			q := measure(l.book, groups)
			br := blockingRecall(l)
			b.ReportMetric(q.precision(), "precision")
			b.ReportMetric(q.recall(), "recall")
			b.ReportMetric(q.f1(), "f1")
			b.ReportMetric(q.autoPrecision(), "auto_precision")
			b.ReportMetric(q.autoRecall(), "auto_recall")
			b.ReportMetric(br, "blocking_recall")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MBalloc/op")
			b.Logf("| %s | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %d | %.4f | %v |", l.name, len(l.book.Cards),
				q.precision(), q.recall(), q.f1(), q.autoPrecision(), q.autoRecall(), q.autoPairs, br, el.Round(time.Millisecond))
		})
	}
}
