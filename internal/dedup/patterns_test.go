package dedup

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// bookWith is a small book of strangers (so that the model has people to
// learn from) plus the cards under test.
func bookWith(cards ...Card) []Card {
	given := []string{"Anna", "Bruno", "Clara", "Dario", "Elena", "Fabio", "Greta", "Hugo", "Ilse", "Jonas"}
	family := []string{"Adler", "Brandt", "Conti", "Dufour", "Eriksen", "Ferro", "Galli", "Horvat", "Ivanov", "Jensen"}
	var out []Card
	for i := 0; i < 100; i++ {
		g, f := given[i%10], family[(i/10)%10]
		out = append(out, vc(fmt.Sprintf("s%d", i),
			fmt.Sprintf("FN:%s %s", g, f), fmt.Sprintf("N:%s;%s;;;", f, g),
			fmt.Sprintf("BDAY:19%02d-%02d-%02d", 40+i%50, 1+i%12, 1+i%28),
			fmt.Sprintf("ADR:;;%d Via Roma %d;Milano;;%05d;", i, i, 20100+i)))
	}
	return append(out, cards...)
}

// groupOf returns the group holding uid, or nil.
func groupOf(groups []Group, uid string) *Group {
	for i := range groups {
		if slices.Contains(groups[i].UIDs, uid) {
			return &groups[i]
		}
	}
	return nil
}

// TestFindPatterns: the misses the issue lists, each obvious to a person
// looking at the two cards, are found.
func TestFindPatterns(t *testing.T) {
	cases := []struct {
		name string
		a, b Card
	}{
		{"names swapped and a typo, same e-mail and birthday",
			vc("a", "FN:Maria Kowalski", "N:Kowalski;Maria;;;", "EMAIL:mk@example.org", "BDAY:1971-06-24"),
			vc("b", "FN:Kowalsky Maria", "N:Maria;Kowalsky;;;", "EMAIL:mk@example.org", "BDAY:1971-06-24")},
		{"street written two ways, nothing else",
			vc("a", "FN:Tom Baker", "N:Baker;Tom;;;", "ADR:;;12 harbour st;Leith;;EH6 6JJ;"),
			vc("b", "FN:Tom Baker", "N:Baker;Tom;;;", "ADR:;;12 harbor street;Leith;;EH6 6JJ;")},
		{"nickname and a family typo, same address and birthday",
			vc("a", "FN:Will Thornbury", "N:Thornbury;Will;;;", "ADR:;;3 Mill Lane;Bath;;BA1 1AA;", "BDAY:1960-02-03"),
			vc("b", "FN:William Thornbery", "N:Thornbery;William;;;", "ADR:;;3 Mill Lane;Bath;;BA1 1AA;", "BDAY:1960-02-03")},
		{"birthday one digit off",
			vc("a", "FN:Robert Allenby", "N:Allenby;Robert;;;", "BDAY:1971-06-24", "ADR:;;8 Elm Road;York;;YO1 7HH;"),
			vc("b", "FN:Robert Allenby", "N:Allenby;Robert;;;", "BDAY:1971-05-24", "ADR:;;8 Elm Road;York;;YO1 7HH;")},
		{"day and month swapped",
			vc("a", "FN:Odile Vasseur", "N:Vasseur;Odile;;;", "BDAY:1980-03-04", "ADR:;;1 rue Haute;Nantes;;44000;"),
			vc("b", "FN:Odile Vasseur", "N:Vasseur;Odile;;;", "BDAY:1980-04-03", "ADR:;;1 rue Haute;Nantes;;44000;")},
		{"same e-mail, one card holds only a first name",
			vc("a", "FN:Priya Raman", "N:Raman;Priya;;;", "EMAIL:priya.r@example.net"),
			vc("b", "FN:Priya", "N:;Priya;;;", "EMAIL:priya.r@example.net")},
	}
	for _, tc := range cases {
		g, err := Find(bookWith(tc.a, tc.b), Options{Region: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		ga := groupOf(g, "a")
		if ga == nil || !slices.Contains(ga.UIDs, "b") {
			t.Errorf("%s: not grouped: %+v", tc.name, ga)
			continue
		}
		if len(ga.Why) == 0 {
			t.Errorf("%s: no reasons", tc.name)
		}
	}
}

// TestFindAutoIsSafe: what a household, namesakes at one company or a
// father and son share never makes an auto group, nor does a single value
// in conflict, even nearly.
func TestFindAutoIsSafe(t *testing.T) {
	cases := []struct {
		name string
		a, b Card
	}{
		{"twins: same birthday, home line and address, given names one letter apart",
			vc("a", "FN:Paul Kowalski", "N:Kowalski;Paul;;;", "BDAY:1990-05-05", "TEL;TYPE=HOME:+44 20 7946 0001", "ADR:;;9 Oak Road;Leeds;;LS1 1AA;"),
			vc("b", "FN:Paula Kowalski", "N:Kowalski;Paula;;;", "BDAY:1990-05-05", "TEL;TYPE=HOME:+44 20 7946 0001", "ADR:;;9 Oak Road;Leeds;;LS1 1AA;")},
		{"father and son: one name, home line and address",
			vc("a", "FN:Jan Kowalski", "N:Kowalski;Jan;;;", "TEL;TYPE=HOME:+44 20 7946 0002", "TEL;TYPE=CELL:+44 7700 900001", "EMAIL:jan.senior@example.org", "ADR:;;9 Oak Road;Leeds;;LS1 1AA;"),
			vc("b", "FN:Jan Kowalski", "N:Kowalski;Jan;;;", "TEL;TYPE=HOME:+44 20 7946 0002", "TEL;TYPE=CELL:+44 7700 900002", "EMAIL:jk2000@example.net", "ADR:;;9 Oak Road;Leeds;;LS1 1AA;")},
		{"senior and junior",
			vc("a", "FN:John Smith Sr.", "N:Smith;John;;;Sr.", "TEL;TYPE=HOME:+44 20 7946 0003"),
			vc("b", "FN:John Smith Jr.", "N:Smith;John;;;Jr.", "TEL;TYPE=HOME:+44 20 7946 0003")},
		{"birthday one day apart",
			vc("a", "FN:Lena Vogt", "N:Vogt;Lena;;;", "BDAY:1980-01-02", "EMAIL:lena@example.org", "TEL;TYPE=CELL:+44 7700 900010"),
			vc("b", "FN:Lena Vogt", "N:Vogt;Lena;;;", "BDAY:1980-01-03", "EMAIL:lena@example.org", "TEL;TYPE=CELL:+44 7700 900010")},
	}
	for _, tc := range cases {
		g, err := Find(bookWith(tc.a, tc.b), Options{Region: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		if ga := groupOf(g, "a"); ga != nil && ga.Band == BandAuto {
			t.Errorf("%s: auto group %+v", tc.name, ga)
		}
	}
	// Namesakes on a switchboard that fifty other people share.
	var cards []Card
	for i := 0; i < 50; i++ {
		cards = append(cards, vc(fmt.Sprint("x", i), fmt.Sprintf("FN:Other%d Person", i), "TEL:+44 20 7946 0999", "ORG:Acme"))
	}
	cards = append(cards,
		vc("a", "FN:Jean Martin", "TEL:+44 20 7946 0999", "ORG:Acme"),
		vc("b", "FN:Jean Martin", "TEL:+44 20 7946 0999", "ORG:Acme", "TITLE:Driver"))
	g, _ := Find(bookWith(cards...), Options{Region: "GB"})
	if ga := groupOf(g, "a"); ga != nil && ga.Band == BandAuto {
		t.Errorf("namesakes on a switchboard: auto group %+v", ga)
	}
	// Three cards, one name, one e-mail and phone, two organisations: a
	// person chooses.
	g, _ = Find(bookWith(
		vc("a", "FN:Ada Brook", "EMAIL:ada@example.org", "TEL;TYPE=CELL:+44 7700 900020", "BDAY:1970-07-07", "ORG:Acme"),
		vc("b", "FN:Ada Brook", "EMAIL:ada@example.org", "TEL;TYPE=CELL:+44 7700 900020", "BDAY:1970-07-07"),
		vc("c", "FN:Ada Brook", "EMAIL:ada@example.org", "TEL;TYPE=CELL:+44 7700 900020", "BDAY:1970-07-07", "ORG:Globex"),
	), Options{Region: "GB"})
	if ga := groupOf(g, "a"); ga == nil || ga.Band == BandAuto || !slices.Contains(ga.UIDs, "c") {
		t.Errorf("two organisations: %+v", ga)
	}
}

// TestCompareLevels checks the level each field comparison gives.
func TestCompareLevels(t *testing.T) {
	cases := []struct {
		a, b  string // card lines, "|"-separated
		field int
		level string
	}{
		{"BDAY:1971-06-24", "BDAY:1971-06-24", fBirthday, "exact"},
		{"BDAY:1971-06-24", "BDAY:1971-05-24", fBirthday, "close"},
		{"BDAY:1980-03-04", "BDAY:1980-04-03", fBirthday, "close"},
		{"BDAY:1980-03-04", "BDAY:1980-03-19", fBirthday, "partial"},
		{"BDAY:--0304", "BDAY:1980-03-04", fBirthday, "partial"},
		{"BDAY:1980-03-04", "BDAY:1955-11-27", fBirthday, "different"},
		{"ADR:;;12 harbour st;Leith;;EH6;", "ADR:;;12 harbor street;Leith;;EH6;", fStreet, "close"},
		{"ADR:;;12 Harbour Street;Leith;;EH6;", "ADR:;;12 harbour st;Leith;;;", fStreet, "exact"},
		{"ADR:;;12 Harbour Street;;;;", "ADR:;;40 Harbour Street;;;;", fStreet, "different"},
		{"ADR:;;;London;;;", "ADR:;;;Lodon;;;", fPlace, "exact"},
		{"ADR:;;;London;;;", "ADR:;;;odnonL;;;", fPlace, "exact"},
		{"ADR:;;;London;;N1;", "ADR:;;;London;;E2;", fPlace, "locality"},
		{"ADR:;;;Paris;;;", "ADR:;;;Lyon;;;", fPlace, "different"},
		{"EMAIL:x.photo@a.org", "EMAIL:x.photo@b.org", fEmail, "close"},
		{"EMAIL:oliver.riley13@hanson.com", "EMAIL:oliver.riley13@hanson.cm", fEmail, "close"},
		{"N:Martin;Jean;;;|EMAIL:jean.martin@orange.fr", "N:Martin;Jean;;;|EMAIL:jean.martin@free.fr", fEmail, "different"},
		{"EMAIL:alopez3@hotmail.es", "EMAIL:alopez0@hotmail.es", fEmail, "different"},
		{"EMAIL:info@acme.com", "EMAIL:info@globex.com", fEmail, "different"},
		{"EMAIL:jsmith@gmail.com", "EMAIL:jsmith@gmial.com", fEmail, "close"},
		{"EMAIL:imogenw77@webster.info", "EMAIL:imogenw7.@webster7info", fEmail, "close"},
		{"TEL:+44 7700 900123", "TEL:+44 7700 900213", fPhone, "close"},
		{"TEL:+44 7700 900123", "TEL:+44 7700 900124", fPhone, "different"},
		{"N:Smith;Robert;;;", "N:Smith;Bob;;;", fGiven, "nickname"},
		{"N:Smith;Jonathan;;;", "N:Smith;Jonathon;;;", fGiven, "close"},
		{"N:Kowalski;Maria;;;", "N:Maria;Kowalsky;;;", fFamily, "close, swapped"},
		{"N:García López;Ana;;;", "N:García;Ana;;;", fFamily, "close"},
	}
	for _, tc := range cases {
		cards := []Card{vc("a", strings.Split(tc.a, "|")...), vc("b", strings.Split(tc.b, "|")...)}
		bk := extract(cards, "GB")
		c := bk.compare(0, 1, nil)
		got := levelNames[tc.field][c.lv[tc.field]]
		if c.swapped && (tc.field == fGiven || tc.field == fFamily) {
			got += ", swapped"
		}
		if got != tc.level {
			t.Errorf("%s: %q vs %q: %s, want %s", fieldNames[tc.field], tc.a, tc.b, got, tc.level)
		}
	}
}

func TestWithinEdits(t *testing.T) {
	for _, tc := range []struct {
		x, y string
		k    int
		want bool
	}{
		{"", "", 1, true}, {"a", "", 1, true}, {"ab", "", 1, false}, {"kitten", "sitten", 1, true},
		{"kitten", "sittin", 1, false}, {"kitten", "sittin", 2, true}, {"flaw", "lawn", 2, true},
		{"abcdef", "abdcef", 1, false}, {"abcdef", "abdcef", 2, true}, {"gmail.com", "gmail.co", 1, true},
	} {
		if got := withinEdits(tc.x, tc.y, tc.k); got != tc.want {
			t.Errorf("withinEdits(%q, %q, %d) = %v", tc.x, tc.y, tc.k, got)
		}
		if got := withinEdits(tc.y, tc.x, tc.k); got != tc.want {
			t.Errorf("withinEdits(%q, %q, %d) = %v", tc.y, tc.x, tc.k, got)
		}
	}
}

// TestBlockingRules: each rule on its own brings a pair together.
func TestBlockingRules(t *testing.T) {
	cases := []struct {
		name string
		a, b []string
	}{
		{"phone", []string{"FN:A One", "TEL:+44 7700 900301"}, []string{"FN:B Two", "TEL:07700 900301"}},
		{"e-mail local part", []string{"FN:A One", "EMAIL:zq.photo@a.org"}, []string{"FN:B Two", "EMAIL:zq.photo@b.org"}},
		{"name sound and initial", []string{"N:Kowalski;Maria;;;"}, []string{"N:Kowalsky;Marta;;;"}},
		{"given name sound and birth year", []string{"N:Abc;Catherine;;;", "BDAY:1970-01-01"}, []string{"N:Xyz;Kathryn;;;", "BDAY:1970-12-31"}},
		{"street number and postcode", []string{"FN:A One", "ADR:;;12 Harbour St;;;EH6 6JJ;"}, []string{"FN:B Two", "ADR:;;12 Quay;;;EH6 6JJ;"}},
		{"birthday", []string{"FN:A One", "BDAY:1971-06-24"}, []string{"FN:B Two", "BDAY:1971-06-24"}},
		{"name sound and locality", []string{"N:Lloyd;;;;", "ADR:;;;Birmingham;;;"}, []string{"N:Loyd;Rosie;;;", "ADR:;;;Birmingham;;;"}},
	}
	for _, tc := range cases {
		cards := bookWith(vc("a", tc.a...), vc("b", tc.b...))
		bk := extract(cards, "GB")
		b := bk.blocks(200)
		i, j := len(cards)-2, len(cards)-1
		shared := false
		for _, x := range b.blk[b.off[i]:b.off[i+1]] {
			if slices.Contains(b.blk[b.off[j]:b.off[j+1]], x) {
				shared = true
			}
		}
		if !shared {
			t.Errorf("%s: not blocked together", tc.name)
		}
	}
}
