package calendars

// The enumeration of a recurrence set (DTSTART, RRULE, RDATE, EXDATE and
// overriding components), and the parsing of its DATE/DATE-TIME values.

import (
	"errors"
	"strings"
	"time"
)

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
