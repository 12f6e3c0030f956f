// Command caldavbench measures a real `rolodav serve` process under a
// CalDAV load: it builds the binary, fills a calendar with realistic events
// over HTTP (timed in several IANA zones with VTIMEZONE blocks, some all-day,
// 10% recurring weekly or monthly with COUNT, UNTIL or no end, spread over
// three years) and a task list with todos, then times what calendar clients
// send: a one-month time-range query (checked against the matches computed
// here), the same with expansion, a free-busy query, sync-collection initial
// and after 10 changes, multigets of the month's matches in batches of 10
// (DAVx5) and 100 (Thunderbird), and a VTODO time-range query. It reports
// the server's peak memory after the writes and during the reads.
// Usage: go run ./cmd/caldavbench [--events 50000] [--writers 4] [--todos 2000]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // the expected matches need the zones' real rules

	"github.com/rolodav/rolodav/internal/loadtest"
)

const (
	login    = "bench@example.org"
	password = "bench password"
	calPath  = "/dav/calendars/" + login + "/calendar/"
	taskPath = "/dav/calendars/" + login + "/tasks/"
)

// The queried month holds both DST switches (US 8 March, EU 29 March 2026).
var (
	monthStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	monthEnd   = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	spanStart  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // events start within three years
	spanDays   = 3 * 365
)

func main() {
	events := flag.Int("events", 50000, "events in the calendar (10% recurring)")
	todos := flag.Int("todos", 2000, "todos in the task list")
	writers := flag.Int("writers", 4, "concurrent PUT clients")
	binary := flag.String("binary", "", "rolodav binary to run (default: build ./cmd/rolodav)")
	db := flag.String("database", "", "database for the server (an empty postgres://… database, say; default: SQLite in a temporary directory)")
	flag.Parse()
	if err := run(*events, *todos, *writers, *binary, *db); err != nil {
		fmt.Fprintln(os.Stderr, "caldavbench:", err)
		os.Exit(1)
	}
}

func run(nEvents, nTodos, writers int, binary, database string) error {
	srv, err := loadtest.StartOn(binary, database, login, password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	b := srv.Client(writers * 2)

	zones, err := loadZones()
	if err != nil {
		return err
	}
	evs := make([]*eventSpec, nEvents)
	recurring := 0
	for i := range evs {
		evs[i] = newEventSpec(i, zones)
		if evs[i].rec != "" {
			recurring++
		}
	}
	tds := make([]*todoSpec, nTodos)
	for i := range tds {
		tds[i] = newTodoSpec(i)
	}

	fmt.Printf("rolodav CalDAV benchmark: %d events (%d recurring), %d todos, %d writers, %s\n", nEvents, recurring, nTodos, writers, loadtest.Engine(database))
	fmt.Printf("queried month: %s .. %s (UTC)\n\n", monthStart.Format("2006-01-02"), monthEnd.Format("2006-01-02"))
	fmt.Printf("%-50s %12s %24s\n", "phase", "time", "result")

	var size atomic.Int64
	d, err := loadtest.Parallel(nEvents, writers, func(i int) error {
		body := evs[i].render(0)
		size.Add(int64(len(body)))
		return b.Put(calPath+evs[i].name(), icsType, body)
	})
	if err != nil {
		return err
	}
	report(fmt.Sprintf("PUT %d events (%d writers)", nEvents, writers), d,
		fmt.Sprintf("%.0f PUT/s, %.0f B avg", float64(nEvents)/d.Seconds(), float64(size.Load())/float64(nEvents)))
	d, err = loadtest.Parallel(nTodos, writers, func(i int) error { return b.Put(taskPath+tds[i].name(), icsType, tds[i].render()) })
	if err != nil {
		return err
	}
	report(fmt.Sprintf("PUT %d todos (%d writers)", nTodos, writers), d, fmt.Sprintf("%.0f PUT/s", float64(nTodos)/d.Seconds()))
	hwm, _ := srv.Memory()
	fmt.Printf("%-50s %37s\n", "  server peak memory after the writes", hwm)
	fmt.Printf("%-50s %37s\n", "  data directory on disk", loadtest.MB(srv.DataSize()))
	// Reset the peak so what follows measures the read path.
	srv.ResetPeak()

	// One month, getetag only (DAVx5, most sync clients).
	wantNames, wantInstances := expectedMonth(evs)
	body, d, err := b.Do("REPORT", calPath, calQuery("VEVENT", "<D:getetag/>"), "Depth: 1")
	if err != nil {
		return err
	}
	matches := hrefNames(body, calPath)
	report("calendar-query VEVENT one month (getetag)", d, fmt.Sprintf("%d matches%s", len(matches), compare(matches, wantNames)))

	// One month, expanded (python-caldav, agenda views).
	body, d, err = b.Do("REPORT", calPath, calQuery("VEVENT", `<D:getetag/><C:calendar-data><C:expand start="`+utc(monthStart)+`" end="`+utc(monthEnd)+`"/></C:calendar-data>`), "Depth: 1")
	if err != nil {
		return err
	}
	inst := bytes.Count(body, []byte("BEGIN:VEVENT"))
	check := ""
	if inst != wantInstances {
		check = fmt.Sprintf(" (MISMATCH: want %d)", wantInstances)
	}
	report("calendar-query one month, expanded", d, fmt.Sprintf("%d instances, %s%s", inst, loadtest.MB(int64(len(body))), check))

	body, d, err = b.Do("REPORT", calPath, `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="`+
		utc(monthStart)+`" end="`+utc(monthEnd)+`"/></C:free-busy-query>`, "Depth: 1")
	if err != nil {
		return err
	}
	check = ""
	if got, want := busyPeriods(string(body)), expectedBusy(evs); got != want {
		check = fmt.Sprintf(" (MISMATCH: want %d merged)", want)
	}
	report("free-busy-query one month", d, fmt.Sprintf("%d busy periods%s", busyPeriods(string(body)), check))

	body, d, err = b.Do("REPORT", calPath, syncReq(""), "Depth: 1")
	if err != nil {
		return err
	}
	token := tokenRE.FindSubmatch(body)
	if token == nil {
		return fmt.Errorf("no sync token in the initial sync")
	}
	members := len(responseRE.FindAll(body, -1))
	report("sync-collection initial (getetag)", d, fmt.Sprintf("%d members, %s", members, loadtest.MB(int64(len(body)))))
	if members != nEvents {
		fmt.Printf("  MISMATCH: initial sync lists %d members, want %d\n", members, nEvents)
	}

	rng := rand.New(rand.NewSource(99))
	changed := map[int]bool{}
	for len(changed) < 10 {
		changed[rng.Intn(nEvents)] = true
	}
	for i := range changed {
		if err := b.Put(calPath+evs[i].name(), icsType, evs[i].render(1)); err != nil {
			return err
		}
	}
	body, d, err = b.Do("REPORT", calPath, syncReq(string(token[1])), "Depth: 1")
	if err != nil {
		return err
	}
	members = len(responseRE.FindAll(body, -1))
	check = ""
	if members != len(changed) {
		check = fmt.Sprintf(" (MISMATCH: want %d)", len(changed))
	}
	report("sync-collection after 10 changes", d, fmt.Sprintf("%d members%s", members, check))

	for _, batch := range []int{10, 100} {
		start := time.Now()
		total, reqs := 0, 0
		for i := 0; i < len(matches); i += batch {
			part := matches[i:min(i+batch, len(matches))]
			body, _, err := b.Do("REPORT", calPath, multigetReq(calPath, part), "Depth: 1")
			if err != nil {
				return err
			}
			if n := bytes.Count(body, []byte("BEGIN:VCALENDAR")); n != len(part) {
				return fmt.Errorf("multiget of %d hrefs returned %d calendars", len(part), n)
			}
			total += len(body)
			reqs++
		}
		d := time.Since(start)
		report(fmt.Sprintf("multiget the month's matches, batches of %d", batch), d,
			fmt.Sprintf("%d req, %.2f ms/req", reqs, float64(d.Microseconds())/1000/float64(max(reqs, 1))))
	}

	body, d, err = b.Do("REPORT", taskPath, calQuery("VTODO", "<D:getetag/>"), "Depth: 1")
	if err != nil {
		return err
	}
	todoMatches := hrefNames(body, taskPath)
	report("calendar-query VTODO one month (getetag)", d, fmt.Sprintf("%d matches%s", len(todoMatches), compare(todoMatches, expectedTodos(tds))))

	hwm, rss := srv.Memory()
	fmt.Printf("\nserver peak memory during the reads (VmHWM) %s, resident now %s\n", hwm, rss)
	return nil
}

// ---------------------------------------------------------------------------
// Data

type zone struct {
	tzid      string // "" = UTC, written with Z
	loc       *time.Location
	vtimezone string
}

const euRules = "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n" +
	"TZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"

const usRules = "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:20070311T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n" +
	"TZNAME:EST\r\nDTSTART:20071104T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n"

const jpRules = "BEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\n"

// loadZones returns the zones events are written in, by weight:
// Berlin 45%, New York 25%, Tokyo 15%, UTC 15%.
func loadZones() ([]*zone, error) {
	var out []*zone
	for _, z := range []struct {
		tzid, rules string
		weight      int
	}{{"Europe/Berlin", euRules, 9}, {"America/New_York", usRules, 5}, {"Asia/Tokyo", jpRules, 3}, {"", "", 3}} {
		zz := &zone{tzid: z.tzid, loc: time.UTC}
		if z.tzid != "" {
			loc, err := time.LoadLocation(z.tzid)
			if err != nil {
				return nil, err
			}
			zz.loc = loc
			zz.vtimezone = "BEGIN:VTIMEZONE\r\nTZID:" + z.tzid + "\r\n" + z.rules + "END:VTIMEZONE\r\n"
		}
		for i := 0; i < z.weight; i++ {
			out = append(out, zz)
		}
	}
	return out, nil
}

type eventSpec struct {
	i        int
	zone     *zone
	allDay   bool
	start    time.Time // wall time in zone.loc; all-day: the date at 00:00 UTC (floating)
	dur      time.Duration
	rec      string // "", "WEEKLY", "MONTHLY"
	count    int    // 0 = no COUNT
	until    time.Time
	exdate   bool // weekly: the second instance is excluded
	summary  string
	location string
	alarm    bool
}

var (
	topics    = []string{"Standup", "Review", "Lunch with Anna", "Dentist", "1:1 Jürgen", "Planning", "Yoga", "Call with Tokyo office", "Board meeting", "Kita pick-up", "Gym", "Project sync"}
	locations = []string{"Room 4.12", "Café Central", "https://meet.example.org/abc-defg-hij", "Hauptstraße 5, Berlin", "", "Zoom"}
)

func newEventSpec(i int, zones []*zone) *eventSpec {
	rng := rand.New(rand.NewSource(int64(i) + 1))
	e := &eventSpec{i: i, zone: zones[rng.Intn(len(zones))], summary: topics[rng.Intn(len(topics))], location: locations[rng.Intn(len(locations))], alarm: rng.Intn(3) == 0}
	day := spanStart.AddDate(0, 0, rng.Intn(spanDays))
	if i%10 == 0 { // recurring, always timed
		e.rec = "WEEKLY"
		if rng.Intn(2) == 0 {
			e.rec = "MONTHLY"
			day = time.Date(day.Year(), day.Month(), 1+rng.Intn(28), 0, 0, 0, 0, time.UTC)
		}
		switch rng.Intn(3) {
		case 0:
			e.count = 3 + rng.Intn(50)
		case 1:
			e.until = day.AddDate(0, 1+rng.Intn(18), 0).Add(24*time.Hour - time.Second)
		}
		e.exdate = e.rec == "WEEKLY" && rng.Intn(3) == 0
	} else if rng.Intn(10) == 0 {
		e.allDay = true
		e.zone = &zone{loc: time.UTC}
		e.start = day
		e.dur = time.Duration(1+rng.Intn(3)) * 24 * time.Hour
		return e
	}
	// Hours 7–19 never fall into a DST gap or overlap.
	e.start = time.Date(day.Year(), day.Month(), day.Day(), 7+rng.Intn(13), 15*rng.Intn(4), 0, 0, e.zone.loc)
	e.dur = time.Duration(30*(1+rng.Intn(4))) * time.Minute
	return e
}

func (e *eventSpec) name() string { return fmt.Sprintf("ev-%06d.ics", e.i) }

// occurrences calls f with the start of each instance, in order, until f returns false.
func (e *eventSpec) occurrences(f func(time.Time) bool) {
	if e.rec == "" {
		f(e.start)
		return
	}
	for k := 0; e.count == 0 || k < e.count; k++ {
		var t time.Time
		if e.rec == "WEEKLY" {
			t = e.start.AddDate(0, 0, 7*k)
		} else {
			t = e.start.AddDate(0, k, 0)
		}
		if !e.until.IsZero() && t.After(e.until) {
			return
		}
		if e.exdate && k == 1 {
			continue
		}
		if !f(t) {
			return
		}
	}
}

func (e *eventSpec) stamp(t time.Time) string {
	if e.allDay {
		return ";VALUE=DATE:" + t.Format("20060102")
	}
	if e.zone.tzid == "" {
		return ":" + t.UTC().Format("20060102T150405Z")
	}
	return ";TZID=" + e.zone.tzid + ":" + t.Format("20060102T150405")
}

// render writes the event; generation > 0 is an edit of it.
func (e *eventSpec) render(generation int) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav//caldavbench//EN\r\n")
	b.WriteString(e.zone.vtimezone)
	fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s@bench.example.org\r\nDTSTAMP:20260101T120000Z\r\nCREATED:20241201T080000Z\r\n", strings.TrimSuffix(e.name(), ".ics"))
	fmt.Fprintf(&b, "LAST-MODIFIED:2026010%dT120000Z\r\nSEQUENCE:%d\r\n", 1+generation, generation)
	summary := e.summary
	if generation > 0 {
		summary += fmt.Sprintf(" (edit %d)", generation)
	}
	fmt.Fprintf(&b, "SUMMARY:%s\r\n", summary)
	if e.location != "" {
		fmt.Fprintf(&b, "LOCATION:%s\r\n", e.location)
	}
	fmt.Fprintf(&b, "DESCRIPTION:Agenda: status\\, next steps\\, open questions. Ref #%d\r\n", e.i)
	fmt.Fprintf(&b, "DTSTART%s\r\nDTEND%s\r\n", e.stamp(e.start), e.stamp(e.start.Add(e.dur)))
	if e.rec != "" {
		rule := "FREQ=" + e.rec
		if e.rec == "WEEKLY" {
			rule += ";BYDAY=" + strings.ToUpper(e.start.Weekday().String()[:2])
		} else {
			rule += fmt.Sprintf(";BYMONTHDAY=%d", e.start.Day())
		}
		if e.count > 0 {
			rule += fmt.Sprintf(";COUNT=%d", e.count)
		}
		if !e.until.IsZero() {
			rule += ";UNTIL=" + e.until.UTC().Format("20060102T150405Z")
		}
		fmt.Fprintf(&b, "RRULE:%s\r\n", rule)
		if e.exdate {
			fmt.Fprintf(&b, "EXDATE%s\r\n", e.stamp(e.start.AddDate(0, 0, 7)))
		}
	}
	if e.allDay {
		b.WriteString("TRANSP:TRANSPARENT\r\n")
	} else {
		b.WriteString("STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\n")
	}
	b.WriteString("CATEGORIES:Work\r\n")
	if e.alarm {
		b.WriteString("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n")
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// expectedMonth computes the events that have an instance in the month
// (all-day dates read as UTC days) and the number of such instances.
func expectedMonth(evs []*eventSpec) (names []string, instances int) {
	for _, e := range evs {
		n := 0
		e.occurrences(func(t time.Time) bool {
			if !t.Before(monthEnd) {
				return false
			}
			if t.Add(e.dur).After(monthStart) {
				n++
			}
			return true
		})
		if n > 0 {
			names = append(names, e.name())
			instances += n
		}
	}
	return names, instances
}

// expectedBusy counts the busy periods of the month once overlapping or
// touching instances are merged (all-day events are transparent).
func expectedBusy(evs []*eventSpec) int {
	type span struct{ s, e time.Time }
	var spans []span
	for _, e := range evs {
		if e.allDay {
			continue
		}
		e.occurrences(func(t time.Time) bool {
			if !t.Before(monthEnd) {
				return false
			}
			if end := t.Add(e.dur); end.After(monthStart) {
				spans = append(spans, span{maxTime(t, monthStart), minTime(end, monthEnd)})
			}
			return true
		})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].s.Before(spans[j].s) })
	n := 0
	var end time.Time
	for i, sp := range spans {
		if i == 0 || sp.s.After(end) {
			n++
			end = sp.e
		} else if sp.e.After(end) {
			end = sp.e
		}
	}
	return n
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type todoSpec struct {
	i          int
	start, due time.Time // zero = absent
	completed  bool
	summary    string
	priority   int
}

func newTodoSpec(i int) *todoSpec {
	rng := rand.New(rand.NewSource(int64(i) + 1e6))
	t := &todoSpec{i: i, summary: []string{"Pay invoice", "Renew passport", "Call plumber", "Write report", "Buy milk", "Book flights"}[rng.Intn(6)], priority: rng.Intn(10)}
	due := spanStart.Add(time.Duration(rng.Int63n(int64(spanDays) * int64(24*time.Hour)))).Truncate(time.Minute)
	switch k := rng.Intn(10); {
	case k < 4:
		t.due = due
	case k < 7:
		t.due = due
		t.start = due.Add(-time.Duration(1+rng.Intn(72)) * time.Hour)
	case k < 9: // no dates: matches every range
	default:
		t.due = due
		t.completed = true
	}
	return t
}

func (t *todoSpec) name() string { return fmt.Sprintf("todo-%05d.ics", t.i) }

func (t *todoSpec) render() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav//caldavbench//EN\r\nBEGIN:VTODO\r\nUID:todo-%05d@bench.example.org\r\n", t.i)
	fmt.Fprintf(&b, "DTSTAMP:20260101T120000Z\r\nSUMMARY:%s\r\nPRIORITY:%d\r\n", t.summary, t.priority)
	if !t.start.IsZero() {
		fmt.Fprintf(&b, "DTSTART:%s\r\n", utc(t.start))
	}
	if !t.due.IsZero() {
		fmt.Fprintf(&b, "DUE:%s\r\n", utc(t.due))
	}
	if t.completed {
		fmt.Fprintf(&b, "STATUS:COMPLETED\r\nCOMPLETED:%s\r\nPERCENT-COMPLETE:100\r\n", utc(t.due))
	} else {
		b.WriteString("STATUS:NEEDS-ACTION\r\n")
	}
	b.WriteString("END:VTODO\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// expectedTodos applies RFC 4791 section 9.9 to the month.
func expectedTodos(tds []*todoSpec) []string {
	s, e := monthStart, monthEnd
	var out []string
	for _, t := range tds {
		var ok bool
		switch {
		case !t.start.IsZero() && !t.due.IsZero():
			ok = (s.Before(t.due) || !s.After(t.start)) && (e.After(t.start) || !e.Before(t.due))
		case !t.due.IsZero():
			ok = s.Before(t.due) && !e.Before(t.due)
		default:
			ok = true
		}
		if ok {
			out = append(out, t.name())
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Requests

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

func calQuery(comp, props string) string {
	return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + props + `</D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="` + comp + `"><C:time-range start="` + utc(monthStart) +
		`" end="` + utc(monthEnd) + `"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}

func syncReq(token string) string {
	return `<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token + `</D:sync-token><D:sync-level>1</D:sync-level>` +
		`<D:prop><D:getetag/></D:prop></D:sync-collection>`
}

func multigetReq(coll string, names []string) string {
	var sb strings.Builder
	sb.WriteString(`<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	for _, n := range names {
		sb.WriteString("<D:href>" + coll + n + "</D:href>")
	}
	sb.WriteString("</C:calendar-multiget>")
	return sb.String()
}

var (
	tokenRE    = regexp.MustCompile(`<(?:\w+:)?sync-token>([^<]+)</(?:\w+:)?sync-token>`)
	hrefRE     = regexp.MustCompile(`<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>`)
	responseRE = regexp.MustCompile(`<(?:\w+:)?response>`)
)

// hrefNames lists the member names of coll among a multistatus' hrefs.
func hrefNames(body []byte, coll string) []string {
	var out []string
	for _, m := range hrefRE.FindAllSubmatch(body, -1) {
		if n, ok := strings.CutPrefix(string(m[1]), coll); ok && n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// compare describes how got differs from want ("" when equal).
func compare(got, want []string) string {
	sort.Strings(want)
	g := map[string]bool{}
	for _, n := range got {
		g[n] = true
	}
	var missing, extra []string
	for _, n := range want {
		if !g[n] {
			missing = append(missing, n)
		}
		delete(g, n)
	}
	for n := range g {
		extra = append(extra, n)
	}
	if len(missing) == 0 && len(extra) == 0 {
		return " (as expected)"
	}
	sort.Strings(extra)
	return fmt.Sprintf(" (MISMATCH: want %d; missing %v; unexpected %v)", len(want), first(missing, 5), first(extra, 5))
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// busyPeriods counts the periods in FREEBUSY lines (unfolded).
func busyPeriods(cal string) int {
	n := 0
	for _, l := range strings.Split(strings.ReplaceAll(cal, "\r\n ", ""), "\n") {
		if strings.HasPrefix(l, "FREEBUSY") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				n += len(strings.Split(strings.TrimSpace(v), ","))
			}
		}
	}
	return n
}

func report(phase string, d time.Duration, extra string) {
	fmt.Printf("%-50s %12s %24s\n", phase, d.Round(time.Millisecond), extra)
}

const icsType = "text/calendar; charset=utf-8"
