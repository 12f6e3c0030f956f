package dedup

import (
	"math"
	"runtime"
	"slices"
	"sync"
)

// Options tune Find.
type Options struct {
	// Region is the default region (ISO 3166, e.g. "FR") of phone numbers
	// written without a country code.
	Region string
	// MaxGroupSize caps the number of cards in a group (default 20).
	MaxGroupSize int
	// MaxBlock is the largest block whose members are all compared with
	// each other (default 200). Larger blocks (a company switchboard, a very
	// common name) are skipped: pairs in them are found through their other
	// keys or not at all.
	MaxBlock int
}

// Score thresholds (log-odds-like units, see score).
const (
	reviewMin = 6.0
	autoMin   = 14.0
	subsetSc  = 30.0
)

type pair struct {
	a, b  uint32
	score float32
	auto  bool
	weak  bool // no shared phone, e-mail or birthday: names (and address, org) only
}

type entry struct {
	key  uint64
	card uint32
}

// blockKeys appends the blocking keys of one card.
func (bk *book) blockKeys(i uint32, f *feat, out []entry) []entry {
	for _, h := range f.phones {
		out = append(out, entry{mix(kindPhone, h), i})
	}
	for _, h := range f.emails {
		out = append(out, entry{mix(kindEmail, h), i})
	}
	if f.nameKey != 0 {
		out = append(out, entry{mix(kindName, f.nameKey), i})
	}
	// One full token with the initial of another, both ways, so that a
	// typo in either token (past its first letter) and the order of the
	// tokens do not matter.
	toks := f.toks
	if len(toks) > 4 {
		toks = toks[:4]
	}
	for x, a := range toks {
		for y, c := range toks {
			if x == y {
				continue
			}
			s := bk.tokStr[c]
			out = append(out, entry{mix(mix(kindPrefix, uint64(a)), uint64(s[0])), i})
		}
	}
	if f.bdMD != 0 {
		bd := uint64(f.bdMD)<<16 | uint64(f.bdY)
		for _, a := range toks {
			out = append(out, entry{mix(mix(kindBday, bd), uint64(bk.tokStr[a][0])), i})
		}
	}
	return out
}

// candidates scores every pair of cards that share a block and returns the
// pairs at or above the review threshold.
func (bk *book) candidates(maxBlock int) ([]pair, int64) {
	n := len(bk.f)
	var ents []entry
	for i := range bk.f {
		ents = bk.blockKeys(uint32(i), &bk.f[i], ents)
	}
	slices.SortFunc(ents, func(x, y entry) int {
		if x.key != y.key {
			if x.key < y.key {
				return -1
			}
			return 1
		}
		return int(x.card) - int(y.card)
	})
	// Keep blocks of 2..maxBlock distinct cards; members are contiguous.
	var members []uint32
	var starts []uint32
	for lo := 0; lo < len(ents); {
		hi := lo + 1
		for hi < len(ents) && ents[hi].key == ents[lo].key {
			hi++
		}
		if hi-lo >= 2 && hi-lo <= maxBlock {
			starts = append(starts, uint32(len(members)))
			prev := int64(-1)
			for _, e := range ents[lo:hi] {
				if int64(e.card) != prev {
					members = append(members, e.card)
					prev = int64(e.card)
				}
			}
		}
		lo = hi
	}
	starts = append(starts, uint32(len(members)))
	ents = nil
	// card → blocks (CSR).
	off := make([]uint32, n+1)
	for _, c := range members {
		off[c+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	blk := make([]uint32, len(members))
	pos := slices.Clone(off[:n])
	for bi := 0; bi+1 < len(starts); bi++ {
		for _, c := range members[starts[bi]:starts[bi+1]] {
			blk[pos[c]] = uint32(bi)
			pos[c]++
		}
	}
	pos = nil

	workers := runtime.GOMAXPROCS(0)
	results := make([][]pair, workers)
	counts := make([]int64, workers)
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	const step = 1024
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			seen := make([]int32, n)
			for i := range seen {
				seen[i] = -1
			}
			var out []pair
			var compared int64
			for {
				mu.Lock()
				lo := int(next)
				next += step
				mu.Unlock()
				if lo >= n {
					break
				}
				for i := lo; i < min(lo+step, n); i++ {
					for _, bi := range blk[off[i]:off[i+1]] {
						for _, j := range members[starts[bi]:starts[bi+1]] {
							if int(j) <= i || seen[j] == int32(i) {
								continue
							}
							seen[j] = int32(i)
							compared++
							s, auto, weak, ok := bk.score(uint32(i), j)
							if ok {
								out = append(out, pair{uint32(i), j, float32(s), auto, weak})
							}
						}
					}
				}
			}
			results[w], counts[w] = out, compared
		}(w)
	}
	wg.Wait()
	var all []pair
	var total int64
	for w, r := range results {
		all = append(all, r...)
		total += counts[w]
	}
	return all, total
}

// idfWeight turns the number of cards holding a value into a weight: a
// value held by one or two cards is strong, a widely shared one is weak.
func idfWeight(freq uint32, strong float64) float64 {
	switch {
	case freq <= 6:
		return strong
	case freq <= 12:
		return strong * 0.6
	case freq <= 30:
		return strong * 0.3
	default:
		return 0.5
	}
}

func countShared(a, b []uint64) (n int, first uint64) {
	for _, x := range a {
		if slices.Contains(b, x) {
			if n == 0 {
				first = x
			}
			n++
		}
	}
	return n, first
}

func subsetOf(a, b []uint64) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func subsetTok(a, b []uint32) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// nameSim compares the name tokens of two cards: for every token of the
// card with fewer tokens, the best match among the other's (1 when equal,
// 0.85 for nicknames, Jaro–Winkler otherwise, 0.8 for an initial); the
// result is the worst of these, so that one different given name is
// enough to tell two family members apart. known is false when a card has
// no name; nick is true when a nickname was needed.
func (bk *book) nameSim(a, b []uint32) (sim float64, known, nick bool) {
	if len(a) == 0 || len(b) == 0 {
		return 0, false, false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) > 6 {
		a = a[:6]
	}
	if len(b) > 6 {
		b = b[:6]
	}
	// Tokens are matched one to one, best pairs first, so that one token
	// cannot serve two (a given name must not match the family name).
	var s [6][6]float64
	var isNick [6][6]bool
	for i, x := range a {
		for j, y := range b {
			switch {
			case x == y:
				s[i][j] = 1
			case bk.tokNick[x] == bk.tokNick[y]:
				s[i][j], isNick[i][j] = 0.85, true
			default:
				sx, sy := bk.tokStr[x], bk.tokStr[y]
				if (len(sx) == 1 || len(sy) == 1) && sx[0] == sy[0] {
					s[i][j] = 0.8
				} else {
					s[i][j] = jaroWinkler(sx, sy)
				}
			}
		}
	}
	var usedA, usedB [6]bool
	sim = 1
	for range a {
		bi, bj, best := -1, -1, -1.0
		for i := range a {
			if usedA[i] {
				continue
			}
			for j := range b {
				if !usedB[j] && s[i][j] > best {
					bi, bj, best = i, j, s[i][j]
				}
			}
		}
		usedA[bi], usedB[bj] = true, true
		if best < sim {
			sim = best
		}
		nick = nick || isNick[bi][bj]
	}
	return sim, true, nick
}

// nameRarity is a bonus for a rare full name: the sum of the tokens'
// inverse frequencies beyond what two common tokens give.
func (bk *book) nameRarity(toks []uint32) float64 {
	// A prior of 1000 cards keeps small books from calling every name
	// common.
	n := float64(len(bk.f)) + 1000
	sum := 0.0
	for _, t := range toks {
		sum += math.Log(n / float64(bk.tokFreq[t]+1))
	}
	return math.Max(0, math.Min(4, (sum-5)/2))
}

// bdayCmp is 1 when the birthdays agree, -1 when they differ, 0 when one is
// unknown; partial is true when only month and day could be compared.
func bdayCmp(a, b *feat) (cmp int, partial bool) {
	if a.bdMD == 0 || b.bdMD == 0 {
		return 0, false
	}
	if a.bdMD != b.bdMD {
		return -1, false
	}
	if a.bdY == 0 || b.bdY == 0 {
		return 1, true
	}
	if a.bdY != b.bdY {
		return -1, false
	}
	return 1, false
}

// conflict reports whether two cards disagree on a strong field and so may
// not end up in one group even through other cards.
func (bk *book) conflict(i, j uint32) bool {
	a, b := &bk.f[i], &bk.f[j]
	if c, _ := bdayCmp(a, b); c < 0 {
		return true
	}
	if bk.givenDiffer(a, b) {
		return true
	}
	sim, known, _ := bk.nameSim(a.toks, b.toks)
	return known && sim < 0.8
}

// givenDiffer reports whether both cards have an N with a first given name
// and these differ (not a typo, not a nickname): "Agnès Camille Bernard"
// and "Camille Bernard" are two people of one family.
func (bk *book) givenDiffer(a, b *feat) bool {
	if a.given == 0 || b.given == 0 || a.given == b.given {
		return false
	}
	x, y := a.given-1, b.given-1
	if bk.tokNick[x] == bk.tokNick[y] {
		return false
	}
	return jaroWinkler(bk.tokStr[x], bk.tokStr[y]) < 0.85
}

// score weighs the evidence that cards i and j are one person. It returns
// the score, whether the pair is safe to merge automatically, and whether
// it reaches the review band at all.
func (bk *book) score(i, j uint32) (s float64, auto, weak, ok bool) {
	a, b := &bk.f[i], &bk.f[j]
	bc, partial := bdayCmp(a, b)
	if bc < 0 {
		return 0, false, false, false
	}
	if bk.givenDiffer(a, b) {
		return 0, false, false, false
	}
	sim, known, nick := bk.nameSim(a.toks, b.toks)
	strong := 0
	switch {
	case !known:
	case a.nameKey == b.nameKey:
		s += 3 + bk.nameRarity(a.toks)
	case sim >= 0.93:
		s += 2.5
	case sim >= 0.85:
		s += 1
	default:
		return 0, false, false, false // a different given name: family, colleagues
	}
	shared := bc > 0
	if n, h := countShared(a.phones, b.phones); n > 0 {
		shared = true
		f := bk.freq[h]
		s += idfWeight(f, 6) + float64(n-1)
		if f <= 6 {
			strong++
		}
	} else if len(a.phones) > 0 && len(b.phones) > 0 {
		s -= 3
	}
	personalEmail := false
	if n, h := countShared(a.emails, b.emails); n > 0 {
		shared = true
		f := bk.freq[h]
		s += idfWeight(f, 7) + float64(n-1)
		if f <= 6 {
			strong++
			personalEmail = true
		}
	} else if len(a.emails) > 0 && len(b.emails) > 0 {
		s -= 3
	}
	if bc > 0 {
		if partial {
			s += 3
		} else {
			s += 5
			strong++
		}
	}
	if n, h := countShared(a.addrs, b.addrs); n > 0 {
		s += idfWeight(bk.freq[h], 2)
	}
	if a.org != 0 && a.org == b.org {
		s += idfWeight(bk.freq[a.org], 1.5)
	}
	// Subset (or identical): everything the smaller card says, the other
	// says too, and they share a phone or an e-mail.
	if known && (identical(a, b) || bk.isSubset(a, b) || bk.isSubset(b, a)) {
		return subsetSc, true, false, true
	}
	if s < reviewMin {
		return s, false, false, false
	}
	// Overwhelming evidence: several strong agreements, or the same full
	// name with the same personal e-mail address (a shared landline is not
	// enough: a father and a son may have one name and one line).
	auto = known && !nick && sim >= 0.9 && strong >= 2 && s >= autoMin ||
		known && a.nameKey == b.nameKey && personalEmail && s >= reviewMin+4
	return s, auto, !shared, true
}

// identical reports whether two cards say the same things (after
// normalisation), a phone or an e-mail included.
func identical(a, b *feat) bool {
	return a.nameKey == b.nameKey && a.org == b.org && a.bdMD == b.bdMD && a.bdY == b.bdY &&
		len(a.phones)+len(a.emails) > 0 &&
		sameSet(a.phones, b.phones) && sameSet(a.emails, b.emails) && sameSet(a.addrs, b.addrs)
}

func sameSet(a, b []uint64) bool { return len(a) == len(b) && subsetOf(a, b) }

func (bk *book) isSubset(a, b *feat) bool {
	if a.nameKey != b.nameKey && !(len(a.toks) >= 2 && subsetTok(a.toks, b.toks)) {
		return false
	}
	if !subsetOf(a.phones, b.phones) || !subsetOf(a.emails, b.emails) || !subsetOf(a.addrs, b.addrs) {
		return false
	}
	if a.org != 0 && a.org != b.org {
		return false
	}
	if a.bdMD != 0 && (a.bdMD != b.bdMD || a.bdY != b.bdY) {
		return false
	}
	// At least one shared phone or e-mail must be personal, not a
	// switchboard or a shared mailbox: two namesakes at one company are
	// not one person.
	for _, h := range a.phones {
		if bk.freq[h] <= 6 {
			return true
		}
	}
	for _, h := range a.emails {
		if bk.freq[h] <= 6 {
			return true
		}
	}
	return false
}

// jaroWinkler returns the Jaro–Winkler similarity of two strings (by rune,
// of their first maxRunes runes).
func jaroWinkler(s, t string) float64 {
	var bufA, bufB [maxRunes]rune
	a, b := toRunes(s, bufA[:0]), toRunes(t, bufB[:0])
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	win := len(b)/2 - 1
	if win < 0 {
		win = 0
	}
	var ma, mb [maxRunes]bool
	matchA, matchB := ma[:len(a)], mb[:len(b)]
	m := 0
	for i := range a {
		lo, hi := max(0, i-win), min(len(b), i+win+1)
		for k := lo; k < hi; k++ {
			if !matchB[k] && a[i] == b[k] {
				matchA[i], matchB[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	tr, k := 0, 0
	for i := range a {
		if !matchA[i] {
			continue
		}
		for !matchB[k] {
			k++
		}
		if a[i] != b[k] {
			tr++
		}
		k++
	}
	fm := float64(m)
	j := (fm/float64(len(a)) + fm/float64(len(b)) + (fm-float64(tr)/2)/fm) / 3
	p := 0
	for p < 4 && p < len(a) && a[p] == b[p] {
		p++
	}
	return j + float64(p)*0.1*(1-j)
}

// maxRunes bounds the runes of a token jaroWinkler compares: its work is
// quadratic in their number, and name tokens are far shorter.
const maxRunes = 64

// toRunes appends the first maxRunes runes of s to buf.
func toRunes(s string, buf []rune) []rune {
	for _, r := range s {
		if len(buf) == maxRunes {
			break
		}
		buf = append(buf, r)
	}
	return buf
}
