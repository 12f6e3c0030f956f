package dedup

import (
	"runtime"
	"slices"
	"sync"

	"github.com/rolodav/rolodav/contacts"
)

// feat is the compact form of one card kept while matching: interned name
// tokens and 64-bit hashes of the other normalised values. The raw card is
// not kept.
type feat struct {
	toks    []uint32 // name token ids, in the sorted order of contacts.Keys.Names
	phones  []uint64
	emails  []uint64
	addrs   []uint64
	org     uint64
	nameKey uint64 // hash of the sorted tokens, 0 without a name
	given   uint32 // 1 + token id of the first given name of N, 0 without
	bdMD    uint16 // month*32+day, 0 when unknown
	bdY     uint16 // year, 0 when unknown
}

// book is the feature table of all cards plus the frequencies used to weigh
// agreement by rarity.
type book struct {
	f       []feat
	tokStr  []string // token id → folded token
	tokNick []uint32 // token id → id of its canonical nickname form (itself when none)
	tokFreq []uint32
	freq    map[uint64]uint32 // phone, e-mail, address, org and name-key hash → number of cards
}

const (
	kindPhone uint64 = iota + 1
	kindEmail
	kindAddr
	kindOrg
	kindName
	kindPrefix
	kindBday
)

// fnv-1a, seeded with a kind so that equal strings of different kinds differ.
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
	b := &book{
		f:    make([]feat, len(cards)),
		freq: make(map[uint64]uint32, len(cards)),
	}
	tokID := map[string]uint32{}
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
			b.f[i] = b.intern(&keys[i-lo], tokID)
			keys[i-lo] = contacts.Keys{}
		}
	}
	b.tokNick = make([]uint32, len(b.tokStr))
	for id, s := range b.tokStr {
		b.tokNick[id] = uint32(id)
		if c, ok := nicknames[s]; ok {
			if cid, ok := tokID[c]; ok {
				b.tokNick[id] = cid
			} else {
				// The canonical form is not in the book: give the
				// variants a shared id beyond the token range.
				cid = uint32(len(b.tokStr)) + uint32(len(tokID))
				tokID[c] = cid
				b.tokNick[id] = cid
			}
		}
	}
	return b
}

// maxNameTokens bounds the name tokens of a card that count: subset tests
// compare them pairwise. A person's name has far fewer.
const maxNameTokens = 16

func (b *book) intern(k *contacts.Keys, tokID map[string]uint32) feat {
	var f feat
	names := k.Names
	if len(names) > maxNameTokens {
		names = names[:maxNameTokens]
	}
	if len(names) > 0 {
		f.toks = make([]uint32, len(names))
		h := uint64(kindName)
		for i, t := range names {
			id, ok := tokID[t]
			if !ok {
				id = uint32(len(b.tokStr))
				tokID[t] = id
				b.tokStr = append(b.tokStr, t)
				b.tokFreq = append(b.tokFreq, 0)
			}
			b.tokFreq[id]++
			f.toks[i] = id
			h = mix(h, uint64(id)+1)
		}
		f.nameKey = h
		b.freq[h]++
		if len(k.Given) > 0 {
			if id, ok := tokID[k.Given[0]]; ok {
				f.given = id + 1
			}
		}
	}
	f.phones = b.hashes(kindPhone, k.Phones)
	f.emails = b.hashes(kindEmail, k.Emails)
	f.addrs = b.hashes(kindAddr, k.Addresses)
	if k.Org != "" {
		f.org = hashStr(kindOrg, k.Org)
		b.freq[f.org]++
	}
	if bd := k.Birthday; bd != "" {
		if bd[0] != '-' {
			f.bdY = uint16(atoi(bd[:4]))
			bd = "-" + bd[4:]
		}
		f.bdMD = uint16(atoi(bd[2:4])*32 + atoi(bd[5:7]))
	}
	return f
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func (b *book) hashes(kind uint64, vals []string) []uint64 {
	if len(vals) == 0 {
		return nil
	}
	out := make([]uint64, 0, len(vals))
	for _, v := range vals {
		h := hashStr(kind, v)
		if slices.Contains(out, h) {
			continue
		}
		out = append(out, h)
		b.freq[h]++
	}
	return out
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
