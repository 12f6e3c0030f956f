package dedup

import (
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Options tune Find.
type Options struct {
	// Region is the default region (ISO 3166, e.g. "FR") of phone numbers
	// written without a country code.
	Region string
	// MaxGroupSize caps the number of cards in a group (default 50).
	MaxGroupSize int
	// MaxBlock is the largest block of a shared phone, e-mail address,
	// full name, birthday or street number whose members are all compared
	// with each other (default 200; a quarter of it for a name that sounds
	// alike). A larger block of a phone or e-mail address is a switchboard
	// or a shared mailbox and is skipped; other large blocks (a very common
	// name) are sorted by name and compared in neighbourhoods.
	MaxBlock int
}

// Kinds of blocking keys: cards sharing a key of one kind are compared.
const (
	bPhone uint64 = iota + 1
	bEmail
	bEmailLocal
	bNames
	bSoundInitial
	bSoundYear
	bStreetNumber
	bBirthday
	bSoundPlace
	bSoundDay
)

type entry struct {
	key  uint64
	card uint32
}

// blockKeys appends the blocking keys of one card: the union of rules, each
// of which finds pairs the others miss (see dedup.md).
func (bk *book) blockKeys(i uint32, f *feat, out []entry) []entry {
	// The kind is kept in the top bits, so that keys of two kinds never
	// collide.
	add := func(kind, h uint64) { out = append(out, entry{h&(1<<59-1) | kind<<59, i}) }
	for _, id := range f.phones {
		add(bPhone, mix(bPhone, uint64(id)))
	}
	for _, id := range f.emails {
		add(bEmail, mix(bEmail, uint64(id)))
		e := bk.st.strs[id]
		if at := strings.LastIndexByte(e, '@'); at >= 3 {
			add(bEmailLocal, hashStr(bEmailLocal, e[:at]))
		}
	}
	if f.nameKey != 0 {
		add(bNames, f.nameKey)
	}
	// The sound of a family name with the given name's initial, and the
	// sound of a given name with the birth year; both ways round, for
	// swapped names.
	var given, family string
	if len(f.given) > 0 {
		given = bk.st.strs[f.given[0]]
	}
	if len(f.family) > 0 {
		family = bk.st.strs[f.family[0]]
	}
	// And the sound of either name with the locality, or with the day of
	// birth, for cards that lack one of the names.
	var place uint64
	if len(f.post) > 0 && f.post[0].loc != 0 {
		p, _ := doubleMetaphone(bk.st.strs[f.post[0].loc])
		place = hashStr(bSoundPlace, p)
	}
	for _, p := range [2][2]string{{family, given}, {given, family}} {
		if p[0] == "" {
			continue
		}
		s1, s2 := doubleMetaphone(p[0])
		for k, s := range [2]string{s1, s2} {
			if s == "" || k == 1 && s == s1 {
				continue
			}
			h := hashStr(bSoundInitial, s)
			if p[1] != "" {
				add(bSoundInitial, mix(h, uint64(p[1][0])))
			}
			if f.bdY != 0 {
				add(bSoundYear, mix(h, uint64(f.bdY)))
			}
			if f.bdM != 0 {
				add(bSoundDay, mix(h, uint64(f.bdM)<<8|uint64(f.bdD)))
			}
			if place != 0 {
				add(bSoundPlace, mix(h, place))
			}
		}
	}
	for _, p := range f.post[:min(len(f.post), 2)] {
		if len(p.nums) == 0 {
			continue
		}
		n := uint64(p.nums[0])
		if p.code != 0 {
			add(bStreetNumber, mix(uint64(p.code), n))
		}
		if p.loc != 0 {
			add(bStreetNumber, mix(uint64(p.loc), n))
		}
	}
	if f.bdY != 0 {
		add(bBirthday, uint64(f.bdY)<<16|uint64(f.bdM)<<8|uint64(f.bdD))
	}
	return out
}

// blockLimit is the largest block of a key's kind that is compared: a
// shared phone, e-mail address, full name, birthday or street number says
// more than a name that sounds alike, so its blocks may be larger.
func blockLimit(key uint64, maxBlock int) int {
	switch key >> 59 {
	case bSoundInitial, bSoundYear, bSoundDay, bSoundPlace, bEmailLocal:
		return max(2, maxBlock/4)
	}
	return maxBlock
}

// window is the size of the neighbourhoods a block too large to compare
// whole is cut into (overlapping by half).
const window = 8

// add appends a block: the cards of ents (sorted by card), or cards.
func (b *blocks) add(ents []entry, cards []uint32) {
	start := len(b.members)
	b.starts = append(b.starts, uint32(start))
	prev := int64(-1)
	for _, e := range ents {
		if int64(e.card) != prev {
			b.members = append(b.members, e.card)
			prev = int64(e.card)
		}
	}
	for _, c := range cards {
		if !slices.Contains(b.members[start:], c) {
			b.members = append(b.members, c)
		}
	}
	n := int64(len(b.members) - start)
	b.pairs += n * (n - 1) / 2
}

// sortKeys are strings to sort cards by within a large block: given name,
// family name, birthday.
func (bk *book) sortKeys() []string {
	keys := make([]string, len(bk.f))
	for i := range bk.f {
		f := &bk.f[i]
		var s strings.Builder
		if len(f.given) > 0 {
			s.WriteString(bk.st.strs[f.given[0]])
		}
		s.WriteByte(0)
		if len(f.family) > 0 {
			s.WriteString(bk.st.strs[f.family[0]])
		}
		s.WriteByte(0)
		s.WriteByte(byte(f.bdY >> 8))
		s.WriteByte(byte(f.bdY))
		s.WriteByte(f.bdM)
		s.WriteByte(f.bdD)
		keys[i] = s.String()
	}
	return keys
}

// shared reports whether a key is a phone or e-mail address: one held by
// very many cards is a switchboard or a shared mailbox, not a person.
func shared(key uint64) bool {
	k := key >> 59
	return k == bPhone || k == bEmail || k == bEmailLocal
}

// blocks are the groups of cards sharing a key, and for each card the
// blocks it is in (compressed rows).
type blocks struct {
	members []uint32 // cards of block b: members[starts[b]:starts[b+1]]
	starts  []uint32
	off     []uint32 // blocks of card i: blk[off[i]:off[i+1]]
	blk     []uint32
	pairs   int64 // pairs in all blocks, counting twice those in two
}

func (bk *book) blocks(maxBlock int) *blocks {
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
	b := &blocks{}
	var sortKeys []string
	var big []uint32
	for lo := 0; lo < len(ents); {
		hi := lo + 1
		for hi < len(ents) && ents[hi].key == ents[lo].key {
			hi++
		}
		limit := blockLimit(ents[lo].key, maxBlock)
		switch {
		case hi-lo < 2:
		case hi-lo <= limit:
			b.add(ents[lo:hi], nil)
		case shared(ents[lo].key):
			// A switchboard or a shared mailbox: its cards are found
			// through their other keys or not at all.
		default:
			// Too many to compare all: sort them by name and compare
			// each with its neighbours only (a sorted neighbourhood).
			if sortKeys == nil {
				sortKeys = bk.sortKeys()
			}
			big = big[:0]
			for _, e := range ents[lo:hi] {
				big = append(big, e.card)
			}
			slices.SortStableFunc(big, func(x, y uint32) int { return strings.Compare(sortKeys[x], sortKeys[y]) })
			for s := 0; s < len(big); s += window / 2 {
				b.add(nil, big[s:min(s+window, len(big))])
				if s+window >= len(big) {
					break
				}
			}
		}
		lo = hi
	}
	b.starts = append(b.starts, uint32(len(b.members)))
	ents = nil
	b.off = make([]uint32, n+1)
	for _, c := range b.members {
		b.off[c+1]++
	}
	for i := 1; i <= n; i++ {
		b.off[i] += b.off[i-1]
	}
	b.blk = make([]uint32, len(b.members))
	pos := slices.Clone(b.off[:n])
	for bi := 0; bi+1 < len(b.starts); bi++ {
		for _, c := range b.members[b.starts[bi]:b.starts[bi+1]] {
			b.blk[pos[c]] = uint32(bi)
			pos[c]++
		}
	}
	return b
}

// eachPair calls visit once for every pair of cards i < j sharing a block,
// from several goroutines; w is the calling worker (0 ≤ w < workers()).
func (bk *book) eachPair(b *blocks, visit func(w int, i, j uint32)) {
	n := len(bk.f)
	workers := runtime.GOMAXPROCS(0)
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
			for {
				mu.Lock()
				lo := int(next)
				next += step
				mu.Unlock()
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+step, n); i++ {
					for _, bi := range b.blk[b.off[i]:b.off[i+1]] {
						for _, j := range b.members[b.starts[bi]:b.starts[bi+1]] {
							if int(j) <= i || seen[j] == int32(i) {
								continue
							}
							seen[j] = int32(i)
							visit(w, uint32(i), j)
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
}

// trainingPairs is about the most candidate pairs the estimation looks at:
// beyond, a fixed sample of them tells the same.
const trainingPairs = 1 << 20

// compared is a candidate pair with its comparison, kept between the
// estimation and the scoring when the book is small enough.
type compared struct {
	a, b uint32
	c    vec
}

// patternCounts counts the comparison patterns of the candidate pairs (of a
// fixed sample of them in a large book, each then counting for the pairs
// left out): all the estimation needs. When every pair was compared, it
// also returns the comparisons, so that scoring need not repeat them.
func (bk *book) patternCounts(b *blocks) (map[uint32]float64, []compared) {
	workers := runtime.GOMAXPROCS(0)
	per := make([]map[uint32]float64, workers)
	kept := make([][]compared, workers)
	caches := make([]simCache, workers)
	for w := range per {
		per[w] = map[uint32]float64{}
	}
	stride := uint64(max(1, b.pairs/trainingPairs))
	if stride == 1 {
		// b.pairs counts pairs in two blocks twice: a bound.
		for w := range kept {
			kept[w] = make([]compared, 0, b.pairs/int64(workers)+1)
		}
	}
	bk.eachPair(b, func(w int, i, j uint32) {
		if stride > 1 && mix(uint64(i), uint64(j))%stride != 0 {
			return
		}
		c := bk.compare(i, j, &caches[w])
		per[w][c.pattern()] += float64(stride)
		if stride == 1 {
			kept[w] = append(kept[w], compared{i, j, c})
		}
	})
	all := per[0]
	for _, m := range per[1:] {
		for p, n := range m {
			all[p] += n
		}
	}
	if stride > 1 {
		return all, nil
	}
	return all, slices.Concat(kept...)
}

type pair struct {
	a, b uint32
	bits float32
	auto bool
	weak bool // agreement on names (and place, org, title) only
}

// candidates scores every candidate pair (the comparisons already made, or
// all pairs of the blocks again) and keeps those likely to be one person;
// it also returns the number of pairs compared.
func (bk *book) candidates(b *blocks, md *model, done []compared) ([]pair, int64) {
	workers := runtime.GOMAXPROCS(0)
	per := make([][]pair, workers)
	counts := make([]int64, workers)
	score := func(w int, i, j uint32, c *vec) {
		counts[w]++
		if p, ok := bk.scorePair(md, i, j, c); ok {
			per[w] = append(per[w], p)
		}
	}
	if done != nil {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := w; k < len(done); k += workers {
					score(w, done[k].a, done[k].b, &done[k].c)
				}
			}(w)
		}
		wg.Wait()
	} else {
		caches := make([]simCache, workers)
		bk.eachPair(b, func(w int, i, j uint32) {
			c := bk.compare(i, j, &caches[w])
			score(w, i, j, &c)
		})
	}
	var all []pair
	var n int64
	for w, p := range per {
		all = append(all, p...)
		n += counts[w]
	}
	return all, n
}
