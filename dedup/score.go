package dedup

import "slices"

// Thresholds on the weight of evidence (bits: log2 of the odds that two
// cards are one person). They are round numbers in the model's own units,
// not fitted to any book: review at even odds, auto at a thousand to one
// (and only with a strong identifier, see autoPair), and two cards whose
// own evidence is this much against are never put in one group through
// others.
const (
	reviewBits = 0.0
	autoBits   = 10.0
	clashBits  = -4.0
	vetoBits   = -5.0
	subsetBits = 30.0
)

// personal is the most cards a phone or e-mail address may be on and still
// identify one person (a person rarely has more copies than a group holds);
// beyond, it is a switchboard or a shared mailbox.
const personal = 20

// scorePair weighs the evidence that cards i and j are one person; ok is
// false below the review threshold, or when one field alone is strong
// evidence against (a birthday years apart, where the book shows that
// copies of one person rarely differ so).
func (bk *book) scorePair(md *model, i, j uint32) (pair, bool) {
	a, b := &bk.f[i], &bk.f[j]
	if len(a.toks) > 0 && len(b.toks) > 0 && (identical(a, b) || bk.isSubset(a, b) || bk.isSubset(b, a)) {
		return pair{a: i, b: j, bits: subsetBits, auto: true}, true
	}
	c := bk.compare(i, j)
	s := md.bits(bk, &c)
	if s < reviewBits || md.vetoed(bk, &c, true) {
		return pair{}, false
	}
	agree := func(f int) bool { return c.lv[f] == 1 || c.lv[f] == 2 && f != fGiven }
	weak := !agree(fBirthday) && !agree(fEmail) && !agree(fPhone) && !agree(fStreet)
	return pair{a: i, b: j, bits: float32(s), auto: bk.autoPair(&c, s), weak: weak}, true
}

// autoPair says whether a pair is safe to merge without a person looking:
// overwhelming evidence, names that agree (no nickname), no single-valued
// field in conflict (birthday, organisation, job title), and a strong identifier shared: a personal e-mail
// address or phone with the full name, or two of e-mail, phone, birthday
// and street address.
func (bk *book) autoPair(c *vec, s float64) bool {
	if s < autoBits {
		return false
	}
	g, f := c.lv[fGiven], c.lv[fFamily]
	if g != 1 && g != 3 || f != 1 && f != 2 {
		return false
	}
	for _, f := range []int{fBirthday, fOrg, fTitle} {
		if c.lv[f] == different(f) {
			return false // a single value in conflict: a person chooses
		}
	}
	email := c.lv[fEmail] == 1 && bk.st.freq[c.tf[fEmail]] <= personal
	phone := c.lv[fPhone] == 1 && bk.st.freq[c.tf[fPhone]] <= personal
	strong := 0
	for _, ok := range []bool{email, phone, c.lv[fBirthday] == 1, c.lv[fStreet] == 1 && c.lv[fPlace] == 0} {
		if ok {
			strong++
		}
	}
	return strong >= 2 || email && g == 1 && f == 1
}

// identical reports whether two cards say the same things (after
// normalisation), a phone or an e-mail included.
func identical(a, b *feat) bool {
	return a.nameKey == b.nameKey && a.org == b.org && a.bdY == b.bdY && a.bdM == b.bdM && a.bdD == b.bdD &&
		len(a.phones)+len(a.emails) > 0 &&
		sameIDs(a.phones, b.phones) && sameIDs(a.emails, b.emails) && sameSet(a.addrs, b.addrs)
}

func sameSet(a, b []uint64) bool { return len(a) == len(b) && subsetOf(a, b) }

func subsetOf[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// isSubset reports whether card a says nothing b does not, names included,
// and they share a personal phone or e-mail address.
func (bk *book) isSubset(a, b *feat) bool {
	if a.nameKey != b.nameKey && !(len(a.toks) >= 2 && subsetOf(a.toks, b.toks)) {
		return false
	}
	if !subsetOf(a.phones, b.phones) || !subsetOf(a.emails, b.emails) || !subsetOf(a.addrs, b.addrs) {
		return false
	}
	if a.org != 0 && a.org != b.org || a.title != 0 && a.title != b.title {
		return false
	}
	if a.bdM != 0 && (a.bdM != b.bdM || a.bdD != b.bdD || a.bdY != b.bdY) {
		return false
	}
	// A switchboard or a shared mailbox does not make two namesakes one
	// person.
	for _, h := range a.phones {
		if bk.st.freq[h] <= personal {
			return true
		}
	}
	for _, h := range a.emails {
		if bk.st.freq[h] <= personal {
			return true
		}
	}
	return false
}
