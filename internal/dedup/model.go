package dedup

import (
	"math"
	"math/rand/v2"
	"slices"
)

// model is a Fellegi–Sunter model learned from one book. For each field and
// level, m is the chance of that level between two cards of one person and
// u between cards of two people; a level counts log2(m/u) bits, for the
// match when positive. u comes from random pairs of the book, m from
// expectation–maximisation over the candidate pairs, and the prior from
// the expected number of matches (deterministic: same book, same model).
type model struct {
	m, u  [nFields][]float64
	w     [nFields][]float64
	prior float64 // log2 of the odds that two cards drawn at random are one person
	// ubar[kind] is the chance that two random cards share a value of that
	// kind; tf[id] relates it to one value's frequency (see tfAdjust).
	ubar [kAddr + 1]float64
	tot  [kAddr + 1]float64
}

// Settings of the estimation. They are not fitted to any book: they are
// the usual starting points of EM and generous bounds.
const (
	randomPairs = 300000 // most pairs sampled for u
	emRounds    = 60
	emTolerance = 1e-7
	tfMin       = -10.0 // bits a very common value can lose
	tfMax       = 5.0   // bits a rare value can gain
)

// randomLevels counts the levels of pairs of cards drawn at random (fixed
// seed), with one pseudo-count per level.
func (bk *book) randomLevels() [nFields][]float64 {
	var cnt [nFields][]float64
	for f := range cnt {
		cnt[f] = make([]float64, nLevels(f))
		for l := 1; l < nLevels(f); l++ {
			cnt[f][l] = 1
		}
	}
	n := len(bk.f)
	if n < 2 {
		return cnt
	}
	r := rand.New(rand.NewPCG(0x5eed, uint64(n)))
	var sc simCache
	// Ten pairs a card tell a small book's u well enough (the defaults
	// cover what they miss), and a large one needs no more than a fixed
	// number.
	samples := min(randomPairs, n*(n-1)/2, max(50000, 10*n))
	for k := 0; k < samples; k++ {
		i := r.IntN(n)
		j := r.IntN(n - 1)
		if j >= i {
			j++
		}
		c := bk.compare(uint32(i), uint32(j), &sc)
		for f, l := range c.lv {
			cnt[f][l]++
		}
	}
	return cnt
}

// Training rules: each selects the candidate pairs that agree exactly on
// some fields, and m of the other fields is estimated among those pairs.
// Among pairs chosen for agreeing on a birthday, how often two cards of one
// person share a family name is not distorted by the choice, which it
// would be among pairs chosen for sharing the family name. No rule selects
// on what a household shares (address, landline): pairs chosen so are
// mostly family members, who agree on several fields at once and would be
// taken for one person.
var trainingRules = []struct {
	holds    func(lv *[nFields]uint8) bool
	excluded [nFields]bool
}{
	{func(lv *[nFields]uint8) bool { return lv[fBirthday] == 1 }, [nFields]bool{fBirthday: true}},
	{func(lv *[nFields]uint8) bool { return lv[fGiven] == 1 && lv[fFamily] == 1 }, [nFields]bool{fGiven: true, fFamily: true}},
	{func(lv *[nFields]uint8) bool { return lv[fEmail] == 1 }, [nFields]bool{fEmail: true}},
}

// minTraining is the fewest pairs a training rule needs to say anything.
const minTraining = 30

type pat struct {
	lv [nFields]uint8
	n  float64
}

// learn estimates the model from the level counts of random pairs (u) and
// the pattern counts of the candidate pairs (m, by EM under each training
// rule, then the number of matches).
func (bk *book) learn(random [nFields][]float64, counts map[uint32]float64) *model {
	md := &model{}
	keys := make([]uint32, 0, len(counts))
	for p := range counts {
		keys = append(keys, p)
	}
	slices.Sort(keys) // a fixed order: sums in floating point repeat
	pats := make([]pat, 0, len(counts))
	for _, p := range keys {
		pats = append(pats, pat{decode(p), counts[p]})
	}
	var sum [nFields][]float64
	var sessions [nFields]float64
	for f := 0; f < nFields; f++ {
		md.u[f] = slices.Clone(random[f])
		md.u[f][0] = 0 // u is among pairs where both cards have the field
		for l := 1; l < nLevels(f); l++ {
			md.u[f][l] += priorPairs * defaultU[f][l]
		}
		normalise(md.u[f])
		sum[f] = make([]float64, nLevels(f))
	}
	for _, r := range trainingRules {
		var sel []pat
		n := 0.0
		for _, p := range pats {
			if r.holds(&p.lv) {
				sel = append(sel, p)
				n += p.n
			}
		}
		if n < minTraining {
			continue
		}
		m := emM(sel, &md.u, r.excluded)
		for f := 0; f < nFields; f++ {
			if !r.excluded[f] {
				for l := range m[f] {
					sum[f][l] += m[f][l]
				}
				sessions[f]++
			}
		}
	}
	for f := 0; f < nFields; f++ {
		if sessions[f] == 0 {
			md.m[f] = startM(f)
			continue
		}
		md.m[f] = normalise(sum[f])
	}
	for f := 0; f < nFields; f++ {
		md.w[f] = make([]float64, nLevels(f))
		for l := 1; l < nLevels(f); l++ {
			md.w[f][l] = math.Log2(md.m[f][l] / md.u[f][l])
		}
		monotone(md.w[f])
	}
	md.prior = bk.prior(md, pats)
	bk.termFrequencies(md)
	return md
}

// What is known of people's cards before a book is seen: the chance of each
// level between two people (defaultU) and between two cards of one person
// (defaultM). They count as priorPairs random pairs and priorMatches
// matching pairs, so they decide in a small book and vanish in a large one.
// They are rough figures about people, not fitted to any book.
const (
	priorPairs   = 1000
	priorMatches = 20
)

var (
	defaultU = [nFields][]float64{
		fGiven:    {0, 0.01, 0.001, 0.005, 0.02, 0.964},
		fFamily:   {0, 0.005, 0.002, 0.01, 0.983},
		fBirthday: {0, 0.0001, 0.001, 0.02, 0.9789},
		fStreet:   {0, 0.0005, 0.0005, 0.005, 0.994},
		fPlace:    {0, 0.05, 0.05, 0.01, 0.89},
		fEmail:    {0, 0.0001, 0.0002, 0.9997},
		fPhone:    {0, 0.0002, 0.0002, 0.9996},
		fOrg:      {0, 0.01, 0.005, 0.985},
		fTitle:    {0, 0.03, 0.01, 0.96},
	}
	defaultM = [nFields][]float64{
		fGiven:    {0, 0.8, 0.05, 0.08, 0.04, 0.03},
		fFamily:   {0, 0.85, 0.08, 0.04, 0.03},
		fBirthday: {0, 0.9, 0.05, 0.03, 0.02},
		fStreet:   {0, 0.7, 0.1, 0.05, 0.15},
		fPlace:    {0, 0.8, 0.05, 0.05, 0.1},
		fEmail:    {0, 0.6, 0.1, 0.3},
		fPhone:    {0, 0.6, 0.05, 0.35},
		fOrg:      {0, 0.6, 0.1, 0.3},
		fTitle:    {0, 0.5, 0.1, 0.4},
	}
)

// startM is where m starts.
func startM(f int) []float64 { return slices.Clone(defaultM[f]) }

// emM estimates m of the fields not excluded by expectation–maximisation
// over pats, u fixed.
func emM(pats []pat, u *[nFields][]float64, excluded [nFields]bool) [nFields][]float64 {
	var m, lu [nFields][]float64
	for f := range m {
		m[f] = startM(f)
		lu[f] = make([]float64, nLevels(f))
		for l := range lu[f] {
			lu[f][l] = math.Log(u[f][l] + 1e-300)
		}
	}
	total := 0.0
	for _, p := range pats {
		total += p.n
	}
	lambda := 0.5
	lm := make([][]float64, nFields)
	for round := 0; round < emRounds; round++ {
		for f := range m {
			lm[f] = lm[f][:0]
			for _, x := range m[f] {
				lm[f] = append(lm[f], math.Log(x+1e-300))
			}
		}
		var acc [nFields][]float64
		for f := range acc {
			acc[f] = make([]float64, nLevels(f))
		}
		matches := 0.0
		for _, p := range pats {
			sm, su := math.Log(lambda), math.Log(1-lambda)
			for f, l := range p.lv {
				if l != 0 && !excluded[f] {
					sm += lm[f][l]
					su += lu[f][l]
				}
			}
			g := 1 / (1 + math.Exp(su-sm))
			matches += g * p.n
			for f, l := range p.lv {
				acc[f][l] += g * p.n
			}
		}
		change := math.Abs(matches/total - lambda)
		lambda = min(max(matches/total, 1e-6), 1-1e-6)
		for f := range acc {
			acc[f][0] = 0
			for l := 1; l < nLevels(f); l++ {
				acc[f][l] += priorMatches * defaultM[f][l]
			}
			normalise(acc[f])
			change = max(change, maxDiff(m[f], acc[f]))
			m[f] = acc[f]
		}
		if change < emTolerance {
			break
		}
	}
	return m
}

// prior is the log2 odds that two cards drawn at random are one person:
// the expected number of matching pairs among the candidates (EM over the
// share of matches, m and u fixed) over all pairs of the book.
func (bk *book) prior(md *model, pats []pat) float64 {
	n := float64(len(bk.f))
	all := n * (n - 1) / 2
	total := 0.0
	for _, p := range pats {
		total += p.n
	}
	if all < 1 {
		return 0
	}
	ratio := make([]float64, len(pats))
	for k, p := range pats {
		s := 0.0
		for f, l := range p.lv {
			if l != 0 {
				s += math.Log(md.m[f][l] / md.u[f][l])
			}
		}
		ratio[k] = math.Exp(min(s, 700))
	}
	lambda := 0.1
	for round := 0; round < emRounds; round++ {
		matches := 0.0
		for k, p := range pats {
			odds := lambda / (1 - lambda) * ratio[k]
			matches += odds / (1 + odds) * p.n
		}
		next := min(max(matches/total, 1e-9), 1-1e-9)
		if math.Abs(next-lambda) < emTolerance {
			lambda = next
			break
		}
		lambda = next
	}
	// Until the book shows otherwise (a small book shows little), about
	// one card in ten has a copy.
	const shown = 200 // cards at which the book's estimate counts half
	matches := (lambda*total*n + 0.1*n*shown) / (n + shown)
	return math.Log2(matches / max(all-matches, 1))
}

func normalise(v []float64) []float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	if s > 0 {
		for i := range v {
			v[i] /= s
		}
	}
	return v
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// monotone keeps the weights in the order that matters, whatever noise the
// estimation picked up from a small book or a level it rarely saw: an exact
// agreement counts for the match and at least as much as any lesser one,
// "different" counts against it and no more than any other level. The
// levels between are only kept within these bounds: a level the book never
// shows (a birthday one digit off, in a book without typos) must not drag
// the ones after it down.
func monotone(w []float64) {
	last := len(w) - 1
	w[1] = max(w[1], 0)
	for l := 2; l < last; l++ {
		w[l] = min(w[l], w[1])
	}
	for l := 1; l < last; l++ {
		w[last] = min(w[last], w[l])
	}
	w[last] = min(w[last], 0)
}

// termFrequencies prepares the adjustment of exact agreements by how
// common the shared value is: two "Smith"s say less than two "Zilm"s.
func (bk *book) termFrequencies(md *model) {
	var sumsq [kAddr + 1]float64
	for id, n := range bk.st.freq {
		k := bk.st.kind[id]
		md.tot[k] += float64(n)
		sumsq[k] += float64(n) * float64(n)
	}
	for k := range md.ubar {
		if md.tot[k] > 0 {
			md.ubar[k] = sumsq[k] / (md.tot[k] * md.tot[k])
		}
	}
}

// tfAdjust is the bits an exact agreement on value id gains (rare value)
// or loses (common value) against an average one.
func (md *model) tfAdjust(bk *book, id uint32) float64 {
	k := bk.st.kind[id]
	n := float64(bk.st.freq[id])
	if n == 0 || md.tot[k] == 0 || md.ubar[k] == 0 {
		return 0
	}
	return min(max(math.Log2(md.ubar[k]*md.tot[k]/n), tfMin), tfMax)
}

// bits is the weight of evidence of a comparison: the log2 odds that the
// two cards are one person.
func (md *model) bits(bk *book, c *vec) float64 {
	s := md.prior
	for f, l := range c.lv {
		if l != 0 {
			s += md.weight(bk, c, f)
		}
	}
	return s
}

// household are the fields a household shares: an address and a landline.
var household = [nFields]bool{fStreet: true, fPlace: true, fPhone: true}

// weight is what field f of a comparison counts. Agreement on what a
// household shares says "same household", not "same person", when the
// given names are different or only alike (Dũng and Hùng) and the
// birthdays do not agree: then it counts nothing (a mobile phone both cards
// mark as one is a person's, and counts). So does a phone or
// e-mail address held by many cards of other names.
func (md *model) weight(bk *book, c *vec, f int) float64 {
	l := c.lv[f]
	w := md.w[f][l]
	if (l == 1 || f == fEmail && l == 2) && c.tf[f] != 0 {
		w += md.tfAdjust(bk, c.tf[f])
	}
	if household[f] && w > 0 && c.lv[fGiven] >= 4 && c.lv[fBirthday] != 1 && !(f == fPhone && c.mobile) {
		return 0
	}
	if (f == fPhone || f == fEmail) && c.tf[f] != 0 && !bk.isPersonal(c.tf[f]) {
		return min(w, 0) // a switchboard or a shared mailbox
	}
	return w
}

// vetoed reports whether one single-valued field of a comparison (names,
// birthday: a person has one, where one may have several phones) counts
// vetoBits or more against the match; birthdayOnly looks at the birthday
// alone, a fact that does not change, where a name can be written in many
// ways.
func (md *model) vetoed(bk *book, c *vec, birthdayOnly bool) bool {
	for f, l := range c.lv {
		if birthdayOnly && f != fBirthday || f != fBirthday && f != fGiven && f != fFamily {
			continue
		}
		if l != 0 && md.weight(bk, c, f) <= vetoBits {
			return true
		}
	}
	return false
}

// reasons lists what each field of a comparison counted.
func (md *model) reasons(bk *book, c *vec) []Reason {
	var out []Reason
	for f, l := range c.lv {
		if l == 0 {
			continue
		}
		w := md.weight(bk, c, f)
		level := levelNames[f][l]
		if c.swapped && (f == fGiven || f == fFamily) {
			level += ", swapped"
		}
		out = append(out, Reason{Field: fieldNames[f], Level: level, Weight: math.Round(w*10) / 10})
	}
	slices.SortStableFunc(out, func(x, y Reason) int {
		return cmpFloat(math.Abs(y.Weight), math.Abs(x.Weight))
	})
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
