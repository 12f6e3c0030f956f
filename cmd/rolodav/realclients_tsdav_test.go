package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTsdavClient runs the npm package tsdav (the CardDAV/CalDAV library of
// web and Electron apps) against the real binary: account discovery for
// both account types, fetchAddressBooks, fetchVCards, createVCard,
// fetchCalendars, fetchCalendarObjects (with time ranges),
// createCalendarObject, and smartCollectionSync noticing changes made over
// plain HTTP between two calls. The steps and their checks are in
// testdata/tsdav/scenario.mjs; its dependencies come from
// `npm ci --prefix cmd/rolodav/testdata/tsdav`.
func TestTsdavClient(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "tsdav")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "tsdav", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("node or tsdav missing (apt-get install nodejs npm; npm ci --prefix cmd/rolodav/testdata/tsdav): %v", err)
		}
		t.Fatalf("CI: node or tsdav missing; the CI script must install nodejs and npm and run `npm ci --prefix cmd/rolodav/testdata/tsdav`: %v", err)
	}

	data := t.TempDir()
	const user, password = "tess@example.org", "tess tsdav password"
	if _, errOut, code := cli(t, password+"\n", "user", "add", user, "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	d := start(t, data)
	seed := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:seed\r\nFN:Seed Person\r\nN:Person;Seed;;;\r\nEND:VCARD\r\n"
	if code, _, body := d.req(t, "PUT", "/dav/addressbooks/"+user+"/contacts/seed.vcf", user, password, seed, "Content-Type: text/vcard"); code != 201 {
		t.Fatalf("PUT seed card: %d %s", code, body)
	}
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav tests//EN\r\nBEGIN:VEVENT\r\nUID:seed-event\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Weekly seed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, _, body := d.req(t, "PUT", "/dav/calendars/"+user+"/calendar/seed-event.ics", user, password, ev, "Content-Type: text/calendar"); code != 201 {
		t.Fatalf("PUT seed event: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "scenario.mjs", d.url, user, password)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tsdav scenario failed (%v):\n%s\n--- server log (last lines) ---\n%s", err, out, lastLines(d.log(), 40))
	}
	if !strings.Contains(string(out), "OK: tsdav scenario passed") {
		t.Fatalf("tsdav scenario did not finish:\n%s", out)
	}
	t.Logf("tsdav scenario:\n%s", out)
}
