package calendars

import (
	"strings"
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	const (
		s  = time.Second
		fw = 14 * time.Hour
	)
	u := tcUTC
	type want struct {
		start, end time.Time // zero: unbounded
	}
	// b widens by the second the span adds on both sides.
	b := func(start, end string) want {
		w := want{}
		if start != "" {
			w.start = u(start).Add(-s)
		}
		if end != "" {
			w.end = u(end).Add(s)
		}
		return w
	}
	// fl also widens by 14 h (floating times and dates).
	fl := func(start, end string) want {
		w := b(start, end)
		if !w.start.IsZero() {
			w.start = w.start.Add(-fw)
		}
		if !w.end.IsZero() {
			w.end = w.end.Add(fw)
		}
		return w
	}
	todo := func(lines ...string) []byte {
		return tcCal(append(append([]string{"BEGIN:VTODO", "UID:t"}, lines...), "END:VTODO")...)
	}
	tests := []struct {
		name string
		data []byte
		want want
	}{
		{"single", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...), b("20260105T090000Z", "20260105T100000Z")},
		{"DURATION", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT90M")...), b("20260105T090000Z", "20260105T103000Z")},
		{"no end", tcCal(tcEvent("DTSTART:20260105T090000Z")...), b("20260105T090000Z", "20260105T090000Z")},
		{"TZID", tcCal(tcEvent("DTSTART;TZID=America/New_York:20260105T090000", "DTEND;TZID=America/New_York:20260105T100000")...),
			b("20260105T140000Z", "20260105T150000Z")},
		{"all-day", tcCal(tcEvent("DTSTART;VALUE=DATE:20260105")...), fl("20260105T000000Z", "20260106T000000Z")},
		{"all-day, 3 days", tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "DTEND;VALUE=DATE:20260108")...), fl("20260105T000000Z", "20260108T000000Z")},
		{"floating", tcCal(tcEvent("DTSTART:20260105T090000", "DTEND:20260105T100000")...), fl("20260105T090000Z", "20260105T100000Z")},
		{"weekly COUNT", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=5")...),
			b("20260105T090000Z", "20260202T100000Z")},
		{"weekly UNTIL", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;UNTIL=20260202T090000Z")...),
			b("20260105T090000Z", "20260202T100000Z")},
		{"monthly COUNT, last Friday", tcCal(tcEvent("DTSTART:20260130T090000Z", "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=4")...),
			b("20260130T090000Z", "20260424T100000Z")},
		{"yearly COUNT", tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=YEARLY;COUNT=3")...), fl("20260105T000000Z", "20280106T000000Z")},
		{"yearly UNTIL date", tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=YEARLY;UNTIL=20300105")...), fl("20260105T000000Z", "20300106T000000Z")},
		{"unbounded", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=DAILY")...), b("20260105T090000Z", "")},
		{"huge COUNT", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=MINUTELY;COUNT=500000")...), b("20260105T090000Z", "")},
		{"COUNT across DST in Berlin", tcCal(tcEvent("DTSTART;TZID=Europe/Berlin:20260302T090000", "DTEND;TZID=Europe/Berlin:20260302T100000", "RRULE:FREQ=WEEKLY;COUNT=5")...),
			b("20260302T080000Z", "20260330T080000Z")},
		{"override moved before DTSTART and after the last", tcCal(tcJoin(
			tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3"),
			tcEvent("RECURRENCE-ID:20260112T090000Z", "DTSTART:20251201T090000Z", "DTEND:20251201T100000Z"),
			tcEvent("RECURRENCE-ID:20260119T090000Z", "DTSTART:20260301T090000Z", "DTEND:20260301T110000Z"))...),
			b("20251201T090000Z", "20260301T110000Z")},
		{"override of an unbounded rule", tcCal(tcJoin(
			tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=WEEKLY"),
			tcEvent("RECURRENCE-ID:20260112T090000Z", "DTSTART:20251201T090000Z"))...),
			b("20251201T090000Z", "")},
		{"EXDATE of DTSTART", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20260105T090000Z")...),
			b("20260112T090000Z", "20260119T100000Z")},
		{"EXDATE of the last", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20260119T090000Z")...),
			b("20260105T090000Z", "20260112T100000Z")},
		{"RDATE after the rule", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "RDATE:20260601T120000Z")...),
			b("20260105T090000Z", "20260601T130000Z")},
		{"RDATE PERIOD", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RDATE;VALUE=PERIOD:20260601T120000Z/PT5H")...),
			b("20260105T090000Z", "20260601T170000Z")},
		{"THISANDFUTURE shifts later instances", tcCal(tcJoin(
			tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3"),
			tcEvent("RECURRENCE-ID;RANGE=THISANDFUTURE:20260112T090000Z", "DTSTART:20260112T150000Z", "DTEND:20260112T160000Z"))...),
			b("20260105T090000Z", "20260119T160000Z")},
		{"never-matching rule with COUNT", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3")...),
			b("20260105T090000Z", "20260105T090000Z")},

		{"bounds beyond year 9999 are unbounded", tcCal(tcEvent("DTSTART:99991231T120000Z", "DURATION:P2D")...), b("99991231T120000Z", "")},
		{"floating at year 1 is unbounded in the past", tcCal(tcEvent("DTSTART:00010101T120000", "DURATION:PT1H")...), want{end: u("00010101T130000Z").Add(s + fw)}},
		{"VTODO DTSTART+DUE", todo("DTSTART:20260105T090000Z", "DUE:20260107T090000Z"), b("20260105T090000Z", "20260107T090000Z")},
		{"VTODO DTSTART+DURATION", todo("DTSTART:20260105T090000Z", "DURATION:P1D"), b("20260105T090000Z", "20260106T090000Z")},
		{"VTODO DTSTART", todo("DTSTART:20260105T090000Z"), b("20260105T090000Z", "20260105T090000Z")},
		{"VTODO DUE", todo("DUE:20260107T090000Z"), b("20260107T090000Z", "20260107T090000Z")},
		{"VTODO COMPLETED and CREATED", todo("CREATED:20250101T000000Z", "COMPLETED:20260107T090000Z"), b("20250101T000000Z", "20260107T090000Z")},
		{"VTODO COMPLETED", todo("COMPLETED:20260107T090000Z"), b("20260107T090000Z", "20260107T090000Z")},
		{"VTODO CREATED", todo("CREATED:20250101T000000Z"), b("20250101T000000Z", "")},
		{"VTODO without dates", todo("SUMMARY:someday"), want{}},
		{"VTODO recurring with DUE", todo("DTSTART:20260105T090000Z", "DUE:20260105T170000Z", "RRULE:FREQ=DAILY;COUNT=3"), b("20260105T090000Z", "20260107T170000Z")},
		{"VJOURNAL date", tcCal("BEGIN:VJOURNAL", "UID:j", "DTSTART;VALUE=DATE:20260105", "END:VJOURNAL"), fl("20260105T000000Z", "20260106T000000Z")},
		{"VJOURNAL without DTSTART", tcCal("BEGIN:VJOURNAL", "UID:j", "END:VJOURNAL"), want{}},
	}
	for _, tt := range tests {
		info, err := Validate(bg, tt.data, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !info.Start.Equal(tt.want.start) || !info.End.Equal(tt.want.end) {
			t.Errorf("%s: span [%v, %v], want [%v, %v]", tt.name, info.Start, info.End, tt.want.start, tt.want.end)
		}
	}
}

// A DTSTART in the gap of the start of daylight time is read with the
// offset before it (01:30Z), and the next instance (03:00 local) begins
// earlier (01:00Z): the span must still contain it.
func TestSpanGapAtDTSTART(t *testing.T) {
	data := tcCal(tcEvent("DTSTART;TZID=Europe/Berlin:20260329T023000", "RRULE:FREQ=MINUTELY;INTERVAL=30")...)
	info, err := Validate(bg, data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Start.After(tcUTC("20260329T010000Z")) || !info.End.IsZero() {
		t.Errorf("span [%v, %v]", info.Start, info.End)
	}
	if got := tcInstances(t, data, "20260329T000000Z", "20260329T013100Z"); strings.Join(got, " ") != "20260329T013000Z 20260329T010000Z 20260329T013000Z" {
		t.Errorf("instances %v", got)
	}
}

// The span property the store relies on: every occurrence lies in it,
// whatever the floating time zone.
func TestSpanContainsOccurrences(t *testing.T) {
	zones := []*time.Location{time.UTC}
	for _, n := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin"} {
		loc, err := time.LoadLocation(n)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	objects := [][]byte{
		tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=MONTHLY;COUNT=5;BYMONTHDAY=-1")...),
		tcCal(tcEvent("DTSTART:20260329T013000", "DURATION:P1D", "RRULE:FREQ=DAILY;UNTIL=20260402T013000")...),
		tcCal(tcEvent("DTSTART:20260329T013000", "DURATION:PT1H", "RRULE:FREQ=HOURLY;UNTIL=20260329T220000Z")...),
		tcCal(tcJoin(tcEvent("DTSTART;TZID=Europe/Berlin:20261020T023000", "DTEND;TZID=Europe/Berlin:20261020T033000", "RRULE:FREQ=DAILY;COUNT=10"),
			tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20261025T023000", "DTSTART:20261125T010000", "DTEND:20261125T020000"))...),
	}
	for i, data := range objects {
		info, err := Validate(bg, data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range zones {
			out, _, err := Expand(bg, data, tcUTC("20250101T000000Z"), tcUTC("20280101T000000Z"), z)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, line := range strings.Split(string(out), "\r\n") {
				var v string
				switch {
				case strings.HasPrefix(line, "DTSTART:"), strings.HasPrefix(line, "DTEND:"):
					v = line[strings.IndexByte(line, ':')+1:]
				default:
					continue
				}
				n++
				tm := tcUTC(v)
				if tm.Before(info.Start) || (!info.End.IsZero() && tm.After(info.End)) {
					t.Errorf("object %d in %s: %s outside the span [%v, %v]", i, z, line, info.Start, info.End)
				}
			}
			if n == 0 && i != 0 {
				t.Errorf("object %d in %s: nothing expanded:\n%s", i, z, out)
			}
		}
	}
}
