package calendars

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// tcCal wraps lines into a VCALENDAR with CRLF line ends.
func tcCal(lines ...string) []byte {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"}, lines...)
	all = append(all, "END:VCALENDAR")
	return []byte(strings.Join(all, "\r\n") + "\r\n")
}

var bg = context.Background()

// tcEvent is a VEVENT with UID u1 and the given lines.
func tcEvent(lines ...string) []string {
	out := []string{"BEGIN:VEVENT", "UID:u1", "DTSTAMP:20260101T000000Z"}
	out = append(out, lines...)
	return append(out, "END:VEVENT")
}

func tcJoin(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func tcUTC(s string) time.Time {
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

const tcOutlookTZ = `BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE`

func TestValidateConditions(t *testing.T) {
	const (
		data   = "valid-calendar-data"
		object = "valid-calendar-object-resource"
		comp   = "supported-calendar-component"
	)
	tests := []struct {
		name    string
		data    []byte
		allowed []string
		cond    string // "" = accepted
		line    int    // checked when > 0
		kind    string
	}{
		{"simple event", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...), nil, "", 0, VEVENT},
		{"todo", tcCal("BEGIN:VTODO", "UID:t1", "SUMMARY:x", "END:VTODO"), nil, "", 0, VTODO},
		{"journal", tcCal("BEGIN:VJOURNAL", "UID:j1", "DTSTART;VALUE=DATE:20260105", "END:VJOURNAL"), nil, "", 0, VJOURNAL},
		{"LF line ends and folding", []byte("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:u\n 1\nDTSTART:20260105T090000Z\nSUMMARY:long\n  text\nEND:VEVENT\nEND:VCALENDAR\n"), nil, "", 0, VEVENT},
		{"IANA TZID without VTIMEZONE", tcCal(tcEvent("DTSTART;TZID=Europe/Berlin:20260105T090000")...), nil, "", 0, VEVENT},
		{"custom VTIMEZONE", tcCal(append(strings.Split(tcOutlookTZ, "\n"), tcEvent("DTSTART;TZID=W. Europe Standard Time:20260105T090000")...)...), nil, "", 0, VEVENT},
		{"recurrence set", tcCal(tcJoin(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=DAILY"), tcEvent("RECURRENCE-ID:20260106T090000Z", "DTSTART:20260106T100000Z"))...), nil, "", 0, VEVENT},
		{"overrides only", tcCal(tcJoin(tcEvent("RECURRENCE-ID:20260106T090000Z", "DTSTART:20260106T100000Z"), tcEvent("RECURRENCE-ID:20260107T090000Z", "DTSTART:20260107T100000Z"))...), nil, "", 0, VEVENT},
		{"allowed list matches", tcCal("BEGIN:VTODO", "UID:t1", "END:VTODO"), []string{"vtodo"}, "", 0, VTODO},

		{"not iCalendar", []byte("hello\r\n"), nil, data, 1, ""},
		{"empty", []byte(""), nil, data, 0, ""},
		{"vCard", []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"), nil, data, 1, ""},
		{"unclosed component", []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"), nil, data, 0, ""},
		{"mismatched END", tcCal("BEGIN:VEVENT", "UID:x", "END:VTODO"), nil, data, 6, ""},
		{"bad DTSTART", tcCal(tcEvent("DTSTART:20261345T090000Z")...), nil, data, 7, ""},
		{"bad DURATION", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:1H")...), nil, data, 8, ""},
		{"bad RRULE", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=SOMETIMES")...), nil, data, 8, ""},
		{"RRULE without FREQ", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:COUNT=3")...), nil, data, 8, ""},
		{"bad EXDATE", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=DAILY", "EXDATE:yesterday")...), nil, data, 9, ""},
		{"unknown TZID", tcCal(tcEvent("DTSTART;TZID=Mars/Olympus:20260105T090000")...), nil, data, 7, ""},
		{"unknown TZID in EXDATE", tcCal(tcEvent("DTSTART:20260105T090000Z", "EXDATE;TZID=Nowhere:20260106T090000")...), nil, data, 8, ""},
		{"control character", []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\x01b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), nil, data, 3, ""},
		{"invalid UTF-8", []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\xffb\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), nil, data, 3, ""},
		{"two DTSTARTs", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTSTART:20260106T090000Z")...), nil, data, 8, ""},
		{"line without colon", tcCal(tcEvent("SUMMARY")...), nil, data, 7, ""},
		{"VERSION 1.0", []byte("BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), nil, data, 2, ""},

		{"two VCALENDARs", append(tcCal(tcEvent()...), tcCal(tcEvent()...)...), nil, object, 0, ""},
		{"METHOD", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), nil, object, 3, ""},
		{"no component", tcCal(), nil, object, 0, ""},
		{"only a VTIMEZONE", tcCal(strings.Split(tcOutlookTZ, "\n")...), nil, object, 0, ""},
		{"VEVENT and VTODO", tcCal(tcJoin(tcEvent(), []string{"BEGIN:VTODO", "UID:u1", "END:VTODO"})...), nil, object, 0, ""},
		{"two UIDs", tcCal(tcJoin(tcEvent("DTSTART:20260105T090000Z"), []string{"BEGIN:VEVENT", "UID:u2", "RECURRENCE-ID:20260105T090000Z", "END:VEVENT"})...), nil, object, 0, ""},
		{"missing UID", tcCal("BEGIN:VEVENT", "DTSTART:20260105T090000Z", "END:VEVENT"), nil, object, 4, ""},
		{"two masters", tcCal(tcJoin(tcEvent("DTSTART:20260105T090000Z"), tcEvent("DTSTART:20260106T090000Z"))...), nil, object, 0, ""},
		{"same RECURRENCE-ID twice", tcCal(tcJoin(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=DAILY"),
			tcEvent("RECURRENCE-ID:20260106T090000Z", "DTSTART:20260106T100000Z"),
			tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260106T100000", "DTSTART:20260106T110000Z"))...), nil, object, 0, ""},

		{"VFREEBUSY", tcCal("BEGIN:VFREEBUSY", "UID:f", "END:VFREEBUSY"), nil, comp, 4, ""},
		{"VFREEBUSY even when listed", tcCal("BEGIN:VFREEBUSY", "UID:f", "END:VFREEBUSY"), []string{"VFREEBUSY"}, comp, 0, ""},
		{"X- component", tcCal("BEGIN:X-THING", "UID:f", "END:X-THING"), nil, comp, 0, ""},
		{"VTODO in an event calendar", tcCal("BEGIN:VTODO", "UID:t1", "END:VTODO"), []string{VEVENT}, comp, 4, ""},
	}
	for _, tt := range tests {
		info, err := Validate(bg, tt.data, tt.allowed, nil)
		if tt.cond == "" {
			if err != nil {
				t.Errorf("%s: rejected: %v", tt.name, err)
			} else if info.Component != tt.kind {
				t.Errorf("%s: component %q, want %q", tt.name, info.Component, tt.kind)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v (%T), want *ValidationError %s", tt.name, err, err, tt.cond)
			continue
		}
		if ve.Condition != tt.cond {
			t.Errorf("%s: condition %s (%v), want %s", tt.name, ve.Condition, ve, tt.cond)
		}
		if tt.line > 0 && ve.Line != tt.line {
			t.Errorf("%s: line %d (%v), want %d", tt.name, ve.Line, ve, tt.line)
		}
	}
}

func TestValidateInfo(t *testing.T) {
	data := tcCal("BEGIN:VEVENT", `UID:a\,b@example.com`, "DTSTART:20260105T090000Z", "END:VEVENT")
	info, err := Validate(bg, data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.UID != "a,b@example.com" || info.Component != VEVENT {
		t.Errorf("info %+v", info)
	}
	var ve *ValidationError
	_, err = Validate(bg, []byte("BEGIN:VCALENDAR\r\nX\r\n"), nil, nil)
	if !errors.As(err, &ve) || !strings.Contains(ve.Error(), "line 2") {
		t.Errorf("error text %v", err)
	}
}

// BenchmarkValidate measures Validate (parse, checks and span) of a typical
// event from a phone: a weekly meeting with a time zone and an alarm.
func BenchmarkValidate(b *testing.B) {
	data := tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"), tcEvent(
		"DTSTART;TZID=Europe/Berlin:20260105T090000",
		"DTEND;TZID=Europe/Berlin:20260105T100000",
		"RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=MO",
		"SUMMARY:Team meeting",
		"LOCATION:Room 1",
		"DESCRIPTION:Weekly sync of the team\\, with notes",
		"ORGANIZER:mailto:boss@example.com",
		"ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com",
		"ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:Reminder", "END:VALARM"))...)
	single := tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "SUMMARY:Lunch")...)
	b.Run("weekly-count-tz-alarm", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := Validate(bg, data, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := Validate(bg, single, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

const tcBerlinTZ = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
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
END:VTIMEZONE`

// FuzzValidate: Validate never panics or hangs, and no input takes more
// than the budget of tcBudget; when it accepts, Expand,
// Match, LimitRecurrenceSet and BusyPeriods work too, and every occurrence
// Expand returns (in UTC and in the extreme time zones) lies inside the
// span Validate computed — the property the store's range index relies on.
func FuzzValidate(f *testing.F) {
	seeds := [][]byte{
		tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...),
		tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=YEARLY;COUNT=3")...),
		tcCal(tcEvent("DTSTART:20260105T090000", "DURATION:P1DT2H", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101T000000")...),
		tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"),
			tcEvent("DTSTART;TZID=Europe/Berlin:20260302T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=30",
				"EXDATE;TZID=Europe/Berlin:20260309T090000", "RDATE:20260601T120000Z"),
			tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260316T090000", "DTSTART;TZID=Europe/Berlin:20250317T140000",
				"DTEND;TZID=Europe/Berlin:20250317T150000"))...),
		tcCal(tcJoin(strings.Split(tcOutlookTZ, "\n"),
			tcEvent("DTSTART;TZID=W. Europe Standard Time:20261020T023000", "DTEND;TZID=W. Europe Standard Time:20261020T033000",
				"RRULE:FREQ=DAILY;UNTIL=20261101T000000Z"),
			tcEvent("RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=W. Europe Standard Time:20261025T023000", "DTSTART:20261026T090000",
				"DTEND:20261026T120000"))...),
		tcCal("BEGIN:VTODO", "UID:t", "DTSTART:20260105T090000Z", "DUE:20260106T090000Z", "RRULE:FREQ=WEEKLY;INTERVAL=2;BYSETPOS=-1;BYDAY=MO,TU", "END:VTODO"),
		tcCal("BEGIN:VTODO", "UID:t", "CREATED:20260105T090000Z", "COMPLETED:20260106T090000Z", "END:VTODO"),
		tcCal("BEGIN:VJOURNAL", "UID:j", "DTSTART;VALUE=DATE:20260105", "RDATE;VALUE=DATE:20260110,20260120", "END:VJOURNAL"),
		tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5")...),
		tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=SECONDLY;BYHOUR=3;BYMINUTE=7,8;BYSECOND=1,59,60;COUNT=40")...),
		tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=YEARLY;BYWEEKNO=53,-1;BYYEARDAY=-1,1;BYDAY=SU;WKST=SU")...),
		tcCal(tcEvent("DTSTART:00010101T000000", "DTEND:99991231T235959", "RDATE;VALUE=PERIOD:99991231T000000/P1D")...),
		tcCal(tcEvent("DTSTART;TZID=America/New_York:20261101T013000", "DURATION:PT30M", "RRULE:FREQ=HOURLY;INTERVAL=7;COUNT=9",
			"BEGIN:VALARM", "TRIGGER;RELATED=END:-PT5M", "REPEAT:3", "DURATION:PT1M", "ACTION:AUDIO", "END:VALARM")...),
	}
	// Attacks: every second of the year, repeated BY lists, far SECONDLY
	// windows, a VTIMEZONE rule that never ends.
	for _, rule := range []string{tcAllSeconds, tcAllSeconds + ";COUNT=50000",
		"FREQ=MONTHLY;COUNT=10;BYDAY=" + strings.TrimSuffix(strings.Repeat("6MO,", 5000), ","),
		"FREQ=SECONDLY;BYSECOND=0;COUNT=100000000", "FREQ=SECONDLY;COUNT=50000000;BYSETPOS=1",
		"FREQ=YEARLY;BYSETPOS=" + tcNums(-366, 366) + ";BYDAY=" + strings.Repeat("MO,-1TU,", 2000) + "SU;BYHOUR=" + tcNums(0, 23)} {
		seeds = append(seeds, tcCal(tcEvent("DTSTART:20250105T090000Z", "DURATION:PT1S", "RRULE:"+rule)...))
	}
	seeds = append(seeds, tcCal(tcJoin([]string{"BEGIN:VTIMEZONE", "TZID:Never", "BEGIN:STANDARD", "DTSTART:16010101T000000",
		"TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "RRULE:FREQ=SECONDLY;BYSECOND=0;BYMONTH=2;BYMONTHDAY=30", "END:STANDARD", "END:VTIMEZONE"},
		tcEvent("DTSTART;TZID=Never:20260105T090000", "RRULE:FREQ=SECONDLY"))...))
	for _, s := range seeds {
		f.Add(s)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("+14", 14*3600), time.FixedZone("-12", -12*3600)}
	f.Fuzz(func(t *testing.T, data []byte) {
		tcBudget(t, func(m *tcMeter) { fuzzValidate(t, m, zones, data) })
	})
}

func fuzzValidate(t *testing.T, m *tcMeter, zones []*time.Location, data []byte) {
	var info Info
	var err error
	m.do(func() { info, err = Validate(bg, data, nil, nil) })
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Condition == "" {
			t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
		}
		return
	}
	from := tcUTC("20260101T000000Z")
	if !info.Start.IsZero() && info.Start.Year() > 1 && info.Start.Year() < 9998 {
		from = info.Start
	}
	to := from.AddDate(1, 0, 0)
	for _, z := range zones {
		var out []byte
		m.do(func() { out, _, err = Expand(bg, data, from, to, z) })
		if err != nil {
			t.Fatalf("Expand: %v", err)
		}
		tcCheckInSpan(t, out, info, z)
	}
	q := &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: info.Component, TimeRange: &TimeRange{Start: from, End: to},
		Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{Start: from}}}}}}
	m.do(func() { _, err = Match(bg, data, q, nil) })
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	m.do(func() { _, err = LimitRecurrenceSet(bg, data, from, to, nil) })
	if err != nil {
		t.Fatalf("LimitRecurrenceSet: %v", err)
	}
	m.do(func() { _, err = BusyPeriods(bg, data, from, to, nil) })
	if err != nil {
		t.Fatalf("BusyPeriods: %v", err)
	}
}

// tcCheckInSpan checks that every DTSTART, DTEND (VEVENT) and DUE (VTODO)
// of an Expand answer lies inside the span.
func tcCheckInSpan(t *testing.T, out []byte, info Info, z *time.Location) {
	t.Helper()
	tops, err := parseICS(out)
	if err != nil || len(tops) != 1 {
		t.Fatalf("Expand answer does not parse: %v\n%s", err, out)
	}
	for _, c := range tops[0].Children {
		if c.Name != info.Component {
			continue
		}
		var start *dtValue
		for _, p := range c.Props {
			if !(p.Name == "DTSTART" || (p.Name == "DTEND" && c.Name == VEVENT) || (p.Name == "DUE" && c.Name == VTODO)) {
				continue
			}
			if p.hasParam("TZID") {
				t.Fatalf("%s keeps a TZID in the Expand answer", p.Name)
			}
			v, err := parseDTString(p.Value, strings.ToUpper(p.param("VALUE")), nil)
			if err != nil {
				t.Fatalf("Expand answer: %s:%s: %v", p.Name, p.Value, err)
			}
			if p.Name == "DTSTART" {
				start = &v
			}
			at := v.at(z)
			if y := at.UTC().Year(); y < 2 || y > 9997 {
				continue // not representable in UTC: kept as written
			}
			if (!info.Start.IsZero() && at.Before(info.Start)) || (!info.End.IsZero() && at.After(info.End)) {
				t.Fatalf("%s %s (in %s) outside the span [%v, %v]\n%s", p.Name, p.Value, z, info.Start, info.End, out)
			}
		}
		_ = start
	}
}
