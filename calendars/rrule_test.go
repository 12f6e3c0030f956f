package calendars

import (
	"testing"
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
