package contacts

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// splitEvent is a card SplitMax delivered or refused as too big.
type splitEvent struct {
	line int
	card string // "" for a card refused as too big
	size int64
}

func collectMax(r io.Reader, max int64) ([]splitEvent, error) {
	var got []splitEvent
	err := SplitMax(r, max, func(card []byte, line int) error {
		got = append(got, splitEvent{line, string(card), int64(len(card))})
		return nil
	}, func(line int, size int64) error {
		got = append(got, splitEvent{line: line, size: size})
		return nil
	})
	return got, err
}

// repeatReader yields pattern n times without holding it n times.
type repeatReader struct {
	pattern string
	n       int
	off     int // in the current repetition
}

func repeatN(pattern string, n int) io.Reader { return &repeatReader{pattern: pattern, n: n} }

func (r *repeatReader) Read(p []byte) (int, error) {
	done := 0
	for done < len(p) && r.n > 0 {
		c := copy(p[done:], r.pattern[r.off:])
		done += c
		r.off += c
		if r.off == len(r.pattern) {
			r.off = 0
			r.n--
		}
	}
	if done == 0 {
		return 0, io.EOF
	}
	return done, nil
}

func TestSplitMaxRefusesBigCards(t *testing.T) {
	const max = 1000
	a := "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n"
	b := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:B\r\nEND:VCARD\r\n"
	// A card of exactly max bytes (as delivered, with CRLF) passes.
	head := "BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:"
	tail := "\r\nEND:VCARD\r\n"
	exact := head + strings.Repeat("n", max-len(head)-len(tail)) + tail
	for _, tt := range []struct {
		name string
		big  string // starts on line 5, after a
	}{
		{"one huge line", "BEGIN:VCARD\nVERSION:4.0\nNOTE:" + strings.Repeat("x", 300_000) + "\nEND:VCARD\n"},
		{"a huge line ending in CR CR LF", "BEGIN:VCARD\nVERSION:4.0\nNOTE:" + strings.Repeat("x", 70_000) + "\r\r\nEND:VCARD\n"},
		{"many folded continuation lines", "BEGIN:VCARD\nVERSION:4.0\nNOTE:x\n" + strings.Repeat(" continued\r\n", 20_000) + "END:VCARD\n"},
		{"many lines", "BEGIN:VCARD\nVERSION:4.0\n" + strings.Repeat("TEL:+1 555 0100\n", 5_000) + "END:VCARD\n"},
		{"one byte over", head + strings.Repeat("n", max+1-len(head)-len(tail)) + tail},
		{"long END line", "BEGIN:VCARD\nVERSION:4.0\nEND;X-P=\"" + strings.Repeat(":", 100_000) + "\":vcard" + strings.Repeat(" ", 100_000) + "\n"},
		{"long folded BEGIN line", "BEGIN;X=" + strings.Repeat("y\n ", 10_000) + ":VCARD\nVERSION:4.0\nEND:VCARD\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := a + tt.big + "\n" + strings.Repeat(" ", 100_000) + "\n" + b + exact
			// The size refused is that of the card Split would deliver.
			want, err := collect(strings.NewReader(in))
			if err != nil || len(want) != 4 || want[1].line != 5 {
				t.Fatalf("Split: %+v, %v", want, err)
			}
			size := int64(len(want[1].card))
			if size <= max {
				t.Fatalf("the big card has %d bytes", size)
			}
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(in)},
				{"one byte at a time", iotest.OneByteReader(strings.NewReader(in))},
			} {
				got, err := collectMax(r.r, max)
				if err != nil {
					t.Fatalf("%s: SplitMax: %v", r.name, err)
				}
				wantEv := []splitEvent{
					{1, want[0].card, int64(len(want[0].card))},
					{5, "", size},
					{want[2].line, b, int64(len(b))},
					{want[3].line, exact, max},
				}
				if fmt.Sprint(got) != fmt.Sprint(wantEv) {
					t.Errorf("%s: SplitMax =\n%.300s\nwant\n%.300s", r.name, fmt.Sprint(got), fmt.Sprint(wantEv))
				}
			}
		})
	}
}

func TestSplitMaxFramingErrors(t *testing.T) {
	huge := "NOTE:" + strings.Repeat("x", 200_000) + "\n"
	tests := []struct {
		name  string
		in    string
		calls int // cards delivered or refused before the error
		line  int
		msg   string
	}{
		{"junk after a big card", "BEGIN:VCARD\n" + huge + "END:VCARD\nhello\n", 1, 4, "expected BEGIN:VCARD (data outside a vCard)"},
		{"long junk between cards", "BEGIN:VCARD\nEND:VCARD\n" + huge + "BEGIN:VCARD\nEND:VCARD\n", 1, 3, "expected BEGIN:VCARD (data outside a vCard)"},
		{"big card without END", "BEGIN:VCARD\nEND:VCARD\nBEGIN:VCARD\n" + huge, 1, 3, "vCard not terminated: missing END:VCARD"},
		{"BEGIN inside a big card", "BEGIN:VCARD\n" + huge + "BEGIN:VCARD\nEND:VCARD\n", 0, 3, "BEGIN:VCARD inside the vCard started on line 1 (missing END:VCARD?)"},
		{"BEGIN inside a card of many lines", "BEGIN:VCARD\n" + strings.Repeat("TEL:1\n", 10_000) + "BEGIN:VCARD\n", 0, 10_002, "BEGIN:VCARD inside the vCard started on line 1 (missing END:VCARD?)"},
		{"big unterminated card at the start", "BEGIN:VCARD\n" + huge, 0, 1, "vCard not terminated: missing END:VCARD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Split gives the same error.
			_, err := collect(strings.NewReader(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Line != tt.line || ve.Msg != tt.msg {
				t.Fatalf("Split: %v", err)
			}
			got, err := collectMax(strings.NewReader(tt.in), 100)
			if !errors.As(err, &ve) {
				t.Fatalf("SplitMax error = %v, want *ValidationError", err)
			}
			if ve.Line != tt.line || ve.Msg != tt.msg || len(got) != tt.calls {
				t.Errorf("SplitMax = %d calls, line %d %q; want %d calls, line %d %q", len(got), ve.Line, ve.Msg, tt.calls, tt.line, tt.msg)
			}
		})
	}

	// tooBig's error stops SplitMax and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err := SplitMax(strings.NewReader("BEGIN:VCARD\n"+huge+"END:VCARD\nBEGIN:VCARD\nEND:VCARD\n"), 100,
		func([]byte, int) error { calls++; return nil },
		func(int, int64) error { return stop })
	if err != stop || calls != 0 {
		t.Errorf("SplitMax with failing tooBig = %v after %d cards", err, calls)
	}
}

// TestSplitMaxMemory: a card over the limit is never held, however its
// bytes are laid out.
func TestSplitMaxMemory(t *testing.T) {
	const size = 50 << 20
	for _, tt := range []struct {
		name    string
		pattern string
	}{
		{"one line", "x"},
		{"folded continuation lines", "\r\n continued"},
		{"many lines", "\r\nTEL:+1 555 0100"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			head := "BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:"
			tail := "\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:next\r\nEND:VCARD\r\n"
			n := size / len(tt.pattern)
			r := io.MultiReader(strings.NewReader(head), repeatN(tt.pattern, n), strings.NewReader(tail))
			var refused int64
			var cards int
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := SplitMax(r, 1<<20, func([]byte, int) error { cards++; return nil },
				func(line int, size int64) error { refused = size; return nil })
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(len(head) + n*len(tt.pattern) + len("\r\nEND:VCARD\r\n")); refused != want || cards != 1 {
				t.Errorf("refused a card of %d bytes (want %d), delivered %d cards", refused, want, cards)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("a %d MB card refused at 1 MiB allocated %.1f MB", size>>20, float64(alloc)/(1<<20))
			}
		})
	}
}

// BenchmarkSplitOneLine frames a card made of one long line between two
// small ones: Split holds it, SplitMax at 1 MiB refuses it.
func BenchmarkSplitOneLine(b *testing.B) {
	for _, size := range []int{2 << 20, 50 << 20} {
		head := "BEGIN:VCARD\r\nFN:a\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:"
		tail := "\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:b\r\nEND:VCARD\r\n"
		in := head + strings.Repeat("x", size) + tail
		fn := func([]byte, int) error { return nil }
		b.Run(fmt.Sprintf("Split/%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Split(strings.NewReader(in), fn); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("SplitMax1MiB/%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := SplitMax(strings.NewReader(in), 1<<20, fn, func(int, int64) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLineKind: the streaming classifier of BEGIN and END lines agrees with
// contentline.Parse on each of its rules.
func TestLineKind(t *testing.T) {
	for _, line := range []string{
		"", " \t ", " x", "BEGIN:VCARD", "begin:vcard \t", "END:VCARD", "End:vCard", "END:VCARDS", "END:VCAR", "END: VCARD",
		"END:VCARD x", "g.END:VCARD", "group-1.BEGIN:VCARD", ".END:VCARD", "g..END:VCARD", "a.b.END:VCARD", "g.:VCARD",
		"ENDS:VCARD", "EN:VCARD", "BEGINNING:VCARD", "END", "END;", "END;:VCARD", "END;X:VCARD", "END;X;Y:VCARD",
		"END;X=:VCARD", "END;X=a,b;Y=c:VCARD", "END;X=,:VCARD", "END;X=\"a:b;c\":VCARD", "END;X=\"a\"b:VCARD",
		"END;X=\"a\",\"b\";Y=\"\":VCARD", "END;X=\"a:VCARD", "END;X=a\"b\":VCARD", "END;X=\"a\"", "END;X=a",
		"END;X?=a:VCARD", "END;=a:VCARD", "END x:VCARD", "END.:VCARD", "END:VCARD:", "END;X=a:b:VCARD",
		"BEGIN;X=\"END:VCARD\":VCARD",
	} {
		checkLineKind(t, []byte(line))
	}
}

// TestSplitPieces: lines read in pieces of 16 bytes, with a CR at every
// place around a piece's end, frame as Split with its 64 KiB buffer.
func TestSplitPieces(t *testing.T) {
	for pad := 0; pad < 40; pad++ {
		x := strings.Repeat("x", pad)
		in := "BEGIN:VCARD\nNOTE:" + x + "\r\r\nX:" + x + "\r\n\t" + x + "\rEND:VCARD" + x + "\n" + x + "\r\nEND:VCARD\r"
		want := runSplit(t, strings.NewReader(in))
		checkSplitMax(t, []byte(in), want)
	}
}
