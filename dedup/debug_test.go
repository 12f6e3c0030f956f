package dedup

import (
	"fmt"
	"strings"
)

// Debug describes the learned model of a book and its first wrong pairs.
func Debug(cards []Card, region string, person []int) string {
	var s strings.Builder
	bk := extract(cards, region)
	blk := bk.blocks(200)
	counts, n := bk.patternCounts(blk)
	md := bk.learn(bk.randomLevels(), counts)
	fmt.Fprintln(&s, "pairs", n, "prior", md.prior)
	for f := 0; f < nFields; f++ {
		fmt.Fprintf(&s, "%-9s", fieldNames[f])
		for l := 1; l < nLevels(f); l++ {
			fmt.Fprintf(&s, " %s=%.1f(m%.3f u%.4f)", levelNames[f][l], md.w[f][l], md.m[f][l], md.u[f][l])
		}
		fmt.Fprintln(&s)
	}
	pairs := bk.candidates(blk, md)
	bad := 0
	for _, p := range pairs {
		if person[p.a] != person[p.b] && bad < 12 {
			bad++
			c := bk.compare(p.a, p.b)
			fmt.Fprintf(&s, "%.1f auto=%v %v\n%s\n%s\n", p.bits, p.auto, md.reasons(bk, &c), cards[p.a].Data, cards[p.b].Data)
		}
	}
	return s.String()
}
