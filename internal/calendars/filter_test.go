package calendars

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tcTR is a query for a component with a time-range ("" = unbounded).
func tcTR(comp, start, end string) *CompFilter {
	tr := &TimeRange{}
	if start != "" {
		tr.Start = tcUTC(start)
	}
	if end != "" {
		tr.End = tcUTC(end)
	}
	return &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: comp, TimeRange: tr}}}
}

func tcQuery(c CompFilter) *CompFilter {
	return &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{c}}
}

func TestMatchTimeRange(t *testing.T) {
	weekly := tcCal(tcJoin(
		tcEvent("DTSTART;TZID=Europe/Berlin:20200106T090000", "DTEND;TZID=Europe/Berlin:20200106T100000",
			"RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Berlin:20260112T090000"),
		tcEvent("RECURRENCE-ID;TZID=Europe/Berlin:20260119T090000", "DTSTART;TZID=Europe/Berlin:20260121T140000",
			"DTEND;TZID=Europe/Berlin:20260121T150000", "SUMMARY:moved"),
	)...)
	allDay := tcCal(tcEvent("DTSTART;VALUE=DATE:20260105", "DTEND;VALUE=DATE:20260107")...)
	instant := tcCal(tcEvent("DTSTART:20260105T090000Z")...)
	todo := func(lines ...string) []byte {
		return tcCal(append(append([]string{"BEGIN:VTODO", "UID:t"}, lines...), "END:VTODO")...)
	}
	journal := func(lines ...string) []byte {
		return tcCal(append(append([]string{"BEGIN:VJOURNAL", "UID:j"}, lines...), "END:VJOURNAL")...)
	}
	tests := []struct {
		name       string
		data       []byte
		comp       string
		start, end string
		want       bool
	}{
		// An instance six years after DTSTART.
		{"instance years after DTSTART", weekly, VEVENT, "20260105T000000Z", "20260106T000000Z", true},
		{"between instances", weekly, VEVENT, "20260106T000000Z", "20260112T000000Z", false},
		{"summer instance keeps local time", weekly, VEVENT, "20260706T070000Z", "20260706T070001Z", true},
		{"summer instance is not at 08:00Z", weekly, VEVENT, "20260706T080000Z", "20260706T083000Z", false},
		{"excluded by EXDATE", weekly, VEVENT, "20260112T000000Z", "20260113T000000Z", false},
		{"original slot of a moved instance", weekly, VEVENT, "20260119T000000Z", "20260120T000000Z", false},
		{"new slot of a moved instance", weekly, VEVENT, "20260121T130000Z", "20260121T130100Z", true},
		{"before DTSTART", weekly, VEVENT, "20190101T000000Z", "20200106T080000Z", false},
		{"open end", weekly, VEVENT, "20300101T000000Z", "", true},
		{"open start", weekly, VEVENT, "", "20200106T080001Z", true},
		{"other component", weekly, VTODO, "20260105T000000Z", "20260106T000000Z", false},
		{"end is exclusive", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...), VEVENT, "20260105T100000Z", "20260105T110000Z", false},
		{"start is exclusive of the range end", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...), VEVENT, "20260105T080000Z", "20260105T090000Z", false},
		{"zero duration at the range start", instant, VEVENT, "20260105T090000Z", "20260105T090001Z", true},
		{"zero duration at the range end", instant, VEVENT, "20260105T080000Z", "20260105T090000Z", false},
		{"all-day (UTC floating) second day", allDay, VEVENT, "20260106T120000Z", "20260106T130000Z", true},
		{"all-day after", allDay, VEVENT, "20260107T000000Z", "20260108T000000Z", false},
		{"all-day without DTEND", tcCal(tcEvent("DTSTART;VALUE=DATE:20260105")...), VEVENT, "20260105T230000Z", "20260106T000000Z", true},
		{"RDATE", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1H", "RDATE:20260301T090000Z,20260401T090000Z")...), VEVENT, "20260401T093000Z", "20260401T094500Z", true},
		{"RDATE excluded", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1H", "RDATE:20260401T090000Z", "EXDATE:20260401T090000Z")...), VEVENT, "20260401T093000Z", "20260401T094500Z", false},
		{"COUNT ends", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3")...), VEVENT, "20260108T000000Z", "20260109T000000Z", false},
		{"COUNT last", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3")...), VEVENT, "20260107T000000Z", "20260108T000000Z", true},

		// VTODO (RFC 4791 9.9).
		{"todo DTSTART+DURATION: range starts at the end", todo("DTSTART:20260105T090000Z", "DURATION:PT1H"), VTODO, "20260105T100000Z", "20260105T110000Z", true},
		{"todo DTSTART+DURATION: after", todo("DTSTART:20260105T090000Z", "DURATION:PT1H"), VTODO, "20260105T100001Z", "20260105T110000Z", false},
		{"todo DTSTART+DUE: inside", todo("DTSTART:20260105T090000Z", "DUE:20260106T090000Z"), VTODO, "20260105T120000Z", "20260105T130000Z", true},
		{"todo DTSTART+DUE: range ends at DUE... before start", todo("DTSTART:20260105T090000Z", "DUE:20260106T090000Z"), VTODO, "20260105T080000Z", "20260105T090000Z", false},
		{"todo DTSTART+DUE: range starts at DUE", todo("DTSTART:20260105T090000Z", "DUE:20260106T090000Z"), VTODO, "20260106T090000Z", "20260106T100000Z", false},
		{"todo DTSTART only", todo("DTSTART:20260105T090000Z"), VTODO, "20260105T090000Z", "20260105T090001Z", true},
		{"todo DTSTART only, before", todo("DTSTART:20260105T090000Z"), VTODO, "20260105T080000Z", "20260105T090000Z", false},
		{"todo DUE only: range ends at DUE", todo("DUE:20260105T090000Z"), VTODO, "20260105T080000Z", "20260105T090000Z", true},
		{"todo DUE only: range starts at DUE", todo("DUE:20260105T090000Z"), VTODO, "20260105T090000Z", "20260105T100000Z", false},
		{"todo COMPLETED+CREATED: between", todo("CREATED:20260101T000000Z", "COMPLETED:20260110T000000Z"), VTODO, "20260105T000000Z", "20260106T000000Z", true},
		{"todo COMPLETED+CREATED: after", todo("CREATED:20260101T000000Z", "COMPLETED:20260110T000000Z"), VTODO, "20260110T000001Z", "20260111T000000Z", false},
		{"todo COMPLETED+CREATED: range ends at CREATED", todo("CREATED:20260101T000000Z", "COMPLETED:20260110T000000Z"), VTODO, "20251231T000000Z", "20260101T000000Z", true},
		{"todo COMPLETED: at", todo("COMPLETED:20260110T000000Z"), VTODO, "20260109T000000Z", "20260110T000000Z", true},
		{"todo COMPLETED: after", todo("COMPLETED:20260110T000000Z"), VTODO, "20260110T000001Z", "20260111T000000Z", false},
		{"todo CREATED: later", todo("CREATED:20260110T000000Z"), VTODO, "20300101T000000Z", "20300102T000000Z", true},
		{"todo CREATED: before", todo("CREATED:20260110T000000Z"), VTODO, "20250101T000000Z", "20260110T000000Z", false},
		{"todo without dates", todo("SUMMARY:x"), VTODO, "19000101T000000Z", "19000102T000000Z", true},
		{"recurring todo", todo("DTSTART:20260105T090000Z", "DUE:20260105T100000Z", "RRULE:FREQ=MONTHLY"), VTODO, "20270305T093000Z", "20270305T094000Z", true},

		// VJOURNAL.
		{"journal date", journal("DTSTART;VALUE=DATE:20260105"), VJOURNAL, "20260105T230000Z", "20260106T000000Z", true},
		{"journal date-time", journal("DTSTART:20260105T090000Z"), VJOURNAL, "20260105T090000Z", "20260105T100000Z", true},
		{"journal without DTSTART", journal("SUMMARY:x"), VJOURNAL, "19000101T000000Z", "", false},
	}
	for _, tt := range tests {
		got, err := Match(bg, tt.data, tcTR(tt.comp, tt.start, tt.end), nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatchFloatingZone(t *testing.T) {
	data := tcCal(tcEvent("DTSTART:20260105T090000", "DURATION:PT1H")...)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	f := tcTR(VEVENT, "20260105T000000Z", "20260105T003000Z") // 09:00–09:30 in Tokyo
	if ok, _ := Match(bg, data, f, tokyo); !ok {
		t.Error("floating time in Tokyo does not match")
	}
	if ok, _ := Match(bg, data, f, nil); ok {
		t.Error("floating time in UTC matches")
	}
}

func TestMatchFilters(t *testing.T) {
	data := tcCal(tcJoin(strings.Split(tcBerlinTZ, "\n"), tcEvent(
		"DTSTART;TZID=Europe/Berlin:20260105T090000", "DURATION:PT1H",
		`SUMMARY:Café\, planning`,
		"LOCATION:Room 1",
		"CATEGORIES:WORK,MEETING",
		"ATTENDEE;CN=Ann Example;PARTSTAT=ACCEPTED:mailto:ann@example.com",
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:Soon", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:PT5M", "DESCRIPTION:After", "END:VALARM"))...)
	tm := func(text, coll string, neg bool) *TextMatch {
		return &TextMatch{Text: text, Collation: coll, Negate: neg}
	}
	tr := func(a, b string) *TimeRange {
		r := &TimeRange{}
		if a != "" {
			r.Start = tcUTC(a)
		}
		if b != "" {
			r.End = tcUTC(b)
		}
		return r
	}
	tests := []struct {
		name string
		f    *CompFilter
		want bool
	}{
		{"VEVENT exists", tcQuery(CompFilter{Name: "VEVENT"}), true},
		{"VTODO exists", tcQuery(CompFilter{Name: "VTODO"}), false},
		{"VTODO is-not-defined", tcQuery(CompFilter{Name: "VTODO", IsNotDefined: true}), true},
		{"VEVENT is-not-defined", tcQuery(CompFilter{Name: "VEVENT", IsNotDefined: true}), false},
		{"VTIMEZONE exists", tcQuery(CompFilter{Name: "VTIMEZONE"}), true},
		{"root prop VERSION", &CompFilter{Name: "VCALENDAR", Props: []PropFilter{{Name: "VERSION", TextMatch: tm("2.0", "", false)}}}, true},
		{"summary ascii-casemap", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("PLANNING", "", false)}}}), true},
		{"summary unescaped comma", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("café, plan", "i;ascii-casemap", false)}}}), true},
		{"summary ascii-casemap keeps non-ASCII case", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("CAFÉ", "", false)}}}), false},
		{"summary unicode-casemap", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("CAFÉ, PLAN", "i;unicode-casemap", false)}}}), true},
		{"summary octet", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("planning", "i;octet", false)}}}), true},
		{"summary octet is case-sensitive", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("Planning", "i;octet", false)}}}), false},
		{"negated text-match", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "LOCATION", TextMatch: tm("Room 2", "", true)}}}), true},
		{"negated text-match fails", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "LOCATION", TextMatch: tm("room", "", true)}}}), false},
		{"prop is-not-defined", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "DESCRIPTION", IsNotDefined: true}}}), true},
		{"prop is-not-defined fails", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "LOCATION", IsNotDefined: true}}}), false},
		{"prop exists", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "categories"}}}), true},
		{"prop missing", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "URL"}}}), false},
		{"all prop-filters must match", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "LOCATION"}, {Name: "URL"}}}), false},
		{"param-filter text", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob@", "", false),
			Params: []ParamFilter{{Name: "PARTSTAT", TextMatch: tm("NEEDS-ACTION", "", false)}}}}}), true},
		{"param-filter on the same property", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob@", "", false),
			Params: []ParamFilter{{Name: "PARTSTAT", TextMatch: tm("ACCEPTED", "i;octet", false)}}}}}), false},
		{"param is-not-defined", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "ATTENDEE", Params: []ParamFilter{{Name: "CN", IsNotDefined: true}}}}}), true},
		{"param exists", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "ATTENDEE", Params: []ParamFilter{{Name: "ROLE"}}}}}), false},
		{"prop time-range on DTSTART", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "DTSTART", TimeRange: tr("20260105T080000Z", "20260105T080001Z")}}}), true},
		{"prop time-range on DTSTART misses", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "DTSTART", TimeRange: tr("20260105T080001Z", "")}}}), false},
		{"prop time-range on a text property", tcQuery(CompFilter{Name: "VEVENT", Props: []PropFilter{{Name: "SUMMARY", TimeRange: tr("20200101T000000Z", "")}}}), false},
		{"nested VALARM", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("soon", "", false)}}}}}), true},
		{"nested VALARM missing text", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("never", "", false)}}}}}), false},
		{"VALARM is-not-defined", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", IsNotDefined: true}}}), false},
		{"VALARM trigger in range", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: tr("20260105T074500Z", "20260105T074600Z")}}}), true},
		{"VALARM RELATED=END trigger in range", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: tr("20260105T090500Z", "20260105T090600Z")}}}), true},
		{"VALARM trigger not in range", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: tr("20260105T080000Z", "20260105T085900Z")}}}), false},
		{"VEVENT time-range and VALARM", tcQuery(CompFilter{Name: "VEVENT", TimeRange: tr("20260105T000000Z", "20260106T000000Z"),
			Comps: []CompFilter{{Name: "VALARM", Props: []PropFilter{{Name: "ACTION", TextMatch: tm("DISPLAY", "", false)}}}}}), true},
		{"VTIMEZONE with time-range", tcQuery(CompFilter{Name: "VTIMEZONE", TimeRange: tr("20260105T000000Z", "20260106T000000Z")}), false},
	}
	for _, tt := range tests {
		got, err := Match(bg, data, tt.f, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatchRecurringAlarmAndOverrideProps(t *testing.T) {
	data := tcCal(tcJoin(
		tcEvent("DTSTART:20200106T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY", "SUMMARY:standup",
			"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", "END:VALARM"),
		tcEvent("RECURRENCE-ID:20260110T090000Z", "DTSTART:20260110T120000Z", "DURATION:PT1H", "SUMMARY:special"),
	)...)
	tests := []struct {
		name string
		f    *CompFilter
		want bool
	}{
		{"alarm of a late instance", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{Start: tcUTC("20260301T085000Z"), End: tcUTC("20260301T085100Z")}}}}), true},
		{"override has no alarm", tcQuery(CompFilter{Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{Start: tcUTC("20260110T115000Z"), End: tcUTC("20260110T115100Z")}}}}), false},
		{"override's summary in its slot", tcQuery(CompFilter{Name: "VEVENT", TimeRange: &TimeRange{Start: tcUTC("20260110T000000Z"), End: tcUTC("20260111T000000Z")},
			Props: []PropFilter{{Name: "SUMMARY", TextMatch: &TextMatch{Text: "special"}}}}), true},
		{"master's summary not in the override's slot", tcQuery(CompFilter{Name: "VEVENT", TimeRange: &TimeRange{Start: tcUTC("20260110T100000Z"), End: tcUTC("20260111T000000Z")},
			Props: []PropFilter{{Name: "SUMMARY", TextMatch: &TextMatch{Text: "standup"}}}}), false},
	}
	for _, tt := range tests {
		got, err := Match(bg, data, tt.f, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s: Match = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestCheckAndWindow(t *testing.T) {
	now := tcUTC("20260105T000000Z")
	tests := []struct {
		name string
		f    *CompFilter
		want error
	}{
		{"nil", nil, ErrInvalidFilter},
		{"root not VCALENDAR", &CompFilter{Name: "VEVENT"}, ErrInvalidFilter},
		{"ok", tcTR(VEVENT, "20260105T000000Z", ""), nil},
		{"lower-case root", &CompFilter{Name: "vcalendar"}, nil},
		{"time-range without bounds", tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{}}), ErrInvalidFilter},
		{"time-range start = end", tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: now, End: now}}), ErrInvalidFilter},
		{"time-range start > end", tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: now.Add(time.Hour), End: now}}), ErrInvalidFilter},
		{"prop time-range without bounds", tcQuery(CompFilter{Name: VEVENT, Props: []PropFilter{{Name: "DTSTART", TimeRange: &TimeRange{}}}}), ErrInvalidFilter},
		{"unknown collation", tcQuery(CompFilter{Name: VEVENT, Props: []PropFilter{{Name: "SUMMARY", TextMatch: &TextMatch{Text: "x", Collation: "i;klingon"}}}}), ErrUnsupportedCollation},
		{"unknown collation in a param-filter", tcQuery(CompFilter{Name: VEVENT, Props: []PropFilter{{Name: "ATTENDEE",
			Params: []ParamFilter{{Name: "CN", TextMatch: &TextMatch{Collation: "x"}}}}}}), ErrUnsupportedCollation},
		{"unicode-casemap", tcQuery(CompFilter{Name: VEVENT, Props: []PropFilter{{Name: "SUMMARY", TextMatch: &TextMatch{Text: "x", Collation: "i;unicode-casemap"}}}}), nil},
		{"nested VALARM bad time-range", tcQuery(CompFilter{Name: VEVENT, Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{}}}}), ErrInvalidFilter},
	}
	for _, tt := range tests {
		err := tt.f.Check()
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
		if tt.want != nil {
			if _, err := Match(bg, tcCal(tcEvent()...), tt.f, nil); !errors.Is(err, tt.want) {
				t.Errorf("%s: Match error %v", tt.name, err)
			}
		}
	}

	c, s, e, ok := tcTR("vtodo", "20260105T000000Z", "").Window()
	if !ok || c != VTODO || !s.Equal(now) || !e.IsZero() {
		t.Errorf("Window = %q %v %v %v", c, s, e, ok)
	}
	for _, f := range []*CompFilter{
		tcQuery(CompFilter{Name: VEVENT}),
		tcQuery(CompFilter{Name: VEVENT, IsNotDefined: true, TimeRange: &TimeRange{Start: now}}),
		tcQuery(CompFilter{Name: "VTIMEZONE", TimeRange: &TimeRange{Start: now}}),
		tcQuery(CompFilter{Name: VEVENT, Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{Start: now}}}}),
		{Name: "VCALENDAR"},
	} {
		if _, _, _, ok := f.Window(); ok {
			t.Errorf("Window of %+v is ok", f)
		}
	}
}

// BenchmarkMatchTimeRange runs a one-month calendar-query over 10 000
// objects, 10% of them recurring (weekly, daily, monthly; with time zones,
// EXDATEs and overrides), as the dav layer would after a span pre-selection
// that let everything through.
func BenchmarkMatchTimeRange(b *testing.B) {
	var objs [][]byte
	for i := 0; i < 10000; i++ {
		day := time.Date(2024, 1, 1, 8+i%10, 0, 0, 0, time.UTC).AddDate(0, 0, i%900)
		uid := fmt.Sprintf("UID:bench-%d", i)
		lines := []string{"BEGIN:VEVENT", uid, "DTSTAMP:20240101T000000Z", "SUMMARY:Event " + uid[4:], "LOCATION:Somewhere"}
		switch {
		case i%10 != 0:
			lines = append(lines, "DTSTART:"+formatUTC(day), "DTEND:"+formatUTC(day.Add(time.Hour)))
		case i%30 == 0:
			lines = append(lines, "DTSTART;TZID=Europe/Berlin:"+day.Format("20060102T150405"), "DURATION:PT1H",
				"RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "EXDATE;TZID=Europe/Berlin:"+day.AddDate(0, 0, 7).Format("20060102T150405"))
		case i%30 == 10:
			lines = append(lines, "DTSTART:"+formatUTC(day), "DURATION:PT30M", "RRULE:FREQ=DAILY;COUNT=500")
		default:
			lines = append(lines, "DTSTART;VALUE=DATE:"+day.Format("20060102"), "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1")
		}
		lines = append(lines, "END:VEVENT")
		if i%30 == 0 {
			lines = append(lines, "BEGIN:VEVENT", uid, "DTSTAMP:20240101T000000Z", "RECURRENCE-ID;TZID=Europe/Berlin:"+day.AddDate(0, 0, 14).Format("20060102T150405"),
				"DTSTART;TZID=Europe/Berlin:"+day.AddDate(0, 0, 15).Format("20060102T150405"), "DURATION:PT1H", "END:VEVENT")
		}
		objs = append(objs, tcCal(lines...))
	}
	f := tcTR(VEVENT, "20260601T000000Z", "20260701T000000Z")
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = 0
		for _, o := range objs {
			ok, err := Match(bg, o, f, nil)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				n++
			}
		}
	}
	b.ReportMetric(float64(n), "matches")
}
