// Package gen generates realistic address books with known duplicates, to
// measure the quality and the speed of dedup.Find. It is deterministic: the
// same options give the same book.
package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/rolodav/rolodav/internal/dedup"
	"golang.org/x/text/unicode/norm"
)

// Options describe the book to generate.
type Options struct {
	Cards int    // number of cards
	Seed  uint64 // same seed, same book
	// DupRate is the share of persons with more than one card (default 0.25).
	DupRate float64
}

// Book is a generated address book and its truth.
type Book struct {
	Cards  []dedup.Card
	Person []int // Person[i] identifies the person of Cards[i]
	Region string
}

type culture struct {
	region  string
	cc      string // country calling code
	given   []string
	family  []string
	syl     []string // syllables for made-up family names
	suffix  []string
	streets []string
	domains []string
}

var cultures = []culture{
	{"FR", "33",
		[]string{"Jean", "Marie", "Émile", "Hélène", "François", "Chloé", "Léa", "Zoé", "Gaëlle", "Jérôme", "Noël", "Anaïs", "Benoît", "Céline", "Michel", "Nicolas", "Thomas", "Camille", "Aurélie", "René", "Agnès", "Loïc", "Stéphane", "Frédéric", "Élodie"},
		[]string{"Martin", "Bernard", "Dubois", "Lefèvre", "Lefebvre", "Mercier", "Girard", "Fournier", "Rousseau", "Lemaître", "Bézier", "Faure", "Chevalier", "Ménard", "Gauthier", "Perrot", "Boulanger", "Dufresne"},
		[]string{"Mar", "Bel", "Dou", "Che", "Lam", "Ber", "Vil", "Roch", "Mon", "Dur", "Gal", "Pér"},
		[]string{"ier", "and", "eau", "ot", "in", "elle", "et", "on", "ard"},
		[]string{"rue des Lilas", "avenue Victor Hugo", "boulevard Saint-Michel", "rue de la Paix", "chemin des Écoliers", "place du Marché"},
		[]string{"orange.fr", "free.fr", "gmail.com", "laposte.net", "wanadoo.fr"}},
	{"DE", "49",
		[]string{"Jürgen", "Günter", "Lukas", "Jörg", "Björn", "Anna", "Lena", "Sören", "Käthe", "Uwe", "Heike", "Sabine", "Matthias", "Stefan", "Ute", "Dörte", "Tobias", "Katrin", "Jonas", "Mia"},
		[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Schäfer", "Köhler", "Bäcker", "Größ", "Hoffmann", "Krüger", "Wagner", "Becker", "Schröder", "Zimmermann", "Neumann"},
		[]string{"Ham", "Stein", "Kirch", "Wal", "Lind", "Brunn", "Eich", "Rosen", "Hein", "Berg"},
		[]string{"mann", "berger", "er", "hof", "feld", "ler", "stein", "bach"},
		[]string{"Hauptstraße", "Bahnhofstr.", "Gartenweg", "Schillerstraße", "Lindenallee", "Am Markt"},
		[]string{"web.de", "gmx.de", "t-online.de", "googlemail.com", "posteo.de"}},
	{"ES", "34",
		[]string{"José", "María", "Jesús", "Ángel", "Lucía", "Sofía", "Martín", "Raúl", "Inés", "Andrés", "Begoña", "Iñaki", "Ramón", "Nuria", "Álvaro", "Carmen", "Pilar", "Joaquín", "Mónica", "Rubén"},
		[]string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Jiménez", "Muñoz", "Álvarez", "Ibáñez", "Núñez", "Castaño", "Ordóñez"},
		[]string{"Bar", "Cas", "Val", "Mor", "Gal", "Quin", "Ter", "Sal", "Arr", "Olm"},
		[]string{"ero", "illo", "ada", "edo", "ez", "ano", "ares", "uela"},
		[]string{"Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Plaza de España", "Paseo de Gracia"},
		[]string{"gmail.com", "hotmail.es", "yahoo.es", "telefonica.net"}},
	{"GB", "44",
		[]string{"John", "William", "Robert", "Elizabeth", "James", "Michael", "Richard", "Thomas", "Katherine", "Margaret", "David", "Susan", "Jennifer", "Andrew", "Oliver", "Emily", "Harry", "Charlotte", "George", "Amelia"},
		[]string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "O'Brien", "Hughes", "Edwards"},
		[]string{"Ash", "Brad", "Craw", "Fair", "Hart", "Pem", "Whit", "Stan", "Thorn", "Wood"},
		[]string{"ford", "ley", "ton", "well", "worth", "by", "ham", "field"},
		[]string{"High Street", "Station Rd", "Church Lane", "Victoria Road", "Park Ave", "Mill Lane"},
		[]string{"gmail.com", "btinternet.com", "hotmail.co.uk", "outlook.com"}},
	{"PL", "48",
		[]string{"Łukasz", "Paweł", "Małgorzata", "Agnieszka", "Wojciech", "Michał", "Zofia", "Grzegorz", "Katarzyna", "Bartłomiej", "Jędrzej", "Żaneta", "Krzysztof", "Ewa", "Tomasz"},
		[]string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski"},
		[]string{"Krzy", "Brzo", "Sob", "Wrob", "Mich", "Paw", "Gor", "Lis", "Dud", "Kacz"},
		[]string{"ski", "czyk", "owicz", "ak", "ek", "iński", "ewski"},
		[]string{"ul. Marszałkowska", "ul. Długa", "ul. Ogrodowa", "al. Jerozolimskie"},
		[]string{"wp.pl", "onet.pl", "interia.pl", "gmail.com"}},
	{"TR", "90",
		[]string{"Çağla", "Gökhan", "Şule", "Özge", "Ümit", "İbrahim", "Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Hüseyin", "Zeynep", "Barış"},
		[]string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç"},
		[]string{"Kar", "Ak", "Tek", "Bay", "Er", "Gül", "Yal", "Ses"},
		[]string{"oğlu", "can", "tan", "er", "kaya", "soy"},
		[]string{"Atatürk Caddesi", "İstiklal Caddesi", "Cumhuriyet Sokak"},
		[]string{"gmail.com", "hotmail.com", "yandex.com.tr"}},
	{"VN", "84",
		[]string{"Thảo", "Hương", "Dũng", "Tuấn", "Phương", "Quỳnh", "Hùng", "Ngọc", "Minh", "Lan", "Anh", "Đức"},
		[]string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"},
		[]string{"Ngô", "Dương", "Lý", "Trịnh", "Đinh", "Lâm", "Mai", "Tô"},
		[]string{""},
		[]string{"Đường Lê Lợi", "Phố Huế", "Đường Trần Hưng Đạo"},
		[]string{"gmail.com", "yahoo.com.vn"}},
}

var nickOf = map[string]string{
	"Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "James": "Jim", "Michael": "Mike",
	"Richard": "Rick", "Thomas": "Tom", "Katherine": "Kate", "Margaret": "Maggie", "David": "Dave",
	"Susan": "Sue", "Jennifer": "Jenny", "Andrew": "Andy", "José": "Pepe",
}

type person struct {
	cult             *culture
	given, family    string
	middle           string
	phones           []string // digits of national significant number, with country code
	emails           []string
	bdY, bdM, bdD    int
	street, postcode string
	org              string
}

type gener struct {
	r      *rand.Rand
	uidN   int
	orgs   []string
	emails map[string]bool // addresses given out: an address belongs to one person
}

// Generate makes a book of about opt.Cards cards (exactly opt.Cards).
func Generate(opt Options) Book {
	if opt.DupRate <= 0 {
		opt.DupRate = 0.25
	}
	g := &gener{r: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5eed)), emails: map[string]bool{}}
	for i := 0; i < 200+opt.Cards/50; i++ {
		g.orgs = append(g.orgs, g.madeUpWord(&cultures[g.r.IntN(len(cultures))])+[]string{" SA", " GmbH", " Ltd", " SARL", " S.L.", ""}[g.r.IntN(6)])
	}
	bk := Book{Region: "FR"}
	var persons []*person
	switchboard := "33" + "1" + "40506070"
	pid := 0
	for len(bk.Cards) < opt.Cards {
		var ps []*person
		switch x := g.r.Float64(); {
		case x < 0.10 && len(persons) > 0: // family: shared surname, landline, address
			base := g.newPerson(nil, "", "")
			n := 2 + g.r.IntN(3)
			land := g.phone(base.cult, true)
			for k := 0; k < n; k++ {
				p := g.newPerson(base.cult, "", base.family)
				p.street, p.postcode = base.street, base.postcode
				p.phones = append([]string{land}, p.phones[:min(1, len(p.phones))]...)
				dupGiven := false
				for _, q := range ps {
					dupGiven = dupGiven || q.given == p.given
				}
				if !dupGiven {
					ps = append(ps, p)
				}
			}
		case x < 0.15 && len(persons) > 0: // homonym of someone
			o := persons[g.r.IntN(len(persons))]
			p := g.newPerson(o.cult, o.given, o.family)
			ps = append(ps, p)
		default:
			ps = append(ps, g.newPerson(nil, "", ""))
		}
		for _, p := range ps {
			if g.r.Float64() < 0.03 { // a colleague on the company switchboard
				p.phones = append(p.phones, switchboard)
			}
			persons = append(persons, p)
			n := 1
			if g.r.Float64() < opt.DupRate {
				n = 2
				for n < 6 && g.r.Float64() < 0.3 {
					n++
				}
			}
			var first string
			for k := 0; k < n && len(bk.Cards) < opt.Cards; k++ {
				var data string
				if k > 0 && g.r.Float64() < 0.1 {
					data = first // identical copy (new UID)
				} else {
					data = g.card(p, k > 0)
				}
				if k == 0 {
					first = data
				}
				g.uidN++
				uid := fmt.Sprintf("%08x-%04x", g.r.Uint32(), g.uidN)
				bk.Cards = append(bk.Cards, dedup.Card{UID: uid, Data: []byte(strings.Replace(data, "UID:\r\n", "UID:"+uid+"\r\n", 1))})
				bk.Person = append(bk.Person, pid)
			}
			pid++
		}
	}
	return bk
}

func (g *gener) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gener) madeUpWord(c *culture) string {
	return g.pick(c.syl) + g.pick(c.suffix)
}

// newPerson makes a person of culture c (nil: any) named given family
// (picked when empty).
func (g *gener) newPerson(c *culture, given, family string) *person {
	if c == nil {
		c = &cultures[g.weightedCulture()]
	}
	if given == "" {
		given = g.pick(c.given)
	}
	p := &person{cult: c, given: given, family: family}
	switch {
	case family != "":
	case g.r.Float64() < 0.5:
		p.family = g.pick(c.family)
	default:
		p.family = g.madeUpWord(c)
		if g.r.Float64() < 0.5 {
			p.family += strings.ToLower(g.madeUpWord(c))
		}
	}
	if g.r.Float64() < 0.1 {
		p.middle = g.pick(c.given)
	}
	p.phones = []string{g.phone(c, false)}
	if g.r.Float64() < 0.3 {
		p.phones = append(p.phones, g.phone(c, true))
	}
	fold := asciiFold(p.given)
	fam := asciiFold(p.family)
	switch g.r.IntN(3) {
	case 0:
		p.emails = []string{fold + "." + fam + "@" + g.pick(c.domains)}
	case 1:
		p.emails = []string{fold[:1] + fam + fmt.Sprint(g.r.IntN(100)) + "@" + g.pick(c.domains)}
	default:
		p.emails = []string{fam + "." + fold + fmt.Sprint(g.r.IntN(1000)) + "@" + g.pick(c.domains)}
	}
	if g.r.Float64() < 0.3 {
		p.emails = append(p.emails, fold+"@"+strings.ToLower(strings.Fields(g.pick(g.orgs))[0])+".com")
	}
	for i, e := range p.emails {
		for g.emails[e] {
			at := strings.IndexByte(e, '@')
			e = e[:at] + fmt.Sprint(g.r.IntN(10)) + e[at:]
		}
		g.emails[e] = true
		p.emails[i] = e
	}
	if g.r.Float64() < 0.6 {
		p.bdY, p.bdM, p.bdD = 1940+g.r.IntN(65), 1+g.r.IntN(12), 1+g.r.IntN(28)
	}
	if g.r.Float64() < 0.6 {
		p.street = fmt.Sprintf("%d %s", 1+g.r.IntN(150), g.pick(c.streets))
		p.postcode = fmt.Sprintf("%05d", g.r.IntN(99999))
	}
	if g.r.Float64() < 0.4 {
		p.org = g.pick(g.orgs)
	}
	return p
}

func (g *gener) weightedCulture() int {
	x := g.r.IntN(100)
	switch {
	case x < 35:
		return 0
	case x < 50:
		return 1
	case x < 62:
		return 2
	case x < 80:
		return 3
	case x < 88:
		return 4
	case x < 94:
		return 5
	default:
		return 6
	}
}

// phone returns country code + national significant number.
func (g *gener) phone(c *culture, land bool) string {
	d := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
		return b.String()
	}
	switch c.region {
	case "FR":
		if land {
			return "33" + fmt.Sprint(1+g.r.IntN(5)) + d(8)
		}
		return "33" + fmt.Sprint(6+g.r.IntN(2)) + d(8)
	case "DE":
		if land {
			return "49" + "30" + d(8)
		}
		return "49" + "15" + d(9)
	case "ES":
		return "34" + "6" + d(8)
	case "GB":
		if land {
			return "44" + "20" + d(8)
		}
		return "44" + "7" + d(9)
	case "PL":
		return "48" + "5" + d(8)
	case "TR":
		return "90" + "5" + d(9)
	default:
		return "84" + "9" + d(8)
	}
}

// formatPhone writes a number in one of the forms people type.
func (g *gener) formatPhone(p string) string {
	fr := strings.HasPrefix(p, "33")
	nat := p[2:]
	spaced := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if i > 0 && (len(s)-i)%2 == 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	switch x := g.r.IntN(5); {
	case fr && x == 0:
		return "0" + nat
	case fr && x == 1:
		return spaced("0" + nat)
	case fr && x == 2:
		return strings.ReplaceAll(spaced("0"+nat), " ", ".")
	case x == 3:
		return "+" + p[:2] + " " + spaced(nat)
	case x == 4:
		return "00" + p[:2] + " " + nat
	default:
		return "+" + p
	}
}

func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ß':
			b.WriteString("ss")
		case r == 'ł' || r == 'Ł':
			b.WriteByte('l')
		case r == 'ı':
			b.WriteByte('i')
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case r == '\'':
		case r == ' ' || r == '-':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func dropAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// typo makes one edit in s, past the first letter.
func (g *gener) typo(s string) string {
	r := []rune(s)
	if len(r) < 4 {
		return s
	}
	i := 1 + g.r.IntN(len(r)-2)
	switch g.r.IntN(4) {
	case 0: // transpose
		r[i], r[i+1] = r[i+1], r[i]
	case 1: // delete
		r = append(r[:i], r[i+1:]...)
	case 2: // double
		r = append(r[:i+1], r[i:]...)
	default: // substitute
		r[i] = rune('a' + g.r.IntN(26))
	}
	return string(r)
}

var escaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`)

func esc(s string) string { return escaper.Replace(s) }

// card writes one card of p; a duplicate (dup) is distorted.
func (g *gener) card(p *person, dup bool) string {
	given, family, middle := p.given, p.family, p.middle
	if dup {
		if g.r.Float64() < 0.25 {
			if g.r.Float64() < 0.5 {
				given = g.typo(given)
			} else {
				family = g.typo(family)
			}
		}
		if g.r.Float64() < 0.25 {
			given, family, middle = dropAccents(given), dropAccents(family), dropAccents(middle)
		}
		if n, ok := nickOf[p.given]; ok && g.r.Float64() < 0.3 {
			given = n
		}
		if g.r.Float64() < 0.05 {
			given, family = strings.ToUpper(given), strings.ToUpper(family)
		}
		if g.r.Float64() < 0.5 {
			middle = ""
		}
	}
	v4 := g.r.IntN(2) == 0
	var b strings.Builder
	w := func(s string) { b.WriteString(s); b.WriteString("\r\n") }
	w("BEGIN:VCARD")
	if v4 {
		w("VERSION:4.0")
	} else {
		w("VERSION:3.0")
	}
	w("UID:")
	full := given + " " + family
	if middle != "" {
		full = given + " " + middle + " " + family
	}
	switch g.r.IntN(6) {
	case 0:
		full = family + ", " + given
	case 1:
		full = family + " " + given
	}
	w("FN:" + esc(full))
	if !dup || g.r.Float64() < 0.7 {
		w("N:" + esc(family) + ";" + esc(given) + ";" + esc(middle) + ";;")
	}
	keep := func(pr float64) bool { return !dup || g.r.Float64() < pr }
	any := false
	for i, ph := range p.phones {
		if keep(0.75) || (i == len(p.phones)-1 && !any && len(p.emails) == 0) {
			typ := "CELL"
			if i > 0 {
				typ = "HOME"
			}
			w("TEL;TYPE=" + typ + ":" + g.formatPhone(ph))
			any = true
		}
	}
	for i, e := range p.emails {
		if keep(0.7) || (i == len(p.emails)-1 && !any) {
			switch g.r.IntN(4) {
			case 0:
				e = strings.ToUpper(e[:1]) + e[1:]
			case 1:
				e = strings.Replace(e, "@gmail.com", "@googlemail.com", 1)
			case 2:
				e = strings.ToUpper(e)
			}
			w("EMAIL;TYPE=INTERNET:" + e)
			any = true
		}
	}
	if p.bdY != 0 && keep(0.7) {
		switch g.r.IntN(4) {
		case 0:
			w(fmt.Sprintf("BDAY:%04d%02d%02d", p.bdY, p.bdM, p.bdD))
		case 1:
			if v4 {
				w(fmt.Sprintf("BDAY:--%02d%02d", p.bdM, p.bdD))
			} else {
				w(fmt.Sprintf("BDAY:1604-%02d-%02d", p.bdM, p.bdD))
			}
		default:
			w(fmt.Sprintf("BDAY:%04d-%02d-%02d", p.bdY, p.bdM, p.bdD))
		}
	}
	if p.street != "" && keep(0.6) {
		w("ADR;TYPE=HOME:;;" + esc(p.street) + ";City;;" + p.postcode + ";")
	}
	if p.org != "" && keep(0.6) {
		w("ORG:" + esc(p.org))
	}
	w("END:VCARD")
	return b.String()
}
