package contentline

import (
	"fmt"
	"strings"
	"testing"
)

// lineString shows a Line and its unfolded text.
func lineString(s *Scanner, data []byte, l Line) string {
	return fmt.Sprintf("%d %d-%d first %d folded %v %q %q", l.Num, l.Start, l.End, l.FirstEnd, l.Folded, s.Text(l, nil), l.Ending(data))
}

func TestScanner(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       []string
		lines      int
	}{
		{"empty", "", nil, 0},
		{"CRLF", "A:1\r\nB:2\r\n", []string{
			`1 0-5 first 3 folded false "A:1" "\r\n"`,
			`2 5-10 first 8 folded false "B:2" "\r\n"`}, 2},
		{"LF only, no final terminator", "A:1\nB:2", []string{
			`1 0-4 first 3 folded false "A:1" "\n"`,
			`2 4-7 first 7 folded false "B:2" ""`}, 2},
		{"CR only is content, not a line end", "A:1\rB:2\r", []string{
			`1 0-8 first 7 folded false "A:1\rB:2" ""`}, 1},
		{"folded with space and tab", "NOTE:a\r\n b\r\n\tc\r\nX:y\r\n", []string{
			`1 0-16 first 6 folded true "NOTE:abc" "\r\n"`,
			`4 16-21 first 19 folded false "X:y" "\r\n"`}, 4},
		{"fold of mixed ends, empty continuations", "N:a\n \r\n b\n \n", []string{
			`1 0-12 first 3 folded true "N:ab" "\n"`}, 4},
		{"BOM skipped, offsets into the data", BOM + "A:1\r\n", []string{
			`1 3-8 first 6 folded false "A:1" "\r\n"`}, 1},
		{"BOM only at the start", "A:1\n" + BOM + "B:2\n", []string{
			`1 0-4 first 3 folded false "A:1" "\n"`,
			`2 4-11 first 10 folded false "\ufeffB:2" "\n"`}, 2},
		{"blank lines are lines", "\r\n\nA:1\n", []string{
			`1 0-2 first 0 folded false "" "\r\n"`,
			`2 2-3 first 2 folded false "" "\n"`,
			`3 3-7 first 6 folded false "A:1" "\n"`}, 3},
		{"first line starting with a space", " A:1\n B\n", []string{
			`1 0-8 first 4 folded true " A:1B" "\n"`}, 2},
		{"continuation at the very end", "A:1\n ", []string{
			`1 0-5 first 3 folded true "A:1" ""`}, 2},
		{"CR kept inside, dropped at the end", "A:\r1\r", []string{
			`1 0-5 first 4 folded false "A:\r1" ""`}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.data)
			s := NewScanner(data)
			var got []string
			for {
				l, ok := s.Next()
				if !ok {
					break
				}
				got = append(got, lineString(&s, data, l))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if s.Lines() != c.lines {
				t.Errorf("Lines() = %d, want %d", s.Lines(), c.lines)
			}
		})
	}
}

// TestUnfoldReusesBuffer: a folded line is assembled in the caller's
// buffer, an unfolded one points into the data.
func TestUnfoldReusesBuffer(t *testing.T) {
	data := []byte("A:1\r\nNOTE:a\r\n b\r\n")
	s := NewScanner(data)
	buf := make([]byte, 0, 64)
	l, _ := s.Next()
	if c := s.Text(l, buf); &c[0] != &data[0] {
		t.Errorf("unfolded line copied")
	}
	l, _ = s.Next()
	if c := s.Text(l, buf); &c[0] != &buf[:1][0] || string(c) != "NOTE:ab" {
		t.Errorf("folded line %q not in the buffer", c)
	}
}

var (
	vcardSyn  = Syntax{Groups: true, BareParams: true, QuoteInValues: true}
	dotSyn    = Syntax{DotInNames: true}
	strictSyn = Syntax{}
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		syn  Syntax
		line string
		want string // "group|name|params|value" or the fault
	}{
		{strictSyn, "FN:Jane", "|FN||Jane"},
		{strictSyn, "X:a:b;c", "|X||a:b;c"},
		{strictSyn, "X:", "|X||"},
		{vcardSyn, "item1.EMAIL;TYPE=INTERNET,pref:a@b", "item1|EMAIL|;TYPE=INTERNET,pref|a@b"},
		{dotSyn, "item1.EMAIL;TYPE=INTERNET,pref:a@b", "|item1.EMAIL|;TYPE=INTERNET,pref|a@b"},
		{strictSyn, "item1.EMAIL:a@b", "BadName at 5"},
		{dotSyn, "X;P.Q=a:b", "|X|;P.Q=a|b"},
		{vcardSyn, "X;P.Q=a:b", "BadParamName at 3, param 2-3"},
		// Quoting: ';', ':' and ',' inside quotes, empty values, lists.
		{strictSyn, `ATTENDEE;CN="Doe, Jane";X="a;b:c",d:mailto:j`, `|ATTENDEE|;CN="Doe, Jane";X="a;b:c",d|mailto:j`},
		{strictSyn, `X;P=:v`, "|X|;P=|v"},
		{strictSyn, `X;P=,:v`, "|X|;P=,|v"},
		{strictSyn, `X;P="":v`, `|X|;P=""|v`},
		{strictSyn, `X;P="a"b:v`, "AfterQuote at 7, param 2-3"},
		{strictSyn, `X;P="a"`, "AfterQuote at 7, param 2-3"},
		{strictSyn, `X;P="a:v`, "Unterminated at 4, param 2-3"},
		{strictSyn, `X;P=a"b:v`, "QuoteInValue at 5, param 2-3"},
		{vcardSyn, `X;P=a"b:v`, `|X|;P=a"b|v`},
		{strictSyn, `X;P=a`, "NoColon at 5, param 2-3"},
		// Parameter names: empty, missing '=', bare.
		{strictSyn, `X;=a:v`, "BadParamName at 2, param 2-2"},
		{strictSyn, `X;`, "BadParamName at 2, param 2-2"},
		{strictSyn, `X;P`, "BadParamName at 3, param 2-3"},
		{strictSyn, `TEL;CELL:1`, "BadParamName at 8, param 4-8"},
		{vcardSyn, `TEL;CELL;PREF;TYPE=x:1`, "|TEL|;CELL;PREF;TYPE=x|1"},
		{strictSyn, `X;P Q=a:v`, "BadParamName at 3, param 2-3"},
		// Names.
		{strictSyn, "", "BadName at 0"},
		{strictSyn, "X", "BadName at 1"},
		{strictSyn, "X Y:z", "BadName at 1"},
		{strictSyn, ":x", "EmptyName at 0"},
		{strictSyn, ";P=a:x", "EmptyName at 0"},
		{vcardSyn, ".x:y", "EmptyGroup at 0"},
		{vcardSyn, "a.:x", "EmptyName at 2"},
		{vcardSyn, "a.b.c:x", "BadName at 3"},
		{dotSyn, ".x:y", "|.x||y"},
		{strictSyn, "x_y-1:v", "|x_y-1||v"},
	} {
		got := parseString(c.line, c.syn)
		if got != c.want {
			t.Errorf("Parse(%q, %+v) = %s, want %s", c.line, c.syn, got, c.want)
		}
		if got2 := parseString([]byte(c.line), c.syn); got2 != got {
			t.Errorf("Parse(%q) as bytes = %s, as a string %s", c.line, got2, got)
		}
	}
}

var codeNames = []string{"OK", "EmptyGroup", "BadName", "EmptyName", "BadParamName", "Unterminated", "AfterQuote", "QuoteInValue", "NoColon"}

func parseString[T Text](line T, syn Syntax) string {
	p, f := Parse(line, syn)
	switch f.Code {
	case OK:
		return fmt.Sprintf("%s|%s|%s|%s", p.Group, p.Name, p.Params, p.Value)
	case EmptyGroup, BadName, EmptyName:
		return fmt.Sprintf("%s at %d", codeNames[f.Code], f.At)
	}
	return fmt.Sprintf("%s at %d, param %d-%d", codeNames[f.Code], f.At, f.Param, f.ParamEnd)
}

func TestEachParam(t *testing.T) {
	for _, c := range []struct {
		syn    Syntax
		params string
		want   string
	}{
		{strictSyn, "", ""},
		{strictSyn, `;CN="Doe, Jane";X=a,"b;c",,d`, `CN["Doe, Jane"] X["a" "b;c" "" "d"]`},
		{vcardSyn, `;CELL;TYPE=home;PREF`, `CELL(bare) TYPE["home"] PREF(bare)`},
		{dotSyn, `;P.Q=a`, `P.Q["a"]`},
		{strictSyn, `;P=`, `P[""]`},
		// A quote inside an unquoted value is content, not the start of a quoted string.
		{vcardSyn, `;P=a"b;Q=c`, `P["a\"b"] Q["c"]`},
		{vcardSyn, `;P=a"b,"c;d";Q=e`, `P["a\"b" "c;d"] Q["e"]`},
	} {
		var got []string
		EachParam(c.params, c.syn, func(name, raw string, bare bool) bool {
			if bare {
				got = append(got, name+"(bare)")
				return true
			}
			var vals []string
			EachValue(raw, func(v string) bool {
				vals = append(vals, fmt.Sprintf("%q", v))
				return true
			})
			got = append(got, name+"["+strings.Join(vals, " ")+"]")
			return true
		})
		if strings.Join(got, " ") != c.want {
			t.Errorf("EachParam(%q) = %s, want %s", c.params, strings.Join(got, " "), c.want)
		}
	}
	// fn stops the walk.
	n := 0
	EachParam(";A=1;B=2", strictSyn, func(string, string, bool) bool { n++; return false })
	EachValue("1,2,3", func(string) bool { n++; return false })
	if n != 2 {
		t.Errorf("%d calls after false", n)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		s              string
		strict, dotted bool
	}{
		{"VEVENT", true, true}, {"X-ABC_1", true, true}, {"A.B", false, true}, {"", false, false}, {"A B", false, false}, {"É", false, false},
	} {
		if IsName(c.s, strictSyn) != c.strict || IsName(c.s, dotSyn) != c.dotted {
			t.Errorf("IsName(%q)", c.s)
		}
	}
	for s, blank := range map[string]bool{"": true, " \t ": true, " x": false, "\r": false} {
		if IsBlank(s) != blank {
			t.Errorf("IsBlank(%q)", s)
		}
	}
	if g, n, ok := Name("item1.TEL;CELL:1", vcardSyn); !ok || g != "item1" || n != "TEL" {
		t.Errorf("Name = %q %q %v", g, n, ok)
	}
	if g, n, ok := Name("item1.TEL", vcardSyn); ok || g != "" || n != "" {
		t.Errorf("Name of an unfinished name = %q %q %v", g, n, ok)
	}
}

func TestAppendFolded(t *testing.T) {
	for _, c := range []struct {
		line, eol, want string
	}{
		{"", "\r\n", "\r\n"},
		{"S:" + strings.Repeat("x", 73), "\r\n", "S:" + strings.Repeat("x", 73) + "\r\n"},
		{"S:" + strings.Repeat("x", 74), "\n", "S:" + strings.Repeat("x", 73) + "\n x\n"},
		{"S:" + strings.Repeat("x", 72) + "é", "\r\n", "S:" + strings.Repeat("x", 72) + "\r\n é\r\n"},
		{strings.Repeat("x", 75+74+1), "\r\n", strings.Repeat("x", 75) + "\r\n " + strings.Repeat("x", 74) + "\r\n x\r\n"},
		// Invalid UTF-8: the cut moves back over three continuation bytes at most.
		{strings.Repeat("x", 70) + strings.Repeat("\x80", 10), "\n", strings.Repeat("x", 70) + strings.Repeat("\x80", 2) + "\n " + strings.Repeat("\x80", 8) + "\n"},
	} {
		if got := string(AppendFolded([]byte(">"), c.line, c.eol)); got != ">"+c.want {
			t.Errorf("AppendFolded(%q) = %q, want %q", c.line, got, ">"+c.want)
		}
	}
}

// TestNoAllocs: reading lines allocates nothing, folded lines included once
// the buffer has grown.
func TestNoAllocs(t *testing.T) {
	data := []byte("BEGIN:VCARD\r\nitem1.EMAIL;TYPE=INTERNET,\"pref\":a@b\r\nNOTE:a\r\n b\r\nTEL;CELL:1\r\nEND:VCARD\r\n")
	buf := make([]byte, 0, 128)
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		s := NewScanner(data)
		for {
			l, ok := s.Next()
			if !ok {
				break
			}
			p, f := Parse(s.Text(l, buf), vcardSyn)
			if f.Code != OK {
				panic(f)
			}
			EachParam(p.Params, vcardSyn, func(name, raw []byte, bare bool) bool {
				EachValue(raw, func(v []byte) bool { n += len(v); return true })
				return true
			})
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}
