package dav_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/store"
)

// errNSDecls are the namespace declarations on the root of every XML answer.
const errNSDecls = ` xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav"` +
	` xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/" xmlns:INF="http://inf-it.com/ns/ab/"` +
	` xmlns:R="https://rolodav.org/ns/"`

// errorAnswer is the whole answer a client gets for a refused request.
type errorAnswer struct {
	status int
	header http.Header // every header but Date
	body   string
}

// davErrorAnswer is a DAV:error answer: cond is the precondition element
// as sent ("" for none), msg the escaped R:message.
func davErrorAnswer(status int, cond, msg string, extra ...string) errorAnswer {
	body := `<?xml version="1.0" encoding="utf-8"?>` + "\n<D:error" + errNSDecls + ">" + cond + "<R:message>" + msg + "</R:message></D:error>\n"
	return answerWith(status, "application/xml; charset=utf-8", body, extra...)
}

// plainAnswer is a text/plain answer holding msg.
func plainAnswer(status int, msg string, extra ...string) errorAnswer {
	return answerWith(status, "text/plain; charset=utf-8", msg+"\n", append([]string{"X-Content-Type-Options: nosniff"}, extra...)...)
}

func answerWith(status int, contentType, body string, extra ...string) errorAnswer {
	h := http.Header{}
	h.Set("Dav", "1, 3, access-control, addressbook, calendar-access, extended-mkcol")
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	for _, e := range extra {
		k, v, _ := strings.Cut(e, ": ")
		h.Set(k, v)
	}
	return errorAnswer{status: status, header: h, body: body}
}

// checkAnswer compares a reply with want: status, every header and every
// body byte.
func checkAnswer(t *testing.T, what string, got reply, want errorAnswer) {
	t.Helper()
	hdr := got.header.Clone()
	hdr.Del("Date")
	if got.status != want.status || got.body != want.body || !sameHeader(hdr, want.header) {
		t.Errorf("%s:\n got %d %v\n%q\nwant %d %v\n%q", what, got.status, hdr, got.body, want.status, want.header, want.body)
	}
}

func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b.Values(k), "\x00") {
			return false
		}
	}
	return true
}

const (
	errEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav//test//EN\r\nBEGIN:VEVENT\r\nUID:e\r\n" +
		"DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	book2 = "/dav/addressbooks/alice@example.org/book2/"
)

// Every refusal the handler writes, through the real handler: status,
// headers and body are what clients have seen so far, byte for byte.
func TestErrorAnswers(t *testing.T) {
	s := newServer(t)
	s.put(alice, book+"a.vcf", card("a", "Ann")).expect(t, http.StatusCreated)
	s.put(alice, book+"b.vcf", card("b", "Bob")).expect(t, http.StatusCreated)
	s.putICS(cal+"e.ics", errEvent).expect(t, http.StatusCreated)
	s.do("MKCOL", book2, alice, "").expect(t, http.StatusCreated)
	s.put(alice, book2+"other.vcf", card("a", "Ann again")).expect(t, http.StatusCreated)

	deep := `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<D:x>", 100) + strings.Repeat("</D:x>", 100) + `</D:prop></D:propfind>`
	huge := `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/>` + strings.Repeat(" ", 5<<20) + `</D:prop></D:propfind>`
	cases := []struct {
		what               string
		method, path, body string
		hdr                []string
		want               errorAnswer
	}{
		{"encoded slash", "GET", book + "a%2Fb.vcf", "", nil,
			plainAnswer(400, "bad request path: encoded slashes, dot segments and text that is not UTF-8 are not allowed")},
		{"name that is not UTF-8", "PUT", book + "a%FF.vcf", card("u", "U"), nil,
			plainAnswer(400, "bad request path: encoded slashes, dot segments and text that is not UTF-8 are not allowed")},
		{"outside the tree", "GET", "/elsewhere", "", nil, plainAnswer(404, "404 page not found")},
		{"another user's book", "PROPFIND", "/dav/addressbooks/bob@example.org/contacts/", "", []string{"Depth: 0"},
			plainAnswer(404, "404 page not found")},
		{"unknown method", "LOCK", book, "", nil, plainAnswer(405, "method not allowed",
			"Allow: OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, MOVE")},
		{"GET on a home", "GET", home, "", nil, plainAnswer(405, "GET is not available here; use a CardDAV client",
			"Allow: OPTIONS, PROPFIND, PROPPATCH")},
		{"PUT on a book", "PUT", book, card("x", "X"), nil, plainAnswer(405, "PUT is only possible on an object inside a collection",
			"Allow: OPTIONS, PROPFIND, PROPPATCH, REPORT, GET, DELETE, MKCOL")},
		{"PUT of JSON into a book", "PUT", book + "x.vcf", "{}", []string{"Content-Type: application/json"},
			davErrorAnswer(415, "<C:supported-address-data/>", "address books accept text/vcard")},
		{"PUT of a card into a calendar", "PUT", cal + "x.ics", card("x", "X"), []string{"Content-Type: text/vcard"},
			davErrorAnswer(415, "<CAL:supported-calendar-data/>", "calendars accept text/calendar")},
		{"PUT into no collection", "PUT", "/dav/addressbooks/alice@example.org/nobook/x.vcf", card("x", "X"), nil,
			plainAnswer(409, "the collection does not exist")},
		{"PUT of no card", "PUT", book + "x.vcf", "hello", nil,
			davErrorAnswer(403, "<C:valid-address-data/>", "line 1: expected BEGIN:VCARD")},
		{"PUT of no calendar", "PUT", cal + "x.ics", "hello", []string{"Content-Type: text/calendar"},
			davErrorAnswer(403, "<CAL:valid-calendar-data/>", "valid-calendar-data: line 1: content line without &#39;:&#39;")},
		{"PUT of a UID that is there", "PUT", book + "c.vcf", card("a", "Ann"), nil,
			davErrorAnswer(409, "<C:no-uid-conflict><D:href>/dav/addressbooks/alice@example.org/contacts/a.vcf</D:href></C:no-uid-conflict>",
				"another object in this collection already has UID &#34;a&#34;")},
		{"PUT with a stale If-Match", "PUT", book + "a.vcf", card("a", "Ann"), []string{"If-Match: \"stale\""},
			plainAnswer(412, "precondition failed")},
		{"GET of no card", "GET", book + "missing.vcf", "", nil, plainAnswer(404, "not found")},
		{"GET of no book", "GET", "/dav/addressbooks/alice@example.org/nobook/", "", nil, plainAnswer(404, "not found")},
		{"DELETE of no card", "DELETE", book + "missing.vcf", "", nil, plainAnswer(404, "not found")},
		{"DELETE of a home", "DELETE", home, "", nil, plainAnswer(403, "this resource cannot be deleted")},
		{"MOVE of a book", "MOVE", book, "", []string{"Destination: " + book2}, plainAnswer(403,
			"only objects can be moved; rename a collection with PROPPATCH displayname")},
		{"MOVE without Destination", "MOVE", book + "a.vcf", "", nil, plainAnswer(400, "MOVE needs a Destination header")},
		{"MOVE to another server", "MOVE", book + "a.vcf", "", []string{"Destination: http://elsewhere.example" + book2 + "a.vcf"},
			plainAnswer(502, "Destination is on another server")},
		{"MOVE of a card into a calendar", "MOVE", book + "a.vcf", "", []string{"Destination: " + cal + "a.ics"},
			plainAnswer(403, "Destination must be inside one of your collections of the same kind")},
		{"MOVE onto itself", "MOVE", book + "a.vcf", "", []string{"Destination: " + book + "a.vcf"},
			plainAnswer(403, "source and destination are the same")},
		{"MOVE into no book", "MOVE", book + "a.vcf", "", []string{"Destination: /dav/addressbooks/alice@example.org/nobook/a.vcf"},
			plainAnswer(409, "the destination collection does not exist")},
		{"MOVE of an event into a task list", "MOVE", cal + "e.ics", "", []string{"Destination: " + tasks + "e.ics"},
			davErrorAnswer(403, "<CAL:supported-calendar-component/>", "the destination calendar does not hold VEVENT components")},
		{"MOVE of no card", "MOVE", book + "missing.vcf", "", []string{"Destination: " + book + "z.vcf"}, plainAnswer(404, "not found")},
		{"MOVE onto a card without overwrite", "MOVE", book + "b.vcf", "", []string{"Destination: " + book + "a.vcf", "Overwrite: F"},
			plainAnswer(412, "precondition failed")},
		{"MOVE of a UID the destination has", "MOVE", book + "a.vcf", "", []string{"Destination: " + book2 + "new.vcf"},
			davErrorAnswer(409, "<C:no-uid-conflict><D:href>/dav/addressbooks/alice@example.org/book2/other.vcf</D:href></C:no-uid-conflict>",
				"another object in this collection already has UID &#34;a&#34;")},
		{"PROPFIND with Depth 2", "PROPFIND", book, "", []string{"Depth: 2"}, plainAnswer(400, "Depth must be 0, 1 or infinity")},
		{"PROPFIND of no XML", "PROPFIND", book, "not xml at all", []string{"Depth: 0"},
			davErrorAnswer(400, "<R:well-formed-xml/>", "malformed XML: text outside the root element")},
		{"PROPFIND nested too deep", "PROPFIND", book, deep, []string{"Depth: 0"},
			davErrorAnswer(400, "<R:xml-limits/>", "XML document over limits: elements nested more than 64 deep")},
		{"PROPFIND too big", "PROPFIND", book, huge, []string{"Depth: 0"},
			davErrorAnswer(413, "<R:max-request-size/>", "the request body may hold at most 4194304 bytes")},
		{"PROPFIND of another element", "PROPFIND", book, `<D:other xmlns:D="DAV:"/>`, []string{"Depth: 0"},
			davErrorAnswer(400, "", "expected a DAV:propfind element")},
		{"PROPFIND of address-data as text", "PROPFIND", book, propfindBody(`<C:address-data content-type="text/plain"/>`), []string{"Depth: 0"},
			davErrorAnswer(415, "<C:supported-address-data-conversion/>", "address-data can be served as text/vcard version 3.0 or 4.0")},
		{"PROPFIND of no card", "PROPFIND", book + "missing.vcf", "", []string{"Depth: 0"}, plainAnswer(404, "not found")},
		{"PROPPATCH without a body", "PROPPATCH", book, "", nil, davErrorAnswer(400, "", "expected a DAV:propertyupdate element")},
		{"PROPPATCH of no card", "PROPPATCH", book + "missing.vcf", `<D:propertyupdate xmlns:D="DAV:"/>`, nil, plainAnswer(404, "not found")},
		{"MKCOL of an object", "MKCOL", book + "x.vcf", "", nil,
			davErrorAnswer(403, "", "collections can only be created directly inside your address-book or calendar home")},
		{"MKCALENDAR among address books", "MKCALENDAR", "/dav/addressbooks/alice@example.org/newcal/", "", nil,
			davErrorAnswer(403, "<CAL:calendar-collection-location-ok/>", "collections can only be created directly inside your address-book or calendar home")},
		{"MKCOL of another element", "MKCOL", home + "new/", `<D:propfind xmlns:D="DAV:"/>`, nil,
			davErrorAnswer(415, "", "expected a {DAV:}mkcol element")},
		{"MKCOL of a book that is there", "MKCOL", book, "", nil, davErrorAnswer(405, "", "a collection with that name already exists")},
		{"MKCALENDAR of a calendar that is there", "MKCALENDAR", cal, "", nil,
			davErrorAnswer(405, "<D:resource-must-be-null/>", "a collection with that name already exists")},
		{"REPORT without a body", "REPORT", book, "", nil, davErrorAnswer(400, "", "REPORT needs a body")},
		{"REPORT unknown", "REPORT", book, `<D:foo xmlns:D="DAV:"/>`, nil,
			davErrorAnswer(403, "<D:supported-report/>", "report {DAV:}foo is not supported here")},
		{"REPORT of no book", "REPORT", "/dav/addressbooks/alice@example.org/nobook/", syncBody("", 0, "<D:getetag/>"), nil,
			plainAnswer(404, "not found")},
		{"sync with a bad token", "REPORT", book, syncBody("bogus", 0, "<D:getetag/>"), nil,
			davErrorAnswer(400, "<D:valid-sync-token/>", "the sync token is unknown or too old; sync again from scratch")},
		{"sync with a bad level", "REPORT", book, strings.Replace(syncBody("", 0, "<D:getetag/>"), "<D:sync-level>1<", "<D:sync-level>2<", 1), nil,
			plainAnswer(400, "sync-level must be 1 or infinite")},
		{"sync with a bad limit", "REPORT", book, strings.Replace(syncBody("", 1, "<D:getetag/>"), "<D:nresults>1<", "<D:nresults>0<", 1), nil,
			plainAnswer(400, "limit/nresults must be a positive integer")},
		{"addressbook-query without a name", "REPORT", book, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">` +
			`<D:prop><D:getetag/></D:prop><C:filter><C:prop-filter/></C:filter></C:addressbook-query>`, nil,
			plainAnswer(400, "prop-filter needs a name")},
		{"addressbook-query with an unknown collation", "REPORT", book, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">` +
			`<D:prop><D:getetag/></D:prop><C:filter><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`, nil,
			davErrorAnswer(403, "<C:supported-collation/>", "contacts: unsupported collation: &#34;i;klingon&#34;")},
		{"calendar-query without a filter", "REPORT", cal, `<CAL:calendar-query xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">` +
			`<D:prop><D:getetag/></D:prop></CAL:calendar-query>`, nil,
			davErrorAnswer(403, "<CAL:valid-filter/>", "calendar-query needs a filter")},
		{"calendar-query of calendar-data as text", "REPORT", cal, `<CAL:calendar-query xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">` +
			`<D:prop><CAL:calendar-data content-type="text/plain"/></D:prop></CAL:calendar-query>`, nil,
			davErrorAnswer(415, "<CAL:supported-calendar-data/>", "calendar-data can be served as text/calendar version 2.0")},
		{"free-busy-query without a time-range", "REPORT", cal, `<CAL:free-busy-query xmlns:CAL="urn:ietf:params:xml:ns:caldav"/>`, nil,
			davErrorAnswer(403, "<CAL:valid-filter/>", "free-busy-query needs a time-range")},
	}
	for _, c := range cases {
		checkAnswer(t, c.what, s.do(c.method, c.path, alice, c.body, c.hdr...), c.want)
	}
}

// Refusals that need a server of their own.
func TestErrorAnswersOfLimits(t *testing.T) {
	small := newServer(t, func(c *dav.Config) { c.MaxResourceSize = 64 })
	big := card("big", "Big", "NOTE:"+strings.Repeat("x", 100))
	checkAnswer(t, "PUT over the resource size", small.put(alice, book+"big.vcf", big),
		davErrorAnswer(413, "<C:max-resource-size/>", "an object may hold at most 64 bytes"))
	// Without Content-Length the limit is found while reading.
	req, err := http.NewRequest("PUT", small.URL+cal+"big.ics", io.MultiReader(strings.NewReader(errEvent)))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(alice, alicePW)
	req.Header.Set("Content-Type", "text/calendar")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkAnswer(t, "chunked PUT over the resource size", reply{status: resp.StatusCode, header: resp.Header, body: string(b)},
		davErrorAnswer(413, "<CAL:max-resource-size/>", "an object may hold at most 64 bytes"))

	q := newServerAt(t, filepath.Join(t.TempDir(), "q.db"), store.Options{QuotaPerUser: 8192})
	q.put(alice, book+"a.vcf", paddedCard("a", 5000, "a")).expect(t, http.StatusCreated)
	checkAnswer(t, "PUT over the quota", q.put(alice, book+"b.vcf", paddedCard("b", 3000, "b")),
		davErrorAnswer(507, "<D:quota-not-exceeded/>", "your storage quota is used up: delete something first"))
}

// Refusals of writes that would bring back a card merged away.
func TestErrorAnswersOfMerges(t *testing.T) {
	s := mergedBook(t)
	checkAnswer(t, "MOVE onto a merged-away name", s.do("MOVE", foldBook+"bo.vcf", alice, "", "Destination: "+foldBook+"a1.vcf"),
		plainAnswer(409, "a card with this name or UID was merged into a2.vcf: edit that one"))
	checkAnswer(t, "PUT of a merged-away UID onto a card there", s.put(alice, foldBook+"bo.vcf", foldCard("a1", "+49 40 1")),
		davErrorAnswer(409, "<C:no-uid-conflict><D:href>/dav/addressbooks/alice@example.org/contacts/a2.vcf</D:href></C:no-uid-conflict>",
			"another object in this collection already has UID &#34;a1&#34;"))
}
