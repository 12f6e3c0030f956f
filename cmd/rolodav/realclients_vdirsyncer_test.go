package main_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The command-line tools of the vdir ecosystem (Debian packages vdirsyncer,
// khard and khal) against the real binary: vdirsyncer syncs the server's
// address books and calendars with folders of .vcf/.ics files, khard and
// khal read those folders back.

// rcRequireTool skips the test when the program is missing, unless the CI
// variable is set: CI must have it.
func rcRequireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s not installed (apt-get install %s): %v", name, debianPackage, err)
		}
		t.Fatalf("CI: %s not installed; the CI script must install the Debian package %s: %v", name, debianPackage, err)
	}
	return p
}

// vdir is one vdirsyncer set-up: a server with one user, a home directory
// for the tools and a vdirsyncer config pairing local folders with the
// server.
type vdir struct {
	t          *testing.T
	d          *daemon
	home       string
	user, pass string
	local      string // folders of the "filesystem" storages: local/contacts/<book>/, local/calendars/<cal>/
	config     string
	// calendarsRemote holds extra lines for the caldav storage, such as
	// item_types and a date range.
	calendarsRemote string
}

func newVdir(t *testing.T) *vdir {
	t.Helper()
	rcRequireTool(t, "vdirsyncer", "vdirsyncer")
	data := t.TempDir()
	v := &vdir{t: t, home: t.TempDir(), user: "vera@example.org", pass: "vera vdirsyncer password"}
	if _, errOut, code := cli(t, v.pass+"\n", "user", "add", v.user, "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	v.d = start(t, data)
	v.local = filepath.Join(v.home, "local")
	v.config = filepath.Join(v.home, "vdirsyncer.conf")
	for _, p := range []string{"contacts", "calendars"} {
		if err := os.MkdirAll(filepath.Join(v.local, p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	v.writeConfig("a wins", "a wins")
	return v
}

// writeConfig writes the vdirsyncer config. Side a is the local folder,
// side b the server; collections come from both sides.
func (v *vdir) writeConfig(contactsConflict, calendarsConflict string) {
	v.t.Helper()
	conf := fmt.Sprintf(`[general]
status_path = %[1]q

[pair contacts]
a = "contacts_local"
b = "contacts_remote"
collections = ["from a", "from b"]
conflict_resolution = %[2]q
metadata = ["displayname"]

[storage contacts_local]
type = "filesystem"
path = %[3]q
fileext = ".vcf"

[storage contacts_remote]
type = "carddav"
url = %[5]q
username = %[6]q
password = %[7]q

[pair calendars]
a = "calendars_local"
b = "calendars_remote"
collections = ["from a", "from b"]
conflict_resolution = %[8]q
metadata = ["displayname", "color"]

[storage calendars_local]
type = "filesystem"
path = %[4]q
fileext = ".ics"

[storage calendars_remote]
type = "caldav"
url = %[5]q
username = %[6]q
password = %[7]q
%[9]s`, filepath.Join(v.home, "status")+"/", contactsConflict, filepath.Join(v.local, "contacts")+"/",
		filepath.Join(v.local, "calendars")+"/", v.d.url+"/", v.user, v.pass, calendarsConflict, v.calendarsRemote)
	rcWriteFile(v.t, v.config, conf)
}

func rcWriteFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rcToolEnv keeps the tools away from the real home directory.
func rcToolEnv(home string) []string {
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LANG", "LC_ALL", "TZ":
			continue
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TZ=Europe/Berlin", "PYTHONDONTWRITEBYTECODE=1")
}

// rcRunTool runs a tool to completion and fails the test on a non-zero exit.
func rcRunTool(t *testing.T, home, stdin, name string, args ...string) string {
	t.Helper()
	out, err := rcRunToolErr(home, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func rcRunToolErr(home, stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = rcToolEnv(home)
	cmd.Dir = home
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// vdirsyncer runs one vdirsyncer command; on failure it shows the server's
// request log too.
func (v *vdir) vdirsyncer(stdin string, args ...string) string {
	v.t.Helper()
	out, err := rcRunToolErr(v.home, stdin, "vdirsyncer", append([]string{"-c", v.config}, args...)...)
	if err != nil {
		v.t.Fatalf("vdirsyncer %s: %v\n%s\n--- server log (last lines) ---\n%s", strings.Join(args, " "), err, out, lastLines(v.d.log(), 30))
	}
	return out
}

// discover runs `vdirsyncer discover` and answers yes to every
// "Should vdirsyncer attempt to create it?".
func (v *vdir) discover(pairs ...string) string {
	v.t.Helper()
	return v.vdirsyncer(strings.Repeat("y\n", 10), append([]string{"discover"}, pairs...)...)
}

// path of a resource on the server: kind is "addressbooks" or "calendars".
func (v *vdir) path(kind, collection, name string) string {
	return "/dav/" + kind + "/" + v.user + "/" + collection + "/" + name
}

func (v *vdir) put(kind, collection, name, body string) {
	v.t.Helper()
	ct := "text/vcard"
	if kind == "calendars" {
		ct = "text/calendar"
	}
	code, _, resp := v.d.req(v.t, "PUT", v.path(kind, collection, name), v.user, v.pass, body, "Content-Type: "+ct)
	if code != 201 && code != 204 {
		v.t.Fatalf("PUT %s: %d %s", v.path(kind, collection, name), code, resp)
	}
}

// get returns the status and body of a server resource.
func (v *vdir) get(kind, collection, name string) (int, string) {
	v.t.Helper()
	code, _, body := v.d.req(v.t, "GET", v.path(kind, collection, name), v.user, v.pass, "")
	return code, body
}

func (v *vdir) del(kind, collection, name string) {
	v.t.Helper()
	if code, _, body := v.d.req(v.t, "DELETE", v.path(kind, collection, name), v.user, v.pass, ""); code != 204 {
		v.t.Fatalf("DELETE %s: %d %s", v.path(kind, collection, name), code, body)
	}
}

// members lists the resource names in a server collection (PROPFIND Depth 1).
func (v *vdir) members(kind, collection string) []string {
	v.t.Helper()
	p := v.path(kind, collection, "")
	code, _, body := v.d.req(v.t, "PROPFIND", p, v.user, v.pass,
		`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, "Depth: 1")
	if code != 207 {
		v.t.Fatalf("PROPFIND %s: %d %s", p, code, body)
	}
	var names []string
	for _, m := range rcHrefRE.FindAllStringSubmatch(body, -1) {
		if h := m[1]; strings.HasPrefix(h, p) && h != p {
			names = append(names, strings.TrimPrefix(h, p))
		}
	}
	sort.Strings(names)
	return names
}

var rcHrefRE = regexp.MustCompile(`<D:href>([^<]+)</D:href>`)

// prop returns the text of one property of a server collection, "" when
// the server does not answer it with 200.
func (v *vdir) prop(kind, collection, ns, name string) string {
	v.t.Helper()
	p := v.path(kind, collection, "")
	code, _, body := v.d.req(v.t, "PROPFIND", p, v.user, v.pass,
		`<D:propfind xmlns:D="DAV:"><D:prop><X:`+name+` xmlns:X="`+ns+`"/></D:prop></D:propfind>`, "Depth: 0")
	if code != 207 {
		v.t.Fatalf("PROPFIND %s %s: %d %s", p, name, code, body)
	}
	var ms struct {
		Responses []struct {
			Propstats []struct {
				Props struct {
					Any []struct {
						XMLName xml.Name
						Text    string `xml:",chardata"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		v.t.Fatalf("PROPFIND %s %s: %v\n%s", p, name, err, body)
	}
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if !strings.Contains(ps.Status, " 200 ") {
				continue
			}
			for _, e := range ps.Props.Any {
				if e.XMLName.Space == ns && e.XMLName.Local == name {
					return strings.TrimSpace(e.Text)
				}
			}
		}
	}
	return ""
}

func (v *vdir) proppatch(kind, collection, ns, name, value string) {
	v.t.Helper()
	p := v.path(kind, collection, "")
	code, _, body := v.d.req(v.t, "PROPPATCH", p, v.user, v.pass,
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:`+name+` xmlns:X="`+ns+`">`+value+`</X:`+name+`></D:prop></D:set></D:propertyupdate>`)
	if code != 207 || !strings.Contains(body, "HTTP/1.1 200 OK") {
		v.t.Fatalf("PROPPATCH %s %s: %d %s", p, name, code, body)
	}
}

// localDir is the folder of one local collection: kind "contacts" or "calendars".
func (v *vdir) localDir(kind, collection string) string {
	return filepath.Join(v.local, kind, collection)
}

// localFiles lists the item files of a local collection.
func (v *vdir) localFiles(kind, collection, ext string) []string {
	v.t.Helper()
	entries, err := os.ReadDir(v.localDir(kind, collection))
	if err != nil {
		v.t.Fatalf("local collection %s/%s: %v", kind, collection, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ext) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

func (v *vdir) readLocal(kind, collection, name string) string {
	v.t.Helper()
	b, err := os.ReadFile(filepath.Join(v.localDir(kind, collection), name))
	if err != nil {
		v.t.Fatalf("local file: %v", err)
	}
	return string(b)
}

func (v *vdir) writeLocal(kind, collection, name, content string) {
	v.t.Helper()
	dir := v.localDir(kind, collection)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		v.t.Fatal(err)
	}
	rcWriteFile(v.t, filepath.Join(dir, name), content)
}

func (v *vdir) removeLocal(kind, collection, name string) {
	v.t.Helper()
	if err := os.Remove(filepath.Join(v.localDir(kind, collection), name)); err != nil {
		v.t.Fatal(err)
	}
}

// localMeta reads a metadata file (displayname, color) of a local collection.
func (v *vdir) localMeta(kind, collection, key string) string {
	b, err := os.ReadFile(filepath.Join(v.localDir(kind, collection), key))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func rcPerson(uid, fn string) string {
	given, family, _ := strings.Cut(fn, " ")
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + family + ";" + given + ";;;\r\n" +
		"EMAIL;TYPE=INTERNET:" + uid + "@example.org\r\nTEL;TYPE=CELL:+49 30 " + fmt.Sprint(len(uid)*1111) + "\r\nEND:VCARD\r\n"
}

func rcEvent(uid, summary, start, end string, extra ...string) string {
	x := ""
	for _, e := range extra {
		x += e + "\r\n"
	}
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav tests//vdirsyncer//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end + "\r\n" + x + "SUMMARY:" + summary +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func rcHasLine(s, line string) bool {
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func rcEq(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestVdirsyncerContacts: discover, sync and metasync of address books in
// both directions, deletions, conflicts resolved as configured.
func TestVdirsyncerContacts(t *testing.T) {
	t.Parallel()
	v := newVdir(t)
	v.put("addressbooks", "contacts", "alice.vcf", rcPerson("alice", "Alice Server"))
	v.put("addressbooks", "contacts", "bob.vcf", rcPerson("bob", "Bob Server"))
	// A folder that exists only locally: discover creates it on the server.
	v.writeLocal("contacts", "family", "carol.vcf", rcPerson("carol", "Carol Local"))

	v.discover("contacts")
	code, _, body := v.d.req(t, "PROPFIND", "/dav/addressbooks/"+v.user+"/family/", v.user, v.pass,
		`<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`, "Depth: 0")
	if code != 207 || !regexp.MustCompile(`<[A-Za-z]*:?addressbook\s*/>`).MatchString(body) {
		t.Fatalf("discover did not create the address book family/ on the server: %d\n%s", code, body)
	}
	v.vdirsyncer("", "sync", "contacts")

	// Server → local.
	if got := v.localFiles("contacts", "contacts", ".vcf"); !rcEq(got, []string{"alice.vcf", "bob.vcf"}) {
		t.Fatalf("local contacts/ after the first sync: %v", got)
	}
	if c := v.readLocal("contacts", "contacts", "alice.vcf"); !rcHasLine(c, "FN:Alice Server") || !rcHasLine(c, "UID:alice") {
		t.Errorf("alice.vcf synced down as:\n%s", c)
	}
	// Local → server, into the address book discover created.
	if got := v.members("addressbooks", "family"); !rcEq(got, []string{"carol.vcf"}) {
		t.Fatalf("server family/ after the first sync: %v", got)
	}
	if code, c := v.get("addressbooks", "family", "carol.vcf"); code != 200 || !rcHasLine(c, "FN:Carol Local") {
		t.Errorf("carol.vcf on the server: %d\n%s", code, c)
	}

	// New items on both sides.
	v.writeLocal("contacts", "contacts", "dave.vcf", rcPerson("dave", "Dave Local"))
	v.put("addressbooks", "contacts", "erin.vcf", rcPerson("erin", "Erin Server"))
	v.vdirsyncer("", "sync", "contacts")
	if code, c := v.get("addressbooks", "contacts", "dave.vcf"); code != 200 || !rcHasLine(c, "FN:Dave Local") {
		t.Errorf("locally created dave.vcf on the server: %d\n%s", code, c)
	}
	if got := v.localFiles("contacts", "contacts", ".vcf"); !rcEq(got, []string{"alice.vcf", "bob.vcf", "dave.vcf", "erin.vcf"}) {
		t.Errorf("local contacts/ after the second sync: %v", got)
	}

	// Deletions both ways.
	v.removeLocal("contacts", "contacts", "alice.vcf")
	v.del("addressbooks", "contacts", "bob.vcf")
	v.vdirsyncer("", "sync", "contacts")
	if code, _ := v.get("addressbooks", "contacts", "alice.vcf"); code != 404 {
		t.Errorf("locally deleted alice.vcf is still on the server: %d", code)
	}
	if got := v.localFiles("contacts", "contacts", ".vcf"); !rcEq(got, []string{"dave.vcf", "erin.vcf"}) {
		t.Errorf("local contacts/ after deletions: %v", got)
	}
	if got := v.members("addressbooks", "contacts"); !rcEq(got, []string{"dave.vcf", "erin.vcf"}) {
		t.Errorf("server contacts/ after deletions: %v", got)
	}

	// Conflict with "a wins": the local version goes to the server.
	v.writeLocal("contacts", "contacts", "dave.vcf", rcPerson("dave", "Dave Edited-Locally"))
	v.put("addressbooks", "contacts", "dave.vcf", rcPerson("dave", "Dave Edited-On-Server"))
	v.vdirsyncer("", "sync", "contacts")
	if code, c := v.get("addressbooks", "contacts", "dave.vcf"); code != 200 || !rcHasLine(c, "FN:Dave Edited-Locally") {
		t.Errorf(`"a wins": dave.vcf on the server: %d\n%s`, code, c)
	}
	if c := v.readLocal("contacts", "contacts", "dave.vcf"); !rcHasLine(c, "FN:Dave Edited-Locally") {
		t.Errorf(`"a wins": local dave.vcf:\n%s`, c)
	}
	// Conflict with "b wins": the server's version comes down.
	v.writeConfig("b wins", "a wins")
	v.writeLocal("contacts", "contacts", "erin.vcf", rcPerson("erin", "Erin Edited-Locally"))
	v.put("addressbooks", "contacts", "erin.vcf", rcPerson("erin", "Erin Edited-On-Server"))
	v.vdirsyncer("", "sync", "contacts")
	if c := v.readLocal("contacts", "contacts", "erin.vcf"); !rcHasLine(c, "FN:Erin Edited-On-Server") {
		t.Errorf(`"b wins": local erin.vcf:\n%s`, c)
	}
	if code, c := v.get("addressbooks", "contacts", "erin.vcf"); code != 200 || !rcHasLine(c, "FN:Erin Edited-On-Server") {
		t.Errorf(`"b wins": erin.vcf on the server: %d\n%s`, code, c)
	}
	// A sync with nothing changed changes nothing.
	v.vdirsyncer("", "sync", "contacts")
	if got := v.members("addressbooks", "contacts"); !rcEq(got, []string{"dave.vcf", "erin.vcf"}) {
		t.Errorf("server contacts/ after an idle sync: %v", got)
	}

	// Metadata: the server's display name comes down; a local one goes up.
	v.vdirsyncer("", "metasync", "contacts")
	if got := v.localMeta("contacts", "contacts", "displayname"); got != "Contacts" {
		t.Errorf("local displayname of contacts/ after metasync: %q, want %q", got, "Contacts")
	}
	v.proppatch("addressbooks", "contacts", "DAV:", "displayname", "Friends &amp; Colleagues")
	v.writeLocal("contacts", "family", "displayname", "Family Local\n")
	v.vdirsyncer("", "metasync", "contacts")
	if got := v.localMeta("contacts", "contacts", "displayname"); got != "Friends & Colleagues" {
		t.Errorf("server displayname did not come down: local has %q", got)
	}
	if got := v.prop("addressbooks", "family", "DAV:", "displayname"); got != "Family Local" {
		t.Errorf("local displayname did not go up: server has %q", got)
	}
	if got := v.prop("addressbooks", "contacts", "DAV:", "displayname"); got != "Friends & Colleagues" {
		t.Errorf("server displayname of contacts/ after metasync: %q", got)
	}
}

const (
	rcVtimezoneBerlin = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
		"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
		"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
		"END:VTIMEZONE\r\n"
	rcVtimezoneNewYork = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n" +
		"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n" +
		"BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n" +
		"END:VTIMEZONE\r\n"
)

// rcWithTimezone puts a VTIMEZONE into a one-event VCALENDAR.
func rcWithTimezone(ics, vtimezone string) string {
	return strings.Replace(ics, "BEGIN:VEVENT\r\n", vtimezone+"BEGIN:VEVENT\r\n", 1)
}

// rcBerlinWeekly is a weekly event in Berlin time: Mondays 18:00-19:30 from
// 2 November 2026, eight times.
func rcBerlinWeekly() string {
	ics := rcEvent("choir", "Choir practice", "X", "X", "RRULE:FREQ=WEEKLY;COUNT=8")
	ics = strings.Replace(ics, "DTSTART:X", "DTSTART;TZID=Europe/Berlin:20261102T180000", 1)
	ics = strings.Replace(ics, "DTEND:X", "DTEND;TZID=Europe/Berlin:20261102T193000", 1)
	return rcWithTimezone(ics, rcVtimezoneBerlin)
}

// rcNewYorkCall is 24 November 2026 9:00-10:00 New York time (15:00 in Berlin).
func rcNewYorkCall() string {
	ics := rcEvent("nyc-call", "Call with New York", "X", "X")
	ics = strings.Replace(ics, "DTSTART:X", "DTSTART;TZID=America/New_York:20261124T090000", 1)
	ics = strings.Replace(ics, "DTEND:X", "DTEND;TZID=America/New_York:20261124T100000", 1)
	return rcWithTimezone(ics, rcVtimezoneNewYork)
}

func rcTodo(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rolodav tests//vdirsyncer//EN\r\nBEGIN:VTODO\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDUE;VALUE=DATE:20261130\r\nSUMMARY:" + summary + "\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
}

// TestVdirsyncerCalendars: discover (creating a calendar on the server with
// MKCOL), sync of events and todos both ways, deletions, a conflict the
// server side wins, metasync of display name and colour both ways.
func TestVdirsyncerCalendars(t *testing.T) {
	t.Parallel()
	v := newVdir(t)
	v.writeConfig("a wins", "b wins")
	v.put("calendars", "calendar", "choir.ics", rcBerlinWeekly())
	v.put("calendars", "calendar", "nyc-call.ics", rcNewYorkCall())
	v.put("calendars", "tasks", "milk.ics", rcTodo("milk", "Buy milk"))
	v.writeLocal("calendars", "trips", "flight.ics", rcEvent("flight", "Flight to Lisbon", "20261205T063000Z", "20261205T093000Z"))

	v.discover("calendars")
	code, _, body := v.d.req(t, "PROPFIND", "/dav/calendars/"+v.user+"/trips/", v.user, v.pass,
		`<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`, "Depth: 0")
	if code != 207 || !regexp.MustCompile(`<[A-Za-z]*:?calendar\s*/>`).MatchString(body) {
		t.Fatalf("discover did not create the calendar trips/ on the server: %d\n%s", code, body)
	}
	v.vdirsyncer("", "sync", "calendars")

	if got := v.localFiles("calendars", "calendar", ".ics"); !rcEq(got, []string{"choir.ics", "nyc-call.ics"}) {
		t.Fatalf("local calendar/ after the first sync: %v", got)
	}
	if c := v.readLocal("calendars", "calendar", "choir.ics"); !rcHasLine(c, "RRULE:FREQ=WEEKLY;COUNT=8") || !rcHasLine(c, "DTSTART;TZID=Europe/Berlin:20261102T180000") || !rcHasLine(c, "TZID:Europe/Berlin") {
		t.Errorf("choir.ics synced down as:\n%s", c)
	}
	if got := v.localFiles("calendars", "tasks", ".ics"); !rcEq(got, []string{"milk.ics"}) {
		t.Errorf("local tasks/ after the first sync: %v", got)
	} else if c := v.readLocal("calendars", "tasks", "milk.ics"); !rcHasLine(c, "BEGIN:VTODO") || !rcHasLine(c, "SUMMARY:Buy milk") {
		t.Errorf("milk.ics synced down as:\n%s", c)
	}
	if got := v.members("calendars", "trips"); !rcEq(got, []string{"flight.ics"}) {
		t.Fatalf("server trips/ after the first sync: %v", got)
	}
	if code, c := v.get("calendars", "trips", "flight.ics"); code != 200 || !rcHasLine(c, "SUMMARY:Flight to Lisbon") {
		t.Errorf("flight.ics on the server: %d\n%s", code, c)
	}

	// New items on both sides, a todo made locally.
	v.writeLocal("calendars", "calendar", "dentist.ics", rcEvent("dentist", "Dentist", "20261126T080000Z", "20261126T090000Z"))
	v.writeLocal("calendars", "tasks", "tax.ics", rcTodo("tax", "File taxes"))
	v.put("calendars", "calendar", "party.ics", rcEvent("party", "Party", "20261128T190000Z", "20261128T230000Z"))
	v.vdirsyncer("", "sync", "calendars")
	if code, c := v.get("calendars", "calendar", "dentist.ics"); code != 200 || !rcHasLine(c, "SUMMARY:Dentist") {
		t.Errorf("locally created dentist.ics on the server: %d\n%s", code, c)
	}
	if code, c := v.get("calendars", "tasks", "tax.ics"); code != 200 || !rcHasLine(c, "SUMMARY:File taxes") {
		t.Errorf("locally created todo tax.ics on the server: %d\n%s", code, c)
	}
	if got := v.localFiles("calendars", "calendar", ".ics"); !rcEq(got, []string{"choir.ics", "dentist.ics", "nyc-call.ics", "party.ics"}) {
		t.Errorf("local calendar/ after the second sync: %v", got)
	}

	// Deletions both ways.
	v.removeLocal("calendars", "calendar", "dentist.ics")
	v.del("calendars", "calendar", "party.ics")
	v.vdirsyncer("", "sync", "calendars")
	if code, _ := v.get("calendars", "calendar", "dentist.ics"); code != 404 {
		t.Errorf("locally deleted dentist.ics is still on the server: %d", code)
	}
	if got := v.localFiles("calendars", "calendar", ".ics"); !rcEq(got, []string{"choir.ics", "nyc-call.ics"}) {
		t.Errorf("local calendar/ after deletions: %v", got)
	}
	if got := v.members("calendars", "calendar"); !rcEq(got, []string{"choir.ics", "nyc-call.ics"}) {
		t.Errorf("server calendar/ after deletions: %v", got)
	}

	// Conflict with "b wins": the server's version of the event comes down.
	v.writeLocal("calendars", "calendar", "nyc-call.ics", strings.Replace(rcNewYorkCall(), "SUMMARY:Call with New York", "SUMMARY:Call (local edit)", 1))
	v.put("calendars", "calendar", "nyc-call.ics", strings.Replace(rcNewYorkCall(), "SUMMARY:Call with New York", "SUMMARY:Call (server edit)", 1))
	v.vdirsyncer("", "sync", "calendars")
	if c := v.readLocal("calendars", "calendar", "nyc-call.ics"); !rcHasLine(c, "SUMMARY:Call (server edit)") {
		t.Errorf(`"b wins": local nyc-call.ics:\n%s`, c)
	}
	if code, c := v.get("calendars", "calendar", "nyc-call.ics"); code != 200 || !rcHasLine(c, "SUMMARY:Call (server edit)") {
		t.Errorf(`"b wins": nyc-call.ics on the server: %d\n%s`, code, c)
	}

	// Metadata: display name and colour, server → local and local → server.
	const apple = "http://apple.com/ns/ical/"
	v.vdirsyncer("", "metasync", "calendars")
	if got := v.localMeta("calendars", "calendar", "displayname"); got != "Calendar" {
		t.Errorf("local displayname of calendar/ after metasync: %q, want %q", got, "Calendar")
	}
	v.proppatch("calendars", "calendar", "DAV:", "displayname", "Work &amp; Life")
	v.proppatch("calendars", "calendar", apple, "calendar-color", "#FF0000FF")
	v.writeLocal("calendars", "trips", "displayname", "Trips\n")
	v.writeLocal("calendars", "trips", "color", "#00AA33\n")
	v.vdirsyncer("", "metasync", "calendars")
	if got := v.localMeta("calendars", "calendar", "displayname"); got != "Work & Life" {
		t.Errorf("server displayname did not come down: local has %q", got)
	}
	if got := v.localMeta("calendars", "calendar", "color"); got != "#FF0000FF" {
		t.Errorf("server calendar-color did not come down: local has %q", got)
	}
	if got := v.prop("calendars", "trips", "DAV:", "displayname"); got != "Trips" {
		t.Errorf("local displayname did not go up: server has %q", got)
	}
	if got := v.prop("calendars", "trips", apple, "calendar-color"); got != "#00AA33" {
		t.Errorf("local color did not go up: server calendar-color is %q", got)
	}
	// Both sides change the colour: "b wins" keeps the server's.
	v.writeLocal("calendars", "calendar", "color", "#111111\n")
	v.proppatch("calendars", "calendar", apple, "calendar-color", "#222222")
	v.vdirsyncer("", "metasync", "calendars")
	if got := v.localMeta("calendars", "calendar", "color"); got != "#222222" {
		t.Errorf(`colour conflict, "b wins": local has %q, want #222222`, got)
	}
	if got := v.prop("calendars", "calendar", apple, "calendar-color"); got != "#222222" {
		t.Errorf(`colour conflict, "b wins": server has %q, want #222222`, got)
	}
}

// TestKhardKhalReadSyncedData: what vdirsyncer brought down from the server
// reads back in khard (contacts, vCard 3 and 4, non-ASCII names, a card
// whose name holds a space, "+" and "@") and khal (a weekly event's
// instance, a New York event shown in Berlin time). The caldav storage is
// limited to VEVENTs in a date range, as many vdirsyncer set-ups are: the
// server must answer vdirsyncer's calendar-query, recurrences included.
func TestKhardKhalReadSyncedData(t *testing.T) {
	t.Parallel()
	rcRequireTool(t, "khard", "khard")
	rcRequireTool(t, "khal", "khal")
	v := newVdir(t)
	v.calendarsRemote = `item_types = ["VEVENT"]
start_date = "datetime(2026, 11, 15)"
end_date = "datetime(2027, 1, 1)"
`
	v.writeConfig("a wins", "a wins")
	v.put("addressbooks", "contacts", "alice.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:alice\r\nFN:Alice Example\r\nN:Example;Alice;;;\r\n"+
		"EMAIL;TYPE=INTERNET,WORK:alice@example.org\r\nTEL;TYPE=CELL:+49 30 1234567\r\nORG:Example GmbH\r\nEND:VCARD\r\n")
	v.put("addressbooks", "contacts", "juergen.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:6f1c1d7e-2b0a-4f63-9d1e-0c3f5a9b7e21\r\n"+
		"FN:Jürgen Müller\r\nN:Müller;Jürgen;;;\r\nEMAIL;TYPE=home:juergen@example.de\r\nEND:VCARD\r\n")
	v.put("addressbooks", "contacts", "bob.vcf", rcPerson("bob", "Bob Builder"))
	// vdirsyncer asks for this one as .../Mary%20Jane%2B1@home.vcf.
	v.put("addressbooks", "contacts", "Mary%20Jane+1@home.vcf", rcPerson("mary+1@home", "Mary Jane"))
	v.put("calendars", "calendar", "choir.ics", rcBerlinWeekly()) // from 2 Nov, recurs into the range
	v.put("calendars", "calendar", "nyc-call.ics", rcNewYorkCall())
	v.put("calendars", "calendar", "lunch.ics", rcEvent("lunch", "Lunch in UTC", "20261125T113000Z", "20261125T123000Z"))
	v.put("calendars", "calendar", "october.ics", rcEvent("october", "Before the range", "20261010T100000Z", "20261010T110000Z"))
	v.put("calendars", "calendar", "summer.ics", rcEvent("summer", "After the range", "20270610T100000Z", "20270610T110000Z"))
	v.put("calendars", "tasks", "milk.ics", rcTodo("milk", "Buy milk"))
	v.discover()
	v.vdirsyncer("", "sync")

	if got := v.localFiles("calendars", "calendar", ".ics"); !rcEq(got, []string{"choir.ics", "lunch.ics", "nyc-call.ics"}) {
		t.Errorf("local calendar/ synced with a date range: %v, want choir, lunch, nyc-call", got)
	}
	if got := v.localFiles("calendars", "tasks", ".ics"); len(got) != 0 {
		t.Errorf("local tasks/ synced with item_types VEVENT: %v, want none", got)
	}
	if got := v.localFiles("contacts", "contacts", ".vcf"); len(got) != 4 {
		t.Errorf("local contacts/: %v, want 4 cards", got)
	}

	khardConf := filepath.Join(v.home, "khard.conf")
	rcWriteFile(t, khardConf, fmt.Sprintf(`[addressbooks]
[[contacts]]
path = %s

[general]
editor = true
merge_editor = true

[contact table]
display = formatted_name
sort = last_name
show_uids = no
`, v.localDir("contacts", "contacts")))
	khalConf := filepath.Join(v.home, "khal.conf")
	rcWriteFile(t, khalConf, fmt.Sprintf(`[calendars]
[[calendar]]
path = %s
type = calendar

[locale]
local_timezone = Europe/Berlin
default_timezone = Europe/Berlin
timeformat = %%H:%%M
dateformat = %%Y-%%m-%%d
longdateformat = %%Y-%%m-%%d
datetimeformat = %%Y-%%m-%%d %%H:%%M
longdatetimeformat = %%Y-%%m-%%d %%H:%%M

[sqlite]
path = %s
`, v.localDir("calendars", "calendar"), filepath.Join(v.home, "khal.db")))

	// khard: the table lists the four cards sorted by last name; show
	// prints each field.
	out := rcRunTool(t, v.home, "", "khard", "-c", khardConf, "list")
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && regexp.MustCompile(`^\d+$`).MatchString(f[0]) {
			rows = append(rows, f[1]+" "+f[2])
		}
	}
	if !rcEq(rows, []string{"Bob Builder", "Alice Example", "Mary Jane", "Jürgen Müller"}) {
		t.Errorf("khard list: rows %q\n%s", rows, out)
	}
	out = rcRunTool(t, v.home, "", "khard", "-c", khardConf, "show", "alice")
	for _, want := range []string{"Full name: Alice Example", "Organisation: Example GmbH", "CELL: +49 30 1234567", "INTERNET, WORK: alice@example.org", "UID: alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("khard show alice lacks %q:\n%s", want, out)
		}
	}
	out = rcRunTool(t, v.home, "", "khard", "-c", khardConf, "show", "Müller")
	for _, want := range []string{"Full name: Jürgen Müller", "home: juergen@example.de", "UID: urn:uuid:6f1c1d7e-2b0a-4f63-9d1e-0c3f5a9b7e21"} {
		if !strings.Contains(out, want) {
			t.Errorf("khard show Müller lacks %q:\n%s", want, out)
		}
	}

	// khal: times in Europe/Berlin; the weekly event's fourth instance, the
	// New York call at 15:00, the UTC lunch at 12:30; the series ends after
	// its eighth instance on 21 December.
	khal := func(from, to string) []string {
		out := rcRunTool(t, v.home, "", "khal", "--no-color", "-c", khalConf, "list", "-df", "day {date}", "-f", "{start} {end} {title}", from, to)
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	want := []string{
		"day 2026-11-23", "2026-11-23 18:00 2026-11-23 19:30 Choir practice",
		"day 2026-11-24", "2026-11-24 15:00 2026-11-24 16:00 Call with New York",
		"day 2026-11-25", "2026-11-25 12:30 2026-11-25 13:30 Lunch in UTC",
	}
	if got := khal("2026-11-23", "2026-11-26"); !rcEq(got, want) {
		t.Errorf("khal list 2026-11-23 2026-11-26:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	want = []string{"day 2026-12-21", "2026-12-21 18:00 2026-12-21 19:30 Choir practice"}
	if got := khal("2026-12-20", "2027-01-10"); !rcEq(got, want) {
		t.Errorf("khal list 2026-12-20 2027-01-10:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
