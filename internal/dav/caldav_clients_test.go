package dav_test

// CalDAV clients, replayed or run for real. Each test follows one client
// and asserts what that client reads from each answer. Facts come from the
// clients' sources:
//
//   - go-webdav v0.7.0's caldav.Client, run for real. It has no
//     SyncCollection; its carddav.Client.SyncCollection is the generic
//     RFC 6578 code and is what a go-webdav user syncs a calendar with.
//   - DAVx5 (davx5-ose + dav4jvm): HomeSetRefresher (PROPFIND Depth 1 on the
//     calendar home with ServiceDetectionUtils.collectionQueryProperties,
//     Collection.fromDavResponse reads resourcetype, privileges, component
//     set, colour, time zone), CalendarSyncManager / TasksSyncManager
//     (queryCapabilities PROPFIND Depth 0; events by sync-collection with
//     Depth 0, or calendar-query VEVENT with an open-ended time-range when
//     "sync only N past days" is set; tasks by calendar-query VTODO with
//     getetag only; downloads by calendar-multiget of at most 10 hrefs with
//     getcontenttype, getetag, schedule-tag and calendar-data, no Depth
//     header; uploads with If-None-Match: * or If-Match).
//   - Thunderbird CalDAV (comm-central CalDavCalendar.checkDavResourceType,
//     checkServerCaps = OPTIONS on the calendar home, CalDavWebDavSyncHandler
//     = sync-collection with getcontenttype + getetag and Depth: 1,
//     CalDavMultigetSyncHandler = calendar-multiget of up to 100 hrefs with
//     getetag + calendar-data and Depth: 1; any 4xx on sync resets the token).

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

const (
	nsApple = "http://apple.com/ns/ical/"
	nsPush  = "https://bitfire.at/webdav-push"
)

// ccZone is a VTIMEZONE with the central-European rules under another TZID.
func ccZone(tzid string) string {
	return strings.Replace(berlinTZ, "TZID:Europe/Berlin", "TZID:"+tzid, 1)
}

// ccResponses lists the DAV:response children of a multistatus.
func ccResponses(root *xnode) []*xnode {
	var out []*xnode
	for i := range root.Kids {
		if root.Kids[i].is(nsDAV, "response") {
			out = append(out, &root.Kids[i])
		}
	}
	return out
}

func ccHref(r *xnode) string {
	if h := r.kid(nsDAV, "href"); h != nil {
		return strings.TrimSpace(h.Text)
	}
	return ""
}

// ccStatus is the response-level DAV:status (not a propstat's).
func ccStatus(r *xnode) string {
	if s := r.kid(nsDAV, "status"); s != nil {
		return strings.TrimSpace(s.Text)
	}
	return ""
}

func ccSyncToken(t *testing.T, root *xnode) string {
	t.Helper()
	tok := root.kid(nsDAV, "sync-token")
	if tok == nil || strings.TrimSpace(tok.Text) == "" {
		t.Fatalf("multistatus without a DAV:sync-token")
	}
	return strings.TrimSpace(tok.Text)
}

// ccComponents lists the comp names of a supported-calendar-component-set.
func ccComponents(p *xnode) []string {
	var out []string
	for _, c := range p.find(nsCal, "comp") {
		out = append(out, c.attr("name"))
	}
	sort.Strings(out)
	return out
}

// ccReports lists the local names of the reports in a supported-report-set.
func ccReports(p *xnode) []string {
	var out []string
	for _, r := range p.find(nsDAV, "report") {
		for _, k := range r.Kids {
			out = append(out, k.XMLName.Local)
		}
	}
	return out
}

func ccUID(data string) string {
	for _, l := range strings.Split(unfold(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "UID:"); ok {
			return v
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// go-webdav caldav.Client

func ccParse(t *testing.T, data string) *ical.Calendar {
	t.Helper()
	c, err := ical.NewDecoder(strings.NewReader(data)).Decode()
	if err != nil {
		t.Fatalf("test data does not parse: %v\n%s", err, data)
	}
	return c
}

// ccEventOf returns the first VEVENT or VTODO of a calendar.
func ccEventOf(c *ical.Calendar) *ical.Component {
	for _, k := range c.Children {
		if k.Name == ical.CompEvent || k.Name == ical.CompToDo {
			return k
		}
	}
	return nil
}

func ccPaths[T any](objs []T, path func(T) string) []string {
	var out []string
	for _, o := range objs {
		out = append(out, path(o))
	}
	sort.Strings(out)
	return out
}

func TestReplayGoWebdavCalDAVClient(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	hc := webdav.HTTPClientWithBasicAuth(s.Client(), alice, alicePW)
	cc, err := caldav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := cc.FindCurrentUserPrincipal(ctx)
	if err != nil || principal != principalPath {
		t.Fatalf("FindCurrentUserPrincipal: %q, %v", principal, err)
	}
	homeSet, err := cc.FindCalendarHomeSet(ctx, principal)
	if err != nil || homeSet != calHome {
		t.Fatalf("FindCalendarHomeSet: %q, %v", homeSet, err)
	}
	cals, err := cc.FindCalendars(ctx, homeSet)
	if err != nil {
		t.Fatalf("FindCalendars: %v", err)
	}
	found := map[string]caldav.Calendar{}
	for _, c := range cals {
		found[c.Path] = c
	}
	if len(cals) != 2 {
		t.Fatalf("FindCalendars: %+v, want the calendar and the task list", cals)
	}
	if c := found[cal]; c.Name != "Calendar" || fmt.Sprint(c.SupportedComponentSet) != "[VEVENT]" || c.MaxResourceSize <= 0 {
		t.Errorf("FindCalendars %s: %+v", cal, c)
	}
	if c := found[tasks]; c.Name != "Tasks" || fmt.Sprint(c.SupportedComponentSet) != "[VTODO]" || c.MaxResourceSize <= 0 {
		t.Errorf("FindCalendars %s: %+v", tasks, c)
	}

	weekly := ics(berlinTZ, event("gw-weekly", "Standup", "20260105T091500", "20260105T093000",
		"RRULE:FREQ=WEEKLY;BYDAY=MO", "LOCATION:Room 4"))
	once := ics(berlinTZ, event("gw-once", "Dentist", "20261125T140000", "20261125T150000"))
	todo := ics("BEGIN:VTODO\nUID:gw-todo\nDTSTAMP:20260101T000000Z\nSUMMARY:File taxes\nDUE:20261130T170000Z\nSTATUS:NEEDS-ACTION\nEND:VTODO")
	pw, po, pt := cal+"gw-weekly.ics", cal+"gw-once.ics", tasks+"gw-todo.ics"
	put := map[string]*caldav.CalendarObject{}
	for path, data := range map[string]string{pw: weekly, po: once, pt: todo} {
		o, err := cc.PutCalendarObject(ctx, path, ccParse(t, data))
		if err != nil {
			t.Fatalf("PutCalendarObject %s: %v", path, err)
		}
		if o.ETag == "" {
			t.Errorf("PutCalendarObject %s: no ETag in the answer", path)
		}
		put[path] = o
	}

	got, err := cc.GetCalendarObject(ctx, pw)
	if err != nil {
		t.Fatalf("GetCalendarObject: %v", err)
	}
	ev := ccEventOf(got.Data)
	if got.Path != pw || got.ETag != put[pw].ETag || ev == nil {
		t.Fatalf("GetCalendarObject: path %q etag %q (PUT gave %q)", got.Path, got.ETag, put[pw].ETag)
	}
	if rr := ev.Props.Get(ical.PropRecurrenceRule); rr == nil || rr.Value != "FREQ=WEEKLY;BYDAY=MO" {
		t.Errorf("GetCalendarObject RRULE = %+v", rr)
	}
	if ds := ev.Props.Get(ical.PropDateTimeStart); ds == nil || ds.Params.Get(ical.ParamTimezoneID) != "Europe/Berlin" || ds.Value != "20260105T091500" {
		t.Errorf("GetCalendarObject DTSTART = %+v", ds)
	}
	tzs := 0
	for _, k := range got.Data.Children {
		if k.Name == ical.CompTimezone {
			tzs++
		}
	}
	if tzs != 1 {
		t.Errorf("GetCalendarObject: %d VTIMEZONE components, want 1", tzs)
	}

	all := caldav.CalendarCompRequest{Name: ical.CompCalendar, AllProps: true, AllComps: true}
	query := func(coll, comp string, start, end time.Time) []caldav.CalendarObject {
		t.Helper()
		objs, err := cc.QueryCalendar(ctx, coll, &caldav.CalendarQuery{
			CompRequest: all,
			CompFilter: caldav.CompFilter{Name: ical.CompCalendar, Comps: []caldav.CompFilter{
				{Name: comp, Start: start, End: end},
			}},
		})
		if err != nil {
			t.Fatalf("QueryCalendar %s %s %s..%s: %v", coll, comp, start, end, err)
		}
		for _, o := range objs {
			if o.Data == nil || ccEventOf(o.Data) == nil || o.ETag == "" {
				t.Errorf("QueryCalendar %s: %+v lacks calendar-data or getetag", o.Path, o)
			}
		}
		return objs
	}
	path := func(o caldav.CalendarObject) string { return o.Path }
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	// June 2026: only the weekly standup recurs there.
	if got := ccPaths(query(cal, ical.CompEvent, day(2026, 6, 1), day(2026, 7, 1)), path); fmt.Sprint(got) != fmt.Sprint([]string{pw}) {
		t.Errorf("VEVENT in June 2026: %v, want the weekly event", got)
	}
	if got := ccPaths(query(cal, ical.CompEvent, day(2026, 11, 23), day(2026, 11, 30)), path); fmt.Sprint(got) != fmt.Sprint([]string{po, pw}) {
		t.Errorf("VEVENT in the week of 23 Nov 2026: %v, want both events", got)
	}
	if got := query(cal, ical.CompEvent, day(2025, 1, 1), day(2025, 2, 1)); len(got) != 0 {
		t.Errorf("VEVENT in January 2025 (before the series starts): %v", ccPaths(got, path))
	}
	if got := ccPaths(query(tasks, ical.CompToDo, day(2026, 11, 1), day(2026, 12, 1)), path); fmt.Sprint(got) != fmt.Sprint([]string{pt}) {
		t.Errorf("VTODO due in November 2026: %v", got)
	}
	if got := query(tasks, ical.CompToDo, day(2027, 1, 1), day(2027, 2, 1)); len(got) != 0 {
		t.Errorf("VTODO in January 2027 (due in November 2026): %v", ccPaths(got, path))
	}

	objs, err := cc.MultiGetCalendar(ctx, cal, &caldav.CalendarMultiGet{Paths: []string{pw, po}, CompRequest: all})
	if err != nil {
		t.Fatalf("MultiGetCalendar: %v", err)
	}
	byPath := map[string]caldav.CalendarObject{}
	for _, o := range objs {
		byPath[o.Path] = o
	}
	if len(objs) != 2 || byPath[pw].ETag != put[pw].ETag || byPath[po].ETag != put[po].ETag {
		t.Fatalf("MultiGetCalendar: %+v", objs)
	}
	if s := ccEventOf(byPath[po].Data).Props.Get(ical.PropSummary); s == nil || s.Value != "Dentist" {
		t.Errorf("MultiGetCalendar %s SUMMARY %+v", po, s)
	}

	// caldav.Client v0.7.0 has no SyncCollection: go-webdav users sync a
	// calendar with the protocol-generic carddav.Client.SyncCollection.
	sc, err := carddav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	sync0, err := sc.SyncCollection(ctx, cal, &carddav.SyncQuery{})
	if err != nil {
		t.Fatalf("SyncCollection initial: %v", err)
	}
	upath := func(o carddav.AddressObject) string { return o.Path }
	if got := ccPaths(sync0.Updated, upath); sync0.SyncToken == "" || fmt.Sprint(got) != fmt.Sprint([]string{po, pw}) || len(sync0.Deleted) != 0 {
		t.Fatalf("SyncCollection initial: token %q updated %v deleted %v", sync0.SyncToken, got, sync0.Deleted)
	}
	for _, u := range sync0.Updated {
		if u.ETag != put[u.Path].ETag {
			t.Errorf("initial sync %s ETag %q, PUT gave %q", u.Path, u.ETag, put[u.Path].ETag)
		}
	}
	if err := cc.RemoveAll(ctx, po); err != nil {
		t.Fatalf("RemoveAll %s: %v", po, err)
	}
	moved := strings.Replace(weekly, "LOCATION:Room 4", "LOCATION:Room 7", 1)
	pw2, err := cc.PutCalendarObject(ctx, pw, ccParse(t, moved))
	if err != nil || pw2.ETag == "" || pw2.ETag == put[pw].ETag {
		t.Fatalf("PutCalendarObject update: %+v, %v (old ETag %q)", pw2, err, put[pw].ETag)
	}
	sync1, err := sc.SyncCollection(ctx, cal, &carddav.SyncQuery{SyncToken: sync0.SyncToken})
	if err != nil {
		t.Fatalf("SyncCollection incremental: %v", err)
	}
	if len(sync1.Updated) != 1 || sync1.Updated[0].Path != pw || sync1.Updated[0].ETag != pw2.ETag {
		t.Errorf("incremental Updated: %+v, want %s with ETag %q", sync1.Updated, pw, pw2.ETag)
	}
	if fmt.Sprint(sync1.Deleted) != fmt.Sprint([]string{po}) {
		t.Errorf("incremental Deleted: %v, want [%s]", sync1.Deleted, po)
	}
	if sync1.SyncToken == "" || sync1.SyncToken == sync0.SyncToken {
		t.Errorf("incremental token %q (was %q)", sync1.SyncToken, sync0.SyncToken)
	}
	if _, err := cc.GetCalendarObject(ctx, po); err == nil {
		t.Error("deleted event still readable")
	}
}

// ---------------------------------------------------------------------------
// DAVx5

// HomeSetRefresher: ServiceDetectionUtils.collectionQueryProperties(CALDAV), Depth 1 on the home.
const davx5CalendarCollections = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><current-user-privilege-set /><displayname /><owner /><resourcetype />` +
	`<n0:push-transports xmlns:n0="https://bitfire.at/webdav-push" /><n0:topic xmlns:n0="https://bitfire.at/webdav-push" />` +
	`<n1:calendar-color xmlns:n1="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone />` +
	`<CAL:calendar-timezone-id /><CAL:supported-calendar-component-set /><n2:source xmlns:n2="http://calendarserver.org/ns/" /></prop></propfind>`

// CalendarSyncManager.queryCapabilities, Depth 0 on the calendar.
const davx5CalendarCapabilities = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><CAL:max-resource-size /><supported-report-set /><n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><sync-token /></prop></propfind>`

// TasksSyncManager.queryCapabilities, Depth 0 on the task list.
const davx5TaskCapabilities = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><CAL:max-resource-size /><n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><sync-token /></prop></propfind>`

// DavCalendar.calendarQuery(component, start, end): getetag only, Depth 1;
// start/end are written only when set (DAVx5 sets start from "past days").
func davx5CalendarQuery(comp, start, end string) string {
	tr := ""
	if start != "" || end != "" {
		tr = `<CAL:time-range`
		if start != "" {
			tr += ` start="` + start + `"`
		}
		if end != "" {
			tr += ` end="` + end + `"`
		}
		tr += ` />`
	}
	inner := `<CAL:comp-filter name="` + comp + `" />`
	if tr != "" {
		inner = `<CAL:comp-filter name="` + comp + `">` + tr + `</CAL:comp-filter>`
	}
	return davx5XMLHead + `<CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop>` +
		`<CAL:filter><CAL:comp-filter name="VCALENDAR">` + inner + `</CAL:comp-filter></CAL:filter></CAL:calendar-query>`
}

// DavCalendar.multiget: no Depth header.
func davx5CalendarMultiget(hrefs []string) string {
	var b strings.Builder
	b.WriteString(davx5XMLHead + `<CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">`)
	b.WriteString(`<prop><getcontenttype /><getetag /><CAL:schedule-tag /><CAL:calendar-data /></prop>`)
	for _, h := range hrefs {
		b.WriteString("<href>" + xmlText(h) + "</href>")
	}
	b.WriteString(`</CAL:calendar-multiget>`)
	return b.String()
}

// DavCalendar.MIME_ICALENDAR_UTF8
const davx5ICalType = "Content-Type: text/calendar;charset=utf-8"

// An event as DAVx5 (ical4android EventWriter) uploads it: a recurring
// master with an EXDATE and an alarm, one moved instance, the VTIMEZONE.
func davx5Event(uid string) string {
	return ics(
		"BEGIN:VEVENT\nDTSTAMP:20261101T081500Z\nUID:"+uid+"\nSUMMARY:Jour fixe\nLOCATION:Wien\n"+
			"DTSTART;TZID=Europe/Vienna:20261103T100000\nDTEND;TZID=Europe/Vienna:20261103T110000\n"+
			"RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU\nEXDATE;TZID=Europe/Vienna:20261110T100000\nSTATUS:CONFIRMED\n"+
			"BEGIN:VALARM\nTRIGGER:-PT15M\nACTION:DISPLAY\nDESCRIPTION:Jour fixe\nEND:VALARM\nEND:VEVENT",
		"BEGIN:VEVENT\nDTSTAMP:20261101T081500Z\nUID:"+uid+"\nRECURRENCE-ID;TZID=Europe/Vienna:20261117T100000\n"+
			"SUMMARY:Jour fixe (moved)\nDTSTART;TZID=Europe/Vienna:20261117T140000\nDTEND;TZID=Europe/Vienna:20261117T150000\nEND:VEVENT",
		ccZone("Europe/Vienna"),
	)
}

// A task as DAVx5 (ical4android Task.write, jtx/OpenTasks) uploads it.
func davx5Task(uid, summary, extra string) string {
	return ics("BEGIN:VTODO\nDTSTAMP:20261101T081500Z\nUID:" + uid + "\nSUMMARY:" + summary + extra + "\nEND:VTODO")
}

// TestReplayDAVx5Calendars follows DAVx5 through calendar and task-list
// discovery, a first sync (sync-collection + multigets of 10), uploads,
// an incremental sync with a deletion, and the task sync by calendar-query.
func TestReplayDAVx5Calendars(t *testing.T) {
	s := newServer(t)

	// Another device fills the calendar and the task list.
	var seeded []string
	for i := 0; i < 12; i++ {
		uid := fmt.Sprintf("seed-%02d", i)
		day := fmt.Sprintf("202612%02dT", i+1)
		s.putICS(cal+uid+".ics", ics(berlinTZ, event(uid, "Seed "+uid, day+"090000", day+"100000"))).expect(t, http.StatusCreated)
		seeded = append(seeded, cal+uid+".ics")
	}
	s.putICS(cal+"old.ics", ics(berlinTZ, event("old", "Long ago", "20200102T090000", "20200102T100000"))).expect(t, http.StatusCreated)
	s.putICS(tasks+"open.ics", davx5Task("open", "Open task", "\nDUE:20261215T170000Z\nSTATUS:NEEDS-ACTION")).expect(t, http.StatusCreated)
	s.putICS(tasks+"undated.ics", davx5Task("undated", "Someday", "")).expect(t, http.StatusCreated)
	s.putICS(tasks+"done.ics", davx5Task("done", "Done long ago", "\nDTSTART:20200101T090000Z\nDUE:20200102T090000Z\nSTATUS:COMPLETED\nCOMPLETED:20200101T100000Z")).expect(t, http.StatusCreated)

	// Collection refresh.
	root := parseTree(t, s.do("PROPFIND", calHome, alice, davx5CalendarCollections, "Depth: 1").expect(t, http.StatusMultiStatus).body)
	homeResp := root.response(t, calHome)
	if privs, st := homeResp.prop(nsDAV, "current-user-privilege-set"); privs == nil || st != statusOK || !contains(privs.privileges(), "bind") {
		t.Errorf("home privileges (%q): DAVx5 would not offer to create calendars", st)
	}
	kinds := map[string][]string{}
	for _, r := range ccResponses(root) {
		href := ccHref(r)
		rt, _ := r.prop(nsDAV, "resourcetype")
		if rt == nil || rt.kid(nsCal, "calendar") == nil {
			continue
		}
		if !strings.HasSuffix(href, "/") {
			t.Errorf("calendar href %q does not end in /", href)
		}
		comps, st := r.prop(nsCal, "supported-calendar-component-set")
		if comps == nil || st != statusOK {
			t.Errorf("%s: no supported-calendar-component-set (%q): DAVx5 would sync events, tasks and journals into it", href, st)
			continue
		}
		kinds[href] = ccComponents(comps)
		privs, _ := r.prop(nsDAV, "current-user-privilege-set")
		if privs == nil || !(contains(privs.privileges(), "write") || contains(privs.privileges(), "write-content") || contains(privs.privileges(), "all")) {
			t.Errorf("%s: privileges %v: DAVx5 would make it read-only", href, privs)
		}
		if privs == nil || !(contains(privs.privileges(), "unbind") || contains(privs.privileges(), "write") || contains(privs.privileges(), "all")) {
			t.Errorf("%s: no unbind privilege: DAVx5 would not offer to delete it", href)
		}
		if owner, st := r.prop(nsDAV, "owner"); owner == nil || st != statusOK || fmt.Sprint(owner.hrefs()) != fmt.Sprint([]string{principalPath}) {
			t.Errorf("%s: owner %v (%q): DAVx5 would not count it as personal", href, owner, st)
		}
		if dn, st := r.prop(nsDAV, "displayname"); dn == nil || st != statusOK || strings.TrimSpace(dn.Text) == "" {
			t.Errorf("%s: displayname %v (%q): DAVx5 would show the URL", href, dn, st)
		}
		if color, st := r.prop(nsApple, "calendar-color"); color != nil && st == statusOK {
			if c := strings.TrimSpace(color.Text); !(len(c) == 7 || len(c) == 9) || c[0] != '#' {
				t.Errorf("%s: calendar-color %q is not #RRGGBB[AA]", href, c)
			}
		}
		for _, p := range [][2]string{{nsPush, "push-transports"}, {nsPush, "topic"}, {nsCS, "source"}} {
			if v, st := r.prop(p[0], p[1]); v != nil && st != statusOK && !strings.Contains(st, " 404 ") {
				t.Errorf("%s: unknown property %s answered %q; DAVx5 expects 200 or 404", href, p[1], st)
			}
		}
	}
	if fmt.Sprint(kinds[cal]) != "[VEVENT]" || fmt.Sprint(kinds[tasks]) != "[VTODO]" {
		t.Fatalf("calendars found by DAVx5: %v", kinds)
	}

	// Events: capabilities decide between sync-collection and calendar-query.
	root = parseTree(t, s.do("PROPFIND", cal, alice, davx5CalendarCapabilities, "Depth: 0").expect(t, http.StatusMultiStatus).body)
	r := root.response(t, cal)
	if mrs, st := r.prop(nsCal, "max-resource-size"); mrs == nil || st != statusOK {
		t.Errorf("max-resource-size missing (%q)", st)
	} else if n, err := strconv.ParseInt(strings.TrimSpace(mrs.Text), 10, 64); err != nil || n <= 0 {
		t.Errorf("max-resource-size %q", mrs.Text)
	}
	if srs, _ := r.prop(nsDAV, "supported-report-set"); srs == nil || !contains(ccReports(srs), "sync-collection") {
		t.Fatal("no sync-collection in supported-report-set: DAVx5 would list the calendar by calendar-query")
	}
	ctag, _ := r.prop(nsCS, "getctag")
	tok, _ := r.prop(nsDAV, "sync-token")
	if ctag == nil || strings.TrimSpace(ctag.Text) == "" || tok == nil || strings.TrimSpace(tok.Text) == "" {
		t.Fatalf("getctag %v / sync-token %v: DAVx5 keeps its sync state in them", ctag, tok)
	}

	// Local changes go up first: a new recurring event with an exception.
	davUID := "5f0c2d1e-8a7b-4c3d-9e2f-1a2b3c4d5e6f"
	davHref := cal + davUID + ".ics"
	pr := s.do("PUT", davHref, alice, davx5Event(davUID), davx5ICalType, "If-None-Match: *").expect(t, http.StatusCreated)
	davETag := pr.header.Get("ETag")
	if !isQuotedETag(davETag) {
		t.Fatalf("PUT: ETag %q; DAVx5 keeps it to detect changes", davETag)
	}
	s.do("PUT", davHref, alice, davx5Event(davUID), davx5ICalType, "If-None-Match: *").expect(t, http.StatusPreconditionFailed)

	// First sync: sync-collection without a token, then multigets of 10.
	root = parseTree(t, s.do("REPORT", cal, alice, davx5SyncCollection(""), "Depth: 0").expect(t, http.StatusMultiStatus).body)
	token := ccSyncToken(t, root)
	listed := map[string]string{}
	for _, r := range ccResponses(root) {
		href := ccHref(r)
		et, st := r.prop(nsDAV, "getetag")
		if et == nil || st != statusOK || !isQuotedETag(et.Text) {
			t.Errorf("%s: getetag %v (%q); DAVx5 fails the sync on a member without one", href, et, st)
			continue
		}
		listed[href] = et.Text
	}
	if len(listed) != 14 || listed[davHref] != davETag {
		t.Fatalf("initial sync lists %d members (want 14), %s with %q (PUT gave %q)", len(listed), davHref, listed[davHref], davETag)
	}
	var fetch []string
	for href := range listed {
		if href != davHref { // DAVx5 knows its own upload's ETag
			fetch = append(fetch, href)
		}
	}
	sort.Strings(fetch)
	fetch = append(fetch, cal+"never-existed.ics")
	got := 0
	for i := 0; i < len(fetch); i += 10 {
		batch := fetch[i:min(i+10, len(fetch))]
		root := parseTree(t, s.do("REPORT", cal, alice, davx5CalendarMultiget(batch)).expect(t, http.StatusMultiStatus).body)
		if n := len(ccResponses(root)); n != len(batch) {
			t.Errorf("multiget of %d hrefs answered %d responses", len(batch), n)
		}
		for _, href := range batch {
			r := root.response(t, href)
			if href == cal+"never-existed.ics" {
				if st := ccStatus(r); !strings.Contains(st, " 404") {
					t.Errorf("multiget of a missing href: status %q, want 404", st)
				}
				continue
			}
			data, st := r.prop(nsCal, "calendar-data")
			if data == nil || st != statusOK || !strings.Contains(data.Text, "BEGIN:VCALENDAR") {
				t.Errorf("%s: calendar-data %v (%q); DAVx5 ignores responses without it", href, data, st)
				continue
			}
			if uid := ccUID(data.Text); cal+uid+".ics" != href {
				t.Errorf("%s: calendar-data holds UID %q", href, uid)
			}
			if et, _ := r.prop(nsDAV, "getetag"); et == nil || et.Text != listed[href] {
				t.Errorf("%s: multiget ETag %v, sync listed %q", href, et, listed[href])
			}
			if ct, st := r.prop(nsDAV, "getcontenttype"); ct == nil || st != statusOK || !strings.HasPrefix(ct.Text, "text/calendar") {
				t.Errorf("%s: getcontenttype %v (%q); DAVx5 reads the charset from it", href, ct, st)
			}
			if _, st := r.prop(nsCal, "schedule-tag"); st != "" && st != statusOK && !strings.Contains(st, " 404 ") {
				t.Errorf("%s: schedule-tag status %q", href, st)
			}
			got++
		}
	}
	if got != 13 {
		t.Errorf("multigets delivered %d events, want 13", got)
	}

	// The uploaded series: EXDATE and the moved instance are what the server indexes.
	query := func(coll, body string) []string {
		t.Helper()
		root := parseTree(t, s.do("REPORT", coll, alice, body, "Depth: 1").expect(t, http.StatusMultiStatus).body)
		var out []string
		for _, r := range ccResponses(root) {
			if et, st := r.prop(nsDAV, "getetag"); et == nil || st != statusOK {
				t.Errorf("calendar-query %s: no getetag", ccHref(r))
			}
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(ccHref(r), coll), ".ics"))
		}
		sort.Strings(out)
		return out
	}
	window := func(start, end string) string {
		return davx5CalendarQuery("VEVENT", start, end)
	}
	for _, c := range []struct{ start, end, want string }{
		{"20261103T090000Z", "20261103T093000Z", davUID},    // first instance, 10:00 Vienna
		{"20261110T090000Z", "20261110T100000Z", ""},        // excluded by EXDATE
		{"20261117T090000Z", "20261117T100000Z", ""},        // moved away from 10:00 ...
		{"20261117T130000Z", "20261117T133000Z", davUID},    // ... to 14:00
		{"20270105T090000Z", "20270105T093000Z", davUID},    // tenth instance (COUNT=10)
		{"20270112T090000Z", "20270112T093000Z", ""},        // past COUNT
		{"20261201T080000Z", "20261201T083000Z", "seed-00"}, // 09:00 Berlin
		{"20200102T000000Z", "20200103T000000Z", "old"},     // the old one is there
		{"20261201T083000Z", "20261201T090000Z", "seed-00"}, // end is exclusive, start inclusive
		{"20261201T090000Z", "20261201T093000Z", davUID},    // seed-00 has ended, the series starts
		{"20261203T000000Z", "20261204T000000Z", "seed-02"}, // one day
		{"20261212T080000Z", "20261212T090000Z", "seed-11"}, // last seeded
		{"20261213T000000Z", "20261231T000000Z", davUID},    // only the series goes on
		{"20261117T000000Z", "20261118T000000Z", davUID},    // the moved instance's day
		{"20261110T000000Z", "20261111T000000Z", ""},        // the excluded day
		{"20261124T000000Z", "20261125T000000Z", davUID},    // a regular Tuesday
		{"20261201T000000Z", "20261202T000000Z", davUID + ",seed-00"},
	} {
		want := c.want
		if got := strings.Join(query(cal, window(c.start, c.end)), ","); got != sortedCSV(want) {
			t.Errorf("VEVENT %s..%s: %q, want %q", c.start, c.end, got, sortedCSV(want))
		}
	}
	// "Sync only the last N days": an open-ended time-range, no end.
	recent := query(cal, window("20261101T000000Z", ""))
	if len(recent) != 13 || contains(recent, "old") {
		t.Errorf("VEVENT since 1 Nov 2026 (open end): %v, want 13 events without 'old'", recent)
	}

	// Tasks: capabilities, then calendar-query VTODO (never sync-collection).
	root = parseTree(t, s.do("PROPFIND", tasks, alice, davx5TaskCapabilities, "Depth: 0").expect(t, http.StatusMultiStatus).body)
	if ctag, st := root.response(t, tasks).prop(nsCS, "getctag"); ctag == nil || st != statusOK {
		t.Errorf("task list getctag %v (%q)", ctag, st)
	}
	s.do("PUT", tasks+"b7a1c2d3.ics", alice, davx5Task("b7a1c2d3", "Call plumber", "\nDUE;VALUE=DATE:20261220\nPRIORITY:1\nSTATUS:NEEDS-ACTION"),
		davx5ICalType, "If-None-Match: *").expect(t, http.StatusCreated)
	if got := query(tasks, davx5CalendarQuery("VTODO", "", "")); fmt.Sprint(got) != "[b7a1c2d3 done open undated]" {
		t.Errorf("calendar-query VTODO (TasksSyncManager): %v", got)
	}
	// The same report with an open-ended time-range (what dav4jvm writes
	// when given a start): undated todos match any range, old ones do not.
	if got := query(tasks, davx5CalendarQuery("VTODO", "20261101T000000Z", "")); fmt.Sprint(got) != "[b7a1c2d3 open undated]" {
		t.Errorf("calendar-query VTODO since 1 Nov 2026: %v, want [b7a1c2d3 open undated]", got)
	}
	root = parseTree(t, s.do("REPORT", tasks, alice, davx5CalendarMultiget([]string{tasks + "open.ics", tasks + "undated.ics"})).expect(t, http.StatusMultiStatus).body)
	for _, h := range []string{tasks + "open.ics", tasks + "undated.ics"} {
		if data, st := root.response(t, h).prop(nsCal, "calendar-data"); data == nil || st != statusOK || !strings.Contains(data.Text, "BEGIN:VTODO") {
			t.Errorf("task multiget %s: %v (%q)", h, data, st)
		}
	}

	// Edits with If-Match, a delete with If-Match, then the incremental sync.
	edited := strings.Replace(davx5Event(davUID), "LOCATION:Wien", "LOCATION:Graz", 1)
	s.do("PUT", davHref, alice, edited, davx5ICalType, `If-Match: "not-the-etag"`).expect(t, http.StatusPreconditionFailed)
	pr = s.do("PUT", davHref, alice, edited, davx5ICalType, "If-Match: "+davETag).expect(t, http.StatusNoContent)
	newETag := pr.header.Get("ETag")
	if !isQuotedETag(newETag) || newETag == davETag {
		t.Errorf("PUT update: ETag %q (was %q)", newETag, davETag)
	}
	s.do("DELETE", seeded[3], alice, "", `If-Match: "not-the-etag"`).expect(t, http.StatusPreconditionFailed)
	s.do("DELETE", seeded[3], alice, "", "If-Match: "+listed[seeded[3]]).expect(t, http.StatusNoContent)
	root = parseTree(t, s.do("REPORT", cal, alice, davx5SyncCollection(token), "Depth: 0").expect(t, http.StatusMultiStatus).body)
	if next := ccSyncToken(t, root); next == token {
		t.Error("incremental sync returned the same token after changes")
	}
	changes := map[string]string{}
	for _, r := range ccResponses(root) {
		href := ccHref(r)
		if st := ccStatus(r); st != "" {
			changes[href] = st
			if r.kid(nsDAV, "propstat") != nil {
				t.Errorf("%s: removed member with a propstat", href)
			}
			continue
		}
		et, _ := r.prop(nsDAV, "getetag")
		if et == nil {
			t.Errorf("%s: changed member without getetag", href)
			continue
		}
		changes[href] = et.Text
	}
	if len(changes) != 2 || changes[davHref] != newETag || !strings.Contains(changes[seeded[3]], " 404") {
		t.Errorf("incremental sync: %v, want %s with %s and %s removed (404)", changes, davHref, newETag, seeded[3])
	}

	// A token the server no longer knows: DAVx5 resets on DAV:valid-sync-token.
	bad := s.do("REPORT", cal, alice, davx5SyncCollection(token+"x"), "Depth: 0")
	if bad.status < 400 || bad.status > 499 || !hasCondition(errorConditions(t, bad), nsDAV, "valid-sync-token") {
		t.Errorf("unknown token: %d %s; DAVx5 needs DAV:valid-sync-token to start over", bad.status, bad.body)
	}
}

// ---------------------------------------------------------------------------
// Thunderbird CalDAV

const tbCalXMLHeader = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

// CalDavCalendar.checkDavResourceType, Depth 0 on the calendar.
const tbCheckResourceType = tbCalXMLHeader + `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
	`<D:resourcetype/><D:owner/><D:current-user-principal/><D:current-user-privilege-set/><D:supported-report-set/>` +
	`<C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>`

// CalDavWebDavSyncHandler.doWebDAVSync; an empty token is written <sync-token/>.
func tbCalSync(token string) string {
	tok := "<sync-token/>"
	if token != "" {
		tok = "<sync-token>" + xmlText(token) + "</sync-token>"
	}
	return tbCalXMLHeader + `<sync-collection xmlns="DAV:">` + tok + `<sync-level>1</sync-level><prop><getcontenttype/><getetag/></prop></sync-collection>`
}

// CalDavMultigetSyncHandler.doMultiGet.
func tbCalMultiget(hrefs []string) string {
	var b strings.Builder
	b.WriteString(tbCalXMLHeader + `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	for _, h := range hrefs {
		b.WriteString("<D:href>" + xmlText(h) + "</D:href>")
	}
	b.WriteString("</C:calendar-multiget>")
	return b.String()
}

// An event as Thunderbird's ICS serializer writes it.
func tbEvent(uid, summary string) string {
	return ics(berlinTZ,
		"BEGIN:VEVENT\nCREATED:20261120T100000Z\nLAST-MODIFIED:20261120T100500Z\nDTSTAMP:20261120T100500Z\nUID:"+uid+
			"\nSUMMARY:"+summary+"\nRRULE:FREQ=MONTHLY;UNTIL=20270630T070000Z;BYMONTHDAY=15\n"+
			"DTSTART;TZID=Europe/Berlin:20261215T090000\nDTEND;TZID=Europe/Berlin:20261215T100000\n"+
			"TRANSP:OPAQUE\nX-MOZ-GENERATION:1\nEND:VEVENT")
}

// tbSyncResult is what CalDavWebDavSyncHandler makes of a sync answer.
type tbSyncResult struct {
	token   string
	fetch   map[string]string // href → etag of created or changed items
	deleted []string
	errors  int // "unhandled errors": Thunderbird then fails the sync
}

func tbReadSync(t *testing.T, body string) tbSyncResult {
	t.Helper()
	root := parseTree(t, body)
	res := tbSyncResult{fetch: map[string]string{}}
	if tok := root.kid(nsDAV, "sync-token"); tok != nil {
		res.token = tok.Text
	}
	for _, r := range ccResponses(root) {
		href, status := ccHref(r), ccStatus(r)
		ct, _ := r.prop(nsDAV, "getcontenttype")
		et, _ := r.prop(nsDAV, "getetag")
		ctype, etag := "", ""
		if ct != nil {
			ctype = ct.Text
		}
		if et != nil {
			etag = et.Text
		}
		switch {
		case href != "" && strings.Contains(status, " 404"):
			res.deleted = append(res.deleted, href)
		case strings.HasPrefix(ctype, "text/calendar") && etag != "" && href != "":
			res.fetch[href] = etag
		case strings.HasSuffix(href, "/") && (status == "" || strings.Contains(status, " 200")):
			// the collection itself: ignored
		case strings.HasPrefix(ctype, "text/calendar") || status != "":
			t.Errorf("Thunderbird: unexpected sync response %s status %q content-type %q etag %q", href, status, ctype, etag)
			res.errors++
		}
	}
	sort.Strings(res.deleted)
	return res
}

// TestReplayThunderbirdCalDAV follows Thunderbird's CalDAV provider: the
// resource-type check, the OPTIONS capability check, an upload, a first
// webdav-sync with multiget, an incremental sync with a deletion, and the
// reset on an unknown token.
func TestReplayThunderbirdCalDAV(t *testing.T) {
	s := newServer(t)
	tb := "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
	xmlType := "Content-Type: text/xml; charset=utf-8"
	for i := 0; i < 3; i++ {
		uid := fmt.Sprintf("other-%d", i)
		s.putICS(cal+uid+".ics", ics(berlinTZ, event(uid, "From phone "+uid, "2026120"+strconv.Itoa(i+1)+"T090000", "2026120"+strconv.Itoa(i+1)+"T100000"))).expect(t, http.StatusCreated)
	}

	for coll, comp := range map[string]string{cal: "VEVENT", tasks: "VTODO"} {
		root := parseTree(t, s.do("PROPFIND", coll, alice, tbCheckResourceType, "Depth: 0", xmlType, tb).expect(t, http.StatusMultiStatus).body)
		r := root.response(t, coll)
		if rt, _ := r.prop(nsDAV, "resourcetype"); rt == nil || rt.kid(nsCal, "calendar") == nil {
			t.Fatalf("%s: resourcetype %v; Thunderbird says 'not a CalDAV calendar'", coll, rt)
		}
		if srs, _ := r.prop(nsDAV, "supported-report-set"); srs == nil || !contains(ccReports(srs), "sync-collection") {
			t.Errorf("%s: no sync-collection report; Thunderbird falls back to etag listings", coll)
		}
		if cup, st := r.prop(nsDAV, "current-user-principal"); cup == nil || st != statusOK || fmt.Sprint(cup.hrefs()) != fmt.Sprint([]string{principalPath}) {
			t.Errorf("%s: current-user-principal %v (%q)", coll, cup, st)
		}
		privs, _ := r.prop(nsDAV, "current-user-privilege-set")
		writable := false
		for _, p := range []string{"write", "write-content", "write-properties", "all"} {
			writable = writable || (privs != nil && contains(privs.privileges(), p))
		}
		if !writable {
			t.Errorf("%s: privileges %v; Thunderbird would open the calendar read-only", coll, privs)
		}
		if comps, _ := r.prop(nsCal, "supported-calendar-component-set"); comps == nil || fmt.Sprint(ccComponents(comps)) != "["+comp+"]" {
			t.Errorf("%s: components %v, want [%s]", coll, comps, comp)
		}
		if ctag, st := r.prop(nsCS, "getctag"); ctag == nil || st != statusOK || ctag.Text == "" {
			t.Errorf("%s: getctag %v (%q)", coll, ctag, st)
		}
	}

	// checkServerCaps: OPTIONS on the home (the calendar URL's parent), then
	// on the calendar itself; features are the DAV header minus its first item.
	for _, p := range []string{calHome, cal} {
		r := s.do("OPTIONS", p, alice, "", tb)
		if r.status < 200 || r.status > 299 {
			t.Errorf("OPTIONS %s: %d; Thunderbird stops checking the server", p, r.status)
			continue
		}
		features := davClasses(r.header.Get("DAV"))
		if len(features) < 2 || features[0] != "1" || !contains(features[1:], "calendar-access") {
			t.Errorf("OPTIONS %s: DAV %q", p, r.header.Get("DAV"))
		}
		if allow := r.header.Get("Allow"); p == cal && (!strings.Contains(allow, "REPORT") || !strings.Contains(allow, "PROPFIND")) {
			t.Errorf("OPTIONS %s: Allow %q", p, allow)
		}
	}

	// A new event: PUT with If-None-Match: *, the answer's ETag is kept.
	tbHref := cal + "tb-4c9e.ics"
	pr := s.do("PUT", tbHref, alice, tbEvent("tb-4c9e", "Book club"), "Content-Type: text/calendar; charset=utf-8", "If-None-Match: *", tb).expect(t, http.StatusCreated)
	tbETag := pr.header.Get("ETag")
	if !isQuotedETag(tbETag) {
		t.Errorf("PUT: ETag %q; without it Thunderbird refreshes the whole calendar", tbETag)
	}

	// First webdav-sync, then a multiget of everything it lists.
	res := tbReadSync(t, s.do("REPORT", cal, alice, tbCalSync(""), "Depth: 1", xmlType, tb).expect(t, http.StatusMultiStatus).body)
	if res.token == "" || res.errors != 0 || len(res.deleted) != 0 || len(res.fetch) != 4 || res.fetch[tbHref] != tbETag {
		t.Fatalf("first sync: %+v (want 4 items, %s with %s)", res, tbHref, tbETag)
	}
	var hrefs []string
	for h := range res.fetch {
		hrefs = append(hrefs, h)
	}
	sort.Strings(hrefs)
	root := parseTree(t, s.do("REPORT", cal, alice, tbCalMultiget(hrefs), "Depth: 1", xmlType, tb).expect(t, http.StatusMultiStatus).body)
	for _, h := range hrefs {
		r := root.response(t, h)
		et, _ := r.prop(nsDAV, "getetag")
		data, _ := r.prop(nsCal, "calendar-data")
		if et == nil || et.Text != res.fetch[h] || data == nil || cal+ccUID(data.Text)+".ics" != h {
			t.Errorf("multiget %s: etag %v data %v; Thunderbird counts it as an unhandled error", h, et, data)
		}
	}
	if n := len(ccResponses(root)); n != len(hrefs) {
		t.Errorf("multiget of %d hrefs: %d responses", len(hrefs), n)
	}

	// Changes from elsewhere, then the incremental sync.
	s.putICS(cal+"other-1.ics", ics(berlinTZ, event("other-1", "Changed on the phone", "20261202T090000", "20261202T110000"))).expect(t, http.StatusNoContent)
	s.do("DELETE", cal+"other-2.ics", alice, "").expect(t, http.StatusNoContent)
	edit := s.do("PUT", tbHref, alice, strings.Replace(tbEvent("tb-4c9e", "Book club"), "X-MOZ-GENERATION:1", "X-MOZ-GENERATION:2", 1),
		"Content-Type: text/calendar; charset=utf-8", "If-Match: "+tbETag, tb).expect(t, http.StatusNoContent)
	res2 := tbReadSync(t, s.do("REPORT", cal, alice, tbCalSync(res.token), "Depth: 1", xmlType, tb).expect(t, http.StatusMultiStatus).body)
	if res2.errors != 0 || res2.token == "" || res2.token == res.token {
		t.Errorf("incremental sync: %+v", res2)
	}
	if fmt.Sprint(res2.deleted) != fmt.Sprint([]string{cal + "other-2.ics"}) {
		t.Errorf("incremental sync deleted %v, want [%sother-2.ics]", res2.deleted, cal)
	}
	if len(res2.fetch) != 2 || res2.fetch[cal+"other-1.ics"] == "" || res2.fetch[cal+"other-1.ics"] == res.fetch[cal+"other-1.ics"] ||
		res2.fetch[tbHref] != edit.header.Get("ETag") {
		t.Errorf("incremental sync changes %v, want other-1 with a new etag and %s with %q", res2.fetch, tbHref, edit.header.Get("ETag"))
	}
	root = parseTree(t, s.do("REPORT", cal, alice, tbCalMultiget([]string{cal + "other-1.ics"}), "Depth: 1", xmlType, tb).expect(t, http.StatusMultiStatus).body)
	if data, _ := root.response(t, cal+"other-1.ics").prop(nsCal, "calendar-data"); data == nil || !strings.Contains(data.Text, "Changed on the phone") {
		t.Errorf("multiget after change: %v", data)
	}

	// An unknown token: any 4xx makes Thunderbird reset and re-sync.
	bad := s.do("REPORT", cal, alice, tbCalSync("http://example.org/not-a-token"), "Depth: 1", xmlType, tb)
	if bad.status < 400 || bad.status > 499 {
		t.Errorf("unknown token: %d; Thunderbird re-syncs only on a 4xx", bad.status)
	}
	res3 := tbReadSync(t, s.do("REPORT", cal, alice, tbCalSync(""), "Depth: 1", xmlType, tb).expect(t, http.StatusMultiStatus).body)
	if res3.errors != 0 || len(res3.fetch) != 3 || len(res3.deleted) != 0 {
		t.Errorf("re-sync after reset: %+v, want 3 items and no deletions", res3)
	}
}
