package calendars

import (
	"strings"
	"testing"
	"time"
)

// tcExpanded parses an Expand answer into one "RID DTSTART DTEND" line per
// component (DTEND "-" when absent) and checks what must hold for all.
func tcExpanded(t *testing.T, out []byte) []string {
	t.Helper()
	tops, err := parseICS(out)
	if err != nil || len(tops) != 1 {
		t.Fatalf("answer does not parse (%v):\n%s", err, out)
	}
	var got []string
	for _, c := range tops[0].Children {
		if c.Name == "VTIMEZONE" {
			t.Errorf("VTIMEZONE in the answer")
		}
		for _, p := range c.Props {
			switch p.Name {
			case "RRULE", "RDATE", "EXDATE":
				t.Errorf("%s in an expanded instance", p.Name)
			}
			if p.hasParam("TZID") {
				t.Errorf("%s keeps its TZID", p.Name)
			}
		}
		v := func(name string) string {
			p := c.prop(name)
			if p == nil {
				return "-"
			}
			return p.Value
		}
		got = append(got, v("RECURRENCE-ID")+" "+v("DTSTART")+" "+v(map[bool]string{true: "DUE", false: "DTEND"}[c.Name == VTODO]))
	}
	return got
}

func TestExpand(t *testing.T) {
	weekly := tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"),
		tcEvent("DTSTART;TZID=Europe/Berlin:20260302T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO",
			"EXDATE;TZID=Europe/Berlin:20260309T090000", "SUMMARY:weekly",
			"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260316T090000", "DTSTART;TZID=Europe/Berlin:20260317T140000",
			"DTEND;TZID=Europe/Berlin:20260317T150000", "SUMMARY:moved"),
	)...)
	tests := []struct {
		name       string
		data       []byte
		start, end string
		want       []string
	}{
		{"weekly across DST with EXDATE and a moved instance", weekly, "20260301T000000Z", "20260406T000000Z", []string{
			"20260302T080000Z 20260302T080000Z 20260302T090000Z",
			"20260316T080000Z 20260317T130000Z 20260317T140000Z",
			"20260323T080000Z 20260323T080000Z 20260323T090000Z",
			"20260330T070000Z 20260330T070000Z 20260330T080000Z",
		}},
		{"window on the original slot of the moved instance", weekly, "20260316T000000Z", "20260317T000000Z", nil},
		{"all-day monthly keeps DATE values", tcCal(tcEvent("DTSTART;VALUE=DATE:20260131", "DTEND;VALUE=DATE:20260201", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3")...),
			"20260101T000000Z", "20270101T000000Z", []string{
				"20260131 20260131 20260201", "20260228 20260228 20260301", "20260331 20260331 20260401",
			}},
		{"RDATE period", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RDATE;VALUE=PERIOD:20260110T120000Z/PT3H")...),
			"20260101T000000Z", "20260201T000000Z", []string{
				"20260105T090000Z 20260105T090000Z 20260105T100000Z", "20260110T120000Z 20260110T120000Z 20260110T150000Z",
			}},
		{"non-recurring with TZID", tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"), tcEvent("DTSTART;TZID=Europe/Berlin:20260705T090000", "DTEND;TZID=Europe/Berlin:20260705T100000"))...),
			"20200101T000000Z", "20300101T000000Z", []string{"- 20260705T070000Z 20260705T080000Z"}},
		{"recurring todo with DUE", tcCal("BEGIN:VTODO", "UID:t", "DTSTART;TZID=America/New_York:20260105T090000", "DUE;TZID=America/New_York:20260105T170000",
			"RRULE:FREQ=DAILY;COUNT=2", "END:VTODO"), "20260101T000000Z", "20260201T000000Z", []string{
			"20260105T140000Z 20260105T140000Z 20260105T220000Z", "20260106T140000Z 20260106T140000Z 20260106T220000Z",
		}},
	}
	for _, tt := range tests {
		out, _, err := Expand(bg, tt.data, tcUTC(tt.start), tcUTC(tt.end), nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		got := tcExpanded(t, out)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q\n%s", tt.name, got, tt.want, out)
		}
	}
	// A DURATION in days is nominal in the event's zone: across the change
	// of clocks the instance (master or override) ends at 10:00 local.
	dst := tcCal(tcJoin(
		tcEvent("DTSTART;TZID=Europe/Berlin:20260328T090000", "DURATION:P1DT1H", "RRULE:FREQ=DAILY;COUNT=2"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260329T090000", "DTSTART;TZID=Europe/Berlin:20260328T120000", "DURATION:P1D"))...)
	out, _, err := Expand(bg, dst, tcUTC("20260301T000000Z"), tcUTC("20260401T000000Z"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tcExpanded(t, out), ","); got != "20260328T080000Z 20260328T080000Z 20260329T080000Z,20260329T070000Z 20260328T110000Z 20260329T100000Z" {
		t.Errorf("DURATION across the change of clocks: %s\n%s", got, out)
	}
	todo := tcCal("BEGIN:VTODO", "UID:t", "DTSTART;TZID=Europe/Berlin:20260328T090000", "DURATION:P1D", "RRULE:FREQ=DAILY;COUNT=2", "END:VTODO")
	out, _, err = Expand(bg, todo, tcUTC("20260301T000000Z"), tcUTC("20260401T000000Z"), nil)
	if err != nil || strings.Count(string(out), "DURATION:PT82800S") != 1 || strings.Count(string(out), "DURATION:PT86400S") != 1 {
		t.Errorf("VTODO DURATION across the change of clocks (%v):\n%s", err, out)
	}

	// Properties of the master and of the override are kept.
	out, _, err = Expand(bg, weekly, tcUTC("20260301T000000Z"), tcUTC("20260320T000000Z"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "SUMMARY:weekly") != 1 || strings.Count(s, "SUMMARY:moved") != 1 || strings.Count(s, "BEGIN:VALARM") != 1 ||
		!strings.Contains(s, "PRODID:-//test//EN") || strings.Contains(s, "DURATION") {
		t.Errorf("expanded properties:\n%s", s)
	}
	// Floating times are converted with the floating zone.
	tokyo := tcCal(tcEvent("DTSTART:20260105T090000", "DTEND:20260105T100000", "RRULE:FREQ=DAILY;COUNT=2")...)
	loc := mustZone(t, "Asia/Tokyo")
	out, _, err = Expand(bg, tokyo, tcUTC("20260101T000000Z"), tcUTC("20260201T000000Z"), loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tcExpanded(t, out), ","); got != "20260105T000000Z 20260105T000000Z 20260105T010000Z,20260106T000000Z 20260106T000000Z 20260106T010000Z" {
		t.Errorf("floating in Tokyo: %s", got)
	}
}

func TestLimitRecurrenceSet(t *testing.T) {
	data := tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"),
		tcEvent("DTSTART;TZID=Europe/Berlin:20260105T090000", "DURATION:PT1H", "RRULE:FREQ=DAILY"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260110T090000", "DTSTART;TZID=Europe/Berlin:20260301T090000", "DURATION:PT1H", "SUMMARY:moved into"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260302T090000", "DTSTART;TZID=Europe/Berlin:20260601T090000", "DURATION:PT1H", "SUMMARY:moved out"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260801T090000", "DTSTART;TZID=Europe/Berlin:20260801T100000", "DURATION:PT1H", "SUMMARY:elsewhere"),
	)...)
	out, err := LimitRecurrenceSet(bg, data, tcUTC("20260301T000000Z"), tcUTC("20260303T000000Z"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "moved into") || !strings.Contains(s, "moved out") || strings.Contains(s, "elsewhere") ||
		!strings.Contains(s, "RRULE:FREQ=DAILY") || !strings.Contains(s, "BEGIN:VTIMEZONE") {
		t.Errorf("limited:\n%s", s)
	}
	if want := strings.Replace(string(data), strings.Join(tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260801T090000",
		"DTSTART;TZID=Europe/Berlin:20260801T100000", "DURATION:PT1H", "SUMMARY:elsewhere"), "\r\n")+"\r\n", "", 1); s != want {
		t.Errorf("not byte for byte:\n%s", s)
	}
	single := tcCal(tcEvent("DTSTART:20260105T090000Z")...)
	if out, _ := LimitRecurrenceSet(bg, single, tcUTC("20300101T000000Z"), tcUTC("20300102T000000Z"), nil); string(out) != string(single) {
		t.Errorf("non-recurring object changed")
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
