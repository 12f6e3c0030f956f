package calendars

// refIter is the rule iterator as it was before periods were held as days
// and index arithmetic: every candidate of a period built in a slice. It is
// slow on big BY lists but plain, and the differential test below checks
// the iterator against it on rules of every kind.

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const refBudget = 2000000 // units of work (periods and days examined) per iterator

// refIter enumerates the instances (as wall seconds) of a rule anchored
// at DTSTART that come after DTSTART, in increasing order.
type refIter struct {
	r      *recurRule
	freq   int
	start  int64
	zone   *time.Location // DTSTART's zone, nil when floating or DATE
	uMode  int            // 0: no UNTIL, 1: compare instants, 2: compare walls
	uInst  int64
	uWall  int64
	budget int

	hours, minutes, seconds []int // expansions
	hourLimit               uint32
	minuteLimit             uint64
	secondLimit             uint64
	monthMask               uint16
	mdPos, mdNeg            uint32
	hasMD                   bool
	byDay                   []weekdayNum
	ordScope                int // 0: none, 1: month, 2: year

	y0, mi0, week0, day0, base, unit int64

	k        int64
	emitted  int64
	buf      []int64
	bi       int
	done     bool
	Exhausts bool // the work budget ran out
}

func newRefIter(r *recurRule, dtstart dtValue) *refIter {
	// RFC 5545 3.3.10: DTSTART always counts as the first occurrence; the
	// iterator yields the instances after it.
	it := &refIter{r: r, freq: r.freq, start: dtstart.Wall, budget: refBudget, emitted: 1}
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
	it.byDay = byDay
	switch {
	case it.freq == freqMonthly:
		it.ordScope = 1
	case it.freq == freqYearly && len(r.byWeekNo) == 0 && len(r.byMonth) > 0:
		it.ordScope = 1
	case it.freq == freqYearly && len(r.byWeekNo) == 0:
		it.ordScope = 2
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
	it.hours, it.minutes, it.seconds = r.byHour, r.byMinute, noLeap(r.bySecond)
	if len(r.byHour) == 0 {
		it.hours = []int{h0}
	}
	if len(r.byMinute) == 0 {
		it.minutes = []int{mi0}
	}
	if len(r.bySecond) == 0 {
		it.seconds = []int{s0}
	}
	if dtstart.Date {
		// Dates have no time of day: BYHOUR, BYMINUTE and BYSECOND would
		// only repeat the day.
		it.hours, it.minutes, it.seconds = []int{0}, []int{0}, []int{0}
		return it.anchor(y, m, sday, wd0, h0, mi0)
	}
	for _, v := range r.byHour {
		it.hourLimit |= 1 << uint(v)
	}
	for _, v := range r.byMinute {
		it.minuteLimit |= 1 << uint(v)
	}
	for _, v := range r.bySecond {
		it.secondLimit |= 1 << uint(v)
	}

	return it.anchor(y, m, sday, wd0, h0, mi0)
}

// anchor sets the period grid from DTSTART.
func (it *refIter) anchor(y, m, sday int64, wd0, h0, mi0 int) *refIter {
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

// next returns the next instance, false when there is none (or the budget
// ran out: see Exhausts).
func (it *refIter) next() (int64, bool) {
	for {
		for it.bi < len(it.buf) {
			w := it.buf[it.bi]
			it.bi++
			if w <= it.start {
				continue // DTSTART is the first instance, counted once
			}
			if it.afterUntil(w) || (it.r.count > 0 && it.emitted >= it.r.count) {
				it.done = true
				it.buf = it.buf[:0]
				it.bi = 0
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

func (it *refIter) afterUntil(w int64) bool {
	switch it.uMode {
	case 1:
		return wallTime(w, it.zone).Unix() > it.uInst
	case 2:
		return w > it.uWall
	}
	return false
}

// fill computes the candidates of the next period that has any.
func (it *refIter) fill() {
	it.buf = it.buf[:0]
	it.bi = 0
	iv := it.r.interval
	for len(it.buf) == 0 && !it.done {
		if it.budget <= 0 {
			it.done, it.Exhausts = true, true
			return
		}
		it.budget--
		k := it.k
		switch it.freq {
		case freqYearly:
			if k > 10000/iv+1 {
				it.done = true
				return
			}
			y := it.y0 + k*iv
			if y > 9999 {
				it.done = true
				return
			}
			it.k++
			it.yearCandidates(y)
		case freqMonthly:
			if k > 120000/iv+1 {
				it.done = true
				return
			}
			mi := it.mi0 + k*iv
			y := floorDiv(mi, 12)
			m := mi - y*12 + 1
			if y > 9999 {
				it.done = true
				return
			}
			it.k++
			first := daysFromCivil(y, m, 1)
			for d := int64(0); d < daysIn(y, m); d++ {
				it.addDay(first + d)
			}
		case freqWeekly, freqDaily:
			step := iv
			n := int64(1)
			ws := it.day0
			if it.freq == freqWeekly {
				step, n, ws = 7*iv, 7, it.week0
			}
			if k > (maxWall/86400-ws)/step+1 {
				it.done = true
				return
			}
			z := ws + k*step
			if z*86400 > maxWall {
				it.done = true
				return
			}
			it.k++
			for d := int64(0); d < n; d++ {
				it.addDay(z + d)
			}
		default:
			unit := it.unit * iv
			if k > (maxWall-it.base)/unit+1 {
				it.done = true
				return
			}
			t := it.base + k*unit
			if t > maxWall {
				it.done = true
				return
			}
			z := floorDiv(t, 86400)
			if !it.dayOK(z) {
				it.k = ceilDiv((z+1)*86400-it.base, unit)
				continue
			}
			sod := t - z*86400
			h, mi, s := sod/3600, sod/60%60, sod%60
			if it.hourLimit != 0 && it.hourLimit&(1<<uint(h)) == 0 {
				it.k = ceilDiv(z*86400+(h+1)*3600-it.base, unit)
				continue
			}
			if it.freq <= freqMinutely && it.minuteLimit != 0 && it.minuteLimit&(1<<uint(mi)) == 0 {
				it.k = ceilDiv(z*86400+h*3600+(mi+1)*60-it.base, unit)
				continue
			}
			if it.freq == freqSecondly && it.secondLimit != 0 && it.secondLimit&(1<<uint(s)) == 0 {
				it.k++
				continue
			}
			if it.k <= k {
				it.k = k + 1
			}
			switch it.freq {
			case freqHourly:
				for _, m := range it.minutes {
					for _, sec := range it.seconds {
						it.buf = append(it.buf, z*86400+h*3600+int64(m)*60+int64(sec))
					}
				}
			case freqMinutely:
				for _, sec := range it.seconds {
					it.buf = append(it.buf, z*86400+h*3600+mi*60+int64(sec))
				}
			default:
				it.buf = append(it.buf, t)
			}
		}
		if len(it.r.bySetPos) > 0 && len(it.buf) > 0 {
			it.applySetPos()
		}
	}
}

func (it *refIter) applySetPos() {
	n := len(it.buf)
	var sel []int64
	for _, p := range it.r.bySetPos {
		i := p - 1
		if p < 0 {
			i = n + p
		}
		if i >= 0 && i < n {
			sel = append(sel, it.buf[i])
		}
	}
	sort.Slice(sel, func(a, b int) bool { return sel[a] < sel[b] })
	out := it.buf[:0]
	for i, v := range sel {
		if i == 0 || v != sel[i-1] {
			out = append(out, v)
		}
	}
	it.buf = out
}

// w1 returns the first day of week 1 of year y (RFC 5545: the first week
// with at least four days in the year, weeks starting on WKST).
func (it *refIter) w1(y int64) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	off := int64((weekdayOf(jan1) - it.r.wkst + 7) % 7)
	ws := jan1 - off
	if off >= 4 {
		ws += 7
	}
	return ws
}

func (it *refIter) yearCandidates(y int64) {
	r := it.r
	switch {
	case len(r.byWeekNo) > 0:
		a, b := it.w1(y), it.w1(y+1)
		nweeks := int((b - a) / 7)
		for z := a; z < b; z++ {
			wn := int((z-a)/7) + 1
			ok := false
			for _, w := range r.byWeekNo {
				if w == wn || w == wn-nweeks-1 {
					ok = true
					break
				}
			}
			if ok {
				it.addDay(z)
			} else {
				it.budget--
			}
		}
	case it.monthMask != 0 && len(r.byYearDay) == 0:
		for m := int64(1); m <= 12; m++ {
			if it.monthMask&(1<<uint(m)) == 0 {
				continue
			}
			first := daysFromCivil(y, m, 1)
			for d := int64(0); d < daysIn(y, m); d++ {
				it.addDay(first + d)
			}
		}
	default:
		first := daysFromCivil(y, 1, 1)
		last := daysFromCivil(y+1, 1, 1)
		for z := first; z < last; z++ {
			it.addDay(z)
		}
	}
}

// addDay appends the day's times when the day passes the day-level rules.
func (it *refIter) addDay(z int64) {
	it.budget--
	if !it.dayOK(z) {
		return
	}
	if it.freq < freqDaily {
		return
	}
	for _, h := range it.hours {
		for _, m := range it.minutes {
			for _, s := range it.seconds {
				it.buf = append(it.buf, z*86400+int64(h)*3600+int64(m)*60+int64(s))
			}
		}
	}
}

// dayOK applies BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO (outside YEARLY)
// and BYDAY to a day.
func (it *refIter) dayOK(z int64) bool {
	y, m, d := civilFromDays(z)
	if it.monthMask != 0 && it.monthMask&(1<<uint(m)) == 0 {
		return false
	}
	dim := daysIn(y, m)
	if it.hasMD && it.mdPos&(1<<uint(d)) == 0 && it.mdNeg&(1<<uint(dim-d+1)) == 0 {
		return false
	}
	r := it.r
	var yd, diy int64
	if len(r.byYearDay) > 0 || it.ordScope == 2 {
		yd = z - daysFromCivil(y, 1, 1) + 1
		diy = 365
		if isLeap(y) {
			diy = 366
		}
	}
	if len(r.byYearDay) > 0 {
		ok := false
		for _, v := range r.byYearDay {
			if int64(v) == yd || int64(v) == yd-diy-1 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.byWeekNo) > 0 && it.freq != freqYearly {
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
		wn := int((z-a)/7) + 1
		ok := false
		for _, w := range r.byWeekNo {
			if w == wn || w == wn-nweeks-1 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(it.byDay) > 0 {
		wd := weekdayOf(z)
		ok := false
		for _, e := range it.byDay {
			if e.wd != wd {
				continue
			}
			if e.n == 0 || it.ordScope == 0 {
				ok = true
				break
			}
			var nth, neg int64
			if it.ordScope == 1 {
				nth, neg = (d-1)/7+1, -((dim-d)/7 + 1)
			} else {
				nth, neg = (yd-1)/7+1, -((diy-yd)/7 + 1)
			}
			if int64(e.n) == nth || int64(e.n) == neg {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// tcRandomRule returns a random rule using every rule part, with lists
// short enough for refIter.
func tcRandomRule(rng *rand.Rand) string {
	parts := []string{"FREQ=" + freqNames[rng.Intn(len(freqNames))]}
	list := func(name string, n int, gen func() int) {
		var vs []string
		for i := 0; i < n; i++ {
			vs = append(vs, strconv.Itoa(gen()))
		}
		parts = append(parts, name+"="+strings.Join(vs, ","))
	}
	signed := func(max int) func() int {
		return func() int {
			v := 1 + rng.Intn(max)
			if rng.Intn(3) == 0 {
				v = -v
			}
			return v
		}
	}
	upTo := func(lo, hi int) func() int { return func() int { return lo + rng.Intn(hi-lo+1) } }
	if rng.Intn(3) == 0 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(2+rng.Intn(5)))
	}
	if rng.Intn(3) == 0 {
		list("BYMONTH", 1+rng.Intn(3), upTo(1, 12))
	}
	if rng.Intn(4) == 0 {
		list("BYMONTHDAY", 1+rng.Intn(3), signed(31))
	}
	if rng.Intn(6) == 0 {
		list("BYYEARDAY", 1+rng.Intn(3), signed(366))
	}
	if rng.Intn(6) == 0 {
		list("BYWEEKNO", 1+rng.Intn(3), signed(53))
	}
	if rng.Intn(2) == 0 {
		days := []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}
		var vs []string
		for i := 0; i < 1+rng.Intn(4); i++ {
			d := days[rng.Intn(7)]
			switch rng.Intn(4) {
			case 0:
				d = strconv.Itoa(signed(5)()) + d
			case 1:
				d = strconv.Itoa(signed(53)()) + d
			}
			vs = append(vs, d)
		}
		parts = append(parts, "BYDAY="+strings.Join(vs, ","))
	}
	if rng.Intn(4) == 0 {
		list("BYHOUR", 1+rng.Intn(3), upTo(0, 23))
	}
	if rng.Intn(4) == 0 {
		list("BYMINUTE", 1+rng.Intn(3), upTo(0, 59))
	}
	if rng.Intn(5) == 0 {
		list("BYSECOND", 1+rng.Intn(3), upTo(0, 60))
	}
	if rng.Intn(4) == 0 {
		list("BYSETPOS", 1+rng.Intn(3), signed(10))
	}
	if rng.Intn(4) == 0 {
		parts = append(parts, "WKST="+[]string{"SU", "MO", "TH"}[rng.Intn(3)])
	}
	switch rng.Intn(3) {
	case 0:
		parts = append(parts, "COUNT="+strconv.Itoa(1+rng.Intn(400)))
	case 1:
		parts = append(parts, fmt.Sprintf("UNTIL=%04d%02d%02dT120000Z", 2000+rng.Intn(40), 1+rng.Intn(12), 1+rng.Intn(28)))
	}
	rng.Shuffle(len(parts)-1, func(i, j int) { parts[i+1], parts[j+1] = parts[j+1], parts[i+1] })
	return strings.Join(parts, ";")
}

// The iterator gives the instances refIter gives, from DTSTART and after a
// seek, for rules of every kind.
func TestRuleIterMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(5545))
	berlin := mustZone(t, "Europe/Berlin")
	n, exhausted := 400, 0
	if testing.Short() {
		n = 100
	}
	for c := 0; c < n; c++ {
		rule := tcRandomRule(rng)
		r, err := parseRRule(rule)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		start := fmt.Sprintf("%04d%02d%02d", 1995+rng.Intn(35), 1+rng.Intn(12), 1+rng.Intn(28))
		var loc *time.Location
		switch rng.Intn(4) {
		case 0: // a date
		case 1:
			start += fmt.Sprintf("T%02d%02d%02d", rng.Intn(24), rng.Intn(60), rng.Intn(60))
		case 2:
			start += fmt.Sprintf("T%02d%02d%02d", rng.Intn(24), rng.Intn(60), rng.Intn(60))
			loc = berlin
		case 3:
			start += "T090000Z"
		}
		v, err := parseDTString(start, "", loc)
		if err != nil {
			t.Fatal(err)
		}
		// From DTSTART: the first 300 instances.
		ref := newRefIter(r, v)
		it := newRuleIter(r, v, newWork(bg, ruleWork))
		var want []int64
		for len(want) < 300 {
			w, ok := ref.next()
			if !ok {
				break
			}
			want = append(want, w)
		}
		for i, w := range want {
			got, ok := it.next()
			if !ok || got != w {
				t.Fatalf("%s from %s: instance %d is %d (%v), want %d", rule, start, i, got, ok, w)
			}
		}
		if len(want) < 300 && !ref.Exhausts {
			if got, ok := it.next(); ok {
				t.Fatalf("%s from %s: an instance %d after the last", rule, start, got)
			}
		}
		// After a seek: the first 50 instances from a wall within a few
		// years, found by stepping refIter there.
		target := v.Wall + rng.Int63n(4*365*86400)
		ref = newRefIter(r, v)
		want = want[:0]
		for steps := 0; len(want) < 50 && steps < 200000; steps++ {
			w, ok := ref.next()
			if !ok {
				break
			}
			if w >= target {
				want = append(want, w)
			}
		}
		if len(want) < 50 && (!ref.done || ref.Exhausts) {
			continue // too far for refIter
		}
		it = newRuleIter(r, v, newWork(bg, ruleWork))
		it.seek(target)
		for i, w := range want {
			got, ok := it.next()
			if !ok && it.Exhausts {
				break
			}
			if !ok || got != w {
				t.Fatalf("%s from %s after seek(%d): instance %d is %d (%v), want %d", rule, start, target, i, got, ok, w)
			}
		}
		if it.Exhausts {
			exhausted++
		}
	}
	// Only rules that never match, or too rarely to count their way to
	// the seek, may run out of work.
	if exhausted > n/100 {
		t.Errorf("the budget ran out for %d rules of %d", exhausted, n)
	}
}
