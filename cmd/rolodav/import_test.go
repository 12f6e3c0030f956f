package main_test

import (
	"os"
	"path/filepath"
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
	if !strings.Contains(errOut, file+":22: rejected: property without a colon") || !strings.Contains(errOut, "same content as c1") {
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
