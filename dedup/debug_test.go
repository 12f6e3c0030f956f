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
	counts := bk.patternCounts(blk)
	n := len(counts)
	md := bk.learn(bk.randomLevels(), counts)
	fmt.Fprintln(&s, "pairs", n, "prior", md.prior)
	for f := 0; f < nFields; f++ {
		fmt.Fprintf(&s, "%-9s", fieldNames[f])
		for l := 1; l < nLevels(f); l++ {
			fmt.Fprintf(&s, " %s=%.1f(m%.3f u%.4f)", levelNames[f][l], md.w[f][l], md.m[f][l], md.u[f][l])
		}
		fmt.Fprintln(&s)
	}
	pairs, _ := bk.candidates(blk, md)
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

// DebugMissed prints true pairs Find left apart, with their reasons.
func DebugMissed(cards []Card, region string, person []int) string {
	var s strings.Builder
	groups, _ := find(cards, Options{Region: region})
	in := map[string]string{}
	for _, g := range groups {
		for _, u := range g.UIDs {
			in[u] = g.ID
		}
	}
	bk := extract(cards, region)
	blk := bk.blocks(200)
	md := bk.learn(bk.randomLevels(), bk.patternCounts(blk))
	by := map[int][]int{}
	for i, p := range person {
		by[p] = append(by[p], i)
	}
	n := 0
	for _, m := range by {
		for x := 0; x < len(m) && n < 12; x++ {
			for y := x + 1; y < len(m) && n < 12; y++ {
				a, b := m[x], m[y]
				if g := in[cards[a].UID]; g != "" && g == in[cards[b].UID] {
					continue
				}
				n++
				c := bk.compare(uint32(a), uint32(b))
				fmt.Fprintf(&s, "%.1f %v\n%s\n%s\n", md.bits(bk, &c), md.reasons(bk, &c), cards[a].Data, cards[b].Data)
			}
		}
	}
	return s.String()
}

// DebugGroups prints the sizes of groups and the biggest impure one.
func DebugGroups(cards []Card, region string, person []int) string {
	var s strings.Builder
	groups, _ := find(cards, Options{Region: region})
	idx := map[string]int{}
	for i, c := range cards {
		idx[c.UID] = i
	}
	sizes := map[int]int{}
	worst, worstN := -1, 0
	for gi, g := range groups {
		sizes[len(g.UIDs)]++
		ps := map[int]bool{}
		for _, u := range g.UIDs {
			ps[person[idx[u]]] = true
		}
		if len(ps) > 1 && len(g.UIDs) > worstN {
			worst, worstN = gi, len(g.UIDs)
		}
	}
	fmt.Fprintln(&s, "sizes", sizes)
	if worst >= 0 {
		g := groups[worst]
		fmt.Fprintln(&s, "worst", g.Band, g.Score, g.Why)
		for _, u := range g.UIDs {
			fmt.Fprintf(&s, "%d %s\n", person[idx[u]], cards[idx[u]].Data)
		}
	}
	return s.String()
}
