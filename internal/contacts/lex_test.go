package contacts

import (
	"bytes"
	"fmt"
	"testing"
)

// TestQuoteInsideUnquotedParamValue: a '"' inside an unquoted parameter
// value (accepted as content) neither swallows the parameters after it nor
// pairs with the quote of a later quoted value: the parameters read are the
// ones Validate accepted.
func TestQuoteInsideUnquotedParamValue(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`NOTE;X-A=a"b;X-B=c:x`, `[{X-A [a"b]} {X-B [c]}]`},
		{`NOTE;X-A=a"b;X-B="c;d":x`, `[{X-A [a"b]} {X-B [c;d]}]`},
		{`NOTE;X-A=a"b,"c;d";X-B=e:x`, `[{X-A [a"b c;d]} {X-B [e]}]`},
	} {
		card := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n" + c.line + "\r\nEND:VCARD\r\n")
		_, props, err := ParseProps(card)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(props[3].Params); got != c.want {
			t.Errorf("%s: params %s, want %s", c.line, got, c.want)
		}
		f := Filter{Props: []PropFilter{{Name: "NOTE", Params: []ParamFilter{{Name: "X-B", TextMatch: &TextMatch{Text: "c", MatchType: "starts-with"}}}}}}
		if err := f.Check(); err != nil {
			t.Fatal(err)
		}
		want := c.line != `NOTE;X-A=a"b,"c;d";X-B=e:x`
		if ok, err := f.Match(card); err != nil || ok != want {
			t.Errorf("%s: X-B starts with c: %v, %v, want %v", c.line, ok, err, want)
		}
	}
}

// TestBadByte: the word-at-a-time scan finds the first forbidden byte as a
// byte-by-byte one does, wherever it is in a word.
func TestBadByte(t *testing.T) {
	want := func(b []byte) int {
		for i, c := range b {
			if c >= 0x20 || c == '\t' || c == '\n' || (c == '\r' && (i+1 == len(b) || b[i+1] == '\n')) {
				continue
			}
			return i
		}
		return -1
	}
	for n := 0; n < 24; n++ {
		for at := 0; at < n; at++ {
			for _, c := range []byte{0, 1, '\t', '\n', '\r', 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0xff} {
				for _, fill := range []byte{'x', 0xc3, '\n'} {
					b := bytes.Repeat([]byte{fill}, n)
					b[at] = c
					if got := badByte(b); got != want(b) {
						t.Fatalf("badByte(%q) = %d, want %d", b, got, want(b))
					}
					if at+1 < n {
						b[at+1] = '\r'
						if got := badByte(b); got != want(b) {
							t.Fatalf("badByte(%q) = %d, want %d", b, got, want(b))
						}
					}
				}
			}
		}
	}
}
