package dedup_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/dedup/gen"
)

// quality is pairwise precision and recall of groups against the truth.
type quality struct {
	truePairs, predPairs, tp int
	autoPairs, autoTP        int
}

func (q quality) precision() float64 { return ratio(q.tp, q.predPairs) }
func (q quality) recall() float64    { return ratio(q.tp, q.truePairs) }
func (q quality) f1() float64 {
	p, r := q.precision(), q.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
func (q quality) autoPrecision() float64 { return ratio(q.autoTP, q.autoPairs) }
func (q quality) autoRecall() float64    { return ratio(q.autoTP, q.truePairs) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func measure(bk gen.Book, groups []dedup.Group) quality {
	var q quality
	person := make(map[string]int, len(bk.Cards))
	count := map[int]int{}
	for i, c := range bk.Cards {
		person[c.UID] = bk.Person[i]
		count[bk.Person[i]]++
	}
	for _, n := range count {
		q.truePairs += n * (n - 1) / 2
	}
	for _, g := range groups {
		for x := 0; x < len(g.UIDs); x++ {
			for y := x + 1; y < len(g.UIDs); y++ {
				same := person[g.UIDs[x]] == person[g.UIDs[y]]
				q.predPairs++
				if same {
					q.tp++
				}
				if g.Band == dedup.BandAuto {
					q.autoPairs++
					if same {
						q.autoTP++
					}
				}
			}
		}
	}
	return q
}

func (q quality) String() string {
	return fmt.Sprintf("P=%.4f R=%.4f F1=%.4f auto: P=%.4f R=%.4f (pairs: true %d, predicted %d, auto %d)",
		q.precision(), q.recall(), q.f1(), q.autoPrecision(), q.autoRecall(), q.truePairs, q.predPairs, q.autoPairs)
}

// TestQuality checks the targets of dedup.md on a generated book of 10 000
// cards. It measures quality, not speed.
func TestQuality(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		bk := gen.Generate(gen.Options{Cards: 10000, Seed: seed})
		groups, err := dedup.Find(bk.Cards, dedup.Options{Region: bk.Region})
		if err != nil {
			t.Fatal(err)
		}
		q := measure(bk, groups)
		t.Logf("seed %d: %v", seed, q)
		if q.f1() < 0.97 {
			t.Errorf("seed %d: F1 %.4f < 0.97", seed, q.f1())
		}
		if q.autoPrecision() < 0.995 {
			t.Errorf("seed %d: auto precision %.4f < 0.995", seed, q.autoPrecision())
		}
		if q.autoPairs < q.truePairs/4 {
			t.Errorf("seed %d: only %d auto pairs of %d true pairs", seed, q.autoPairs, q.truePairs)
		}
	}
}

func BenchmarkFind(b *testing.B) {
	for _, n := range []int{10000, 100000, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bk := gen.Generate(gen.Options{Cards: n, Seed: 7})
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			var groups []dedup.Group
			var compared int64
			start := time.Now()
			for i := 0; i < b.N; i++ {
				var c int64
				groups, c = dedup.FindStats(bk.Cards, dedup.Options{Region: bk.Region})
				compared += c
			}
			el := time.Since(start)
			b.StopTimer()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			q := measure(bk, groups)
			b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "cards/s")
			b.ReportMetric(float64(compared)/el.Seconds(), "pairs/s")
			b.ReportMetric(float64(compared)/float64(b.N), "pairs/op")
			b.ReportMetric(q.precision(), "precision")
			b.ReportMetric(q.recall(), "recall")
			b.ReportMetric(q.f1(), "f1")
			b.ReportMetric(q.autoPrecision(), "auto_precision")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MBalloc/op")
			b.ReportMetric(float64(after.Sys)/(1<<20), "MBsys")
			b.Logf("%d cards: %v", n, q)
		})
	}
}
