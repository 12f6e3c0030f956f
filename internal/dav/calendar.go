package dav

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/store"
)

// calendarDataRequest is the CALDAV:calendar-data element of a request.
type calendarDataRequest struct {
	comp   *calendars.CompRequest
	expand *calendars.TimeRange
	limit  *calendars.TimeRange
	ctx    context.Context // the request's: expansion stops when it ends
	// truncated is set when an expanded answer holds only the first
	// instances of an object.
	truncated bool
	// spent is set when the request's work budget ran out on the object
	// last rendered: its calendar-data is missing.
	spent bool
}

var errUnsupportedCalendarData = davError(http.StatusUnsupportedMediaType, name(nsCalDAV, "supported-calendar-data"),
	"calendar-data can be served as text/calendar version 2.0")

func parseCalendarData(ctx context.Context, n *node) (*calendarDataRequest, error) {
	ct := strings.ToLower(strings.TrimSpace(n.attr("content-type")))
	if ct != "" && ct != "text/calendar" {
		return nil, errUnsupportedCalendarData
	}
	if v := strings.TrimSpace(n.attr("version")); v != "" && v != "2.0" {
		return nil, errUnsupportedCalendarData
	}
	cd := &calendarDataRequest{ctx: ctx}
	for _, c := range n.Children {
		switch {
		case c.is(nsCalDAV, "comp"):
			cd.comp = parseCompRequest(c)
		case c.is(nsCalDAV, "expand"), c.is(nsCalDAV, "limit-recurrence-set"):
			tr, err := parseTimeRange(c)
			if err != nil {
				return nil, err
			}
			if tr.Start.IsZero() || tr.End.IsZero() {
				return nil, validFilterError(c.Name.Local + " needs start and end")
			}
			if c.Name.Local == "expand" {
				cd.expand = tr
			} else {
				cd.limit = tr
			}
		}
	}
	return cd, nil
}

func parseCompRequest(n *node) *calendars.CompRequest {
	r := &calendars.CompRequest{Name: strings.ToUpper(n.attr("name"))}
	for _, c := range n.Children {
		switch {
		case c.is(nsCalDAV, "allprop"):
			r.AllProps = true
		case c.is(nsCalDAV, "prop"):
			r.Props = append(r.Props, c.attr("name"))
		case c.is(nsCalDAV, "allcomp"):
			r.AllComps = true
		case c.is(nsCalDAV, "comp"):
			r.Comps = append(r.Comps, *parseCompRequest(c))
		}
	}
	return r
}

func validFilterError(msg string) error {
	return davError(http.StatusForbidden, name(nsCalDAV, "valid-filter"), msg)
}

// parseTimeRange reads start/end attributes in UTC basic format.
func parseTimeRange(n *node) (*calendars.TimeRange, error) {
	tr := &calendars.TimeRange{}
	for _, a := range []struct {
		attr string
		t    *time.Time
	}{{"start", &tr.Start}, {"end", &tr.End}} {
		v := strings.TrimSpace(n.attr(a.attr))
		if v == "" {
			continue
		}
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return nil, validFilterError(fmt.Sprintf("time-range %s=%q is not a UTC date-time like 20261122T090000Z", a.attr, v))
		}
		*a.t = t
	}
	if tr.Start.IsZero() && tr.End.IsZero() {
		return nil, validFilterError("time-range needs start or end")
	}
	return tr, nil
}

// calendarData renders an object as the request asked: expanded, limited
// and cut down. Without such a request the stored bytes are served.
func calendarData(c *store.Collection, data []byte, cd *calendarDataRequest) (string, int) {
	if cd != nil {
		zone := floatingZone(c)
		var err error
		if cd.expand != nil {
			var x []byte
			var truncated bool
			if x, truncated, err = calendars.Expand(cd.ctx, data, cd.expand.Start, cd.expand.End, zone); err == nil {
				data = x
				cd.truncated = cd.truncated || truncated
			}
		} else if cd.limit != nil {
			var x []byte
			if x, err = calendars.LimitRecurrenceSet(cd.ctx, data, cd.limit.Start, cd.limit.End, zone); err == nil {
				data = x
			}
		}
		// Serving the stored data instead would not be what was asked.
		if cd.spent = errors.Is(err, calendars.ErrBudgetSpent); cd.spent {
			cd.truncated = true
			return "", http.StatusInsufficientStorage
		}
		if cd.comp != nil {
			data = calendars.Select(data, cd.comp)
		}
	}
	return escapeData(data), http.StatusOK
}

// timezoneID is the zone of a calendar: its calendar-timezone holds either
// a VCALENDAR with one VTIMEZONE or, when set by calendar-timezone-id, the
// bare identifier.
func timezoneID(tz string) string {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return ""
	}
	if !strings.HasPrefix(strings.ToUpper(tz), "BEGIN:") {
		return tz
	}
	for _, line := range strings.Split(tz, "\n") {
		line = strings.TrimRight(line, "\r")
		if v, ok := strings.CutPrefix(line, "TZID:"); ok {
			return v
		}
	}
	return ""
}

// floatingZone is where a calendar's floating times are; nil means UTC.
func floatingZone(c *store.Collection) *time.Location {
	if id := timezoneID(c.Timezone); id != "" {
		if loc, err := time.LoadLocation(id); err == nil {
			return loc
		}
	}
	return nil
}

func parseCompFilter(n *node) (*calendars.CompFilter, error) {
	f := &calendars.CompFilter{Name: strings.ToUpper(n.attr("name"))}
	if f.Name == "" {
		return nil, validFilterError("comp-filter needs a name")
	}
	for _, c := range n.Children {
		switch {
		case c.is(nsCalDAV, "is-not-defined"):
			f.IsNotDefined = true
		case c.is(nsCalDAV, "time-range"):
			tr, err := parseTimeRange(c)
			if err != nil {
				return nil, err
			}
			f.TimeRange = tr
		case c.is(nsCalDAV, "comp-filter"):
			sub, err := parseCompFilter(c)
			if err != nil {
				return nil, err
			}
			f.Comps = append(f.Comps, *sub)
		case c.is(nsCalDAV, "prop-filter"):
			p := calendars.PropFilter{Name: strings.ToUpper(c.attr("name"))}
			if p.Name == "" {
				return nil, validFilterError("prop-filter needs a name")
			}
			for _, pc := range c.Children {
				switch {
				case pc.is(nsCalDAV, "is-not-defined"):
					p.IsNotDefined = true
				case pc.is(nsCalDAV, "time-range"):
					tr, err := parseTimeRange(pc)
					if err != nil {
						return nil, err
					}
					p.TimeRange = tr
				case pc.is(nsCalDAV, "text-match"):
					p.TextMatch = calTextMatch(pc)
				case pc.is(nsCalDAV, "param-filter"):
					pf := calendars.ParamFilter{Name: strings.ToUpper(pc.attr("name"))}
					if pc.child(nsCalDAV, "is-not-defined") != nil {
						pf.IsNotDefined = true
					}
					if tm := pc.child(nsCalDAV, "text-match"); tm != nil {
						pf.TextMatch = calTextMatch(tm)
					}
					p.Params = append(p.Params, pf)
				}
			}
			f.Props = append(f.Props, p)
		}
	}
	return f, nil
}

func calTextMatch(n *node) *calendars.TextMatch {
	return &calendars.TextMatch{Text: n.Text, Collation: n.attr("collation"), Negate: n.attr("negate-condition") == "yes"}
}

// calFilter reads and checks the filter of a calendar-query.
func calFilter(doc *node) (*calendars.CompFilter, error) {
	fn := doc.child(nsCalDAV, "filter")
	if fn == nil {
		return nil, validFilterError("calendar-query needs a filter")
	}
	root := fn.child(nsCalDAV, "comp-filter")
	if root == nil {
		return nil, validFilterError("the filter needs a comp-filter named VCALENDAR")
	}
	f, err := parseCompFilter(root)
	if err != nil {
		return nil, err
	}
	if err := f.Check(); err != nil {
		if errors.Is(err, calendars.ErrUnsupportedCollation) {
			return nil, davError(http.StatusForbidden, name(nsCalDAV, "supported-collation"), err.Error())
		}
		return nil, validFilterError(err.Error())
	}
	return f, nil
}

// candidates streams the objects that may match: a range scan on the
// stored spans when the filter has a time-range, else the whole calendar.
func (h *Handler) candidates(q *request, c *store.Collection, f *calendars.CompFilter, fn func(o *store.Object) error) error {
	if comp, start, end, ok := f.Window(); ok {
		return h.cfg.Store.ListObjectsInRange(q.ctx, c.ID, comp, start, end, true, fn)
	}
	return h.cfg.Store.ListObjects(q.ctx, c.ID, true, fn)
}

func (h *Handler) calendarQuery(q *request, c *store.Collection, doc *node, pr *propRequest) error {
	f, err := calFilter(doc)
	if err != nil {
		return err
	}
	zone := floatingZone(c)
	ms := newMultistatus(q.w, q.r)
	// Once the request's work budget is spent, the objects that need work
	// are left out and the answer is marked truncated; the rest cost
	// nothing and are still answered.
	spent := false
	err = h.candidates(q, c, f, func(o *store.Object) error {
		ok, err := calendars.Match(q.ctx, o.Data, f, zone)
		if err := q.ctx.Err(); err != nil {
			return err
		}
		if errors.Is(err, calendars.ErrBudgetSpent) {
			spent = true
			return nil
		}
		if err != nil || !ok {
			return nil // an object we cannot read matches nothing
		}
		href := h.hrefs.object(c.Kind, q.user, c.Name, o.Name)
		props := h.props(&resource{href: href, kind: tObject, user: q.user, coll: c, obj: o}, pr)
		if pr.cal != nil && pr.cal.spent {
			spent = true
			return nil
		}
		ms.propResponse(href, props)
		return nil
	})
	if err != nil {
		if q.ctx.Err() != nil {
			return &cutError{"", err} // the client has gone or the request ran out of time
		}
		return &cutError{"calendar-query failed", err}
	}
	if spent || (pr.cal != nil && pr.cal.truncated) {
		// RFC 4791 7.8 names DAV:number-of-matches-within-limits as the
		// postcondition of calendar-query, and truncated sync-collection
		// and addressbook-query answers carry it here already. A client
		// that does not know it sees one more response, for the collection
		// and not 200, and keeps the instances and objects it got; a 403
		// CALDAV:max-instances or a 503 would lose the whole answer.
		ms.statusResponse(h.hrefs.collection(c.Kind, q.user, c.Name), http.StatusInsufficientStorage, "<D:number-of-matches-within-limits/>")
	}
	_ = ms.close()
	return nil
}

func (h *Handler) freeBusy(q *request, c *store.Collection, doc *node) error {
	trn := doc.child(nsCalDAV, "time-range")
	if trn == nil {
		return validFilterError("free-busy-query needs a time-range")
	}
	tr, err := parseTimeRange(trn)
	if err != nil {
		return err
	}
	if tr.Start.IsZero() || tr.End.IsZero() || !tr.Start.Before(tr.End) {
		return validFilterError("free-busy-query needs a time-range with start before end")
	}
	zone := floatingZone(c)
	var periods []calendars.Period
	err = h.cfg.Store.ListObjectsInRange(q.ctx, c.ID, calendars.VEVENT, tr.Start, tr.End, true, func(o *store.Object) error {
		p, err := calendars.BusyPeriods(q.ctx, o.Data, tr.Start, tr.End, zone)
		if err := q.ctx.Err(); err != nil {
			return err
		}
		if errors.Is(err, calendars.ErrBudgetSpent) {
			// A free-busy answer cannot say it is incomplete (RFC 4791
			// 7.10), and an error would leave the client with nothing.
			// As when one object's own budget runs out, time that may be
			// busy is busy: a spurious busy time costs a proposal, a
			// missing one a double booking. The object's instances all lie
			// within its stored span.
			s, e := tr.Start, tr.End
			if o.FirstStart.After(s) {
				s = o.FirstStart
			}
			if !o.LastEnd.IsZero() && o.LastEnd.Before(e) {
				e = o.LastEnd
			}
			periods = append(periods, calendars.Period{Start: s, End: e, Type: "BUSY"})
			return nil
		}
		if err == nil {
			periods = append(periods, p...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	_, _ = q.w.Write(calendars.FreeBusy(periods, tr.Start, tr.End))
	return nil
}
