package contacts

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/rolodav/rolodav/internal/contentline"
)

func fuzzSeeds(f *testing.F) {
	for _, p := range convertPairs {
		f.Add(crlf(p.v3))
		f.Add(crlf(p.v4))
	}
	for _, c := range convertOneWay {
		f.Add(crlf(c.in))
	}
	f.Add(filterCard1)
	f.Add(filterCard2)
	f.Add([]byte("BEGIN:VCARD\nVERSION:3.0\nN:Doe;John;;;\nTEL;CELL;PREF:1\nPHOTO;BASE64:AAEC\nEND:VCARD\n"))
	f.Add(crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nADR;LABEL=\"x^n^'y^'\";TYPE=home:;;a;b;;;\nTEL;VALUE=uri:tel:+1\nGEO:geo:1,2\nTZ:-0500\nEND:VCARD\n"))
	f.Add(crlf("BEGIN:VCARD\nVERSION:3.0\nFN:A\nADR;TYPE=home:;;a;b;;;\nLABEL;TYPE=home:x\\ny\nGEO:1;2\nTZ:+01:00\nEND:VCARD\n"))
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\xc3\r\n \xab\r\nEND:VCARD\r\n"))
	f.Add(crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:B\nEND:VCARD\n"))
}

var fuzzFilter = &Filter{AnyOf: true, Props: []PropFilter{
	{Name: "FN", TextMatches: []TextMatch{{Text: "zoë"}}},
	{Name: "EMAIL", AllOf: true, TextMatches: []TextMatch{{Text: "a", MatchType: "starts-with", Collation: "i;ascii-casemap"}},
		Params: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Text: "home", Negate: true}}, {Name: "PREF", IsNotDefined: true}}},
	{Name: "X-FOO", IsNotDefined: true},
}}

// FuzzValidate: Validate never panics; an accepted card converts to both
// versions, and every result validates again with the same UID and kind.
func FuzzValidate(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Go fuzzing has no per-input time limit: turn a hang into a crash
		// so that the input is written to testdata.
		wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("FuzzValidate: input takes over 10s: %q", data)) })
		defer wd.Stop()
		info, err := Validate(data)
		Select(data, []string{"FN", "email", "item1.TEL"})
		if _, err := fuzzFilter.Match(data); err != nil {
			t.Fatalf("Match: %v", err)
		}
		if err != nil {
			if _, cerr := Convert(data, "4.0"); cerr == nil {
				t.Fatalf("Convert accepted a card that Validate rejects (%v)", err)
			}
			return
		}
		if info.Version != "3.0" && info.Version != "4.0" {
			t.Fatalf("Version = %q", info.Version)
		}
		for _, v := range []string{"3.0", "4.0"} {
			out, err := Convert(data, v)
			if err != nil {
				t.Fatalf("Convert to %s: %v", v, err)
			}
			got, err := Validate(out)
			if err != nil {
				t.Fatalf("Convert to %s gave an invalid card: %v\n%q", v, err, out)
			}
			if got.UID != info.UID || got.Kind != info.Kind || got.Version != v {
				t.Fatalf("Convert to %s: %+v, want UID %q kind %q", v, got, info.UID, info.Kind)
			}
			if v != info.Version {
				for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
					if len(line) > 75 {
						t.Fatalf("line of %d octets in %q", len(line), out)
					}
				}
				back, err := Convert(out, info.Version)
				if err != nil {
					t.Fatalf("Convert back to %s: %v", info.Version, err)
				}
				if b, err := Validate(back); err != nil || b.UID != info.UID || b.Kind != info.Kind {
					t.Fatalf("round trip: %+v, %v", b, err)
				}
			}
		}
		if info.UID == "" {
			added := AddUID(data, "fuzz-uid,1")
			if got, err := Validate(added); err != nil || got.UID != "fuzz-uid,1" {
				t.Fatalf("after AddUID: %+v, %v\n%q", got, err, added)
			}
		}
		// Split frames a valid card as exactly that card.
		var cards [][]byte
		err = Split(bytes.NewReader(data), func(card []byte, line int) error {
			cards = append(cards, card)
			return nil
		})
		if err != nil || len(cards) != 1 {
			t.Fatalf("Split of a valid card: %d cards, %v", len(cards), err)
		}
		if got, err := Validate(cards[0]); err != nil || got != info {
			t.Fatalf("Validate(Split card) = %+v, %v; want %+v", got, err, info)
		}
	})
}

type splitResult struct {
	cards []string
	lines []int
	err   string
}

func runSplit(t *testing.T, r interface{ Read([]byte) (int, error) }) splitResult {
	var res splitResult
	err := Split(r, func(card []byte, line int) error {
		res.cards = append(res.cards, string(card))
		res.lines = append(res.lines, line)
		return nil
	})
	if err != nil {
		res.err = err.Error()
	}
	return res
}

// FuzzSplit: Split never panics, reads the same from any reader, and hands
// out CRLF-terminated cards from BEGIN to END in increasing line order.
func FuzzSplit(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("\xef\xbb\xbfBEGIN:VCARD\nFN:A\nEND:VCARD\n\n\nBEGIN:VCARD\r\nFN:B\r\nEND:VCARD"))
	f.Add([]byte("BEGIN:VCARD\nEND:VCARD\njunk\n"))
	f.Add([]byte("BEGIN:VCARD\nNOTE:0123456789abcd\r\r\nX:0123456789abcde\r\n\t x\nEND;A=\"b:c\",d;E:vcard \nBEGIN:VCARD\nEND:VCARD\r"))
	f.Add([]byte("g.BEGIN;TYPE=x:VCARD\t\n g\nEND:VCARD\n  \n\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := runSplit(t, bytes.NewReader(data))
		b := runSplit(t, iotest.OneByteReader(bytes.NewReader(data)))
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("Split depends on the reader:\n%+v\n%+v", a, b)
		}
		checkSplitMax(t, data, a)
		checkLineKind(t, data)
		prev := 0
		for i, card := range a.cards {
			if a.lines[i] <= prev {
				t.Fatalf("card %d starts on line %d after line %d", i, a.lines[i], prev)
			}
			prev = a.lines[i] + strings.Count(card, "\n") - 1
			if !strings.HasSuffix(card, "\r\n") {
				t.Fatalf("card %d does not end in CRLF: %q", i, card)
			}
			if strings.Count(card, "\n") != strings.Count(card, "\r\n") {
				t.Fatalf("card %d has a bare LF: %q", i, card)
			}
			Validate([]byte(card))
		}
	})
}

// checkSplitMax: SplitMax, reading lines in the smallest pieces, delivers
// the cards of Split within the limit and refuses the others with their
// size; it fails as Split does.
func checkSplitMax(t *testing.T, data []byte, want splitResult) {
	for _, max := range []int64{0, 30, 100, math.MaxInt64} {
		var got splitResult
		err := split(bytes.NewReader(data), max, 16, func(card []byte, line int) error {
			got.cards = append(got.cards, string(card))
			got.lines = append(got.lines, line)
			return nil
		}, func(line int, size int64) error {
			got.cards = append(got.cards, fmt.Sprintf("too big: %d", size))
			got.lines = append(got.lines, line)
			return nil
		})
		if err != nil {
			got.err = err.Error()
		}
		exp := splitResult{lines: want.lines, err: want.err}
		for _, card := range want.cards {
			if int64(len(card)) > max {
				card = fmt.Sprintf("too big: %d", len(card))
			}
			exp.cards = append(exp.cards, card)
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Fatalf("SplitMax(%d) disagrees with Split:\n%+v\n%+v", max, got, exp)
		}
	}
}

// checkLineKind: lineKind, fed a line in pieces, classifies it as IsBlank
// and contentline.Parse do.
func checkLineKind(t *testing.T, line []byte) {
	p, f := contentline.Parse(line, vcardSyntax)
	delim := f.Code == contentline.OK && isVCARD(p.Value)
	wantBegin := delim && asciiEqualFold(p.Name, fieldBegin)
	wantEnd := delim && asciiEqualFold(p.Name, fieldEnd)
	for _, size := range []int{1, 3, len(line) + 1} {
		var k lineKind
		for rest := line; len(rest) > 0; {
			n := min(size, len(rest))
			k.feed(rest[:n])
			rest = rest[n:]
		}
		begin, end := k.delimiter()
		if k.blank() != contentline.IsBlank(line) || begin != wantBegin || end != wantEnd {
			t.Fatalf("lineKind(%q) = blank %v, BEGIN %v, END %v; want %v %v %v", line, k.blank(), begin, end, contentline.IsBlank(line), wantBegin, wantEnd)
		}
	}
}
