package dedup

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strings"
)

// Find returns the groups of cards that look like the same person, the
// strongest first (auto before review, then by score). Cards that are in
// no group are not listed. Find never compares all pairs: see dedup.md.
func Find(cards []Card, opt Options) ([]Group, error) {
	g, _ := find(cards, opt)
	return g, nil
}

// find is Find that also returns the number of candidate pairs compared.
func find(cards []Card, opt Options) ([]Group, int64) {
	if opt.MaxGroupSize <= 0 {
		opt.MaxGroupSize = 50
	}
	if opt.MaxBlock <= 0 {
		opt.MaxBlock = 200
	}
	bk := extract(cards, opt.Region)
	blk := bk.blocks(opt.MaxBlock)
	counts, done := bk.patternCounts(blk)
	md := bk.learn(bk.randomLevels(), counts)
	pairs, compared := bk.candidates(blk, md, done)
	return bk.group(cards, pairs, md, opt.MaxGroupSize), compared
}

// cluster is a group being built.
type cluster struct {
	id      int
	members []uint32
	auto    bool // every joining pair was auto
	weakest pair // the weakest joining pair
}

// group joins the pairs into groups, strongest pairs first. Two clusters
// are joined only when no card of one conflicts with a card of the other
// (their own evidence is strongly against), and the result is not too big:
// A≈B and B≈C do not put A with C when A and C disagree.
func (bk *book) group(cards []Card, pairs []pair, md *model, maxSize int) []Group {
	slices.SortFunc(pairs, func(x, y pair) int {
		if x.auto != y.auto {
			if x.auto {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(y.bits, x.bits); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	of := map[uint32]*cluster{}
	refused := map[[2]int]int{} // pairs of clusters refused, and their size then
	get := func(i uint32) *cluster {
		c := of[i]
		if c == nil {
			c = &cluster{id: len(of), members: []uint32{i}, auto: true, weakest: pair{bits: float32(math.Inf(1))}}
			of[i] = c
		}
		return c
	}
	for _, p := range pairs {
		ca, cb := get(p.a), get(p.b)
		if ca == cb || len(ca.members)+len(cb.members) > maxSize {
			continue
		}
		// A pair that shares only a name (homonyms, a family at one
		// address) may form a group of two but never grow one.
		if p.weak && len(ca.members)+len(cb.members) > 2 {
			continue
		}
		key := [2]int{min(ca.id, cb.id), max(ca.id, cb.id)}
		if n, ok := refused[key]; ok && n == len(ca.members)+len(cb.members) {
			continue // refused already, and neither has grown since
		}
		clash, autoOK := bk.clash(md, ca.members, cb.members, p)
		if clash {
			refused[key] = len(ca.members) + len(cb.members)
			continue
		}
		if len(ca.members) < len(cb.members) {
			ca, cb = cb, ca
		}
		ca.members = append(ca.members, cb.members...)
		ca.auto = ca.auto && cb.auto && p.auto && autoOK
		for _, w := range []pair{cb.weakest, p} {
			if w.bits < ca.weakest.bits {
				ca.weakest = w
			}
		}
		for _, m := range cb.members {
			of[m] = ca
		}
	}
	var groups []Group
	done := map[*cluster]bool{}
	for _, c := range of {
		if done[c] || len(c.members) < 2 {
			continue
		}
		done[c] = true
		uids := make([]string, len(c.members))
		for i, m := range c.members {
			uids[i] = cards[m].UID
		}
		slices.Sort(uids)
		g := Group{ID: GroupID(uids), Band: BandReview, UIDs: uids}
		if c.auto {
			g.Band = BandAuto
		}
		w := c.weakest
		g.Score = math.Round(1/(1+math.Exp2(-float64(w.bits)))*1000) / 1000
		g.Why = bk.why(md, w)
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(x, y Group) int {
		if x.Band != y.Band {
			if x.Band == BandAuto {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return groups
}

// clash reports whether a card of one cluster and a card of the other are
// two people by their own evidence: on the whole (the prior left out: two
// cards that say little are not in conflict), or on one single-valued
// field that this book shows to be reliable (a birthday that differs where
// copies of one person rarely have different birthdays). autoOK is false
// when two of the cards disagree on a single value, even nearly: the group
// then needs a person.
func (bk *book) clash(md *model, a, b []uint32, joining pair) (clash, autoOK bool) {
	autoOK = true
	for _, x := range a {
		for _, y := range b {
			if x == joining.a && y == joining.b || x == joining.b && y == joining.a {
				continue // the pair's own evidence decided already
			}
			c := bk.compare(x, y, nil)
			if c.suffixDiffer || md.vetoed(bk, &c, false) || md.bits(bk, &c)-md.prior < clashBits {
				return true, false
			}
			autoOK = autoOK && autoCompatible(&c)
		}
	}
	return false, autoOK
}

// why gives the reasons of a pair: "card identical" or "subset" for
// the pairs so decided, and what each field counted.
func (bk *book) why(md *model, p pair) []Reason {
	c := bk.compare(p.a, p.b, nil)
	out := md.reasons(bk, &c)
	if p.bits == subsetBits {
		a, b := &bk.f[p.a], &bk.f[p.b]
		level := "subset"
		if bk.identical(a, b) {
			level = "identical"
		}
		out = append([]Reason{{Field: "card", Level: level, Weight: subsetBits}}, out...)
	}
	return out
}

// GroupID is the stable identifier of a group of cards: the hex of a hash
// of the sorted UIDs (the order of uids does not matter).
func GroupID(uids []string) string {
	s := slices.Clone(uids)
	slices.Sort(s)
	h := sha256.New()
	for _, u := range s {
		h.Write([]byte(u))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
