package calendars

// calendar-data expand and limit-recurrence-set (RFC 4791 9.6.5, 9.6.6).

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Expand returns the object with its recurrence set replaced by one
// component per occurrence overlapping [start, end) (RFC 4791 9.6.5, with
// the overlap rules of 9.9): each has a RECURRENCE-ID and its DTSTART and
// DTEND (VTODO: DUE) in UTC, DATE values staying DATEs; RRULE, RDATE and
// EXDATE are removed; overrides keep their own properties. VTIMEZONEs are
// dropped. A non-recurring object is returned whole with its date-times
// converted to UTC. floating is the zone of floating times (nil: UTC).
// truncated reports that the answer holds only the first instances: the
// window has more than maxExpand, or enumerating them ran out of work.
// The work stops when ctx ends, with its error.
func Expand(ctx context.Context, data []byte, start, end time.Time, floating *time.Location) (out []byte, truncated bool, err error) {
	o, err := loadObject(ctx, data, ruleWork)
	if err != nil {
		return nil, false, err
	}
	if floating == nil {
		floating = time.UTC
	}
	x := &expander{o: o, f: floating}
	cal := &calComp{Name: "VCALENDAR", Props: o.root.clone().Props}
	s := o.set
	recurring := len(o.overrides) > 0 || (s.master != nil && (s.rule != nil || len(s.rdates) > 0))
	if !recurring {
		for _, c := range o.root.Children {
			if c.Name == "VTIMEZONE" {
				continue
			}
			if c == o.master && s.mt.hasStart && inRange(s.mt.start.at(floating)) && x.endInRange(s.mt) {
				// DTEND replaces DURATION, whose days would be nominal in UTC.
				oc := occurrence{comp: c, t: s.mt, start: s.mt.start, hasStart: true}
				cal.Children = append(cal.Children, x.instance(&oc, false))
				continue
			}
			cc := c.clone()
			x.toUTC(cc)
			cal.Children = append(cal.Children, cc)
		}
		return encodeComp(cal), false, nil
	}
	for _, c := range o.root.Children {
		if c.Name != "VTIMEZONE" && c.Name != o.kind {
			cc := c.clone()
			x.toUTC(cc)
			cal.Children = append(cal.Children, cc)
		}
	}
	m := &matcher{o: o, f: floating}
	// Instances are built only as they are written; until then a rule
	// instance is its start, anything else a copy of its occurrence.
	type inst struct {
		start, rid int64 // Unix seconds
		wall       int64 // of a rule instance
		oc         *occurrence
	}
	var insts []inst
	complete, _ := s.eachOccurrence(floating, start, end, func(oc *occurrence) bool {
		if !m.overlaps(oc, start, end) {
			return true
		}
		var st time.Time
		if oc.hasStart {
			st = oc.start.at(floating)
		}
		rid := oc.rid.at(floating)
		if !inRange(st) || !inRange(rid) {
			return true // not representable as a DATE-TIME
		}
		if e, ok := oc.endAt(floating); ok && !inRange(e) {
			return true
		}
		if len(insts) == maxExpand {
			truncated = true
			return false
		}
		in := inst{start: st.Unix(), rid: rid.Unix(), wall: oc.start.Wall}
		if !oc.fromRule {
			c := *oc
			in.oc = &c
		}
		insts = append(insts, in)
		return true
	})
	if o.work.err != nil {
		return nil, false, fmt.Errorf("expanding the calendar object: %w", o.work.err)
	}
	sort.SliceStable(insts, func(i, j int) bool {
		if insts[i].start != insts[j].start {
			return insts[i].start < insts[j].start
		}
		return insts[i].rid < insts[j].rid
	})
	var b bytes.Buffer
	writeLine(&b, "BEGIN:VCALENDAR")
	for i := range cal.Props {
		writeProp(&b, &cal.Props[i])
	}
	for _, c := range cal.Children {
		writeComp(&b, c)
	}
	seen := map[int64]bool{}
	var c calComp // reused: written at once
	for i, in := range insts {
		if seen[in.rid] {
			continue
		}
		seen[in.rid] = true
		oc := in.oc
		if oc == nil {
			ro := s.ruleOccurrence(in.wall)
			oc = &ro
		}
		n := b.Len()
		x.build(&c, oc, true)
		writeComp(&b, &c)
		if i == 0 {
			b.Grow((b.Len() - n) * (len(insts) - 1))
		}
	}
	writeLine(&b, "END:VCALENDAR")
	return b.Bytes(), truncated || !complete, nil
}

func (x *expander) endInRange(t *compTiming) bool {
	oc := occurrence{comp: x.o.master, t: t, start: t.start, hasStart: true}
	e, ok := oc.endAt(x.f)
	return !ok || inRange(e)
}

// inRange reports whether t can be written as a UTC DATE-TIME.
func inRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// maxExpand caps the instances one Expand returns, and the busy periods of
// one object.
const maxExpand = 20000

func encodeComp(c *calComp) []byte {
	var b bytes.Buffer
	writeComp(&b, c)
	return b.Bytes()
}

type expander struct {
	o    *calObject
	f    *time.Location
	tmpl map[*calComp]*instTemplate
}

// value renders a DATE or DATE-TIME for an expanded instance.
func (x *expander) value(name string, v dtValue) calProp {
	if v.Date {
		return calProp{Name: name, Params: []calParam{{Name: "VALUE", Values: []string{"DATE"}}}, Value: formatDate(v.day())}
	}
	return calProp{Name: name, Value: formatUTC(v.at(x.f))}
}

func (x *expander) instantProp(name string, t time.Time, date bool) calProp {
	if date {
		return calProp{Name: name, Params: []calParam{{Name: "VALUE", Values: []string{"DATE"}}}, Value: formatDate(floorDiv(toWall(t), 86400))}
	}
	return calProp{Name: name, Value: formatUTC(t)}
}

// instance builds the component of one occurrence (with a RECURRENCE-ID
// when withRID).
func (x *expander) instance(oc *occurrence, withRID bool) *calComp {
	c := &calComp{}
	x.build(c, oc, withRID)
	return c
}

// build makes c the component of one occurrence (with a RECURRENCE-ID when
// withRID), reusing c's property slice.
func (x *expander) build(c *calComp, oc *occurrence, withRID bool) {
	if oc.override {
		*c = *oc.comp.clone()
		x.toUTC(c)
		if c.prop("DTSTART") == nil && oc.hasStart {
			c.Props = append([]calProp{x.value("DTSTART", oc.start)}, c.Props...)
		}
		x.fixDuration(c, oc)
		return
	}
	tp := x.template(oc.comp, oc.t)
	// The template is only read: the instance shares its children and
	// property values, and gets properties of its own.
	*c = calComp{Name: tp.c.Name, Line: tp.c.Line, Children: tp.c.Children, Props: c.Props[:0]}
	t := oc.t
	endName := "DTEND"
	if c.Name == VTODO {
		endName = "DUE"
	}
	var buf [3]calProp
	ins := append(buf[:0], x.value("DTSTART", oc.start))
	if withRID {
		ins = append(ins, x.value("RECURRENCE-ID", oc.rid))
	}
	if t.hasEnd || (c.Name == VEVENT && t.hasDur) || oc.period != nil {
		if e, ok := oc.endAt(x.f); ok {
			// a DATE only when both ends are dates (a DATE-TIME end of a
			// DATE start, invalid but seen, stays exact)
			date := oc.start.Date && oc.period == nil && (!t.hasEnd || t.end.Date) && (!t.hasDur || t.dur.Secs == 0)
			ins = append(ins, x.instantProp(endName, e, date))
		}
	}
	props := append(c.Props, tp.c.Props[:tp.at]...)
	props = append(props, ins...)
	c.Props = append(props, tp.c.Props[tp.at:]...)
	x.fixDuration(c, oc)
}

// fixDuration rewrites a DURATION whose days are nominal in the instance's
// zone, which a DTSTART in UTC would change: a VEVENT gets a DTEND in UTC
// instead, a VTODO an exact DURATION.
func (x *expander) fixDuration(c *calComp, oc *occurrence) {
	t := oc.t
	if !t.hasDur || t.hasEnd || !oc.hasStart || oc.period != nil {
		return
	}
	e, ok := oc.endAt(x.f)
	if !ok || !inRange(e) {
		return
	}
	for i := range c.Props {
		p := &c.Props[i]
		if p.Name != "DURATION" {
			continue
		}
		if c.Name == VEVENT {
			*p = x.instantProp("DTEND", e, oc.start.Date && t.dur.Secs == 0)
		} else if t.dur.Days != 0 && !oc.start.Date {
			secs := int64(e.Sub(oc.start.at(x.f)) / time.Second)
			if secs < 0 {
				p.Value = "-PT" + itoa(-secs) + "S"
			} else {
				p.Value = "PT" + itoa(secs) + "S"
			}
			p.Params = nil
		}
		return
	}
}

// instTemplate is a master component prepared for its instances: without
// recurrence properties, DTSTART, DTEND/DUE (and a VEVENT's DURATION),
// converted to UTC; at is where DTSTART goes.
type instTemplate struct {
	c  *calComp
	at int
}

func (x *expander) template(c *calComp, t *compTiming) *instTemplate {
	if tp := x.tmpl[c]; tp != nil {
		return tp
	}
	endName := "DTEND"
	if c.Name == VTODO {
		endName = "DUE"
	}
	cc := c.clone()
	at := 0
	props := cc.Props[:0]
	for _, p := range cc.Props {
		switch p.Name {
		case "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", endName:
			continue
		case "DURATION":
			if c.Name == VEVENT && (t.hasEnd || t.hasDur) {
				continue
			}
		case "DTSTART":
			at = len(props)
			continue
		}
		props = append(props, p)
	}
	cc.Props = props
	x.toUTC(cc)
	tp := &instTemplate{c: cc, at: at}
	if x.tmpl == nil {
		x.tmpl = map[*calComp]*instTemplate{}
	}
	x.tmpl[c] = tp
	return tp
}

// utcProps are the date-time properties converted to UTC (besides any
// property with a TZID).
var utcProps = map[string]bool{"DTSTART": true, "DTEND": true, "DUE": true, "RECURRENCE-ID": true,
	"EXDATE": true, "RDATE": true, "COMPLETED": true, "CREATED": true, "DTSTAMP": true, "LAST-MODIFIED": true}

// toUTC rewrites DATE-TIME values with a TZID, and floating ones, in UTC.
func (x *expander) toUTC(c *calComp) {
	for i := range c.Props {
		p := &c.Props[i]
		if !utcProps[p.Name] && !p.hasParam("TZID") {
			continue
		}
		if p.Name == "RECURRENCE-ID" {
			p.delParam("RANGE")
		}
		vals, pers, err := x.o.parseDTList(p, true)
		if err != nil || len(vals) == 0 {
			continue
		}
		var parts []string
		changed := false
		for j, v := range vals {
			if v.Date {
				parts = append(parts, formatDate(v.day()))
				continue
			}
			if v.Loc != time.UTC {
				changed = true
			}
			at := v.at(x.f)
			if !inRange(at) {
				changed = false
				break
			}
			s := formatUTC(at)
			if per := pers[j]; per != nil {
				e := per.dur.addTo(v, x.f)
				if per.hasEnd {
					e = per.end.at(x.f)
				}
				if !inRange(e) {
					changed = false
					break
				}
				s += "/" + formatUTC(e)
				changed = true
			}
			parts = append(parts, s)
		}
		if changed && len(parts) == len(vals) {
			p.Value = strings.Join(parts, ",")
		}
		// No VTIMEZONE is left to refer to (values out of the range of
		// DATE-TIME stay as they are, floating).
		p.delParam("TZID")
	}
	for _, ch := range c.Children {
		x.toUTC(ch)
	}
}

// LimitRecurrenceSet returns the object with the master component and only
// the overridden components that impact [start, end) (RFC 4791 9.6.6):
// those whose new or original time overlaps the range. Everything else
// (VTIMEZONEs included) is kept byte for byte.
func LimitRecurrenceSet(ctx context.Context, data []byte, start, end time.Time, floating *time.Location) ([]byte, error) {
	o, err := loadObject(ctx, data, ruleWork)
	if err != nil {
		return nil, err
	}
	if len(o.overrides) == 0 {
		return data, nil
	}
	if floating == nil {
		floating = time.UTC
	}
	m := &matcher{o: o, f: floating}
	var drop []*calComp
	for i := range o.set.overrides {
		oc := &o.set.overrides[i]
		if m.overlaps(oc, start, end) {
			continue
		}
		if o.master != nil && o.masterT.hasStart {
			orig := occurrence{comp: o.master, t: o.masterT, start: oc.rid, hasStart: true, rid: oc.rid, hasRID: true}
			if m.overlaps(&orig, start, end) {
				continue
			}
		}
		drop = append(drop, oc.comp)
	}
	if len(drop) == 0 {
		return data, nil
	}
	sort.Slice(drop, func(i, j int) bool { return drop[i].Begin < drop[j].Begin })
	var b bytes.Buffer
	b.Grow(len(data))
	pos := 0
	for _, c := range drop {
		b.Write(data[pos:c.Begin])
		pos = c.End
	}
	b.Write(data[pos:])
	return b.Bytes(), nil
}

// itoa is strconv.Itoa for int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
