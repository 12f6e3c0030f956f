package calendars

import (
	"strings"
	"testing"
	"time"
)

// tcRule lists the first n instances (DTSTART first) of a rule with a
// floating DTSTART, as wall times "20060102T150405".
func tcRule(t *testing.T, dtstart, rule string, n int) []string {
	t.Helper()
	r, err := parseRRule(rule)
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	v, err := parseDTString(dtstart, "", nil)
	if err != nil {
		t.Fatalf("%s: %v", dtstart, err)
	}
	f := func(w int64) string {
		if v.Date {
			return formatDate(floorDiv(w, 86400))
		}
		return time.Unix(w, 0).UTC().Format("20060102T150405")
	}
	out := []string{f(v.Wall)}
	it := newRuleIter(r, v, newWork(bg, ruleWork))
	for len(out) < n {
		w, ok := it.next()
		if !ok {
			break
		}
		out = append(out, f(w))
	}
	return out
}

// The examples of RFC 5545 3.8.5.3 (local times; DTSTART counts first).
func TestRuleExamples(t *testing.T) {
	d := func(days ...string) string {
		for i, s := range days {
			days[i] = s + "T090000"
		}
		return strings.Join(days, " ")
	}
	tests := []struct {
		start, rule string
		n           int
		want        string
	}{
		{"19970902T090000", "FREQ=DAILY;COUNT=10", 100,
			d("19970902", "19970903", "19970904", "19970905", "19970906", "19970907", "19970908", "19970909", "19970910", "19970911")},
		{"19970902T090000", "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH", 100,
			d("19970902", "19970904", "19970909", "19970911", "19970916", "19970918", "19970923", "19970925", "19970930", "19971002")},
		{"19970905T090000", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR", 100,
			d("19970905", "19971003", "19971107", "19971205", "19980102", "19980206", "19980306", "19980403", "19980501", "19980605")},
		{"19970907T090000", "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU", 100,
			d("19970907", "19970928", "19971102", "19971130", "19980104", "19980125", "19980301", "19980329", "19980503", "19980531")},
		{"19970922T090000", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", 100,
			d("19970922", "19971020", "19971117", "19971222", "19980119", "19980216")},
		{"19970928T090000", "FREQ=MONTHLY;BYMONTHDAY=-3", 6,
			d("19970928", "19971029", "19971128", "19971229", "19980129", "19980226")},
		{"19970610T090000", "FREQ=YEARLY;COUNT=10;BYMONTH=6,7", 100,
			d("19970610", "19970710", "19980610", "19980710", "19990610", "19990710", "20000610", "20000710", "20010610", "20010710")},
		{"19970101T090000", "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", 100,
			d("19970101", "19970410", "19970719", "20000101", "20000409", "20000718", "20030101", "20030410", "20030719", "20060101")},
		{"19970519T090000", "FREQ=YEARLY;BYDAY=20MO", 3, d("19970519", "19980518", "19990517")},
		{"19970512T090000", "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", 3, d("19970512", "19980511", "19990517")},
		{"19970313T090000", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH", 11,
			d("19970313", "19970320", "19970327", "19980305", "19980312", "19980319", "19980326", "19990304", "19990311", "19990318", "19990325")},
		{"19970902T090000", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", 6,
			d("19970902", "19980213", "19980313", "19981113", "19990813", "20001013")},
		{"19970913T090000", "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13", 10,
			d("19970913", "19971011", "19971108", "19971213", "19980110", "19980207", "19980307", "19980411", "19980509", "19980613")},
		{"19961105T090000", "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", 3,
			d("19961105", "20001107", "20041102")},
		{"19970904T090000", "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", 100, d("19970904", "19971007", "19971106")},
		{"19970929T090000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", 7,
			d("19970929", "19971030", "19971127", "19971230", "19980129", "19980226", "19980330")},
		{"19970902T090000", "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", 100,
			"19970902T090000 19970902T120000 19970902T150000"},
		{"19970902T090000", "FREQ=MINUTELY;INTERVAL=15;COUNT=6", 100,
			"19970902T090000 19970902T091500 19970902T093000 19970902T094500 19970902T100000 19970902T101500"},
		{"19970902T090000", "FREQ=MINUTELY;INTERVAL=90;COUNT=4", 100,
			"19970902T090000 19970902T103000 19970902T120000 19970902T133000"},
		{"19970902T090000", "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", 26,
			"19970902T090000 19970902T092000 19970902T094000 19970902T100000 19970902T102000 19970902T104000 " +
				"19970902T110000 19970902T112000 19970902T114000 19970902T120000 19970902T122000 19970902T124000 " +
				"19970902T130000 19970902T132000 19970902T134000 19970902T140000 19970902T142000 19970902T144000 " +
				"19970902T150000 19970902T152000 19970902T154000 19970902T160000 19970902T162000 19970902T164000 " +
				"19970903T090000 19970903T092000"},
		{"19970902T090000", "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", 4,
			"19970902T090000 19970902T092000 19970902T094000 19970902T100000"},
		{"19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", 100, d("19970805", "19970810", "19970819", "19970824")},
		{"19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", 100, d("19970805", "19970817", "19970819", "19970831")},
		{"20070115T090000", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", 100, d("20070115", "20070130", "20070215", "20070315", "20070330")},
		{"20240229T090000", "FREQ=YEARLY;COUNT=3", 100, d("20240229", "20280229", "20320229")},
		{"20260131T090000", "FREQ=MONTHLY;COUNT=3", 100, d("20260131", "20260331", "20260531")},
		// DTSTART not on the rule: still the first instance and counted.
		{"20260101T090000", "FREQ=WEEKLY;BYDAY=MO;COUNT=3", 100, d("20260101", "20260105", "20260112")},
		// Dates.
		{"20260130", "FREQ=DAILY;INTERVAL=3;UNTIL=20260205", 100, "20260130 20260202 20260205"},
		{"20260105", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO", 3, "20260105 20270104 20280103"},
		{"20261228", "FREQ=YEARLY;BYWEEKNO=-1;BYDAY=MO", 3, "20261228 20271227 20281225"},
		{"20260101", "FREQ=DAILY;BYWEEKNO=1;COUNT=5", 100, "20260101 20260102 20260103 20260104 20270104"},
	}
	for _, tt := range tests {
		got := strings.Join(tcRule(t, tt.start, tt.rule, tt.n), " ")
		if got != tt.want {
			t.Errorf("%s from %s:\n got %s\nwant %s", tt.rule, tt.start, got, tt.want)
		}
	}
	// Every day in January for three years.
	if got := tcRule(t, "19980101T090000", "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA", 1000); len(got) != 93 {
		t.Errorf("every day in January: %d instances", len(got))
	}
}

func TestRuleParseErrors(t *testing.T) {
	for _, r := range []string{"", "COUNT=3", "FREQ=DAILY;COUNT=0", "FREQ=DAILY;INTERVAL=0", "FREQ=DAILY;COUNT=99999999999",
		"FREQ=WEEKLY;BYDAY=XX", "FREQ=MONTHLY;BYMONTHDAY=0", "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ=YEARLY;BYMONTH=13",
		"FREQ=DAILY;UNTIL=tomorrow", "FREQ", "FREQ=YEARLY;BYDAY=54MO", "FREQ=DAILY;BYHOUR=24"} {
		if _, err := parseRRule(r); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}

func TestWallTimeRFC5545(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	w := func(s string) int64 {
		v, err := parseDTString(s, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return v.Wall
	}
	tests := []struct {
		wall string
		loc  *time.Location
		want string
	}{
		{"20260105T090000", berlin, "20260105T080000Z"},
		{"20260706T090000", berlin, "20260706T070000Z"},
		{"20260329T023000", berlin, "20260329T013000Z"}, // gap: offset before
		{"20261025T023000", berlin, "20261025T003000Z"}, // twice: the first
		{"20260308T023000", ny, "20260308T073000Z"},     // gap
		{"20261101T013000", ny, "20261101T053000Z"},     // twice: the first
	}
	for _, tt := range tests {
		if got := formatUTC(wallTime(w(tt.wall), tt.loc)); got != tt.want {
			t.Errorf("%s in %s = %s, want %s", tt.wall, tt.loc, got, tt.want)
		}
	}
}

// tcInstances expands an object over a window and returns the UTC starts.
func tcInstances(t *testing.T, data []byte, from, to string) []string {
	t.Helper()
	o, err := loadObject(bg, data, ruleWork)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	m := &matcher{o: o, f: time.UTC}
	a, b := tcUTC(from), tcUTC(to)
	o.set.eachOccurrence(time.UTC, a, b, func(oc *occurrence) bool {
		if m.overlaps(oc, a, b) {
			out = append(out, formatUTC(oc.start.at(time.UTC)))
		}
		return true
	})
	return out
}

func TestZonesAcrossDST(t *testing.T) {
	// 09:00 local stays 09:00 local in winter and summer, with the Go zone
	// (IANA TZID), with the VTIMEZONE of an IANA TZID and with Outlook's
	// custom VTIMEZONE.
	cases := map[string][]string{
		"iana": tcEvent("DTSTART;TZID=Europe/Berlin:20260302T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=6"),
		"vtimezone": append(strings.Split(tcBerlinTZ, "\n"),
			tcEvent("DTSTART;TZID=Europe/Berlin:20260302T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=6")...),
		"outlook": append(strings.Split(tcOutlookTZ, "\n"),
			tcEvent("DTSTART;TZID=W. Europe Standard Time:20260302T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=6")...),
	}
	want := "20260302T080000Z 20260309T080000Z 20260316T080000Z 20260323T080000Z 20260330T070000Z 20260406T070000Z"
	for name, lines := range cases {
		got := strings.Join(tcInstances(t, tcCal(lines...), "20260101T000000Z", "20270101T000000Z"), " ")
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	// A custom zone for New York under a non-IANA name, around both changes.
	ny := `BEGIN:VTIMEZONE
TZID:Eastern Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE`
	data := tcCal(append(strings.Split(ny, "\n"), tcEvent("DTSTART;TZID=Eastern Standard Time:20261030T120000", "RRULE:FREQ=DAILY;COUNT=4")...)...)
	got := strings.Join(tcInstances(t, data, "20260101T000000Z", "20270101T000000Z"), " ")
	if want := "20261030T160000Z 20261031T160000Z 20261101T170000Z 20261102T170000Z"; got != want {
		t.Errorf("custom New York:\n got %s\nwant %s", got, want)
	}
	// The custom zone's transitions land on the right instants.
	o, err := loadObject(bg, tcCal(append(strings.Split(tcOutlookTZ, "\n"), tcEvent("DTSTART;TZID=W. Europe Standard Time:20260105T090000")...)...), ruleWork)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := o.zones.resolve("W. Europe Standard Time")
	for _, c := range []struct{ utc, local string }{
		{"20260329T005959Z", "01:59:59 +0100"}, {"20260329T010000Z", "03:00:00 +0200"},
		{"20261025T005959Z", "02:59:59 +0200"}, {"20261025T010000Z", "02:00:00 +0100"},
		{"19800101T000000Z", "01:00:00 +0100"}, {"21500701T000000Z", "02:00:00 +0200"},
	} {
		if got := tcUTC(c.utc).In(loc).Format("15:04:05 -0700"); got != c.local {
			t.Errorf("%s in the Outlook zone: %s, want %s", c.utc, got, c.local)
		}
	}
}

// Rules that never end, never match or are huge stay fast.
func TestPathologicalRules(t *testing.T) {
	rules := []string{
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5",
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5",
		"FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5",
		"FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=SECONDLY",
		"FREQ=SECONDLY;COUNT=1000000000",
		"FREQ=MINUTELY;COUNT=9999999",
		"FREQ=SECONDLY;INTERVAL=1000000000;COUNT=1000",
		"FREQ=YEARLY;INTERVAL=1000000000",
		"FREQ=WEEKLY;BYWEEKNO=53;BYDAY=MO;BYMONTH=6",
		"FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=1,2,3",
		"FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
		"FREQ=DAILY;BYSETPOS=2",
		"FREQ=HOURLY;BYHOUR=25",
	}
	for _, r := range rules {
		data := tcCal(tcEvent("DTSTART:19000101T000000Z", "RRULE:"+r)...)
		t0 := time.Now()
		info, err := Validate(bg, data, nil, nil)
		if err != nil {
			if !strings.Contains(r, "BYHOUR=25") {
				t.Errorf("%s: %v", r, err)
			}
			continue
		}
		if !info.Start.Equal(tcUTC("18991231T235959Z")) {
			t.Errorf("%s: span start %v", r, info.Start)
		}
		f := &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: VEVENT, TimeRange: &TimeRange{Start: tcUTC("20260101T000000Z"), End: tcUTC("20270101T000000Z")}}}}
		if _, err := Match(bg, data, f, nil); err != nil {
			t.Errorf("%s: %v", r, err)
		}
		if _, _, err := Expand(bg, data, tcUTC("20260101T000000Z"), tcUTC("20260101T010000Z"), nil); err != nil {
			t.Errorf("%s: %v", r, err)
		}
		if d := time.Since(t0); d > 20*time.Second { // generous: -race on a busy machine
			t.Errorf("%s: %v", r, d)
		}
	}
}

// FuzzRecurrence builds events from a fuzzed RRULE, DTSTART form and
// extras, and checks that every instance Expand returns lies inside the span
// and is found by Match with a window around it, within the budget of one
// input (tcBudget). The window is days%800+1 days long and starts
// days/800 weeks after the span's start.
func FuzzRecurrence(f *testing.F) {
	f.Add("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", uint8(0), "20260302T090000", "EXDATE;TZID=Europe/Berlin:20260304T090000", uint16(30))
	f.Add("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101T000000Z", uint8(1), "20260130T090000", "RDATE:20260601T120000Z", uint16(300))
	f.Add("FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=TH", uint8(2), "20260101", "DURATION:P2D", uint16(700))
	f.Add("FREQ=HOURLY;INTERVAL=5;BYSETPOS=1,-1;BYMINUTE=0,30", uint8(3), "20261025T013000", "DURATION:PT45M", uint16(2))
	f.Add("FREQ=DAILY;BYMONTH=3,10;BYHOUR=2;COUNT=40", uint8(4), "20260301T020000", "DTEND;TZID=America/New_York:20260301T030000", uint16(40))
	// Attacks: every second of the year, repeated and huge BY lists,
	// SECONDLY windows far from DTSTART, with and without COUNT.
	f.Add(tcAllSeconds, uint8(4), "20260105T090000", "DURATION:PT1S", uint16(800*20+1))
	f.Add(tcAllSeconds+";COUNT=100000;BYSETPOS=-1,1,"+tcNums(2, 366), uint8(0), "20260105T090000", "", uint16(3))
	f.Add("FREQ=MONTHLY;COUNT=10;BYDAY="+strings.TrimSuffix(strings.Repeat("6MO,", 5000), ","), uint8(1), "20260105T090000", "", uint16(700))
	f.Add("FREQ=YEARLY;BYYEARDAY="+tcNums(-366, -1)+";BYMONTHDAY="+strings.Repeat("1,", 3000)+"-1;BYSETPOS="+tcNums(-366, -1), uint8(2), "20260101", "", uint16(799))
	f.Add("FREQ=SECONDLY;BYSECOND=0", uint8(0), "20260105T090000", "DURATION:PT1S", uint16(800*40+2))
	f.Add("FREQ=SECONDLY;COUNT=5000000", uint8(4), "20260105T090000", "DURATION:PT1S", uint16(800*8))
	f.Add("FREQ=MINUTELY;INTERVAL=7;BYHOUR=0;BYMINUTE=0", uint8(3), "20260105T000000", "", uint16(800*80+799))
	zones := []string{"DTSTART;TZID=Europe/Berlin:", "DTSTART:", "DTSTART;VALUE=DATE:", "DTSTART;TZID=America/New_York:", "DTSTART:", "DTSTART;TZID=W. Europe Standard Time:"}
	kiritimati := time.FixedZone("+14", 14*3600)
	f.Fuzz(func(t *testing.T, rule string, zone uint8, start, extra string, days uint16) {
		tcBudget(t, func(m *tcMeter) { fuzzRecurrence(t, m, zones, kiritimati, rule, zone, start, extra, days) })
	})
}

func fuzzRecurrence(t *testing.T, m *tcMeter, zones []string, kiritimati *time.Location, rule string, zone uint8, start, extra string, days uint16) {
	if strings.ContainsAny(rule+start+extra, "\r\n") {
		return
	}
	z := zones[int(zone)%len(zones)]
	if strings.Contains(z, "VALUE=DATE") && len(start) > 8 {
		start = start[:8]
	} else if !strings.Contains(z, "VALUE=DATE") && len(start) == 15 && int(zone)%len(zones) == 4 {
		start += "Z"
	}
	lines := tcEvent(z+start, "RRULE:"+rule, extra)
	if strings.Contains(z, "W. Europe") {
		lines = append(strings.Split(tcOutlookTZ, "\n"), lines...)
	}
	data := tcCal(lines...)
	var info Info
	var err error
	m.do(func() { info, err = Validate(bg, data, nil, nil) })
	if err != nil {
		return
	}
	from := tcUTC("20260101T000000Z")
	if !info.Start.IsZero() && info.Start.Year() > 1 && info.Start.Year() < 9990 {
		from = info.Start
	}
	from = from.Add(time.Duration(days/800) * 7 * 24 * time.Hour)
	to := from.Add(time.Duration(days%800+1) * 24 * time.Hour)
	for _, loc := range []*time.Location{time.UTC, kiritimati} {
		var out []byte
		m.do(func() { out, _, err = Expand(bg, data, from, to, loc) })
		if err != nil {
			t.Fatalf("Expand: %v", err)
		}
		tcCheckInSpan(t, out, info, loc)
		tops, _ := parseICS(out)
		n := 0
		for _, c := range tops[0].Children {
			p := c.prop("DTSTART")
			if p == nil || n > 20 {
				continue
			}
			n++
			v, err := parseDTString(p.Value, strings.ToUpper(p.param("VALUE")), nil)
			if err != nil {
				t.Fatal(err)
			}
			at := v.at(loc)
			if at.Before(from) || !at.Before(to) {
				continue
			}
			q := tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: at, End: at.Add(time.Second)}})
			var ok bool
			m.do(func() { ok, err = Match(bg, data, q, loc) })
			if err != nil || !ok {
				t.Fatalf("Match misses the expanded instance at %v (%v):\n%s\n%s", at, err, data, out)
			}
		}
	}
}
