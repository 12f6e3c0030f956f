package calendars

import (
	"context"
	"errors"
	"flag"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tcMeter adds up the time and the allocations of the calls to the
// package that one fuzz input makes (not the test's own checks).
type tcMeter struct {
	alloc uint64
	d     time.Duration
}

func (m *tcMeter) do(fn func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	fn()
	m.d += time.Since(t0)
	runtime.ReadMemStats(&after)
	m.alloc += after.TotalAlloc - before.TotalAlloc
}

// tcBudget runs the work on one fuzz input and fails when its calls to the
// package allocate more than 100 MB or take more than a second (three
// when fuzzing, whose coverage counters slow the code). A slow input is run
// again before it fails, as the machine may be busy; under the race
// detector only memory is checked.
func tcBudget(t *testing.T, work func(m *tcMeter)) {
	t.Helper()
	const maxAlloc = 100 << 20
	maxTime := time.Second
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		maxTime *= 3
	}
	for try := 0; ; try++ {
		m := &tcMeter{}
		work(m)
		if m.alloc > maxAlloc {
			t.Fatalf("one input allocated %d MB (budget %d MB)", m.alloc>>20, maxAlloc>>20)
		}
		if raceEnabled || m.d <= maxTime {
			return
		}
		if try == 1 {
			t.Fatalf("one input took %v (budget %v)", m.d, maxTime)
		}
	}
}

// Every BY list is sorted and without repeats, BYDAY included, whatever
// the length of the text.
func TestRuleListsDeduplicated(t *testing.T) {
	rep := func(item string, n int) string { return strings.TrimSuffix(strings.Repeat(item+",", n), ",") }
	r, err := parseRRule("FREQ=MONTHLY;BYDAY=" + rep("6MO", 200000) + ",SU,-1FR,+6MO;BYMONTHDAY=" + rep("3", 1000) + ",-1,2;BYSETPOS=" + rep("-1", 500))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.byDay) != 3 || r.byDay[0] != (weekdayNum{wd: 0}) || r.byDay[1] != (weekdayNum{n: 6, wd: 1}) || r.byDay[2] != (weekdayNum{n: -1, wd: 5}) {
		t.Errorf("BYDAY: %d entries, from %v", len(r.byDay), r.byDay[:min(len(r.byDay), 4)])
	}
	if got := r.byMonthDay; len(got) != 3 || got[0] != -1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("BYMONTHDAY: %d entries, from %v", len(got), got[:min(len(got), 4)])
	}
	if len(r.bySetPos) != 1 {
		t.Errorf("BYSETPOS: %d entries", len(r.bySetPos))
	}
	for _, bad := range []string{"FREQ=DAILY;BYDAY=MO,", "FREQ=DAILY;BYHOUR=1,,2", "FREQ=DAILY;BYDAY=0MO"} {
		if _, err := parseRRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The work on an object stops soon after the request's context ends, and
// the caller gets the context's error.
func TestWorkStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	every := tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")...)
	a, b := tcUTC("20260201T000000Z"), tcUTC("20260202T000000Z")
	if _, err := Validate(ctx, tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:FREQ=SECONDLY;BYSECOND=7;COUNT=900000")...), nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Validate: %v", err)
	}
	if _, _, err := Expand(ctx, every, a, b, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Expand: %v", err)
	}
	if _, err := BusyPeriods(ctx, every, a, b, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("BusyPeriods: %v", err)
	}
	filter := tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: a, End: b}, Props: []PropFilter{{Name: "SUMMARY"}}})
	if _, err := Match(ctx, every, filter, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Match: %v", err)
	}
	// It stopped at the first look at the context.
	o, err := loadObject(ctx, every, ruleWork)
	if err != nil {
		t.Fatal(err)
	}
	complete, _ := o.set.eachOccurrence(time.UTC, a, b, func(*occurrence) bool { return true })
	if complete || o.work.left != -1 || !errors.Is(o.work.err, context.Canceled) {
		t.Errorf("complete %v, work left %d, err %v", complete, o.work.left, o.work.err)
	}
}

// Dense rules are answered exactly within the budget; when an answer would
// need more, it says so, and free-busy errs on the busy side.
func TestDenseRulesWithinBudget(t *testing.T) {
	// Every second, in a zone: a day of free-busy is one busy period.
	data := tcCal(append(strings.Split(tcBerlinTZ, "\n"),
		tcEvent("DTSTART;TZID=Europe/Berlin:20260105T090000", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")...)...)
	a, b := tcUTC("20260601T000000Z"), tcUTC("20260602T000000Z")
	ps, err := BusyPeriods(bg, data, a, b, nil)
	if err != nil || len(ps) != 1 || !ps[0].Start.Equal(a) || !ps[0].End.Equal(b) {
		t.Errorf("busy every second: %v %v", ps, err)
	}
	// One second a minute for a year: 525 600 periods, more than are
	// listed; from where the list stops, busy.
	data = tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;BYSECOND=0")...)
	a, b = tcUTC("20260201T000000Z"), tcUTC("20270201T000000Z")
	ps, err = BusyPeriods(bg, data, a, b, nil)
	if err != nil || len(ps) != maxExpand+1 {
		t.Fatalf("busy a second a minute: %d periods, %v", len(ps), err)
	}
	if last := ps[len(ps)-1]; !last.End.Equal(b) || !ps[maxExpand-1].End.After(a.Add(13*24*time.Hour)) || last.Start.After(ps[maxExpand-1].End.Add(time.Minute)) {
		t.Errorf("busy a second a minute: ends with %v, %v", ps[maxExpand-1], last)
	}
	out, truncated, err := Expand(bg, data, a, b, nil)
	if err != nil || !truncated || strings.Count(string(out), "BEGIN:VEVENT") != maxExpand {
		t.Errorf("expand a second a minute: truncated %v, %d instances, %v", truncated, strings.Count(string(out), "BEGIN:VEVENT"), err)
	}
	out, truncated, err = Expand(bg, data, a, a.Add(time.Hour), nil)
	if err != nil || truncated || strings.Count(string(out), "BEGIN:VEVENT") != 60 {
		t.Errorf("expand an hour of a second a minute: truncated %v, %d instances, %v", truncated, strings.Count(string(out), "BEGIN:VEVENT"), err)
	}
}

// tcNums lists the integers from lo to hi.
func tcNums(lo, hi int) string {
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		if i > lo {
			b.WriteByte(',')
		}
		b.WriteString(itoa(int64(i)))
	}
	return b.String()
}

// tcAllSeconds names every weekday, hour, minute and second: 31.6 million
// instances a year.
var tcAllSeconds = "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + tcNums(0, 23) +
	";BYMINUTE=" + tcNums(0, 59) + ";BYSECOND=" + tcNums(0, 59)

// BenchmarkHostileRules: the rules of the hostile-input review (issue 10),
// at PUT and in the queries over them.
func BenchmarkHostileRules(b *testing.B) {
	day := func(s string) time.Time { t, _ := time.Parse("20060102T150405Z", s); return t }
	repeated := "FREQ=MONTHLY;COUNT=10;BYDAY=" + strings.TrimSuffix(strings.Repeat("6MO,", 200000), ",")
	cases := []struct {
		name string
		data []byte
		run  func(data []byte)
	}{
		{"AllSecondsPut", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:"+tcAllSeconds+";COUNT=10")...),
			func(d []byte) { _, _ = Validate(bg, d, nil, nil) }},
		{"AllSecondsExpandDay", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:"+tcAllSeconds)...),
			func(d []byte) { _, _, _ = Expand(bg, d, day("20260601T000000Z"), day("20260602T000000Z"), nil) }},
		{"AllSecondsFreeBusyDay", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:"+tcAllSeconds)...),
			func(d []byte) { _, _ = BusyPeriods(bg, d, day("20260601T000000Z"), day("20260602T000000Z"), nil) }},
		{"RepeatedByDayPut", tcCal(tcEvent("DTSTART:20260105T090000Z", "RRULE:"+repeated)...),
			func(d []byte) { _, _ = Validate(bg, d, nil, nil) }},
		{"SecondlyFarExpandHour", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")...),
			func(d []byte) { _, _, _ = Expand(bg, d, day("20260301T120000Z"), day("20260301T130000Z"), nil) }},
		{"SecondlyFarFreeBusyHour", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")...),
			func(d []byte) { _, _ = BusyPeriods(bg, d, day("20260301T120000Z"), day("20260301T130000Z"), nil) }},
		{"SecondlyCountFarExpandHour", tcCal(tcEvent("DTSTART:20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;COUNT=5000000")...),
			func(d []byte) { _, _, _ = Expand(bg, d, day("20260301T120000Z"), day("20260301T130000Z"), nil) }},
		// No instance after DTSTART, found out only by walking the window:
		// a month costs the whole budget.
		{"SparseSecondlyMatchMonth", tcCal(tcEvent("DTSTART:20250105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1")...),
			func(d []byte) {
				_, _ = Match(bg, d, tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: day("20260301T000000Z"), End: day("20260401T000000Z")}}), nil)
			}},
		// For comparison, a rule as clients write them.
		{"WeeklyExpandYear", tcCal(tcEvent("DTSTART;TZID=Europe/Berlin:20200106T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR")...),
			func(d []byte) { _, _, _ = Expand(bg, d, day("20260101T000000Z"), day("20270101T000000Z"), nil) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.run(c.data)
			}
		})
	}
}
