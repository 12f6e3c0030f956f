package calendars

// calendar-query filters (RFC 4791 9.7) and time-range rules (9.9).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Errors of CompFilter.Check.
var (
	// ErrUnsupportedCollation: a text-match names a collation other than
	// i;ascii-casemap, i;octet or i;unicode-casemap (CALDAV:supported-collation).
	ErrUnsupportedCollation = errors.New("calendars: unsupported collation")
	// ErrInvalidFilter: the filter is malformed (CALDAV:valid-filter).
	ErrInvalidFilter = errors.New("calendars: invalid filter")
)

// Check validates a filter before use: the root must be VCALENDAR, every
// time-range must have a bound and Start < End, and collations must be
// supported.
func (f *CompFilter) Check() error {
	if f == nil || !strings.EqualFold(f.Name, "VCALENDAR") {
		return fmt.Errorf("%w: the root comp-filter must be VCALENDAR", ErrInvalidFilter)
	}
	return checkCompFilter(f, 0)
}

func checkCompFilter(f *CompFilter, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: comp-filters nested too deeply", ErrInvalidFilter)
	}
	if strings.TrimSpace(f.Name) == "" {
		return fmt.Errorf("%w: comp-filter without a name", ErrInvalidFilter)
	}
	if err := checkTimeRange(f.TimeRange); err != nil {
		return err
	}
	for i := range f.Props {
		p := &f.Props[i]
		if strings.TrimSpace(p.Name) == "" {
			return fmt.Errorf("%w: prop-filter without a name", ErrInvalidFilter)
		}
		if err := checkTimeRange(p.TimeRange); err != nil {
			return err
		}
		if err := checkTextMatch(p.TextMatch); err != nil {
			return err
		}
		for j := range p.Params {
			if strings.TrimSpace(p.Params[j].Name) == "" {
				return fmt.Errorf("%w: param-filter without a name", ErrInvalidFilter)
			}
			if err := checkTextMatch(p.Params[j].TextMatch); err != nil {
				return err
			}
		}
	}
	for i := range f.Comps {
		if err := checkCompFilter(&f.Comps[i], depth+1); err != nil {
			return err
		}
	}
	return nil
}

func checkTimeRange(tr *TimeRange) error {
	if tr == nil {
		return nil
	}
	if tr.Start.IsZero() && tr.End.IsZero() {
		return fmt.Errorf("%w: time-range without start or end", ErrInvalidFilter)
	}
	if !tr.Start.IsZero() && !tr.End.IsZero() && !tr.Start.Before(tr.End) {
		return fmt.Errorf("%w: time-range end not after start", ErrInvalidFilter)
	}
	return nil
}

func checkTextMatch(tm *TextMatch) error {
	if tm == nil {
		return nil
	}
	switch strings.ToLower(tm.Collation) {
	case "", "i;ascii-casemap", "i;octet", "i;unicode-casemap":
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnsupportedCollation, tm.Collation)
}

// Window returns the component named by the first comp-filter under
// VCALENDAR and the bounds of its time-range (zero: unbounded), so that the
// store can pre-select candidates whose span overlaps it; ok is false when
// there is no such time-range.
func (f *CompFilter) Window() (component string, start, end time.Time, ok bool) {
	if f == nil || len(f.Comps) == 0 {
		return "", time.Time{}, time.Time{}, false
	}
	c := &f.Comps[0]
	name := strings.ToUpper(c.Name)
	if c.IsNotDefined || c.TimeRange == nil {
		return "", time.Time{}, time.Time{}, false
	}
	switch name {
	case VEVENT, VTODO, VJOURNAL:
	default:
		return "", time.Time{}, time.Time{}, false
	}
	return name, c.TimeRange.Start, c.TimeRange.End, true
}

// Match reports whether the object passes the calendar-query filter (root
// comp-filter VCALENDAR; RFC 4791 9.7), evaluating time-ranges (9.9) on
// every occurrence of the recurrence set. floating is the time zone of
// floating times and dates (nil: UTC). The work stops when ctx ends, with
// its error.
func Match(ctx context.Context, data []byte, f *CompFilter, floating *time.Location) (bool, error) {
	if err := f.Check(); err != nil {
		return false, err
	}
	o, err := loadObject(ctx, data, ruleWork)
	if err != nil {
		return false, err
	}
	if floating == nil {
		floating = time.UTC
	}
	m := &matcher{o: o, f: floating}
	ok := m.matchRoot(f)
	if o.work.err != nil {
		return false, fmt.Errorf("matching the calendar object: %w", o.work.err)
	}
	return ok, nil
}

type matcher struct {
	o *calObject
	f *time.Location
}

func (m *matcher) matchRoot(f *CompFilter) bool {
	if !m.matchProps(m.o.root, f.Props) {
		return false
	}
	for i := range f.Comps {
		if !m.matchTop(&f.Comps[i]) {
			return false
		}
	}
	return true
}

// matchTop evaluates a comp-filter on the children of VCALENDAR.
func (m *matcher) matchTop(f *CompFilter) bool {
	name := strings.ToUpper(f.Name)
	o := m.o
	if name != o.kind {
		var n int
		found := false
		for _, c := range o.root.Children {
			if c.Name != name {
				continue
			}
			n++
			if !found && !f.IsNotDefined && m.matchComp(c, f, nil) {
				found = true
			}
		}
		if f.IsNotDefined {
			return n == 0
		}
		return found
	}
	if f.IsNotDefined {
		return false
	}
	if !hasTimeRange(f) {
		for _, c := range o.comps {
			if m.matchProps(c, f.Props) && m.matchSubs(c, f.Comps, nil) {
				return true
			}
		}
		return false
	}
	var from, to time.Time
	if f.TimeRange != nil {
		from, to = f.TimeRange.Start, f.TimeRange.End
	} else {
		from, to = m.alarmWindow(f)
	}
	found := false
	complete, _ := o.set.eachOccurrence(m.f, from, to, func(oc *occurrence) bool {
		if f.TimeRange != nil && !m.overlaps(oc, f.TimeRange.Start, f.TimeRange.End) {
			return true
		}
		if !m.matchProps(oc.comp, f.Props) || !m.matchSubs(oc.comp, f.Comps, oc) {
			return true
		}
		found = true
		return false
	})
	// When a work bound cut the enumeration short, answer yes: a spurious
	// result costs less than a missing meeting.
	return found || !complete
}

// hasTimeRange reports whether f or a nested comp-filter has a time-range.
func hasTimeRange(f *CompFilter) bool {
	if f.TimeRange != nil {
		return true
	}
	for i := range f.Comps {
		if hasTimeRange(&f.Comps[i]) {
			return true
		}
	}
	return false
}

// alarmWindow bounds the instances whose alarms can fall into the nested
// time-ranges of f.
func (m *matcher) alarmWindow(f *CompFilter) (from, to time.Time) {
	var lo, hi time.Time
	loInf, hiInf, any := false, false, false
	var walk func(f *CompFilter)
	walk = func(f *CompFilter) {
		for i := range f.Comps {
			c := &f.Comps[i]
			if tr := c.TimeRange; tr != nil {
				if tr.Start.IsZero() {
					loInf = true
				} else if !any || tr.Start.Before(lo) {
					lo = tr.Start
				}
				if tr.End.IsZero() {
					hiInf = true
				} else if !any || tr.End.After(hi) {
					hi = tr.End
				}
				any = true
			}
			walk(c)
		}
	}
	walk(f)
	if !any {
		return time.Time{}, time.Time{}
	}
	slack := m.alarmSlack()
	if !loInf {
		from = lo.Add(-slack)
	}
	if !hiInf {
		to = hi.Add(slack)
	}
	return from, to
}

// alarmSlack is the largest distance between an alarm and its instance.
func (m *matcher) alarmSlack() time.Duration {
	slack := 48 * time.Hour
	for _, c := range m.o.comps {
		for _, a := range c.Children {
			if a.Name != "VALARM" {
				continue
			}
			p := a.prop("TRIGGER")
			if p == nil || strings.EqualFold(p.param("VALUE"), "DATE-TIME") {
				continue
			}
			d, err := parseDuration(strings.TrimSpace(p.Value))
			if err != nil {
				continue
			}
			s := d.approx()
			if s < 0 {
				s = -s
			}
			if rp := a.prop("REPEAT"); rp != nil {
				if n, ok := smallInt(strings.TrimSpace(rp.Value)); ok {
					if dp := a.prop("DURATION"); dp != nil {
						if rd, err := parseDuration(strings.TrimSpace(dp.Value)); err == nil {
							s += n * abs64(rd.approx())
						}
					}
				}
			}
			if x := time.Duration(s)*time.Second + 48*time.Hour; x > slack && s < 1<<32 {
				slack = x
			}
		}
	}
	return slack
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// matchComp evaluates a comp-filter on one component other than the
// object's main ones (VALARM, VTIMEZONE, …).
func (m *matcher) matchComp(c *calComp, f *CompFilter, oc *occurrence) bool {
	if f.TimeRange != nil {
		if c.Name != "VALARM" || oc == nil || !m.alarmOverlaps(c, oc, f.TimeRange) {
			return false
		}
	}
	return m.matchProps(c, f.Props) && m.matchSubs(c, f.Comps, oc)
}

// matchSubs evaluates nested comp-filters on the children of c.
func (m *matcher) matchSubs(c *calComp, fs []CompFilter, oc *occurrence) bool {
	for i := range fs {
		f := &fs[i]
		name := strings.ToUpper(f.Name)
		n := 0
		found := false
		for _, ch := range c.Children {
			if ch.Name != name {
				continue
			}
			n++
			if !f.IsNotDefined && m.matchComp(ch, f, oc) {
				found = true
				break
			}
		}
		if f.IsNotDefined {
			if n > 0 {
				return false
			}
			continue
		}
		if !found {
			return false
		}
	}
	return true
}

// matchProps evaluates prop-filters on c (RFC 4791 9.7.2).
func (m *matcher) matchProps(c *calComp, pfs []PropFilter) bool {
	for i := range pfs {
		pf := &pfs[i]
		name := strings.ToUpper(pf.Name)
		found := false
		n := 0
		for j := range c.Props {
			p := &c.Props[j]
			if p.Name != name {
				continue
			}
			n++
			if pf.IsNotDefined {
				break
			}
			if pf.TimeRange != nil && !m.propOverlaps(p, pf.TimeRange) {
				continue
			}
			if pf.TextMatch != nil && !textMatches(unescapeText(p.Value), pf.TextMatch) {
				continue
			}
			if !matchParams(p, pf.Params) {
				continue
			}
			found = true
			break
		}
		if pf.IsNotDefined {
			if n > 0 {
				return false
			}
			continue
		}
		if !found {
			return false
		}
	}
	return true
}

// matchParams evaluates param-filters on one property (RFC 4791 9.7.3).
func matchParams(p *calProp, pfs []ParamFilter) bool {
	for i := range pfs {
		pf := &pfs[i]
		name := strings.ToUpper(pf.Name)
		var values []string
		found := false
		for _, pa := range p.Params {
			if pa.Name == name {
				found = true
				values = append(values, pa.Values...)
			}
		}
		if pf.IsNotDefined {
			if found {
				return false
			}
			continue
		}
		if !found {
			return false
		}
		if pf.TextMatch != nil {
			ok := false
			for _, v := range values {
				if textMatches(v, pf.TextMatch) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

var unicodeFold = cases.Fold()

// textMatches applies a text-match (RFC 4791 9.7.5: substring match under
// the collation, negated on request).
func textMatches(s string, tm *TextMatch) bool {
	var r bool
	switch strings.ToLower(tm.Collation) {
	case "i;octet":
		r = strings.Contains(s, tm.Text)
	case "i;unicode-casemap":
		r = strings.Contains(unicodeCasemap(s), unicodeCasemap(tm.Text))
	default:
		r = strings.Contains(asciiUpper(s), asciiUpper(tm.Text))
	}
	return r != tm.Negate
}

// unicodeCasemap approximates RFC 5051: case folding, then NFKD.
func unicodeCasemap(s string) string {
	return norm.NFKD.String(unicodeFold.String(s))
}

func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ---- time-range ----

func beforeOrUnbounded(a, x time.Time) bool    { return a.IsZero() || a.Before(x) }  // a < x
func notAfterOrUnbounded(a, x time.Time) bool  { return a.IsZero() || !a.After(x) }  // a <= x
func afterOrUnbounded(b, x time.Time) bool     { return b.IsZero() || b.After(x) }   // b > x
func notBeforeOrUnbounded(b, x time.Time) bool { return b.IsZero() || !b.Before(x) } // b >= x

// overlaps applies the time-range rules of RFC 4791 9.9 to an occurrence
// of the object's component type; a, b are the range (zero: unbounded).
func (m *matcher) overlaps(oc *occurrence, a, b time.Time) bool {
	f := m.f
	switch m.o.kind {
	case VEVENT, VJOURNAL:
		if !oc.hasStart {
			return false
		}
		s := oc.start.at(f)
		e, ok := oc.endAt(f)
		if ok && e.After(s) {
			return beforeOrUnbounded(a, e) && afterOrUnbounded(b, s)
		}
		return notAfterOrUnbounded(a, s) && afterOrUnbounded(b, s)
	}
	// VTODO
	t := oc.t
	if oc.hasStart {
		s := oc.start.at(f)
		e, ok := oc.endAt(f)
		switch {
		case ok && t.hasDur && !t.hasEnd && oc.period == nil:
			// DTSTART + DURATION
			return notAfterOrUnbounded(a, e) && (afterOrUnbounded(b, s) || notBeforeOrUnbounded(b, e))
		case ok:
			// DTSTART + DUE
			return (beforeOrUnbounded(a, e) || notAfterOrUnbounded(a, s)) && (afterOrUnbounded(b, s) || notBeforeOrUnbounded(b, e))
		}
		return notAfterOrUnbounded(a, s) && afterOrUnbounded(b, s)
	}
	if t.hasEnd {
		due := t.end.at(f)
		return beforeOrUnbounded(a, due) && notBeforeOrUnbounded(b, due)
	}
	switch {
	case t.hasCompleted && t.hasCreated:
		c, cr := t.completed.at(f), t.created.at(f)
		return (notAfterOrUnbounded(a, cr) || notAfterOrUnbounded(a, c)) && (notBeforeOrUnbounded(b, cr) || notBeforeOrUnbounded(b, c))
	case t.hasCompleted:
		c := t.completed.at(f)
		return notAfterOrUnbounded(a, c) && notBeforeOrUnbounded(b, c)
	case t.hasCreated:
		return afterOrUnbounded(b, t.created.at(f))
	}
	return true
}

// propOverlaps applies a prop-filter time-range to a DATE, DATE-TIME or
// PERIOD valued property.
func (m *matcher) propOverlaps(p *calProp, tr *TimeRange) bool {
	vals, pers, err := m.o.parseDTList(p, true)
	if err != nil {
		return false
	}
	a, b := tr.Start, tr.End
	for i, v := range vals {
		s := v.at(m.f)
		switch {
		case pers[i] != nil:
			var e time.Time
			if pers[i].hasEnd {
				e = pers[i].end.at(m.f)
			} else {
				e = pers[i].dur.addTo(v, m.f)
			}
			if e.After(s) {
				if beforeOrUnbounded(a, e) && afterOrUnbounded(b, s) {
					return true
				}
			} else if notAfterOrUnbounded(a, s) && afterOrUnbounded(b, s) {
				return true
			}
		case v.Date:
			e := icalDuration{Days: 1}.addTo(v, m.f)
			if beforeOrUnbounded(a, e) && afterOrUnbounded(b, s) {
				return true
			}
		default:
			if notAfterOrUnbounded(a, s) && afterOrUnbounded(b, s) {
				return true
			}
		}
	}
	return false
}

// alarmOverlaps reports whether a trigger of the alarm (repetitions
// included) falls into the range (RFC 4791 9.9: start <= trigger < end).
func (m *matcher) alarmOverlaps(a *calComp, oc *occurrence, tr *TimeRange) bool {
	p := a.prop("TRIGGER")
	if p == nil {
		return false
	}
	var first time.Time
	if strings.EqualFold(p.param("VALUE"), "DATE-TIME") || (len(p.Value) >= 15 && !strings.ContainsAny(p.Value, "Pp")) {
		v, err := parseDTString(strings.TrimSpace(p.Value), "DATE-TIME", time.UTC)
		if err != nil {
			return false
		}
		first = v.at(m.f)
	} else {
		d, err := parseDuration(strings.TrimSpace(p.Value))
		if err != nil || !oc.hasStart {
			return false
		}
		base := oc.start.at(m.f)
		if strings.EqualFold(p.param("RELATED"), "END") {
			e, ok := oc.endAt(m.f)
			if !ok {
				return false
			}
			base = e
		}
		first = base.AddDate(0, 0, int(d.Days)).Add(time.Duration(d.Secs) * time.Second)
	}
	in := func(t time.Time) bool {
		return notAfterOrUnbounded(tr.Start, t) && afterOrUnbounded(tr.End, t)
	}
	if in(first) {
		return true
	}
	if rp := a.prop("REPEAT"); rp != nil {
		n, ok := smallInt(strings.TrimSpace(rp.Value))
		dp := a.prop("DURATION")
		if !ok || dp == nil {
			return false
		}
		d, err := parseDuration(strings.TrimSpace(dp.Value))
		if err != nil || !d.positive() {
			return false
		}
		step := time.Duration(d.approx()) * time.Second
		if n > 1000 {
			n = 1000
		}
		t := first
		for i := int64(0); i < n; i++ {
			t = t.Add(step)
			if in(t) {
				return true
			}
		}
	}
	return false
}
