package calendars

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBusyPeriods(t *testing.T) {
	a, b := tcUTC("20260105T000000Z"), tcUTC("20260112T000000Z")
	f := func(ps []Period) string {
		var s []string
		for _, p := range ps {
			s = append(s, fmt.Sprintf("%s/%s %s", formatUTC(p.Start), formatUTC(p.End), p.Type))
		}
		return strings.Join(s, ", ")
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"busy", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")...), "20260105T090000Z/20260105T100000Z BUSY"},
		{"transparent", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "TRANSP:TRANSPARENT")...), ""},
		{"cancelled", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "STATUS:CANCELLED")...), ""},
		{"tentative", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "STATUS:TENTATIVE")...), "20260105T090000Z/20260105T100000Z BUSY-TENTATIVE"},
		{"confirmed", tcCal(tcEvent("DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "STATUS:CONFIRMED")...), "20260105T090000Z/20260105T100000Z BUSY"},
		{"zero duration is free", tcCal(tcEvent("DTSTART:20260105T090000Z")...), ""},
		{"clipped", tcCal(tcEvent("DTSTART:20260104T220000Z", "DTEND:20260105T020000Z")...), "20260105T000000Z/20260105T020000Z BUSY"},
		{"outside", tcCal(tcEvent("DTSTART:20260104T220000Z", "DTEND:20260105T000000Z")...), ""},
		{"all-day in the floating zone (UTC)", tcCal(tcEvent("DTSTART;VALUE=DATE:20260106")...), "20260106T000000Z/20260107T000000Z BUSY"},
		{"recurring with a cancelled override", tcCal(tcJoin(
			tcEvent("DTSTART:20260101T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=8"),
			tcEvent("RECURRENCE-ID:20260106T090000Z", "DTSTART:20260106T090000Z", "DURATION:PT1H", "STATUS:CANCELLED"),
			tcEvent("RECURRENCE-ID:20260107T090000Z", "DTSTART:20260107T150000Z", "DURATION:PT1H", "STATUS:TENTATIVE"))...),
			"20260105T090000Z/20260105T100000Z BUSY, 20260107T150000Z/20260107T160000Z BUSY-TENTATIVE, 20260108T090000Z/20260108T100000Z BUSY"},
		{"todo is ignored", tcCal("BEGIN:VTODO", "UID:t", "DTSTART:20260105T090000Z", "DUE:20260105T100000Z", "END:VTODO"), ""},
	}
	for _, tt := range tests {
		ps, err := BusyPeriods(bg, tt.data, a, b, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := f(ps); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	// All-day events follow the floating zone.
	ps, err := BusyPeriods(bg, tcCal(tcEvent("DTSTART;VALUE=DATE:20260106")...), a, b, mustZone(t, "Europe/Berlin"))
	if err != nil || f(ps) != "20260105T230000Z/20260106T230000Z BUSY" {
		t.Errorf("all-day in Berlin: %s %v", f(ps), err)
	}
}

func TestFreeBusy(t *testing.T) {
	u := tcUTC
	start, end := u("20260105T000000Z"), u("20260106T000000Z")
	periods := []Period{
		{Start: u("20260105T100000Z"), End: u("20260105T110000Z"), Type: "BUSY"},
		{Start: u("20260105T090000Z"), End: u("20260105T100000Z")}, // touches: merged
		{Start: u("20260105T103000Z"), End: u("20260105T120000Z"), Type: "BUSY"},
		{Start: u("20260105T150000Z"), End: u("20260105T160000Z"), Type: "BUSY"},
		{Start: u("20260105T140000Z"), End: u("20260105T143000Z"), Type: "BUSY-TENTATIVE"},
		{Start: u("20260104T230000Z"), End: u("20260105T010000Z"), Type: "BUSY-UNAVAILABLE"}, // clipped
		{Start: u("20260106T010000Z"), End: u("20260106T020000Z"), Type: "BUSY"},             // outside
	}
	out := FreeBusy(periods, start, end)
	tops, err := parseICS(out)
	if err != nil || len(tops) != 1 || len(tops[0].Children) != 1 || tops[0].Children[0].Name != "VFREEBUSY" {
		t.Fatalf("answer (%v):\n%s", err, out)
	}
	fb := tops[0].Children[0]
	var lines []string
	for _, p := range fb.Props {
		switch p.Name {
		case "DTSTAMP":
			if _, ok, _ := parseDateTimeWall(p.Value); !ok {
				t.Errorf("DTSTAMP %q", p.Value)
			}
		case "FREEBUSY":
			lines = append(lines, p.param("FBTYPE")+" "+p.Value)
		default:
			lines = append(lines, p.Name+" "+p.Value)
		}
	}
	want := []string{
		"DTSTART 20260105T000000Z",
		"DTEND 20260106T000000Z",
		"BUSY 20260105T090000Z/20260105T120000Z,20260105T150000Z/20260105T160000Z",
		"BUSY-TENTATIVE 20260105T140000Z/20260105T143000Z",
		"BUSY-UNAVAILABLE 20260105T000000Z/20260105T010000Z",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("FREEBUSY:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Long lines are folded at 75 octets.
	var many []Period
	for i := 0; i < 20; i++ {
		s := start.Add(time.Duration(i) * time.Hour)
		many = append(many, Period{Start: s, End: s.Add(30 * time.Minute)})
	}
	for _, l := range strings.Split(string(FreeBusy(many, start, end)), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets", len(l))
		}
	}
	tops, _ = parseICS(FreeBusy(many, start, end))
	if p := tops[0].Children[0].prop("FREEBUSY"); p == nil || strings.Count(p.Value, ",") != 19 {
		t.Errorf("folded FREEBUSY does not read back")
	}
}
