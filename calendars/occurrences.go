package calendars

// This file computes occurrences: time zones (IANA names and custom
// VTIMEZONE definitions), the RRULE engine (RFC 5545 3.3.10) and the
// enumeration of a recurrence set (DTSTART, RRULE, RDATE, EXDATE and
// overriding components).
//
// Every loop is bounded: by year 9999, by a work budget per object that
// also ends with the request, and by a cap on the number of instances
// visited. Callers learn when a bound cut the enumeration short and then
// answer conservatively.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // IANA zones even where the system has no zoneinfo
)

// ---- time zones ----

var (
	zoneCacheMu sync.Mutex
	ianaCache   = map[string]*time.Location{} // nil value: not an IANA name
	customCache = map[string]*time.Location{}
)

const (
	maxIANACache   = 4096
	maxCustomCache = 512
)

// ianaZone returns the Go zone for an IANA name, nil when there is none.
func ianaZone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 128 {
		return nil
	}
	zoneCacheMu.Lock()
	loc, ok := ianaCache[name]
	zoneCacheMu.Unlock()
	if ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	zoneCacheMu.Lock()
	if len(ianaCache) < maxIANACache {
		ianaCache[name] = loc
	}
	zoneCacheMu.Unlock()
	return loc
}

// zoneResolver resolves the TZIDs of one object.
type zoneResolver struct {
	vtz  map[string]*calComp
	locs map[string]*time.Location
	w    *work // for the rules of VTIMEZONEs
}

func newZoneResolver(root *calComp, w *work) *zoneResolver {
	z := &zoneResolver{w: w}
	for _, c := range root.Children {
		if c.Name != "VTIMEZONE" {
			continue
		}
		if p := c.prop("TZID"); p != nil {
			if z.vtz == nil {
				z.vtz = map[string]*calComp{}
			}
			z.vtz[p.Value] = c
		}
	}
	return z
}

// resolve returns the zone of a TZID: an IANA name, else the object's
// VTIMEZONE of that TZID, else an IANA name found as a suffix of a
// "/vendor/…/Area/City" style TZID.
func (z *zoneResolver) resolve(tzid string) (*time.Location, error) {
	if loc, ok := z.locs[tzid]; ok {
		return loc, nil
	}
	loc := ianaZone(tzid)
	if loc == nil {
		if vt := z.vtz[tzid]; vt != nil {
			var err error
			loc, err = customZone(tzid, vt, z.w)
			if err != nil {
				return nil, err
			}
		}
	}
	if loc == nil && strings.Contains(tzid, "/") {
		for i := 0; i < len(tzid) && loc == nil; i++ {
			if tzid[i] == '/' && i+1 < len(tzid) {
				loc = ianaZone(tzid[i+1:])
			}
		}
	}
	if loc == nil {
		return nil, fmt.Errorf("unknown time zone %q", tzid)
	}
	if z.locs == nil {
		z.locs = map[string]*time.Location{}
	}
	z.locs[tzid] = loc
	return loc, nil
}

// customZone builds a *time.Location from a VTIMEZONE definition by
// computing its transitions (STANDARD/DAYLIGHT onsets from DTSTART, RRULE
// and RDATE, up to 2200) and loading them as TZif data.
func customZone(tzid string, vt *calComp, w *work) (*time.Location, error) {
	var key strings.Builder
	key.WriteString(tzid)
	for _, ch := range vt.Children {
		key.WriteString("\x00" + ch.Name)
		for _, p := range ch.Props {
			key.WriteString("\x01" + p.Name + "\x02" + p.Value)
		}
	}
	k := key.String()
	zoneCacheMu.Lock()
	loc, ok := customCache[k]
	zoneCacheMu.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := buildCustomZone(tzid, vt, w)
	if err != nil {
		return nil, err
	}
	zoneCacheMu.Lock()
	if len(customCache) >= maxCustomCache {
		customCache = map[string]*time.Location{}
	}
	customCache[k] = loc
	zoneCacheMu.Unlock()
	return loc, nil
}

type zoneTransition struct {
	when   int64 // unix seconds
	offset int
	dst    bool
	name   string
}

var (
	zoneHorizon = daysFromCivil(2200, 1, 1) * 86400
	zoneFrom    = daysFromCivil(1850, 1, 1) * 86400
)

func buildCustomZone(tzid string, vt *calComp, w *work) (*time.Location, error) {
	var trans []zoneTransition
	for _, ob := range vt.Children {
		if ob.Name != "STANDARD" && ob.Name != "DAYLIGHT" {
			continue
		}
		dp, fp, tp := ob.prop("DTSTART"), ob.prop("TZOFFSETFROM"), ob.prop("TZOFFSETTO")
		if dp == nil || fp == nil || tp == nil {
			return nil, dataError(ob.Line, "VTIMEZONE %s: %s needs DTSTART, TZOFFSETFROM and TZOFFSETTO", tzid, ob.Name)
		}
		start, err := parseDTString(dp.Value, "", nil)
		if err != nil {
			return nil, dataError(dp.Line, "VTIMEZONE %s: bad DTSTART %q", tzid, dp.Value)
		}
		from, ok1 := parseUTCOffset(fp.Value)
		to, ok2 := parseUTCOffset(tp.Value)
		if !ok1 || !ok2 {
			return nil, dataError(fp.Line, "VTIMEZONE %s: bad UTC offset", tzid)
		}
		name := sanitizeAbbrev(ob.text("TZNAME"), to)
		dst := ob.Name == "DAYLIGHT"
		add := func(wall int64) {
			trans = append(trans, zoneTransition{when: wall - int64(from), offset: to, dst: dst, name: name})
		}
		onsetWall := start.Wall
		add(onsetWall)
		n := 0
		for i := range ob.Props {
			p := &ob.Props[i]
			switch p.Name {
			case "RRULE":
				r, err := parseRRule(p.Value)
				if err != nil {
					return nil, dataError(p.Line, "VTIMEZONE %s: RRULE: %v", tzid, err)
				}
				it := newRuleIter(r, dtValue{Wall: onsetWall, Loc: time.FixedZone("", from)}, w)
				if onsetWall < zoneFrom {
					it.seek(zoneFrom)
				}
				for n < 2000 {
					t, ok := it.next()
					if !ok || t > zoneHorizon {
						break
					}
					if t != onsetWall {
						add(t)
						n++
					}
				}
				if it.Exhausts {
					if w.err != nil {
						return nil, w.err
					}
					return nil, dataError(p.Line, "VTIMEZONE %s: RRULE %s cannot be expanded within the server's limits", tzid, ruleText(p.Value))
				}
			case "RDATE":
				for _, s := range strings.Split(p.Value, ",") {
					v, err := parseDTString(s, "", nil)
					if err != nil || n >= 2000 {
						continue
					}
					add(v.Wall)
					n++
				}
			}
		}
	}
	if len(trans) == 0 {
		return nil, dataError(vt.Line, "VTIMEZONE %s has no STANDARD or DAYLIGHT", tzid)
	}
	sort.SliceStable(trans, func(i, j int) bool { return trans[i].when < trans[j].when })
	// Offset before the first transition: the TZOFFSETFROM of the earliest
	// onset, i.e. the instant plus the wall difference.
	first := trans[0]
	initial := zoneTransition{offset: first.offset, dst: !first.dst}
	for _, ob := range vt.Children {
		if ob.Name != "STANDARD" && ob.Name != "DAYLIGHT" {
			continue
		}
		if f, ok := parseUTCOffset(ob.prop("TZOFFSETFROM").Value); ok {
			if v, err := parseDTString(ob.prop("DTSTART").Value, "", nil); err == nil && v.Wall-int64(f) == first.when {
				initial.offset = f
				break
			}
		}
	}
	initial.name = sanitizeAbbrev("", initial.offset)
	data, err := tzifData(initial, trans)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocationFromTZData(tzid, data)
	if err != nil {
		return nil, dataError(vt.Line, "VTIMEZONE %s: %v", tzid, err)
	}
	return loc, nil
}

func sanitizeAbbrev(s string, offset int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 10; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() >= 3 {
		return b.String()
	}
	sign := '+'
	if offset < 0 {
		sign = '-'
		offset = -offset
	}
	if offset%3600 == 0 {
		return fmt.Sprintf("%c%02d", sign, offset/3600)
	}
	return fmt.Sprintf("%c%02d%02d", sign, offset/3600, offset/60%60)
}

// tzifData encodes transitions as TZif version 2 data. Type 0 is the
// initial offset and is never the target of a transition, so Go uses it
// for instants before the first transition.
func tzifData(initial zoneTransition, trans []zoneTransition) ([]byte, error) {
	type ttinfo struct {
		off  int
		dst  bool
		name string
	}
	types := []ttinfo{{initial.offset, initial.dst, initial.name}}
	index := map[ttinfo]int{}
	var chars []byte
	charIdx := map[string]int{}
	abbr := func(s string) int {
		if i, ok := charIdx[s]; ok {
			return i
		}
		i := len(chars)
		chars = append(chars, s...)
		chars = append(chars, 0)
		charIdx[s] = i
		return i
	}
	abbr(initial.name)
	var times []int64
	var idx []byte
	for _, t := range trans {
		tt := ttinfo{t.offset, t.dst, t.name}
		i, ok := index[tt]
		if !ok {
			if len(types) >= 250 {
				return nil, errors.New("VTIMEZONE has too many distinct offsets")
			}
			i = len(types)
			types = append(types, tt)
			index[tt] = i
			abbr(t.name)
		}
		if n := len(times); n > 0 && times[n-1] == t.when {
			idx[n-1] = byte(i)
			continue
		}
		times = append(times, t.when)
		idx = append(idx, byte(i))
	}
	if len(chars) > 255 {
		return nil, errors.New("VTIMEZONE has too many names")
	}
	var b bytes.Buffer
	put32 := func(v uint32) { _ = binary.Write(&b, binary.BigEndian, v) }
	header := func(timecnt, typecnt, charcnt int) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		put32(0) // isutcnt
		put32(0) // isstdcnt
		put32(0) // leapcnt
		put32(uint32(timecnt))
		put32(uint32(typecnt))
		put32(uint32(charcnt))
	}
	// Version 1 part: a single type, no transitions.
	header(0, 1, 1)
	b.Write([]byte{0, 0, 0, 0, 0, 0})
	b.WriteByte(0)
	// Version 2 part.
	header(len(times), len(types), len(chars))
	for _, t := range times {
		_ = binary.Write(&b, binary.BigEndian, t)
	}
	b.Write(idx)
	for _, t := range types {
		put32(uint32(int32(t.off)))
		if t.dst {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
		b.WriteByte(byte(charIdx[t.name]))
	}
	b.Write(chars)
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

// ---- RRULE ----

const (
	freqSecondly = iota
	freqMinutely
	freqHourly
	freqDaily
	freqWeekly
	freqMonthly
	freqYearly
)

var freqNames = [...]string{"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}

type weekdayNum struct {
	n  int // 0: every such weekday
	wd int // 0 = Sunday
}

// recurRule is a parsed RECUR value. Every BY list is sorted and without
// repeats, so its length is bounded by the range of its values whatever
// the size of the text.
type recurRule struct {
	freq       int
	interval   int64
	count      int64
	until      *dtValue
	bySecond   []int
	byMinute   []int
	byHour     []int
	byDay      []weekdayNum
	byMonthDay []int
	byYearDay  []int
	byWeekNo   []int
	byMonth    []int
	bySetPos   []int
	wkst       int
}

var weekdayNames = map[string]int{"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}

func smallInt(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	return digits(s)
}

// eachItem calls fn for every comma-separated item of s, without building
// a slice of them.
func eachItem(s string, fn func(string) error) error {
	for {
		item, rest, more := strings.Cut(s, ",")
		if err := fn(item); err != nil {
			return err
		}
		if !more {
			return nil
		}
		s = rest
	}
}

// intList parses a BY list of integers in [lo, hi] (and their negatives
// when signed), sorted and without repeats.
func intList(s string, lo, hi int, signed bool) ([]int, error) {
	seen := make([]bool, 2*hi+1) // index v+hi
	err := eachItem(s, func(f string) error {
		neg := false
		if signed && f != "" && (f[0] == '+' || f[0] == '-') {
			neg = f[0] == '-'
			f = f[1:]
		}
		n, ok := smallInt(f)
		if !ok || n < int64(lo) || n > int64(hi) || (signed && n == 0) {
			return fmt.Errorf("bad value %q", f)
		}
		v := int(n)
		if neg {
			v = -v
		}
		seen[v+hi] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []int
	for i, ok := range seen {
		if ok {
			out = append(out, i-hi)
		}
	}
	return out, nil
}

// dayList parses a BYDAY list, without repeats, in a fixed order.
func dayList(s string) ([]weekdayNum, error) {
	var seen [7][107]bool // [weekday][n+53]
	err := eachItem(s, func(f string) error {
		if len(f) < 2 {
			return fmt.Errorf("bad BYDAY %q", f)
		}
		wd, ok := weekdayNames[f[len(f)-2:]]
		if !ok {
			return fmt.Errorf("bad BYDAY %q", f)
		}
		n := 0
		if num := f[:len(f)-2]; num != "" {
			neg := false
			if num[0] == '+' || num[0] == '-' {
				neg = num[0] == '-'
				num = num[1:]
			}
			v, ok := smallInt(num)
			if !ok || v < 1 || v > 53 {
				return fmt.Errorf("bad BYDAY %q", f)
			}
			n = int(v)
			if neg {
				n = -n
			}
		}
		seen[wd][n+53] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []weekdayNum
	for wd := range seen {
		for i, ok := range seen[wd] {
			if ok {
				out = append(out, weekdayNum{n: i - 53, wd: wd})
			}
		}
	}
	return out, nil
}

// parseRRule parses a RECUR value. UNTIL is kept as written (UTC, floating
// or DATE); the iterator interprets it against DTSTART.
func parseRRule(s string) (*recurRule, error) {
	r := &recurRule{interval: 1, wkst: 1, freq: -1}
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		eq := strings.IndexByte(part, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("malformed rule part %q", part)
		}
		name, val := strings.ToUpper(part[:eq]), strings.ToUpper(part[eq+1:])
		var err error
		switch name {
		case "FREQ":
			r.freq = -1
			for i, n := range freqNames {
				if val == n {
					r.freq = i
				}
			}
			if r.freq < 0 {
				return nil, fmt.Errorf("unknown FREQ %q", val)
			}
		case "INTERVAL":
			n, ok := smallInt(val)
			if !ok || n < 1 || n > 1e9 {
				return nil, fmt.Errorf("bad INTERVAL %q", val)
			}
			r.interval = n
		case "COUNT":
			n, ok := smallInt(val)
			if !ok || n < 1 || n > 1e9 {
				return nil, fmt.Errorf("bad COUNT %q", val)
			}
			r.count = n
		case "UNTIL":
			v, e := parseDTString(val, "", nil)
			if e != nil {
				return nil, fmt.Errorf("bad UNTIL %q", val)
			}
			r.until = &v
		case "BYSECOND":
			r.bySecond, err = intList(val, 0, 60, false)
		case "BYMINUTE":
			r.byMinute, err = intList(val, 0, 59, false)
		case "BYHOUR":
			r.byHour, err = intList(val, 0, 23, false)
		case "BYMONTHDAY":
			r.byMonthDay, err = intList(val, 1, 31, true)
		case "BYYEARDAY":
			r.byYearDay, err = intList(val, 1, 366, true)
		case "BYWEEKNO":
			r.byWeekNo, err = intList(val, 1, 53, true)
		case "BYMONTH":
			r.byMonth, err = intList(val, 1, 12, false)
		case "BYSETPOS":
			r.bySetPos, err = intList(val, 1, 366, true)
		case "BYDAY":
			r.byDay, err = dayList(val)
		case "WKST":
			wd, ok := weekdayNames[val]
			if !ok {
				return nil, fmt.Errorf("bad WKST %q", val)
			}
			r.wkst = wd
		default:
			// RSCALE, SKIP (RFC 7529) and extensions: ignored.
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if r.freq < 0 {
		return nil, errors.New("FREQ is missing")
	}
	return r, nil
}

// bounded reports whether the rule has an end (COUNT or UNTIL).
func (r *recurRule) bounded() bool { return r.count > 0 || r.until != nil }

var maxWall = daysFromCivil(10000, 1, 1)*86400 - 1

// ---- work budget ----

// ruleWork is the work one operation may spend on one object, in units:
// a period, a day, a month skipped or an instance of a rule examined. A
// unit costs some tens of nanoseconds, so the budget holds an object to
// about a tenth of a second; yet a rule that never matches can be scanned
// month by month (day by day where its months pass) up to year 9999.
const ruleWork = 4_000_000

// validateWork is what a PUT may spend. It is half of what a query may
// spend, so that a COUNT rule found to end within it at PUT leaves a query
// the other half for the instances of its window.
const validateWork = ruleWork / 2

// RequestWork is the work budget this package suggests for a whole
// request (see WithWorkBudget): eight objects' worth, about 0.8 s of CPU,
// so that no request costs more than a second however many costly objects
// it meets. A month's calendar-query with expand over 50 000 events, 10%
// recurring, spends about 160 000 units: 200 times less.
const RequestWork = 8 * ruleWork

// ErrBudgetSpent is the error of an operation cut short because the
// request's work budget (WithWorkBudget) ran out.
var ErrBudgetSpent = errors.New("the request's work budget is spent")

// budget is the work a request may still spend on all its objects.
type budget struct{ left atomic.Int64 }

type budgetKey struct{}

// WithWorkBudget returns a context under which Match, Expand,
// BusyPeriods, LimitRecurrenceSet and Validate together spend at most
// units of work, each still within its own limit: a request over many
// costly objects then costs a few objects' worth, not one per object.
// Once it is spent they fail with ErrBudgetSpent. Only the rules of
// recurrences and VTIMEZONEs spend work: objects without them cost
// nothing. The budget may be shared by goroutines.
func WithWorkBudget(ctx context.Context, units int64) context.Context {
	b := &budget{}
	b.left.Store(units)
	return context.WithValue(ctx, budgetKey{}, b)
}

// workCheck is how often, at most, in units, the request's context and
// budget are looked at.
const workCheck = 1 << 12

// firstDraw is the units an object first takes from the request's budget;
// each further draw doubles, up to workCheck. An object is charged for at
// most twice the units it spends, or firstDraw, and rules as clients
// write them spend a few dozen.
const firstDraw = 64

// work is the budget of one operation on one object, tied to the request:
// it runs out when the units are spent, when the request's budget is, or
// when the client has gone.
type work struct {
	ctx    context.Context
	budget *budget // the request's, or nil
	left   int64   // units to spend before the next draw
	rest   int64   // the object's units not drawn yet
	draw   int64   // the size of the next draw
	err    error   // the context's error or ErrBudgetSpent, once seen
}

func newWork(ctx context.Context, units int64) *work {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return &work{ctx: ctx, budget: b, rest: units, draw: firstDraw}
}

// spend takes n units; false when the budget or the request has ended.
func (w *work) spend(n int64) bool {
	w.left -= n
	return w.left >= 0 || w.refill()
}

// refill draws the next units from the object's and the request's
// budgets after a spend left w.left short, and looks at the context.
func (w *work) refill() bool {
	need := -w.left
	if w.err != nil || need > w.rest {
		w.rest, w.left = 0, -1 // spent for good
		return false
	}
	if w.err = w.ctx.Err(); w.err != nil {
		w.left = -1
		return false
	}
	d := max(min(w.draw, w.rest), need)
	if w.budget != nil && w.budget.left.Add(-d) < 0 {
		w.err = ErrBudgetSpent
		w.left = -1
		return false
	}
	w.rest -= d
	w.left += d
	w.draw = min(2*w.draw, workCheck)
	return true
}

// ---- rule iterator ----

// ruleIter enumerates the instances (as wall seconds) of a rule anchored
// at DTSTART that come after DTSTART, in increasing order.
//
// A period (a year of FREQ=YEARLY, an hour of FREQ=HOURLY, …) is held as
// its bases (the days that pass the day rules, or the start of its hour,
// minute or second) and a table of time offsets (BYHOUR × BYMINUTE ×
// BYSECOND): instance i is bases[i/perBase] + offset(i%perBase). Nothing
// larger than the days of one period is ever stored, however many
// instances the BY lists multiply to, and BYSETPOS picks its positions by
// index. Every unit of work is taken from the budget.
type ruleIter struct {
	r     *recurRule
	freq  int
	start int64
	zone  *time.Location // DTSTART's zone, nil when floating or DATE
	uMode int            // 0: no UNTIL, 1: compare instants, 2: compare walls
	uInst int64
	uWall int64
	w     *work

	hours, minutes, seconds []int64 // time offsets (seconds) within a base
	perBase                 int64
	hourLimit               uint32
	minuteLimit             uint64
	secondLimit             uint64
	monthMask               uint16
	mdPos, mdNeg            uint32
	hasMD                   bool
	ydPos, ydNeg            [6]uint64 // BYYEARDAY, bits 1..366
	hasYD                   bool
	wnPos, wnNeg            uint64 // BYWEEKNO, bits 1..53
	hasWN                   bool
	wdAny                   [7]bool   // BYDAY: every such weekday
	wdPos, wdNeg            [7]uint64 // BYDAY: nth and nth-last, bits 1..53
	hasWD                   bool
	ordScope                int // 0: none, 1: month, 2: year

	y0, mi0, week0, day0, base, unit int64

	k       int64 // next period
	emitted int64
	bases   []int64
	sel     []int64 // with BYSETPOS: the period's selected instances
	selN    int64   // the period size selIdx was computed for
	selIdx  []int64
	n, i    int64 // instances in the period; the next one
	lower   int64 // instances before it are skipped (seek)
	done    bool
	// Exhausts reports that the work budget ran out.
	Exhausts bool
}

func newRuleIter(r *recurRule, dtstart dtValue, w *work) *ruleIter {
	// RFC 5545 3.3.10: DTSTART always counts as the first occurrence; the
	// iterator yields the instances after it.
	it := &ruleIter{r: r, freq: r.freq, start: dtstart.Wall, w: w, emitted: 1, selN: -1}
	it.lower = it.start + 1
	if !dtstart.floating() {
		it.zone = dtstart.Loc
	}
	if dtstart.Date && it.freq < freqDaily {
		it.freq = freqDaily
	}
	if u := r.until; u != nil {
		switch {
		case u.Date:
			it.uMode, it.uWall = 2, u.Wall+86399
		case u.Loc == time.UTC && it.zone != nil:
			it.uMode, it.uInst = 1, u.Wall
		default:
			it.uMode, it.uWall = 2, u.Wall
		}
	}
	sday := floorDiv(it.start, 86400)
	sod := it.start - sday*86400
	y, m, d := civilFromDays(sday)
	h0, mi0, s0 := int(sod/3600), int(sod/60%60), int(sod%60)
	wd0 := weekdayOf(sday)

	byMonth, byMonthDay, byDay := r.byMonth, r.byMonthDay, r.byDay
	switch it.freq {
	case freqYearly:
		if len(r.byWeekNo) == 0 && len(r.byYearDay) == 0 && len(byMonthDay) == 0 && len(byDay) == 0 {
			if len(byMonth) == 0 {
				byMonth = []int{int(m)}
			}
			byMonthDay = []int{int(d)}
		}
	case freqMonthly:
		if len(byMonthDay) == 0 && len(byDay) == 0 && len(r.byYearDay) == 0 && len(r.byWeekNo) == 0 {
			byMonthDay = []int{int(d)}
		}
	case freqWeekly:
		if len(byDay) == 0 && len(byMonthDay) == 0 && len(r.byYearDay) == 0 {
			byDay = []weekdayNum{{wd: wd0}}
		}
	}
	for _, v := range byMonth {
		it.monthMask |= 1 << uint(v)
	}
	for _, v := range byMonthDay {
		it.hasMD = true
		if v > 0 {
			it.mdPos |= 1 << uint(v)
		} else {
			it.mdNeg |= 1 << uint(-v)
		}
	}
	for _, v := range r.byYearDay {
		it.hasYD = true
		if v > 0 {
			it.ydPos[v/64] |= 1 << uint(v%64)
		} else {
			it.ydNeg[-v/64] |= 1 << uint(-v%64)
		}
	}
	for _, v := range r.byWeekNo {
		it.hasWN = true
		if v > 0 {
			it.wnPos |= 1 << uint(v)
		} else {
			it.wnNeg |= 1 << uint(-v)
		}
	}
	switch {
	case it.freq == freqMonthly:
		it.ordScope = 1
	case it.freq == freqYearly && len(r.byWeekNo) == 0 && len(r.byMonth) > 0:
		it.ordScope = 1
	case it.freq == freqYearly && len(r.byWeekNo) == 0:
		it.ordScope = 2
	}
	for _, e := range byDay {
		it.hasWD = true
		switch {
		case e.n == 0 || it.ordScope == 0:
			it.wdAny[e.wd] = true
		case e.n > 0:
			it.wdPos[e.wd] |= 1 << uint(e.n)
		default:
			it.wdNeg[e.wd] |= 1 << uint(-e.n)
		}
	}
	noLeap := func(a []int) []int {
		out := make([]int, 0, len(a))
		for _, v := range a {
			if v < 60 {
				out = append(out, v)
			}
		}
		return out
	}
	hours, minutes, seconds := r.byHour, r.byMinute, noLeap(r.bySecond)
	if len(r.byHour) == 0 {
		hours = []int{h0}
	}
	if len(r.byMinute) == 0 {
		minutes = []int{mi0}
	}
	if len(r.bySecond) == 0 {
		seconds = []int{s0}
	}
	if dtstart.Date {
		// Dates have no time of day: BYHOUR, BYMINUTE and BYSECOND would
		// only repeat the day.
		hours, minutes, seconds = []int{0}, []int{0}, []int{0}
	} else {
		for _, v := range r.byHour {
			it.hourLimit |= 1 << uint(v)
		}
		for _, v := range r.byMinute {
			it.minuteLimit |= 1 << uint(v)
		}
		for _, v := range r.bySecond {
			it.secondLimit |= 1 << uint(v)
		}
	}
	// The time offsets within a base: a day's for DAILY and longer, an
	// hour's for HOURLY, a minute's for MINUTELY.
	zero := []int{0}
	switch it.freq {
	case freqHourly:
		hours = zero
	case freqMinutely:
		hours, minutes = zero, zero
	case freqSecondly:
		hours, minutes, seconds = zero, zero, zero
	}
	scale := func(a []int, by int64) []int64 {
		out := make([]int64, len(a))
		for i, v := range a {
			out[i] = int64(v) * by
		}
		return out
	}
	it.hours, it.minutes, it.seconds = scale(hours, 3600), scale(minutes, 60), scale(seconds, 1)
	it.perBase = int64(len(hours) * len(minutes) * len(seconds))
	if it.perBase == 0 {
		it.done = true // BYSECOND=60 only: no instance
	}
	return it.anchor(y, m, sday, wd0, h0, mi0)
}

// anchor sets the period grid from DTSTART.
func (it *ruleIter) anchor(y, m, sday int64, wd0, h0, mi0 int) *ruleIter {
	it.y0 = y
	it.mi0 = y*12 + m - 1
	it.day0 = sday
	it.week0 = sday - int64((wd0-it.r.wkst+7)%7)
	switch it.freq {
	case freqHourly:
		it.unit = 3600
		it.base = sday*86400 + int64(h0)*3600
	case freqMinutely:
		it.unit = 60
		it.base = sday*86400 + int64(h0)*3600 + int64(mi0)*60
	case freqSecondly:
		it.unit = 1
		it.base = it.start
	}
	return it
}

// at returns the i-th instance of the current period.
func (it *ruleIter) at(i int64) int64 {
	if len(it.r.bySetPos) > 0 {
		return it.sel[i]
	}
	return it.plain(i)
}

// plain returns the i-th candidate of the current period before BYSETPOS.
func (it *ruleIter) plain(i int64) int64 {
	ns, nm := int64(len(it.seconds)), int64(len(it.minutes))
	j := i % it.perBase
	return it.bases[i/it.perBase] + it.hours[j/(nm*ns)] + it.minutes[j/ns%nm] + it.seconds[j%ns]
}

// search returns the index of the period's first instance at or after
// wall, from the next one on.
func (it *ruleIter) search(wall int64) int64 {
	lo, hi := it.i, it.n
	for lo < hi {
		mid := lo + (hi-lo)/2
		if it.at(mid) < wall {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// next returns the next instance, false when there is none (or the budget
// ran out: see Exhausts).
func (it *ruleIter) next() (int64, bool) {
	for {
		if it.i < it.n {
			w := it.at(it.i)
			it.i++
			if it.afterUntil(w) || (it.r.count > 0 && it.emitted >= it.r.count) {
				it.finish()
				return 0, false
			}
			if !it.w.spend(1) {
				it.exhaust()
				return 0, false
			}
			it.emitted++
			return w, true
		}
		if it.done {
			return 0, false
		}
		it.fill()
	}
}

func (it *ruleIter) finish() {
	it.done = true
	it.n, it.i = 0, 0
}

func (it *ruleIter) exhaust() {
	it.finish()
	it.Exhausts = true
}

func (it *ruleIter) afterUntil(w int64) bool {
	switch it.uMode {
	case 1:
		return wallTime(w, it.zone).Unix() > it.uInst
	case 2:
		return w > it.uWall
	}
	return false
}

// seek skips the instances before wall. Without COUNT it jumps straight to
// the period of wall; with COUNT every earlier instance must be counted,
// which it does a period at a time, without visiting instances.
func (it *ruleIter) seek(wall int64) {
	if wall <= it.start || it.done {
		return
	}
	if wall > maxWall {
		wall = maxWall + 1
	}
	if it.r.count > 0 {
		it.countTo(wall)
		return
	}
	z := floorDiv(wall, 86400)
	iv := it.r.interval
	var k int64
	switch it.freq {
	case freqYearly:
		y, _, _ := civilFromDays(z)
		k = floorDiv(y-it.y0, iv)
	case freqMonthly:
		y, m, _ := civilFromDays(z)
		k = floorDiv(y*12+m-1-it.mi0, iv)
	case freqWeekly:
		ws := z - int64((weekdayOf(z)-it.r.wkst+7)%7)
		k = floorDiv(ws-it.week0, 7*iv)
	case freqDaily:
		k = floorDiv(z-it.day0, iv)
	default:
		k = floorDiv(wall-it.base, it.unit*iv)
	}
	if wall > it.lower {
		it.lower = wall
	}
	if k > it.k {
		it.k = k
		it.n, it.i = 0, 0
	} else if it.i < it.n {
		it.i = it.search(it.lower)
	}
}

// countTo moves a COUNT rule to its first instance at or after wall,
// counting the instances it passes.
func (it *ruleIter) countTo(wall int64) {
	for !it.done {
		if it.i >= it.n {
			if !it.skipDay(wall) {
				it.fill()
			}
			continue
		}
		if it.afterUntil(it.at(it.i)) {
			it.finish()
			return
		}
		j := it.search(wall)
		if it.emitted+(j-it.i) >= it.r.count {
			it.finish() // the rule ends before wall
			return
		}
		it.emitted += j - it.i
		it.i = j
		if j < it.n {
			return
		}
	}
}

// skipDay counts, a day at a time, the periods of a SECONDLY, MINUTELY or
// HOURLY rule that no BYHOUR, BYMINUTE or BYSECOND thins out: from it.k to
// the end of their day, when the day passes the day rules and the rule
// neither ends nor reaches wall within it. false when it cannot.
func (it *ruleIter) skipDay(wall int64) bool {
	if it.freq >= freqDaily || it.hourLimit != 0 || (it.freq <= freqMinutely && it.minuteLimit != 0) ||
		(it.freq == freqSecondly && it.secondLimit != 0) {
		return false
	}
	unit := it.unit * it.r.interval
	if it.k > (maxWall-it.base)/unit {
		return false
	}
	t := it.base + it.k*unit
	z := floorDiv(t, 86400)
	end := (z + 1) * 86400
	if t <= it.start || end > wall || end > maxWall || it.afterUntil(end-1) || !it.dayOK(z) {
		return false
	}
	kEnd := ceilDiv(end-it.base, unit)
	per := it.perBase
	if len(it.r.bySetPos) > 0 {
		per = int64(len(it.setPositions(per)))
	}
	if it.emitted+(kEnd-it.k)*per >= it.r.count {
		return false
	}
	if !it.w.spend(1) {
		it.exhaust()
		return true
	}
	it.emitted += (kEnd - it.k) * per
	it.k = kEnd
	return true
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// fill computes the next period that has instances at or after it.lower.
func (it *ruleIter) fill() {
	iv := it.r.interval
	it.n, it.i = 0, 0
	for it.n == 0 && !it.done {
		if !it.w.spend(1) {
			it.exhaust()
			return
		}
		it.bases = it.bases[:0]
		k := it.k
		switch it.freq {
		case freqYearly:
			if k > 10000/iv+1 {
				it.finish()
				return
			}
			y := it.y0 + k*iv
			if y > 9999 {
				it.finish()
				return
			}
			it.k++
			it.yearDays(y)
		case freqMonthly:
			if k > 120000/iv+1 {
				it.finish()
				return
			}
			mi := it.mi0 + k*iv
			y := floorDiv(mi, 12)
			m := mi - y*12 + 1
			if y > 9999 {
				it.finish()
				return
			}
			it.k++
			it.monthDaysAdd(y, m)
		case freqWeekly, freqDaily:
			step := iv
			n := int64(1)
			ws := it.day0
			if it.freq == freqWeekly {
				step, n, ws = 7*iv, 7, it.week0
			}
			if k > (maxWall/86400-ws)/step+1 {
				it.finish()
				return
			}
			z := ws + k*step
			if z*86400 > maxWall {
				it.finish()
				return
			}
			if nd := it.nextDay(z); nd >= z+n {
				// No day of this period can pass: on to the period of nd.
				it.k = max(k+1, floorDiv(nd-ws, step))
				continue
			}
			it.k++
			for d := int64(0); d < n; d++ {
				it.addDay(z + d)
			}
		default:
			if !it.subDaily() {
				continue
			}
		}
		if it.done {
			return
		}
		it.n = int64(len(it.bases)) * it.perBase
		if len(it.r.bySetPos) > 0 && it.n > 0 {
			it.applySetPos()
		}
		if it.n > 0 && it.at(0) < it.lower {
			it.i = it.search(it.lower)
			if it.i == it.n {
				it.n, it.i = 0, 0
			}
		}
	}
}

// subDaily examines period it.k of a SECONDLY, MINUTELY or HOURLY rule:
// false when it jumped over periods that the day, hour, minute or second
// rules exclude.
func (it *ruleIter) subDaily() bool {
	unit := it.unit * it.r.interval
	k := it.k
	if k > (maxWall-it.base)/unit+1 {
		it.finish()
		return false
	}
	t := it.base + k*unit
	if t > maxWall {
		it.finish()
		return false
	}
	jump := func(to int64) bool {
		it.k = ceilDiv(to-it.base, unit)
		if it.k <= k {
			it.k = k + 1
		}
		return false
	}
	z := floorDiv(t, 86400)
	if !it.dayOK(z) {
		return jump(it.nextDay(z+1) * 86400)
	}
	sod := t - z*86400
	h, mi, s := sod/3600, sod/60%60, sod%60
	day := z * 86400
	if it.hourLimit != 0 && it.hourLimit&(1<<uint(h)) == 0 {
		if nh := bits.TrailingZeros32(it.hourLimit >> uint(h) << uint(h)); nh < 32 {
			return jump(day + int64(nh)*3600)
		}
		return jump(day + 86400)
	}
	if it.freq <= freqMinutely && it.minuteLimit != 0 && it.minuteLimit&(1<<uint(mi)) == 0 {
		if nm := bits.TrailingZeros64(it.minuteLimit >> uint(mi) << uint(mi)); nm < 60 {
			return jump(day + h*3600 + int64(nm)*60)
		}
		return jump(day + (h+1)*3600)
	}
	if it.freq == freqSecondly && it.secondLimit != 0 && it.secondLimit&(1<<uint(s)) == 0 {
		if ns := bits.TrailingZeros64(it.secondLimit >> uint(s) << uint(s)); ns < 60 {
			return jump(day + h*3600 + mi*60 + int64(ns))
		}
		return jump(day + h*3600 + (mi+1)*60)
	}
	it.k = k + 1
	switch it.freq {
	case freqHourly:
		it.bases = append(it.bases, day+h*3600)
	case freqMinutely:
		it.bases = append(it.bases, day+h*3600+mi*60)
	default:
		it.bases = append(it.bases, t)
	}
	return true
}

// nextDay returns the first day from z on that may pass the day rules,
// skipping a month at a time.
func (it *ruleIter) nextDay(z int64) int64 {
	for z*86400 <= maxWall {
		y, m, d := civilFromDays(z)
		if mask := it.monthCandidates(y, m) >> uint(d) << uint(d); mask != 0 {
			return z - d + int64(bits.TrailingZeros32(mask))
		}
		if !it.w.spend(1) {
			it.exhaust()
			return z
		}
		z += daysIn(y, m) - d + 1
	}
	return z
}

// applySetPos keeps the instances of the period that BYSETPOS selects.
func (it *ruleIter) applySetPos() {
	idx := it.setPositions(it.n)
	if it.done {
		return
	}
	it.sel = it.sel[:0]
	for _, i := range idx {
		it.sel = append(it.sel, it.plain(i))
	}
	it.n = int64(len(it.sel))
}

// setPositions returns the indexes BYSETPOS selects in a period of n
// instances, in order. They depend only on n, so they are computed again
// only when it changes.
func (it *ruleIter) setPositions(n int64) []int64 {
	if n == it.selN {
		return it.selIdx
	}
	it.selN = n
	it.selIdx = it.selIdx[:0]
	for _, p := range it.r.bySetPos {
		i := int64(p - 1)
		if p < 0 {
			i = n + int64(p)
		}
		if i >= 0 && i < n {
			it.selIdx = append(it.selIdx, i)
		}
	}
	sort.Slice(it.selIdx, func(a, b int) bool { return it.selIdx[a] < it.selIdx[b] })
	out := it.selIdx[:0]
	for j, v := range it.selIdx {
		if j == 0 || v != it.selIdx[j-1] {
			out = append(out, v)
		}
	}
	it.selIdx = out
	if !it.w.spend(int64(len(it.r.bySetPos))) {
		it.exhaust()
	}
	return it.selIdx
}

// w1 returns the first day of week 1 of year y (RFC 5545: the first week
// with at least four days in the year, weeks starting on WKST).
func (it *ruleIter) w1(y int64) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	off := int64((weekdayOf(jan1) - it.r.wkst + 7) % 7)
	ws := jan1 - off
	if off >= 4 {
		ws += 7
	}
	return ws
}

func (it *ruleIter) weekNoOK(wn, nweeks int) bool {
	return it.wnPos&(1<<uint(wn)) != 0 || it.wnNeg&(1<<uint(nweeks-wn+1)) != 0
}

func (it *ruleIter) yearDayOK(yd, diy int64) bool {
	neg := diy - yd + 1
	return it.ydPos[yd/64]&(1<<uint(yd%64)) != 0 || it.ydNeg[neg/64]&(1<<uint(neg%64)) != 0
}

// yearDays adds the days of year y that pass the rules, looking only at
// those the most selective rule allows.
func (it *ruleIter) yearDays(y int64) {
	switch {
	case it.hasWN:
		a, b := it.w1(y), it.w1(y+1)
		nweeks := int((b - a) / 7)
		for wn := 1; wn <= nweeks; wn++ {
			if it.weekNoOK(wn, nweeks) {
				for d := int64(0); d < 7; d++ {
					it.addDay(a + int64(wn-1)*7 + d)
				}
			}
		}
	case it.hasYD:
		first := daysFromCivil(y, 1, 1)
		diy := int64(365)
		if isLeap(y) {
			diy = 366
		}
		for yd := int64(1); yd <= diy; yd++ {
			if it.yearDayOK(yd, diy) {
				it.addDay(first + yd - 1)
			}
		}
	default:
		for m := int64(1); m <= 12; m++ {
			it.monthDaysAdd(y, m)
		}
	}
}

// monthDaysAdd adds the days of month m of year y that pass the rules.
func (it *ruleIter) monthDaysAdd(y, m int64) {
	mask := it.monthCandidates(y, m)
	first := daysFromCivil(y, m, 1)
	for mask != 0 {
		d := int64(bits.TrailingZeros32(mask))
		mask &^= 1 << uint(d)
		it.addDay(first + d - 1)
	}
}

// monthCandidates returns the days (bits 1..31) of a month that BYMONTH,
// BYMONTHDAY and BYDAY allow: a superset of the days that pass dayOK.
func (it *ruleIter) monthCandidates(y, m int64) uint32 {
	if it.monthMask != 0 && it.monthMask&(1<<uint(m)) == 0 {
		return 0
	}
	dim := daysIn(y, m)
	mask := uint32(1)<<uint(dim+1) - 2
	if it.hasMD {
		md := it.mdPos
		for n := int64(1); n <= dim; n++ {
			if it.mdNeg&(1<<uint(n)) != 0 {
				md |= 1 << uint(dim-n+1)
			}
		}
		mask &= md
	}
	if it.hasWD {
		wd1 := weekdayOf(daysFromCivil(y, m, 1))
		var wds uint32
		for wd := 0; wd < 7; wd++ {
			d0 := int64(1 + (wd-wd1+7)%7) // the month's first such weekday
			if it.wdAny[wd] || (it.ordScope == 2 && (it.wdPos[wd]|it.wdNeg[wd]) != 0) {
				for d := d0; d <= dim; d += 7 {
					wds |= 1 << uint(d)
				}
				continue
			}
			last := d0 + (dim-d0)/7*7
			for n := int64(1); n <= 5; n++ {
				if it.wdPos[wd]&(1<<uint(n)) != 0 && d0+7*(n-1) <= dim {
					wds |= 1 << uint(d0+7*(n-1))
				}
				if it.wdNeg[wd]&(1<<uint(n)) != 0 && last-7*(n-1) >= 1 {
					wds |= 1 << uint(last-7*(n-1))
				}
			}
		}
		mask &= wds
	}
	return mask
}

// addDay adds a day as a base when it passes the day-level rules.
func (it *ruleIter) addDay(z int64) {
	if !it.w.spend(1) {
		it.exhaust()
		return
	}
	if it.dayOK(z) {
		it.bases = append(it.bases, z*86400)
	}
}

// dayOK applies BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO (outside YEARLY)
// and BYDAY to a day.
func (it *ruleIter) dayOK(z int64) bool {
	y, m, d := civilFromDays(z)
	if it.monthMask != 0 && it.monthMask&(1<<uint(m)) == 0 {
		return false
	}
	dim := daysIn(y, m)
	if it.hasMD && it.mdPos&(1<<uint(d)) == 0 && it.mdNeg&(1<<uint(dim-d+1)) == 0 {
		return false
	}
	var yd, diy int64
	if it.hasYD || it.ordScope == 2 {
		yd = z - daysFromCivil(y, 1, 1) + 1
		diy = 365
		if isLeap(y) {
			diy = 366
		}
	}
	if it.hasYD && !it.yearDayOK(yd, diy) {
		return false
	}
	if it.hasWN && it.freq != freqYearly {
		wy := y
		a := it.w1(wy)
		if z < a {
			wy--
			a = it.w1(wy)
		} else if b := it.w1(wy + 1); z >= b {
			wy++
			a = b
		}
		nweeks := int((it.w1(wy+1) - a) / 7)
		if !it.weekNoOK(int((z-a)/7)+1, nweeks) {
			return false
		}
	}
	if it.hasWD {
		wd := weekdayOf(z)
		if it.wdAny[wd] {
			return true
		}
		var nth, neg int64
		if it.ordScope == 1 {
			nth, neg = (d-1)/7+1, (dim-d)/7+1
		} else {
			nth, neg = (yd-1)/7+1, (diy-yd)/7+1
		}
		return it.wdPos[wd]&(1<<uint(nth)) != 0 || it.wdNeg[wd]&(1<<uint(neg)) != 0
	}
	return true
}

// ---- recurrence sets ----

// instSet finds DATE/DATE-TIME values among instances with the comparison
// rules of this package: two absolute values match by instant; when either
// side is floating they match by wall clock; a DATE matches every instance
// on that day.
type instSet struct {
	abs       map[int64]int // instant (unix seconds) of absolute values
	wallFloat map[int64]int // wall of floating DATE-TIMEs
	wallAll   map[int64]int // wall of every DATE-TIME value
	dates     map[int64]int // day of DATE values
	n         int
}

func (s *instSet) add(v dtValue, idx int) {
	if s.n == 0 {
		s.abs, s.wallFloat, s.wallAll, s.dates = map[int64]int{}, map[int64]int{}, map[int64]int{}, map[int64]int{}
	}
	s.n++
	switch {
	case v.Date:
		s.dates[v.day()] = idx
	case v.Loc == nil:
		s.wallFloat[v.Wall] = idx
		s.wallAll[v.Wall] = idx
	default:
		s.abs[v.at(nil).Unix()] = idx
		s.wallAll[v.Wall] = idx
	}
}

// find returns the index stored for a value matching the instance v.
func (s *instSet) find(v dtValue) (int, bool) {
	if s.n == 0 {
		return 0, false
	}
	if i, ok := s.dates[v.day()]; ok {
		return i, true
	}
	switch {
	case v.Date:
		i, ok := s.wallAll[v.Wall]
		return i, ok
	case v.Loc == nil:
		i, ok := s.wallAll[v.Wall]
		return i, ok
	default:
		if i, ok := s.abs[v.at(nil).Unix()]; ok {
			return i, true
		}
		i, ok := s.wallFloat[v.Wall]
		return i, ok
	}
}

// occurrence is one instance of a recurrence set.
type occurrence struct {
	comp     *calComp
	t        *compTiming // timing the instance's end and due derive from
	start    dtValue     // instance start (for rule instances: generated)
	hasStart bool
	rid      dtValue // original start
	hasRID   bool
	period   *rdatePeriod // RDATE;VALUE=PERIOD duration
	override bool
	fromRule bool // an instance of the RRULE: ruleOccurrence(start.Wall)
}

type rdatePeriod struct {
	end    dtValue
	hasEnd bool
	dur    icalDuration
}

// endAt returns the instance's end for VEVENT (DTEND, DURATION or the
// default) or its due time for VTODO; ok is false when it has none (a VTODO
// without DUE/DURATION, or no start).
func (o *occurrence) endAt(f *time.Location) (time.Time, bool) {
	if o.period != nil {
		if o.period.hasEnd {
			return o.period.end.at(f), true
		}
		return o.period.dur.addTo(o.start, f), true
	}
	t := o.t
	if t.hasEnd {
		if !o.hasStart || !t.hasStart {
			return t.end.at(f), true
		}
		if o.start.Date && t.start.Date && t.end.Date {
			return dtValue{Wall: o.start.Wall + (t.end.Wall - t.start.Wall), Date: true}.at(f), true
		}
		if o.start == t.start {
			return t.end.at(f), true
		}
		return o.start.at(f).Add(t.end.at(f).Sub(t.start.at(f))), true
	}
	if !o.hasStart {
		return time.Time{}, false
	}
	if t.hasDur {
		return t.dur.addTo(o.start, f), true
	}
	if o.comp.Name == VEVENT || o.comp.Name == VJOURNAL {
		if o.start.Date {
			return icalDuration{Days: 1}.addTo(o.start, f), true
		}
		return o.start.at(f), true
	}
	return time.Time{}, false
}

// recurSet is the recurrence set of an object: master and overrides.
type recurSet struct {
	obj       *calObject
	master    *calComp
	mt        *compTiming
	rule      *recurRule
	rdates    []occurrence
	ex        instSet
	ovs       instSet
	overrides []occurrence
	work      *work
}

const maxVisit = 200000 // instances visited per enumeration

// offsetReach bounds the distance between a wall time and the instant it
// denotes, gaps and overlaps included: UTC offsets stay below 24 hours
// (RFC 5545 allows at most 23:59:59; IANA zones stay within 16 hours).
// Enumerations look at the offsets the zone really has in their window,
// and fall back on this bound.
const offsetReach = 86400

// eachOccurrence calls fn for every instance whose start may matter for
// [from, to) (zero: unbounded), until fn returns false; fn must not keep
// the occurrence. Rule instances are
// enumerated from the first whose wall time can reach from to the last
// that can start before to; RDATEs and overrides are all visited.
// complete is false when a work bound cut the rule's instances short; the
// instances from cut on may then be missing.
func (s *recurSet) eachOccurrence(f *time.Location, from, to time.Time, fn func(*occurrence) bool) (complete bool, cut time.Time) {
	complete = true
	visited := 0
	visit := func(o *occurrence) bool {
		visited++
		return fn(o)
	}
	if s.master != nil && s.mt.hasStart {
		base := occurrence{comp: s.master, t: s.mt, start: s.mt.start, hasStart: true, rid: s.mt.start, hasRID: true}
		if s.mt.hasRID {
			base.rid = s.mt.rid
		}
		if _, ex := s.ex.find(base.start); !ex {
			if _, ov := s.ovs.find(base.start); !ov {
				if !visit(&base) {
					return true, cut
				}
			}
		}
		if s.rule != nil {
			it := newRuleIter(s.rule, s.mt.start, s.work)
			ahead, behind := s.reach(f)
			loc := s.mt.start.Loc
			if s.mt.start.floating() {
				loc = f
			}
			lo, hi := offsetRange(loc, from, to, ahead+behind)
			var first int64 = -1 << 62
			if !from.IsZero() {
				first = toWall(from.UTC()) + lo - ahead
				it.seek(first)
			}
			var limit int64 = maxWall
			if !to.IsZero() {
				limit = toWall(to.UTC()) + hi + behind
			}
			last := first
			var o occurrence // one for all: fn does not keep it
			for {
				w, ok := it.next()
				if !ok {
					complete = !it.Exhausts
					break
				}
				if w > limit {
					break
				}
				visited++
				if visited > maxVisit {
					complete = false
					break
				}
				last = w
				o = s.ruleOccurrence(w)
				if _, ex := s.ex.find(o.start); ex {
					continue
				}
				if _, ov := s.ovs.find(o.start); ov {
					continue
				}
				if !fn(&o) {
					return true, cut
				}
			}
			if !complete {
				// Later instances have later walls, so instants after this.
				cut = time.Unix(last-hi, 0).UTC()
			}
		}
		for i := range s.rdates {
			o := &s.rdates[i]
			if _, ex := s.ex.find(o.start); ex {
				continue
			}
			if _, ov := s.ovs.find(o.start); ov {
				continue
			}
			if !visit(o) {
				return complete, cut
			}
		}
	} else if s.master != nil {
		// No DTSTART: a single instance without a start.
		o := occurrence{comp: s.master, t: s.mt}
		if !visit(&o) {
			return true, cut
		}
	}
	for i := range s.overrides {
		if !visit(&s.overrides[i]) {
			return complete, cut
		}
	}
	return complete, cut
}

// offsetRange returns the least and the greatest UTC offset of loc (in
// seconds) at the instants an enumeration over [from, to) may look at:
// the window widened by reach (the reach of instances) and two days. When
// the window has too many changes of offset to look at, it returns the
// widest bounds, ±offsetReach.
func offsetRange(loc *time.Location, from, to time.Time, reach int64) (lo, hi int64) {
	if loc == time.UTC {
		return 0, 0
	}
	if from.IsZero() || to.IsZero() {
		return -offsetReach, offsetReach
	}
	margin := time.Duration(reach+2*86400) * time.Second
	t, end := from.Add(-margin).In(loc), to.Add(margin)
	_, off := t.Zone()
	lo, hi = int64(off), int64(off)
	for range 1000 {
		_, next := t.ZoneBounds()
		if next.IsZero() || next.After(end) {
			return lo, hi
		}
		t = next
		_, off = t.Zone()
		lo, hi = min(lo, int64(off)), max(hi, int64(off))
	}
	return -offsetReach, offsetReach
}

// ruleOccurrence is the instance of the rule that starts at wall w.
func (s *recurSet) ruleOccurrence(w int64) occurrence {
	v := dtValue{Wall: w, Loc: s.mt.start.Loc, Date: s.mt.start.Date}
	return occurrence{comp: s.master, t: s.mt, start: v, hasStart: true, rid: v, hasRID: true, fromRule: true}
}

// reach bounds, in seconds, how far the end of a rule instance may lie
// after its start (ahead) or, for an end before the start, before it
// (behind), besides offsetReach: days of a DURATION are nominal, so they
// are taken as 24 hours in wall time.
func (s *recurSet) reach(f *time.Location) (ahead, behind int64) {
	t := s.mt
	var d int64
	switch {
	case t.hasEnd && t.start.Date && t.end.Date:
		d = t.end.Wall - t.start.Wall
	case t.hasEnd:
		d = t.end.at(f).Unix() - t.start.at(f).Unix()
	case t.hasDur:
		d = t.dur.approx()
	case t.start.Date && s.master.Name != VTODO:
		d = 86400
	}
	if d < 0 {
		return 0, -d
	}
	return d, 0
}

// maxDuration approximates the longest instance duration in seconds.
func (s *recurSet) maxDuration() int64 {
	o := occurrence{comp: s.master, t: s.mt, start: s.mt.start, hasStart: true}
	e, ok := o.endAt(time.UTC)
	if !ok {
		return 0
	}
	return int64(e.Sub(s.mt.start.at(time.UTC)) / time.Second)
}

// parseDTProp parses a DATE/DATE-TIME property with its TZID.
func (o *calObject) parseDTProp(p *calProp) (dtValue, error) {
	loc, err := o.propZone(p)
	if err != nil {
		return dtValue{}, err
	}
	v, err := parseDTString(p.Value, strings.ToUpper(p.param("VALUE")), loc)
	if err != nil {
		return dtValue{}, dataError(p.Line, "%s: bad date or date-time %q", p.Name, p.Value)
	}
	return v, nil
}

func (o *calObject) propZone(p *calProp) (*time.Location, error) {
	tzid := p.param("TZID")
	if tzid == "" {
		return nil, nil
	}
	loc, err := o.zones.resolve(tzid)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, dataError(p.Line, "%s: %v", p.Name, err)
	}
	return loc, nil
}

// parseDTList parses RDATE/EXDATE values (comma separated; PERIODs allowed
// when allowPeriod).
func (o *calObject) parseDTList(p *calProp, allowPeriod bool) ([]dtValue, []*rdatePeriod, error) {
	loc, err := o.propZone(p)
	if err != nil {
		return nil, nil, err
	}
	vt := strings.ToUpper(p.param("VALUE"))
	var vals []dtValue
	var periods []*rdatePeriod
	for _, s := range strings.Split(p.Value, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if slash := strings.IndexByte(s, '/'); slash >= 0 || vt == "PERIOD" {
			if !allowPeriod || slash < 0 {
				return nil, nil, dataError(p.Line, "%s: bad value %q", p.Name, s)
			}
			start, err := parseDTString(s[:slash], "DATE-TIME", loc)
			if err != nil {
				return nil, nil, dataError(p.Line, "%s: bad period %q", p.Name, s)
			}
			per := &rdatePeriod{}
			if rest := s[slash+1:]; rest != "" && (rest[0] == 'P' || rest[0] == 'p' || rest[0] == '+' || rest[0] == '-') {
				d, err := parseDuration(rest)
				if err != nil {
					return nil, nil, dataError(p.Line, "%s: bad period %q", p.Name, s)
				}
				per.dur = d
			} else {
				e, err := parseDTString(rest, "DATE-TIME", loc)
				if err != nil {
					return nil, nil, dataError(p.Line, "%s: bad period %q", p.Name, s)
				}
				per.end, per.hasEnd = e, true
			}
			vals = append(vals, start)
			periods = append(periods, per)
			continue
		}
		typ := vt
		if typ == "PERIOD" {
			typ = ""
		}
		v, err := parseDTString(s, typ, loc)
		if err != nil {
			return nil, nil, dataError(p.Line, "%s: bad date or date-time %q", p.Name, s)
		}
		vals = append(vals, v)
		periods = append(periods, nil)
	}
	return vals, periods, nil
}

// itoa is strconv.Itoa for int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
