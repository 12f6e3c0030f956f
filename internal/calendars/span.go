package calendars

// The span (Info.Start/End) bounds every occurrence of an object so that
// the store can pre-select time-range candidates with an index. It must
// never be narrower than the real set of occurrences: every rule below
// errs on the wide side.
//
//   - Each occurrence contributes its time-range envelope: the smallest
//     closed interval such that every window the occurrence matches under
//     RFC 4791 9.9 overlaps it (VEVENT: start to end; VTODO: per the 9.9
//     table; a VTODO with only CREATED is unbounded in the future, one
//     with no date at all is unbounded on both sides).
//   - Start is the first non-excluded instance (DTSTART, the rule, RDATEs,
//     overrides); when looking for it costs too much, DTSTART.
//   - End: a rule without COUNT or UNTIL is unbounded; UNTIL bounds the
//     last start; COUNT rules are expanded (at most maxSpanCount
//     instances, else unbounded). RDATEs and overrides (which may move an
//     instance anywhere) are added; RANGE=THISANDFUTURE overrides widen End
//     by their shift.
//   - Floating times and dates are computed in UTC and the span widened by
//     14 hours on both sides, which covers every time zone.
//   - Finally one second is added on both sides, so that the store may use
//     either strict or inclusive comparisons (some 9.9 rows are inclusive).
//   - A bound outside the years 1–9999 is dropped (unbounded).

import "time"

const (
	maxSpanCount = 10000
	floatWiden   = 14 * time.Hour
)

// span computes Info.Start/End (zero: unbounded).
func (o *calObject) span() (start, end time.Time) {
	var (
		lo, hi       time.Time
		loInf, hiInf bool
		any          bool
		// lo and hi are set (a zero time.Time is a valid bound)
		haveLo, haveHi bool
	)
	visit := func(oc *occurrence) {
		l, h, li, hinf := o.envelope(oc, time.UTC)
		if oc.hasStart && !oc.start.floating() && oc.start.Loc != time.UTC {
			// A wall time in a gap (start of daylight time) is read with
			// the offset before it, so a later instance may begin before
			// it, by at most the gap: only the first instance of an
			// unbounded rule is visited, so widen.
			if toWall(wallTime(oc.start.Wall, oc.start.Loc)) != oc.start.Wall {
				l = l.Add(-26 * time.Hour)
			}
		}
		if !li && (!haveLo || l.Before(lo)) {
			lo, haveLo = l, true
		}
		if !hinf && (!haveHi || h.After(hi)) {
			hi, haveHi = h, true
		}
		if li {
			loInf = true
		}
		if hinf {
			hiInf = true
		}
		any = true
	}
	s := o.set
	if m := s.master; m != nil {
		mt := s.mt
		if !mt.hasStart {
			visit(&occurrence{comp: m, t: mt})
		} else {
			base := occurrence{comp: m, t: mt, start: mt.start, hasStart: true}
			_, dtstartExcluded := s.ex.find(mt.start)
			if !dtstartExcluded {
				visit(&base)
			}
			if r := s.rule; r != nil {
				it := newRuleIter(r, mt.start, o.work)
				found := !dtstartExcluded
				countAll := r.count > 0 && r.count <= maxSpanCount
				for {
					if found && !countAll {
						break
					}
					w, ok := it.next()
					if !ok {
						break
					}
					v := dtValue{Wall: w, Loc: mt.start.Loc, Date: mt.start.Date}
					if _, ex := s.ex.find(v); ex {
						continue
					}
					visit(&occurrence{comp: m, t: mt, start: v, hasStart: true})
					found = true
				}
				if !found {
					visit(&base) // could not find the first instance cheaply
				}
				switch {
				case !r.bounded():
					hiInf = true
				case countAll && !it.Exhausts:
					// every instance visited
				case r.until != nil:
					visit(&occurrence{comp: m, t: mt, start: untilStart(it, mt.start), hasStart: true})
					if it.uMode == 1 && mt.hasDur && mt.dur.Days != 0 && !hiInf {
						// nominal days in UTC may differ from the zone's by a
						// change of clocks
						hi = hi.Add(2 * time.Hour)
					}
				default:
					hiInf = true
				}
			}
			for i := range s.rdates {
				if _, ex := s.ex.find(s.rdates[i].start); !ex {
					visit(&s.rdates[i])
				}
			}
		}
	}
	for i := range s.overrides {
		oc := &s.overrides[i]
		visit(oc)
		if oc.t.future && s.master != nil && s.mt.hasStart && oc.hasStart {
			// Later instances move by the override's shift and take its
			// duration.
			shift := oc.start.at(time.UTC).Sub(oc.rid.at(time.UTC))
			var grow time.Duration
			if e, ok := oc.endAt(time.UTC); ok {
				grow = e.Sub(oc.start.at(time.UTC))
			}
			if d := time.Duration(s.maxDuration()) * time.Second; grow > d {
				grow -= d
			} else {
				grow = 0
			}
			if shift < 0 {
				shift = 0
			}
			if haveHi {
				hi = hi.Add(shift + grow)
			}
		}
	}
	if !any {
		return time.Time{}, time.Time{}
	}
	if !loInf && haveLo {
		start = lo.Add(-time.Second)
		if o.floats {
			start = start.Add(-floatWiden)
		}
	}
	if !hiInf && haveHi {
		end = hi.Add(time.Second)
		if o.floats {
			end = end.Add(floatWiden)
		}
	}
	// Bounds outside years 1–9999 cannot be stored as timestamps by every
	// engine: they become unbounded.
	if !start.IsZero() && !inRange(start) {
		start = time.Time{}
	}
	if !end.IsZero() && !inRange(end) {
		end = time.Time{}
	}
	return start, end
}

// untilStart is the latest start the rule's UNTIL allows, as a value in
// DTSTART's zone.
func untilStart(it *ruleIter, start dtValue) dtValue {
	switch it.uMode {
	case 1:
		return dtValue{Wall: it.uInst, Loc: time.UTC}
	default:
		w := it.uWall
		if start.Date {
			w = floorDiv(w, 86400) * 86400
		}
		return dtValue{Wall: w, Loc: start.Loc, Date: start.Date}
	}
}

// envelope returns the closed interval every time-range matching the
// occurrence overlaps (RFC 4791 9.9), with unbounded sides flagged.
func (o *calObject) envelope(oc *occurrence, f *time.Location) (lo, hi time.Time, loInf, hiInf bool) {
	switch o.kind {
	case VEVENT, VJOURNAL:
		if !oc.hasStart {
			return lo, hi, true, true
		}
		s := oc.start.at(f)
		e, ok := oc.endAt(f)
		if !ok {
			e = s
		}
		if e.Before(s) { // an end before the start (invalid): keep both
			return e, s, false, false
		}
		return s, e, false, false
	}
	// VTODO
	t := oc.t
	if oc.hasStart {
		s := oc.start.at(f)
		if e, ok := oc.endAt(f); ok {
			if e.Before(s) {
				return e, s, false, false
			}
			return s, e, false, false
		}
		return s, s, false, false
	}
	if t.hasEnd {
		d := t.end.at(f)
		return d, d, false, false
	}
	switch {
	case t.hasCompleted && t.hasCreated:
		a, b := t.completed.at(f), t.created.at(f)
		if b.Before(a) {
			a, b = b, a
		}
		return a, b, false, false
	case t.hasCompleted:
		c := t.completed.at(f)
		return c, c, false, false
	case t.hasCreated:
		return t.created.at(f), hi, false, true
	}
	return lo, hi, true, true
}
