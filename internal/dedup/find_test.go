package dedup

import (
	"fmt"
	"strings"
	"testing"
)

func vc(uid string, lines ...string) Card {
	return Card{UID: uid, Data: []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:VCARD\r\n")}
}

func findOne(t *testing.T, cards ...Card) []Group {
	t.Helper()
	g, err := Find(cards, Options{Region: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFindBands(t *testing.T) {
	cases := []struct {
		name  string
		cards []Card
		want  Band // "" for no group
	}{
		{"identical", []Card{
			vc("a", "FN:Zoé Mercier", "TEL:06 12 34 56 78"),
			vc("b", "FN:Zoé Mercier", "TEL:06 12 34 56 78"),
		}, BandAuto},
		{"subset, other forms", []Card{
			vc("a", "FN:Mercier, Zoé", "TEL:+33 6 12 34 56 78"),
			vc("b", "FN:ZOE MERCIER", "TEL:0612345678", "EMAIL:zoe@example.org", "BDAY:1980-01-02"),
		}, BandAuto},
		{"typo with phone, e-mail and birthday", []Card{
			vc("a", "FN:Jérôme Lefebvre", "TEL:0612345678", "EMAIL:jl@example.org", "BDAY:1980-01-02"),
			vc("b", "FN:Jerome Lefebrve", "TEL:+33612345678", "EMAIL:JL@example.org", "BDAY:19800102", "ORG:X"),
		}, BandAuto},
		{"nickname with phone is review", []Card{
			vc("a", "FN:Robert Smith", "TEL:0612345678", "EMAIL:rs@example.org"),
			vc("b", "FN:Bob Smith", "TEL:+33612345678", "EMAIL:rs@example.org", "BDAY:1980-01-02"),
		}, BandReview},
		{"homonyms with different birthdays", []Card{
			vc("a", "FN:John Smith", "TEL:0612345678", "BDAY:1980-01-02"),
			vc("b", "FN:John Smith", "TEL:0612345679", "BDAY:1975-03-04"),
		}, ""},
		{"family sharing landline and address", []Card{
			vc("a", "FN:Anna Kowalski", "TEL:0140506070", "ADR:;;1 rue X;Paris;;75001;"),
			vc("b", "FN:Piotr Kowalski", "TEL:0140506070", "ADR:;;1 rue X;Paris;;75001;"),
		}, ""},
		{"name only is review at most", []Card{
			vc("a", "FN:Xanthippe Zilmowska", "TEL:0612345678"),
			vc("b", "FN:Zilmowska Xanthippe", "EMAIL:xz@example.org"),
		}, BandReview},
	}
	for _, c := range cases {
		g := findOne(t, c.cards...)
		switch {
		case c.want == "" && len(g) != 0:
			t.Errorf("%s: got %+v, want no group", c.name, g)
		case c.want != "" && (len(g) != 1 || g[0].Band != c.want || len(g[0].UIDs) != 2):
			t.Errorf("%s: got %+v, want one %s group", c.name, g, c.want)
		}
	}
}

func TestFindNoChaining(t *testing.T) {
	// B is close to A and to C, but A and C have different birthdays.
	g := findOne(t,
		vc("a", "FN:Maria Garcia", "TEL:0612345678", "BDAY:1980-01-02"),
		vc("b", "FN:Maria Garcia", "TEL:0612345678", "EMAIL:mg@example.org"),
		vc("c", "FN:Maria Garcia", "EMAIL:mg@example.org", "BDAY:1990-05-06"),
	)
	for _, gr := range g {
		if len(gr.UIDs) > 2 {
			t.Errorf("strangers chained: %+v", gr)
		}
	}
}

func TestGroupIDStable(t *testing.T) {
	if GroupID([]string{"b", "a"}) != GroupID([]string{"a", "b"}) || GroupID([]string{"a"}) == GroupID([]string{"a", "b"}) {
		t.Error("GroupID not stable or not distinct")
	}
	cards := []Card{
		vc("x", "FN:Zoé Mercier", "TEL:06 12 34 56 78"),
		vc("y", "FN:Zoé Mercier", "TEL:06 12 34 56 78"),
	}
	g1 := findOne(t, cards...)
	g2 := findOne(t, cards[1], cards[0])
	if len(g1) != 1 || len(g2) != 1 || g1[0].ID != g2[0].ID || g1[0].ID != GroupID([]string{"x", "y"}) {
		t.Errorf("IDs differ: %+v %+v", g1, g2)
	}
}

func TestFindHugeBlockAndCap(t *testing.T) {
	// 3000 colleagues on one switchboard: no explosion, no group.
	var cards []Card
	for i := 0; i < 3000; i++ {
		cards = append(cards, vc(fmt.Sprint("s", i), fmt.Sprintf("FN:Person%d Name%d", i, i), "TEL:01 40 50 60 70"))
	}
	g, n := find(cards, Options{Region: "FR"})
	if len(g) != 0 || n > int64(len(cards))*window { // a neighbourhood per card at most
		t.Errorf("switchboard: %d groups, %d pairs compared", len(g), n)
	}
	// 30 identical cards: one group of at most MaxGroupSize.
	cards = cards[:0]
	for i := 0; i < 30; i++ {
		cards = append(cards, vc(fmt.Sprint("d", i), "FN:Zoé Mercier", "TEL:06 12 34 56 78"))
	}
	g, _ = find(cards, Options{Region: "FR", MaxGroupSize: 20})
	for _, gr := range g {
		if len(gr.UIDs) > 20 {
			t.Errorf("group of %d", len(gr.UIDs))
		}
	}
	if len(g) == 0 || g[0].Band != BandAuto {
		t.Errorf("identical cards: %+v", g)
	}
}

func TestFindEmptyAndNameless(t *testing.T) {
	if g, err := Find(nil, Options{}); err != nil || len(g) != 0 {
		t.Errorf("Find(nil) = %v, %v", g, err)
	}
	g := findOne(t,
		vc("a", "ORG:ACME", "TEL:0612345678"),
		vc("b", "ORG:ACME", "TEL:0612345678", "EMAIL:x@example.org"),
		vc("c", "FN:", "EMAIL:x@example.org"),
	)
	for _, gr := range g {
		if gr.Band == BandAuto {
			t.Errorf("nameless cards grouped in auto: %+v", gr)
		}
	}
}

func TestFindNamesakesOnSwitchboard(t *testing.T) {
	var cards []Card
	for i := 0; i < 50; i++ {
		cards = append(cards, vc(fmt.Sprint("x", i), fmt.Sprintf("FN:Other%d Person", i), "TEL:01 40 50 60 70"))
	}
	cards = append(cards,
		vc("a", "FN:Jean Martin", "TEL:01 40 50 60 70"),
		vc("b", "FN:Jean Martin", "TEL:01 40 50 60 70", "EMAIL:jm@example.org"),
	)
	for _, gr := range findOne(t, cards...) {
		if gr.Band == BandAuto {
			t.Errorf("namesakes on a switchboard in auto: %+v", gr)
		}
	}
}
