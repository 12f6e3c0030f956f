package calendars

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// compTiming holds the date-time properties of one VEVENT/VTODO/VJOURNAL.
type compTiming struct {
	start    dtValue
	hasStart bool
	end      dtValue // DTEND (VEVENT) or DUE (VTODO)
	hasEnd   bool
	dur      icalDuration
	hasDur   bool
	rid      dtValue
	hasRID   bool
	future   bool // RANGE=THISANDFUTURE
	// VTODO
	completed    dtValue
	hasCompleted bool
	created      dtValue
	hasCreated   bool
}

// calObject is a parsed, checked calendar object resource.
type calObject struct {
	root      *calComp
	kind      string
	uid       string
	comps     []*calComp // the VEVENT/VTODO/VJOURNAL components, in order
	timings   []*compTiming
	master    *calComp // nil when only overrides were sent
	masterT   *compTiming
	overrides []*calComp
	zones     *zoneResolver
	set       *recurSet
	floats    bool  // some value depends on the floating time zone
	work      *work // the budget of the operation on the object
}

// timing returns the timing of one of the object's main components.
func (o *calObject) timing(c *calComp) *compTiming {
	for i, x := range o.comps {
		if x == c {
			return o.timings[i]
		}
	}
	return nil
}

// Validate checks an object PUT into a calendar collection (RFC 4791 4.1,
// 5.3.2.1) and computes its Info, span included. allowed lists the
// collection's supported components (empty: VEVENT, VTODO, VJOURNAL);
// floating is the collection's time zone for floating times (nil: UTC).
// An object whose rules cannot be expanded within the work budget is
// refused. Errors are *ValidationError, or ctx's error when it ended.
func Validate(ctx context.Context, data []byte, allowed []string, floating *time.Location) (Info, error) {
	o, err := loadObject(ctx, data, validateWork)
	if err != nil {
		return Info{}, err
	}
	if len(allowed) > 0 {
		ok := false
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSpace(a), o.kind) {
				ok = true
				break
			}
		}
		if !ok {
			return Info{}, &ValidationError{Line: o.comps[0].Line, Condition: "supported-calendar-component",
				Msg: o.kind + " is not supported by this collection"}
		}
	}
	info := Info{UID: o.uid, Component: o.kind}
	info.Start, info.End = o.span()
	if err := o.expandable(); err != nil {
		return Info{}, err
	}
	return info, nil
}

// expandable refuses a rule that cannot be expanded within the budget. A
// query can jump to its window in a rule without COUNT, but must count its
// way there from DTSTART in a COUNT rule: such a rule must reach its end
// here, with half the budget of a query. (The span has already walked a
// COUNT of up to maxSpanCount.)
func (o *calObject) expandable() error {
	s := o.set
	if s.rule != nil && s.rule.count > maxSpanCount {
		newRuleIter(s.rule, s.mt.start, o.work).seek(maxWall + 1)
	}
	if o.work.err != nil {
		return fmt.Errorf("validating the calendar object: %w", o.work.err)
	}
	if o.work.left >= 0 {
		return nil
	}
	if p := o.master.prop("RRULE"); p != nil { // only the master's rule spends work
		return dataError(p.Line, "RRULE %s: its instances cannot be computed within the server's limit of %d steps; "+
			"a smaller COUNT, an UNTIL or a coarser FREQ would do", ruleText(p.Value), validateWork)
	}
	return dataError(0, "the recurrence cannot be computed within the server's limit of %d steps", validateWork)
}

// ruleText shortens a rule for a message.
func ruleText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// loadObject parses and checks a calendar object resource: everything
// Validate checks except the collection's component set. The work it and
// later enumerations over the object may do is units, ending with ctx.
func loadObject(ctx context.Context, data []byte, units int64) (*calObject, error) {
	tops, err := parseICS(data)
	if err != nil {
		return nil, err
	}
	if len(tops) == 0 {
		return nil, dataError(0, "no iCalendar object")
	}
	for _, t := range tops {
		if t.Name != "VCALENDAR" {
			return nil, dataError(t.Line, "expected BEGIN:VCALENDAR, got BEGIN:%s", t.Name)
		}
	}
	if len(tops) > 1 {
		return nil, objectError(tops[1].Line, "more than one VCALENDAR")
	}
	root := tops[0]
	o := &calObject{root: root, work: newWork(ctx, units)}
	for i := range root.Props {
		p := &root.Props[i]
		switch p.Name {
		case "METHOD":
			return nil, objectError(p.Line, "METHOD is not allowed in a calendar collection")
		case "VERSION":
			if v := strings.TrimSpace(p.Value); v != "2.0" {
				return nil, dataError(p.Line, "unsupported VERSION %q", p.Value)
			}
		}
	}
	for _, c := range root.Children {
		if c.Name == "VTIMEZONE" {
			if c.prop("TZID") == nil {
				return nil, dataError(c.Line, "VTIMEZONE without TZID")
			}
			continue
		}
		if len(o.comps) > 0 && c.Name != o.comps[0].Name {
			return nil, objectError(c.Line, "%s and %s in one calendar object resource", o.comps[0].Name, c.Name)
		}
		o.comps = append(o.comps, c)
	}
	if len(o.comps) == 0 {
		return nil, objectError(root.Line, "no VEVENT, VTODO or VJOURNAL")
	}
	o.kind = o.comps[0].Name
	switch o.kind {
	case VEVENT, VTODO, VJOURNAL:
	default:
		return nil, &ValidationError{Line: o.comps[0].Line, Condition: "supported-calendar-component",
			Msg: o.kind + " is not supported in a calendar collection"}
	}
	for i, c := range o.comps {
		n := c.count("UID")
		if n == 0 {
			return nil, objectError(c.Line, "%s without UID", c.Name)
		}
		if n > 1 {
			return nil, objectError(c.prop("UID").Line, "more than one UID")
		}
		uid := c.text("UID")
		if i == 0 {
			o.uid = uid
			if strings.TrimSpace(uid) == "" {
				return nil, objectError(c.prop("UID").Line, "empty UID")
			}
		} else if uid != o.uid {
			return nil, objectError(c.prop("UID").Line, "components with different UIDs (%q, %q)", o.uid, uid)
		}
	}
	o.zones = newZoneResolver(root, o.work)
	// Every TZID used must resolve.
	var checkTZ func(c *calComp) error
	checkTZ = func(c *calComp) error {
		for i := range c.Props {
			if c.Props[i].hasParam("TZID") {
				if _, err := o.propZone(&c.Props[i]); err != nil {
					return err
				}
			}
		}
		for _, ch := range c.Children {
			if err := checkTZ(ch); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range o.comps {
		if err := checkTZ(c); err != nil {
			if o.work.err != nil {
				return nil, fmt.Errorf("loading the calendar object: %w", o.work.err)
			}
			return nil, err
		}
	}
	var rids instSet
	for _, c := range o.comps {
		t, err := o.parseTiming(c)
		if err != nil {
			return nil, err
		}
		o.timings = append(o.timings, t)
		if !t.hasRID {
			if o.master != nil {
				return nil, objectError(c.Line, "two %s components without RECURRENCE-ID", c.Name)
			}
			o.master, o.masterT = c, t
			continue
		}
		if _, dup := rids.find(t.rid); dup {
			return nil, objectError(c.prop("RECURRENCE-ID").Line, "two components with the same RECURRENCE-ID")
		}
		rids.add(t.rid, len(o.overrides))
		o.overrides = append(o.overrides, c)
	}
	if err := o.buildSet(); err != nil {
		return nil, err
	}
	return o, nil
}

// parseTiming reads DTSTART, DTEND/DUE, DURATION, RECURRENCE-ID,
// COMPLETED and CREATED.
func (o *calObject) parseTiming(c *calComp) (*compTiming, error) {
	t := &compTiming{}
	for _, name := range []string{"DTSTART", "DTEND", "DUE", "DURATION", "RECURRENCE-ID"} {
		if c.count(name) > 1 {
			var lines []int
			for i := range c.Props {
				if c.Props[i].Name == name {
					lines = append(lines, c.Props[i].Line)
				}
			}
			return nil, dataError(lines[1], "%s more than once in %s", name, c.Name)
		}
	}
	endName := "DTEND"
	if c.Name == VTODO {
		endName = "DUE"
	}
	for i := range c.Props {
		p := &c.Props[i]
		var err error
		switch p.Name {
		case "DTSTART":
			if !t.hasStart {
				t.start, err = o.parseDTProp(p)
				t.hasStart = true
			}
		case endName:
			if c.Name == VJOURNAL {
				continue
			}
			if !t.hasEnd {
				t.end, err = o.parseDTProp(p)
				t.hasEnd = true
			}
		case "DURATION":
			if c.Name == VJOURNAL {
				continue
			}
			if !t.hasDur {
				t.dur, err = parseDuration(strings.TrimSpace(p.Value))
				if err != nil {
					return nil, dataError(p.Line, "DURATION: bad value %q", p.Value)
				}
				t.hasDur = true
			}
		case "RECURRENCE-ID":
			if !t.hasRID {
				t.rid, err = o.parseDTProp(p)
				t.hasRID = true
				t.future = strings.EqualFold(p.param("RANGE"), "THISANDFUTURE")
			}
		case "COMPLETED":
			if c.Name == VTODO && !t.hasCompleted {
				t.completed, err = o.parseDTProp(p)
				t.hasCompleted = true
			}
		case "CREATED":
			if c.Name == VTODO && !t.hasCreated {
				t.created, err = o.parseDTProp(p)
				t.hasCreated = true
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if t.hasEnd && t.hasDur {
		t.hasDur = false // DTEND/DUE wins over a (forbidden) DURATION
	}
	for _, v := range []struct {
		has bool
		v   dtValue
	}{{t.hasStart, t.start}, {t.hasEnd, t.end}, {t.hasRID, t.rid}, {t.hasCompleted, t.completed}, {t.hasCreated, t.created}} {
		if v.has && v.v.floating() {
			o.floats = true
		}
	}
	return t, nil
}

// buildSet prepares the recurrence set: the master's RRULE, RDATEs and
// EXDATEs, and the overrides.
func (o *calObject) buildSet() error {
	s := &recurSet{obj: o, master: o.master, mt: o.masterT, work: o.work}
	if m := o.master; m != nil {
		for i := range m.Props {
			p := &m.Props[i]
			switch p.Name {
			case "RRULE":
				if s.rule != nil {
					return dataError(p.Line, "more than one RRULE")
				}
				r, err := parseRRule(strings.TrimSpace(p.Value))
				if err != nil {
					return dataError(p.Line, "RRULE: %v", err)
				}
				if r.until != nil && r.until.floating() {
					o.floats = true
				}
				if o.masterT.hasStart {
					s.rule = r
				}
			case "RDATE":
				vals, pers, err := o.parseDTList(p, true)
				if err != nil {
					return err
				}
				if !o.masterT.hasStart {
					continue
				}
				for j, v := range vals {
					if v.floating() {
						o.floats = true
					}
					s.rdates = append(s.rdates, occurrence{comp: m, t: o.masterT, start: v, hasStart: true,
						rid: v, hasRID: true, period: pers[j]})
					if pers[j] != nil && pers[j].hasEnd && pers[j].end.floating() {
						o.floats = true
					}
				}
			case "EXDATE":
				vals, _, err := o.parseDTList(p, false)
				if err != nil {
					return err
				}
				for _, v := range vals {
					s.ex.add(v, 0)
				}
			}
		}
	}
	for i, c := range o.overrides {
		t := o.timing(c)
		oc := occurrence{comp: c, t: t, rid: t.rid, hasRID: true, override: true}
		switch {
		case t.hasStart:
			oc.start, oc.hasStart = t.start, true
		case c.Name != VTODO:
			oc.start, oc.hasStart = t.rid, true
		}
		s.overrides = append(s.overrides, oc)
		s.ovs.add(t.rid, i)
	}
	o.set = s
	return nil
}
