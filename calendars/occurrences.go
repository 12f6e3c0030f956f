package calendars

// This file computes occurrences: time zones (IANA names and custom
// VTIMEZONE definitions), the RRULE engine (RFC 5545 3.3.10) and the
// enumeration of a recurrence set (DTSTART, RRULE, RDATE, EXDATE and
// overriding components).
//
// Every loop is bounded: by year 9999, by a work budget per rule and by a
// cap on the number of instances visited. Callers learn when a bound cut
// the enumeration short and then answer conservatively.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
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
}

func newZoneResolver(root *calComp) *zoneResolver {
	z := &zoneResolver{}
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
			loc, err = customZone(tzid, vt)
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
func customZone(tzid string, vt *calComp) (*time.Location, error) {
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
	loc, err := buildCustomZone(tzid, vt)
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

func buildCustomZone(tzid string, vt *calComp) (*time.Location, error) {
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
				it := newRuleIter(r, dtValue{Wall: onsetWall, Loc: time.FixedZone("", from)})
				if onsetWall < zoneFrom {
					it.seek(zoneFrom)
				}
				for n < 2000 {
					w, ok := it.next()
					if !ok || w > zoneHorizon {
						break
					}
					if w != onsetWall {
						add(w)
						n++
					}
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

type weekdayNum struct {
	n  int // 0: every such weekday
	wd int // 0 = Sunday
}

// recurRule is a parsed RECUR value.
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

func intList(s string, lo, hi int, signed bool) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		neg := false
		if signed && f != "" && (f[0] == '+' || f[0] == '-') {
			neg = f[0] == '-'
			f = f[1:]
		}
		n, ok := smallInt(f)
		if !ok || n < int64(lo) || n > int64(hi) || (signed && n == 0) {
			return nil, fmt.Errorf("bad value %q", f)
		}
		v := int(n)
		if neg {
			v = -v
		}
		out = append(out, v)
	}
	sort.Ints(out)
	return dedupInts(out), nil
}

func dedupInts(a []int) []int {
	out := a[:0]
	for i, v := range a {
		if i == 0 || v != a[i-1] {
			out = append(out, v)
		}
	}
	return out
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
			switch val {
			case "SECONDLY":
				r.freq = freqSecondly
			case "MINUTELY":
				r.freq = freqMinutely
			case "HOURLY":
				r.freq = freqHourly
			case "DAILY":
				r.freq = freqDaily
			case "WEEKLY":
				r.freq = freqWeekly
			case "MONTHLY":
				r.freq = freqMonthly
			case "YEARLY":
				r.freq = freqYearly
			default:
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
			r.byDay = nil
			for _, f := range strings.Split(val, ",") {
				if len(f) < 2 {
					return nil, fmt.Errorf("bad BYDAY %q", f)
				}
				wd, ok := weekdayNames[f[len(f)-2:]]
				if !ok {
					return nil, fmt.Errorf("bad BYDAY %q", f)
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
						return nil, fmt.Errorf("bad BYDAY %q", f)
					}
					n = int(v)
					if neg {
						n = -n
					}
				}
				r.byDay = append(r.byDay, weekdayNum{n: n, wd: wd})
			}
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

const ruleBudget = 300000 // units of work (periods and days examined) per iterator

// ruleIter enumerates the instances (as wall seconds) of a rule anchored
// at DTSTART that come after DTSTART, in increasing order.
type ruleIter struct {
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

func newRuleIter(r *recurRule, dtstart dtValue) *ruleIter {
	// RFC 5545 3.3.10: DTSTART always counts as the first occurrence; the
	// iterator yields the instances after it.
	it := &ruleIter{r: r, freq: r.freq, start: dtstart.Wall, budget: ruleBudget, emitted: 1}
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

// next returns the next instance, false when there is none (or the budget
// ran out: see Exhausts).
func (it *ruleIter) next() (int64, bool) {
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

func (it *ruleIter) afterUntil(w int64) bool {
	switch it.uMode {
	case 1:
		return wallTime(w, it.zone).Unix() > it.uInst
	case 2:
		return w > it.uWall
	}
	return false
}

// seek skips the periods that end before wall (rules without COUNT only).
func (it *ruleIter) seek(wall int64) {
	if it.r.count > 0 || wall <= it.start {
		return
	}
	if wall > maxWall {
		wall = maxWall
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
	if k > it.k {
		it.k = k
		it.buf = it.buf[:0]
		it.bi = 0
	}
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// fill computes the candidates of the next period that has any.
func (it *ruleIter) fill() {
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

func (it *ruleIter) applySetPos() {
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
func (it *ruleIter) w1(y int64) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	off := int64((weekdayOf(jan1) - it.r.wkst + 7) % 7)
	ws := jan1 - off
	if off >= 4 {
		ws += 7
	}
	return ws
}

func (it *ruleIter) yearCandidates(y int64) {
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
func (it *ruleIter) addDay(z int64) {
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
func (it *ruleIter) dayOK(z int64) bool {
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
}

const maxVisit = 200000 // instances visited per enumeration

// eachOccurrence calls fn for every instance whose start may matter for
// [from, to) (zero: unbounded), until fn returns false. Rule instances are
// enumerated from a little before from to a little after to; RDATEs and
// overrides are all visited. complete is false when a work bound cut the
// enumeration short.
func (s *recurSet) eachOccurrence(f *time.Location, from, to time.Time, fn func(*occurrence) bool) (complete bool) {
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
		dtstartWall := s.mt.start.Wall
		if _, ex := s.ex.find(base.start); !ex {
			if _, ov := s.ovs.find(base.start); !ov {
				if !visit(&base) {
					return true
				}
			}
		}
		if s.rule != nil {
			it := newRuleIter(s.rule, s.mt.start)
			slack := int64(3 * 86400)
			if d := s.maxDuration(); d > 0 {
				slack += d
			}
			var first int64 = -1 << 62
			if !from.IsZero() {
				first = toWall(from.UTC()) - slack
				it.seek(first)
			}
			var limit int64 = maxWall
			if !to.IsZero() {
				limit = toWall(to.UTC()) + 3*86400
			}
			for {
				w, ok := it.next()
				if !ok {
					if it.Exhausts {
						complete = false
						return complete
					}
					break
				}
				if w > limit {
					break
				}
				if w == dtstartWall || w < first {
					continue // (COUNT rules cannot seek: skip cheaply)
				}
				visited++
				if visited > maxVisit {
					return false
				}
				v := dtValue{Wall: w, Loc: s.mt.start.Loc, Date: s.mt.start.Date}
				if _, ex := s.ex.find(v); ex {
					continue
				}
				if _, ov := s.ovs.find(v); ov {
					continue
				}
				o := occurrence{comp: s.master, t: s.mt, start: v, hasStart: true, rid: v, hasRID: true}
				if !fn(&o) {
					return true
				}
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
				return true
			}
		}
	} else if s.master != nil {
		// No DTSTART: a single instance without a start.
		o := occurrence{comp: s.master, t: s.mt}
		if !visit(&o) {
			return true
		}
	}
	for i := range s.overrides {
		if !visit(&s.overrides[i]) {
			return true
		}
	}
	return true
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
