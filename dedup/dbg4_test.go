package dedup

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// BlockStats prints the pairs each kind of block gives.
func BlockStats(cards []Card, region string) {
	start := time.Now()
	bk := extract(cards, region)
	fmt.Println("extract", time.Since(start))
	var ents []entry
	for i := range bk.f {
		ents = bk.blockKeys(uint32(i), &bk.f[i], ents)
	}
	slices.SortFunc(ents, func(x, y entry) int { return cmp.Compare(x.key, y.key) })
	kinds := map[uint64]int64{}
	for lo := 0; lo < len(ents); {
		hi := lo + 1
		for hi < len(ents) && ents[hi].key == ents[lo].key {
			hi++
		}
		if n := int64(hi - lo); n <= 200 {
			kinds[ents[lo].key>>59] += n * (n - 1) / 2
		}
		lo = hi
	}
	fmt.Println(kinds)
	start = time.Now()
	b := bk.blocks(200)
	fmt.Println("blocks", time.Since(start))
	var total int64
	for bi := 0; bi+1 < len(b.starts); bi++ {
		n := int64(b.starts[bi+1] - b.starts[bi])
		total += n * (n - 1) / 2
	}
	fmt.Println("block pairs (with repeats)", total)
	start = time.Now()
	counts := bk.patternCounts(b)
	n := len(counts)
	fmt.Println("pass1", n, time.Since(start))
	start = time.Now()
	r := bk.randomLevels()
	fmt.Println("random", time.Since(start))
	start = time.Now()
	md := bk.learn(r, counts)
	fmt.Println("learn", time.Since(start), len(counts))
	start = time.Now()
	p, _ := bk.candidates(b, md)
	fmt.Println("pass2", time.Since(start), len(p))
}

func TestDbgStats(t *testing.T) {
	if os.Getenv("DEBUG_STATS") == "" {
		t.Skip()
	}
}
