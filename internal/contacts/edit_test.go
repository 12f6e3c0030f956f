package contacts

import (
	"strings"
	"testing"
)

func TestParseFormatPropsRoundTrip(t *testing.T) {
	cards := []string{
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:John Doe\r\nTEL;type=CELL;TYPE=voice:+33 6 12\r\nNOTE:long line \r\n folded here\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\nVERSION:4.0\nFN:X\nitem1.EMAIL;PREF=1:x@y.z\nitem1.X-ABLabel:_$!<Other>!$_\nEND:VCARD",
	}
	for _, c := range cards {
		version, props, err := ParseProps([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(FormatProps(props, version, LineEnding([]byte(c)))); got != c {
			t.Errorf("round trip:\n got %q\nwant %q", got, c)
		}
	}
}

func TestParsePropsFields(t *testing.T) {
	c := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\\, B\r\nitem2.TEL;TYPE=cell;TYPE=\"voice,home\";LABEL=\"a^nb\":1\r\nEND:VCARD\r\n"
	_, props, err := ParseProps([]byte(c))
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 5 || props[2].Name != "FN" || props[2].Text() != "A, B" {
		t.Fatalf("props = %+v", props)
	}
	tel := props[3]
	if tel.Group != "item2" || tel.Name != "TEL" || strings.Join(tel.Param("TYPE"), "|") != "cell|voice|home" || tel.Param("LABEL")[0] != "a\nb" {
		t.Fatalf("tel = %+v", tel)
	}
}

func TestFormatPropsChanged(t *testing.T) {
	c := "BEGIN:VCARD\nVERSION:4.0\nFN:X\nTEL;TYPE=cell:1\nEND:VCARD\n"
	version, props, err := ParseProps([]byte(c))
	if err != nil {
		t.Fatal(err)
	}
	// Changing a copy's parameters must be seen even though the slices are shared.
	props[3].Params = []Param{{Name: "TYPE", Values: []string{"cell", "work"}}, {Name: "LABEL", Values: []string{"a:b\nc"}}}
	props = append(props[:4], Prop{Name: "NOTE", Value: EscapeText(strings.Repeat("é", 50))}, props[4])
	got := string(FormatProps(props, version, "\n"))
	want := "BEGIN:VCARD\nVERSION:4.0\nFN:X\nTEL;TYPE=cell,work;LABEL=\"a:b^nc\":1\n"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\nEND:VCARD\n") {
		t.Fatalf("got %q", got)
	}
	if _, err := Validate([]byte(got)); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(got, "\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
	}
	_, again, _ := ParseProps([]byte(got))
	if again[4].Text() != strings.Repeat("é", 50) {
		t.Errorf("note = %q", again[4].Text())
	}
}

func TestParsePropsInvalid(t *testing.T) {
	if _, _, err := ParseProps([]byte("BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n")); err == nil {
		t.Fatal("no error for a card without VERSION")
	}
}

func TestLineEnding(t *testing.T) {
	for in, want := range map[string]string{"A\nB": "\n", "A\r\nB": "\r\n", "A": "\r\n", "": "\r\n"} {
		if got := LineEnding([]byte(in)); got != want {
			t.Errorf("LineEnding(%q) = %q", in, got)
		}
	}
}

func TestFormatPropsMixedLineEnds(t *testing.T) {
	_, a, _ := ParseProps([]byte("BEGIN:VCARD\nVERSION:4.0\nFN:X\nEND:VCARD\n"))
	_, b, _ := ParseProps([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Y\r\nNOTE:n\r\nEND:VCARD\r\n"))
	props := append(a[:3:3], b[3], a[3])
	if got := string(FormatProps(props, "4.0", "\n")); got != "BEGIN:VCARD\nVERSION:4.0\nFN:X\nNOTE:n\nEND:VCARD\n" {
		t.Errorf("got %q", got)
	}
}

// FuzzFormatProps: the props of an accepted card, written back as they are
// or formatted anew, give a valid card with the same props.
func FuzzFormatProps(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		version, props, err := ParseProps(data)
		if err != nil {
			return
		}
		same := func(a, b []Prop) bool {
			if len(a) != len(b) {
				return false
			}
			for i := range a {
				x, y := a[i], b[i]
				if x.Group != y.Group || x.Name != y.Name || x.Value != y.Value || formatParamsForTest(x.Params, version) != formatParamsForTest(y.Params, "") {
					return false
				}
			}
			return true
		}
		out := FormatProps(props, version, LineEnding(data))
		_, again, err := ParseProps(out)
		if err != nil {
			t.Fatalf("%v\n%q", err, out)
		}
		if !same(props, again) {
			t.Fatalf("props changed:\n%q\n%q", data, out)
		}
		fresh := make([]Prop, len(props))
		for i, p := range props {
			fresh[i] = Prop{Group: p.Group, Name: p.Name, Params: p.Params, Value: p.Value}
		}
		out = FormatProps(fresh, version, "\r\n")
		if _, err := Validate(out); err != nil {
			t.Fatalf("%v\n%q", err, out)
		}
	})
}

// formatParamsForTest spells parameters for comparison. In vCard 3.0 a
// parameter value cannot hold a DQUOTE (RFC 2426 ptext and quoted-string
// both exclude it), and writing one turns it into an apostrophe: the
// parameters as read are spelt with that version, what was written back
// with version "" to compare exactly.
func formatParamsForTest(ps []Param, version string) string {
	var b strings.Builder
	for _, p := range ps {
		vs := strings.Join(p.Values, "\x00")
		if version != "" && version != "4.0" {
			vs = strings.ReplaceAll(vs, `"`, "'")
		}
		b.WriteString(p.Name + "=" + vs + ";")
		if p.Values == nil {
			b.WriteString("nil")
		}
	}
	return b.String()
}
