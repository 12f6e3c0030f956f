package calendars

// free-busy-query (RFC 4791 7.10).

import (
	"bytes"
	"sort"
	"strings"
	"time"
)

// BusyPeriods returns the busy time of one object within [start, end) for
// a free-busy-query (RFC 4791 7.10): only VEVENTs count; TRANSP:TRANSPARENT
// and STATUS:CANCELLED are free, STATUS:TENTATIVE is BUSY-TENTATIVE and
// anything else BUSY. Instances without duration are free. Dates and
// floating times are taken in floating (nil: UTC). Periods are clipped to
// the range and sorted by start.
func BusyPeriods(data []byte, start, end time.Time, floating *time.Location) ([]Period, error) {
	o, err := loadObject(data)
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
	o.set.eachOccurrence(floating, start, end, func(oc *occurrence) bool {
		if !oc.hasStart || !m.overlaps(oc, start, end) {
			return true
		}
		c := oc.comp
		if strings.EqualFold(strings.TrimSpace(c.text("TRANSP")), "TRANSPARENT") {
			return true
		}
		typ := "BUSY"
		switch strings.ToUpper(strings.TrimSpace(c.text("STATUS"))) {
		case "CANCELLED":
			return true
		case "TENTATIVE":
			typ = "BUSY-TENTATIVE"
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
		if e.After(s) {
			out = append(out, Period{Start: s.UTC(), End: e.UTC(), Type: typ})
		}
		return len(out) < maxExpand
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
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
