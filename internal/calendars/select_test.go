package calendars

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// sjCRLF turns a test text written with LF into CRLF.
func sjCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var selectSource = "BEGIN:VCALENDAR\n" +
	"VERSION:2.0\n" +
	"PRODID:-//Example//Test//EN\n" +
	"BEGIN:VTIMEZONE\n" +
	"TZID:Europe/Berlin\n" +
	"BEGIN:STANDARD\n" +
	"DTSTART:19701025T030000\n" +
	"TZOFFSETFROM:+0200\n" +
	"TZOFFSETTO:+0100\n" +
	"END:STANDARD\n" +
	"END:VTIMEZONE\n" +
	"BEGIN:VEVENT\n" +
	"UID:ev1@example.com\n" +
	"DTSTAMP:20260101T000000Z\n" +
	"DTSTART;TZID=Europe/Berlin:20260105T090000\n" +
	"DTEND;TZID=Europe/Berlin:20260105T100000\n" +
	"RRULE:FREQ=WEEKLY;COUNT=4\n" +
	"SUMMARY:Stand-up – Jörg\n" +
	"DESCRIPTION:A long description that goes on and on and is folded over more th\n" +
	" an one line by the producer\n" +
	"BEGIN:VALARM\n" +
	"ACTION:DISPLAY\n" +
	"TRIGGER:-PT10M\n" +
	"DESCRIPTION:Reminder\n" +
	"END:VALARM\n" +
	"END:VEVENT\n" +
	"BEGIN:VEVENT\n" +
	"UID:ev1@example.com\n" +
	"RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\n" +
	"DTSTAMP:20260101T000000Z\n" +
	"DTSTART;TZID=Europe/Berlin:20260112T110000\n" +
	"DTEND;TZID=Europe/Berlin:20260112T120000\n" +
	"SUMMARY:Moved\n" +
	"END:VEVENT\n" +
	"END:VCALENDAR\n"

func TestSelect(t *testing.T) {
	data := []byte(sjCRLF(selectSource))
	tests := []struct {
		name string
		req  *CompRequest
		want string
	}{
		{"nil: unchanged", nil, sjCRLF(selectSource)},
		{"VEVENT SUMMARY and DTSTART only", &CompRequest{Name: "VCALENDAR", Comps: []CompRequest{
			{Name: "VEVENT", Props: []string{"SUMMARY", "dtstart"}},
		}}, sjCRLF("BEGIN:VCALENDAR\n" +
			"BEGIN:VEVENT\n" +
			"DTSTART;TZID=Europe/Berlin:20260105T090000\n" +
			"SUMMARY:Stand-up – Jörg\n" +
			"END:VEVENT\n" +
			"BEGIN:VEVENT\n" +
			"DTSTART;TZID=Europe/Berlin:20260112T110000\n" +
			"SUMMARY:Moved\n" +
			"END:VEVENT\n" +
			"END:VCALENDAR\n")},
		{"RFC 4791 7.8.1 style: VERSION, VEVENT props, whole VTIMEZONE", &CompRequest{Name: "VCALENDAR",
			Props: []string{"VERSION"},
			Comps: []CompRequest{
				{Name: "VEVENT", Props: []string{"UID", "RECURRENCE-ID", "RRULE"}},
				{Name: "VTIMEZONE"},
			}}, sjCRLF("BEGIN:VCALENDAR\n" +
			"VERSION:2.0\n" +
			"BEGIN:VTIMEZONE\n" +
			"TZID:Europe/Berlin\n" +
			"BEGIN:STANDARD\n" +
			"DTSTART:19701025T030000\n" +
			"TZOFFSETFROM:+0200\n" +
			"TZOFFSETTO:+0100\n" +
			"END:STANDARD\n" +
			"END:VTIMEZONE\n" +
			"BEGIN:VEVENT\n" +
			"UID:ev1@example.com\n" +
			"RRULE:FREQ=WEEKLY;COUNT=4\n" +
			"END:VEVENT\n" +
			"BEGIN:VEVENT\n" +
			"UID:ev1@example.com\n" +
			"RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\n" +
			"END:VEVENT\n" +
			"END:VCALENDAR\n")},
		{"AllComps keeps sub-components whole; folded line refolded at 75", &CompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
			sjCRLF(strings.Replace(selectSource,
				"DESCRIPTION:A long description that goes on and on and is folded over more th\n an one line by the producer\n",
				"DESCRIPTION:A long description that goes on and on and is folded over more \n than one line by the producer\n", 1))},
		{"AllProps of VCALENDAR only: no components", &CompRequest{Name: "VCALENDAR", AllProps: true},
			sjCRLF("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example//Test//EN\nEND:VCALENDAR\n")},
		{"nested VALARM with its own props", &CompRequest{Name: "VCALENDAR", Comps: []CompRequest{
			{Name: "VEVENT", Props: []string{"UID"}, Comps: []CompRequest{{Name: "valarm", Props: []string{"TRIGGER"}}}},
		}}, sjCRLF("BEGIN:VCALENDAR\n" +
			"BEGIN:VEVENT\n" +
			"UID:ev1@example.com\n" +
			"BEGIN:VALARM\n" +
			"TRIGGER:-PT10M\n" +
			"END:VALARM\n" +
			"END:VEVENT\n" +
			"BEGIN:VEVENT\n" +
			"UID:ev1@example.com\n" +
			"END:VEVENT\n" +
			"END:VCALENDAR\n")},
		{"VEVENT AllProps without comps drops VALARM", &CompRequest{Name: "VCALENDAR", Comps: []CompRequest{
			{Name: "VEVENT", AllProps: true},
		}}, ""},
		{"VTODO only: events dropped", &CompRequest{Name: "VCALENDAR", Props: []string{"PRODID"}, Comps: []CompRequest{{Name: "VTODO", AllProps: true}}},
			sjCRLF("BEGIN:VCALENDAR\nPRODID:-//Example//Test//EN\nEND:VCALENDAR\n")},
		{"empty name means VCALENDAR", &CompRequest{Props: []string{"VERSION"}},
			sjCRLF("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")},
		{"root other than VCALENDAR selects nothing", &CompRequest{Name: "VEVENT", AllProps: true},
			sjCRLF("BEGIN:VCALENDAR\nEND:VCALENDAR\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Select(data, tt.req))
			if tt.want == "" { // checked below
				if strings.Contains(got, "VALARM") || !strings.Contains(got, "SUMMARY:Moved\r\n") || !strings.Contains(got, "RRULE:FREQ=WEEKLY;COUNT=4\r\n") {
					t.Errorf("Select =\n%s", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Select =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	// LF input, lower-case BEGIN: output is CRLF with upper-case names.
	lf := "begin:vcalendar\nVERSION:2.0\nbegin:vevent\nUID:x\nSUMMARY:s\nEND:VEVENT\nend:VCALENDAR\n"
	got := string(Select([]byte(lf), &CompRequest{Name: "VCALENDAR", Comps: []CompRequest{{Name: "VEVENT", Props: []string{"SUMMARY"}}}}))
	if want := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"; got != want {
		t.Errorf("Select(LF) = %q, want %q", got, want)
	}
	// Data that does not parse is returned unchanged.
	bad := []byte("BEGIN:VCALENDAR\nnot a line\n")
	if got := Select(bad, &CompRequest{Name: "VCALENDAR"}); !bytes.Equal(got, bad) {
		t.Errorf("Select(bad) = %q", got)
	}
}

func TestWriteLineFolding(t *testing.T) {
	for _, text := range []string{
		"SUMMARY:" + strings.Repeat("x", 67),       // exactly 75: not folded
		"SUMMARY:" + strings.Repeat("x", 68),       // 76: folded
		"DESCRIPTION:" + strings.Repeat("ä€😀", 40), // multi-byte everywhere
		"X:" + strings.Repeat("😀", 100),
		"X:" + strings.Repeat("a", 72) + "\xff\x80\x80\x80\x80" + strings.Repeat("b", 100), // invalid UTF-8 still terminates
	} {
		var buf bytes.Buffer
		writeLine(&buf, text)
		out := buf.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("no CRLF: %q", out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		var unfolded strings.Builder
		for i, l := range lines {
			if len(l) > 75 {
				t.Errorf("line %d of %q is %d octets", i, text, len(l))
			}
			if i > 0 {
				if l[0] != ' ' {
					t.Errorf("continuation without space: %q", l)
				}
				l = l[1:]
			}
			if utf8.ValidString(text) && !utf8.ValidString(l) {
				t.Errorf("UTF-8 split in %q", l)
			}
			unfolded.WriteString(l)
		}
		if unfolded.String() != text {
			t.Errorf("unfolded %q, want %q", unfolded.String(), text)
		}
		if len(text) <= 75 && len(lines) != 1 {
			t.Errorf("%d octets folded", len(text))
		}
	}
}
