package calendars

import (
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
		info, err := Validate(tt.data, tt.allowed, nil)
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
	info, err := Validate(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.UID != "a,b@example.com" || info.Component != VEVENT {
		t.Errorf("info %+v", info)
	}
	var ve *ValidationError
	_, err = Validate([]byte("BEGIN:VCALENDAR\r\nX\r\n"), nil, nil)
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
			if _, err := Validate(data, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := Validate(single, nil, nil); err != nil {
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
