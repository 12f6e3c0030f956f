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

// personal is the most cards of other names a phone or e-mail address may
// be on and still identify one person (a family's line, an assistant's
// mailbox); beyond, it is a switchboard or a shared mailbox.
const personal = 6

// isPersonal reports whether a phone or e-mail address (by id) belongs to
// one person or a household, not to a company.
func (bk *book) isPersonal(id uint32) bool { return bk.st.strangers[id] <= personal }

// scorePair weighs the evidence, compared as c, that cards i and j are one person; ok is
// false below the review threshold, or when one field alone is strong
// evidence against (a birthday years apart, where the book shows that
// copies of one person rarely differ so).
func (bk *book) scorePair(md *model, i, j uint32, c *vec) (pair, bool) {
	a, b := &bk.f[i], &bk.f[j]
	if len(a.toks) > 0 && len(b.toks) > 0 && (bk.identical(a, b) || bk.isSubset(a, b) || bk.isSubset(b, a)) {
		return pair{a: i, b: j, bits: subsetBits, auto: true}, true
	}
	s := md.bits(bk, c)
	if s < reviewBits || c.suffixDiffer || md.vetoed(bk, c, true) {
		return pair{}, false
	}
	agree := func(f int) bool { return c.lv[f] == 1 || c.lv[f] == 2 && f != fGiven }
	weak := !agree(fBirthday) && !agree(fEmail) && !agree(fPhone) && !agree(fStreet)
	return pair{a: i, b: j, bits: float32(s), auto: bk.autoPair(c, s), weak: weak}, true
}

// autoPair says whether a pair is safe to merge without a person looking:
// overwhelming evidence, the same given name (no nickname, no typo: twins
// are Paul and Paula), no single value in conflict (birthday,
// organisation, job title: each exact or missing), and strong identifiers
// that a household does not share: a personal e-mail address with the full
// name, or two of a personal e-mail address, a personal mobile, a birthday
// and a street address, one of them personal (not the street alone with a
// landline: a father and a son share both).
func (bk *book) autoPair(c *vec, s float64) bool {
	if s < autoBits || c.lv[fGiven] != 1 || c.lv[fFamily] != 1 && c.lv[fFamily] != 2 {
		return false
	}
	if !autoCompatible(c) {
		return false
	}
	email := c.lv[fEmail] == 1 && bk.isPersonal(c.tf[fEmail])
	mobile := c.mobile && bk.isPersonal(c.tf[fPhone])
	bday := c.lv[fBirthday] == 1
	street := c.lv[fStreet] == 1 && c.lv[fPlace] == 0
	strong := 0
	for _, ok := range []bool{email, mobile, bday, street} {
		if ok {
			strong++
		}
	}
	return (email || mobile || bday) && strong >= 2 || email && c.lv[fFamily] == 1
}

// autoCompatible reports whether two cards may sit in one auto group: no
// single value in conflict, not even nearly (a merge without a person
// looking would pick one of them).
func autoCompatible(c *vec) bool {
	for _, f := range []int{fBirthday, fOrg, fTitle} {
		if c.lv[f] > 1 {
			return false
		}
	}
	return !c.suffixDiffer
}

// identical reports whether two cards say the same things (after
// normalisation), a personal phone or e-mail address included.
func (bk *book) identical(a, b *feat) bool {
	return a.nameKey == b.nameKey && a.suffix == b.suffix && a.org == b.org && a.title == b.title &&
		a.bdY == b.bdY && a.bdM == b.bdM && a.bdD == b.bdD &&
		sameIDs(a.phones, b.phones) && sameIDs(a.emails, b.emails) && sameSet(a.addrs, b.addrs) &&
		bk.personalValue(a)
}

// personalValue reports whether a card holds a phone or e-mail address that
// is not a switchboard or a shared mailbox.
func (bk *book) personalValue(a *feat) bool {
	for _, h := range a.phones {
		if bk.isPersonal(h) {
			return true
		}
	}
	for _, h := range a.emails {
		if bk.isPersonal(h) {
			return true
		}
	}
	return false
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
	if a.bdM != 0 && (a.bdM != b.bdM || a.bdD != b.bdD || a.bdY != b.bdY) || a.suffix != b.suffix {
		return false
	}
	// A switchboard or a shared mailbox does not make two namesakes one
	// person.
	return bk.personalValue(a)
}
