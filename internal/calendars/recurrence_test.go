package calendars

// The recurrence oracle: time-range answers (Match), spans (Validate) and
// expansions (Expand) are compared with an independent brute-force
// expansion for hundreds of generated events. The oracle shares no code
// with the package or with any recurrence library: it walks the calendar
// day by day in the event's own zone and decides for each day whether the
// rule selects it (RFC 5545 3.3.10), then applies RDATE, EXDATE and
// overridden instances (RECURRENCE-ID), and decides overlap with the rules
// of RFC 4791 9.9.

import (
	"flag"
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the oracle must not depend on the host's zoneinfo
)

var orcSeed = flag.Int64("oracle.seed", 20260329, "seed of the recurrence oracle's generator")
var orcEvents = flag.Int("oracle.events", 500, "number of events the recurrence oracle generates (-short: a fifth)")

var (
	orcBerlin     = orcLoad("Europe/Berlin")
	orcNewYork    = orcLoad("America/New_York")
	orcFloating   = orcLoad("Asia/Kolkata") // floating times and dates are evaluated here by default: +05:30, no DST
	orcLosAngeles = orcLoad("America/Los_Angeles")
)

func orcLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Wall-clock ("naive") times are time.Time values in UTC whose fields are
// the local date and time; a zone maps them to instants.

func orcNaive(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// orcResolve maps a local wall-clock time in loc to an instant following
// RFC 5545 3.3.5: a time that occurs twice (end of daylight time) is the
// first occurrence; a time that does not exist (start of daylight time) is
// read with the UTC offset before the transition.
func orcResolve(naive time.Time, loc *time.Location) time.Time {
	var offs []int
	for _, probe := range []time.Time{naive.Add(-36 * time.Hour), naive.Add(36 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		if len(offs) == 0 || offs[0] != off {
			offs = append(offs, off)
		}
	}
	var best time.Time
	for _, off := range offs {
		t := naive.Add(-time.Duration(off) * time.Second)
		l := t.In(loc)
		if orcSameWall(l, naive) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() { // in a gap: the offset before the transition
		best = naive.Add(-time.Duration(offs[0]) * time.Second)
	}
	return best.UTC()
}

func orcSameWall(l, naive time.Time) bool {
	y, m, d := l.Date()
	y2, m2, d2 := naive.Date()
	return y == y2 && m == m2 && d == d2 && l.Hour() == naive.Hour() && l.Minute() == naive.Minute() && l.Second() == naive.Second()
}

// orcZone says how an event's values are written and read.
type orcZone struct {
	kind  int            // orcZoned, orcFloat, orcUTC or orcDate
	loc   *time.Location // orcZoned only
	float *time.Location // where floating times and dates are read (the floating argument); nil: orcFloating
}

func (z orcZone) floating() *time.Location {
	if z.float == nil {
		return orcFloating
	}
	return z.float
}

const (
	orcZoned = iota
	orcFloat
	orcUTC
	orcDate
)

func (z orcZone) instant(naive time.Time) time.Time {
	switch z.kind {
	case orcZoned:
		return orcResolve(naive, z.loc)
	case orcFloat, orcDate:
		return orcResolve(naive, z.floating())
	default:
		return naive
	}
}

// prop renders a DATE or DATE-TIME property.
func (z orcZone) prop(name string, naive time.Time) string {
	switch z.kind {
	case orcZoned:
		return name + ";TZID=" + z.loc.String() + ":" + naive.Format("20060102T150405")
	case orcFloat:
		return name + ":" + naive.Format("20060102T150405")
	case orcUTC:
		return name + ":" + naive.Format("20060102T150405Z")
	default:
		return name + ";VALUE=DATE:" + naive.Format("20060102")
	}
}

type orcWeekday struct {
	n  int // 0: every such day; ±1..±53: the nth (from the end) in the month or year
	wd time.Weekday
}

var orcDayNames = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func (w orcWeekday) String() string {
	if w.n == 0 {
		return orcDayNames[w.wd]
	}
	return strconv.Itoa(w.n) + orcDayNames[w.wd]
}

// orcRule is the generated subset of RRULE. WKST is always MO.
type orcRule struct {
	freq       string // DAILY, WEEKLY, MONTHLY, YEARLY
	interval   int
	byDay      []orcWeekday
	byMonthDay []int
	byMonth    []int
	count      int
	until      time.Time // zero: none; an instant (zoned, UTC) or a wall-clock time (floating, date)
	wkst       bool      // write WKST=MO
}

func (r *orcRule) String(z orcZone) string {
	var b strings.Builder
	b.WriteString("FREQ=" + r.freq)
	if r.interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", r.interval)
	}
	if r.wkst {
		b.WriteString(";WKST=MO")
	}
	if len(r.byDay) > 0 {
		var s []string
		for _, d := range r.byDay {
			s = append(s, d.String())
		}
		b.WriteString(";BYDAY=" + strings.Join(s, ","))
	}
	orcInts := func(name string, v []int) {
		if len(v) == 0 {
			return
		}
		var s []string
		for _, x := range v {
			s = append(s, strconv.Itoa(x))
		}
		b.WriteString(";" + name + "=" + strings.Join(s, ","))
	}
	orcInts("BYMONTHDAY", r.byMonthDay)
	orcInts("BYMONTH", r.byMonth)
	if r.count > 0 {
		fmt.Fprintf(&b, ";COUNT=%d", r.count)
	}
	if !r.until.IsZero() {
		switch z.kind {
		case orcZoned, orcUTC:
			b.WriteString(";UNTIL=" + r.until.UTC().Format("20060102T150405Z"))
		case orcFloat:
			b.WriteString(";UNTIL=" + r.until.Format("20060102T150405"))
		default:
			b.WriteString(";UNTIL=" + r.until.Format("20060102"))
		}
	}
	return b.String()
}

func orcDaysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func orcDayNum(t time.Time) int { return int(t.Unix() / 86400) } // t is a naive midnight

func orcHasInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// matchBy reports whether the BY rules (and the values RFC 5545 takes from
// DTSTART when a rule is missing) select day d (a naive midnight), anchor
// being DTSTART's day. The interval is not considered.
func (r *orcRule) matchBy(d, anchor time.Time) bool {
	y, m, day := d.Date()
	if len(r.byMonth) > 0 && !orcHasInt(r.byMonth, int(m)) {
		return false
	}
	if len(r.byMonthDay) > 0 {
		ok := false
		for _, md := range r.byMonthDay {
			if md > 0 && md == day || md < 0 && orcDaysIn(y, m)+md+1 == day {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.byDay) > 0 {
		ok := false
		for _, w := range r.byDay {
			if w.wd != d.Weekday() {
				continue
			}
			if w.n == 0 {
				ok = true
				continue
			}
			// The nth such weekday of the month (MONTHLY, or YEARLY with
			// BYMONTH) or of the year (YEARLY without BYMONTH).
			pos, size := day, orcDaysIn(y, m)
			if r.freq == "YEARLY" && len(r.byMonth) == 0 {
				pos, size = d.YearDay(), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
			}
			if w.n > 0 && (pos-1)/7+1 == w.n || w.n < 0 && (size-pos)/7+1 == -w.n {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	// Missing parts come from DTSTART.
	_, am, aday := anchor.Date()
	switch r.freq {
	case "WEEKLY":
		if len(r.byDay) == 0 && d.Weekday() != anchor.Weekday() {
			return false
		}
	case "MONTHLY":
		if len(r.byDay) == 0 && len(r.byMonthDay) == 0 && day != aday {
			return false
		}
	case "YEARLY":
		if len(r.byDay) == 0 && len(r.byMonthDay) == 0 {
			if day != aday || len(r.byMonth) == 0 && m != am {
				return false
			}
		}
	}
	return true
}

// inPeriod reports whether day d is in a period the interval selects.
func (r *orcRule) inPeriod(d, anchor time.Time) bool {
	var n int
	switch r.freq {
	case "DAILY":
		n = orcDayNum(d) - orcDayNum(anchor)
	case "WEEKLY":
		monday := func(t time.Time) int { return orcDayNum(t) - (int(t.Weekday())+6)%7 }
		n = (monday(d) - monday(anchor)) / 7
	case "MONTHLY":
		n = (d.Year()*12 + int(d.Month())) - (anchor.Year()*12 + int(anchor.Month()))
	case "YEARLY":
		n = d.Year() - anchor.Year()
	}
	return n%r.interval == 0
}

// orcDur is a DURATION value: nominal weeks and days, then exact time.
type orcDur struct {
	days  int
	exact time.Duration
}

func (d orcDur) String() string {
	s := "P"
	if d.days%7 == 0 && d.days > 0 && d.exact == 0 {
		return fmt.Sprintf("P%dW", d.days/7)
	}
	if d.days > 0 {
		s += strconv.Itoa(d.days) + "D"
	}
	if d.exact > 0 || d.days == 0 {
		s += "T"
		h, m := int(d.exact/time.Hour), int(d.exact%time.Hour/time.Minute)
		if h > 0 {
			s += strconv.Itoa(h) + "H"
		}
		if m > 0 {
			s += strconv.Itoa(m) + "M"
		}
		if h == 0 && m == 0 {
			s += "0S"
		}
	}
	return s
}

type orcOverride struct {
	rid        time.Time // naive, in the event's zone
	zone       orcZone   // of the new DTSTART and DTEND
	start, end time.Time // naive
	dur        *orcDur   // DURATION instead of DTEND
}

// orcEvent is a generated recurring (or single) VEVENT with its overrides.
type orcEvent struct {
	uid       string
	zone      orcZone
	start     time.Time // naive DTSTART
	endKind   int       // 0: neither DTEND nor DURATION, 1: DTEND, 2: DURATION
	end       time.Time // naive DTEND
	dur       orcDur
	rule      *orcRule
	exdates   []time.Time // naive
	rdates    []time.Time // naive
	overrides []orcOverride
	horizon   time.Time // naive: the oracle walks no further
	text      string    // the iCalendar object
}

// orcInst is one occurrence: its RECURRENCE-ID and its (possibly moved) times.
type orcInst struct {
	rid, start, end time.Time // instants
	zero            bool      // no duration: RFC 4791 matches it at its start
	moved           bool
}

func (ev *orcEvent) infinite() bool {
	return ev.rule != nil && ev.rule.count == 0 && ev.rule.until.IsZero()
}

// bounds returns the instants of an occurrence starting at naive start.
func (ev *orcEvent) bounds(naive time.Time) (start, end time.Time, zero bool) {
	start = ev.zone.instant(naive)
	switch ev.endKind {
	case 1: // DTEND: the exact duration of the first instance, for all (RFC 5545 3.8.5.3)
		if ev.zone.kind == orcDate {
			days := orcDayNum(ev.end) - orcDayNum(ev.start)
			return start, ev.zone.instant(naive.AddDate(0, 0, days)), false
		}
		// DTEND must be later than DTSTART, but a DTSTART in a gap of the
		// time zone can resolve to the same instant as a DTEND just after
		// it: like any instance without duration it matches at its start.
		end = start.Add(ev.zone.instant(ev.end).Sub(ev.zone.instant(ev.start)))
		return start, end, !end.After(start)
	case 2: // DURATION: days are nominal (local), the rest exact (RFC 5545 3.3.6)
		end = ev.zone.instant(naive.AddDate(0, 0, ev.dur.days)).Add(ev.dur.exact)
		return start, end, !end.After(start)
	default:
		if ev.zone.kind == orcDate {
			return start, ev.zone.instant(naive.AddDate(0, 0, 1)), false
		}
		return start, start, true
	}
}

// ruleStarts returns the naive starts the RRULE generates (DTSTART first),
// up to the horizon.
func (ev *orcEvent) ruleStarts(horizon time.Time) []time.Time {
	if ev.rule == nil {
		return []time.Time{ev.start}
	}
	r := ev.rule
	anchor := time.Date(ev.start.Year(), ev.start.Month(), ev.start.Day(), 0, 0, 0, 0, time.UTC)
	tod := ev.start.Sub(anchor)
	out := []time.Time{ev.start} // DTSTART always counts as the first instance
	for d := anchor.AddDate(0, 0, 1); !d.After(horizon); d = d.AddDate(0, 0, 1) {
		if r.count > 0 && len(out) >= r.count {
			break
		}
		if !r.inPeriod(d, anchor) || !r.matchBy(d, anchor) {
			continue
		}
		naive := d.Add(tod)
		if !r.until.IsZero() {
			switch ev.zone.kind {
			case orcZoned, orcUTC:
				if ev.zone.instant(naive).After(r.until) {
					return out
				}
			default:
				if naive.After(r.until) {
					return out
				}
			}
		}
		out = append(out, naive)
	}
	return out
}

// instances is the oracle: the recurrence set with RDATE, EXDATE and
// overrides applied, ordered by start.
func (ev *orcEvent) instances() []orcInst {
	// Instances are identified by their start instant: a duplicate (an
	// RDATE on an RRULE instance, or two local times that resolve to the
	// same instant around a change of clocks) is one instance, and EXDATE
	// and RECURRENCE-ID designate instants (RFC 5545 3.8.5).
	starts := ev.ruleStarts(ev.horizon)
	seen := map[time.Time]bool{}
	var naive []time.Time
	for _, s := range append(starts, ev.rdates...) {
		if at := ev.zone.instant(s); !seen[at] {
			seen[at] = true
			naive = append(naive, s)
		}
	}
	var out []orcInst
	for _, s := range naive {
		at := ev.zone.instant(s)
		excluded := false
		for _, x := range ev.exdates {
			if ev.zone.instant(x).Equal(at) {
				excluded = true
			}
		}
		if excluded {
			continue
		}
		in := orcInst{rid: ev.zone.instant(s)}
		in.start, in.end, in.zero = ev.bounds(s)
		for _, o := range ev.overrides {
			if ev.zone.instant(o.rid).Equal(at) {
				in.start, in.end = o.zone.instant(o.start), o.zone.instant(o.end)
				if o.dur != nil {
					in.end = o.zone.instant(o.start.AddDate(0, 0, o.dur.days)).Add(o.dur.exact)
				}
				in.zero, in.moved = !in.end.After(in.start), true
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// orcOverlaps applies RFC 4791 9.9 to one occurrence; zero bounds are
// unbounded.
func orcOverlaps(in orcInst, s, e time.Time) bool {
	if in.zero {
		return (s.IsZero() || !s.After(in.start)) && (e.IsZero() || e.After(in.start))
	}
	return (e.IsZero() || in.start.Before(e)) && (s.IsZero() || in.end.After(s))
}

// render writes the event as an iCalendar object.
func (ev *orcEvent) render() string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\r\n") }
	w("BEGIN:VCALENDAR")
	w("VERSION:2.0")
	w("PRODID:-//rolodav//recurrence oracle//EN")
	zones := map[string]bool{}
	if ev.zone.kind == orcZoned {
		zones[ev.zone.loc.String()] = true
	}
	for _, o := range ev.overrides {
		if o.zone.kind == orcZoned {
			zones[o.zone.loc.String()] = true
		}
	}
	for _, tz := range []struct{ id, text string }{{"Europe/Berlin", sjTZBerlin}, {"America/New_York", sjTZNewYork}} {
		if zones[tz.id] {
			b.WriteString(sjCRLF(tz.text))
		}
	}
	w("BEGIN:VEVENT")
	w("UID:" + ev.uid)
	w("DTSTAMP:20260101T000000Z")
	w(ev.zone.prop("DTSTART", ev.start))
	switch ev.endKind {
	case 1:
		w(ev.zone.prop("DTEND", ev.end))
	case 2:
		w("DURATION:" + ev.dur.String())
	}
	if ev.rule != nil {
		w("RRULE:" + ev.rule.String(ev.zone))
	}
	if len(ev.exdates) > 0 {
		w(ev.zone.prop("EXDATE", ev.exdates[0]))
	}
	if len(ev.exdates) > 1 { // the comma-separated form too
		line := ev.zone.prop("EXDATE", ev.exdates[1])
		for _, x := range ev.exdates[2:] {
			line += "," + strings.SplitN(ev.zone.prop("EXDATE", x), ":", 2)[1]
		}
		w(line)
	}
	for _, x := range ev.rdates {
		w(ev.zone.prop("RDATE", x))
	}
	w("SUMMARY:Generated " + ev.uid)
	w("END:VEVENT")
	for i, o := range ev.overrides {
		w("BEGIN:VEVENT")
		w("UID:" + ev.uid)
		w("DTSTAMP:20260101T000000Z")
		w(ev.zone.prop("RECURRENCE-ID", o.rid))
		w(o.zone.prop("DTSTART", o.start))
		if o.dur != nil {
			w("DURATION:" + o.dur.String())
		} else {
			w(o.zone.prop("DTEND", o.end))
		}
		w(fmt.Sprintf("SUMMARY:Override %d", i))
		w("END:VEVENT")
	}
	w("END:VCALENDAR")
	return b.String()
}

// Generation.

func orcPick[T any](rng *rand.Rand, list ...T) T { return list[rng.Intn(len(list))] }

// orcDSTDays are the days on which Berlin and New York change their clocks
// in year y (start and end of daylight time).
func orcDSTDays(y int) []time.Time {
	lastSunday := func(m time.Month) time.Time {
		d := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -int(d.Weekday()))
	}
	nthSunday := func(m time.Month, n int) time.Time {
		d := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, (7-int(d.Weekday()))%7+7*(n-1))
	}
	return []time.Time{lastSunday(time.March), lastSunday(time.October), nthSunday(time.March, 2), nthSunday(time.November, 1)}
}

func orcGenRule(rng *rand.Rand) *orcRule {
	r := &orcRule{interval: 1, wkst: rng.Intn(4) == 0}
	if rng.Intn(3) == 0 {
		r.interval = 2 + rng.Intn(3)
	}
	weekdays := func(max int) []orcWeekday {
		perm := rng.Perm(7)[:1+rng.Intn(max)]
		sort.Ints(perm)
		var out []orcWeekday
		for _, p := range perm {
			out = append(out, orcWeekday{wd: time.Weekday(p)})
		}
		return out
	}
	ordinal := func(maxN int) []orcWeekday {
		var out []orcWeekday
		for i := 0; i < 1+rng.Intn(2); i++ {
			n := 1 + rng.Intn(maxN)
			if rng.Intn(2) == 0 {
				n = -n
			}
			out = append(out, orcWeekday{n: n, wd: time.Weekday(rng.Intn(7))})
		}
		return out
	}
	monthDays := func() []int {
		var out []int
		for i := 0; i < 1+rng.Intn(3); i++ {
			out = append(out, orcPick(rng, 1, 2, 10, 13, 15, 28, 29, 30, 31, -1, -2, -7, -31))
		}
		return out
	}
	months := func() []int {
		perm := rng.Perm(12)[:1+rng.Intn(4)]
		sort.Ints(perm)
		for i := range perm {
			perm[i]++
		}
		return perm
	}
	switch rng.Intn(10) {
	case 0, 1:
		r.freq = "DAILY"
		if rng.Intn(3) == 0 {
			r.byDay = weekdays(5)
		}
		if rng.Intn(6) == 0 {
			r.byMonth = months()
		}
		if rng.Intn(8) == 0 {
			r.byMonthDay = monthDays()
		}
	case 2, 3, 4:
		r.freq = "WEEKLY"
		if rng.Intn(2) == 0 {
			r.byDay = weekdays(4)
		}
		if rng.Intn(8) == 0 {
			r.byMonth = months()
		}
	case 5, 6, 7:
		r.freq = "MONTHLY"
		switch rng.Intn(6) {
		case 0: // the day of DTSTART
		case 1, 2:
			r.byMonthDay = monthDays()
		case 3, 4:
			r.byDay = ordinal(4)
			if rng.Intn(3) == 0 {
				r.byDay = append(r.byDay, weekdays(2)...)
			}
		case 5: // e.g. Friday the 13th
			r.byDay = weekdays(2)
			r.byMonthDay = monthDays()
		}
		if rng.Intn(6) == 0 {
			r.byMonth = months()
		}
	default:
		r.freq = "YEARLY"
		switch rng.Intn(7) {
		case 0: // the month and day of DTSTART
		case 1:
			r.byMonth = months()
		case 2:
			r.byMonth = months()
			r.byMonthDay = monthDays()
		case 3:
			r.byMonth = months()
			r.byDay = ordinal(4)
		case 4: // the nth weekday of the year
			r.byDay = ordinal(20)
		case 5:
			r.byMonthDay = monthDays()
		case 6:
			r.byMonth = []int{2}
			r.byMonthDay = []int{29}
		}
	}
	return r
}

// orcGenerate returns a random event; nil when the generated rule has no
// occurrence near the chosen start (the caller tries again).
func orcGenerate(rng *rand.Rand, n int) *orcEvent {
	ev := &orcEvent{uid: fmt.Sprintf("oracle-%d@rolodav.test", n)}
	switch k := rng.Intn(20); {
	case k < 6:
		ev.zone = orcZone{kind: orcZoned, loc: orcBerlin}
	case k < 12:
		ev.zone = orcZone{kind: orcZoned, loc: orcNewYork}
	case k < 15:
		ev.zone = orcZone{kind: orcFloat}
	case k < 19:
		ev.zone = orcZone{kind: orcDate}
	default:
		ev.zone = orcZone{kind: orcUTC}
	}
	ev.zone.float = orcPick(rng, orcFloating, orcFloating, orcLosAngeles, time.UTC)
	// The start: often a few days or weeks before a change of clocks.
	y := 2008 + rng.Intn(25)
	day := time.Date(y, time.Month(1+rng.Intn(12)), 1+rng.Intn(28), 0, 0, 0, 0, time.UTC)
	hour, minute := rng.Intn(24), orcPick(rng, 0, 0, 15, 30, 45)
	if rng.Intn(2) == 0 {
		day = orcPick(rng, orcDSTDays(y)...).AddDate(0, 0, -orcPick(rng, 0, 0, 1, 3, 7, 14, 30))
		hour = orcPick(rng, 0, 1, 1, 2, 2, 2, 3, 12, 23)
	}
	if rng.Intn(5) != 0 {
		ev.rule = orcGenRule(rng)
		// Synchronise DTSTART with the rule (RFC 5545 3.8.5.3: otherwise the
		// recurrence set is undefined).
		found := false
		for i := 0; i < 800; i++ {
			if ev.rule.matchBy(day, day) {
				found = true
				break
			}
			day = day.AddDate(0, 0, 1)
		}
		if !found {
			return nil
		}
	}
	if ev.zone.kind == orcDate {
		hour, minute = 0, 0
	}
	ev.start = day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)

	// The duration.
	switch k := rng.Intn(10); {
	case ev.zone.kind == orcDate:
		switch {
		case k < 6:
			ev.endKind, ev.end = 1, ev.start.AddDate(0, 0, orcPick(rng, 1, 1, 1, 2, 3, 5))
		case k < 8:
			ev.endKind, ev.dur = 2, orcDur{days: orcPick(rng, 1, 2, 7)}
		}
	case k < 6:
		ev.endKind = 1
		ev.end = ev.start.Add(orcPick(rng, 15*time.Minute, 30*time.Minute, time.Hour, time.Hour, 90*time.Minute, 3*time.Hour, 10*time.Hour, 25*time.Hour, 51*time.Hour))
	case k < 9:
		ev.endKind = 2
		ev.dur = orcPick(rng, orcDur{exact: time.Hour}, orcDur{exact: 45 * time.Minute}, orcDur{days: 1}, orcDur{days: 2, exact: 3 * time.Hour},
			orcDur{days: 7}, orcDur{exact: 26 * time.Hour}, orcDur{})
	}

	// Termination, from a preliminary expansion.
	ev.horizon = ev.start.AddDate(6, 0, 0)
	if ev.rule != nil {
		pre := ev.ruleStarts(ev.start.AddDate(6, 0, 0))
		switch k := rng.Intn(10); {
		case k < 4:
			ev.rule.count = 1 + rng.Intn(min(len(pre), 30))
		case k < 7:
			last := pre[rng.Intn(min(len(pre), 40))]
			switch ev.zone.kind {
			case orcZoned, orcUTC:
				until := ev.zone.instant(last) // inclusive: exactly an instance…
				switch rng.Intn(3) {
				case 1:
					until = until.Add(-time.Minute) // …or just before it
				case 2:
					until = until.Add(time.Duration(rng.Intn(48)) * time.Hour)
				}
				if first := ev.zone.instant(ev.start); until.Before(first) {
					until = first // not before DTSTART
				}
				ev.rule.until = until
			case orcFloat:
				ev.rule.until = last.Add(time.Duration(rng.Intn(3)-1) * time.Minute)
				if ev.rule.until.Before(ev.start) {
					ev.rule.until = ev.start
				}
			default:
				ev.rule.until = last.AddDate(0, 0, rng.Intn(2))
			}
		}
		if !ev.infinite() {
			ev.horizon = ev.start.AddDate(40, 0, 0)
		}
	}
	starts := ev.ruleStarts(ev.horizon)
	if ev.rule != nil && ev.rule.count > 0 && len(starts) < ev.rule.count {
		return nil
	}
	// EXDATE, RDATE and overrides, on the first occurrences.
	first := starts[:min(len(starts), 40)]
	used := map[time.Time]bool{} // by instant: one change per instance
	if ev.rule != nil {
		for i := rng.Intn(4); i > 0; i-- {
			x := orcPick(rng, first...)
			if i == 3 {
				x = x.AddDate(0, 0, 1) // not an occurrence: no effect
			}
			if at := ev.zone.instant(x); !used[at] {
				used[at] = true
				ev.exdates = append(ev.exdates, x)
			}
		}
	}
	for i := orcPick(rng, 0, 0, 0, 1, 2); i > 0; i-- {
		x := orcPick(rng, first...).AddDate(0, 0, orcPick(rng, -20, 1, 2, 3, 10))
		if ev.zone.kind != orcDate {
			x = x.Add(time.Duration(rng.Intn(5)) * time.Hour)
		}
		if at := ev.zone.instant(x); !used[at] {
			used[at] = true
			ev.rdates = append(ev.rdates, x)
		}
	}
	if ev.rule != nil {
		for i := orcPick(rng, 0, 0, 1, 2, 3); i > 0; i-- {
			rid := orcPick(rng, first...)
			if used[ev.zone.instant(rid)] {
				continue
			}
			used[ev.zone.instant(rid)] = true
			o := orcOverride{rid: rid, zone: ev.zone}
			shift := time.Duration(orcPick(rng, -40, -3, -1, 1, 2, 7, 20, 35)) * 24 * time.Hour
			if rng.Intn(3) == 0 {
				shift = time.Duration(orcPick(rng, -5, -1, 1, 2, 6)) * time.Hour
			}
			if ev.zone.kind == orcDate {
				shift = shift.Truncate(24 * time.Hour)
				if shift == 0 {
					shift = 24 * time.Hour
				}
				o.start = rid.Add(shift)
				o.end = o.start.AddDate(0, 0, orcPick(rng, 1, 2))
			} else {
				if ev.zone.kind == orcZoned && rng.Intn(4) == 0 { // rescheduled in the other zone
					o.zone.loc = orcPick(rng, orcBerlin, orcNewYork)
				}
				o.start = rid.Add(shift)
				o.end = o.start.Add(orcPick(rng, 30*time.Minute, 2*time.Hour, 26*time.Hour))
				if rng.Intn(4) == 0 {
					o.dur = &orcDur{days: orcPick(rng, 0, 1, 7), exact: orcPick(rng, time.Hour, 90*time.Minute)}
				}
			}
			ev.overrides = append(ev.overrides, o)
		}
	}
	ev.text = ev.render()
	return ev
}

// Hand-checked oracle cases.

func TestOracleHandChecked(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return orcNaive(y, m, day, 0, 0) }
	dateEvent := func(start time.Time, r *orcRule) *orcEvent {
		ev := &orcEvent{zone: orcZone{kind: orcDate}, start: start, rule: r}
		ev.horizon = start.AddDate(40, 0, 0)
		return ev
	}
	days := func(ev *orcEvent) string {
		var s []string
		for _, in := range ev.instances() {
			s = append(s, in.start.In(orcFloating).Format("2006-01-02"))
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name string
		ev   *orcEvent
		want string
	}{
		{"MONTHLY;BYDAY=-1FR;COUNT=5", dateEvent(d(2026, 1, 30), &orcRule{freq: "MONTHLY", interval: 1, byDay: []orcWeekday{{-1, time.Friday}}, count: 5}),
			"2026-01-30 2026-02-27 2026-03-27 2026-04-24 2026-05-29"},
		{"MONTHLY;BYMONTHDAY=31 skips short months", dateEvent(d(2026, 1, 31), &orcRule{freq: "MONTHLY", interval: 1, byMonthDay: []int{31}, count: 4}),
			"2026-01-31 2026-03-31 2026-05-31 2026-07-31"},
		{"MONTHLY from the 31st without BYMONTHDAY", dateEvent(d(2026, 1, 31), &orcRule{freq: "MONTHLY", interval: 1, count: 3}),
			"2026-01-31 2026-03-31 2026-05-31"},
		{"MONTHLY;BYMONTHDAY=-1", dateEvent(d(2026, 1, 31), &orcRule{freq: "MONTHLY", interval: 1, byMonthDay: []int{-1}, count: 3}),
			"2026-01-31 2026-02-28 2026-03-31"},
		{"YEARLY from Feb 29", dateEvent(d(2024, 2, 29), &orcRule{freq: "YEARLY", interval: 1, count: 3}),
			"2024-02-29 2028-02-29 2032-02-29"},
		{"WEEKLY;INTERVAL=2;BYDAY=TU,TH", dateEvent(d(2026, 1, 6), &orcRule{freq: "WEEKLY", interval: 2, byDay: []orcWeekday{{0, time.Tuesday}, {0, time.Thursday}}, count: 6}),
			"2026-01-06 2026-01-08 2026-01-20 2026-01-22 2026-02-03 2026-02-05"},
		{"WEEKLY;INTERVAL=2;BYDAY=SU,MO from a Sunday (WKST=MO)", dateEvent(d(2026, 1, 4), &orcRule{freq: "WEEKLY", interval: 2, byDay: []orcWeekday{{0, time.Sunday}, {0, time.Monday}}, count: 5}),
			"2026-01-04 2026-01-12 2026-01-18 2026-01-26 2026-02-01"},
		{"YEARLY;BYMONTH=11;BYDAY=4TH", dateEvent(d(2026, 11, 26), &orcRule{freq: "YEARLY", interval: 1, byMonth: []int{11}, byDay: []orcWeekday{{4, time.Thursday}}, count: 3}),
			"2026-11-26 2027-11-25 2028-11-23"},
		{"YEARLY;BYDAY=1MO (of the year)", dateEvent(d(2026, 1, 5), &orcRule{freq: "YEARLY", interval: 1, byDay: []orcWeekday{{1, time.Monday}}, count: 2}),
			"2026-01-05 2027-01-04"},
		{"YEARLY;BYDAY=-1SU;BYMONTH=3", dateEvent(d(2026, 3, 29), &orcRule{freq: "YEARLY", interval: 1, byMonth: []int{3}, byDay: []orcWeekday{{-1, time.Sunday}}, count: 3}),
			"2026-03-29 2027-03-28 2028-03-26"},
		{"MONTHLY;BYDAY=FR;BYMONTHDAY=13", dateEvent(d(2026, 2, 13), &orcRule{freq: "MONTHLY", interval: 1, byDay: []orcWeekday{{0, time.Friday}}, byMonthDay: []int{13}, count: 3}),
			"2026-02-13 2026-03-13 2026-11-13"},
		{"YEARLY;BYMONTHDAY=1 without BYMONTH: every month", dateEvent(d(2026, 1, 1), &orcRule{freq: "YEARLY", interval: 1, byMonthDay: []int{1}, count: 3}),
			"2026-01-01 2026-02-01 2026-03-01"},
		{"DAILY;UNTIL (DATE, inclusive)", dateEvent(d(2026, 1, 30), &orcRule{freq: "DAILY", interval: 3, until: d(2026, 2, 5)}),
			"2026-01-30 2026-02-02 2026-02-05"},
	}
	for _, tt := range tests {
		if got := days(tt.ev); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}

	// Time zones: 02:30 does not exist in Berlin on 2026-03-29 (read with
	// the offset before, so 01:30Z) and occurs twice on 2026-10-25 (the
	// first, so 00:30Z).
	bz := orcZone{kind: orcZoned, loc: orcBerlin}
	ev := &orcEvent{zone: bz, start: orcNaive(2026, 3, 27, 2, 30), rule: &orcRule{freq: "DAILY", interval: 1, until: time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC)}}
	ev.horizon = ev.start.AddDate(1, 0, 0)
	var got []string
	for _, in := range ev.instances() {
		got = append(got, in.start.Format("01-02T15:04Z"))
	}
	if s := strings.Join(got, " "); s != "03-27T01:30Z 03-28T01:30Z 03-29T01:30Z 03-30T00:30Z" {
		t.Errorf("daily 02:30 Berlin over the start of summer time: %s", s)
	}
	if got := orcResolve(orcNaive(2026, 10, 25, 2, 30), orcBerlin); !got.Equal(time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("Berlin 2026-10-25 02:30 = %v", got)
	}
	if got := orcResolve(orcNaive(2026, 11, 1, 1, 30), orcNewYork); !got.Equal(time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("New York 2026-11-01 01:30 = %v", got)
	}
	if got := orcResolve(orcNaive(2026, 3, 8, 2, 30), orcNewYork); !got.Equal(time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("New York 2026-03-08 02:30 = %v", got)
	}

	// DTEND gives the exact duration of the first instance to all; DURATION
	// days are nominal.
	ev = &orcEvent{zone: bz, start: orcNaive(2026, 3, 28, 12, 0), endKind: 1, end: orcNaive(2026, 3, 29, 12, 0),
		rule: &orcRule{freq: "DAILY", interval: 1, count: 2}}
	ev.horizon = ev.start.AddDate(1, 0, 0)
	in := ev.instances()
	if len(in) != 2 || in[0].end.Sub(in[0].start) != 23*time.Hour || in[1].end.Sub(in[1].start) != 23*time.Hour {
		t.Errorf("DTEND over the change of clocks: %+v", in)
	}
	ev.endKind, ev.dur = 2, orcDur{days: 1}
	in = ev.instances()
	if len(in) != 2 || in[0].end.Sub(in[0].start) != 23*time.Hour || in[1].end.Sub(in[1].start) != 24*time.Hour {
		t.Errorf("DURATION:P1D over the change of clocks: %+v", in)
	}

	// EXDATE, RDATE and a moved instance; DTSTART counts for COUNT.
	ev = &orcEvent{zone: bz, start: orcNaive(2026, 1, 5, 9, 0), endKind: 2, dur: orcDur{exact: time.Hour},
		rule:      &orcRule{freq: "WEEKLY", interval: 1, count: 4},
		exdates:   []time.Time{orcNaive(2026, 1, 12, 9, 0)},
		rdates:    []time.Time{orcNaive(2026, 1, 7, 15, 0)},
		overrides: []orcOverride{{rid: orcNaive(2026, 1, 19, 9, 0), zone: bz, start: orcNaive(2026, 2, 20, 10, 0), end: orcNaive(2026, 2, 20, 11, 0)}}}
	ev.horizon = ev.start.AddDate(1, 0, 0)
	got = got[:0]
	for _, in := range ev.instances() {
		got = append(got, in.start.Format("01-02T15:04Z")+"/"+in.rid.Format("01-02"))
	}
	if s := strings.Join(got, " "); s != "01-05T08:00Z/01-05 01-07T14:00Z/01-07 01-26T08:00Z/01-26 02-20T09:00Z/01-19" {
		t.Errorf("EXDATE, RDATE, override: %s", s)
	}
	// RFC 4791 9.9: an instance without duration matches at its start.
	zero := orcInst{start: time.Unix(1000, 0), end: time.Unix(1000, 0), zero: true}
	if !orcOverlaps(zero, time.Unix(1000, 0), time.Unix(1001, 0)) || orcOverlaps(zero, time.Unix(999, 0), time.Unix(1000, 0)) {
		t.Errorf("zero-duration overlap")
	}
	one := orcInst{start: time.Unix(1000, 0), end: time.Unix(2000, 0)}
	if orcOverlaps(one, time.Unix(2000, 0), time.Time{}) || !orcOverlaps(one, time.Time{}, time.Unix(1001, 0)) || orcOverlaps(one, time.Unix(0, 0), time.Unix(1000, 0)) {
		t.Errorf("overlap")
	}
	// The generator makes valid, varied events.
	rng := rand.New(rand.NewSource(1))
	kinds := map[string]int{}
	for i := 0; i < 300; i++ {
		ev := orcGenerate(rng, i)
		if ev == nil {
			continue
		}
		if _, err := sjParse([]byte(ev.text)); err != nil {
			t.Fatalf("generated event does not parse: %v\n%s", err, ev.text)
		}
		if len(ev.instances()) == 0 && len(ev.exdates) == 0 {
			t.Errorf("no instances:\n%s", ev.text)
		}
		if ev.rule != nil {
			kinds[ev.rule.freq]++
		}
		kinds[fmt.Sprint("zone", ev.zone.kind)]++
		if len(ev.overrides) > 0 {
			kinds["overrides"]++
		}
	}
	for _, k := range []string{"DAILY", "WEEKLY", "MONTHLY", "YEARLY", "zone0", "zone1", "zone2", "zone3", "overrides"} {
		if kinds[k] < 5 {
			t.Errorf("generator: only %d of %s (%v)", kinds[k], k, kinds)
		}
	}
}

// The comparison with the package.

type orcWindow struct {
	s, e time.Time
	why  string
}

func (w orcWindow) String() string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return "∞"
		}
		return t.UTC().Format("20060102T150405Z")
	}
	return fmt.Sprintf("[%s, %s) (%s)", f(w.s), f(w.e), w.why)
}

// windows picks the query windows for an event: random ones, ones that
// hug occurrences, moved instances and changes of clocks, open-ended ones.
func (ev *orcEvent) windows(rng *rand.Rand, insts []orcInst) []orcWindow {
	var ws []orcWindow
	add := func(s, e time.Time, why string) {
		if !ev.infinite() || e.IsZero() || e.Before(ev.zone.instant(ev.horizon).Add(-72*time.Hour)) {
			ws = append(ws, orcWindow{s, e, why})
		}
	}
	lo := ev.zone.instant(ev.start).Add(-30 * 24 * time.Hour)
	hi := ev.zone.instant(ev.horizon).Add(-72 * time.Hour)
	if len(insts) > 0 && !ev.infinite() {
		hi = insts[len(insts)-1].end.Add(30 * 24 * time.Hour)
	}
	for _, in := range insts {
		if in.start.Before(lo) {
			lo = in.start.Add(-24 * time.Hour)
		}
	}
	if span := hi.Sub(lo); span > 0 {
		for i := 0; i < 12; i++ {
			s := lo.Add(time.Duration(rng.Int63n(int64(span)))).Truncate(time.Minute)
			add(s, s.Add(orcPick(rng, time.Minute, 30*time.Minute, time.Hour, 5*time.Hour, 24*time.Hour, 72*time.Hour, 240*time.Hour, 960*time.Hour)), "random")
		}
	}
	for i := 0; i < 4 && len(insts) > 0; i++ {
		in := insts[rng.Intn(len(insts))]
		if i == 0 {
			in = insts[0]
		}
		add(in.start.Add(-time.Hour), in.start, "hour before a start")
		add(in.start, in.start.Add(time.Second), "first second")
		add(in.start.Add(-30*time.Minute), in.start.Add(30*time.Minute), "around a start")
		add(in.end.Add(-time.Second), in.end, "last second")
		add(in.end, in.end.Add(time.Hour), "hour after an end")
		add(in.start.Add(-24*time.Hour), in.start.Add(-23*time.Hour), "a day before")
	}
	for _, in := range insts {
		if in.moved {
			add(in.rid, in.rid.Add(time.Minute), "original slot of a moved instance")
			add(in.start, in.start.Add(time.Minute), "new slot of a moved instance")
			add(in.start.Add(-2*time.Hour), in.start.Add(-time.Hour), "before a moved instance")
		}
	}
	// Changes of clocks in the event's zone (and the zone of its moved
	// instances), or in one of the two for floating and UTC events.
	locs := map[*time.Location]bool{}
	switch {
	case ev.zone.kind == orcZoned:
		locs[ev.zone.loc] = true
	case ev.zone.kind != orcUTC && ev.zone.floating() == orcLosAngeles:
		locs[orcLosAngeles] = true
	default:
		locs[orcPick(rng, orcBerlin, orcNewYork)] = true
	}
	for _, o := range ev.overrides {
		if o.zone.kind == orcZoned {
			locs[o.zone.loc] = true
		}
	}
	years := []int{ev.start.Year()}
	if len(insts) > 1 {
		if y := insts[rng.Intn(len(insts))].start.Year(); y != years[0] {
			years = append(years, y)
		}
	}
	for _, y := range years {
		days := orcDSTDays(y)
		for loc := range locs {
			for _, day := range map[*time.Location][]time.Time{orcBerlin: days[:2], orcNewYork: days[2:], orcLosAngeles: days[2:]}[loc] {
				tr := orcResolve(day.Add(3*time.Hour), loc)
				add(tr.Add(-2*time.Hour), tr.Add(-time.Hour), "before a change of clocks")
				add(tr.Add(-30*time.Minute), tr.Add(30*time.Minute), "around a change of clocks")
				add(tr, tr.Add(time.Hour), "after a change of clocks")
				add(orcResolve(day, loc), orcResolve(day.AddDate(0, 0, 1), loc), "the local day of a change of clocks")
			}
		}
	}
	if len(insts) > 0 {
		mid := insts[len(insts)/2]
		add(time.Time{}, mid.start, "open start")
		add(mid.end, time.Time{}, "open end")
		add(insts[0].start.Add(-time.Hour), time.Time{}, "open end before all")
		add(time.Time{}, insts[0].start, "open start up to the first")
	}
	return ws
}

type orcReport struct {
	t       *testing.T
	counts  map[string]int
	samples map[string][]string
}

func (r *orcReport) add(kind, detail string) {
	r.counts[kind]++
	if len(r.samples[kind]) < 4 {
		r.samples[kind] = append(r.samples[kind], detail)
	}
}

func (r *orcReport) done() {
	kinds := make([]string, 0, len(r.counts))
	for k := range r.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		for _, s := range r.samples[k] {
			r.t.Errorf("%s:\n%s", k, s)
		}
		r.t.Errorf("%s: %d mismatches in all", k, r.counts[k])
	}
}

func orcDescribe(insts []orcInst) string {
	var b strings.Builder
	for i, in := range insts {
		if i == 12 {
			fmt.Fprintf(&b, "  … %d more\n", len(insts)-i)
			break
		}
		fmt.Fprintf(&b, "  %s – %s (rid %s)", in.start.Format("2006-01-02T15:04Z07:00"), in.end.Format("2006-01-02T15:04Z07:00"), in.rid.Format("2006-01-02T15:04Z07:00"))
		if in.moved {
			b.WriteString(" moved")
		}
		if in.zero {
			b.WriteString(" zero")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// orcFixed are events checked before the generated ones: cases that
// found or nearly found problems, kept as regressions.
func orcFixed() []*orcEvent {
	bz := orcZone{kind: orcZoned, loc: orcBerlin}
	ny := orcZone{kind: orcZoned, loc: orcNewYork}
	date := orcZone{kind: orcDate}
	evs := []*orcEvent{
		// DURATION with days across the start of daylight time: the
		// instance ends at 01:00 EDT + 3h = 08:00Z, not 06:00Z + 51h.
		{zone: ny, start: orcNaive(2010, 3, 14, 1, 0), endKind: 2, dur: orcDur{days: 2, exact: 3 * time.Hour}},
		// A weekly all-day-long event across the end of summer time.
		{zone: bz, start: orcNaive(2029, 10, 21, 0, 0), endKind: 2, dur: orcDur{days: 7}, rule: &orcRule{freq: "WEEKLY", interval: 1, count: 3}},
		// DTSTART in the gap, DTEND just after it: the same instant.
		{zone: bz, start: orcNaive(2011, 3, 27, 2, 0), endKind: 1, end: orcNaive(2011, 3, 27, 3, 0)},
		// 02:30 daily across both changes of clocks (a gap, then twice).
		{zone: bz, start: orcNaive(2026, 3, 27, 2, 30), endKind: 1, end: orcNaive(2026, 3, 27, 3, 0),
			rule: &orcRule{freq: "DAILY", interval: 1, until: time.Date(2026, 10, 26, 0, 30, 0, 0, time.UTC)}},
		// An RDATE that resolves to the same instant as an RRULE instance.
		{zone: ny, start: orcNaive(2008, 3, 6, 2, 45), endKind: 1, end: orcNaive(2008, 3, 6, 3, 0),
			rule:   &orcRule{freq: "DAILY", interval: 1, until: time.Date(2008, 3, 23, 6, 44, 0, 0, time.UTC)},
			rdates: []time.Time{orcNaive(2008, 3, 9, 3, 45), orcNaive(2008, 3, 21, 6, 45)}},
		// The last Friday of the month, all day, one instance moved into
		// the next month and one excluded.
		{zone: date, start: orcNaive(2026, 1, 30, 0, 0), rule: &orcRule{freq: "MONTHLY", interval: 1, byDay: []orcWeekday{{-1, time.Friday}}, count: 5},
			exdates:   []time.Time{orcNaive(2026, 2, 27, 0, 0)},
			overrides: []orcOverride{{rid: orcNaive(2026, 3, 27, 0, 0), zone: date, start: orcNaive(2026, 4, 2, 0, 0), end: orcNaive(2026, 4, 4, 0, 0)}}},
		// An overridden instance with a DURATION of days across the end of
		// summer time: 2029-10-27 12:00 CEST + P1DT1H = 2029-10-28 13:00 CET.
		{zone: bz, start: orcNaive(2029, 10, 20, 12, 0), endKind: 1, end: orcNaive(2029, 10, 20, 13, 0),
			rule:      &orcRule{freq: "WEEKLY", interval: 1, count: 3},
			overrides: []orcOverride{{rid: orcNaive(2029, 10, 27, 12, 0), zone: bz, start: orcNaive(2029, 10, 27, 12, 0), dur: &orcDur{days: 1, exact: time.Hour}}}},
		// A weekly meeting in Berlin, one instance rescheduled in New York.
		{zone: bz, start: orcNaive(2026, 3, 2, 9, 0), endKind: 1, end: orcNaive(2026, 3, 2, 10, 0),
			rule:      &orcRule{freq: "WEEKLY", interval: 1, byDay: []orcWeekday{{0, time.Monday}, {0, time.Thursday}}},
			overrides: []orcOverride{{rid: orcNaive(2026, 3, 30, 9, 0), zone: ny, start: orcNaive(2026, 4, 1, 9, 0), end: orcNaive(2026, 4, 1, 10, 0)}}},
	}
	for i, ev := range evs {
		ev.uid = fmt.Sprintf("fixed-%d@rolodav.test", i)
		ev.horizon = ev.start.AddDate(40, 0, 0)
		if ev.infinite() {
			ev.horizon = ev.start.AddDate(6, 0, 0)
		}
		ev.text = ev.render()
	}
	return evs
}

// orcChecker compares the package with the oracle and counts what it did.
type orcChecker struct {
	rep                               *orcReport
	rng                               *rand.Rand
	events, windows, matches, expands int
	unboundedFinite                   int // finite recurrence sets whose span Validate leaves open
}

func TestRecurrenceOracle(t *testing.T) {
	n := *orcEvents
	if testing.Short() {
		n /= 5
	}
	c := &orcChecker{rep: &orcReport{t: t, counts: map[string]int{}, samples: map[string][]string{}}, rng: rand.New(rand.NewSource(*orcSeed))}
	defer c.rep.done()
	for _, ev := range orcFixed() {
		c.check(ev)
	}
	for i := 0; c.events < n+len(orcFixed()); i++ {
		if ev := orcGenerate(c.rng, i); ev != nil {
			c.check(ev)
		}
	}
	t.Logf("oracle: %d events, %d time-range windows (%d overlapping), %d expansions; %d finite events with an open span; seed %d",
		c.events, c.windows, c.matches, c.expands, c.unboundedFinite, *orcSeed)
}

func (c *orcChecker) check(ev *orcEvent) {
	rep, rng := c.rep, c.rng
	c.events++
	data := []byte(ev.text)
	insts := ev.instances()
	ctx := func() string { return ev.text + "oracle occurrences:\n" + orcDescribe(insts) }

	floating := ev.zone.floating()
	info, err := Validate(bg, data, []string{VEVENT, VTODO, VJOURNAL}, floating)
	if err != nil {
		rep.add("Validate rejects a generated event", fmt.Sprintf("%v\n%s", err, ctx()))
		return
	}
	if info.UID != ev.uid || info.Component != VEVENT {
		rep.add("Validate info", fmt.Sprintf("UID %q component %q\n%s", info.UID, info.Component, ctx()))
	}
	for _, in := range insts {
		if !info.Start.IsZero() && info.Start.After(in.start) || !info.End.IsZero() && info.End.Before(in.end) {
			rep.add("span does not contain an occurrence", fmt.Sprintf("span [%v, %v], occurrence %v – %v\n%s", info.Start, info.End, in.start, in.end, ctx()))
			break
		}
	}
	if !ev.infinite() && (info.Start.IsZero() || info.End.IsZero()) {
		c.unboundedFinite++
	}
	if ev.infinite() && !info.End.IsZero() {
		rep.add("span of an endless rule is bounded", fmt.Sprintf("span [%v, %v]\n%s", info.Start, info.End, ctx()))
	}

	for _, w := range ev.windows(rng, insts) {
		c.windows++
		// An endless rule has occurrences after any time (the oracle
		// walks only up to its horizon).
		want := ev.infinite() && w.e.IsZero()
		for _, in := range insts {
			if orcOverlaps(in, w.s, w.e) {
				want = true
				break
			}
		}
		f := &CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: "VEVENT", TimeRange: &TimeRange{Start: w.s, End: w.e}}}}
		got, err := Match(bg, data, f, floating)
		if err != nil {
			rep.add("Match error", fmt.Sprintf("%v\nwindow %v\n%s", err, w, ctx()))
			continue
		}
		if want {
			c.matches++
		}
		if got != want {
			rep.add(fmt.Sprintf("Match = %v, oracle %v", got, want), fmt.Sprintf("window %v\n%s", w, ctx()))
		}
	}

	// Expand over a few windows: the instances it returns are the ones the
	// oracle finds, with the same times.
	var ews []orcWindow
	if len(insts) > 0 {
		ews = append(ews, orcWindow{insts[0].start.Add(-time.Hour), insts[0].start.Add(40 * 24 * time.Hour), "first 40 days"})
		in := insts[rng.Intn(len(insts))]
		ews = append(ews, orcWindow{in.start.Add(-10 * 24 * time.Hour), in.end.Add(10 * 24 * time.Hour), "around an occurrence"})
		for _, in := range insts {
			if in.moved {
				ews = append(ews, orcWindow{in.rid.Add(-24 * time.Hour), in.rid.Add(24 * time.Hour), "around the original slot of a moved instance"})
				break
			}
		}
	}
	for _, w := range ews {
		if ev.infinite() && w.e.After(ev.zone.instant(ev.horizon).Add(-72*time.Hour)) {
			continue
		}
		c.expands++
		out, _, err := Expand(bg, data, w.s, w.e, floating)
		if err != nil {
			rep.add("Expand error", fmt.Sprintf("%v\nwindow %v\n%s", err, w, ctx()))
			continue
		}
		var want []string
		for _, in := range insts {
			if orcOverlaps(in, w.s, w.e) {
				want = append(want, orcFmtInst(in.rid, in.start, in.end))
			}
		}
		got, problem := orcExpanded(out, floating)
		if problem != "" {
			rep.add("Expand output", fmt.Sprintf("%s\nwindow %v\n%s\n%s", problem, w, out, ctx()))
			continue
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			kind := "Expand differs from the oracle"
			if orcNominalDuration.Match(out) {
				kind += " (its output has a DURATION with days or weeks, nominal in UTC)"
			}
			rep.add(kind, fmt.Sprintf("window %v\ngot (rid start end):\n  %s\nwant:\n  %s\nExpand wrote:\n%s%s",
				w, strings.Join(got, "\n  "), strings.Join(want, "\n  "), out, ctx()))
		}
	}
}

var orcNominalDuration = regexp.MustCompile(`(?m)^DURATION:[+]?P[0-9]+[DW]`)

func orcFmtInst(rid, start, end time.Time) string {
	f := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	return f(rid) + " " + f(start) + " " + f(end)
}

// orcExpanded reads an Expand answer: one line "rid start end" per VEVENT
// (the RECURRENCE-ID, or DTSTART for an instance without one), or a
// description of what is wrong with it.
func orcExpanded(out []byte, floating *time.Location) ([]string, string) {
	cals, err := sjParse(out)
	if err != nil {
		return nil, "does not parse: " + err.Error()
	}
	if len(cals) != 1 {
		return nil, fmt.Sprintf("%d VCALENDARs", len(cals))
	}
	var got []string
	for _, c := range cals[0].comps {
		if c.name == "VTIMEZONE" {
			return nil, "holds a VTIMEZONE (RFC 4791 9.6.5)"
		}
		if c.name != "VEVENT" {
			continue
		}
		for _, p := range c.props {
			switch p.name {
			case "RRULE", "RDATE", "EXDATE", "EXRULE":
				return nil, p.name + " in an expanded instance (RFC 4791 9.6.5)"
			}
		}
		var start, end, rid time.Time
		dtstart, ok := c.prop("DTSTART")
		if !ok {
			return nil, "instance without DTSTART"
		}
		start, isDate, err := orcValue(dtstart, floating)
		if err != nil {
			return nil, err.Error()
		}
		rid = start
		if p, ok := c.prop("RECURRENCE-ID"); ok {
			if rid, _, err = orcValue(p, floating); err != nil {
				return nil, err.Error()
			}
		}
		switch p, hasEnd := c.prop("DTEND"); {
		case hasEnd:
			if end, _, err = orcValue(p, floating); err != nil {
				return nil, err.Error()
			}
		default:
			end = start
			if isDate {
				end = start.In(floating).AddDate(0, 0, 1) // a nominal day
			}
			if p, ok := c.prop("DURATION"); ok {
				days, exact, err := orcParseDuration(string(p.value()))
				if err != nil {
					return nil, err.Error()
				}
				end = start.In(floating).AddDate(0, 0, days).Add(exact)
			}
		}
		got = append(got, orcFmtInst(rid, start, end))
	}
	return got, ""
}

// orcValue reads a DATE or DATE-TIME property: UTC, with TZID, floating
// (read in floating) or a date (midnight in floating).
func orcValue(p sjProp, floating *time.Location) (time.Time, bool, error) {
	v := string(p.value())
	loc := floating
	if ids := p.param("TZID"); len(ids) > 0 {
		l, err := time.LoadLocation(ids[0])
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s: unknown TZID %q", p.name, ids[0])
		}
		loc = l
	}
	switch {
	case len(v) == 8:
		d, err := time.Parse("20060102", v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s: %v", p.name, err)
		}
		return orcResolve(d, floating), true, nil
	case len(v) == 16 && v[15] == 'Z':
		d, err := time.Parse("20060102T150405Z", v)
		return d, false, err
	default:
		d, err := time.Parse("20060102T150405", v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s: %v", p.name, err)
		}
		return orcResolve(d, loc), false, nil
	}
}

func orcParseDuration(s string) (days int, exact time.Duration, err error) {
	orig := s
	s = strings.TrimPrefix(s, "+")
	if !strings.HasPrefix(s, "P") {
		return 0, 0, fmt.Errorf("DURATION %q", orig)
	}
	s = s[1:]
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, 0, fmt.Errorf("DURATION %q", orig)
		}
		n, _ := strconv.Atoi(s[:i])
		switch unit := s[i]; {
		case unit == 'W' && !inTime:
			days += 7 * n
		case unit == 'D' && !inTime:
			days += n
		case unit == 'H' && inTime:
			exact += time.Duration(n) * time.Hour
		case unit == 'M' && inTime:
			exact += time.Duration(n) * time.Minute
		case unit == 'S' && inTime:
			exact += time.Duration(n) * time.Second
		default:
			return 0, 0, fmt.Errorf("DURATION %q", orig)
		}
		s = s[i+1:]
	}
	return days, exact, nil
}
