package calendars

// calendar-data expand and limit-recurrence-set (RFC 4791 9.6.5, 9.6.6).

import (
	"bytes"
	"sort"
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
func Expand(data []byte, start, end time.Time, floating *time.Location) ([]byte, error) {
	o, err := loadObject(data)
	if err != nil {
		return nil, err
	}
	if floating == nil {
		floating = time.UTC
	}
	x := &expander{o: o, f: floating}
	out := &calComp{Name: "VCALENDAR", Props: o.root.clone().Props}
	s := o.set
	recurring := len(o.overrides) > 0 || (s.master != nil && (s.rule != nil || len(s.rdates) > 0))
	if !recurring {
		for _, c := range o.root.Children {
			if c.Name == "VTIMEZONE" {
				continue
			}
			cc := c.clone()
			x.toUTC(cc)
			out.Children = append(out.Children, cc)
		}
		return encodeComp(out), nil
	}
	for _, c := range o.root.Children {
		if c.Name != "VTIMEZONE" && c.Name != o.kind {
			cc := c.clone()
			x.toUTC(cc)
			out.Children = append(out.Children, cc)
		}
	}
	m := &matcher{o: o, f: floating}
	type inst struct {
		start time.Time
		rid   time.Time
		comp  *calComp
	}
	var insts []inst
	s.eachOccurrence(floating, start, end, func(oc *occurrence) bool {
		if !m.overlaps(oc, start, end) {
			return true
		}
		var st time.Time
		if oc.hasStart {
			st = oc.start.at(floating)
		}
		insts = append(insts, inst{start: st, rid: oc.rid.at(floating), comp: x.instance(oc)})
		return len(insts) < maxExpand
	})
	sort.SliceStable(insts, func(i, j int) bool {
		if !insts[i].start.Equal(insts[j].start) {
			return insts[i].start.Before(insts[j].start)
		}
		return insts[i].rid.Before(insts[j].rid)
	})
	seen := map[int64]bool{}
	for _, in := range insts {
		k := in.rid.Unix()
		if seen[k] {
			continue
		}
		seen[k] = true
		out.Children = append(out.Children, in.comp)
	}
	return encodeComp(out), nil
}

// maxExpand caps the instances one Expand returns.
const maxExpand = 20000

func encodeComp(c *calComp) []byte {
	var b bytes.Buffer
	writeComp(&b, c)
	return b.Bytes()
}

type expander struct {
	o *calObject
	f *time.Location
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

// instance builds the component of one occurrence.
func (x *expander) instance(oc *occurrence) *calComp {
	c := oc.comp.clone()
	if oc.override {
		x.toUTC(c)
		if c.prop("DTSTART") == nil && oc.hasStart {
			c.Props = append([]calProp{x.value("DTSTART", oc.start)}, c.Props...)
		}
		return c
	}
	t := oc.t
	endName := "DTEND"
	if c.Name == VTODO {
		endName = "DUE"
	}
	writeEnd := t.hasEnd || (c.Name == VEVENT && t.hasDur) || oc.period != nil
	var props []calProp
	for _, p := range c.Props {
		switch p.Name {
		case "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID":
			continue
		case "DURATION":
			if c.Name == VEVENT && writeEnd {
				continue
			}
		case endName:
			continue
		case "DTSTART":
			props = append(props, x.value("DTSTART", oc.start), x.value("RECURRENCE-ID", oc.rid))
			if writeEnd {
				if e, ok := oc.endAt(x.f); ok {
					props = append(props, x.instantProp(endName, e, oc.start.Date))
				}
			}
			continue
		}
		props = append(props, p)
	}
	c.Props = props
	x.toUTC(c)
	return c
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
			s := formatUTC(v.at(x.f))
			if per := pers[j]; per != nil {
				if per.hasEnd {
					s += "/" + formatUTC(per.end.at(x.f))
				} else {
					s += "/" + formatUTC(per.dur.addTo(v, x.f))
				}
				changed = true
			}
			parts = append(parts, s)
		}
		if changed {
			p.Value = strings.Join(parts, ",")
			p.delParam("TZID")
		}
	}
	for _, ch := range c.Children {
		x.toUTC(ch)
	}
}

// LimitRecurrenceSet returns the object with the master component and only
// the overridden components that impact [start, end) (RFC 4791 9.6.6):
// those whose new or original time overlaps the range. Everything else
// (VTIMEZONEs included) is kept byte for byte.
func LimitRecurrenceSet(data []byte, start, end time.Time, floating *time.Location) ([]byte, error) {
	o, err := loadObject(data)
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
