package dav_test

import (
	"net/http"
	"strings"
	"testing"
)

const (
	calHome = "/dav/calendars/alice@example.org/"
	cal     = "/dav/calendars/alice@example.org/calendar/"
	tasks   = "/dav/calendars/alice@example.org/tasks/"
	nsCal   = "urn:ietf:params:xml:ns:caldav"
)

const berlinTZ = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE`

func ics(body ...string) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//rolodav//test//EN"}
	for _, b := range body {
		lines = append(lines, strings.Split(b, "\n")...)
	}
	lines = append(lines, "END:VCALENDAR")
	return strings.Join(lines, "\r\n") + "\r\n"
}

func event(uid, summary, start, end string, extra ...string) string {
	lines := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", "SUMMARY:" + summary,
		"DTSTART;TZID=Europe/Berlin:" + start, "DTEND;TZID=Europe/Berlin:" + end}
	lines = append(lines, extra...)
	return strings.Join(append(lines, "END:VEVENT"), "\n")
}

func (s *server) putICS(path, data string, hdr ...string) reply {
	s.t.Helper()
	return s.do("PUT", path, alice, data, append([]string{"Content-Type: text/calendar; charset=utf-8"}, hdr...)...)
}

func calQuery(filter string, props ...string) string {
	if len(props) == 0 {
		props = []string{"<D:getetag/>"}
	}
	return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + strings.Join(props, "") +
		`</D:prop><C:filter><C:comp-filter name="VCALENDAR">` + filter + `</C:comp-filter></C:filter></C:calendar-query>`
}

func names(d *msDoc, coll string) string {
	var out []string
	for _, h := range d.hrefs() {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(h, coll), ".ics"))
	}
	return strings.Join(out, ",")
}

func TestCalendarDiscovery(t *testing.T) {
	s := newServer(t)
	d := parseMS(t, s.do("PROPFIND", "/dav/principals/alice@example.org/", alice, propfindBody("<CAL:calendar-home-set/>"), "Depth: 0"))
	if v := d.Responses[0].ok(t, nsCal, "calendar-home-set").Inner; !strings.Contains(v, calHome) {
		t.Fatalf("calendar-home-set = %s", v)
	}
	d = parseMS(t, s.do("PROPFIND", calHome, alice, propfindBody("<D:resourcetype/>", "<D:displayname/>",
		"<CAL:supported-calendar-component-set/>", "<CS:getctag/>", "<D:sync-token/>", "<D:supported-report-set/>",
		"<CAL:supported-calendar-data/>", "<D:current-user-privilege-set/>"), "Depth: 1"))
	for coll, want := range map[string]string{cal: "VEVENT", tasks: "VTODO"} {
		r := d.response(t, coll)
		if v := r.ok(t, "DAV:", "resourcetype").Inner; !strings.Contains(v, "calendar") {
			t.Errorf("%s resourcetype = %s", coll, v)
		}
		if v := r.ok(t, nsCal, "supported-calendar-component-set").Inner; !strings.Contains(v, `name="`+want+`"`) || strings.Count(v, "comp") != 1 {
			t.Errorf("%s components = %s", coll, v)
		}
		if v := r.ok(t, "DAV:", "supported-report-set").Inner; !strings.Contains(v, "calendar-query") || !strings.Contains(v, "sync-collection") || !strings.Contains(v, "free-busy-query") {
			t.Errorf("%s reports = %s", coll, v)
		}
		r.ok(t, "http://calendarserver.org/ns/", "getctag")
	}
	if d.response(t, cal).ok(t, "DAV:", "displayname").Text != "Calendar" || d.response(t, tasks).ok(t, "DAV:", "displayname").Text != "Tasks" {
		t.Error("default calendar names")
	}
}

func TestMkcalendarAndProppatch(t *testing.T) {
	s := newServer(t)
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">
 <D:set><D:prop>
  <D:displayname>Work</D:displayname>
  <C:calendar-description>Meetings</C:calendar-description>
  <A:calendar-color>#3366CCFF</A:calendar-color>
  <A:calendar-order>3</A:calendar-order>
  <C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>
  <C:calendar-timezone>` + "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + berlinTZ + "\r\nEND:VCALENDAR\r\n" + `</C:calendar-timezone>
 </D:prop></D:set>
</C:mkcalendar>`
	s.do("MKCALENDAR", calHome+"work/", alice, body).expect(t, http.StatusCreated)
	r := s.do("MKCALENDAR", calHome+"work/", alice, body).expect(t, http.StatusMethodNotAllowed)
	if !strings.Contains(r.body, "resource-must-be-null") {
		t.Errorf("second MKCALENDAR: %s", r.body)
	}
	s.do("MKCALENDAR", home+"nope/", alice, "").expect(t, http.StatusForbidden)
	d := parseMS(t, s.do("PROPFIND", calHome+"work/", alice, propfindBody("<D:displayname/>", "<CAL:calendar-description/>",
		"<A:calendar-color/>", "<A:calendar-order/>", "<CAL:supported-calendar-component-set/>", "<CAL:calendar-timezone/>",
		`<CAL:calendar-timezone-id/>`), "Depth: 0"))
	p := d.Responses[0]
	if p.ok(t, "DAV:", "displayname").Text != "Work" || p.ok(t, nsCal, "calendar-description").Text != "Meetings" ||
		p.ok(t, "http://apple.com/ns/ical/", "calendar-color").Text != "#3366CCFF" || p.ok(t, "http://apple.com/ns/ical/", "calendar-order").Text != "3" {
		t.Fatalf("created calendar: %+v", p)
	}
	if v := p.ok(t, nsCal, "supported-calendar-component-set").Inner; !strings.Contains(v, "VEVENT") || !strings.Contains(v, "VTODO") {
		t.Errorf("components = %s", v)
	}
	if v := p.ok(t, nsCal, "calendar-timezone").Text; !strings.Contains(v, "TZID:Europe/Berlin") || !strings.Contains(v, "\r\n") {
		t.Errorf("calendar-timezone = %q", v)
	}
	if p.ok(t, nsCal, "calendar-timezone-id").Text != "Europe/Berlin" {
		t.Error("calendar-timezone-id")
	}
	// vdirsyncer creates calendars with extended MKCOL.
	mk := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>` +
		`<D:displayname>Synced</D:displayname></D:prop></D:set></D:mkcol>`
	s.do("MKCOL", calHome+"synced/", alice, mk).expect(t, http.StatusCreated)
	d = parseMS(t, s.do("PROPFIND", calHome+"synced/", alice, propfindBody("<D:resourcetype/>"), "Depth: 0"))
	if !strings.Contains(d.Responses[0].ok(t, "DAV:", "resourcetype").Inner, "calendar") {
		t.Error("MKCOL did not make a calendar")
	}
	// The component set is fixed after creation; the rest can change.
	patch := `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>` +
		`<A:calendar-color>#FF0000</A:calendar-color><C:calendar-timezone-id>America/New_York</C:calendar-timezone-id></D:prop></D:set></D:propertyupdate>`
	d = parseMS(t, s.do("PROPPATCH", calHome+"work/", alice, patch))
	for _, ps := range d.Responses[0].Propstats {
		if ps.Status != "HTTP/1.1 200 OK" {
			t.Errorf("PROPPATCH: %+v", d.Responses[0])
		}
	}
	bad := `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<C:supported-calendar-component-set><C:comp name="VJOURNAL"/></C:supported-calendar-component-set></D:prop></D:set></D:propertyupdate>`
	d = parseMS(t, s.do("PROPPATCH", calHome+"work/", alice, bad))
	if _, st, _ := d.Responses[0].prop(nsCal, "supported-calendar-component-set"); st != "HTTP/1.1 403 Forbidden" {
		t.Errorf("component set PROPPATCH status %q", st)
	}
	bad = strings.Replace(patch, "America/New_York", "Mars/Olympus_Mons", 1)
	d = parseMS(t, s.do("PROPPATCH", calHome+"work/", alice, bad))
	if _, st, _ := d.Responses[0].prop(nsCal, "calendar-timezone-id"); st != "HTTP/1.1 409 Conflict" {
		t.Errorf("unknown zone status %q", st)
	}
}

func TestCalendarPutValidation(t *testing.T) {
	s := newServer(t)
	ev := ics(berlinTZ, event("e1", "Meeting", "20261124T090000", "20261124T100000"))
	r := s.putICS(cal+"e1.ics", ev, "If-None-Match: *").expect(t, http.StatusCreated)
	if r.header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	s.putICS(cal+"e1.ics", strings.Replace(ev, "Meeting", "Moved", 1)).expect(t, http.StatusNoContent)
	g := s.do("GET", cal+"e1.ics", alice, "").expect(t, http.StatusOK)
	if !strings.HasPrefix(g.header.Get("Content-Type"), "text/calendar") || !strings.Contains(g.body, "SUMMARY:Moved") {
		t.Fatalf("GET: %q %s", g.header.Get("Content-Type"), g.body)
	}
	cases := []struct{ path, data, cond string }{
		{cal + "m.ics", strings.Replace(ics(event("m", "M", "20261124T090000", "20261124T100000")), "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST", 1), "valid-calendar-object-resource"},
		{cal + "t.ics", ics("BEGIN:VTODO\nUID:t\nDTSTAMP:20260101T000000Z\nSUMMARY:Todo\nEND:VTODO"), "supported-calendar-component"},
		{cal + "broken.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n", "valid-calendar-data"},
		{cal + "two.ics", ics(berlinTZ, event("a", "A", "20261124T090000", "20261124T100000"), event("b", "B", "20261124T090000", "20261124T100000")), "valid-calendar-object-resource"},
	}
	for _, c := range cases {
		r := s.putICS(c.path, c.data).expect(t, http.StatusForbidden)
		if !strings.Contains(r.body, c.cond) {
			t.Errorf("%s: body %s, want %s", c.path, r.body, c.cond)
		}
		s.do("GET", c.path, alice, "").expect(t, http.StatusNotFound)
	}
	r = s.putICS(cal+"other.ics", ev).expect(t, http.StatusConflict)
	if !strings.Contains(r.body, "no-uid-conflict") || !strings.Contains(r.body, cal+"e1.ics") {
		t.Errorf("uid conflict: %s", r.body)
	}
	s.putICS(tasks+"t.ics", ics("BEGIN:VTODO\nUID:t\nDTSTAMP:20260101T000000Z\nSUMMARY:Todo\nEND:VTODO")).expect(t, http.StatusCreated)
	s.do("PUT", cal+"v.ics", alice, card("v", "V"), "Content-Type: text/vcard").expect(t, http.StatusUnsupportedMediaType)
	// A todo cannot be moved into an events-only calendar.
	r = s.do("MOVE", tasks+"t.ics", alice, "", "Destination: "+cal+"t.ics").expect(t, http.StatusForbidden)
	if !strings.Contains(r.body, "supported-calendar-component") {
		t.Errorf("MOVE todo: %s", r.body)
	}
}

func TestCalendarQueryTimeRange(t *testing.T) {
	s := newServer(t)
	// Weekly since 2020: a window in 2026 must find it through the span index.
	s.putICS(cal+"weekly.ics", ics(berlinTZ, event("weekly", "Standup", "20200106T090000", "20200106T091500", "RRULE:FREQ=WEEKLY;BYDAY=MO"))).expect(t, http.StatusCreated)
	s.putICS(cal+"once.ics", ics(berlinTZ, event("once", "Dentist", "20261125T140000", "20261125T150000"))).expect(t, http.StatusCreated)
	s.putICS(cal+"past.ics", ics(berlinTZ, event("past", "Old", "20190101T100000", "20190101T110000"))).expect(t, http.StatusCreated)
	s.putICS(cal+"allday.ics", ics("BEGIN:VEVENT\nUID:allday\nDTSTAMP:20260101T000000Z\nSUMMARY:Holiday\nDTSTART;VALUE=DATE:20261126\nDTEND;VALUE=DATE:20261127\nEND:VEVENT")).expect(t, http.StatusCreated)
	tr := func(start, end string) string {
		return `<C:comp-filter name="VEVENT"><C:time-range start="` + start + `" end="` + end + `"/></C:comp-filter>`
	}
	cases := []struct{ filter, want string }{
		{tr("20261123T000000Z", "20261130T000000Z"), "allday,once,weekly"},
		{tr("20261124T000000Z", "20261125T000000Z"), ""},
		{tr("20261123T080000Z", "20261123T080100Z"), "weekly"}, // 09:00 Berlin = 08:00 UTC in winter
		{tr("20260706T070000Z", "20260706T070100Z"), "weekly"}, // 09:00 Berlin = 07:00 UTC in summer
		{tr("20181231T000000Z", "20190102T000000Z"), "past"},
		{`<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match>dent</C:text-match></C:prop-filter></C:comp-filter>`, "once"},
		{`<C:comp-filter name="VTODO"/>`, ""},
	}
	for _, c := range cases {
		d := parseMS(t, s.do("REPORT", cal, alice, calQuery(c.filter), "Depth: 1"))
		if got := names(d, cal); sortedCSV(got) != c.want {
			t.Errorf("filter %s: got %q, want %q", c.filter, sortedCSV(got), c.want)
		}
	}
	r := s.do("REPORT", cal, alice, calQuery(`<C:comp-filter name="VEVENT"><C:time-range start="yesterday"/></C:comp-filter>`)).expect(t, http.StatusForbidden)
	if !strings.Contains(r.body, "valid-filter") {
		t.Errorf("bad time-range: %s", r.body)
	}
	// Expanded answer: each instance in the window as its own component in UTC.
	d := parseMS(t, s.do("REPORT", cal, alice, calQuery(tr("20261102T000000Z", "20261124T000000Z"),
		`<C:calendar-data><C:expand start="20261102T000000Z" end="20261124T000000Z"/></C:calendar-data>`), "Depth: 1"))
	data := d.response(t, cal+"weekly.ics").ok(t, nsCal, "calendar-data").Text
	if n := strings.Count(data, "RECURRENCE-ID"); n != 4 || strings.Contains(data, "RRULE") || !strings.Contains(data, "DTSTART:20261109T080000Z") {
		t.Errorf("expanded weekly event (want 4 instances in UTC):\n%s", data)
	}
}

// sortedCSV sorts a comma-separated list, for order-free comparisons.
func sortedCSV(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, ",")
}

func TestTaskQuery(t *testing.T) {
	s := newServer(t)
	todo := func(uid, extra string) string {
		return ics("BEGIN:VTODO\nUID:" + uid + "\nDTSTAMP:20260101T000000Z\nSUMMARY:" + uid + extra + "\nEND:VTODO")
	}
	s.putICS(tasks+"due.ics", todo("due", "\nDUE:20261201T120000Z")).expect(t, http.StatusCreated)
	s.putICS(tasks+"nodate.ics", todo("nodate", "")).expect(t, http.StatusCreated)
	s.putICS(tasks+"done.ics", todo("done", "\nDTSTART:20250101T090000Z\nDUE:20250102T090000Z\nCOMPLETED:20250101T100000Z\nSTATUS:COMPLETED")).expect(t, http.StatusCreated)
	// DAVx5 asks for tasks with a time-range, never by sync-collection.
	d := parseMS(t, s.do("REPORT", tasks, alice, calQuery(`<C:comp-filter name="VTODO"><C:time-range start="20261101T000000Z" end="20261231T000000Z"/></C:comp-filter>`), "Depth: 1"))
	if got := sortedCSV(names(d, tasks)); got != "due,nodate" {
		t.Errorf("todos in Nov–Dec 2026: %q, want due,nodate (a todo without dates matches any range)", got)
	}
	d = parseMS(t, s.do("REPORT", tasks, alice, calQuery(`<C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter></C:comp-filter>`), "Depth: 1"))
	if got := sortedCSV(names(d, tasks)); got != "due,nodate" {
		t.Errorf("open todos: %q", got)
	}
}

func TestCalendarMultigetAndSync(t *testing.T) {
	s := newServer(t)
	s.putICS(cal+"a.ics", ics(berlinTZ, event("a", "A", "20261124T090000", "20261124T100000"))).expect(t, http.StatusCreated)
	s.putICS(cal+"b.ics", ics(berlinTZ, event("b", "B", "20261125T090000", "20261125T100000"))).expect(t, http.StatusCreated)
	d := parseMS(t, s.do("REPORT", cal, alice, syncBody("", 0, "<D:getetag/>", "<D:getcontenttype/>")))
	if len(d.Responses) != 2 {
		t.Fatalf("initial calendar sync: %v", d.hrefs())
	}
	if ct := d.response(t, cal+"a.ics").ok(t, "DAV:", "getcontenttype").Text; !strings.Contains(ct, "text/calendar") || !strings.Contains(ct, "component=VEVENT") {
		t.Errorf("getcontenttype = %q", ct)
	}
	tok := d.SyncToken
	s.do("DELETE", cal+"b.ics", alice, "").expect(t, http.StatusNoContent)
	d = parseMS(t, s.do("REPORT", cal, alice, syncBody(tok, 0, "<D:getetag/>")))
	if len(d.Responses) != 1 || !strings.Contains(d.Responses[0].Status, "404") {
		t.Errorf("incremental: %+v", d.Responses)
	}
	body := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>` +
		`<C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/></C:comp></C:comp></C:calendar-data>` +
		`</D:prop><D:href>` + cal + `a.ics</D:href><D:href>` + cal + `b.ics</D:href></C:calendar-multiget>`
	d = parseMS(t, s.do("REPORT", cal, alice, body, "Depth: 1"))
	data := d.response(t, cal+"a.ics").ok(t, nsCal, "calendar-data").Text
	if !strings.Contains(data, "SUMMARY:A") || strings.Contains(data, "DTSTART") || strings.Contains(data, "VTIMEZONE") {
		t.Errorf("partial calendar-data:\n%s", data)
	}
	if d.response(t, cal+"b.ics").Status != "HTTP/1.1 404 Not Found" {
		t.Error("deleted href in multiget")
	}
}

func TestFreeBusyQuery(t *testing.T) {
	s := newServer(t)
	s.putICS(cal+"busy.ics", ics(berlinTZ, event("busy", "Busy", "20261124T090000", "20261124T100000"))).expect(t, http.StatusCreated)
	s.putICS(cal+"free.ics", ics(berlinTZ, event("free", "Free", "20261124T110000", "20261124T120000", "TRANSP:TRANSPARENT"))).expect(t, http.StatusCreated)
	s.putICS(cal+"tent.ics", ics(berlinTZ, event("tent", "Maybe", "20261124T130000", "20261124T140000", "STATUS:TENTATIVE"))).expect(t, http.StatusCreated)
	body := `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20261124T000000Z" end="20261125T000000Z"/></C:free-busy-query>`
	r := s.do("REPORT", cal, alice, body, "Depth: 1").expect(t, http.StatusOK)
	if !strings.Contains(r.body, "BEGIN:VFREEBUSY") || !strings.Contains(r.body, "20261124T080000Z/20261124T090000Z") {
		t.Fatalf("free-busy:\n%s", r.body)
	}
	if strings.Contains(r.body, "20261124T100000Z/") {
		t.Errorf("a transparent event is busy:\n%s", r.body)
	}
	if !strings.Contains(r.body, "BUSY-TENTATIVE") {
		t.Errorf("no tentative period:\n%s", r.body)
	}
}

func TestCalendarExport(t *testing.T) {
	s := newServer(t)
	s.putICS(cal+"a.ics", ics(berlinTZ, event("a", "A", "20261124T090000", "20261124T100000"))).expect(t, http.StatusCreated)
	s.putICS(cal+"b.ics", ics(berlinTZ, event("b", "B", "20261125T090000", "20261125T100000"))).expect(t, http.StatusCreated)
	r := s.do("GET", cal, alice, "").expect(t, http.StatusOK)
	if strings.Count(r.body, "BEGIN:VCALENDAR") != 1 || strings.Count(r.body, "BEGIN:VEVENT") != 2 || strings.Count(r.body, "BEGIN:VTIMEZONE") != 1 {
		t.Fatalf("export:\n%s", r.body)
	}
	if !strings.Contains(r.header.Get("Content-Disposition"), "calendar.ics") {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
}
