package calendars

// free-busy-query (RFC 4791 7.10).

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// BusyPeriods returns the busy time of one object within [start, end) for
// a free-busy-query (RFC 4791 7.10): only VEVENTs count; TRANSP:TRANSPARENT
// and STATUS:CANCELLED are free, STATUS:TENTATIVE is BUSY-TENTATIVE and
// anything else BUSY. Instances without duration are free. Dates and
// floating times are taken in floating (nil: UTC). Periods are clipped to
// the range and sorted by start. When the instances are too many to list
// (more than maxExpand periods, or more work than the budget), the time
// from where the list stops to the end of the range is busy: a spurious
// busy time costs less than a double booking. The work stops when ctx
// ends, with its error.
func BusyPeriods(ctx context.Context, data []byte, start, end time.Time, floating *time.Location) ([]Period, error) {
	o, err := loadObject(ctx, data, ruleWork)
	if err != nil {
		return nil, err
	}
	if o.kind != VEVENT {
		return nil, nil
	}
	if floating == nil {
		floating = time.UTC
	}
	m := &matcher{o: o, f: floating}
	var out []Period
	var cut time.Time // the list is cut: busy from here on
	complete, ruleCut := o.set.eachOccurrence(floating, start, end, func(oc *occurrence) bool {
		if !oc.hasStart || !m.overlaps(oc, start, end) {
			return true
		}
		typ, busy := busyType(oc.comp)
		if !busy {
			return true
		}
		s := oc.start.at(floating)
		e, ok := oc.endAt(floating)
		if !ok || !e.After(s) {
			return true
		}
		if !start.IsZero() && s.Before(start) {
			s = start
		}
		if !end.IsZero() && e.After(end) {
			e = end
		}
		if !e.After(s) || (!cut.IsZero() && !s.Before(cut)) {
			return true
		}
		// Rule instances come in order: one that touches the last period
		// extends it, so a dense rule holds little memory.
		if n := len(out); n > 0 && out[n-1].Type == typ && !s.After(out[n-1].End) && !s.Before(out[n-1].Start) {
			if e.After(out[n-1].End) {
				out[n-1].End = e.UTC()
			}
			return true
		}
		if len(out) == maxExpand {
			// Later instances are still visited: RDATEs and overrides may
			// come before the cut.
			cut = s
			return true
		}
		out = append(out, Period{Start: s.UTC(), End: e.UTC(), Type: typ})
		return true
	})
	if o.work.err != nil {
		return nil, fmt.Errorf("computing busy time: %w", o.work.err)
	}
	tail := "" // the type of the busy time from cut on
	if !cut.IsZero() {
		tail = "BUSY" // any instance may follow
	}
	if typ, busy := busyType(o.master); !complete && busy && (cut.IsZero() || ruleCut.Before(cut)) {
		cut = ruleCut
		if tail == "" {
			tail = typ
		}
	}
	if tail != "" {
		if !start.IsZero() && cut.Before(start) {
			cut = start
		}
		if !end.IsZero() && cut.Before(end) {
			out = append(out, Period{Start: cut.UTC(), End: end.UTC(), Type: tail})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// busyType returns the free-busy type of a component, false when it is
// free.
func busyType(c *calComp) (string, bool) {
	if c == nil {
		return "", false
	}
	if strings.EqualFold(strings.TrimSpace(c.text("TRANSP")), "TRANSPARENT") {
		return "", false
	}
	switch strings.ToUpper(strings.TrimSpace(c.text("STATUS"))) {
	case "CANCELLED":
		return "", false
	case "TENTATIVE":
		return "BUSY-TENTATIVE", true
	}
	return "BUSY", true
}

// FreeBusy builds the VCALENDAR/VFREEBUSY answer of a free-busy-query:
// DTSTAMP, DTSTART, DTEND and one FREEBUSY line per busy type (BUSY first)
// with merged, sorted, non-overlapping UTC periods, clipped to
// [start, end).
func FreeBusy(periods []Period, start, end time.Time) []byte {
	byType := map[string][]Period{}
	for _, p := range periods {
		typ := strings.ToUpper(strings.TrimSpace(p.Type))
		if typ == "" {
			typ = "BUSY"
		}
		s, e := p.Start, p.End
		if !start.IsZero() && s.Before(start) {
			s = start
		}
		if !end.IsZero() && e.After(end) {
			e = end
		}
		if !e.After(s) {
			continue
		}
		byType[typ] = append(byType[typ], Period{Start: s.UTC(), End: e.UTC(), Type: typ})
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	rank := map[string]int{"BUSY": 0, "BUSY-TENTATIVE": 1, "BUSY-UNAVAILABLE": 2}
	sort.Slice(types, func(i, j int) bool {
		ri, ok1 := rank[types[i]]
		rj, ok2 := rank[types[j]]
		if !ok1 {
			ri = 3
		}
		if !ok2 {
			rj = 3
		}
		if ri != rj {
			return ri < rj
		}
		return types[i] < types[j]
	})
	fb := &calComp{Name: "VFREEBUSY"}
	fb.Props = append(fb.Props, calProp{Name: "DTSTAMP", Value: formatUTC(time.Now())})
	if !start.IsZero() {
		fb.Props = append(fb.Props, calProp{Name: "DTSTART", Value: formatUTC(start)})
	}
	if !end.IsZero() {
		fb.Props = append(fb.Props, calProp{Name: "DTEND", Value: formatUTC(end)})
	}
	for _, t := range types {
		merged := mergePeriods(byType[t])
		parts := make([]string, len(merged))
		for i, p := range merged {
			parts[i] = formatUTC(p.Start) + "/" + formatUTC(p.End)
		}
		fb.Props = append(fb.Props, calProp{Name: "FREEBUSY",
			Params: []calParam{{Name: "FBTYPE", Values: []string{t}}}, Value: strings.Join(parts, ",")})
	}
	cal := &calComp{Name: "VCALENDAR", Props: []calProp{
		{Name: "VERSION", Value: "2.0"},
		{Name: "PRODID", Value: "-//rolodav//rolodav//EN"},
	}, Children: []*calComp{fb}}
	var b bytes.Buffer
	writeComp(&b, cal)
	return b.Bytes()
}

// mergePeriods sorts periods and joins overlapping or touching ones.
func mergePeriods(ps []Period) []Period {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Start.Before(ps[j].Start) })
	var out []Period
	for _, p := range ps {
		if n := len(out); n > 0 && !p.Start.After(out[n-1].End) {
			if p.End.After(out[n-1].End) {
				out[n-1].End = p.End
			}
			continue
		}
		out = append(out, p)
	}
	return out
}
