package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- moving from another provider ----------------------------------------

// A fixed time far from the clock: StartMigration decides on the Started
// and Heartbeat it is given, not on the clock.
var migrationBase = time.Date(2027, 2, 3, 4, 5, 6, 0, time.UTC)

func migration(owner string, started time.Time) *store.Migration {
	return &store.Migration{Owner: owner, Source: "https://dav.example.net/", SourceUser: "ann@example.net",
		Started: started, Report: []byte(`{"phase":"discovery"}`)}
}

func startMigration(t *testing.T, s store.Store, m *store.Migration) *store.Migration {
	t.Helper()
	if err := s.StartMigration(ctx, m); err != nil {
		t.Fatalf("StartMigration(%s at %v): %v", m.Owner, m.Started, err)
	}
	if m.ID == 0 {
		t.Fatalf("StartMigration(%s): no ID", m.Owner)
	}
	return m
}

func updateMigration(t *testing.T, s store.Store, m *store.Migration) {
	t.Helper()
	if err := s.UpdateMigration(ctx, m); err != nil {
		t.Fatalf("UpdateMigration(%s %d): %v", m.Owner, m.ID, err)
	}
}

// finishMigration records m as done at m.Started plus a minute.
func finishMigration(t *testing.T, s store.Store, m *store.Migration) {
	t.Helper()
	m.State, m.Finished, m.Heartbeat = store.MigrationDone, m.Started.Add(time.Minute), m.Started.Add(time.Minute)
	updateMigration(t, s, m)
}

func getMigration(t *testing.T, s store.Store, owner string, id int64) store.Migration {
	t.Helper()
	m, err := s.GetMigration(ctx, owner, id)
	if err != nil {
		t.Fatalf("GetMigration(%s, %d): %v", owner, id, err)
	}
	return *m
}

func listMigrations(t *testing.T, s store.Store, owner string, limit int) []store.Migration {
	t.Helper()
	list, err := s.ListMigrations(ctx, owner, limit)
	if err != nil {
		t.Fatalf("ListMigrations(%s, %d): %v", owner, limit, err)
	}
	return list
}

func migrationIDs(list []store.Migration) []int64 {
	ids := []int64{}
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	return ids
}

// sameMigration compares migrations, times with Equal and an empty Report
// as no Report.
func sameMigration(t *testing.T, what string, got, want store.Migration) {
	t.Helper()
	for _, tt := range [][2]time.Time{{got.Started, want.Started}, {got.Heartbeat, want.Heartbeat}, {got.Finished, want.Finished}} {
		if !tt[0].Equal(tt[1]) {
			t.Fatalf("%s: times (started, heartbeat, finished) %v, %v, %v; want %v, %v, %v", what,
				got.Started, got.Heartbeat, got.Finished, want.Started, want.Heartbeat, want.Finished)
		}
	}
	if !bytes.Equal(got.Report, want.Report) {
		t.Fatalf("%s: report %q, want %q", what, got.Report, want.Report)
	}
	got.Started, got.Heartbeat, got.Finished, got.Report = want.Started, want.Heartbeat, want.Finished, want.Report
	eq(t, what, got, want)
}

func getSource(t *testing.T, s store.Store, owner, url string) store.MigrationSource {
	t.Helper()
	src, err := s.GetMigrationSource(ctx, owner, url)
	if err != nil {
		t.Fatalf("GetMigrationSource(%s, %s): %v", owner, url, err)
	}
	return *src
}

func putSource(t *testing.T, s store.Store, src *store.MigrationSource) {
	t.Helper()
	if err := s.PutMigrationSource(ctx, src); err != nil {
		t.Fatalf("PutMigrationSource(%s, %s): %v", src.Owner, src.URL, err)
	}
}

func sameSource(t *testing.T, what string, got, want store.MigrationSource) {
	t.Helper()
	if !got.Updated.Equal(want.Updated) {
		t.Fatalf("%s: updated %v, want %v", what, got.Updated, want.Updated)
	}
	got.Updated = want.Updated
	eq(t, what, got, want)
}

func noSource(t *testing.T, s store.Store, owner, url string) {
	t.Helper()
	_, err := s.GetMigrationSource(ctx, owner, url)
	wantErr(t, fmt.Sprintf("GetMigrationSource(%s, %s)", owner, url), err, store.ErrNotFound)
}

const (
	sourceBooks    = "https://dav.example.net/dav/addressbooks/ann/contacts/"
	sourceCalendar = "https://dav.example.net/dav/calendars/ann/personal/"
)

// testMigrationSources: a source's record reads back as put, a put of the
// same owner and URL replaces it, and only the owner's collections are
// accepted.
func testMigrationSources(t *testing.T, s store.Store) {
	contacts := book(t, s, "a@example.com", "contacts")
	cal := mkColl(t, s, "a@example.com", store.KindCal, "personal")
	bobs := book(t, s, "b@example.com", "contacts")
	noSource(t, s, "a@example.com", sourceBooks)

	for _, bad := range []*store.MigrationSource{
		{URL: sourceBooks, Collection: contacts.ID},
		{Owner: "a@example.com", Collection: contacts.ID},
	} {
		if err := s.PutMigrationSource(ctx, bad); err == nil {
			t.Fatalf("PutMigrationSource(%+v): no error", bad)
		}
	}

	first := &store.MigrationSource{Owner: "a@example.com", URL: sourceBooks, Collection: contacts.ID, SyncToken: "http://radicale.org/ns/sync/1"}
	putSource(t, s, first)
	recent(t, "Updated set by PutMigrationSource", first.Updated)
	sameSource(t, "source read back", getSource(t, s, "a@example.com", sourceBooks), *first)

	second := &store.MigrationSource{Owner: "a@example.com", URL: sourceCalendar, Collection: cal.ID, Updated: migrationBase}
	putSource(t, s, second)
	sameSource(t, "source with Updated given", getSource(t, s, "a@example.com", sourceCalendar), *second)

	// Replaced: another collection, another token.
	replaced := &store.MigrationSource{Owner: "a@example.com", URL: sourceBooks, Collection: cal.ID,
		SyncToken: "data:,2", Updated: migrationBase.Add(time.Hour)}
	putSource(t, s, replaced)
	sameSource(t, "source replaced", getSource(t, s, "a@example.com", sourceBooks), *replaced)
	sameSource(t, "other source after a replacement", getSource(t, s, "a@example.com", sourceCalendar), *second)

	// Another user's collection, or none, is not found, and changes nothing.
	for _, c := range []int64{bobs.ID, bobs.ID + 1000} {
		err := s.PutMigrationSource(ctx, &store.MigrationSource{Owner: "a@example.com", URL: sourceBooks, Collection: c})
		wantErr(t, fmt.Sprintf("PutMigrationSource into collection %d", c), err, store.ErrNotFound)
		err = s.PutMigrationSource(ctx, &store.MigrationSource{Owner: "a@example.com", URL: "https://other.example/", Collection: c})
		wantErr(t, fmt.Sprintf("new PutMigrationSource into collection %d", c), err, store.ErrNotFound)
	}
	sameSource(t, "source after refused puts", getSource(t, s, "a@example.com", sourceBooks), *replaced)
	noSource(t, s, "a@example.com", "https://other.example/")
	err := s.PutMigrationSource(ctx, &store.MigrationSource{Owner: "ghost@example.com", URL: sourceBooks, Collection: contacts.ID})
	wantErr(t, "PutMigrationSource of an unknown user", err, store.ErrNotFound)

	// Records are per owner: another user's source of the same URL is
	// apart, and a's others are not b's.
	bob := &store.MigrationSource{Owner: "b@example.com", URL: sourceBooks, Collection: bobs.ID, SyncToken: "b"}
	putSource(t, s, bob)
	sameSource(t, "b's source", getSource(t, s, "b@example.com", sourceBooks), *bob)
	sameSource(t, "a's source beside b's", getSource(t, s, "a@example.com", sourceBooks), *replaced)
	noSource(t, s, "b@example.com", sourceCalendar)
}

// testMigrationSourceCascade: the records of a source go with its
// collection, and a user's records (sources and migrations) with the user.
func testMigrationSourceCascade(t *testing.T, s store.Store) {
	contacts := book(t, s, "a@example.com", "contacts")
	cal := mkColl(t, s, "a@example.com", store.KindCal, "personal")
	bobs := book(t, s, "b@example.com", "contacts")
	putSource(t, s, &store.MigrationSource{Owner: "a@example.com", URL: sourceBooks, Collection: contacts.ID})
	putSource(t, s, &store.MigrationSource{Owner: "a@example.com", URL: sourceCalendar, Collection: cal.ID})
	putSource(t, s, &store.MigrationSource{Owner: "b@example.com", URL: sourceBooks, Collection: bobs.ID})
	mine := startMigration(t, s, migration("a@example.com", migrationBase))
	theirs := startMigration(t, s, migration("b@example.com", migrationBase))

	if err := s.DeleteCollection(ctx, contacts.ID); err != nil {
		t.Fatal(err)
	}
	noSource(t, s, "a@example.com", sourceBooks)
	getSource(t, s, "a@example.com", sourceCalendar)
	eq(t, "sources after DeleteCollection", tableRows(t, s, "migration_sources"), int64(2))

	if err := s.DeleteUser(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	eq(t, "sources after DeleteUser", tableRows(t, s, "migration_sources"), int64(1))
	eq(t, "migrations after DeleteUser", tableRows(t, s, "migrations"), int64(1))
	getSource(t, s, "b@example.com", sourceBooks)
	getMigration(t, s, "b@example.com", theirs.ID)

	// A new user of the same login finds nothing of the first.
	mkUser(t, s, "a@example.com")
	noSource(t, s, "a@example.com", sourceCalendar)
	_, err := s.GetMigration(ctx, "a@example.com", mine.ID)
	wantErr(t, "GetMigration of a deleted user's migration", err, store.ErrNotFound)
	eq(t, "migrations of the new user", len(listMigrations(t, s, "a@example.com", 0)), 0)
}

// testMigrations: a migration reads back as started and updated; another
// user's is not found; a report over the bound is refused.
func testMigrations(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	mkUser(t, s, "b@example.com")
	err := s.StartMigration(ctx, migration("ghost@example.com", migrationBase))
	wantErr(t, "StartMigration of an unknown user", err, store.ErrNotFound)
	for _, bad := range []*store.Migration{
		{Source: "https://dav.example.net/", Started: migrationBase},
		{Owner: "a@example.com", Started: migrationBase},
		{Owner: "a@example.com", Source: "https://dav.example.net/"},
	} {
		if err := s.StartMigration(ctx, bad); err == nil || errors.Is(err, store.ErrExists) {
			t.Fatalf("StartMigration(%+v): %v, want an error", bad, err)
		}
	}
	eq(t, "migrations after refusals", len(listMigrations(t, s, "a@example.com", 0)), 0)

	// What StartMigration sets, whatever m held.
	m := migration("a@example.com", migrationBase)
	m.Heartbeat, m.Finished, m.State, m.Error = migrationBase.Add(time.Hour), migrationBase, store.MigrationDone, "old"
	startMigration(t, s, m)
	want := *migration("a@example.com", migrationBase)
	want.ID, want.Heartbeat, want.State = m.ID, migrationBase, store.MigrationRunning
	sameMigration(t, "m after StartMigration", *m, want)
	sameMigration(t, "migration read back", getMigration(t, s, "a@example.com", m.ID), want)

	// Progress, then the end.
	m.Heartbeat, m.Report = migrationBase.Add(10*time.Second), []byte(`{"objects":1200}`)
	updateMigration(t, s, m)
	sameMigration(t, "migration in progress", getMigration(t, s, "a@example.com", m.ID), *m)
	m.Heartbeat, m.Finished, m.State = migrationBase.Add(time.Minute), migrationBase.Add(time.Minute), store.MigrationFailed
	m.Report, m.Error = []byte(`{"objects":2000,"rejected":[{"name":"x.vcf"}]}`), "401 Unauthorized"
	updateMigration(t, s, m)
	sameMigration(t, "failed migration", getMigration(t, s, "a@example.com", m.ID), *m)
	kept := *m

	// Another user's migration, or none, is not found; nothing changes.
	for _, id := range []int64{0, m.ID + 1000} {
		_, err := s.GetMigration(ctx, "a@example.com", id)
		wantErr(t, fmt.Sprintf("GetMigration(%d)", id), err, store.ErrNotFound)
	}
	_, err = s.GetMigration(ctx, "b@example.com", m.ID)
	wantErr(t, "GetMigration of another user's", err, store.ErrNotFound)
	other := kept
	other.Owner, other.State, other.Error = "b@example.com", store.MigrationDone, ""
	wantErr(t, "UpdateMigration of another user's", s.UpdateMigration(ctx, &other), store.ErrNotFound)
	other.Owner, other.ID = "a@example.com", m.ID+1000
	wantErr(t, "UpdateMigration of none", s.UpdateMigration(ctx, &other), store.ErrNotFound)
	bad := kept
	bad.State = "paused"
	if err := s.UpdateMigration(ctx, &bad); err == nil {
		t.Fatal("UpdateMigration to an unknown state: no error")
	}
	sameMigration(t, "migration after refused updates", getMigration(t, s, "a@example.com", m.ID), kept)

	// The report's bound, at StartMigration and UpdateMigration.
	big := migration("a@example.com", migrationBase.Add(time.Hour))
	big.Report = bytes.Repeat([]byte("x"), store.MaxMigrationReport+1)
	wantErr(t, "StartMigration with a report too large", s.StartMigration(ctx, big), store.ErrTooLarge)
	eq(t, "migrations after a refused start", migrationIDs(listMigrations(t, s, "a@example.com", 0)), []int64{m.ID})
	big.Report = big.Report[:store.MaxMigrationReport]
	startMigration(t, s, big)
	sameMigration(t, "migration with the largest report", getMigration(t, s, "a@example.com", big.ID), *big)
	tooBig := *big
	tooBig.Report = append(bytes.Clone(big.Report), '}')
	wantErr(t, "UpdateMigration with a report too large", s.UpdateMigration(ctx, &tooBig), store.ErrTooLarge)
	sameMigration(t, "migration after a refused update", getMigration(t, s, "a@example.com", big.ID), *big)

	// No report is an empty one.
	finishMigration(t, s, big)
	none := migration("b@example.com", migrationBase)
	none.Report = nil
	startMigration(t, s, none)
	if got := getMigration(t, s, "b@example.com", none.ID); len(got.Report) != 0 {
		t.Fatalf("migration started without a report: %q", got.Report)
	}
}

// testMigrationOneAtATime: a user runs one migration at a time; one
// without a heartbeat for MigrationStale is interrupted by the next.
func testMigrationOneAtATime(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	mkUser(t, s, "b@example.com")
	first := startMigration(t, s, migration("a@example.com", migrationBase))
	refused := func(what string, started time.Time) {
		t.Helper()
		m := migration("a@example.com", started)
		wantErr(t, what, s.StartMigration(ctx, m), store.ErrExists)
		if m.ID != 0 {
			t.Fatalf("%s: ID %d set", what, m.ID)
		}
	}
	refused("a second migration a minute later", migrationBase.Add(time.Minute))
	refused("a second migration MigrationStale later", migrationBase.Add(store.MigrationStale))
	startMigration(t, s, migration("b@example.com", migrationBase.Add(time.Minute)))

	// A heartbeat keeps it running.
	first.Heartbeat = migrationBase.Add(5 * time.Minute)
	updateMigration(t, s, first)
	refused("a second migration after a heartbeat", first.Heartbeat.Add(store.MigrationStale))
	eq(t, "a's migrations after refusals", migrationIDs(listMigrations(t, s, "a@example.com", 0)), []int64{first.ID})
	eq(t, "state of the running one", getMigration(t, s, "a@example.com", first.ID).State, store.MigrationRunning)

	// Without one for longer, the next starts and the first was
	// interrupted (at its last heartbeat).
	second := startMigration(t, s, migration("a@example.com", first.Heartbeat.Add(store.MigrationStale+time.Microsecond)))
	interrupted := *first
	interrupted.State, interrupted.Finished = store.MigrationInterrupted, first.Heartbeat
	sameMigration(t, "the stale migration", getMigration(t, s, "a@example.com", first.ID), interrupted)
	eq(t, "state of the new one", getMigration(t, s, "a@example.com", second.ID).State, store.MigrationRunning)

	// Its runner, back from a stall, learns that its place was taken,
	// and writes nothing: the user still has one running migration.
	late := *first
	late.Heartbeat = second.Started.Add(time.Second)
	wantErr(t, "UpdateMigration of an interrupted one", s.UpdateMigration(ctx, &late), store.ErrPrecondition)
	sameMigration(t, "the interrupted migration after its runner wrote", getMigration(t, s, "a@example.com", first.ID), interrupted)

	// Ended ones, whichever way, do not count.
	finishMigration(t, s, second)
	third := startMigration(t, s, migration("a@example.com", second.Finished.Add(time.Second)))
	third.State, third.Finished, third.Error = store.MigrationFailed, third.Started, "unreachable"
	updateMigration(t, s, third)
	fourth := startMigration(t, s, migration("a@example.com", third.Started.Add(time.Second)))
	eq(t, "a's migrations", migrationIDs(listMigrations(t, s, "a@example.com", 0)), []int64{fourth.ID, third.ID, second.ID, first.ID})
	eq(t, "states", []string{getMigration(t, s, "a@example.com", second.ID).State, getMigration(t, s, "a@example.com", third.ID).State},
		[]string{store.MigrationDone, store.MigrationFailed})
	again := *third
	again.State = store.MigrationDone
	wantErr(t, "UpdateMigration of an ended one", s.UpdateMigration(ctx, &again), store.ErrPrecondition)
}

// testMigrationsKept: StartMigration keeps the MigrationsKept newest of
// the owner's migrations, and the one it starts.
func testMigrationsKept(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	mkUser(t, s, "b@example.com")
	var bobs []int64
	for i := range 3 {
		m := startMigration(t, s, migration("b@example.com", migrationBase.Add(time.Duration(i-10)*time.Hour)))
		finishMigration(t, s, m)
		bobs = append([]int64{m.ID}, bobs...)
	}
	var ids []int64 // newest first
	for i := range store.MigrationsKept + 5 {
		m := startMigration(t, s, migration("a@example.com", migrationBase.Add(time.Duration(i)*time.Hour)))
		finishMigration(t, s, m)
		ids = append([]int64{m.ID}, ids...)
	}
	eq(t, "migrations kept", migrationIDs(listMigrations(t, s, "a@example.com", 0)), ids[:store.MigrationsKept])
	for _, id := range ids[store.MigrationsKept:] {
		_, err := s.GetMigration(ctx, "a@example.com", id)
		wantErr(t, fmt.Sprintf("GetMigration(%d) beyond the kept", id), err, store.ErrNotFound)
	}
	eq(t, "another user's migrations", migrationIDs(listMigrations(t, s, "b@example.com", 0)), bobs)

	// One started before all (a clock set back) is kept all the same: its
	// runner is about to write to it.
	early := startMigration(t, s, migration("a@example.com", migrationBase.Add(-time.Hour)))
	eq(t, "migrations kept with an early one", migrationIDs(listMigrations(t, s, "a@example.com", 0)),
		append(slices.Clone(ids[:store.MigrationsKept-1]), early.ID))
}

// testListMigrations: newest Started first, the later started first among
// equals; at most limit.
func testListMigrations(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	mkUser(t, s, "b@example.com")
	eq(t, "no migrations", len(listMigrations(t, s, "a@example.com", 0)), 0)
	var ms []*store.Migration
	for _, at := range []time.Duration{0, 0, -time.Hour, time.Hour} {
		m := startMigration(t, s, migration("a@example.com", migrationBase.Add(at)))
		finishMigration(t, s, m)
		ms = append(ms, m)
	}
	list := listMigrations(t, s, "a@example.com", 0)
	eq(t, "ListMigrations", migrationIDs(list), []int64{ms[3].ID, ms[1].ID, ms[0].ID, ms[2].ID})
	sameMigration(t, "listed migration", list[0], *ms[3])
	eq(t, "ListMigrations limit 2", migrationIDs(listMigrations(t, s, "a@example.com", 2)), []int64{ms[3].ID, ms[1].ID})
	eq(t, "another user's", len(listMigrations(t, s, "b@example.com", 0)), 0)
	if _, err := s.ListMigrations(ctx, "a@example.com", -1); err == nil {
		t.Fatal("ListMigrations with a negative limit: no error")
	}
}

// testMigrationsConcurrent: starts at once through one store, as two
// pages' requests: one wins.
func testMigrationsConcurrent(t *testing.T, s store.Store) {
	oneAtATime(t, s, s)
}

// testSharedMigrations: starts and puts racing the deletion of their user
// or collection, through two processes, leave nothing behind; and a user
// runs one migration at a time across them.
func testSharedMigrations(t *testing.T, a, b store.Store) {
	const rounds = 20
	for r := range rounds {
		login := fmt.Sprint("gone", r)
		c := book(t, a, login, "contacts")
		var startErr, putErr, delColl, delUser error
		atOnce(4, a, b, func(i int, s store.Store) {
			switch i {
			case 0:
				startErr = s.StartMigration(ctx, migration(login, migrationBase))
			case 1:
				putErr = s.PutMigrationSource(ctx, &store.MigrationSource{Owner: login, URL: sourceBooks, Collection: c.ID})
			case 2:
				delColl = s.DeleteCollection(ctx, c.ID)
			case 3:
				delUser = s.DeleteUser(ctx, login)
			}
		})
		if delUser != nil {
			t.Fatalf("round %d: DeleteUser: %v", r, delUser)
		}
		if delColl != nil && !errors.Is(delColl, store.ErrNotFound) {
			t.Fatalf("round %d: DeleteCollection: %v", r, delColl)
		}
		for what, err := range map[string]error{"StartMigration": startErr, "PutMigrationSource": putErr} {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("round %d: %s while its user is deleted: %v, want nil or ErrNotFound", r, what, err)
			}
		}
	}
	eq(t, "sources left", tableRows(t, a, "migration_sources"), int64(0))
	eq(t, "migrations left", tableRows(t, a, "migrations"), int64(0))

	oneAtATime(t, a, b)
}

// oneAtATime starts migrations of one user at once through a and b: one
// starts, the others get ErrExists; then the same once it went stale, and
// the stale one is interrupted.
func oneAtATime(t *testing.T, a, b store.Store) {
	const rounds, n = 10, 8
	for r := range rounds {
		login := fmt.Sprint("user", r)
		mkUser(t, a, login)
		for step, at := range []time.Time{migrationBase, migrationBase.Add(store.MigrationStale + time.Second)} {
			errs := make([]error, n)
			atOnce(n, a, b, func(i int, s store.Store) {
				errs[i] = s.StartMigration(ctx, migration(login, at))
			})
			started := 0
			for _, err := range errs {
				switch {
				case err == nil:
					started++
				case !errors.Is(err, store.ErrExists):
					t.Fatalf("round %d step %d: StartMigration: %v", r, step, err)
				}
			}
			if started != 1 {
				t.Fatalf("round %d step %d: %d migrations started at once, want 1", r, step, started)
			}
		}
		list := listMigrations(t, a, login, 0)
		var states []string
		for _, m := range list {
			states = append(states, m.State)
		}
		if got := strings.Join(states, " "); got != "running interrupted" {
			t.Fatalf("round %d: states %s, want running interrupted", r, got)
		}
	}
}
