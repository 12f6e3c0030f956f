package dedup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Codes of the names the algorithm's description and its usual test sets
// use to show each rule; alt is "" when it equals the primary.
var metaphoneCases = []struct{ in, primary, alt string }{
	// Smith and Schmidt share XMT (the example of the article).
	{"smith", "SM0", "XMT"},
	{"schmidt", "XMT", "SMT"},
	{"smyth", "SM0", "XMT"},
	// TH: Thomas, Thames keep a T; elsewhere 0 or T.
	{"thomas", "TMS", ""},
	{"thames", "TMS", ""},
	{"thompson", "TMPS", ""},
	{"thumbail", "0MPL", "TMPL"},
	{"through", "0R", "TR"},
	{"katherine", "K0RN", "KTRN"},
	// Initial silent letters and initial X.
	{"knight", "NT", ""},
	{"wright", "RT", ""},
	{"gnome", "NM", ""},
	{"psalm", "SLM", ""},
	{"xavier", "SF", "SFR"},
	// Vowels: only a first one counts, as A.
	{"aubrey", "APR", ""},
	{"eric", "ARK", ""},
	{"otto", "AT", ""},
	// B, D, F, P, PH, doubled letters.
	{"bob", "PP", ""},
	{"philip", "FLP", ""},
	{"campbell", "KMPL", ""},
	{"raspberry", "RSPR", ""},
	{"edge", "AJ", ""},
	{"edgar", "ATKR", ""},
	{"dave", "TF", ""},
	{"heidi", "HT", ""},
	// C.
	{"caesar", "SSR", ""},
	{"chianti", "KNT", ""},
	{"michael", "MKL", "MXL"},
	{"charac", "KRK", ""},
	{"charis", "KRS", ""},
	{"chord", "KRT", ""},
	{"chym", "KM", ""},
	{"chem", "KM", ""},
	{"chore", "XR", ""},
	{"orchestra", "ARKS", ""},
	{"architect", "ARKT", ""},
	{"orchid", "ARKT", ""},
	{"richard", "RXRT", "RKRT"},
	{"tichner", "TXNR", "TKNR"},
	{"mchugh", "MK", ""},
	{"bacher", "PKR", ""},
	{"macher", "MKR", ""},
	{"czerny", "SRN", "XRN"},
	{"focaccia", "FKX", ""},
	{"bacci", "PX", ""},
	{"bertucci", "PRTX", ""},
	{"bellocchio", "PLX", ""},
	{"bacchus", "PKS", ""},
	{"accident", "AKST", ""},
	{"accede", "AKST", ""},
	{"succeed", "SKST", ""},
	{"mcclain", "MKLN", ""},
	{"mac caffrey", "MKFR", ""},
	{"mac gregor", "MKRK", ""},
	{"maurice", "MRS", ""},
	// G, GH, GN.
	{"gough", "KF", ""},
	{"laugh", "LF", ""},
	{"cough", "KF", ""},
	{"rough", "RF", ""},
	{"hugh", "H", ""},
	{"ghislane", "JLN", ""},
	{"ghiradelli", "JRTL", ""},
	{"cagney", "KKN", ""},
	{"agnes", "AKNS", "ANS"},
	{"tagliaro", "TKLR", "TLR"},
	{"koglin", "KKLN", ""}, // W, K or CZ: Slavic or Germanic, hard G
	{"wagner", "AKNR", "FKNR"},
	{"biaggi", "PJ", "PK"},
	{"geoff", "JF", "KF"},
	{"gya", "K", "J"},
	{"ges", "KS", "JS"},
	{"gel", "KL", "JL"},
	{"gin", "KN", "JN"},
	{"danger", "TNJR", "TNKR"},
	{"manager", "MNKR", "MNJR"},
	{"dowager", "TKR", "TJR"},
	{"rogier", "RJ", "RJR"},
	// J.
	{"jose", "HS", ""},
	{"joseph", "JSF", "HSF"},
	{"san jacinto", "SNHS", ""},
	{"bajador", "PJTR", "PHTR"},
	{"jankelowicz", "JNKL", "ANKL"},
	{"yankelovich", "ANKL", ""},
	// L, M, R.
	{"cabrillo", "KPRL", "KPR"},
	{"gallegos", "KLKS", "KKS"},
	{"hochmeier", "HKMR", ""},
	// S, SC, SCH, SH.
	{"schneider", "XNTR", "SNTR"},
	{"school", "SKL", ""},
	{"schooner", "SKNR", ""},
	{"schermerhorn", "XRMR", "SKRM"},
	{"schenker", "XNKR", "SKNK"},
	{"schwein", "XN", "XFN"},
	{"sugar", "XKR", "SKR"},
	{"island", "ALNT", ""},
	{"carlisle", "KRLL", ""},
	{"resnais", "RSN", "RSNS"},
	{"steven", "STFN", ""},
	// T, TCH, TION.
	{"nation", "NXN", ""},
	{"fletcher", "FLXR", ""},
	// W, WR, WICZ, WSKI.
	{"womo", "AM", "FM"},
	{"wasserman", "ASRM", "FSRM"},
	{"arnoff", "ARNF", ""},
	{"arnow", "ARN", "ARNF"},
	{"filipowicz", "FLPT", "FLPF"},
	{"wewski", "ASK", "FFSK"},
	// X, Z.
	{"breaux", "PR", ""},
	{"alexander", "ALKS", ""},
	{"zhao", "J", ""},
	{"zola", "SL", ""},
	{"schwarz", "XRS", "XFRT"},
	{"zizza", "SS", "STS"},
	{"lopez", "LPS", ""},
	// Case does not matter; an empty or letterless token has no code.
	{"SMITH", "SM0", "XMT"},
	{"", "", ""},
	{"12-3 !", "", ""},
}

func TestDoubleMetaphoneTable(t *testing.T) {
	for _, c := range metaphoneCases {
		alt := c.alt
		if alt == "" {
			alt = c.primary
		}
		p, a := doubleMetaphone(c.in)
		if p != c.primary || a != alt {
			t.Errorf("doubleMetaphone(%q) = %q, %q; want %q, %q", c.in, p, a, c.primary, alt)
		}
	}
}

// metaphoneShare reports whether two tokens have a code in common, which is
// how the blocking key matches.
func metaphoneShare(x, y string) bool {
	xp, xa := doubleMetaphone(x)
	yp, ya := doubleMetaphone(y)
	return xp == yp || xp == ya || xa == yp || xa == ya
}

// Spelling variants and typos of a name that a person reads as the same
// name collide; unrelated names do not.
func TestDoubleMetaphoneVariants(t *testing.T) {
	for _, p := range [][2]string{
		{"smith", "schmidt"}, {"smith", "smyth"}, {"schmitt", "schmidt"},
		{"catherine", "kathryn"}, {"katherine", "catherine"},
		{"steven", "stephen"}, {"kowalski", "kowalsky"},
		{"meyer", "maier"}, {"meyer", "meier"}, {"mayer", "maier"},
		{"geoffrey", "jeffrey"}, {"jon", "john"}, {"philips", "phillips"},
		{"claire", "clare"}, {"nicholas", "nikolas"}, {"carl", "karl"},
		{"mohammed", "muhammad"}, {"schwarz", "schwartz"}, {"wilson", "willson"},
		{"gonzalez", "gonzales"}, {"kristina", "christina"}, {"mueller", "muller"},
		{"reid", "reed"}, {"sara", "sarah"}, {"wasserman", "vasserman"},
		{"arnow", "arnoff"}, {"jankelowicz", "yankelovich"}, {"womo", "uomo"},
		{"snider", "schneider"}, {"harbour", "harbor"},
		{"baker", "bakker"}, {"mcdonald", "macdonald"}, {"ann", "anne"},
	} {
		if !metaphoneShare(p[0], p[1]) {
			xp, xa := doubleMetaphone(p[0])
			yp, ya := doubleMetaphone(p[1])
			t.Errorf("%s (%s/%s) and %s (%s/%s) share no code", p[0], xp, xa, p[1], yp, ya)
		}
	}
	for _, p := range [][2]string{
		{"smith", "jones"}, {"maria", "mark"}, {"kowalski", "nowak"},
		{"peter", "paul"}, {"steven", "stella"}, {"baker", "parker"},
	} {
		if metaphoneShare(p[0], p[1]) {
			t.Errorf("%s and %s share a code", p[0], p[1])
		}
	}
}

func TestDoubleMetaphoneInputBound(t *testing.T) {
	// Only the first 64 bytes are read, so a long token costs no more: the
	// "jones" at its end (SMJN when read) is not.
	long := "smi" + strings.Repeat("h", 10000) + "jones"
	p, a := doubleMetaphone(long)
	wp, wa := doubleMetaphone(long[:dmMaxInput])
	if p != wp || a != wa || p != "SM" {
		t.Errorf("long token: %q, %q; its first %d bytes: %q, %q", p, a, dmMaxInput, wp, wa)
	}
	// Non-ASCII bytes, even broken UTF-8, are skipped.
	p, a = doubleMetaphone("\xffsm\u00e9ith\xe2\x80")
	if p != "SM0" || a != "XMT" {
		t.Errorf("with non-ASCII bytes: %q, %q", p, a)
	}
}

func TestDoubleMetaphoneAllocs(t *testing.T) {
	for _, name := range []string{"smith", "schmidt", "jankelowicz", "wright"} {
		if n := testing.AllocsPerRun(100, func() { doubleMetaphone(name) }); n > 1 {
			t.Errorf("doubleMetaphone(%q): %v allocations, want at most 1", name, n)
		}
	}
}

func FuzzDoubleMetaphone(f *testing.F) {
	for _, c := range metaphoneCases {
		f.Add(c.in)
	}
	f.Add(strings.Repeat("sch", 40))
	f.Add("\xc3")
	f.Add("van der gh-wicz")
	f.Fuzz(func(t *testing.T, s string) {
		p, a := doubleMetaphone(s)
		for _, code := range []string{p, a} {
			if len(code) > 4 {
				t.Fatalf("%q: code %q longer than 4", s, code)
			}
			for i := 0; i < len(code); i++ {
				if c := code[i]; (c < 'A' || c > 'Z') && c != '0' {
					t.Fatalf("%q: code %q has %q", s, code, c)
				}
			}
		}
		if !hasASCIILetter(s) && (p != "" || a != "") {
			t.Fatalf("%q has no letter but codes %q, %q", s, p, a)
		}
		// Only the first 64 bytes count, and case does not.
		if len(s) > dmMaxInput {
			if q, b := doubleMetaphone(s[:dmMaxInput]); q != p || b != a {
				t.Fatalf("%q: %q, %q but its first %d bytes give %q, %q", s, p, a, dmMaxInput, q, b)
			}
		}
		if isASCII(s) {
			if q, b := doubleMetaphone(strings.ToUpper(s)); q != p || b != a {
				t.Fatalf("%q: %q, %q but upper-cased %q, %q", s, p, a, q, b)
			}
		}
	})
}

func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func BenchmarkDoubleMetaphone(b *testing.B) {
	names := []string{
		"smith", "johnson", "williams", "garcia", "schmidt", "kowalski",
		"jankelowicz", "catherine", "michael", "thompson", "nguyen", "oconnor",
		"muller", "rossi", "van", "maria", "fitzgerald", "ye",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		doubleMetaphone(names[i%len(names)])
	}
}
