package calendars

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

const sjTZBerlin = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
X-LIC-LOCATION:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
`

const sjTZNewYork = `BEGIN:VTIMEZONE
TZID:America/New_York
X-LIC-LOCATION:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
`

// googleExport is shaped like a Google Calendar / Thunderbird export: one
// VCALENDAR with METHOD and X-WR properties, two VTIMEZONEs, three single
// events, a weekly event whose two overrides are spread over the file, and
// a todo. Line numbers of the BEGIN lines are noted.
var googleExport = "BEGIN:VCALENDAR\n" + // 1
	"PRODID:-//Google Inc//Google Calendar 70.9054//EN\n" +
	"VERSION:2.0\n" +
	"CALSCALE:GREGORIAN\n" +
	"METHOD:PUBLISH\n" + // 5
	"X-WR-CALNAME:Work\n" +
	"X-WR-TIMEZONE:Europe/Berlin\n" +
	sjTZBerlin + // 8..25
	sjTZNewYork + // 26..43
	"BEGIN:VEVENT\n" + // 44: recurring master
	"DTSTART;TZID=Europe/Berlin:20260302T090000\n" +
	"DTEND;TZID=Europe/Berlin:20260302T093000\n" +
	"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10\n" +
	"DTSTAMP:20260101T120000Z\n" + // 48
	"UID:weekly-1@google.com\n" +
	"SUMMARY:Stand-up\n" +
	"DESCRIPTION:Daily stand-up of the team. Bring your notes\\, questions and \n" +
	" anything else that is on your mind – we’ll keep it short.\n" +
	"END:VEVENT\n" + // 53
	"BEGIN:VEVENT\n" + // 54: single UTC event
	"DTSTART:20260310T150000Z\n" +
	"DTEND:20260310T160000Z\n" +
	"DTSTAMP:20260101T120000Z\n" +
	"UID:single-utc@google.com\n" + // 58
	"SUMMARY:Call with Ana\n" +
	"END:VEVENT\n" +
	"BEGIN:VEVENT\n" + // 61: first override
	"DTSTART;TZID=Europe/Berlin:20260317T090000\n" +
	"DTEND;TZID=Europe/Berlin:20260317T093000\n" + // 63
	"DTSTAMP:20260101T120000Z\n" +
	"UID:weekly-1@google.com\n" +
	"RECURRENCE-ID;TZID=Europe/Berlin:20260316T090000\n" +
	"SUMMARY:Stand-up (Tuesday this week)\n" +
	"END:VEVENT\n" + // 68
	"BEGIN:VEVENT\n" + // 69: New York event with an alarm
	"DTSTART;TZID=America/New_York:20260308T010000\n" +
	"DTEND;TZID=America/New_York:20260308T040000\n" +
	"DTSTAMP:20260101T120000Z\n" +
	"UID:ny-dst@google.com\n" + // 73
	"SUMMARY:Night across the DST change\n" +
	"BEGIN:VALARM\n" +
	"ACTION:DISPLAY\n" +
	"TRIGGER:-PT30M\n" +
	"DESCRIPTION:Reminder\n" + // 78
	"END:VALARM\n" +
	"END:VEVENT\n" +
	"BEGIN:VTODO\n" + // 81: todo
	"DTSTAMP:20260101T120000Z\n" +
	"UID:todo-1@thunderbird\n" + // 83
	"DUE:20260320T170000\n" +
	"SUMMARY:File the report\n" +
	"END:VTODO\n" +
	"BEGIN:VEVENT\n" + // 87: all-day event
	"DTSTART;VALUE=DATE:20260401\n" + // 88
	"DTEND;VALUE=DATE:20260403\n" +
	"DTSTAMP:20260101T120000Z\n" +
	"UID:allday@google.com\n" +
	"SUMMARY:Conference\n" +
	"END:VEVENT\n" + // 93
	"BEGIN:VEVENT\n" + // 94: second override, moved into another month
	"DTSTART;TZID=Europe/Berlin:20260401T140000\n" +
	"DTEND;TZID=Europe/Berlin:20260401T143000\n" +
	"DTSTAMP:20260101T120000Z\n" +
	"UID:weekly-1@google.com\n" + // 98
	"RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000\n" +
	"SUMMARY:Stand-up (moved)\n" +
	"END:VEVENT\n" +
	"END:VCALENDAR\n"

type splitObj struct {
	uid  string
	line int
	data string
}

func splitAll(r io.Reader) ([]splitObj, error) {
	var got []splitObj
	err := Split(r, func(obj []byte, uid string, line int) error {
		got = append(got, splitObj{uid, line, string(obj)})
		return nil
	})
	return got, err
}

// sjSummary lists the components of a calendar as "NAME UID RECURRENCE-ID"
// (VTIMEZONE: "VTIMEZONE TZID"), sub-components included, in order.
func sjSummary(t testing.TB, data string) []string {
	t.Helper()
	cals, err := sjParse([]byte(data))
	if err != nil {
		t.Fatalf("sjParse: %v\n%s", err, data)
	}
	var out []string
	var walk func(c *sjComp, depth int)
	walk = func(c *sjComp, depth int) {
		key := strings.Repeat(" ", depth) + c.name
		for _, n := range []string{"UID", "RECURRENCE-ID", "TZID"} {
			if p, ok := c.prop(n); ok {
				key += " " + string(p.value())
			}
		}
		out = append(out, key)
		for _, sub := range c.comps {
			walk(sub, depth+1)
		}
	}
	for _, c := range cals {
		for _, sub := range c.comps {
			walk(sub, 0)
		}
	}
	return out
}

func TestSplitGoogleExport(t *testing.T) {
	for _, in := range []struct {
		name string
		r    func() io.Reader
	}{
		{"LF", func() io.Reader { return strings.NewReader(googleExport) }},
		{"CRLF with BOM", func() io.Reader { return strings.NewReader("\xef\xbb\xbf" + sjCRLF(googleExport)) }},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(strings.NewReader(sjCRLF(googleExport))) }},
	} {
		t.Run(in.name, func(t *testing.T) {
			got, err := splitAll(in.r())
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				uid   string
				line  int
				comps []string
			}{
				{"weekly-1@google.com", 44, []string{
					"VTIMEZONE Europe/Berlin", " DAYLIGHT", " STANDARD",
					"VEVENT weekly-1@google.com",
					"VEVENT weekly-1@google.com 20260316T090000",
					"VEVENT weekly-1@google.com 20260330T090000"}},
				{"single-utc@google.com", 54, []string{"VEVENT single-utc@google.com"}},
				{"ny-dst@google.com", 69, []string{"VTIMEZONE America/New_York", " DAYLIGHT", " STANDARD", "VEVENT ny-dst@google.com", " VALARM"}},
				{"todo-1@thunderbird", 81, []string{"VTODO todo-1@thunderbird"}},
				{"allday@google.com", 87, []string{"VEVENT allday@google.com"}},
			}
			if len(got) != len(want) {
				for _, g := range got {
					t.Logf("%s line %d", g.uid, g.line)
				}
				t.Fatalf("%d objects, want %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.uid != w.uid || g.line != w.line {
					t.Errorf("object %d: uid %q line %d, want %q line %d", i, g.uid, g.line, w.uid, w.line)
				}
				if s := strings.Join(sjSummary(t, g.data), "|"); s != strings.Join(w.comps, "|") {
					t.Errorf("object %d (%s) components:\n%s\nwant\n%s", i, w.uid, s, strings.Join(w.comps, "|"))
				}
				if !strings.HasPrefix(g.data, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nCALSCALE:GREGORIAN\r\nBEGIN:V") {
					t.Errorf("object %d header:\n%s", i, g.data)
				}
				for _, no := range []string{"METHOD", "X-WR-"} {
					if strings.Contains(g.data, no) {
						t.Errorf("object %d keeps %s", i, no)
					}
				}
				sjCheckOutput(t, g.data)
			}
			// One object byte for byte: the VTIMEZONE, the lines in order, CRLF.
			wantNY := sjCRLF("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nCALSCALE:GREGORIAN\n" +
				sjTZNewYork + googleExport[strings.Index(googleExport, "BEGIN:VEVENT\nDTSTART;TZID=America/New_York"):strings.Index(googleExport, "BEGIN:VTODO")] +
				"END:VCALENDAR\n")
			if got[2].data != wantNY {
				t.Errorf("ny object:\n%s\nwant\n%s", got[2].data, wantNY)
			}
			// The folded description is refolded at 75 octets and unchanged.
			if !strings.Contains(got[0].data, "DESCRIPTION:Daily stand-up of the team. Bring your notes\\, questions and an\r\n ything else that is on your mind – we’ll keep it short.\r\n") {
				t.Errorf("description:\n%s", got[0].data)
			}
		})
	}
}

// sjCheckOutput checks the form of data written by this package: CRLF
// everywhere, lines of at most 75 octets, no UTF-8 sequence split when
// the input was valid UTF-8.
func sjCheckOutput(t testing.TB, data string) {
	t.Helper()
	if !strings.HasSuffix(data, "\r\n") {
		t.Errorf("output does not end in CRLF: %q", data)
		return
	}
	for i, l := range strings.Split(strings.TrimSuffix(data, "\r\n"), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d: bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d: %d octets: %q", i+1, len(l), l)
		}
		if utf8.ValidString(data) {
			if i > 0 && l != "" && l[0] == ' ' {
				l = l[1:]
			}
			if !utf8.ValidString(l) {
				t.Errorf("line %d: UTF-8 sequence split: %q", i+1, l)
			}
		}
	}
}

func TestSplitManyCalendars(t *testing.T) {
	// Concatenated exports: the override comes in a later VCALENDAR that has
	// no VTIMEZONE and no PRODID; a component without UID; a VTIMEZONE-only
	// calendar at the end; blank lines between calendars.
	in := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//A//A//EN\n" + sjTZBerlin +
		"BEGIN:VEVENT\nUID:r\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Europe/Berlin:20260105T100000\nRRULE:FREQ=DAILY\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T100000Z\nSUMMARY:no uid 1\nEND:VEVENT\n" +
		"END:VCALENDAR\n\n\n" +
		"BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD:REQUEST\n" +
		"BEGIN:VEVENT\nDTSTAMP:20260101T000000Z\nDTSTART:20260106T100000Z\nSUMMARY:no uid 2\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:r\nRECURRENCE-ID;TZID=\"Europe/Berlin\":20260107T100000\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Europe/Berlin:20260107T120000\nEND:VEVENT\n" +
		"BEGIN:VJOURNAL\nUID:j\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20260107\nEND:VJOURNAL\n" +
		"END:VCALENDAR\n" +
		"BEGIN:VCALENDAR\nVERSION:2.0\n" + sjTZNewYork + "END:VCALENDAR\n"
	got, err := splitAll(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, g := range got {
		desc = append(desc, fmt.Sprintf("%q@%d %s", g.uid, g.line, strings.Join(sjSummary(t, g.data), ",")))
		sjCheckOutput(t, g.data)
	}
	want := []string{
		`"r"@22 VTIMEZONE Europe/Berlin, DAYLIGHT, STANDARD,VEVENT r,VEVENT r 20260107T100000`,
		`""@28 VEVENT`,
		`""@39 VEVENT`,
		`"j"@50 VJOURNAL j`,
	}
	if strings.Join(desc, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(desc, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(got[0].data, "PRODID:-//A//A//EN\r\n") || !strings.Contains(got[3].data, "PRODID:"+sjProdID+"\r\n") {
		t.Errorf("PRODID: %s\n%s", got[0].data, got[3].data)
	}
	if strings.Contains(got[0].data, "CALSCALE") {
		t.Errorf("CALSCALE invented")
	}

	// fn's error stops Split and is returned unchanged.
	stop := errors.New("stop")
	n := 0
	err = Split(strings.NewReader(in), func([]byte, string, int) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("Split with failing fn: %v after %d calls", err, n)
	}
	// Nothing at all is fine.
	for _, empty := range []string{"", "\xef\xbb\xbf", "\r\n\r\n  \n"} {
		got, err := splitAll(strings.NewReader(empty))
		if err != nil || len(got) != 0 {
			t.Errorf("Split(%q) = %v, %v", empty, got, err)
		}
	}
}

func TestSplitJunk(t *testing.T) {
	ev := "BEGIN:VEVENT\nUID:a\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T000000Z\nEND:VEVENT\n"
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"text before", "hello\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", 1, "outside a calendar"},
		{"text between", "BEGIN:VCALENDAR\nVERSION:2.0\n" + ev + "END:VCALENDAR\n<html>\n", 9, "outside a calendar"},
		{"event outside", ev, 1, "BEGIN:VEVENT outside a VCALENDAR"},
		{"vcard", "BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n", 1, "BEGIN:VCARD outside"},
		{"no colon inside", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nSUMMARY no colon\nEND:VEVENT\nEND:VCALENDAR\n", 5, "no colon"},
		{"missing END:VEVENT", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nEND:VCALENDAR\n", 5, "END:VCALENDAR does not close BEGIN:VEVENT on line 3"},
		{"missing END:VCALENDAR", "BEGIN:VCALENDAR\nVERSION:2.0\n" + ev, 1, "VCALENDAR not terminated"},
		{"unterminated event at EOF", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\n", 3, "VEVENT not terminated"},
		{"nested VCALENDAR", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VCALENDAR\nEND:VCALENDAR\nEND:VCALENDAR\n", 3, "BEGIN:VCALENDAR inside"},
		{"stray END", "END:VCALENDAR\n", 1, "outside"},
		{"vCalendar 1.0", "BEGIN:VCALENDAR\nVERSION:1.0\n" + ev + "END:VCALENDAR\n", 2, "VERSION:1.0"},
		{"bad parameter", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nDTSTART;TZID:x\nEND:VEVENT\nEND:VCALENDAR\n", 5, "parameter"},
		{"unterminated quote", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nDTSTART;TZID=\"x:20260101T000000\nEND:VEVENT\nEND:VCALENDAR\n", 5, "quoted"},
		{"bare CR", "BEGIN:VCALENDAR\rVERSION:2.0\rEND:VCALENDAR\r", 1, "carriage return"},
		{"VTIMEZONE without TZID", "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nBEGIN:STANDARD\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n", 3, "TZID"},
		{"folded junk counts physical lines", "BEGIN:VCALENDAR\nX-A:a\n b\n c\nBEGIN:VEVENT\nUID:a\nEND:VTODO\nEND:VCALENDAR\n", 7, "END:VTODO"},
		{"bad component name", "BEGIN:VCALENDAR\nBEGIN:V EVENT\nEND:VCALENDAR\n", 2, "invalid component name"},
		{"nested too deep", "BEGIN:VCALENDAR\n" + strings.Repeat("BEGIN:X\n", 40), 33, "nested more than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := Split(strings.NewReader(tt.in), func([]byte, string, int) error { calls++; return nil })
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Split = %v, want a *ValidationError", err)
			}
			if ve.Line != tt.line || !strings.Contains(ve.Msg, tt.msg) {
				t.Errorf("Split = line %d %q, want line %d containing %q", ve.Line, ve.Msg, tt.line, tt.msg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d", tt.line)) {
				t.Errorf("error %q does not name line %d", err, tt.line)
			}
			if calls != 0 {
				t.Errorf("fn called %d times before the error", calls)
			}
		})
	}
}

func TestSplitJoinRoundTrip(t *testing.T) {
	objs, err := splitAll(strings.NewReader(googleExport))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	j := NewJoiner(&out, "Work; home, mostly")
	for _, o := range objs {
		if err := j.Add([]byte(o.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	joined := out.String()
	sjCheckOutput(t, joined)
	if !strings.HasPrefix(joined, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"+sjProdID+"\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:Work\\; home\\, mostly\r\n") ||
		!strings.HasSuffix(joined, "\r\nEND:VCALENDAR\r\n") || strings.Count(joined, "BEGIN:VCALENDAR") != 1 {
		t.Errorf("joined:\n%s", joined)
	}
	// Every component is kept, each VTIMEZONE once.
	orig := sjSummary(t, googleExport)
	got := sjSummary(t, joined)
	sort.Strings(orig)
	sort.Strings(got)
	if strings.Join(orig, "|") != strings.Join(got, "|") {
		t.Errorf("components after split+join:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(orig, "\n"))
	}
	for _, id := range []string{"Europe/Berlin", "America/New_York"} {
		if n := strings.Count(joined, "TZID:"+id+"\r\n"); n != 1 {
			t.Errorf("VTIMEZONE %s written %d times", id, n)
		}
	}
	// Splitting the export again gives the same objects (but a rolodav PRODID).
	again, err := splitAll(strings.NewReader(joined))
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(objs) {
		t.Fatalf("%d objects after split+join+split, want %d", len(again), len(objs))
	}
	for i := range objs {
		a := strings.Replace(objs[i].data, "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "PRODID:"+sjProdID, 1)
		if again[i].data != a || again[i].uid != objs[i].uid {
			t.Errorf("object %d differs after the round trip:\n%s\nwant\n%s", i, again[i].data, a)
		}
	}
	// go-ical, an independent parser, reads the export.
	cal, err := ical.NewDecoder(strings.NewReader(joined)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range orig {
		if !strings.HasPrefix(c, " ") {
			n++
		}
	}
	if len(cal.Children) != n {
		t.Errorf("go-ical sees %d components, want %d", len(cal.Children), n)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestJoiner(t *testing.T) {
	// An empty calendar is still a calendar.
	var out bytes.Buffer
	j := NewJoiner(&out, "")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + sjProdID + "\r\nCALSCALE:GREGORIAN\r\nEND:VCALENDAR\r\n"; out.String() != want {
		t.Errorf("empty Joiner = %q, want %q", out.String(), want)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := j.Add([]byte(sjCRLF(selectSource))); err == nil {
		t.Errorf("Add after Close succeeded")
	}

	// Invalid objects are refused and nothing of them is written; the
	// VTIMEZONE of a later object is written once, before its events.
	out.Reset()
	j = NewJoiner(&out, "Ünïcödé "+strings.Repeat("long name ", 10))
	for _, bad := range []string{"", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", sjCRLF(selectSource) + sjCRLF(selectSource), "junk"} {
		if err := j.Add([]byte(bad)); err == nil {
			t.Errorf("Add(%q) succeeded", bad)
		}
	}
	if out.Len() != 0 {
		t.Errorf("refused objects wrote %q", out.String())
	}
	lf := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nMETHOD:REQUEST\n" +
		"BEGIN:VEVENT\nUID:a\nDTSTART:20260101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n"
	for _, obj := range []string{lf, selectSource, sjCRLF(selectSource)} {
		if err := j.Add([]byte(obj)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	sjCheckOutput(t, s)
	if strings.Count(s, "BEGIN:VTIMEZONE") != 1 || strings.Count(s, "BEGIN:VEVENT") != 5 || strings.Contains(s, "METHOD") || strings.Contains(s, "PRODID:x") {
		t.Errorf("joined:\n%s", s)
	}
	if strings.Index(s, "BEGIN:VTIMEZONE") > strings.Index(s, "UID:ev1@example.com") {
		t.Errorf("VTIMEZONE after the events that use it")
	}
	if !strings.Contains(s, "X-WR-CALNAME:Ünïcödé long name long name long name long name long name \r\n long name long name long name long name long name \r\n") {
		t.Errorf("calendar name:\n%s", s)
	}

	// A write error sticks.
	fw := &failWriter{n: 1}
	j = NewJoiner(fw, "x")
	if err := j.Add([]byte(lf)); err != nil {
		t.Fatal(err)
	}
	if err := j.Add([]byte(lf)); err == nil || err.Error() != "disk full" {
		t.Errorf("Add = %v", err)
	}
	if err := j.Close(); err == nil {
		t.Errorf("Close after a write error succeeded")
	}
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte(googleExport))
	f.Add([]byte(sjCRLF(googleExport)))
	f.Add([]byte(sjCRLF(selectSource)))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"A;B\":1\nEND:VEVENT\nBEGIN:VEVENT\nUID:\nEND:VEVENT\nEND:VCALENDAR\n" +
		"BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:A;B\nEND:VTIMEZONE\nBEGIN:VTODO\nUID:x\nX;A=\"\",b:\nEND:VTODO\nEND:VCALENDAR"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nX:" + strings.Repeat("€", 60) + "\r\n \xe2\x82\r\n\t\xac\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var objs [][]byte
		err := Split(bytes.NewReader(data), func(obj []byte, uid string, line int) error {
			objs = append(objs, obj)
			if line < 1 || line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("line %d out of range", line)
			}
			sjFuzzCheckObject(t, obj, uid)
			return nil
		})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Line < 1 {
				t.Fatalf("Split error %v is not a *ValidationError with a line", err)
			}
			if len(objs) != 0 {
				t.Fatalf("fn called before an error")
			}
			return
		}
		// Joining the objects and splitting again gives as many objects.
		var out bytes.Buffer
		j := NewJoiner(&out, "n")
		for _, o := range objs {
			if err := j.Add(o); err != nil {
				t.Fatalf("Add of a split object: %v\n%q", err, o)
			}
			Select(o, &CompRequest{Name: "VCALENDAR", Props: []string{"VERSION"}, Comps: []CompRequest{{Name: "VEVENT", Props: []string{"UID"}, Comps: []CompRequest{{Name: "VALARM"}}}, {Name: "VTIMEZONE"}}})
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := Split(&out, func(obj []byte, uid string, line int) error { n++; return nil }); err != nil {
			t.Fatalf("split of the joined objects: %v\n%q", err, out.String())
		}
		if n != len(objs) {
			t.Fatalf("split+join+split: %d objects, want %d", n, len(objs))
		}
	})
}

// sjFuzzCheckObject checks a split object with go-ical (an independent
// parser): exactly one VCALENDAR whose components other than VTIMEZONE
// all carry uid (or, for uid "", exactly one component without UID).
func sjFuzzCheckObject(t *testing.T, obj []byte, uid string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("go-ical panics on a split object: %v\n%q", r, obj)
		}
	}()
	sjCheckOutput(t, string(obj))
	dec := ical.NewDecoder(bytes.NewReader(obj))
	cal, err := dec.Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read a split object: %v\n%q", err, obj)
	}
	if _, err := dec.Decode(); err != io.EOF {
		t.Fatalf("more than one VCALENDAR in a split object (%v):\n%q", err, obj)
	}
	var objects int
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			continue
		}
		objects++
		got := ""
		if p := c.Props.Get(ical.PropUID); p != nil {
			got = p.Value
		}
		if got != uid {
			t.Fatalf("component with UID %q in the object of %q:\n%q", got, uid, obj)
		}
	}
	if objects == 0 || (uid == "" && objects != 1) {
		t.Fatalf("%d components in the object of %q:\n%q", objects, uid, obj)
	}
}
