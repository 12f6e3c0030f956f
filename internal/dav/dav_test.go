package dav_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestOptionsAdvertisesCapabilities(t *testing.T) {
	s := newServer(t)
	for _, p := range []string{"/", "/dav/", "/dav/principals/alice@example.org/", book} {
		r := s.do("OPTIONS", p, "", "").expect(t, http.StatusOK)
		dav := r.header.Get("DAV")
		for _, want := range []string{"1", "3", "access-control", "addressbook", "calendar-access", "extended-mkcol"} {
			if !strings.Contains(dav, want) {
				t.Errorf("OPTIONS %s: DAV header %q lacks %q", p, dav, want)
			}
		}
		for _, m := range []string{"PROPFIND", "REPORT", "PUT", "MKCOL"} {
			if !strings.Contains(r.header.Get("Allow"), m) {
				t.Errorf("OPTIONS %s: Allow %q lacks %s", p, r.header.Get("Allow"), m)
			}
		}
	}
}

func TestAuthRequired(t *testing.T) {
	s := newServer(t)
	r := s.do("PROPFIND", "/dav/", "", "", "Depth: 0").expect(t, http.StatusUnauthorized)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), `Basic realm="rolodav"`) {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("PROPFIND", s.URL+"/dav/", nil)
	req.SetBasicAuth(alice, "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
}

func TestRepeatedFailuresAreRefused(t *testing.T) {
	s := newServer(t)
	var last *http.Response
	var lastBody string
	for i := 0; i < 15; i++ {
		req, _ := http.NewRequest("PROPFIND", s.URL+"/dav/", nil)
		req.SetBasicAuth(alice, fmt.Sprintf("guess-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last, lastBody = resp, string(body)
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 15 failures: %d, want 429", last.StatusCode)
	}
	if last.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Clients show the body: it says how long, in words.
	if !regexp.MustCompile(`try again in \d+ (seconds?|minutes?)\b`).MatchString(lastBody) {
		t.Errorf("429 body %q does not say when to try again", lastBody)
	}
	// The right password from the locked-out address is refused too.
	s.do("PROPFIND", "/dav/", alice, "", "Depth: 0").expect(t, http.StatusTooManyRequests)
}

func TestDiscoveryLikeDAVx5(t *testing.T) {
	s := newServer(t)
	// Well-known redirects for GET, answers PROPFIND directly.
	r := s.do("GET", "/.well-known/carddav", alice, "").expect(t, http.StatusMovedPermanently)
	if r.header.Get("Location") != "/dav/" {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	for _, start := range []string{"/.well-known/carddav", "/", "/dav/"} {
		d := parseMS(t, s.do("PROPFIND", start, alice, propfindBody("<D:current-user-principal/>"), "Depth: 0"))
		p := d.Responses[0].ok(t, "DAV:", "current-user-principal")
		if !strings.Contains(p.Inner, "/dav/principals/alice@example.org/") {
			t.Errorf("PROPFIND %s: current-user-principal = %s", start, p.Inner)
		}
	}
	d := parseMS(t, s.do("PROPFIND", "/dav/principals/alice@example.org/", alice, propfindBody(
		"<C:addressbook-home-set/>", "<CAL:calendar-user-address-set/>", "<D:displayname/>",
		"<D:resourcetype/>", "<D:principal-collection-set/>", "<D:group-membership/>", "<D:principal-URL/>"), "Depth: 0"))
	r0 := d.response(t, "/dav/principals/alice@example.org/")
	if v := r0.ok(t, "urn:ietf:params:xml:ns:carddav", "addressbook-home-set").Inner; !strings.Contains(v, home) {
		t.Errorf("addressbook-home-set = %s", v)
	}
	if v := r0.ok(t, "urn:ietf:params:xml:ns:caldav", "calendar-user-address-set").Inner; !strings.Contains(v, "mailto:alice@example.org") {
		t.Errorf("calendar-user-address-set = %s", v)
	}
	if v := r0.ok(t, "DAV:", "resourcetype").Inner; !strings.Contains(v, "principal") {
		t.Errorf("resourcetype = %s", v)
	}
	r0.ok(t, "DAV:", "group-membership")

	d = parseMS(t, s.do("PROPFIND", home, alice, propfindBody("<D:resourcetype/>", "<D:displayname/>",
		"<C:supported-address-data/>", "<CS:getctag/>", "<D:sync-token/>", "<D:supported-report-set/>",
		"<D:current-user-privilege-set/>", "<C:addressbook-description/>", "<D:quota-available-bytes/>",
		"<D:quota-used-bytes/>", "<C:max-resource-size/>", "<D:owner/>"), "Depth: 1"))
	hr := d.response(t, home)
	if v := hr.ok(t, "DAV:", "current-user-privilege-set").Inner; !strings.Contains(v, "bind") {
		t.Errorf("home privileges lack bind: %s", v)
	}
	b := d.response(t, book)
	if v := b.ok(t, "DAV:", "resourcetype").Inner; !strings.Contains(v, "addressbook") || !strings.Contains(v, "collection") {
		t.Errorf("book resourcetype = %s", v)
	}
	if v := b.ok(t, "DAV:", "displayname").Text; v != "Contacts" {
		t.Errorf("displayname = %q", v)
	}
	sad := b.ok(t, "urn:ietf:params:xml:ns:carddav", "supported-address-data").Inner
	if !strings.Contains(sad, `version="3.0"`) || !strings.Contains(sad, `version="4.0"`) {
		t.Errorf("supported-address-data = %s", sad)
	}
	if b.ok(t, "http://calendarserver.org/ns/", "getctag").Text == "" || b.ok(t, "DAV:", "sync-token").Text == "" {
		t.Error("empty getctag or sync-token")
	}
	if v := b.ok(t, "DAV:", "supported-report-set").Inner; !strings.Contains(v, "sync-collection") || !strings.Contains(v, "addressbook-multiget") {
		t.Errorf("supported-report-set = %s", v)
	}
	b.ok(t, "DAV:", "quota-available-bytes")
	// The quota is per user: an empty book reports what its owner uses.
	u, err := s.st.Usage(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if v := b.ok(t, "DAV:", "quota-used-bytes").Text; v != strconv.FormatInt(u.Used, 10) || u.Used == 0 {
		t.Errorf("quota-used-bytes of an empty book = %s, want alice's usage %d", v, u.Used)
	}
	b.ok(t, "urn:ietf:params:xml:ns:carddav", "max-resource-size")
	if _, st, _ := b.prop("urn:ietf:params:xml:ns:carddav", "addressbook-description"); st != "HTTP/1.1 404 Not Found" {
		t.Errorf("unset description status %q", st)
	}
	// Missing Depth on a home means infinity: answered, not hung.
	parseMS(t, s.do("PROPFIND", home, alice, propfindBody("<D:resourcetype/>")))
}

func TestBriefOmitsNotFound(t *testing.T) {
	s := newServer(t)
	r := s.do("PROPFIND", book, alice, propfindBody("<D:displayname/>", "<CS:me-card/>"), "Depth: 0", "Brief: t")
	if strings.Contains(r.body, "404") {
		t.Errorf("Brief answer has a 404 propstat:\n%s", r.body)
	}
	r = s.do("PROPFIND", book, alice, propfindBody("<D:displayname/>", "<CS:me-card/>"), "Depth: 0", "Prefer: return-minimal")
	if strings.Contains(r.body, "404") {
		t.Errorf("return-minimal answer has a 404 propstat:\n%s", r.body)
	}
}

func TestPutGetDeleteWithConditions(t *testing.T) {
	s := newServer(t)
	path := book + "a1.vcf"
	r := s.put(alice, path, card("a1", "Ann One"), "If-None-Match: *").expect(t, http.StatusCreated)
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 3 {
		t.Fatalf("ETag %q not quoted", etag)
	}
	s.put(alice, path, card("a1", "Ann One"), "If-None-Match: *").expect(t, http.StatusPreconditionFailed)
	s.put(alice, path, card("a1", "Ann Changed"), `If-Match: "nope"`).expect(t, http.StatusPreconditionFailed)
	r = s.put(alice, path, card("a1", "Ann Changed"), "If-Match: "+etag).expect(t, http.StatusNoContent)
	etag2 := r.header.Get("ETag")
	if etag2 == etag || etag2 == "" {
		t.Fatalf("ETag after update %q (before %q)", etag2, etag)
	}
	// Thunderbird: no condition at all.
	s.put(alice, path, card("a1", "Ann Thunder")).expect(t, http.StatusNoContent)
	g := s.do("GET", path, alice, "").expect(t, http.StatusOK)
	if !strings.Contains(g.body, "FN:Ann Thunder") || !strings.HasPrefix(g.header.Get("Content-Type"), "text/vcard") {
		t.Fatalf("GET: %s %q", g.body, g.header.Get("Content-Type"))
	}
	s.do("GET", path, alice, "", "If-None-Match: "+g.header.Get("ETag")).expect(t, http.StatusNotModified)
	h := s.do("HEAD", path, alice, "").expect(t, http.StatusOK)
	if h.body != "" || h.header.Get("ETag") != g.header.Get("ETag") {
		t.Errorf("HEAD: body %q etag %q", h.body, h.header.Get("ETag"))
	}
	s.do("DELETE", path, alice, "", `If-Match: "stale"`).expect(t, http.StatusPreconditionFailed)
	s.do("DELETE", path, alice, "", "If-Match: "+g.header.Get("ETag")).expect(t, http.StatusNoContent)
	s.do("GET", path, alice, "").expect(t, http.StatusNotFound)
	s.do("DELETE", path, alice, "").expect(t, http.StatusNotFound)
	s.put(alice, book+"x.vcf", card("x", "X"), "If-Match: *").expect(t, http.StatusPreconditionFailed)
}

func TestResourceNamesKeepSpecialCharacters(t *testing.T) {
	s := newServer(t)
	uid := "weird;:@&=+$,uid"
	path := book + "weird%3B:@&=+$,uid.vcf"
	s.put(alice, path, card(uid, "Weird")).expect(t, http.StatusCreated)
	if g := s.do("GET", path, alice, "").expect(t, http.StatusOK); !strings.Contains(g.body, "UID:"+uid) {
		t.Fatalf("GET: %s", g.body)
	}
	d := parseMS(t, s.do("PROPFIND", book, alice, propfindBody("<D:getetag/>"), "Depth: 1"))
	found := false
	for _, h := range d.hrefs() {
		if strings.Contains(h, "weird") {
			found = true
			if s.do("GET", h, alice, "").status != http.StatusOK {
				t.Errorf("listed href %s does not GET", h)
			}
		}
	}
	if !found {
		t.Fatalf("card not listed: %v", d.hrefs())
	}
}

func TestPutValidation(t *testing.T) {
	s := newServer(t)
	r := s.put(alice, book+"bad.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN Broken\r\nEND:VCARD\r\n").expect(t, http.StatusForbidden)
	if !strings.Contains(r.body, "valid-address-data") || !strings.Contains(r.body, "line 3") {
		t.Errorf("invalid card body: %s", r.body)
	}
	s.do("GET", book+"bad.vcf", alice, "").expect(t, http.StatusNotFound)
	s.put(alice, book+"one.vcf", card("same-uid", "One")).expect(t, http.StatusCreated)
	r = s.put(alice, book+"two.vcf", card("same-uid", "Two")).expect(t, http.StatusConflict)
	if !strings.Contains(r.body, "no-uid-conflict") || !strings.Contains(r.body, book+"one.vcf") {
		t.Errorf("uid conflict body: %s", r.body)
	}
	r = s.do("PUT", book+"json.vcf", alice, "{}", "Content-Type: application/json").expect(t, http.StatusUnsupportedMediaType)
	if !strings.Contains(r.body, "supported-address-data") {
		t.Errorf("415 body: %s", r.body)
	}
	s.do("PUT", book, alice, card("c", "C"), "Content-Type: text/vcard").expect(t, http.StatusMethodNotAllowed)
	s.put(alice, "/dav/addressbooks/alice@example.org/missing/c.vcf", card("c", "C")).expect(t, http.StatusConflict)
	// A card without UID gets one, and no ETag since the stored bytes differ.
	r = s.put(alice, book+"nouid.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEND:VCARD\r\n").expect(t, http.StatusCreated)
	if r.header.Get("ETag") != "" {
		t.Error("ETag sent although the server changed the card")
	}
	if g := s.do("GET", book+"nouid.vcf", alice, ""); !strings.Contains(g.body, "UID:nouid") {
		t.Errorf("stored card: %s", g.body)
	}
}

func TestPutTooLarge(t *testing.T) {
	s := newServer(t, func(c *davConfig) { c.MaxResourceSize = 1000 })
	big := card("big", "Big", "NOTE:"+strings.Repeat("x", 2000))
	r := s.put(alice, book+"big.vcf", big).expect(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(r.body, "max-resource-size") {
		t.Errorf("413 body: %s", r.body)
	}
	// Chunked, without Content-Length.
	req, _ := http.NewRequest("PUT", s.URL+book+"big2.vcf", strings.NewReader(big))
	req.SetBasicAuth(alice, alicePW)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked big PUT: %d", resp.StatusCode)
	}
	s.do("GET", book+"big2.vcf", alice, "").expect(t, http.StatusNotFound)
}

func TestCreateBookWithExtendedMkcolAndProppatch(t *testing.T) {
	s := newServer(t)
	body := `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:INF="http://inf-it.com/ns/ab/">
 <D:set><D:prop>
  <D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
  <D:displayname>Work</D:displayname>
  <C:addressbook-description>Colleagues</C:addressbook-description>
  <INF:addressbook-color>#FF0000FF</INF:addressbook-color>
 </D:prop></D:set>
</D:mkcol>`
	s.do("MKCOL", home+"work/", alice, body, "Content-Type: application/xml").expect(t, http.StatusCreated)
	s.do("MKCOL", home+"work/", alice, body).expect(t, http.StatusMethodNotAllowed)
	d := parseMS(t, s.do("PROPFIND", home+"work/", alice, propfindBody("<D:displayname/>", "<C:addressbook-description/>",
		`<INF:addressbook-color xmlns:INF="http://inf-it.com/ns/ab/"/>`), "Depth: 0"))
	r := d.Responses[0]
	if r.ok(t, "DAV:", "displayname").Text != "Work" || r.ok(t, "urn:ietf:params:xml:ns:carddav", "addressbook-description").Text != "Colleagues" ||
		r.ok(t, "http://inf-it.com/ns/ab/", "addressbook-color").Text != "#FF0000FF" {
		t.Fatalf("created book props: %+v", r)
	}
	// Wrong resourcetype is refused.
	bad := strings.Replace(body, "<C:addressbook/>", "", 1)
	r2 := s.do("MKCOL", home+"other/", alice, bad).expect(t, http.StatusForbidden)
	if !strings.Contains(r2.body, "mkcol-response") {
		t.Errorf("MKCOL refusal body: %s", r2.body)
	}
	s.do("PROPFIND", home+"other/", alice, propfindBody("<D:displayname/>"), "Depth: 0").expect(t, http.StatusNotFound)
}

func TestProppatchSetsAndRemovesDeadAndLiveProperties(t *testing.T) {
	s := newServer(t)
	patch := `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:X="urn:example:x">
 <D:set><D:prop>
  <D:displayname>Family &amp; Friends</D:displayname>
  <A:calendar-color>#00FF00</A:calendar-color>
  <X:custom><X:inner attr="1">text</X:inner></X:custom>
 </D:prop></D:set>
</D:propertyupdate>`
	d := parseMS(t, s.do("PROPPATCH", book, alice, patch))
	for _, ps := range d.Responses[0].Propstats {
		if ps.Status != "HTTP/1.1 200 OK" {
			t.Fatalf("PROPPATCH: %+v", d.Responses[0])
		}
	}
	d = parseMS(t, s.do("PROPFIND", book, alice, propfindBody("<D:displayname/>", "<A:calendar-color/>", `<X:custom xmlns:X="urn:example:x"/>`), "Depth: 0"))
	r := d.Responses[0]
	if r.ok(t, "DAV:", "displayname").Text != "Family & Friends" || r.ok(t, "http://apple.com/ns/ical/", "calendar-color").Text != "#00FF00" {
		t.Fatalf("after PROPPATCH: %+v", r)
	}
	if c := r.ok(t, "urn:example:x", "custom").Inner; !strings.Contains(c, "inner") || !strings.Contains(c, "text") {
		t.Fatalf("dead property = %q", c)
	}
	// allprop returns dead properties too.
	if a := s.do("PROPFIND", book, alice, "", "Depth: 0"); !strings.Contains(a.body, "urn:example:x") {
		t.Errorf("allprop lacks the dead property: %s", a.body)
	}
	// Atomic: a protected property makes the whole update fail.
	bad := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Nope</D:displayname><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>`
	d = parseMS(t, s.do("PROPPATCH", book, alice, bad))
	if _, st, _ := d.Responses[0].prop("DAV:", "getetag"); st != "HTTP/1.1 403 Forbidden" {
		t.Errorf("getetag status %q", st)
	}
	if _, st, _ := d.Responses[0].prop("DAV:", "displayname"); st != "HTTP/1.1 424 Failed Dependency" {
		t.Errorf("displayname status %q", st)
	}
	d = parseMS(t, s.do("PROPFIND", book, alice, propfindBody("<D:displayname/>"), "Depth: 0"))
	if d.Responses[0].ok(t, "DAV:", "displayname").Text != "Family & Friends" {
		t.Error("failed PROPPATCH changed the displayname")
	}
	remove := `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:example:x"><D:remove><D:prop><X:custom/></D:prop></D:remove></D:propertyupdate>`
	parseMS(t, s.do("PROPPATCH", book, alice, remove))
	if a := s.do("PROPFIND", book, alice, "", "Depth: 0"); strings.Contains(a.body, "urn:example:x") {
		t.Errorf("removed dead property still listed: %s", a.body)
	}
	// Apple's me-card PROPPATCH on the home: a 207 with a per-property refusal.
	me := `<D:propertyupdate xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:set><D:prop><CS:me-card><D:href>/x</D:href></CS:me-card></D:prop></D:set></D:propertyupdate>`
	d = parseMS(t, s.do("PROPPATCH", home, alice, me))
	if _, st, _ := d.Responses[0].prop("http://calendarserver.org/ns/", "me-card"); st != "HTTP/1.1 403 Forbidden" {
		t.Errorf("me-card status %q", st)
	}
}

func TestDeleteBook(t *testing.T) {
	s := newServer(t)
	s.do("MKCOL", home+"tmp/", alice, "").expect(t, http.StatusCreated)
	s.put(alice, home+"tmp/a.vcf", card("a", "A")).expect(t, http.StatusCreated)
	s.do("DELETE", home+"tmp/", alice, "").expect(t, http.StatusNoContent)
	s.do("GET", home+"tmp/a.vcf", alice, "").expect(t, http.StatusNotFound)
	s.do("PROPFIND", home+"tmp/", alice, "", "Depth: 0").expect(t, http.StatusNotFound)
	s.do("DELETE", home, alice, "").expect(t, http.StatusForbidden)
}

func TestMoveCardBetweenBooks(t *testing.T) {
	s := newServer(t)
	s.do("MKCOL", home+"work/", alice, "").expect(t, http.StatusCreated)
	s.put(alice, book+"m.vcf", card("m", "Moved")).expect(t, http.StatusCreated)
	tok := syncTokenOf(t, s, book)
	s.do("MOVE", book+"m.vcf", alice, "", "Destination: "+s.URL+home+"work/m.vcf").expect(t, http.StatusCreated)
	s.do("GET", book+"m.vcf", alice, "").expect(t, http.StatusNotFound)
	s.do("GET", home+"work/m.vcf", alice, "").expect(t, http.StatusOK)
	d := parseMS(t, s.do("REPORT", book, alice, syncBody(tok, 0, "<D:getetag/>")))
	if r := d.response(t, book+"m.vcf"); !strings.Contains(r.Status, "404") {
		t.Errorf("moved-away card in source sync: %+v", r)
	}
	// Overwrite: F refuses an existing target.
	s.put(alice, book+"n.vcf", card("n", "N")).expect(t, http.StatusCreated)
	s.put(alice, home+"work/n2.vcf", card("n2", "N2")).expect(t, http.StatusCreated)
	s.do("MOVE", book+"n.vcf", alice, "", "Destination: "+home+"work/n2.vcf", "Overwrite: F").expect(t, http.StatusPreconditionFailed)
	// Not into another user's book.
	s.do("MOVE", book+"n.vcf", alice, "", "Destination: /dav/addressbooks/bob@example.org/contacts/n.vcf").expect(t, http.StatusForbidden)
	s.do("GET", "/dav/addressbooks/bob@example.org/contacts/n.vcf", bob, "").expect(t, http.StatusNotFound)
}

func syncTokenOf(t *testing.T, s *server, coll string) string {
	t.Helper()
	d := parseMS(t, s.do("PROPFIND", coll, alice, propfindBody("<D:sync-token/>"), "Depth: 0"))
	return d.Responses[0].ok(t, "DAV:", "sync-token").Text
}

func TestSyncCollection(t *testing.T) {
	s := newServer(t)
	for i := 0; i < 5; i++ {
		s.put(alice, fmt.Sprintf("%sc%d.vcf", book, i), card(fmt.Sprintf("c%d", i), fmt.Sprintf("Card %d", i))).expect(t, http.StatusCreated)
	}
	d := parseMS(t, s.do("REPORT", book, alice, syncBody("", 0, "<D:getetag/>"), "Depth: 1"))
	if len(d.Responses) != 5 || d.SyncToken == "" {
		t.Fatalf("initial sync: %d responses, token %q", len(d.Responses), d.SyncToken)
	}
	for _, r := range d.Responses {
		if !strings.HasPrefix(r.ok(t, "DAV:", "getetag").Text, `"`) {
			t.Errorf("%v: getetag not quoted", r.Hrefs)
		}
	}
	tok := d.SyncToken
	if tok != syncTokenOf(t, s, book) {
		t.Errorf("sync token %q differs from the collection's %q", tok, syncTokenOf(t, s, book))
	}
	// Nothing changed: empty answer, same token.
	d = parseMS(t, s.do("REPORT", book, alice, syncBody(tok, 0, "<D:getetag/>")))
	if len(d.Responses) != 0 || d.SyncToken != tok {
		t.Fatalf("no-change sync: %d responses, token %q", len(d.Responses), d.SyncToken)
	}
	s.put(alice, book+"c1.vcf", card("c1", "Card One Changed")).expect(t, http.StatusNoContent)
	s.do("DELETE", book+"c2.vcf", alice, "").expect(t, http.StatusNoContent)
	s.put(alice, book+"c9.vcf", card("c9", "Card 9")).expect(t, http.StatusCreated)
	d = parseMS(t, s.do("REPORT", book, alice, syncBody(tok, 0, "<D:getetag/>", "<C:address-data/>")))
	if len(d.Responses) != 3 {
		t.Fatalf("incremental sync: %v", d.hrefs())
	}
	if r := d.response(t, book+"c2.vcf"); r.Status != "HTTP/1.1 404 Not Found" || len(r.Propstats) != 0 {
		t.Errorf("deleted member: %+v", r)
	}
	if ad := d.response(t, book+"c1.vcf").ok(t, "urn:ietf:params:xml:ns:carddav", "address-data").Text; !strings.Contains(ad, "Card One Changed") || !strings.Contains(ad, "\r\n") {
		t.Errorf("inline address-data = %q", ad)
	}
	d.response(t, book+"c9.vcf").ok(t, "DAV:", "getetag")

	// Invalid and foreign tokens: 400 with DAV:valid-sync-token.
	for _, bad := range []string{"garbage", "https://rolodav.org/ns/sync/999:1", d.SyncToken + "0"} {
		r := s.do("REPORT", book, alice, syncBody(bad, 0, "<D:getetag/>")).expect(t, http.StatusBadRequest)
		if !strings.Contains(r.body, "valid-sync-token") {
			t.Errorf("token %q: body %s", bad, r.body)
		}
	}
}

func TestSyncCollectionLimitPages(t *testing.T) {
	s := newServer(t)
	for i := 0; i < 25; i++ {
		s.put(alice, fmt.Sprintf("%sp%02d.vcf", book, i), card(fmt.Sprintf("p%02d", i), "P")).expect(t, http.StatusCreated)
	}
	seen := map[string]bool{}
	tok := ""
	for round := 0; round < 10; round++ {
		d := parseMS(t, s.do("REPORT", book, alice, syncBody(tok, 10, "<D:getetag/>")))
		truncated := false
		for _, r := range d.Responses {
			if strings.Contains(r.Status, "507") {
				truncated = true
				if r.Hrefs[0] != book {
					t.Errorf("507 on %v", r.Hrefs)
				}
				continue
			}
			seen[r.Hrefs[0]] = true
		}
		tok = d.SyncToken
		if !truncated {
			break
		}
	}
	if len(seen) != 25 {
		t.Fatalf("paged sync saw %d cards, want 25", len(seen))
	}
}

func TestMultigetEchoesHrefs(t *testing.T) {
	s := newServer(t)
	s.put(alice, book+"m1.vcf", card("m1", "M One")).expect(t, http.StatusCreated)
	s.put(alice, book+"m%40two.vcf", card("m@two", "M Two")).expect(t, http.StatusCreated)
	hrefs := []string{book + "m1.vcf", s.URL + book + "m%40two.vcf", book + "missing.vcf", "/dav/addressbooks/bob@example.org/contacts/x.vcf"}
	body := `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`
	for _, h := range hrefs {
		body += "<D:href>" + h + "</D:href>"
	}
	body += "</C:addressbook-multiget>"
	d := parseMS(t, s.do("REPORT", book, alice, body, "Depth: 1"))
	if len(d.Responses) != 4 {
		t.Fatalf("multiget: %v", d.hrefs())
	}
	for i, h := range hrefs {
		if d.Responses[i].Hrefs[0] != h {
			t.Errorf("response %d href %q, want %q echoed", i, d.Responses[i].Hrefs[0], h)
		}
	}
	if !strings.Contains(d.Responses[1].ok(t, "urn:ietf:params:xml:ns:carddav", "address-data").Text, "FN:M Two") {
		t.Error("second card's data missing")
	}
	for _, i := range []int{2, 3} {
		if d.Responses[i].Status != "HTTP/1.1 404 Not Found" {
			t.Errorf("href %s: status %q", hrefs[i], d.Responses[i].Status)
		}
	}
}

func TestAddressDataVersionConversion(t *testing.T) {
	s := newServer(t)
	group := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:g1\r\nFN:Team\r\nKIND:group\r\nMEMBER:urn:uuid:m1\r\nEND:VCARD\r\n"
	s.put(alice, book+"g1.vcf", group).expect(t, http.StatusCreated)
	g := s.do("GET", book+"g1.vcf", alice, "", "Accept: text/vcard;version=3.0").expect(t, http.StatusOK)
	if !strings.Contains(g.body, "VERSION:3.0") || !strings.Contains(g.body, "X-ADDRESSBOOKSERVER-KIND:group") ||
		!strings.Contains(g.body, "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:m1") {
		t.Fatalf("GET as 3.0:\n%s", g.body)
	}
	if g := s.do("GET", book+"g1.vcf", alice, ""); g.body != group {
		t.Fatalf("plain GET does not return the stored card:\n%s", g.body)
	}
	body := `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop>` +
		`<C:address-data content-type="text/vcard" version="3.0"/></D:prop><D:href>` + book + `g1.vcf</D:href></C:addressbook-multiget>`
	d := parseMS(t, s.do("REPORT", book, alice, body))
	if ad := d.Responses[0].ok(t, "urn:ietf:params:xml:ns:carddav", "address-data").Text; !strings.Contains(ad, "X-ADDRESSBOOKSERVER-KIND:group") {
		t.Fatalf("multiget as 3.0: %s", ad)
	}
	bad := strings.Replace(body, `version="3.0"`, `version="2.1"`, 1)
	r := s.do("REPORT", book, alice, bad).expect(t, http.StatusUnsupportedMediaType)
	if !strings.Contains(r.body, "supported-address-data-conversion") {
		t.Errorf("2.1 refusal: %s", r.body)
	}
}

func TestAddressbookQuery(t *testing.T) {
	s := newServer(t)
	s.put(alice, book+"q1.vcf", card("q1", "Zoë Ångström", "EMAIL;TYPE=work:zoe@example.org")).expect(t, http.StatusCreated)
	s.put(alice, book+"q2.vcf", card("q2", "John Smith", "EMAIL;TYPE=home:john@example.net")).expect(t, http.StatusCreated)
	s.put(alice, book+"q3.vcf", card("q3", "Johanna Smithers")).expect(t, http.StatusCreated)
	query := func(filter string, limit int) *msDoc {
		l := ""
		if limit > 0 {
			l = fmt.Sprintf("<C:limit><C:nresults>%d</C:nresults></C:limit>", limit)
		}
		body := `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>` +
			filter + l + `</C:addressbook-query>`
		return parseMS(t, s.do("REPORT", book, alice, body, "Depth: 1"))
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{`<C:filter><C:prop-filter name="FN"><C:text-match match-type="contains">smith</C:text-match></C:prop-filter></C:filter>`, []string{"q2", "q3"}},
		{`<C:filter><C:prop-filter name="FN"><C:text-match match-type="equals" collation="i;octet">john smith</C:text-match></C:prop-filter></C:filter>`, nil},
		{`<C:filter><C:prop-filter name="FN"><C:text-match match-type="starts-with">ZOË</C:text-match></C:prop-filter></C:filter>`, []string{"q1"}},
		{`<C:filter><C:prop-filter name="EMAIL"><C:is-not-defined/></C:prop-filter></C:filter>`, []string{"q3"}},
		{`<C:filter><C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:text-match match-type="equals">work</C:text-match></C:param-filter></C:prop-filter></C:filter>`, []string{"q1"}},
		{`<C:filter test="allof"><C:prop-filter name="FN"><C:text-match>smith</C:text-match></C:prop-filter><C:prop-filter name="EMAIL"><C:text-match match-type="ends-with">.net</C:text-match></C:prop-filter></C:filter>`, []string{"q2"}},
		{`<C:filter><C:prop-filter name="FN"><C:text-match negate-condition="yes">smith</C:text-match></C:prop-filter></C:filter>`, []string{"q1"}},
	}
	for _, c := range cases {
		d := query(c.filter, 0)
		var got []string
		for _, h := range d.hrefs() {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(h, book), ".vcf"))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("filter %s: got %v, want %v", c.filter, got, c.want)
		}
	}
	d := query(`<C:filter><C:prop-filter name="FN"><C:text-match>o</C:text-match></C:prop-filter></C:filter>`, 2)
	if len(d.Responses) != 3 || !strings.Contains(d.Responses[2].Status, "507") {
		t.Errorf("limited query: %+v", d.Responses)
	}
	r := s.do("REPORT", book, alice, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>`+
		`<C:filter><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`).expect(t, http.StatusForbidden)
	if !strings.Contains(r.body, "supported-collation") {
		t.Errorf("unknown collation: %s", r.body)
	}
}

func TestUnsupportedReport(t *testing.T) {
	s := newServer(t)
	r := s.do("REPORT", book, alice, `<D:expand-property xmlns:D="DAV:"/>`).expect(t, http.StatusForbidden)
	if !strings.Contains(r.body, "supported-report") {
		t.Errorf("body: %s", r.body)
	}
}

func TestExportBook(t *testing.T) {
	s := newServer(t)
	s.put(alice, book+"e1.vcf", card("e1", "E One")).expect(t, http.StatusCreated)
	s.put(alice, book+"e2.vcf", strings.TrimSuffix(card("e2", "E Two"), "\r\n")).expect(t, http.StatusCreated)
	r := s.do("GET", book, alice, "").expect(t, http.StatusOK)
	if strings.Count(r.body, "BEGIN:VCARD") != 2 || strings.Count(r.body, "END:VCARD\r\n") != 2 {
		t.Fatalf("export:\n%q", r.body)
	}
	if !strings.Contains(r.header.Get("Content-Disposition"), "contacts.vcf") {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
}

// Every method on another user's resources looks like a missing resource.
func TestUsersCannotSeeEachOther(t *testing.T) {
	s := newServer(t)
	s.put(bob, "/dav/addressbooks/bob@example.org/contacts/secret.vcf", card("secret", "Bob Secret")).expect(t, http.StatusCreated)
	paths := []string{
		"/dav/principals/bob@example.org/",
		"/dav/addressbooks/bob@example.org/",
		"/dav/addressbooks/bob@example.org/contacts/",
		"/dav/addressbooks/bob@example.org/contacts/secret.vcf",
		"/dav/addressbooks/bob@example.org/nonexistent/",
	}
	for _, p := range paths {
		for _, m := range []string{"PROPFIND", "PROPPATCH", "REPORT", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "MOVE"} {
			body := ""
			switch m {
			case "PUT":
				body = card("evil", "Evil")
			case "PROPPATCH":
				body = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`
			case "REPORT":
				body = syncBody("", 0, "<D:getetag/>")
			}
			r := s.do(m, p, alice, body, "Depth: 1", "Destination: "+book+"stolen.vcf")
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s as alice: %d", m, p, r.status)
			}
			if strings.Contains(r.body, "secret") || strings.Contains(r.body, "Bob") {
				t.Errorf("%s %s leaks: %s", m, p, r.body)
			}
		}
	}
	s.do("GET", book+"stolen.vcf", alice, "").expect(t, http.StatusNotFound)
	// Listings show only one's own things.
	for _, p := range []string{"/dav/principals/", "/dav/addressbooks/"} {
		if r := s.do("PROPFIND", p, alice, propfindBody("<D:displayname/>"), "Depth: 1"); strings.Contains(r.body, "bob") {
			t.Errorf("PROPFIND %s lists bob: %s", p, r.body)
		}
	}
	if g := s.do("GET", "/dav/addressbooks/bob@example.org/contacts/secret.vcf", bob, ""); g.status != http.StatusOK {
		t.Errorf("bob cannot read his own card: %d", g.status)
	}
}

func TestMalformedRequests(t *testing.T) {
	s := newServer(t)
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>` +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol2;</D:displayname></D:prop></D:propfind>`
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"PROPFIND", book, "<D:propfind xmlns:D=\"DAV:\"><D:prop>", http.StatusBadRequest},
		{"PROPFIND", book, "not xml at all", http.StatusBadRequest},
		{"PROPFIND", book, bomb, http.StatusBadRequest},
		{"PROPFIND", book, `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<D:x>", 100) + strings.Repeat("</D:x>", 100) + `</D:prop></D:propfind>`, http.StatusBadRequest},
		{"PROPFIND", book, `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/>` + strings.Repeat(" ", 5<<20) + `</D:prop></D:propfind>`, http.StatusRequestEntityTooLarge},
		{"PROPFIND", book, `<D:other xmlns:D="DAV:"/>`, http.StatusBadRequest},
		{"PROPPATCH", book, `<D:propfind xmlns:D="DAV:"/>`, http.StatusBadRequest},
		{"REPORT", book, "", http.StatusBadRequest},
		{"PROPFIND", "/dav/addressbooks/alice@example.org/../bob@example.org/", "", http.StatusBadRequest},
		{"PROPFIND", "/dav/addressbooks/alice@example.org%2F..%2Fbob@example.org/", "", http.StatusBadRequest},
		{"GET", "/dav/addressbooks/alice@example.org/contacts/a%2Fb.vcf", "", http.StatusBadRequest},
		{"PROPFIND", book, "", http.StatusBadRequest}, // bad Depth below
	}
	for i, c := range cases {
		hdr := []string{"Depth: 0"}
		if i == len(cases)-1 {
			hdr = []string{"Depth: 2"}
		}
		req, _ := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
		req.URL.RawPath = c.path // keep encoded slashes and dot segments as sent
		req.SetBasicAuth(alice, alicePW)
		for _, h := range hdr {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("case %d %s %s: %d, want %d", i, c.method, c.path, resp.StatusCode, c.status)
		}
	}
	// The server is still fine.
	s.do("PROPFIND", book, alice, propfindBody("<D:displayname/>"), "Depth: 0").expect(t, http.StatusMultiStatus)
}

func TestConcurrentWriters(t *testing.T) {
	s := newServer(t)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				uid := fmt.Sprintf("w%d-%d", w, i)
				req, _ := http.NewRequest("PUT", s.URL+book+uid+".vcf", strings.NewReader(card(uid, uid)))
				req.SetBasicAuth(alice, alicePW)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Sprintf("%s: %d", uid, resp.StatusCode)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	d := parseMS(t, s.do("REPORT", book, alice, syncBody("", 0, "<D:getetag/>")))
	if len(d.Responses) != 80 {
		t.Errorf("synced %d cards, want 80", len(d.Responses))
	}
}
