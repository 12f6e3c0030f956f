package contacts

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var (
	filterCard1 = crlf(`BEGIN:VCARD
VERSION:3.0
UID:1
FN:Zoë
  Ångström
N:Ångström;Zoë;;;
item1.EMAIL;TYPE=INTERNET,WORK:zoe@Example.com
EMAIL;TYPE=home:zoe@home.example
TEL;CELL:+46 70 123
NOTE:straße\, ﬁne
ORG:ACME\, Inc.;Sales
END:VCARD
`)
	filterCard2 = crlf(`BEGIN:VCARD
VERSION:4.0
UID:2
FN:Bob Smith
EMAIL;TYPE="work,voice";PREF=1:bob@smith.example
TEL;VALUE=uri:tel:+1555
CATEGORIES:friends,golf
X-CUSTOM;X-P="a^'b":v
END:VCARD
`)
)

func text(s string) []TextMatch { return []TextMatch{{Text: s}} }

func TestFilterMatch(t *testing.T) {
	tm := func(text, coll, mt string, negate bool) []TextMatch {
		return []TextMatch{{Text: text, Collation: coll, MatchType: mt, Negate: negate}}
	}
	prop := func(name string, texts []TextMatch) Filter {
		return Filter{AnyOf: true, Props: []PropFilter{{Name: name, TextMatches: texts}}}
	}
	param := func(prop string, pf ParamFilter) Filter {
		return Filter{AnyOf: true, Props: []PropFilter{{Name: prop, Params: []ParamFilter{pf}}}}
	}
	tests := []struct {
		name         string
		filter       Filter
		want1, want2 bool
	}{
		{"empty filter", Filter{}, true, true},
		{"empty anyof filter", Filter{AnyOf: true}, true, true},
		{"contains, default collation", prop("FN", text("zoë")), true, false},
		{"unicode-casemap folds non-ASCII", prop("fn", tm("ZOË ÅNG", "i;unicode-casemap", "contains", false)), true, false},
		{"unicode-casemap normalises", prop("FN", text("Zoe\u0308")), true, false},
		{"unicode-casemap ß = ss", prop("NOTE", text("STRASSE")), true, false},
		{"unicode-casemap ligature", prop("NOTE", text("fine")), true, false},
		{"ascii-casemap leaves non-ASCII alone", prop("FN", tm("ZOË", "i;ascii-casemap", "", false)), false, false},
		{"ascii-casemap folds ASCII", prop("FN", tm("BOB s", "i;ascii-casemap", "", false)), false, true},
		{"octet is exact", prop("FN", tm("zoë", "i;octet", "", false)), false, false},
		{"octet match", prop("FN", tm("Zoë Å", "i;octet", "", false)), true, false},
		{"equals", prop("FN", tm("zoë ångström", "", "equals", false)), true, false},
		{"equals needs all", prop("FN", tm("zoë", "", "equals", false)), false, false},
		{"starts-with", prop("FN", tm("ZOË", "", "starts-with", false)), true, false},
		{"starts-with no", prop("FN", tm("ångström", "", "starts-with", false)), false, false},
		{"ends-with", prop("FN", tm("STRÖM", "", "ends-with", false)), true, false},
		{"ends-with octet", prop("FN", tm("Smith", "i;octet", "ends-with", false)), false, true},
		{"value unescaped", prop("ORG", text("acme, inc.;sales")), true, false},
		{"structured value as raw text", prop("N", text("ångström;zoë")), true, false},
		{"negate", prop("FN", tm("zoë", "", "", true)), false, true},
		{"negate passes when one instance differs", prop("EMAIL", tm("example.com", "", "", true)), true, true},
		{"negate fails when every instance matches", prop("EMAIL", tm("zoe", "", "", true)), false, true},
		{"property absent fails text-match", prop("NICKNAME", tm("x", "", "", true)), false, false},
		{"group-qualified name", prop("item1.EMAIL", text("home")), false, false},
		{"group-qualified name matches", prop("ITEM1.email", text("example.com")), true, false},
		{"defined", Filter{AnyOf: true, Props: []PropFilter{{Name: "CATEGORIES"}}}, false, true},
		{"is-not-defined", Filter{AnyOf: true, Props: []PropFilter{{Name: "TEL", IsNotDefined: true}}}, false, false},
		{"is-not-defined absent", Filter{AnyOf: true, Props: []PropFilter{{Name: "CATEGORIES", IsNotDefined: true}}}, true, false},
		{"param text-match", param("EMAIL", ParamFilter{Name: "type", TextMatch: &TextMatch{Text: "work", MatchType: "equals"}}), true, true},
		{"param bare 2.1 TYPE", param("TEL", ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "cell", MatchType: "equals"}}), true, false},
		{"param is-not-defined", param("TEL", ParamFilter{Name: "TYPE", IsNotDefined: true}), false, true},
		{"param defined", param("EMAIL", ParamFilter{Name: "PREF"}), false, true},
		{"param negate", param("EMAIL", ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "home", MatchType: "equals", Negate: true}}), true, true},
		{"param negate; TEL without TYPE fails", param("TEL", ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "x", Negate: true}}), true, false},
		{"param caret-decoded", param("X-CUSTOM", ParamFilter{Name: "X-P", TextMatch: &TextMatch{Text: `a"b`, MatchType: "equals", Collation: "i;octet"}}), false, true},
		{"prop allof: one instance must pass every test", Filter{AnyOf: true, Props: []PropFilter{{Name: "EMAIL", AllOf: true,
			TextMatches: text("example.com"), Params: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Text: "home", MatchType: "equals"}}}}}}, false, false},
		{"prop allof: passes", Filter{AnyOf: true, Props: []PropFilter{{Name: "EMAIL", AllOf: true,
			TextMatches: text("zoe"), Params: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Text: "home", MatchType: "equals"}}}}}}, true, false},
		{"prop allof: two text-matches", Filter{AnyOf: true, Props: []PropFilter{{Name: "FN", AllOf: true,
			TextMatches: []TextMatch{{Text: "bob"}, {Text: "smith"}}}}}, false, true},
		{"prop anyof", Filter{AnyOf: true, Props: []PropFilter{{Name: "EMAIL",
			TextMatches: text("nomatch"), Params: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Text: "home", MatchType: "equals"}}}}}}, true, false},
		{"filter allof", Filter{Props: []PropFilter{{Name: "FN", TextMatches: text("zoë")}, {Name: "TEL"}}}, true, false},
		{"filter allof fails", Filter{Props: []PropFilter{{Name: "FN", TextMatches: text("zoë")}, {Name: "PHOTO"}}}, false, false},
		{"filter anyof", Filter{AnyOf: true, Props: []PropFilter{{Name: "FN", TextMatches: text("bob")}, {Name: "FN", TextMatches: text("zoë")}}}, true, true},
		{"filter anyof none", Filter{AnyOf: true, Props: []PropFilter{{Name: "FN", TextMatches: text("carol")}, {Name: "PHOTO"}}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &tt.filter
			if err := f.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			for i, c := range []struct {
				data []byte
				want bool
			}{{filterCard1, tt.want1}, {filterCard2, tt.want2}} {
				got, err := f.Match(c.data)
				if err != nil || got != c.want {
					t.Errorf("card %d: Match = %v, %v; want %v", i+1, got, err, c.want)
				}
			}
		})
	}
}

func TestFilterCheck(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   error
	}{
		{"fine", Filter{Props: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Text: "x", Collation: "i;octet", MatchType: "ends-with"}}}}}, nil},
		{"unknown collation", Filter{Props: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Text: "x", Collation: "i;basic"}}}}}, ErrUnsupportedCollation},
		{"unknown collation in a param-filter", Filter{Props: []PropFilter{{Name: "FN", Params: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Collation: "x"}}}}}}, ErrUnsupportedCollation},
		{"unknown match-type", Filter{Props: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Text: "x", MatchType: "regex"}}}}}, ErrInvalidFilter},
		{"empty prop name", Filter{Props: []PropFilter{{Name: " "}}}, ErrInvalidFilter},
		{"empty param name", Filter{Props: []PropFilter{{Name: "FN", Params: []ParamFilter{{}}}}}, ErrInvalidFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.filter.Check()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if _, err := tt.filter.Match(filterCard1); !errors.Is(err, tt.want) {
				t.Errorf("Match error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFilterConcurrent shares one unprepared Filter between goroutines (run with -race).
func TestFilterConcurrent(t *testing.T) {
	f := &Filter{AnyOf: true, Props: []PropFilter{{Name: "FN", TextMatches: text("ÅNGSTRÖM")}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if ok, err := f.Match(filterCard1); !ok || err != nil {
					t.Errorf("Match = %v, %v", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestFilterTolerant checks that Match skips lines it cannot parse.
func TestFilterTolerant(t *testing.T) {
	bad := []byte("garbage\nBEGIN:VCARD\nFN;X=\"unterminated:x\nno colon here\nFN:Zoë\x00\nEND:VCARD\n")
	f := &Filter{AnyOf: true, Props: []PropFilter{{Name: "FN", TextMatches: text("zoë")}}}
	if ok, err := f.Match(bad); !ok || err != nil {
		t.Errorf("Match = %v, %v", ok, err)
	}
}

var benchFirst = []string{"Anna", "Björn", "Zoë", "Jürgen", "María", "Li", "Олег", "John", "Søren", "Amélie"}
var benchLast = []string{"Smith", "Ångström", "Müller", "García", "Wang", "Иванов", "Johnson", "Øster", "Dubois", "Brown"}

func benchCards(n int) [][]byte {
	cards := make([][]byte, n)
	for i := range cards {
		first, last := benchFirst[i%len(benchFirst)], benchLast[(i/len(benchFirst))%len(benchLast)]
		cards[i] = crlf(fmt.Sprintf(`BEGIN:VCARD
VERSION:3.0
PRODID:-//rolodav//bench//EN
UID:card-%05d
FN:%s %s
N:%s;%s;;;
item1.EMAIL;TYPE=INTERNET,pref:%s.%s.%d@example.com
item1.X-ABLabel:_$!<Other>!$_
TEL;TYPE=CELL,VOICE:+46 70 %03d %02d %02d
ADR;TYPE=HOME:;;Storgatan %d;Stockholm;;111 22;Sverige
NOTE:Met at conference number %d; likes coffee and long walks along the 
 river.
PHOTO;ENCODING=b;TYPE=JPEG:%s
END:VCARD
`, i, first, last, last, first, strings.ToLower(first), strings.ToLower(last), i, i%1000, i%100, i%97, i%200, i,
			strings.Repeat("/9j/4AAQSkZJRgABAQAAAQABAAD", 40)))
	}
	return cards
}

// BenchmarkMatch runs a text-match query over 10 000 cards per iteration.
func BenchmarkMatch(b *testing.B) {
	cards := benchCards(10_000)
	f := &Filter{AnyOf: true, Props: []PropFilter{
		{Name: "FN", TextMatches: text("ångström")},
		{Name: "EMAIL", TextMatches: []TextMatch{{Text: "SMITH", MatchType: "contains"}}},
	}}
	if err := f.Check(); err != nil {
		b.Fatal(err)
	}
	want := 0
	for _, c := range cards {
		if ok, _ := f.Match(c); ok {
			want++
		}
	}
	if want != 2000 {
		b.Fatalf("%d matches, want 2000", want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, c := range cards {
			if _, err := f.Match(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
