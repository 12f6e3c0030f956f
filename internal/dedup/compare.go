package dedup

import (
	"slices"
	"strings"
)

// Fields compared between two cards. Each comparison gives a level: 0 when
// either card lacks the field (no evidence either way), then from the best
// agreement to "different", always the last level.
const (
	fGiven = iota
	fFamily
	fBirthday
	fStreet
	fPlace
	fEmail
	fPhone
	fOrg
	fTitle
	nFields
)

// fieldNames are the names of the fields in reasons; levelNames the names
// of their levels (index 0, "missing", is never shown).
var (
	fieldNames = [nFields]string{"given", "family", "birthday", "address", "place", "email", "phone", "org", "title"}
	levelNames = [nFields][]string{
		fGiven:    {"", "exact", "nickname", "close", "similar", "different"},
		fFamily:   {"", "exact", "close", "similar", "different"},
		fBirthday: {"", "exact", "close", "partial", "different"},
		fStreet:   {"", "exact", "close", "partial", "different"},
		fPlace:    {"", "exact", "locality", "postcode", "different"},
		fEmail:    {"", "exact", "close", "different"},
		fPhone:    {"", "exact", "close", "different"},
		fOrg:      {"", "exact", "close", "different"},
		fTitle:    {"", "exact", "close", "different"},
	}
)

func nLevels(f int) int     { return len(levelNames[f]) }
func different(f int) uint8 { return uint8(nLevels(f) - 1) }

// vec is the comparison of two cards: a level per field, the interned value
// the cards share for fields at level exact (for term-frequency weights),
// and whether the names matched once given and family were swapped.
type vec struct {
	lv      [nFields]uint8
	tf      [nFields]uint32
	swapped bool
	mobile  bool // the shared phone is a mobile on both cards: a person's, not a household's
	// suffixDiffer: both names carry a generational suffix, and they
	// differ (John Smith Sr. and Jr.).
	suffixDiffer bool
}

// pattern encodes the levels as one number (mixed radix), for counting.
func (c *vec) pattern() uint32 {
	p := uint32(0)
	for f := nFields - 1; f >= 0; f-- {
		p = p*uint32(nLevels(f)) + uint32(c.lv[f])
	}
	return p
}

func decode(p uint32) (lv [nFields]uint8) {
	for f := 0; f < nFields; f++ {
		n := uint32(nLevels(f))
		lv[f] = uint8(p % n)
		p /= n
	}
	return lv
}

// compare compares cards i and j on every field; sc (nil for none) keeps
// the similarities of interned values the calling goroutine computed.
func (bk *book) compare(i, j uint32, sc *simCache) vec {
	a, b := &bk.f[i], &bk.f[j]
	var c vec
	bk.compareNames(a, b, &c, sc)
	c.suffixDiffer = a.suffix != 0 && b.suffix != 0 && a.suffix != b.suffix
	c.lv[fBirthday] = bdayLevel(a, b)
	c.lv[fStreet] = bk.streetLevel(a.post, b.post, sc)
	c.lv[fPlace], c.tf[fPlace] = bk.placeLevel(a.post, b.post, sc)
	c.lv[fEmail], c.tf[fEmail] = bk.emailLevel(a, b)
	c.lv[fPhone], c.tf[fPhone] = bk.phoneLevel(a.phones, b.phones)
	c.mobile = c.lv[fPhone] == 1 && slices.Contains(a.mobiles, c.tf[fPhone]) && slices.Contains(b.mobiles, c.tf[fPhone])
	c.lv[fOrg], c.tf[fOrg] = bk.valueLevel(a.org, b.org, sc)
	c.lv[fTitle], c.tf[fTitle] = bk.valueLevel(a.title, b.title, sc)
	// A street that agrees says the place already: counting both would
	// count one fact twice.
	if (c.lv[fStreet] == 1 || c.lv[fStreet] == 2) && c.lv[fPlace] != different(fPlace) {
		c.lv[fPlace], c.tf[fPlace] = 0, 0
	}
	return c
}

// goodness ranks a level for choosing between direct and swapped names:
// missing is neutral, different is worse.
func goodness(f int, l uint8) int {
	switch {
	case l == 0:
		return 0
	case l == different(f):
		return -2
	default:
		return nLevels(f) - int(l)
	}
}

func (bk *book) compareNames(a, b *feat, c *vec, sc *simCache) {
	c.lv[fGiven], c.tf[fGiven] = bk.givenLevel(a.given, b.given, sc)
	c.lv[fFamily], c.tf[fFamily] = bk.familyLevel(a.family, b.family, sc)
	if len(a.given)+len(a.family) == 0 || len(b.given)+len(b.family) == 0 {
		return
	}
	if c.lv[fGiven] == 1 && c.lv[fFamily] <= 1 {
		return
	}
	// Given and family names swapped: "Kowalsky Maria" for "Maria
	// Kowalski".
	g, gt := bk.givenLevel(a.given, b.family, sc)
	f, ft := bk.familyLevel(a.family, b.given, sc)
	if goodness(fGiven, g)+goodness(fFamily, f) > goodness(fGiven, c.lv[fGiven])+goodness(fFamily, c.lv[fFamily]) {
		c.lv[fGiven], c.tf[fGiven], c.lv[fFamily], c.tf[fFamily] = g, gt, f, ft
		c.swapped = true
	}
}

// givenLevel compares the first given names (and the whole given names, so
// that "Mary Ann" meets "Maryann"); an initial is "similar".
func (bk *book) givenLevel(a, b []uint32, sc *simCache) (uint8, uint32) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	x, y := a[0], b[0]
	if x == y {
		return 1, x
	}
	if bk.nickOf(x) == bk.nickOf(y) {
		return 2, 0
	}
	sx, sy := bk.st.strs[x], bk.st.strs[y]
	if (len(sx) == 1 || len(sy) == 1) && sx[0] == sy[0] {
		return 4, 0
	}
	s := bk.sim(x, y, sc)
	if len(a) > 1 || len(b) > 1 {
		s = max(s, jaroWinkler(bk.joined(a), bk.joined(b)))
	}
	switch {
	case s >= 0.92:
		return 3, 0
	case s >= 0.8:
		return 4, 0
	}
	return 5, 0
}

// familyLevel compares family names as a whole ("de la Cruz"); sharing one
// of several tokens ("García" and "García López") is close.
func (bk *book) familyLevel(a, b []uint32, sc *simCache) (uint8, uint32) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	if slices.Equal(a, b) {
		// The rarest token weighs the name: "van Dijk" is as rare as
		// "Dijk", not as common as "van".
		rare := a[0]
		for _, t := range a[1:] {
			if bk.st.freq[t] < bk.st.freq[rare] {
				rare = t
			}
		}
		return 1, rare
	}
	var s float64
	if len(a) == 1 && len(b) == 1 {
		s = bk.sim(a[0], b[0], sc)
	} else {
		s = jaroWinkler(bk.joined(a), bk.joined(b))
	}
	if len(a) > 1 || len(b) > 1 {
		for _, x := range a {
			if slices.Contains(b, x) {
				s = max(s, 0.92)
			}
		}
	}
	switch {
	case s >= 0.92:
		return 2, 0
	case s >= 0.8:
		return 3, 0
	}
	return 4, 0
}

// simCache remembers Jaro–Winkler similarities of pairs of interned values
// for one goroutine: a book holds few distinct names and streets, compared
// again and again. It is direct-mapped: a fixed size, no allocation.
type simCache struct {
	keys [1 << 14]uint64 // 1 + the pair of ids, 0 when empty
	vals [1 << 14]float64
}

// sim is the Jaro–Winkler similarity of two interned values.
func (bk *book) sim(x, y uint32, sc *simCache) float64 {
	if sc == nil {
		return jaroWinkler(bk.st.strs[x], bk.st.strs[y])
	}
	if x > y {
		x, y = y, x
	}
	k := uint64(x)<<32 | uint64(y)
	h := (k * 0x9E3779B97F4A7C15) >> (64 - 14)
	if sc.keys[h] == k+1 {
		return sc.vals[h]
	}
	v := jaroWinkler(bk.st.strs[x], bk.st.strs[y])
	sc.keys[h], sc.vals[h] = k+1, v
	return v
}

func (bk *book) nickOf(id uint32) uint32 {
	if id < uint32(len(bk.nick)) {
		return bk.nick[id]
	}
	return id
}

func (bk *book) joined(ids []uint32) string {
	if len(ids) == 1 {
		return bk.st.strs[ids[0]]
	}
	var s strings.Builder
	for _, id := range ids[:min(len(ids), 4)] {
		s.WriteString(bk.st.strs[id])
	}
	return s.String()
}

// bdayLevel compares birthdays: exact; close when one digit of YYYYMMDD
// differs or day and month are swapped; partial when two of year, month
// and day agree, or the month and day when a year is unknown.
func bdayLevel(a, b *feat) uint8 {
	if a.bdM == 0 || b.bdM == 0 {
		return 0
	}
	if a.bdY == 0 || b.bdY == 0 {
		if a.bdM == b.bdM && a.bdD == b.bdD {
			return 3
		}
		return 4
	}
	y, m, d := a.bdY == b.bdY, a.bdM == b.bdM, a.bdD == b.bdD
	switch {
	case y && m && d:
		return 1
	case y && a.bdM == b.bdD && a.bdD == b.bdM,
		digitsApart(int(a.bdY), int(b.bdY))+digitsApart(int(a.bdM), int(b.bdM))+digitsApart(int(a.bdD), int(b.bdD)) == 1:
		return 2
	case y && m || y && d || m && d:
		return 3
	}
	return 4
}

// digitsApart counts the decimal digits in which x and y differ.
func digitsApart(x, y int) int {
	n := 0
	for x > 0 || y > 0 {
		if x%10 != y%10 {
			n++
		}
		x, y = x/10, y/10
	}
	return n
}

// streetLevel compares the street lines of the best-matching addresses:
// exact; close when the number agrees and the words are alike (or the words
// agree and one digit of the number differs); partial when only the number
// agrees, or the words are alike and a number is missing.
func (bk *book) streetLevel(a, b []postal, sc *simCache) uint8 {
	a, b = a[:min(len(a), maxCompared)], b[:min(len(b), maxCompared)]
	best := uint8(0)
	for x := range a {
		for y := range b {
			l := bk.streetPair(&a[x], &b[y], sc)
			if l != 0 && (best == 0 || l < best) {
				best = l
			}
		}
	}
	return best
}

func (bk *book) streetPair(p, q *postal, sc *simCache) uint8 {
	if len(p.nums)+len(p.words) == 0 || len(q.nums)+len(q.words) == 0 {
		return 0
	}
	numEq := len(p.nums) > 0 && sameIDs(p.nums, q.nums)
	numNear := numEq || len(p.nums) == len(q.nums) && len(p.nums) > 0 && bk.nearIDs(p.nums, q.nums)
	numMissing := len(p.nums) == 0 || len(q.nums) == 0
	wEq := sameIDs(p.words, q.words)
	switch {
	case wEq && (numEq || numMissing && len(p.nums) == len(q.nums)):
		return 1
	case wEq && numNear:
		return 2
	case !numEq && !numMissing:
		return 4 // other numbers: alike words are a neighbour's street
	}
	ws := bk.wordSim(p.words, q.words, sc)
	switch {
	case numEq && ws >= 0.85:
		return 2
	case numEq, ws >= 0.85:
		return 3
	}
	return 4
}

// maxCompared is the most addresses of a card compared: a person has a
// home and a work address or two, and the comparison of every street word
// with every other is quadratic.
const maxCompared = 3

// sameIDs reports whether two short lists hold the same values.
func sameIDs(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// nearIDs reports whether two lists of numbers of one length differ in one
// digit of one number.
func (bk *book) nearIDs(a, b []uint32) bool {
	diff := 0
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		x, y := bk.st.strs[a[i]], bk.st.strs[b[i]]
		if len(x) != len(y) {
			return false
		}
		for k := 0; k < len(x); k++ {
			if x[k] != y[k] {
				diff++
			}
		}
	}
	return diff == 1
}

// wordSim is how alike two lists of street words are: for each word of the
// shorter list, its best Jaro–Winkler similarity in the other, averaged.
func (bk *book) wordSim(a, b []uint32, sc *simCache) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	sum := 0.0
	for _, x := range a {
		best := 0.0
		for _, y := range b {
			if x == y {
				best = 1
				break
			}
			best = max(best, bk.sim(x, y, sc))
		}
		sum += best
	}
	return sum / float64(len(a))
}

// placeLevel compares locality and postcode of the best-matching addresses:
// exact when every part both have agrees, then locality only, postcode
// only, different.
func (bk *book) placeLevel(a, b []postal, sc *simCache) (uint8, uint32) {
	a, b = a[:min(len(a), maxCompared)], b[:min(len(b), maxCompared)]
	best, tf := uint8(0), uint32(0)
	for x := range a {
		for y := range b {
			l, t := bk.placePair(&a[x], &b[y], sc)
			if l != 0 && (best == 0 || l < best) {
				best, tf = l, t
			}
		}
	}
	return best, tf
}

func (bk *book) placePair(p, q *postal, sc *simCache) (uint8, uint32) {
	locKnown, codeKnown := p.loc != 0 && q.loc != 0, p.code != 0 && q.code != 0
	if !locKnown && !codeKnown {
		return 0, 0
	}
	locEq := locKnown && (p.loc == q.loc || bk.sameWord(p.loc, q.loc, sc))
	codeEq := codeKnown && p.code == q.code
	switch {
	case (locEq || !locKnown) && (codeEq || !codeKnown):
		if locKnown && p.loc == q.loc {
			return 1, p.loc
		}
		if codeEq {
			return 1, p.code
		}
		return 1, 0
	case locEq:
		return 2, 0
	case codeEq:
		return 3, 0
	}
	return 4, 0
}

// sameWord reports whether two interned words are one with a typo: alike
// by Jaro–Winkler, one letter added, dropped or changed, or the same
// letters in another order.
func (bk *book) sameWord(x, y uint32, sc *simCache) bool {
	sx, sy := bk.st.strs[x], bk.st.strs[y]
	return bk.sim(x, y, sc) >= 0.92 || len(sx) >= 4 && oneEdit(sx, sy) || sameLetters(sx, sy)
}

// oneEdit reports whether x and y differ by at most one letter added,
// dropped or changed.
func oneEdit(x, y string) bool {
	if len(x) > len(y) {
		x, y = y, x
	}
	if len(y)-len(x) > 1 {
		return false
	}
	i := 0
	for i < len(x) && x[i] == y[i] {
		i++
	}
	if len(x) == len(y) {
		return i == len(x) || x[i+1:] == y[i+1:]
	}
	return x[i:] == y[i+1:]
}

// sameLetters reports whether two short strings are anagrams.
func sameLetters(x, y string) bool {
	if len(x) != len(y) || len(x) > 64 {
		return false
	}
	var n [256]int8
	for i := 0; i < len(x); i++ {
		n[x[i]]++
		n[y[i]]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

// emailLevel: exact when an address is shared; close when a distinctive
// local part is shared under another domain, or the addresses are a typo
// or two apart. A local part made of the person's names ("jean.martin",
// "helene") is not distinctive: namesakes have it too.
func (bk *book) emailLevel(a, b *feat) (uint8, uint32) {
	if len(a.emails) == 0 || len(b.emails) == 0 {
		return 0, 0
	}
	best := uint32(0)
	for _, x := range a.emails {
		if slices.Contains(b.emails, x) && (best == 0 || bk.st.freq[x] < bk.st.freq[best]) {
			best = x
		}
	}
	if best != 0 {
		return 1, best
	}
	for _, x := range a.emails {
		lx := bk.localOf[x]
		for _, y := range b.emails {
			if lx != 0 && lx == bk.localOf[y] {
				local := bk.st.strs[lx]
				if bk.distinctive(local, a) && bk.distinctive(local, b) {
					// The local part's frequency weighs it, as
					// a value's does for an exact agreement.
					return 2, lx
				}
			}
			if typosApart(bk.st.strs[x], bk.st.strs[y]) {
				return 2, 0 // one address with a typo or two
			}
		}
	}
	return 3, 0
}

// roleAccounts are local parts that name a function, not a person: the
// same one at two companies says nothing.
var roleAccounts = map[string]bool{
	"info": true, "contact": true, "office": true, "admin": true, "sales": true, "hello": true,
	"mail": true, "support": true, "team": true, "service": true, "kontakt": true, "bureau": true,
}

// typosApart reports whether two addresses are one with a typo (two in a
// long one), none in a digit: "alopez3" and "alopez0" are two accounts.
func typosApart(x, y string) bool {
	k := 1
	if min(len(x), len(y)) >= 16 {
		k = 2
	}
	return len(x)-len(y) <= k && len(y)-len(x) <= k && withinEdits(x, y, k) && sameDigits(x, y)
}

// sameDigits reports whether x and y hold the same digits in the same order.
func sameDigits(x, y string) bool {
	i, j := 0, 0
	for {
		for i < len(x) && (x[i] < '0' || x[i] > '9') {
			i++
		}
		for j < len(y) && (y[j] < '0' || y[j] > '9') {
			j++
		}
		if i == len(x) || j == len(y) {
			return i == len(x) && j == len(y)
		}
		if x[i] != y[j] {
			return false
		}
		i, j = i+1, j+1
	}
}

// withinEdits reports whether x becomes y by at most k letters added,
// dropped or changed (Levenshtein distance, computed in a band of width k
// around the diagonal: linear in the length).
func withinEdits(x, y string, k int) bool {
	if len(x) > len(y) {
		x, y = y, x
	}
	if len(y)-len(x) > k {
		return false
	}
	const far = 1 << 20
	w := 2*k + 1
	var rows [2][5]int // k ≤ 2: columns j-i+k of rows i-1 and i
	if w > len(rows[0]) {
		return false
	}
	prev, cur := rows[0][:w], rows[1][:w]
	for d := range prev {
		prev[d] = far
		if j := d - k; j >= 0 {
			prev[d] = j
		}
	}
	for i := 1; i <= len(x); i++ {
		best := far
		for d := range cur {
			j := i + d - k
			cur[d] = far
			if j < 0 || j > len(y) {
				continue
			}
			if j == 0 {
				cur[d] = i
			} else {
				cost := 1
				if x[i-1] == y[j-1] {
					cost = 0
				}
				v := prev[d] + cost // diagonal
				if d+1 < w {
					v = min(v, prev[d+1]+1) // from the row above
				}
				if d > 0 {
					v = min(v, cur[d-1]+1) // from the left
				}
				cur[d] = v
			}
			best = min(best, cur[d])
		}
		if best > k {
			return false
		}
		prev, cur = cur, prev
	}
	d := len(y) - len(x) + k
	return prev[d] <= k
}

// distinctive reports whether an e-mail local part says more than the
// card's names: letters left once the name tokens, up to two initials and
// the digits are taken out ("jsmith4" is a name and a number that
// namesakes pick too; "jsmith.photo" is not).
func (bk *book) distinctive(local string, f *feat) bool {
	var rest []byte
	for i := 0; i < len(local); i++ {
		if c := local[i]; c >= 'a' && c <= 'z' || c >= 0x80 {
			rest = append(rest, c)
		}
	}
	s := string(rest)
	if roleAccounts[s] {
		return false
	}
	for _, t := range f.toks {
		if n := bk.st.strs[t]; len(n) > 1 {
			s = strings.Replace(s, n, "", 1)
		}
	}
	return len(s) > 2
}

// phoneLevel: exact when a number is shared; close when two neighbouring
// digits are swapped (a typo; one digit more or less is as likely the next
// line of one office).
func (bk *book) phoneLevel(a, b []uint32) (uint8, uint32) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	best := uint32(0)
	for _, x := range a {
		if slices.Contains(b, x) && (best == 0 || bk.st.freq[x] < bk.st.freq[best]) {
			best = x
		}
	}
	if best != 0 {
		return 1, best
	}
	for _, x := range a {
		for _, y := range b {
			if oneTypo(bk.st.strs[x], bk.st.strs[y]) {
				return 2, 0
			}
		}
	}
	return 3, 0
}

// oneTypo reports whether two digit strings of one length (at least 7)
// differ by two neighbours swapped.
func oneTypo(x, y string) bool {
	if len(x) != len(y) || len(x) < 7 {
		return false
	}
	first, n := -1, 0
	for i := 0; i < len(x); i++ {
		if x[i] != y[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	return n == 2 && first+1 < len(x) && x[first] == y[first+1] && x[first+1] == y[first]
}

// valueLevel compares one interned value (organisation, title).
func (bk *book) valueLevel(x, y uint32, sc *simCache) (uint8, uint32) {
	switch {
	case x == 0 || y == 0:
		return 0, 0
	case x == y:
		return 1, x
	case bk.sim(x, y, sc) >= 0.9:
		return 2, 0
	}
	return 3, 0
}
