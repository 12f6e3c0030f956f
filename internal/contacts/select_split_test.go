package contacts

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSelect(t *testing.T) {
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Zoë\r\n Ångström\r\nN:Ångström;Zoë;;;\r\n" +
		"item1.EMAIL;type=INTERNET:z@example.com\r\nitem1.X-ABLabel:Other\r\nitem2.EMAIL:w@example.com\r\n" +
		"TEL;TYPE=CELL:+46 70\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n BBBB\r\nEND:VCARD\r\n"
	tests := []struct {
		name  string
		names []string
		want  string
	}{
		{"none: unchanged", nil, card},
		{"FN (folded, kept byte for byte)", []string{"FN"},
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Zoë\r\n Ångström\r\nEND:VCARD\r\n"},
		{"case-insensitive, any group", []string{"email", "Tel"},
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nitem1.EMAIL;type=INTERNET:z@example.com\r\nitem2.EMAIL:w@example.com\r\nTEL;TYPE=CELL:+46 70\r\nEND:VCARD\r\n"},
		{"group-qualified", []string{"item1.X-ABLABEL", "ITEM1.email"},
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nitem1.EMAIL;type=INTERNET:z@example.com\r\nitem1.X-ABLabel:Other\r\nEND:VCARD\r\n"},
		{"unknown name", []string{"X-NOPE"},
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nEND:VCARD\r\n"},
		{"photo with continuation", []string{"PHOTO", "N"},
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nN:Ångström;Zoë;;;\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n BBBB\r\nEND:VCARD\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Select([]byte(card), tt.names)); got != tt.want {
				t.Errorf("Select(%q) =\n%q\nwant\n%q", tt.names, got, tt.want)
			}
		})
	}
	// LF line ends are kept as they are.
	lf := "BEGIN:VCARD\nVERSION:4.0\nFN:A\nNOTE:n\nEND:VCARD"
	if got := string(Select([]byte(lf), []string{"NOTE"})); got != "BEGIN:VCARD\nVERSION:4.0\nNOTE:n\nEND:VCARD" {
		t.Errorf("Select LF = %q", got)
	}
}

type splitCard struct {
	line int
	card string
}

func collect(r io.Reader) ([]splitCard, error) {
	var got []splitCard
	err := Split(r, func(card []byte, line int) error {
		got = append(got, splitCard{line, string(card)})
		return nil
	})
	return got, err
}

func TestSplit(t *testing.T) {
	three := "\xef\xbb\xbfBEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n" +
		"\n\r\n" +
		"begin:vcard\r\nVERSION:4.0\r\nFN:Zoë\r\n Ångström\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\nVERSION:4.0\nFN:C\nEND:VCARD"
	want := []splitCard{
		{1, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n"},
		{7, "begin:vcard\r\nVERSION:4.0\r\nFN:Zoë\r\n Ångström\r\nEND:VCARD\r\n"},
		{12, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:C\r\nEND:VCARD\r\n"},
	}
	for _, r := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", strings.NewReader(three)},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(three))},
	} {
		got, err := collect(r.r)
		if err != nil {
			t.Fatalf("%s: Split: %v", r.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: Split =\n%+v\nwant\n%+v", r.name, got, want)
		}
		for _, c := range got {
			if _, err := Validate([]byte(c.card)); err != nil {
				t.Errorf("card at line %d does not validate: %v", c.line, err)
			}
		}
	}

	// Folded BEGIN and END lines are unfolded, as Validate does.
	got, err := collect(strings.NewReader("BEG\n IN:VCARD\nVERSION:4.0\nFN:A\nEND:VC\n\tARD\n"))
	if err != nil || len(got) != 1 || got[0] != (splitCard{1, "BEG\r\n IN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VC\r\n\tARD\r\n"}) {
		t.Errorf("folded delimiters: %+v, %v", got, err)
	}

	// A line longer than the reader's buffer.
	long := strings.Repeat("x", 200_000)
	got, err = collect(strings.NewReader("BEGIN:VCARD\nVERSION:4.0\nFN:A\nNOTE:" + long + "\nEND:VCARD\n"))
	if err != nil || len(got) != 1 || got[0].card != "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nNOTE:"+long+"\r\nEND:VCARD\r\n" {
		t.Errorf("long line: %d cards, %v", len(got), err)
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		cards int // cards delivered before the error
		line  int
		msg   string
	}{
		{"junk between cards", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nhello\nBEGIN:VCARD\nVERSION:4.0\nFN:B\nEND:VCARD\n",
			1, 5, "expected BEGIN:VCARD (data outside a vCard)"},
		{"junk first", "From: someone\nBEGIN:VCARD\nEND:VCARD\n", 0, 1, "expected BEGIN:VCARD (data outside a vCard)"},
		{"continuation line after END", "BEGIN:VCARD\nFN:A\nEND:VCARD\n x\n", 0, 1, "vCard not terminated: missing END:VCARD"},
		{"continuation of a blank line", "BEGIN:VCARD\nFN:A\nEND:VCARD\n\n x\n", 1, 4, "expected BEGIN:VCARD (data outside a vCard)"},
		{"missing END", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:B\n", 1, 5, "vCard not terminated: missing END:VCARD"},
		{"BEGIN inside a card", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nBEGIN:VCARD\nEND:VCARD\n", 0, 4, "BEGIN:VCARD inside the vCard started on line 1 (missing END:VCARD?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(strings.NewReader(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Split error = %v, want *ValidationError", err)
			}
			if ve.Line != tt.line || ve.Msg != tt.msg || len(got) != tt.cards {
				t.Errorf("Split = %d cards, line %d %q; want %d cards, line %d %q", len(got), ve.Line, ve.Msg, tt.cards, tt.line, tt.msg)
			}
			// Only a card cut by the end of the input is unterminated.
			if cut := strings.HasPrefix(tt.msg, "vCard not terminated"); errors.Is(err, ErrUnterminated) != cut {
				t.Errorf("errors.Is(%v, ErrUnterminated) = %v, want %v", err, !cut, cut)
			}
		})
	}

	// fn's error stops Split and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err := Split(strings.NewReader("BEGIN:VCARD\nEND:VCARD\nBEGIN:VCARD\nEND:VCARD\n"), func([]byte, int) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Split with failing fn = %v after %d calls", err, calls)
	}

	// Read errors are passed on.
	boom := errors.New("boom")
	if err := Split(iotest.ErrReader(boom), func([]byte, int) error { return nil }); err != boom {
		t.Errorf("Split read error = %v", err)
	}
}
