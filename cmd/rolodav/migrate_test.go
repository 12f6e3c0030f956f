package main_test

import (
	"bytes"
	"context"
	"net/url"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/realdav"
)

// `rolodav migrate` through the real binary, from a real Radicale and a
// real Xandikos (package realdav) loaded with two address books (2 000
// cards with groups, photos and vCard 4.0, and 20), a calendar of
// recurring events with overrides in several time zones, and a task list.

// migration is a source server with the fixtures, and the rolodav user
// they are migrated to.
type migration struct {
	t          *testing.T
	src        *realdav.Server
	f          *realdav.Fixtures
	kept       map[string]realdav.Collection // the source's collections as it keeps them
	data       string
	d          *daemon
	user, pass string
	// destNames are the user's collections the source's went into, by
	// source name, as the summaries said.
	destNames map[string]string
	made      []string // source collections a run made a collection for
}

func newMigration(t *testing.T, src *realdav.Server) *migration {
	t.Helper()
	m := &migration{t: t, src: src, f: realdav.Generate(16, realdav.Default), data: t.TempDir(), user: "mia", pass: "mia's rolodav password", destNames: map[string]string{}}
	m.kept = src.Load(t, m.f)
	if _, errOut, code := cli(t, m.pass+"\n", "user", "add", m.user, "--data", m.data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	m.d = start(t, m.data)
	return m
}

// migrate runs `rolodav migrate` from the source into m.user, with the
// source's password on stdin.
func (m *migration) migrate(extra ...string) (stdout, stderr string, code int) {
	m.t.Helper()
	args := append([]string{"migrate", "--user", m.user, "--from", m.src.URL, "--from-user", m.src.User, "--password-stdin", "--data", m.data}, extra...)
	return m.migrateArgs(m.src.Password+"\n", args...)
}

func (m *migration) migrateArgs(stdin string, args ...string) (stdout, stderr string, code int) {
	m.t.Helper()
	start := time.Now()
	out, errOut, code, _ := runBinary(m.t, 5*time.Minute, stdin, args...)
	m.t.Logf("rolodav %s: exit %d in %v\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), out)
	return out, errOut, code
}

// runBinary runs the binary to completion within limit and returns its
// output, exit code and resource usage.
func runBinary(t testing.TB, limit time.Duration, stdin string, args ...string) (stdout, stderr string, code int, usage *syscall.Rusage) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("rolodav %s: not done within %v\n%s", strings.Join(args, " "), limit, e.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code, cmd.ProcessState.SysUsage().(*syscall.Rusage)
}

// dest is where a source collection went, as the summary said; until it
// says, the collection of the same name.
func (m *migration) dest(c realdav.Collection) realdav.Endpoint {
	home := "/dav/addressbooks/"
	if c.Kind == realdav.Calendar {
		home = "/dav/calendars/"
	}
	name := c.Name
	if d, ok := m.destNames[c.Name]; ok {
		name = d
	}
	return realdav.Endpoint{URL: m.d.url + home + m.user + "/" + url.PathEscape(name) + "/", User: m.user, Password: m.pass}
}

func (m *migration) pairs(names ...string) []realdav.Pair {
	var out []realdav.Pair
	for _, n := range names {
		c := m.f.Get(n).Collection
		out = append(out, realdav.Pair{Kind: c.Kind, Source: m.src.Endpoint(c), Dest: m.dest(c)})
	}
	return out
}

var allCollections = []string{"contacts", "family", "calendar", "tasks"}

// counts are the numbers of a summary line: added, updated, skipped,
// rejected, folded, "taken into merged cards"; "objects" of a dry run.
type counts map[string]int

var countRE = regexp.MustCompile(`(?i)\b(added|updated|skipped|rejected)\b[:=]?\s*(\d+)|(\d+)\s+(objects|folded|taken into merged cards)\b`)

func parseCounts(line string) counts {
	c := counts{}
	for _, m := range countRE.FindAllStringSubmatch(line, -1) {
		if m[1] != "" {
			c[strings.ToLower(m[1])], _ = strconv.Atoi(m[2])
		} else {
			c[strings.ToLower(m[4])], _ = strconv.Atoi(m[3])
		}
	}
	return c
}

// summary finds the summary line of each named source collection in
// stdout ("Kontakte → address book "contacts" (default): added 2000, …",
// led by the source's display name) and fails the test unless there is
// one line for each, and none for the others. It notes where each went.
func (m *migration) summary(stdout string, names ...string) map[string]counts {
	m.t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	out := map[string]counts{}
	for _, name := range allCollections {
		label := m.kept[name].DisplayName
		if label == "" {
			label = name
		}
		var found []string
		for _, l := range lines {
			if strings.HasPrefix(l, label+" → ") {
				found = append(found, l)
			}
		}
		wanted := slices.Contains(names, name)
		switch {
		case wanted && len(found) != 1:
			m.t.Fatalf("no one summary line for %s (%q) in:\n%s", name, label, stdout)
		case !wanted && len(found) != 0:
			m.t.Fatalf("a summary line for %s, which was not to be migrated:\n%s", name, stdout)
		case wanted:
			dest := destRE.FindStringSubmatch(found[0])
			if dest == nil {
				m.t.Fatalf("the summary line of %s does not say where it went: %q", name, found[0])
			}
			m.destNames[name] = dest[1]
			if strings.Contains(found[0], `" (made):`) {
				m.made = append(m.made, name)
			}
			out[name] = parseCounts(found[0])
		}
	}
	return out
}

var destRE = regexp.MustCompile(` → (?:address book|calendar) "([^"]+)"`)

// expect fails the test unless each named count is as wanted.
func (m *migration) expect(got map[string]counts, name string, want counts) {
	m.t.Helper()
	for k, v := range want {
		if n, ok := got[name][k]; !ok || n != v {
			m.t.Errorf("%s: %s %d (given: %v), want %d (summary %v)", name, k, n, ok, v, got[name])
		}
	}
}

// destState is each destination collection's sync token and members'
// ETags; a collection that does not exist is not in it.
type destState map[string]collState

type collState struct {
	token string
	etags map[string]string
}

func (m *migration) snapshot() destState {
	m.t.Helper()
	s := destState{}
	for _, name := range allCollections {
		e := m.dest(m.f.Get(name).Collection)
		if code, _, _, err := e.Do("PROPFIND", e.URL, "", "Depth: 0"); err != nil || code == 404 {
			continue
		}
		s[name] = collState{e.SyncToken(m.t), e.Members(m.t)}
	}
	return s
}

// unchanged fails the test unless nothing changed in the destination
// collections since before.
func (m *migration) unchanged(before destState) {
	m.t.Helper()
	after := m.snapshot()
	for _, name := range allCollections {
		b, wasThere := before[name]
		a, isThere := after[name]
		if wasThere != isThere {
			m.t.Errorf("%s: there before %v, there after %v", name, wasThere, isThere)
			continue
		}
		if a.token != b.token {
			m.t.Errorf("%s: sync token %q became %q", name, b.token, a.token)
		}
		if len(a.etags) != len(b.etags) {
			m.t.Errorf("%s: %d objects became %d", name, len(b.etags), len(a.etags))
		}
		for n, etag := range b.etags {
			if a.etags[n] != etag {
				m.t.Errorf("%s/%s: ETag %s became %q", name, n, etag, a.etags[n])
				break
			}
		}
	}
}

// checkMade fails the test unless each collection a run made has the
// source collection's display name, description, colour and components.
func (m *migration) checkMade() {
	m.t.Helper()
	for _, name := range m.made {
		got, want := m.dest(m.f.Get(name).Collection).Props(m.t), m.kept[name]
		got.Name = want.Name
		// Xandikos says its calendars take VFREEBUSY too, which is no
		// object a calendar here stores.
		want.Components = slices.DeleteFunc(slices.Clone(want.Components), func(c string) bool { return c == "VFREEBUSY" })
		if !reflect.DeepEqual(got, want) {
			m.t.Errorf("%s made as\n%+v\nthe source has\n%+v", name, got, want)
		}
	}
}

func TestMigrateRadicale(t *testing.T) {
	t.Parallel()
	m := newMigration(t, realdav.StartRadicale(t))

	// Usage errors and a wrong password change nothing.
	if _, errOut, code := m.migrateArgs("", "migrate", "--user", m.user, "--data", m.data); code != 2 {
		t.Errorf("migrate without --from: exit %d, want 2: %s", code, errOut)
	}
	if _, errOut, code := m.migrate("--only", "everything"); code != 2 || !strings.Contains(errOut, "--only") {
		t.Errorf("--only everything: exit %d, want 2 and a word about --only: %s", code, errOut)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(m.src.URL, "http://"), "/")
	out, errOut, code := m.migrateArgs("not the password\n", "migrate", "--user", m.user, "--from", m.src.URL, "--from-user", m.src.User, "--password-stdin", "--data", m.data)
	if code != 1 || !strings.Contains(errOut, host) || !regexp.MustCompile(`(?i)password|401|unauthori|sign(ed)? in|log(ged)? ?in|credentials`).MatchString(errOut) {
		t.Errorf("wrong password: exit %d, want 1 and a message naming %s and the password:\nstdout: %s\nstderr: %s", code, host, out, errOut)
	}
	if strings.Contains(errOut, "not the password") {
		t.Errorf("the message shows the password: %s", errOut)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("a run that could not sign in printed a summary:\n%s", out)
	}
	t.Logf("wrong password: %s", errOut)

	// A dry run says what would come and writes nothing.
	before := m.snapshot()
	if _, ok := before["family"]; ok {
		t.Fatal("the address book family is there before the first run")
	}
	out, errOut, code = m.migrate("--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	dry := m.summary(out, allCollections...)
	for _, name := range allCollections {
		m.expect(dry, name, counts{"objects": len(m.f.Get(name).Objects)})
	}
	m.unchanged(before)

	testMigrateRuns(t, m)
}

func TestMigrateXandikos(t *testing.T) {
	t.Parallel()
	m := newMigration(t, realdav.StartXandikos(t))

	// --only contacts: the address books, not the calendars.
	out, errOut, code := m.migrate("--only", "contacts")
	if code != 0 {
		t.Fatalf("migrate --only contacts: exit %d\n%s\n%s", code, out, errOut)
	}
	s := m.summary(out, "contacts", "family")
	m.expect(s, "contacts", counts{"added": realdav.Default.Cards, "rejected": 0})
	m.expect(s, "family", counts{"added": len(m.f.Get("family").Objects), "rejected": 0})
	if n := len(m.dest(m.f.Get("calendar").Collection).Members(t)); n != 0 {
		t.Errorf("--only contacts brought %d events", n)
	}
	testMigrateRuns(t, m, "contacts", "family")
}

// testMigrateRuns: everything comes over (but the collections migrated
// already) and compares equal in vdirsyncer; a second run changes
// nothing; changes at the source come with the third; a card merged away
// here stays away.
func testMigrateRuns(t *testing.T, m *migration, already ...string) {
	f := m.f
	out, errOut, code := m.migrate()
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	first := m.summary(out, allCollections...)
	for _, name := range allCollections {
		want := counts{"added": len(f.Get(name).Objects), "rejected": 0}
		for _, a := range already {
			if a == name {
				want = counts{"added": 0, "updated": 0, "rejected": 0}
			}
		}
		m.expect(first, name, want)
	}
	realdav.AssertSame(t, m.pairs(allCollections...)...)
	if !slices.Contains(m.made, "family") {
		t.Errorf("no address book made for family: %v", m.made)
	}
	m.checkMade()
	if t.Failed() {
		t.FailNow()
	}

	// A second run adds and changes nothing.
	before := m.snapshot()
	out, errOut, code = m.migrate()
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	second := m.summary(out, allCollections...)
	for _, name := range allCollections {
		m.expect(second, name, counts{"added": 0, "updated": 0, "rejected": 0})
	}
	m.unchanged(before)

	// At the source: one card changed, one added, one override of a
	// recurring event moved again.
	contacts, calendar := f.Get("contacts"), f.Get("calendar")
	srcContacts, srcCalendar := m.src.Endpoint(contacts.Collection), m.src.Endpoint(calendar.Collection)
	changedCard := contacts.Objects[10]
	srcContacts.Put(t, changedCard.Name, strings.Replace(changedCard.Data, "END:VCARD", "NOTE:Umgezogen nach Hamburg\r\nEND:VCARD", 1))
	newCard := realdav.Generate(99, realdav.Size{}).Get("family").Objects[0]
	srcContacts.Put(t, newCard.Name, newCard.Data)
	var changedEvent realdav.Object
	for _, o := range calendar.Objects {
		if strings.Contains(o.Data, "SUMMARY:Early call") {
			changedEvent = o
			break
		}
	}
	srcCalendar.Put(t, changedEvent.Name, strings.NewReplacer("SUMMARY:Early call", "SUMMARY:Early call (moved again)", "SEQUENCE:2", "SEQUENCE:3").Replace(changedEvent.Data))

	before = m.snapshot()
	out, errOut, code = m.migrate()
	if code != 0 {
		t.Fatalf("third run: exit %d\n%s\n%s", code, out, errOut)
	}
	third := m.summary(out, allCollections...)
	m.expect(third, "contacts", counts{"added": 1, "updated": 1, "rejected": 0})
	m.expect(third, "calendar", counts{"added": 0, "updated": 1, "rejected": 0})
	for _, name := range []string{"family", "tasks"} {
		m.expect(third, name, counts{"added": 0, "updated": 0, "rejected": 0})
	}
	changes := map[string]int{"contacts": 2, "calendar": 1}
	for _, name := range allCollections {
		e := m.dest(f.Get(name).Collection)
		changed, deleted, _ := e.Changes(t, before[name].token)
		if len(changed) != changes[name] || len(deleted) != 0 {
			t.Errorf("%s: the third run changed %v and deleted %v, want %d changed", name, changed, deleted, changes[name])
			continue
		}
		var all []string
		for _, n := range changed {
			data, _ := e.Get(t, n)
			all = append(all, data)
		}
		joined := strings.Join(all, "\n")
		for _, want := range map[string][]string{
			"contacts": {"NOTE:Umgezogen nach Hamburg", "UID:" + newCard.UID},
			"calendar": {"SUMMARY:Early call (moved again)", "UID:" + changedEvent.UID},
		}[name] {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: the changed objects lack %q:\n%s", name, want, joined)
			}
		}
	}
	realdav.AssertSame(t, m.pairs("family", "calendar", "tasks")...)

	// Two cards of one person merged here: the one merged away does not
	// come back with a later run, even changed at the source; its change
	// goes into the card it was merged into.
	var group string
	for _, g := range listGroups(t, m.data, m.user).Groups {
		joined := strings.Join(g.Cards, " ")
		if strings.Contains(joined, f.Duplicates[0]) && strings.Contains(joined, f.Duplicates[1]) {
			group = g.ID
		}
	}
	if group == "" {
		t.Fatalf("the two cards of Margarete Schäfer (%s, %s) are not found duplicates", f.Duplicates[0], f.Duplicates[1])
	}
	if out, errOut, code := cli(t, "", "duplicates", "merge", "--user", m.user, "--region", "DE", "--group", group, "--reference", f.Duplicates[0], "--data", m.data); code != 0 {
		t.Fatalf("duplicates merge: %d %s %s", code, out, errOut)
	}
	mergedAway := contacts.Object(f.Duplicates[1])
	srcContacts.Put(t, mergedAway.Name, strings.Replace(mergedAway.Data, "END:VCARD", "NOTE:Neue Notiz nach dem Zusammenführen\r\nEND:VCARD", 1))
	before = m.snapshot()
	out, errOut, code = m.migrate()
	if code != 0 {
		t.Fatalf("run after the merge: exit %d\n%s\n%s", code, out, errOut)
	}
	fourth := m.summary(out, allCollections...)
	m.expect(fourth, "contacts", counts{"added": 0, "rejected": 0, "folded": 1})
	dest := m.dest(contacts.Collection)
	changed, deleted, _ := dest.Changes(t, before["contacts"].token)
	if n := len(dest.Members(t)); n != len(before["contacts"].etags) {
		t.Errorf("contacts: %d cards after the run, %d before: the merged-away card came back?", n, len(before["contacts"].etags))
	}
	if len(changed) != 1 || len(deleted) != 0 {
		t.Fatalf("contacts: the run after the merge changed %v and deleted %v, want the surviving card only", changed, deleted)
	}
	if data, _ := dest.Get(t, changed[0]); !strings.Contains(data, "UID:"+f.Duplicates[0]) || !strings.Contains(data, "Neue Notiz nach dem Zusammenführen") {
		t.Errorf("the surviving card did not take the change of the merged-away one:\n%s", data)
	}
}

// BenchmarkMigrateRadicale migrates 10 000 cards and 5 000 events (and the
// small book and task list) from Radicale into a new user on SQLite, and
// reports the wall time and the peak RSS of the rolodav process. Run it
// without -race (TestMain builds the binary with the race detector under
// -race):
//
//	go test -run '^$' -bench MigrateRadicale -benchtime 1x ./cmd/rolodav/
func BenchmarkMigrateRadicale(b *testing.B) {
	src := realdav.StartRadicale(b)
	f := realdav.Generate(16, realdav.Bench)
	src.Load(b, f)
	// Radicale reads and caches each object the first time it is asked
	// for it; a Radicale in use has done that long ago.
	for _, c := range f.Collections {
		src.Endpoint(c.Collection).Members(b)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		data := b.TempDir()
		if _, errOut, code, _ := runBinary(b, time.Minute, "bench password\n", "user", "add", "bench", "--data", data, "--password-stdin"); code != 0 {
			b.Fatalf("user add: %d %s", code, errOut)
		}
		b.StartTimer()
		start := time.Now()
		out, errOut, code, usage := runBinary(b, 30*time.Minute, src.Password+"\n", "migrate", "--user", "bench", "--from", src.URL,
			"--from-user", src.User, "--password-stdin", "--data", data)
		wall := time.Since(start)
		b.StopTimer()
		if code != 0 {
			b.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(out, strconv.Itoa(realdav.Bench.Cards)) || !strings.Contains(out, strconv.Itoa(realdav.Bench.Events)) {
			b.Errorf("the summary does not count %d cards and %d events:\n%s", realdav.Bench.Cards, realdav.Bench.Events, out)
		}
		b.Logf("%v, peak RSS %d MiB, user CPU %v, system CPU %v\n%s", wall.Round(time.Millisecond), usage.Maxrss/1024,
			time.Duration(usage.Utime.Nano()).Round(time.Millisecond), time.Duration(usage.Stime.Nano()).Round(time.Millisecond), out)
		b.ReportMetric(float64(usage.Maxrss)/1024, "peak-RSS-MiB")
		b.StartTimer()
	}
}
