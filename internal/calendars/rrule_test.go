package calendars

import (
	"testing"
	"time"
)

// A rule that selects nothing up to its UNTIL ends at UNTIL: the iterator
// does not look for instances beyond it until its work runs out, so the
// answers are exact, not the conservative ones of a cut enumeration (a
// window after UNTIL matching, Expand saying it is truncated). The rules'
// steps never reach their BYSECOND or BYMINUTE (from second 59, a step of
// 3 seconds reaches 2, 5, … 59; from minute 0, a step of 2 minutes the
// even ones), in UTC, in a zone and floating, so the set is DTSTART alone.
func TestUntilEndsRuleThatSelectsNothing(t *testing.T) {
	for _, c := range []struct{ dtstart, rule string }{
		{"DTSTART:20260105T100059Z", "FREQ=SECONDLY;INTERVAL=3;BYSECOND=4;UNTIL=20260106T000000Z"},
		{"DTSTART;TZID=Europe/Berlin:20260105T100059", "FREQ=MINUTELY;INTERVAL=2;BYMINUTE=5;UNTIL=20260106T000000Z"},
		{"DTSTART:20260105T100059", "FREQ=SECONDLY;INTERVAL=3;BYMINUTE=0,30;BYSECOND=4;UNTIL=20260106T000000"},
	} {
		rule := c.rule
		data := tcCal(tcEvent(c.dtstart, "DURATION:PT1M", "RRULE:"+rule)...)
		f := &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: VEVENT, TimeRange: &TimeRange{Start: tcUTC("20270101T000000Z"), End: tcUTC("20270102T000000Z")}}}}
		if ok, err := Match(bg, data, f, nil); ok || err != nil {
			t.Errorf("%s: a window after UNTIL matches: %v, %v", rule, ok, err)
		}
		out, truncated, err := Expand(bg, data, tcUTC("20260105T000000Z"), tcUTC("20260107T000000Z"), nil)
		if err != nil || truncated {
			t.Errorf("%s: Expand truncated %v, %v", rule, truncated, err)
		}
		if got, problem := orcExpanded(out, nil); problem != "" || len(got) != 1 {
			t.Errorf("%s: Expand gives %q (%s), want DTSTART alone", rule, got, problem)
		}
	}
}

// The first week of a year may begin in the year before: UNTIL in those
// days must not end the rule before that year's period is read.
func TestUntilInTheWeekBeforeTheYear(t *testing.T) {
	data := tcCal(tcEvent("DTSTART;VALUE=DATE:20081228", "RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO,TU,WE,TH,FR;UNTIL=20081230")...)
	out, truncated, err := Expand(bg, data, tcUTC("20081201T000000Z"), tcUTC("20090201T000000Z"), nil)
	if err != nil || truncated {
		t.Fatalf("Expand: truncated %v, %v", truncated, err)
	}
	got, problem := orcExpanded(out, time.UTC)
	if problem != "" {
		t.Fatal(problem)
	}
	if want := 3; len(got) != want {
		t.Errorf("instances %q, want DTSTART, 29 and 30 December 2008", got)
	}
}
