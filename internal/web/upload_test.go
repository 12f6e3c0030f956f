package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// uploadCards is a .vcf of n distinct cards of about 1 KiB.
func uploadCards(n int) string {
	var b strings.Builder
	note := strings.Repeat("x", 1000)
	for i := range n {
		fmt.Fprintf(&b, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u%d\r\nFN:Person %d\r\nNOTE:%s\r\nEND:VCARD\r\n", i, i, note)
	}
	return b.String()
}

// tmpLeft lists what is in dir.
func tmpLeft(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestUploadLeavesNoTemporaryFile posts files bigger than what net/http
// keeps in memory (1 MiB) to the import page, through the request log as
// serve mounts it, and checks that $TMPDIR is empty after every outcome.
func TestUploadLeavesNoTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ts := newTestServer(t, func(c *Config) { c.MaxUpload = 3 << 20 })
	collBook(t, ts, testLogin, "friends")
	collBook(t, ts, testLogin, "gone")
	s := ts.signedIn(t, testLogin)
	path := "/account/collections/addressbooks/friends/import"
	good := uploadCards(2000) // about 2 MiB
	if len(good) < 3<<19 || len(good) > 5<<19 {
		t.Fatalf("the test file has %d bytes, want about 2 MiB", len(good))
	}
	cases := []struct {
		name, path, csrf, file string
		status                 int
	}{
		{"success", path, s.CSRF, good, http.StatusOK},
		{"bad form token", path, "wrong", good, http.StatusForbidden},
		{"too large", path, s.CSRF, good + good, http.StatusRequestEntityTooLarge},
		{"not a vCard", path, s.CSRF, strings.Repeat("no card here\r\n", 150000), http.StatusBadRequest},
		{"cannot be framed", path, s.CSRF, good + "garbage\r\n", http.StatusOK}, // read: its summary says where it stopped
		{"into a missing book", "/account/collections/addressbooks/nope/import", s.CSRF, good, http.StatusNotFound},
	}
	for _, c := range cases {
		resp, body := collUpload(t, s, c.path, c.csrf, "up.vcf", c.file, false)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d\n%.500s", c.name, resp.StatusCode, c.status, body)
		}
		ts.waitRequest(t, "POST "+c.path)
		if left := tmpLeft(t, tmp); len(left) > 0 {
			t.Errorf("%s: left in $TMPDIR: %v", c.name, left)
			for _, f := range left {
				os.Remove(tmp + "/" + f)
			}
		}
	}
	// Without a Content-Length the limit stops the upload midway: what
	// was read is imported (each card on its own), and the summary says
	// where the upload was cut.
	var chunked bytes.Buffer
	mw := multipart.NewWriter(&chunked)
	mw.WriteField("csrf", s.CSRF)
	fw, _ := mw.CreateFormFile("file", "up.vcf")
	fw.Write([]byte(good + uploadCards(4000)[len(good):]))
	mw.Close()
	resp, page := s.do(t, http.MethodPost, path, mw.FormDataContentType(), io.MultiReader(&chunked))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "cut off at 3.0 MB") {
		t.Errorf("chunked upload over the limit: %d\n%.500s", resp.StatusCode, page)
	}
	if left := tmpLeft(t, tmp); len(left) > 0 {
		t.Errorf("chunked upload over the limit: left in $TMPDIR: %v", left)
	}

	// The page puts the token before the file; a form with the file
	// first is refused before the file is read.
	var first bytes.Buffer
	mw = multipart.NewWriter(&first)
	fw, _ = mw.CreateFormFile("file", "up.vcf")
	fw.Write([]byte(good))
	mw.WriteField("csrf", s.CSRF)
	mw.Close()
	if resp, _ := s.do(t, http.MethodPost, path, mw.FormDataContentType(), &first); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the file before the token: %d, want 403", resp.StatusCode)
	}
	if left := tmpLeft(t, tmp); len(left) > 0 {
		t.Errorf("the file before the token: left in $TMPDIR: %v", left)
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.Count < 2000 || c.Count >= 4000 {
		t.Errorf("%d cards imported, want 2000 and some of the chunked upload's", c.Count)
	}

	// A client that goes away in the middle of its upload.
	var body bytes.Buffer
	mw = multipart.NewWriter(&body)
	mw.WriteField("csrf", s.CSRF)
	fw, _ = mw.CreateFormFile("file", "up.vcf")
	fw.Write([]byte(good))
	u, _ := url.Parse(ts.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	gone := "/account/collections/addressbooks/gone/import"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		gone, u.Host, s.Cookie.Name, s.Cookie.Value, mw.FormDataContentType(), body.Len()+1<<20)
	conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(body.Bytes()); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	ts.waitRequest(t, "POST "+gone)
	if left := tmpLeft(t, tmp); len(left) > 0 {
		t.Errorf("client gone: left in $TMPDIR: %v", left)
	}
}

// TestImportObeysMaxResourceSize imports a file with a card over the
// server's per-object limit: the page reports it with its line like other
// rejects and stores the rest.
func TestImportObeysMaxResourceSize(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxResourceSize = 100 << 10 })
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	var big strings.Builder
	big.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big Card\r\n")
	for big.Len() < 2<<20 {
		big.WriteString("NOTE:" + strings.Repeat("x", 60) + "\r\n")
	}
	big.WriteString("END:VCARD\r\n")
	file := collCard("a", "Ann", "1") + big.String() + collCard("b", "Bob", "2")
	resp, body := collUpload(t, s, "/account/collections/addressbooks/friends/import", s.CSRF, "big.vcf", file, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%.1000s", resp.StatusCode, body)
	}
	for _, want := range []string{"Added: 2", "Rejected: 1", `<th scope="row">7</th><td>—</td><td>Rejected: the card has`, "at most 102400 bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("summary lacks %s\n%.3000s", want, body)
		}
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.Count != 2 || c.Bytes > 100<<10 {
		t.Errorf("after the import: %d cards, %d bytes", c.Count, c.Bytes)
	}

	// The same for a calendar.
	if err := ts.Store.CreateCollection(context.Background(), &store.Collection{Owner: testLogin, Kind: store.KindCal, Name: "home", Components: []string{"VEVENT"}}); err != nil {
		t.Fatal(err)
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:small\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nSUMMARY:Small\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:big\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nDESCRIPTION:" + strings.Repeat("x", 200<<10) + "\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	resp, body = collUpload(t, s, "/account/collections/calendars/home/import", s.CSRF, "big.ics", ics, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Added: 1") || !strings.Contains(body, "Rejected: the calendar object has") {
		t.Errorf("calendar import: %d\n%.3000s", resp.StatusCode, body)
	}
}

// TestFormTooLarge: a form without a file is read into memory, so it is
// refused past maxFormBytes, whatever the upload limit.
func TestFormTooLarge(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	resp, body := s.post(t, "/account/collections", url.Values{"name": {strings.Repeat("x", maxFormBytes)}, "kind": {"addressbook"}, "colour": {"#000000"}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "256.0 KB") {
		t.Errorf("a form of more than 256 KiB: %d\n%.1000s", resp.StatusCode, body)
	}
}

// TestImportRuleWorkBudget: an upload full of costly recurrence rules gets
// the work of one request, as over DAV: the rules past it are rejected
// unchecked, and events without them still go in.
func TestImportRuleWorkBudget(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	if err := ts.Store.CreateCollection(context.Background(), &store.Collection{Owner: testLogin, Kind: store.KindCal, Name: "home", Components: []string{"VEVENT"}}); err != nil {
		t.Fatal(err)
	}
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n")
	// Each has no instance (odd seconds of an even grid), so checking that
	// it reaches its COUNT takes a whole object's budget (2M of a request's
	// 32M units) before it is refused.
	const costly = 40
	for i := range costly {
		fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:costly-%d\r\nSUMMARY:costly %d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\n"+
			"RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1;COUNT=1\r\nEND:VEVENT\r\n", i, i)
	}
	ics.WriteString("BEGIN:VEVENT\r\nUID:plain\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	resp, body := collUpload(t, s, "/account/collections/calendars/home/import", s.CSRF, "costly.ics", ics.String(), false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "import the rest in another file") {
		t.Fatalf("import: %d\n%.3000s", resp.StatusCode, body)
	}
	if n := strings.Count(body, "import the rest in another file"); n < costly/2 {
		t.Errorf("%d of %d costly rules left unchecked, want most", n, costly)
	}
	c := collGet(t, ts, testLogin, store.KindCal, "home")
	if c.Count != 1 {
		t.Errorf("%d events stored, want the plain one", c.Count)
	}
	if _, err := ts.Store.GetObject(context.Background(), c.ID, "plain.ics"); err != nil {
		t.Errorf("the plain event: %v", err)
	}
}
