package calendars

// The RRULE engine (RFC 5545 3.3.10): parsing a RECUR value, and the
// iterator that enumerates its instances within the work budget.

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"
)

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

// pastUntil reports whether every wall time from w on is after UNTIL, so
// that a period starting at w has no instance: the rule has ended, even
// if no instance after UNTIL is ever found to say so.
func (it *ruleIter) pastUntil(w int64) bool {
	switch it.uMode {
	case 1:
		return w-offsetReach > it.uInst
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
			// A year's weeks (BYWEEKNO) may start in the December before.
			if y > 9999 || it.pastUntil((daysFromCivil(y, 1, 1)-7)*86400) {
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
			if y > 9999 || it.pastUntil(daysFromCivil(y, m, 1)*86400) {
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
			if z*86400 > maxWall || it.pastUntil(z*86400) {
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
	if t > maxWall || it.pastUntil(t) {
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
