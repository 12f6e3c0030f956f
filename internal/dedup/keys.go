package dedup

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/contacts"
)

// feat is the compact form of one card kept while matching: ids of interned
// normalised values (see strTable) and the birthday. The raw card is not
// kept.
type feat struct {
	toks    []uint32 // all name tokens, sorted (identity and subsets)
	given   []uint32 // given-name tokens in order, or FN's first tokens
	family  []uint32 // family-name tokens in order, or FN's last token
	phones  []uint32
	mobiles []uint32 // those of phones marked as a mobile
	emails  []uint32
	addrs   []uint64 // hashes of whole normalised addresses (identity and subsets)
	post    []postal
	org     uint32
	title   uint32
	suffix  uint32 // generational suffix of the name (jr, sr, iii), 0 without
	nameKey uint64 // hash of the sorted tokens, 0 without a name
	bdY     uint16 // year, 0 when unknown
	bdM     uint8  // month, 0 when no birthday
	bdD     uint8
}

// postal is one address: its street numbers and words, locality and
// postcode, as interned ids.
type postal struct {
	nums  []uint32
	words []uint32
	loc   uint32
	code  uint32
}

// Kinds of interned strings: equal strings of different kinds are different
// values with their own frequencies.
const (
	kName byte = iota + 1
	kPhone
	kEmail
	kEmailLocal
	kStreetNum
	kStreetWord
	kLocality
	kCode
	kOrg
	kTitle
	kAddr
)

// strTable interns strings per kind and counts the cards holding each.
type strTable struct {
	ids  map[string]uint32
	strs []string // id → string (without its kind)
	freq []uint32 // id → number of cards holding it
	kind []byte
	// For phones and e-mail addresses: the name of the first card
	// holding one, and how many holders have another name (a shared line
	// or mailbox has many).
	firstName []uint64
	strangers []uint32
}

func newStrTable(n int) *strTable {
	return &strTable{ids: make(map[string]uint32, n), strs: []string{""}, freq: []uint32{0}, kind: []byte{0},
		firstName: []uint64{0}, strangers: []uint32{0}}
}

// id interns s of kind k (0 for ""); count adds one card to its frequency.
func (t *strTable) id(k byte, s string, count bool) uint32 {
	if s == "" {
		return 0
	}
	key := string(k) + s
	id, ok := t.ids[key]
	if !ok {
		id = uint32(len(t.strs))
		t.ids[key] = id
		t.strs = append(t.strs, s)
		t.freq = append(t.freq, 0)
		t.kind = append(t.kind, k)
		t.firstName = append(t.firstName, 0)
		t.strangers = append(t.strangers, 0)
	}
	if count {
		t.freq[id]++
	}
	return id
}

// book is the feature table of all cards with the interned values.
type book struct {
	f    []feat
	st   *strTable
	nick []uint32 // name token id → id of its canonical nickname form (itself when none)
	// localOf maps an e-mail address id to the id of its local part (0
	// when shorter than 3), so that comparisons need not read the strings.
	localOf []uint32
}

func hashStr(kind uint64, s string) uint64 {
	h := uint64(14695981039346656037) ^ (kind * 0x9E3779B97F4A7C15)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

func mix(h, v uint64) uint64 {
	h ^= v + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
	h *= 1099511628211
	return h
}

// extract reads the keys of all cards (in parallel, in chunks so that the
// intermediate strings of only one chunk are alive) and interns them.
func extract(cards []Card, region string) *book {
	b := &book{f: make([]feat, len(cards)), st: newStrTable(len(cards) * 4)}
	workers := runtime.GOMAXPROCS(0)
	const chunk = 4096
	keys := make([]contacts.Keys, chunk)
	for lo := 0; lo < len(cards); lo += chunk {
		hi := min(lo+chunk, len(cards))
		var wg sync.WaitGroup
		next := make(chan int, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s := range next {
					for i := s; i < min(s+64, hi); i++ {
						keys[i-lo] = contacts.ExtractKeys(cards[i].Data, region)
					}
				}
			}()
		}
		for s := lo; s < hi; s += 64 {
			next <- s
		}
		close(next)
		wg.Wait()
		for i := lo; i < hi; i++ {
			b.f[i] = b.intern(&keys[i-lo])
			keys[i-lo] = contacts.Keys{}
		}
	}
	b.nick = make([]uint32, len(b.st.strs))
	for id := range b.nick {
		b.nick[id] = uint32(id)
		if b.st.kind[id] != kName {
			continue
		}
		if c, ok := nicknames[b.st.strs[id]]; ok {
			b.nick[id] = b.st.id(kName, c, false)
		}
	}
	return b
}

// Bounds on what one card contributes: a person's name has far fewer
// tokens, and comparisons are pairwise in these.
const (
	maxNameTokens = 16
	maxValues     = 8
	maxValueBytes = 64  // a name word, locality, organisation or title longer than this is cut
	maxWordBytes  = 24  // so is a street word or number, compared with every other
	maxEmailBytes = 254 // the longest address mail can carry (RFC 5321); longer ones are dropped
	maxPhoneBytes = 32  // E.164 has 15 digits at most; longer "numbers" are dropped
)

// short returns the values of vals no longer than n bytes.
func short(vals []string, n int) []string {
	out := vals[:0:0]
	for _, v := range vals {
		if len(v) <= n {
			out = append(out, v)
		}
	}
	return out
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cutAll applies cut to each of vals (a copy when any is cut).
func cutAll(vals []string, n int) []string {
	for i, v := range vals {
		if len(v) > n {
			out := slices.Clone(vals)
			for j := i; j < len(out); j++ {
				out[j] = cut(out[j], n)
			}
			return out
		}
	}
	return vals
}

func (b *book) intern(k *contacts.Keys) feat {
	var f feat
	st := b.st
	names := k.Names
	if len(names) > maxNameTokens {
		names = names[:maxNameTokens]
	}
	if len(names) > 0 {
		f.toks = make([]uint32, len(names))
		h := uint64(kName)
		for i, t := range names {
			f.toks[i] = st.id(kName, cut(t, maxValueBytes), true)
			h = mix(h, uint64(f.toks[i]))
		}
		f.nameKey = h
	}
	f.given = b.ids(kName, cutAll(k.Given, maxValueBytes), maxNameTokens, false)
	f.family = b.ids(kName, cutAll(k.Family, maxValueBytes), maxNameTokens, false)
	f.phones = b.ids(kPhone, short(k.Phones, maxPhoneBytes), maxValues, true)
	f.mobiles = b.ids(kPhone, short(k.Mobiles, maxPhoneBytes), maxValues, false)
	f.emails = b.ids(kEmail, short(k.Emails, maxEmailBytes), maxValues, true)
	for len(b.localOf) < len(st.strs) {
		b.localOf = append(b.localOf, 0)
	}
	for _, id := range append(f.phones[:len(f.phones):len(f.phones)], f.emails...) {
		switch {
		case st.firstName[id] == 0:
			st.firstName[id] = f.nameKey | 1
		case st.firstName[id] != f.nameKey|1:
			st.strangers[id]++
		}
	}
	for _, e := range f.emails {
		if at := strings.LastIndexByte(st.strs[e], '@'); at > 0 {
			l := st.id(kEmailLocal, st.strs[e][:at], true)
			if at >= 3 {
				b.localOf[e] = l
			}
		}
	}
	for i, a := range k.Addresses {
		if i == maxValues {
			break
		}
		h := hashStr(uint64(kAddr), a)
		if !slices.Contains(f.addrs, h) {
			f.addrs = append(f.addrs, h)
		}
	}
	for i, p := range k.Postal {
		if i == maxValues {
			break
		}
		f.post = append(f.post, postal{
			nums:  b.ids(kStreetNum, cutAll(p.Numbers, maxWordBytes), maxValues, false),
			words: b.ids(kStreetWord, cutAll(p.Words, maxWordBytes), maxValues, false),
			loc:   st.id(kLocality, cut(p.Locality, maxValueBytes), true),
			code:  st.id(kCode, cut(p.Code, maxValueBytes), true),
		})
	}
	f.org = st.id(kOrg, cut(k.Org, maxValueBytes), true)
	f.suffix = st.id(kName, k.Suffix, false)
	f.title = st.id(kTitle, cut(k.Title, maxValueBytes), true)
	if bd := k.Birthday; bd != "" {
		if bd[0] != '-' {
			f.bdY = uint16(atoi(bd[:4]))
			bd = "-" + bd[4:]
		}
		f.bdM, f.bdD = uint8(atoi(bd[2:4])), uint8(atoi(bd[5:7]))
	}
	return f
}

// ids interns up to max values of kind k, without repeats.
func (b *book) ids(k byte, vals []string, max int, count bool) []uint32 {
	if len(vals) == 0 {
		return nil
	}
	out := make([]uint32, 0, min(len(vals), max))
	for _, v := range vals {
		if len(out) == max {
			break
		}
		id := b.st.id(k, v, false)
		if id == 0 || slices.Contains(out, id) {
			continue
		}
		if count {
			b.st.freq[id]++
		}
		out = append(out, id)
	}
	return out
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// nicknames maps a folded short form to its folded canonical given name.
var nicknames = map[string]string{
	"bob": "robert", "rob": "robert", "bobby": "robert", "robbie": "robert",
	"bill": "william", "will": "william", "billy": "william", "willy": "william", "liam": "william",
	"liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "lisa": "elizabeth", "eliza": "elizabeth", "elisabeth": "elizabeth",
	"jim": "james", "jimmy": "james", "jamie": "james",
	"mike": "michael", "mick": "michael", "mikey": "michael",
	"dick": "richard", "rick": "richard", "rich": "richard", "ricky": "richard",
	"tom": "thomas", "tommy": "thomas",
	"tony": "anthony", "toni": "antonia",
	"dave": "david", "davy": "david",
	"dan": "daniel", "danny": "daniel",
	"chris": "christopher", "kit": "christopher",
	"joe": "joseph", "joey": "joseph",
	"ed": "edward", "eddie": "edward", "ted": "edward", "ned": "edward",
	"kate": "katherine", "katie": "katherine", "kathy": "katherine", "catherine": "katherine", "cathy": "katherine",
	"sue": "susan", "susie": "susan",
	"peggy": "margaret", "maggie": "margaret", "meg": "margaret",
	"jenny": "jennifer", "jen": "jennifer",
	"alex": "alexander", "sasha": "alexander", "sandy": "alexander",
	"andy": "andrew", "drew": "andrew",
	"matt": "matthew", "nick": "nicholas", "nico": "nicolas",
	"steve": "steven", "stephen": "steven",
	"sam": "samuel", "ben": "benjamin", "greg": "gregory",
	"pat": "patrick", "paddy": "patrick",
	"pepe": "jose", "paco": "francisco", "pancho": "francisco", "lola": "dolores", "nacho": "ignacio",
	"hans": "johannes", "sepp": "josef", "fritz": "friedrich",
	"jo": "johanna", "gigi": "giorgio", "beppe": "giuseppe",
	"manu": "emmanuel", "fred": "frederic", "greta": "margarethe",
}
