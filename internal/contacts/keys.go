package contacts

import (
	"bytes"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	"github.com/rolodav/rolodav/internal/contentline"
)

// Keys are the normalised values of a card used to find duplicates. All
// strings are already normalised; slices hold no duplicates.
type Keys struct {
	Names     []string // folded name tokens (from N, else FN), sorted
	Family    []string // folded family-name tokens from N, else FN's last word (or words before a comma)
	Given     []string // folded given and additional name tokens from N, else FN's other words
	Phones    []string // E.164 ("+33612345678"), or the bare digits when unparseable
	Mobiles   []string // those of Phones marked as a mobile (TYPE=CELL, iPhone)
	Emails    []string // lower-case, googlemail.com → gmail.com
	Birthday  string   // "YYYY-MM-DD" or "--MM-DD", "" when absent or unreadable
	Org       string   // folded tokens of the first ORG component, joined by spaces
	Addresses []string // NormalizeAddress(street, postcode) of each ADR
	Postal    []Postal // the parts of each ADR, for comparisons finer than equality
	Title     string   // folded tokens of TITLE (a job), joined by spaces
	Suffix    string   // a generational suffix of the name ("jr", "sr", "iii"), from N or FN
}

// Postal is one ADR taken apart the way people vary it: the numbers and the
// words of its street lines (extended address and street, in either order:
// both are often swapped), the locality and the postcode.
type Postal struct {
	Numbers  []string // words of the street lines that start with a digit ("12", "7a"), in order
	Words    []string // other folded words, street types spelled one way
	Locality string   // folded locality tokens, joined by spaces
	Code     string   // postcode letters and digits, upper case
}

// EachProperty calls fn for every well-formed content line of data
// (unfolded) with the upper-case property name (group removed), the raw
// parameters (each introduced by ';') and the raw value, still escaped
// (structured values must be split before unescaping). Lines that cannot be
// parsed are skipped. fn returns false to stop. The slices are only valid
// during the call.
func EachProperty(data []byte, fn func(name string, params, value []byte) bool) {
	s := contentline.NewScanner(data)
	var buf []byte
	for {
		l, ok := s.Next()
		if !ok {
			return
		}
		line := s.Text(l, buf)
		if l.Folded {
			buf = line
		}
		p, f := contentline.Parse(line, vcardSyntax)
		if f.Code != contentline.OK {
			continue
		}
		if !fn(upperName(p.Name), p.Params, p.Value) {
			return
		}
	}
}

func upperName(b []byte) string {
	switch {
	case asciiEqualFold(b, "FN"):
		return "FN"
	case asciiEqualFold(b, "N"):
		return "N"
	case asciiEqualFold(b, "TEL"):
		return "TEL"
	case asciiEqualFold(b, "EMAIL"):
		return "EMAIL"
	case asciiEqualFold(b, "BDAY"):
		return "BDAY"
	case asciiEqualFold(b, "ORG"):
		return "ORG"
	case asciiEqualFold(b, "ADR"):
		return "ADR"
	case asciiEqualFold(b, "UID"):
		return "UID"
	}
	return strings.ToUpper(string(b))
}

// MaxKeyValues bounds the TEL, EMAIL and ADR properties ExtractKeys reads
// from one card: the first ones, in the card's order. Matching compares
// values pairwise, so a card of 100 000 phones must not count them all;
// 50 is far more than a person's card holds (a dozen is a lot), and
// copies of one card agree on their first values.
const MaxKeyValues = 50

// ExtractKeys reads the matching keys of a card. region is the default
// region (ISO 3166 code such as "FR") for phone numbers written without a
// country code. It never fails: what cannot be read is left out. Of each
// of TEL, EMAIL and ADR, only the first MaxKeyValues properties count.
func ExtractKeys(data []byte, region string) Keys {
	var k Keys
	var fn string
	hasN := false
	var tels, emails, adrs int // properties read
	EachProperty(data, func(name string, params, value []byte) bool {
		switch name {
		case "FN":
			if fn == "" {
				fn = unescapeText(value)
			}
		case "N":
			if hasN {
				break
			}
			parts := splitStructured(string(value))
			var fam, giv []string
			for i, part := range parts {
				if i > 2 {
					break
				}
				toks := NameTokens(unescapeText([]byte(part)))
				if i == 0 {
					fam = append(fam, toks...)
				} else {
					giv = append(giv, toks...)
				}
			}
			if len(fam)+len(giv) > 0 {
				hasN = true
				k.Family, k.Given = fam, giv
			}
			if len(parts) > 4 {
				k.Suffix = generation(tokens(unescapeText([]byte(parts[4])), false))
			}
		case "TEL":
			if tels++; tels > MaxKeyValues {
				break
			}
			v := strings.TrimSpace(unescapeText(value))
			if len(v) > 4 && strings.EqualFold(v[:4], "tel:") {
				v = v[4:]
			}
			if p := NormalizePhone(v, region); p != "" {
				k.Phones = appendUnique(k.Phones, p)
				if mobile(params) {
					k.Mobiles = appendUnique(k.Mobiles, p)
				}
			}
		case "EMAIL":
			if emails++; emails > MaxKeyValues {
				break
			}
			if e := NormalizeEmail(unescapeText(value)); e != "" {
				k.Emails = appendUnique(k.Emails, e)
			}
		case "BDAY":
			if k.Birthday == "" {
				k.Birthday = NormalizeBirthday(unescapeText(value))
			}
		case "TITLE":
			if k.Title == "" {
				k.Title = strings.Join(NameTokens(unescapeText(value)), " ")
			}
		case "ORG":
			if k.Org == "" {
				parts := splitStructured(string(value))
				k.Org = strings.Join(NameTokens(unescapeText([]byte(parts[0]))), " ")
			}
		case "ADR":
			if adrs++; adrs > MaxKeyValues {
				break
			}
			parts := splitStructured(string(value))
			var street, code string
			if len(parts) > 2 {
				street = unescapeText([]byte(parts[2]))
			}
			if len(parts) > 5 {
				code = unescapeText([]byte(parts[5]))
			}
			if a := NormalizeAddress(street, code); a != "" {
				k.Addresses = appendUnique(k.Addresses, a)
			}
			if p, ok := postal(parts); ok {
				k.Postal = append(k.Postal, p)
			}
		}
		return true
	})
	if hasN {
		k.Names = append(append([]string(nil), k.Family...), k.Given...)
	} else if !placeholder(fn) {
		k.Names = NameTokens(fn)
		k.Family, k.Given = splitFN(fn)
	}
	if k.Suffix == "" {
		k.Suffix = generation(tokens(fn, false))
	}
	k.Names = sortUnique(k.Names)
	return k
}

// mobile reports whether TEL parameters mark a mobile phone: a person's own,
// where a home line is a household's.
func mobile(params []byte) bool {
	p := bytes.ToLower(params)
	return bytes.Contains(p, []byte("cell")) || bytes.Contains(p, []byte("iphone")) || bytes.Contains(p, []byte("mobile"))
}

// generations are the suffixes that tell a father from a son of one name.
var generations = map[string]bool{"jr": true, "sr": true, "junior": true, "senior": true, "ii": true, "iii": true, "iv": true}

// generation returns the first of toks that is a generational suffix.
func generation(toks []string) string {
	for _, t := range toks {
		if t == "junior" {
			return "jr"
		}
		if t == "senior" {
			return "sr"
		}
		if generations[t] {
			return t
		}
	}
	return ""
}

// placeholder reports whether a formatted name stands for no name at all,
// as some apps write one in brackets ("(no name)", "[unknown]") for a card
// whose N is empty.
func placeholder(fn string) bool {
	fn = strings.TrimSpace(fn)
	return len(fn) >= 2 && (fn[0] == '(' && fn[len(fn)-1] == ')' || fn[0] == '[' && fn[len(fn)-1] == ']')
}

// splitFN guesses the family and given names of a formatted name: "Family,
// Given" or "Given … Family".
func splitFN(fn string) (family, given []string) {
	if i := strings.IndexByte(fn, ','); i >= 0 {
		return NameTokens(fn[:i]), NameTokens(fn[i+1:])
	}
	toks := NameTokens(fn)
	if len(toks) < 2 {
		return nil, toks
	}
	return toks[len(toks)-1:], toks[:len(toks)-1]
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func sortUnique(list []string) []string {
	if len(list) < 2 {
		return list
	}
	sort.Strings(list)
	out := list[:1]
	for _, s := range list[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

// nameStopWords are titles and suffixes that say nothing about identity.
var nameStopWords = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "prof": true,
	"jr": true, "sr": true, "mme": true, "mlle": true, "herr": true, "frau": true,
}

// NameTokens folds s (FoldName) and splits it into tokens at anything that
// is not a letter or a digit; apostrophes are dropped ("O'Brien" → "obrien")
// and titles such as "Dr" are removed. The order of s is kept.
func NameTokens(s string) []string { return tokens(s, true) }

func tokens(s string, stop bool) []string {
	f := FoldName(s)
	var toks []string
	start := -1
	for i, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = appendToken(toks, f[start:i], stop)
			start = -1
		}
	}
	if start >= 0 {
		toks = appendToken(toks, f[start:], stop)
	}
	return toks
}

func appendToken(toks []string, t string, stop bool) []string {
	if stop && nameStopWords[t] {
		return toks
	}
	return append(toks, t)
}

// foldSpecial maps letters that do not decompose into a base letter and a
// combining mark.
var foldSpecial = map[rune]string{
	'ß': "ss", 'ø': "o", 'æ': "ae", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ŀ': "l",
}

// FoldName returns s case-folded with accents removed ("Émile Ørsted" →
// "emile orsted"); apostrophes are deleted.
func FoldName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == '\'' {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' || r == 'ʼ' {
			continue
		}
		r = unicode.ToLower(r)
		if sp, ok := foldSpecial[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NormalizePhone returns raw in E.164 form. Numbers written with a country
// code ("+44 20…", "0044 20…") ignore region; others are read as numbers of
// region. When the number cannot be parsed its digits are returned (with a
// leading '+' if it had one); "" when it has fewer than 3 digits.
func NormalizePhone(raw, region string) string {
	var digits []byte
	plus := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case '0' <= c && c <= '9':
			digits = append(digits, c)
		case c == '+' && len(digits) == 0:
			plus = true
		case c == ';' || c == 'x' || c == 'X' || c == ',':
			i = len(raw) // extension or pause: stop
		}
	}
	if len(digits) < 3 {
		return ""
	}
	if region == "" {
		region = "ZZ"
	}
	// Only the digits (and the '+') are parsed: the separators are already
	// gone, which spares the library its slow extension and punctuation
	// handling.
	clean := string(digits)
	if plus {
		clean = "+" + clean
	}
	num, err := phonenumbers.Parse(clean, strings.ToUpper(region))
	if err == nil && num.GetNationalNumber() != 0 {
		if e := phonenumbers.Format(num, phonenumbers.E164); len(e) > 2 {
			return e
		}
	}
	return clean
}

// PhoneRegions are the regions NormalizePhone can read a number written
// without a country code as a number of: ISO 3166 alpha-2 codes ("DE"),
// sorted.
func PhoneRegions() []string {
	return slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
}

// NormalizeEmail lower-cases an address, strips a "mailto:" prefix and
// surrounding spaces or angle brackets, and maps googlemail.com to
// gmail.com. It returns "" for a value without '@'.
func NormalizeEmail(raw string) string {
	e := strings.TrimSpace(raw)
	if len(e) > 7 && strings.EqualFold(e[:7], "mailto:") {
		e = e[7:]
	}
	e = strings.Trim(e, "<> \t")
	e = strings.ToLower(e)
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return ""
	}
	if e[at+1:] == "googlemail.com" {
		e = e[:at+1] + "gmail.com"
	}
	return e
}

// NormalizeBirthday reads the date forms of vCard 3.0 and 4.0 ("1980-05-17",
// "19800517", "1980-05-17T00:00:00Z", "--0517", "--05-17") and returns
// "YYYY-MM-DD", or "--MM-DD" without a year (Apple's year 1604 counts as
// none). It returns "" for anything else.
func NormalizeBirthday(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.IndexAny(s, "Tt "); i >= 0 {
		s = s[:i]
	}
	year := ""
	var md string
	switch {
	case strings.HasPrefix(s, "--"):
		md = strings.ReplaceAll(s[2:], "-", "")
	default:
		d := strings.ReplaceAll(s, "-", "")
		if len(d) != 8 {
			return ""
		}
		year, md = d[:4], d[4:]
	}
	if len(md) != 4 || !allDigits(year) || !allDigits(md) {
		return ""
	}
	m := (md[0]-'0')*10 + md[1] - '0'
	dd := (md[2]-'0')*10 + md[3] - '0'
	if m < 1 || m > 12 || dd < 1 || dd > 31 {
		return ""
	}
	if year == "1604" || year == "0000" {
		year = ""
	}
	if year == "" {
		return "--" + md[:2] + "-" + md[2:]
	}
	return year + "-" + md[:2] + "-" + md[2:]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// streetWords maps common street-type abbreviations to one spelling.
var streetWords = map[string]string{
	"st": "street", "str": "strasse", "straße": "strasse", "rd": "road", "ave": "avenue",
	"av": "avenue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard",
	"dr": "drive", "ln": "lane", "pl": "place", "sq": "square", "cres": "crescent",
	"ct": "court", "hwy": "highway", "pde": "parade", "tce": "terrace", "cct": "circuit",
}

// postal takes the components of an ADR value apart; ok is false when it
// holds no street, locality or postcode.
func postal(parts []string) (p Postal, ok bool) {
	part := func(i int) string {
		if i < len(parts) {
			return unescapeText([]byte(parts[i]))
		}
		return ""
	}
	for _, line := range [2]string{part(1), part(2)} {
		for _, t := range tokens(line, false) {
			switch {
			case t[0] >= '0' && t[0] <= '9':
				p.Numbers = append(p.Numbers, t)
			default:
				if w, ok := streetWords[t]; ok {
					t = w
				}
				p.Words = append(p.Words, t)
			}
		}
	}
	if len(p.Numbers) > 8 {
		p.Numbers = p.Numbers[:8]
	}
	if len(p.Words) > 8 {
		p.Words = p.Words[:8]
	}
	p.Locality = strings.Join(tokens(part(3), false), " ")
	if len(p.Locality) > 64 {
		p.Locality = p.Locality[:64] // a place name is far shorter; bounds comparisons
	}
	var code strings.Builder
	for _, r := range strings.ToUpper(part(5)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			code.WriteRune(r)
		}
	}
	p.Code = code.String()
	return p, len(p.Numbers)+len(p.Words) > 0 || p.Locality != "" || p.Code != ""
}

// NormalizeAddress returns a key for a street and a postcode: folded street
// tokens (common abbreviations expanded) and the postcode letters and digits
// in upper case, separated by '|'. It returns "" when both are empty.
func NormalizeAddress(street, postcode string) string {
	var b bytes.Buffer
	for i, t := range tokens(street, false) {
		if w, ok := streetWords[t]; ok {
			t = w
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	streetLen := b.Len()
	b.WriteByte('|')
	for _, r := range strings.ToUpper(postcode) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	if streetLen == 0 && b.Len() == 1 {
		return ""
	}
	return b.String()
}
