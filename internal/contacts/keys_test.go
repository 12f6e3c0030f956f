package contacts

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"06.12.34.56.78", "FR", "+33612345678"},
		{"+33 6 12 34 56 78", "US", "+33612345678"},
		{"0033 612345678", "FR", "+33612345678"},
		{"+44 20 7946 0958", "FR", "+442079460958"},
		{"(212) 555-0100", "US", "+12125550100"},
		{"12", "FR", ""},
		{"#1234#", "", "1234"},
	} {
		if got := NormalizePhone(c.raw, c.region); got != c.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, want %q", c.raw, c.region, got, c.want)
		}
	}
}

func TestNormalizeEmailBirthday(t *testing.T) {
	for raw, want := range map[string]string{
		"John.Doe@GoogleMail.com": "john.doe@gmail.com",
		"mailto:A@B.org":          "a@b.org",
		" <x@y.fr> ":              "x@y.fr",
		"nobody":                  "",
	} {
		if got := NormalizeEmail(raw); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"1980-05-17":           "1980-05-17",
		"19800517":             "1980-05-17",
		"1980-05-17T00:00:00Z": "1980-05-17",
		"--0517":               "--05-17",
		"--05-17":              "--05-17",
		"1604-05-17":           "--05-17",
		"1980-13-01":           "",
		"yesterday":            "",
	} {
		if got := NormalizeBirthday(raw); got != want {
			t.Errorf("NormalizeBirthday(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestNameTokens(t *testing.T) {
	for raw, want := range map[string][]string{
		"Émile Ørsted":      {"emile", "orsted"},
		"Doe, John":         {"doe", "john"},
		"Dr. Jean-Pierre":   {"jean", "pierre"},
		"O'Brien":           {"obrien"},
		"GROßMANN Jürgen":   {"grossmann", "jurgen"},
		"Nguyễn Đức":        {"nguyen", "duc"},
		"Łukasz Wiśniewski": {"lukasz", "wisniewski"},
	} {
		if got := NameTokens(raw); !reflect.DeepEqual(got, want) {
			t.Errorf("NameTokens(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestExtractKeys(t *testing.T) {
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:Doe\\, John\r\nN:Doe;John;;;\r\n" +
		"TEL;TYPE=CELL:06 12 34 56 78\r\nTEL:tel:+33612345678\r\nitem1.EMAIL;TYPE=INTERNET:J\r\n .Doe@googlemail.com\r\n" +
		"BDAY:1604-05-17\r\nORG:ACME Ïnc;Sales\r\nTITLE:Chief Engineer\r\nADR;TYPE=HOME:;;12 Main St;Springfield;;AB1 2CD;UK\r\n" +
		"ADR:;Bldg 4;Harbour Rd 7a;;;;\r\nEND:VCARD\r\n"
	k := ExtractKeys([]byte(card), "FR")
	want := Keys{
		Names:     []string{"doe", "john"},
		Family:    []string{"doe"},
		Given:     []string{"john"},
		Phones:    []string{"+33612345678"},
		Mobiles:   []string{"+33612345678"},
		Emails:    []string{"j.doe@gmail.com"},
		Birthday:  "--05-17",
		Org:       "acme inc",
		Addresses: []string{"12 main street|AB12CD", "harbour road 7a|"},
		Postal: []Postal{
			{Numbers: []string{"12"}, Words: []string{"main", "street"}, Locality: "springfield", Code: "AB12CD"},
			{Numbers: []string{"4", "7a"}, Words: []string{"bldg", "harbour", "road"}},
		},
		Title: "chief engineer",
	}
	if !reflect.DeepEqual(k, want) {
		t.Errorf("ExtractKeys:\n got %+v\nwant %+v", k, want)
	}
	// Without N the names come from FN, in any order.
	k2 := ExtractKeys([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:John Doe\r\nEND:VCARD\r\n"), "")
	if !reflect.DeepEqual(k2.Names, want.Names) {
		t.Errorf("names from FN = %q", k2.Names)
	}
	// A placeholder in brackets is no name.
	if k := ExtractKeys([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:(no name)\r\nN:;;;;\r\nEND:VCARD\r\n"), ""); len(k.Names)+len(k.Family)+len(k.Given) != 0 {
		t.Errorf("placeholder FN gave names %q", k.Names)
	}
	// … and FN's words in order say which is the family name.
	for fn, fam := range map[string]string{"John Doe": "doe", "Doe, John": "doe", "Mary Ann Smith": "smith"} {
		k := ExtractKeys([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:"+strings.ReplaceAll(fn, ",", "\\,")+"\r\nEND:VCARD\r\n"), "")
		if len(k.Family) != 1 || k.Family[0] != fam || len(k.Given) == 0 {
			t.Errorf("FN %q: family %q, given %q", fn, k.Family, k.Given)
		}
	}
}
