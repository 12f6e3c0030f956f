package main_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestImportCardsTwiceCreatesNoDuplicates(t *testing.T) {
	data := t.TempDir()
	cli(t, "ivy password\n", "user", "add", "ivy", "--data", data, "--password-stdin")
	file := filepath.Join(t.TempDir(), "phone.vcf")
	book := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Carla One\r\nTEL:+49 30 1234567\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEMAIL:nouid@example.org\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1-copy\r\nFN:Carla One\r\nTEL:+49 30 1234567\r\nREV:2026-01-01T00:00:00Z\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN broken\r\nEND:VCARD\r\n"
	os.WriteFile(file, []byte(book), 0o600)
	out, errOut, code := cli(t, "", "import", "--user", "ivy", "--book", "contacts", "--data", data, file)
	if code != 1 || !strings.Contains(out, "added 2, updated 0, skipped 1 (already present), rejected 1") {
		t.Fatalf("first import: %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, file+":22: rejected: property without a colon") ||
		!strings.Contains(errOut, file+":12: Carla One: skipped: same content as Carla One, already in this address book") {
		t.Errorf("first import report: %q", errOut)
	}
	out, _, _ = cli(t, "", "import", "--user", "ivy", "--data", data, file)
	if !strings.Contains(out, "added 0, updated 0, skipped 3 (already present), rejected 1") {
		t.Fatalf("second import of the same file: %q", out)
	}
	// A changed card with a known UID updates it.
	changed := strings.Replace(book, "FN:Carla One\r\nTEL:+49 30 1234567\r\nEND", "FN:Carla One\r\nTEL:+49 30 7654321\r\nEND", 1)
	os.WriteFile(file, []byte(changed), 0o600)
	out, _, _ = cli(t, "", "import", "--user", "ivy", "--data", data, file)
	if !strings.Contains(out, "added 0, updated 1,") {
		t.Fatalf("import of a changed card: %q", out)
	}
	// The server serves exactly what was imported.
	d := start(t, data)
	code, _, body := d.req(t, "GET", "/dav/addressbooks/ivy/contacts/c1.vcf", "ivy", "ivy password", "")
	if code != 200 || !strings.Contains(body, "7654321") {
		t.Errorf("GET imported card: %d %s", code, body)
	}
	exported, _, _ := cli(t, "", "export", "--user", "ivy", "--data", data)
	if n := strings.Count(exported, "BEGIN:VCARD"); n != 2 {
		t.Errorf("book holds %d cards, want 2:\n%s", n, exported)
	}
	if _, errOut, code := cli(t, "", "import", "--user", "ivy", "--book", "nope", "--data", data, file); code != 1 || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("import into a missing book: %d %q", code, errOut)
	}
}

// TestImportFileEndsInsideACard: the cards before a cut last card are
// imported and counted, and the report ends with where the file stopped.
func TestImportFileEndsInsideACard(t *testing.T) {
	data := t.TempDir()
	cli(t, "ivy password\n", "user", "add", "ivy", "--data", data, "--password-stdin")
	file := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Carla One\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c2\r\nFN:Carla Two\r\n"
	out, errOut, code := cli(t, file, "import", "--user", "ivy", "--data", data, "-")
	if code != 1 || !strings.Contains(out, "added 1, updated 0, skipped 0 (already present), rejected 1") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "standard input:6: stopped: the file ends inside a card that starts at line 6: that card was not imported") {
		t.Errorf("report: %q", errOut)
	}
}

func TestImportCalendar(t *testing.T) {
	data := t.TempDir()
	cli(t, "jon password\n", "user", "add", "jon", "--data", data, "--password-stdin")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:PUBLISH\r\n" +
		"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nDTEND:20261102T100000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:once\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nDTEND:20261105T100000Z\r\nSUMMARY:Once\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20261109T090000Z\r\nDTSTART:20261109T110000Z\r\nDTEND:20261109T120000Z\r\nSUMMARY:Weekly moved\r\nEND:VEVENT\r\n" +
		"BEGIN:VTODO\r\nUID:todo\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Not for a calendar of events\r\nEND:VTODO\r\n" +
		"END:VCALENDAR\r\n"
	out, errOut, code := cli(t, ics, "import", "--user", "jon", "--calendar", "calendar", "--data", data, "-")
	if code != 1 || !strings.Contains(out, "added 2, updated 0, skipped 0 (already present), rejected 1") || !strings.Contains(errOut, "rejected") {
		t.Fatalf("calendar import: %d %q %q", code, out, errOut)
	}
	out, _, _ = cli(t, ics, "import", "--user", "jon", "--calendar", "calendar", "--data", data, "-")
	if !strings.Contains(out, "added 0, updated 0, skipped 2") {
		t.Fatalf("second calendar import: %q", out)
	}
	d := start(t, data)
	code, _, body := d.req(t, "GET", "/dav/calendars/jon/calendar/weekly.ics", "jon", "jon password", "")
	if code != 200 || !strings.Contains(body, "RECURRENCE-ID") || strings.Contains(body, "METHOD") {
		t.Errorf("imported recurring event: %d\n%s", code, body)
	}
	q := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">` +
		`<C:comp-filter name="VEVENT"><C:time-range start="20261109T103000Z" end="20261109T113000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	if code, _, body := d.req(t, "REPORT", "/dav/calendars/jon/calendar/", "jon", "jon password", q, "Depth: 1"); code != 207 || !strings.Contains(body, "weekly.ics") {
		t.Errorf("the moved instance is not found by time range: %d %s", code, body)
	}
}

// bigCardFile is a .vcf of three cards: the second, starting on line 7,
// has about size bytes.
func bigCardFile(size int) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:small-a\r\nFN:Small A\r\nTEL:+49 30 1111111\r\nEND:VCARD\r\n")
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big Card\r\n")
	for b.Len() < size {
		b.WriteString("NOTE:" + strings.Repeat("x", 60) + "\r\n")
	}
	b.WriteString("END:VCARD\r\n")
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:small-b\r\nFN:Small B\r\nTEL:+49 30 2222222\r\nEND:VCARD\r\n")
	return b.String()
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webClient signs in to the account pages of d as a browser would and
// returns its client and a page's form token.
func webClient(t *testing.T, d *daemon, login, password, page string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	token := func(path string) string {
		resp, err := c.Get(d.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := csrfRE.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("GET %s: %d, no form token\n%s", path, resp.StatusCode, body)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(d.url+"/account/signin", url.Values{"login": {login}, "password": {password}, "csrf": {token("/account/signin")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c, token(page)
}

// The import page of `rolodav serve` obeys --max-resource-size per card
// and leaves nothing in $TMPDIR; `rolodav import` obeys the same flag.
func TestImportObeysMaxResourceSize(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the server inherits it
	data := t.TempDir()
	cli(t, "kim password\n", "user", "add", "kim", "--data", data, "--password-stdin")
	file := bigCardFile(2 << 20)
	d := start(t, data, "--max-resource-size", "100000")
	page := "/account/collections/addressbooks/contacts"
	c, csrf := webClient(t, d, "kim", "kim password", page)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "big.vcf")
	fw.Write([]byte(file))
	mw.Close()
	resp, err := c.Post(d.url+page+"/import", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), "Rejected: 1") ||
		!strings.Contains(string(out), `<th scope="row">7</th><td>—</td><td>Rejected: the card has`) || !strings.Contains(string(out), "at most 100000 bytes") {
		t.Errorf("page import: %d\n%.3000s", resp.StatusCode, out)
	}
	for name, want := range map[string]int{"small-a.vcf": 200, "small-b.vcf": 200, "big.vcf": 404} {
		if code, _, _ := d.req(t, "GET", "/dav/addressbooks/kim/contacts/"+name, "kim", "kim password", ""); code != want {
			t.Errorf("GET %s after the page import: %d, want %d", name, code, want)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the upload left files in $TMPDIR: %v", left)
	}

	path := filepath.Join(t.TempDir(), "big.vcf")
	os.WriteFile(path, []byte(file), 0o600)
	stdout, stderr, code := cli(t, "", "import", "--user", "kim", "--data", data, "--max-resource-size", "100000", path)
	if code != 1 || !strings.Contains(stdout, "skipped 2 (already present), rejected 1") ||
		!strings.Contains(stderr, path+":7: rejected: the card has") || !strings.Contains(stderr, "at most 100000 bytes") {
		t.Errorf("CLI import with --max-resource-size: %d %q %q", code, stdout, stderr)
	}
	// The default is serve's: 10 MiB.
	os.WriteFile(path, []byte(bigCardFile(11<<20)), 0o600)
	stdout, stderr, code = cli(t, "", "import", "--user", "kim", "--data", data, path)
	if code != 1 || !strings.Contains(stdout, "rejected 1") || !strings.Contains(stderr, "at most 10485760 bytes") {
		t.Errorf("CLI import of an 11 MiB card: %d %q %q", code, stdout, stderr)
	}
}
