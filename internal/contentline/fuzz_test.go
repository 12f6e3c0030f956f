package contentline

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"", "A:1\r\nB:2\r\n", "A:1\nB:2", "A:1\rB:2\r", "NOTE:a\r\n b\r\n\tc\r\n", " A\n B\n", BOM + "A:1\r\n",
		"item1.EMAIL;TYPE=INTERNET,pref:a@b", `ATTENDEE;CN="Doe, Jane";X="a;b:c",d:mailto:j`, "TEL;CELL;PREF:1",
		`X;P="a"b:v`, `X;P="a`, `X;P=a"b:v`, `X;=a:v`, ".x:y", "a.:x", "X;P.Q=a:b", "DESCRIPTION:Zo\xc3\r\n \xab",
	} {
		f.Add([]byte(s))
	}
}

// FuzzScanner: the lines of any data tile it from the end of the BOM to the
// end, their numbers count its physical lines, and Text agrees with a plain
// reading: split at LF, drop one CR before it, join each line that starts
// with a space or tab to the one before without that character.
func FuzzScanner(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rest := data
		pos := 0
		if bytes.HasPrefix(rest, []byte(BOM)) {
			rest, pos = rest[len(BOM):], len(BOM)
		}
		var want []string
		if len(rest) > 0 {
			phys := strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n")
			for i, p := range phys {
				if i == len(phys)-1 || strings.HasSuffix(p, "\r") {
					p = strings.TrimSuffix(p, "\r")
				}
				if i > 0 && p != "" && (p[0] == ' ' || p[0] == '\t') {
					want[len(want)-1] += p[1:]
					continue
				}
				want = append(want, p)
			}
		}
		s := NewScanner(data)
		num := 1
		var buf []byte
		for i := 0; ; i++ {
			l, ok := s.Next()
			if !ok {
				if i != len(want) || pos != len(data) {
					t.Fatalf("%d lines to %d, want %d to %d", i, pos, len(want), len(data))
				}
				break
			}
			if i >= len(want) {
				t.Fatalf("line %d: more lines than %d", i, len(want))
			}
			if l.Start != pos || l.Num != num || l.End <= l.Start || l.FirstEnd < l.Start || l.FirstEnd > l.End {
				t.Fatalf("line %d: %+v at %d, number %d", i, l, pos, num)
			}
			raw := data[l.Start:l.End]
			n := bytes.Count(raw, []byte{'\n'})
			if raw[len(raw)-1] != '\n' {
				n++
			}
			if l.Folded != (n > 1) {
				t.Fatalf("line %d: Folded %v over %d physical lines", i, l.Folded, n)
			}
			text := s.Text(l, buf)
			if l.Folded {
				buf = text
			}
			if string(text) != want[i] {
				t.Fatalf("line %d: %q, want %q", i, text, want[i])
			}
			if e := l.Ending(data); !bytes.HasSuffix(raw, []byte(e)) || (e == "") != (raw[len(raw)-1] != '\n') {
				t.Fatalf("line %d: ending %q of %q", i, e, raw)
			}
			pos, num = l.End, num+n
			if s.Lines() != num-1 {
				t.Fatalf("Lines() = %d after line %d", s.Lines(), num-1)
			}
		}
	})
}

// FuzzParse: Parse never panics and reads bytes and strings alike; a line
// it accepts is its parts put back together, with parameters EachParam
// walks back into the raw parameters; a stricter syntax never accepts more;
// Name agrees with Parse on the name.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		strictOK := false
		for _, syn := range []Syntax{strictSyn, vcardSyn, dotSyn, {Groups: true}, {BareParams: true, DotInNames: true}} {
			p, fault := Parse(b, syn)
			ps, fs := Parse(string(b), syn)
			if fault != fs || string(p.Group) != ps.Group || string(p.Name) != ps.Name || string(p.Params) != ps.Params || string(p.Value) != ps.Value {
				t.Fatalf("%q %+v: bytes %+v %+v, string %+v %+v", b, syn, p, fault, ps, fs)
			}
			_, _, nameOK := Name(b, syn)
			if nameOK != (fault.Code == OK || fault.Code > EmptyName) {
				t.Fatalf("%q %+v: Name ok %v, Parse %+v", b, syn, nameOK, fault)
			}
			if fault.Code != OK {
				if fault.Code > NoColon || fault.At < 0 || fault.At > len(b) || fault.Param > fault.ParamEnd || fault.ParamEnd > len(b) {
					t.Fatalf("%q %+v: fault %+v", b, syn, fault)
				}
				if syn == strictSyn {
					continue
				}
				if strictOK {
					t.Fatalf("%q: %+v rejects (%+v) what the strict syntax accepts", b, syn, fault)
				}
				continue
			}
			if syn == strictSyn {
				strictOK = true
			}
			whole := string(p.Name) + string(p.Params) + ":" + string(p.Value)
			if len(p.Group) > 0 {
				whole = string(p.Group) + "." + whole
			}
			if whole != string(b) || !IsName(p.Name, syn) || (len(p.Group) > 0 && !IsName(p.Group, syn)) {
				t.Fatalf("%q %+v: parts %+v", b, syn, p)
			}
			var again []byte
			EachParam(p.Params, syn, func(name, raw []byte, bare bool) bool {
				if !IsName(name, syn) || (bare && (!syn.BareParams || len(raw) > 0)) {
					t.Fatalf("%q %+v: parameter %q %q bare %v", b, syn, name, raw, bare)
				}
				again = append(append(again, ';'), name...)
				if !bare {
					again = append(append(again, '='), raw...)
					n := 0
					EachValue(raw, func(v []byte) bool { n++; return true })
					if n == 0 || n > bytes.Count(raw, []byte{','})+1 {
						t.Fatalf("%q %+v: %d values in %q", b, syn, n, raw)
					}
				}
				return true
			})
			if string(again) != string(p.Params) {
				t.Fatalf("%q %+v: parameters walked as %q", b, syn, again)
			}
		}
	})
}

// FuzzAppendFolded: a line written folded reads back as it was, no physical
// line exceeds 75 octets, and valid UTF-8 stays valid on every line.
func FuzzAppendFolded(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(strings.Repeat("é😀", 60)))
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.ContainsAny(line, "\r\n") || bytes.HasPrefix(line, []byte(BOM)) || (len(line) > 0 && (line[0] == ' ' || line[0] == '\t')) {
			return // not a content line a writer is given
		}
		out := AppendFolded(nil, line, "\r\n")
		for _, phys := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
			if len(phys) > 75 || (utf8.Valid(line) && !utf8.ValidString(phys)) {
				t.Fatalf("%q: physical line %q", line, phys)
			}
		}
		s := NewScanner(out)
		l, ok := s.Next()
		if !ok {
			if len(line) == 0 {
				return
			}
			t.Fatalf("%q: no line in %q", line, out)
		}
		if _, more := s.Next(); more || string(s.Text(l, nil)) != string(line) || l.End != len(out) {
			t.Fatalf("%q: reads back as %q from %q", line, s.Text(l, nil), out)
		}
	})
}
