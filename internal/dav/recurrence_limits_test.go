package dav_test

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hostile and extreme recurrence rules, sent as clients send them: every
// request must stay within a memory and time budget far above normal, and
// the answers must be exact or say they are not.

// costly runs fn and fails when it allocates more than maxMB or takes more
// than maxTime.
func costly(t *testing.T, what string, maxMB uint64, maxTime time.Duration, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	fn()
	d := time.Since(t0)
	runtime.ReadMemStats(&after)
	mb := (after.TotalAlloc - before.TotalAlloc) >> 20
	t.Logf("%s: %v, %d MB allocated", what, d.Round(time.Millisecond), mb)
	if mb > maxMB {
		t.Errorf("%s allocated %d MB (budget %d MB)", what, mb, maxMB)
	}
	if d > maxTime {
		t.Errorf("%s took %v (budget %v)", what, d, maxTime)
	}
}

func numList(lo, hi int) string {
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		if i > lo {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

func utcEvent(uid, start string, extra ...string) string {
	lines := append([]string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", "SUMMARY:" + uid, "DTSTART:" + start}, extra...)
	return strings.Join(append(lines, "END:VEVENT"), "\n")
}

func expandQuery(start, end string) string {
	return calQuery(`<C:comp-filter name="VEVENT"><C:time-range start="`+start+`" end="`+end+`"/></C:comp-filter>`,
		`<C:calendar-data><C:expand start="`+start+`" end="`+end+`"/></C:calendar-data>`)
}

func freeBusyQuery(start, end string) string {
	return `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="` + start + `" end="` + end + `"/></C:free-busy-query>`
}

// expanded returns the calendar-data of one object in a calendar-query
// answer, and whether the answer says it was truncated.
func expanded(t *testing.T, r reply, href string) (data string, truncated bool) {
	t.Helper()
	d := parseMS(t, r)
	data = d.response(t, href).ok(t, nsCal, "calendar-data").Text
	for _, resp := range d.Responses {
		if len(resp.Hrefs) == 1 && resp.Hrefs[0] == cal && resp.Error != nil {
			truncated = resp.Status == "HTTP/1.1 507 Insufficient Storage" && strings.Contains(resp.Error.Inner, "number-of-matches-within-limits")
		}
	}
	return data, truncated
}

// Finding 1: a rule naming every weekday, hour, minute and second (31.6
// million instances a year) built them all for each year, about 1 GB for a
// PUT and for every expand or free-busy over it.
func TestEverySecondRule(t *testing.T) {
	s := newServer(t)
	rule := "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + numList(0, 23) + ";BYMINUTE=" + numList(0, 59) + ";BYSECOND=" + numList(0, 59)
	costly(t, "PUT with COUNT", 50, 5*time.Second, func() {
		s.putICS(cal+"count.ics", ics(utcEvent("count", "20260105T090000Z", "DURATION:PT1S", "RRULE:"+rule+";COUNT=100000"))).expect(t, http.StatusCreated)
	})
	costly(t, "PUT", 50, 5*time.Second, func() {
		s.putICS(cal+"every.ics", ics(utcEvent("every", "20260105T090000Z", "DURATION:PT1S", "RRULE:"+rule))).expect(t, http.StatusCreated)
	})
	// An hour in June: each of its 3600 seconds, exactly.
	var r reply
	costly(t, "expand", 100, 5*time.Second, func() {
		r = s.do("REPORT", cal, alice, expandQuery("20260601T120000Z", "20260601T130000Z"), "Depth: 1")
	})
	data, truncated := expanded(t, r, cal+"every.ics")
	if n := strings.Count(data, "BEGIN:VEVENT"); n != 3600 || truncated {
		t.Errorf("expand: %d instances (truncated %v), want 3600", n, truncated)
	}
	for _, want := range []string{"DTSTART:20260601T120000Z", "DTSTART:20260601T125959Z", "DTSTART:20260601T123017Z"} {
		if !strings.Contains(data, want) {
			t.Errorf("expand: no %s", want)
		}
	}
	if strings.Contains(data, "DTSTART:20260601T130000Z") || strings.Contains(data, "DTSTART:20260601T115959Z") {
		t.Error("expand: instances outside the window")
	}
	// A day: busy all day, one period.
	costly(t, "free-busy", 50, 5*time.Second, func() {
		r = s.do("REPORT", cal, alice, freeBusyQuery("20260601T000000Z", "20260602T000000Z"), "Depth: 1").expect(t, http.StatusOK)
	})
	if !strings.Contains(strings.ReplaceAll(r.body, "\r\n ", ""), "FREEBUSY;FBTYPE=BUSY:20260601T000000Z/20260602T000000Z\r\n") {
		t.Errorf("free-busy:\n%s", r.body)
	}
}

// Finding 1: a rule that cannot be expanded within the work budget is
// refused at PUT, with the precondition and the rule in the message.
func TestUnexpandableRuleRefused(t *testing.T) {
	s := newServer(t)
	rule := "FREQ=SECONDLY;BYSECOND=0;COUNT=1000000000"
	var r reply
	costly(t, "PUT", 50, 5*time.Second, func() {
		r = s.putICS(cal+"huge.ics", ics(utcEvent("huge", "20260105T090000Z", "RRULE:"+rule))).expect(t, http.StatusForbidden)
	})
	if !strings.Contains(r.body, "valid-calendar-data") || !strings.Contains(r.body, rule) {
		t.Errorf("refusal: %s", r.body)
	}
	s.do("GET", cal+"huge.ics", alice, "").expect(t, http.StatusNotFound)
	// Rules as clients write them still go in, and every instance of a
	// minutely rule with a count is found far from DTSTART.
	for i, rule := range []string{"FREQ=MINUTELY;INTERVAL=15;COUNT=100000", "FREQ=HOURLY;BYMINUTE=0,15,30,45",
		"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,17", "FREQ=SECONDLY;COUNT=5000000"} {
		uid := "ok" + strconv.Itoa(i)
		s.putICS(cal+uid+".ics", ics(utcEvent(uid, "20260105T090000Z", "RRULE:"+rule))).expect(t, http.StatusCreated)
	}
}

// Finding 2: BYDAY was the one list not deduplicated; 200 000 copies of
// one entry (800 KB) took 45 s of CPU.
func TestRepeatedByDay(t *testing.T) {
	s := newServer(t)
	rule := "FREQ=MONTHLY;COUNT=10;BYDAY=" + strings.TrimSuffix(strings.Repeat("6MO,", 200000), ",")
	costly(t, "PUT", 50, 5*time.Second, func() {
		s.putICS(cal+"rep.ics", ics(utcEvent("rep", "20260105T090000Z", "RRULE:"+rule))).expect(t, http.StatusCreated)
	})
	// No month has a sixth Monday: DTSTART is the only instance.
	costly(t, "expand", 50, 5*time.Second, func() {
		data, truncated := expanded(t, s.do("REPORT", cal, alice, expandQuery("20260101T000000Z", "20270101T000000Z"), "Depth: 1"), cal+"rep.ics")
		if n := strings.Count(data, "BEGIN:VEVENT"); n != 1 || truncated {
			t.Errorf("expand: %d instances (truncated %v), want 1", n, truncated)
		}
	})
	// Repeats of a real entry: the second Monday of each month.
	rule = "FREQ=MONTHLY;COUNT=3;BYDAY=" + strings.TrimSuffix(strings.Repeat("2MO,", 200000), ",")
	costly(t, "PUT", 50, 5*time.Second, func() {
		s.putICS(cal+"rep2.ics", ics(utcEvent("rep2", "20260112T090000Z", "DURATION:PT1H", "RRULE:"+rule))).expect(t, http.StatusCreated)
	})
	data, _ := expanded(t, s.do("REPORT", cal, alice, expandQuery("20260101T000000Z", "20270101T000000Z"), "Depth: 1"), cal+"rep2.ics")
	for _, want := range []string{"DTSTART:20260112T090000Z", "DTSTART:20260209T090000Z", "DTSTART:20260309T090000Z"} {
		if !strings.Contains(data, want) {
			t.Errorf("repeated 2MO: no %s in\n%s", want, data)
		}
	}
	if n := strings.Count(data, "BEGIN:VEVENT"); n != 3 {
		t.Errorf("repeated 2MO: %d instances, want 3", n)
	}
}

// Finding 7: expand and free-busy found no instance of a SECONDLY rule in
// a window more than about three days after DTSTART, while the time-range
// filter matched the object.
func TestSecondlyFarWindows(t *testing.T) {
	s := newServer(t)
	// Every second; every minute on the minute in Berlin; every second with
	// a count that ends on 4 March.
	s.putICS(cal+"every.ics", ics(utcEvent("every", "20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY"))).expect(t, http.StatusCreated)
	s.putICS(cal+"berlin.ics", ics(berlinTZ, event("berlin", "Berlin", "20260105T090000", "20260105T090001", "RRULE:FREQ=SECONDLY;BYSECOND=0"))).expect(t, http.StatusCreated)
	s.putICS(cal+"count.ics", ics(utcEvent("count", "20260105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;COUNT=5000000"))).expect(t, http.StatusCreated)
	// 20 minutes on 1 March, 55 days after DTSTART (Berlin is at +01:00).
	var r reply
	costly(t, "expand", 50, 5*time.Second, func() {
		r = s.do("REPORT", cal, alice, expandQuery("20260301T120000Z", "20260301T122000Z"), "Depth: 1")
	})
	for name, want := range map[string]int{"every": 1200, "berlin": 20, "count": 1200} {
		data, truncated := expanded(t, r, cal+name+".ics")
		if n := strings.Count(data, "BEGIN:VEVENT"); n != want || truncated {
			t.Errorf("%s: %d instances (truncated %v), want %d:\n%.600s", name, n, truncated, want, data)
		}
		if !strings.Contains(data, "DTSTART:20260301T121900Z") || strings.Contains(data, "DTSTART:20260301T122000Z") {
			t.Errorf("%s: not the instances from 12:00 to 12:19", name)
		}
	}
	// The count ends on 4 March at 05:53:19 (DTSTART + 4 999 999 s).
	data, _ := expanded(t, s.do("REPORT", cal, alice, expandQuery("20260304T055300Z", "20260304T060000Z"), "Depth: 1"), cal+"count.ics")
	if n := strings.Count(data, "BEGIN:VEVENT"); n != 20 || !strings.Contains(data, "DTSTART:20260304T055319Z") {
		t.Errorf("end of count: %d instances, want 20 up to 05:53:19:\n%.400s", n, data)
	}
	// Free-busy in March: busy throughout.
	costly(t, "free-busy", 50, 5*time.Second, func() {
		r = s.do("REPORT", cal, alice, freeBusyQuery("20260310T120000Z", "20260310T130000Z"), "Depth: 1").expect(t, http.StatusOK)
	})
	if !strings.Contains(strings.ReplaceAll(r.body, "\r\n ", ""), "FREEBUSY;FBTYPE=BUSY:20260310T120000Z/20260310T130000Z\r\n") {
		t.Errorf("free-busy:\n%s", r.body)
	}
	// Without the every-second rule: a busy second a minute.
	s.do("DELETE", cal+"every.ics", alice, "").expect(t, http.StatusNoContent)
	r = s.do("REPORT", cal, alice, freeBusyQuery("20260310T120000Z", "20260310T120500Z"), "Depth: 1").expect(t, http.StatusOK)
	want := "FREEBUSY;FBTYPE=BUSY:20260310T120000Z/20260310T120001Z,20260310T120100Z/20260310T120101Z," +
		"20260310T120200Z/20260310T120201Z,20260310T120300Z/20260310T120301Z,20260310T120400Z/20260310T120401Z\r\n"
	if !strings.Contains(strings.ReplaceAll(r.body, "\r\n ", ""), want) {
		t.Errorf("free-busy:\n%s\nwant %s", r.body, want)
	}
}

// Finding 9: expand stopped at 20 000 instances without a sign. The
// answer now carries a 507 response with number-of-matches-within-limits
// for the collection (RFC 4791 7.8), after the instances it could give.
func TestExpandTruncationMarked(t *testing.T) {
	s := newServer(t)
	s.putICS(cal+"minutely.ics", ics(utcEvent("minutely", "20260105T090000Z", "DURATION:PT1M", "RRULE:FREQ=MINUTELY"))).expect(t, http.StatusCreated)
	s.putICS(cal+"weekly.ics", ics(utcEvent("weekly", "20260105T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"))).expect(t, http.StatusCreated)
	// 30 days hold 43 200 instances.
	var r reply
	costly(t, "expand", 150, 10*time.Second, func() {
		r = s.do("REPORT", cal, alice, expandQuery("20260201T000000Z", "20260303T000000Z"), "Depth: 1")
	})
	data, truncated := expanded(t, r, cal+"minutely.ics")
	if n := strings.Count(data, "BEGIN:VEVENT"); n != 20000 || !truncated {
		t.Errorf("expand: %d instances, truncation marked %v; want 20000, marked", n, truncated)
	}
	if !strings.Contains(data, "DTSTART:20260201T000000Z") {
		t.Error("the answer does not hold the first instances")
	}
	if w, _ := expanded(t, r, cal+"weekly.ics"); strings.Count(w, "BEGIN:VEVENT") != 5 {
		t.Errorf("weekly beside the truncated one:\n%s", w)
	}
	// A window that fits is not marked.
	if _, truncated := expanded(t, s.do("REPORT", cal, alice, expandQuery("20260201T000000Z", "20260202T000000Z"), "Depth: 1"), cal+"minutely.ics"); truncated {
		t.Error("a complete answer is marked truncated")
	}
}
