package web

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// numberedCards is n distinct cards, Person 0 … Person n-1, 6 lines each.
func numberedCards(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(collCard(fmt.Sprint("u", i), fmt.Sprint("Person ", i), fmt.Sprint("+49 30 ", 1000+i)))
	}
	return b.String()
}

// importSummary checks that body is the collection page with an import
// summary holding every want.
func importSummary(t *testing.T, what string, body string, want ...string) {
	t.Helper()
	want = append(want, `<h2 id="import-summary">`, `<h2>Import</h2>`)
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page lacks %s\n%s", what, w, body)
		}
	}
	for _, bad := range []string{"Bad Request", "Nothing after that line was imported"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s: the page says %q", what, bad)
		}
	}
}

// TestImportBrokenLastCardShowsCounts: a file whose last card has no end
// shows the same summary as a good import, with each problem at its line
// and the cut card last; the cards before it are in the book.
func TestImportBrokenLastCardShowsCounts(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	// 217 cards, Person 5's copy under another UID, a broken card, and a
	// last card without its end.
	file := numberedCards(217) +
		collCard("copy", "Person 5", "+49 30 1005") + // line 1303
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN:Broken Bob\r\nTEL broken\r\nEND:VCARD\r\n" + // 1309, the bad line 1313
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:last\r\nFN:Last One\r\n" // 1315
	resp, body := collUpload(t, s, "/account/collections/addressbooks/friends/import", s.CSRF, "phone.vcf", file, false)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200: the import ran and the page reports it", resp.StatusCode)
	}
	importSummary(t, "broken last card", body, "Imported phone.vcf", "Added: 217", "Updated: 0", "Skipped (already here): 1", "Rejected: 2",
		`<th scope="row">1303</th><td>Person 5</td><td>Skipped: same content as Person 5, already in this address book</td>`,
		`<th scope="row">1313</th><td>Broken Bob</td><td>Rejected: property without a colon</td>`,
		`<strong>Stopped:</strong> the file ends inside a card that starts at line 1315: that card was not imported.`)
	if strings.Contains(body, "same content as u5") {
		t.Error("a problem names a card by its UID")
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.Count != 217 {
		t.Errorf("the book holds %d cards, want 217", c.Count)
	}
}

// TestImportCutUploadShowsCounts: an upload stopped by the size limit
// midway (no Content-Length to refuse it first) reports what was
// imported from the part that arrived.
func TestImportCutUploadShowsCounts(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxUpload = 64 << 10 })
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", s.CSRF)
	fw, _ := mw.CreateFormFile("file", "all.vcf")
	fw.Write([]byte(numberedCards(2000))) // about 200 KB
	mw.Close()
	resp, body := s.do(t, http.MethodPost, "/account/collections/addressbooks/friends/import", mw.FormDataContentType(), io.MultiReader(&b))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	importSummary(t, "cut upload", body, "Imported all.vcf", "Rejected: 0",
		"<strong>Stopped:</strong> the upload was cut off at 64.0 KB, the most this server accepts. What came before was imported; to import the rest, split the file.")
	m := regexp.MustCompile(`Added: (\d+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no count of added cards")
	}
	added, _ := strconv.Atoi(m[1])
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); added < 100 || int64(added) != c.Count {
		t.Errorf("the page says %d added, the book holds %d", added, c.Count)
	}
}

// TestImportTooLargeShowsPage: a file known to be too large (by its
// Content-Length) is refused before it is read, on the collection page,
// saying that nothing was imported.
func TestImportTooLargeShowsPage(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxUpload = 4 << 10 })
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	resp, body := collUpload(t, s, "/account/collections/addressbooks/friends/import", s.CSRF, "big.vcf", numberedCards(200), false)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413: nothing was done", resp.StatusCode)
	}
	importSummary(t, "too large", body, "Imported big.vcf", "Added: 0",
		"<strong>Stopped:</strong> big.vcf is more than this server accepts (4.0 KB), so nothing was imported. Split it into smaller files.")
	// And the token is still checked.
	if resp, _ := collUpload(t, s, "/account/collections/addressbooks/friends/import", "wrong", "big.vcf", numberedCards(200), false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("too large with a wrong token: %d, want 403", resp.StatusCode)
	}
}

// TestImportCalendarNamesEvents: an event is named by its title, and an
// .ics that cannot be read says that nothing in it was imported.
func TestImportCalendarNamesEvents(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	path := "/account/collections/calendars/home/import"
	collCal(t, ts, "home")
	event := func(uid string) string {
		return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:Anna's birthday\r\nEND:VEVENT\r\n"
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" + event("e1") + event("e2") + "END:VCALENDAR\r\n"
	resp, body := collUpload(t, s, path, s.CSRF, "cal.ics", ics, false)
	name := html.EscapeString("Anna's birthday")
	importSummary(t, "events", body, "Added: 1", "Skipped (already here): 1",
		`<th scope="row">10</th><td>`+name+`</td><td>Skipped: same content as `+name+`, already in this calendar</td>`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	resp, body = collUpload(t, s, path, s.CSRF, "cut.ics", ics[:len(ics)-len("END:VCALENDAR\r\n")], false)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("cut .ics: status %d", resp.StatusCode)
	}
	importSummary(t, "cut .ics", body, "Added: 0", "the file cannot be read, so nothing in it was imported.")
}

func collCal(t *testing.T, ts *testServer, name string) {
	t.Helper()
	if err := ts.Store.CreateCollection(t.Context(), &store.Collection{Owner: testLogin, Kind: store.KindCal, Name: name, Components: []string{"VEVENT"}}); err != nil {
		t.Fatal(err)
	}
}

// A calendar is read whole before anything is stored: a cut .ics upload
// (no Content-Length, so it is cut at the limit rather than refused) stored
// nothing, and the page says so instead of "what came before was imported".
func TestImportCutCalendarUploadSaysNothingImported(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxUpload = 8 << 10 })
	collCal(t, ts, "home")
	s := ts.signedIn(t, testLogin)
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n")
	for i := range 200 {
		fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:e%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\n", i, i)
	}
	ics.WriteString("END:VCALENDAR\r\n")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.WriteField("csrf", s.CSRF); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", "all.ics")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write([]byte(ics.String())); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	// io.MultiReader hides the length: the request goes without Content-Length.
	_, body := s.do(t, http.MethodPost, "/account/collections/calendars/home/import", mw.FormDataContentType(), io.MultiReader(&b))
	if !strings.Contains(body, "Added: 0") {
		t.Fatalf("want nothing added:\n%s", body)
	}
	if strings.Contains(body, "What came before was imported") || !strings.Contains(body, "Nothing was imported") {
		t.Errorf("the page does not say that nothing was imported:\n%s", body)
	}
}
