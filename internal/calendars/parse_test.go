package calendars

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseContentLines(t *testing.T) {
	data := []byte("\uFEFFBEGIN:VCALENDAR\r\nbegin:vevent\r\nUID:a\r\nATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT;X-LIST=a,b:mailto:j\r\n @example.com\r\nSUMMARY:fold\r\n\ted\r\n\r\nend:VEVENT\r\nEND:VCALENDAR")
	tops, err := parseICS(data)
	if err != nil {
		t.Fatal(err)
	}
	ev := tops[0].Children[0]
	if ev.Name != "VEVENT" || ev.Line != 2 {
		t.Fatalf("component %s at line %d", ev.Name, ev.Line)
	}
	p := ev.prop("ATTENDEE")
	if p == nil || p.Value != "mailto:j@example.com" || p.param("CN") != "Doe, Jane" || p.param("ROLE") != "REQ-PARTICIPANT" || p.Line != 4 {
		t.Fatalf("ATTENDEE %+v", p)
	}
	if x := p.Params[2]; x.Name != "X-LIST" || strings.Join(x.Values, "|") != "a|b" {
		t.Errorf("multi-valued parameter %+v", x)
	}
	if ev.text("SUMMARY") != "folded" || ev.prop("SUMMARY").Line != 6 {
		t.Errorf("folded SUMMARY %+v", ev.prop("SUMMARY"))
	}
	// Written back: same content, folded, CRLF.
	var b bytes.Buffer
	writeComp(&b, tops[0])
	again, err := parseICS(b.Bytes())
	if err != nil || again[0].Children[0].prop("ATTENDEE").param("CN") != "Doe, Jane" {
		t.Errorf("round trip: %v\n%s", err, b.Bytes())
	}

	for _, bad := range []string{
		"BEGIN:VCALENDAR\r\nX;P=\"unterminated:v\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nX;P=a\"b:v\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nX;=a:v\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nX;P=a\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nX Y:v\r\nEND:VCALENDAR\r\n",
		"BEGIN:\r\nEND:\r\n",
		"END:VCALENDAR\r\n",
		"SUMMARY:x\r\n",
		" continuation\r\n",
		strings.Repeat("BEGIN:X\r\n", 40),
	} {
		if _, err := parseICS([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestWriteLineFolds75(t *testing.T) {
	long := "DESCRIPTION:" + strings.Repeat("é", 100)
	var b bytes.Buffer
	writeLine(&b, long)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	var joined strings.Builder
	for i, l := range lines {
		if len(l) > 75 {
			t.Errorf("line %d has %d octets", i, len(l))
		}
		if i > 0 {
			if l[0] != ' ' {
				t.Errorf("continuation without space")
			}
			l = l[1:]
		}
		joined.WriteString(l)
	}
	if joined.String() != long {
		t.Errorf("unfolded text differs")
	}
}

func TestValues(t *testing.T) {
	if got := unescapeText(`a\,b\;c\\d\ne\N`); got != "a,b;c\\d\ne\n" {
		t.Errorf("unescape: %q", got)
	}
	durs := map[string]icalDuration{
		"PT1H":        {Secs: 3600},
		"P1D":         {Days: 1},
		"P2W":         {Days: 14},
		"-P1DT2H3M4S": {Days: -1, Secs: -(2*3600 + 3*60 + 4)},
		"+PT0S":       {},
		"P1DT12H":     {Days: 1, Secs: 12 * 3600},
	}
	for s, want := range durs {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("duration %s = %+v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "P", "PT", "1H", "P1H", "PT1D", "P1DT", "PT1H2", "P9999999999D", "PTT1H"} {
		if _, err := parseDuration(s); err == nil {
			t.Errorf("duration %q accepted", s)
		}
	}
	for _, s := range []string{"20260229", "20261301", "2026011", "2026-01-01", "20260132"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("date %q accepted", s)
		}
	}
	if d, ok := parseDate("20240229"); !ok || formatDate(d) != "20240229" {
		t.Errorf("leap day")
	}
	for _, s := range []string{"20260101T250000", "20260101T126000", "20260101 120000", "20260101T1200", "20260101T120000ZZ"} {
		if _, _, ok := parseDateTimeWall(s); ok {
			t.Errorf("date-time %q accepted", s)
		}
	}
	for s, want := range map[string]int{"+0100": 3600, "-0530": -19800, "+013045": 5445} {
		if got, ok := parseUTCOffset(s); !ok || got != want {
			t.Errorf("offset %s = %d", s, got)
		}
	}
	for _, s := range []string{"0100", "+2400", "+01", "+0160"} {
		if _, ok := parseUTCOffset(s); ok {
			t.Errorf("offset %q accepted", s)
		}
	}
	// The civil calendar helpers agree with each other over a long range.
	for z := int64(-800000); z < 3000000; z += 997 {
		y, m, d := civilFromDays(z)
		if daysFromCivil(y, m, d) != z || d < 1 || d > daysIn(y, m) {
			t.Fatalf("civil %d -> %d-%d-%d", z, y, m, d)
		}
	}
}
