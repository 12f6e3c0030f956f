package storecopy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/sqlite"
	"github.com/rolodav/rolodav/internal/storecopy"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	return openSQLite(t, filepath.Join(t.TempDir(), "rolodav.db"))
}

func newPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func card(uid, fn string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nEND:VCARD\r\n")
}

func put(t testing.TB, s store.Store, coll int64, name, uid string, data []byte) string {
	t.Helper()
	_, etag, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: uid, Data: data}, store.Conditions{})
	must(t, err)
	return etag
}

// fill gives every table of s rows, through the Store API, as a server in
// use has them: extra objects more.
func fill(t testing.TB, s *sqlite.Store, extra int) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, login := range []string{"ann@example.org", "bob"} {
		must(t, s.CreateUser(ctx, &store.User{Login: login, PasswordHash: "$argon2id$" + login}))
	}
	must(t, s.CreateUser(ctx, &store.User{Login: "imap@example.org", Backend: store.BackendIMAP}))
	must(t, s.UpdateUserSettings(ctx, "ann@example.org", func(u *store.User) error {
		u.Language, u.MailOff = "fr", []string{store.NoticeNewSignIn, store.NoticePassword}
		u.Region, u.TimeZone = "FR", "Europe/Paris"
		return nil
	}))
	must(t, s.SetRequireAppPasswords(ctx, "bob", true))

	// App passwords; the latest deleted, so that its id is above the
	// largest one left and must not be handed out again.
	phone := &store.AppPassword{Owner: "ann@example.org", Name: "Phone ☎", Digest: "d1"}
	must(t, s.CreateAppPassword(ctx, phone))
	gone := &store.AppPassword{Owner: "ann@example.org", Name: "old", Digest: "d2"}
	must(t, s.CreateAppPassword(ctx, gone))
	must(t, s.DeleteAppPassword(ctx, "ann@example.org", gone.ID))

	must(t, s.CreateSession(ctx, &store.Session{ID: "s1", Owner: "ann@example.org", CSRF: "c1",
		Created: now, Expires: now.Add(time.Hour), LastSeen: now, Addr: "192.0.2.1", Client: "Firefox"}))
	must(t, s.CreateSession(ctx, &store.Session{ID: "s2", Owner: "bob", CSRF: "c2",
		Created: now, Expires: now.Add(time.Hour), LastSeen: now, Partial: true}))
	must(t, s.RecordSignIn(ctx, &store.SignIn{Login: "ann@example.org", Time: now, OK: true, Via: "dav",
		Credential: "app:Phone ☎", Addr: "2001:db8::1", Network: "2001:db8::/64", Client: "DAVx5"}, phone.ID, 0))
	must(t, s.RecordSignIn(ctx, &store.SignIn{Login: "bob", Time: now, Via: "web", Addr: "192.0.2.9",
		Network: "192.0.2.9"}, 0, 0))
	_, err := s.AddSignInFailure(ctx, "addr:192.0.2.9", now, time.Hour, 1, time.Hour)
	must(t, err)

	// Collections with properties; one deleted, again above the others.
	book := &store.Collection{Owner: "ann@example.org", Kind: store.KindCard, Name: "contacts",
		DisplayName: "Contacts – Ann", Props: map[string]string{"{urn:x}color": "<x:c>#ff0000</x:c>"}}
	must(t, s.CreateCollection(ctx, book))
	cal := &store.Collection{Owner: "ann@example.org", Kind: store.KindCal, Name: "work", Color: "#00ff00",
		Order: 3, Components: []string{"VEVENT", "VTODO"}, Timezone: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}
	must(t, s.CreateCollection(ctx, cal))
	dropped := &store.Collection{Owner: "bob", Kind: store.KindCard, Name: "dropped"}
	must(t, s.CreateCollection(ctx, dropped))
	must(t, s.DeleteCollection(ctx, dropped.ID))

	// Objects: cards, one without a UID, one of every byte, an event with
	// a span; a deletion leaves a tombstone in changes.
	etags := map[string]string{}
	for _, c := range []struct{ name, uid, fn string }{
		{"a.vcf", "uid-a", "Ann Smith"}, {"b.vcf", "uid-b", "Anne Smith"}, {"c.vcf", "uid-c", "A. Smith"},
		{"x.vcf", "uid-x", "Xavier"}, {"y.vcf", "uid-y", "Yann"},
	} {
		etags[c.name] = put(t, s, book.ID, c.name, c.uid, card(c.uid, c.fn))
	}
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	put(t, s, book.ID, "bytes.vcf", "", every)
	for i := range extra {
		put(t, s, book.ID, fmt.Sprintf("extra-%04d.vcf", i), fmt.Sprintf("uid-extra-%d", i), card(fmt.Sprint(i), "Extra"))
	}
	_, _, err = s.PutObject(ctx, &store.Object{Collection: cal.ID, Name: "meeting.ics", UID: "uid-m",
		Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), Component: "VEVENT",
		FirstStart: now, LastEnd: now.Add(time.Hour)}, store.Conditions{})
	must(t, err)
	must(t, s.DeleteObject(ctx, book.ID, "y.vcf", store.Conditions{}))

	// A merge in effect (merged_away), and one undone (undone set, undo
	// empty).
	merge := func(removed, removedUID, batch string) *store.Merge {
		ref, err := s.GetObject(ctx, book.ID, "a.vcf")
		must(t, err)
		m, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: book.ID,
			Reference:     &store.Object{Collection: book.ID, Name: "a.vcf", UID: "uid-a", Data: append(ref.Data, removed...)},
			ReferenceETag: ref.ETag,
			Removed:       []store.Removed{{Name: removed, UID: removedUID, ETag: etags[removed]}},
			Undo:          []byte("undo " + removed), Batch: batch})
		must(t, err)
		return m
	}
	merge("b.vcf", "uid-b", "batch-1")
	undone := merge("x.vcf", "uid-x", "")
	a, err := s.GetObject(ctx, book.ID, "a.vcf")
	must(t, err)
	must(t, s.UndoMerge(ctx, book.ID, undone.ID, undone.Undo, []store.Object{
		{Collection: book.ID, Name: "a.vcf", UID: "uid-a", Data: a.Data},
		{Collection: book.ID, Name: "x.vcf", UID: "uid-x", Data: card("uid-x", "Xavier")}}, true))
	must(t, s.HideGroup(ctx, book.ID, []string{"uid-a", "uid-c"}))

	_, err = s.QueueNotice(ctx, &store.Notice{Login: "ann@example.org", Kind: store.NoticeNewSignIn,
		To: "ann@example.org", Language: "fr", Time: now, Addr: "2001:db8::1", Detail: "dav"}, 0)
	must(t, err)
	must(t, s.SetPendingTOTP(ctx, "bob", "JBSWY3DPEHPK3PXP"))
	must(t, s.EnableTwoFactor(ctx, "bob", "JBSWY3DPEHPK3PXP", 42, []string{"e1", "e2"}))
	_, err = s.ClaimRun(ctx, "prune", now, time.Hour)
	must(t, err)

	// WebDAV-Push: the topic secret, a retired key and the current one, a
	// registration bound to each, a message queued (the rotation's), and
	// a registration of a deleted collection with its last message.
	_, err = s.Secret(ctx, "push-topic", func() (string, error) { return "c2VjcmV0IG9mIHRvcGljcw", nil })
	must(t, err)
	_, err = s.PushKey(ctx, func() (store.PushKey, error) {
		return store.PushKey{Private: "old-private", Public: "old-public"}, nil
	})
	must(t, err)
	_, err = s.RegisterPush(ctx, &store.PushRegistration{Login: "ann@example.org", Collection: book.ID,
		Resource: "https://push.example.net/ann", PublicKey: "BAnn", AuthSecret: "auth-ann",
		Content: true, Property: true, Client: "DAVx5", Expires: now.Add(72 * time.Hour)})
	must(t, err)
	must(t, s.RotatePushKey(ctx, store.PushKey{Private: "private", Public: "public"}, now))
	_, err = s.RegisterPush(ctx, &store.PushRegistration{Login: "bob", Home: store.KindCal,
		Resource: "https://push.example.net/bob", PublicKey: "BBob", AuthSecret: "auth-bob",
		Content: true, Expires: now.Add(72 * time.Hour)})
	must(t, err)
	old := &store.Collection{Owner: "bob", Kind: store.KindCal, Name: "old"}
	must(t, s.CreateCollection(ctx, old))
	_, err = s.RegisterPush(ctx, &store.PushRegistration{Login: "bob", Collection: old.ID,
		Resource: "https://push.example.net/bob", PublicKey: "BBob", AuthSecret: "auth-bob",
		Content: true, Expires: now.Add(72 * time.Hour)})
	must(t, err)
	must(t, s.DeleteCollection(ctx, old.ID))

	// Moving from another provider: the record of a source collection, a
	// migration ended and one running (without a report yet).
	must(t, s.PutMigrationSource(ctx, &store.MigrationSource{Owner: "ann@example.org",
		URL: "https://dav.example.net/ann/contacts/", Collection: book.ID, SyncToken: "http://radicale.org/ns/sync/7"}))
	done := &store.Migration{Owner: "ann@example.org", Source: "https://dav.example.net/", SourceUser: "ann",
		Started: now.Add(-time.Hour), Report: []byte(`{"added":5}`)}
	must(t, s.StartMigration(ctx, done))
	done.State, done.Finished, done.Heartbeat = store.MigrationDone, now, now
	must(t, s.UpdateMigration(ctx, done))
	must(t, s.StartMigration(ctx, &store.Migration{Owner: "ann@example.org", Source: "https://dav.example.net/",
		SourceUser: "ann", Started: now}))
}

// identityTables counts the tables with an identity: dump gives a line
// for each besides their rows.
func identityTables() int {
	n := 0
	for _, tb := range store.Tables {
		if tb.Identity != "" {
			n++
		}
	}
	return n
}

// dump is every row of every table of s and its identities, one line a
// row, in the order the driver reads them.
func dump(t testing.TB, s store.Rows) []string {
	t.Helper()
	var out []string
	err := s.ReadRows(ctx, func(r store.RowReader) error {
		for i := range store.Tables {
			tb := &store.Tables[i]
			for row, err := range r.Scan(ctx, tb) {
				if err != nil {
					return err
				}
				out = append(out, fmt.Sprintf("%s %#v", tb.Name, row))
			}
		}
		ids, err := r.Identities(ctx)
		if err != nil {
			return err
		}
		for _, tb := range store.Tables {
			if tb.Identity != "" {
				out = append(out, fmt.Sprintf("identity %s %d", tb.Name, ids[tb.Name]))
			}
		}
		return nil
	})
	must(t, err)
	return out
}

func sorted(lines []string) []string {
	return slices.Sorted(slices.Values(lines))
}

func copyOK(t testing.TB, from, to store.Rows, opt storecopy.Options) *storecopy.Result {
	t.Helper()
	res, err := storecopy.Copy(ctx, from, to, opt, nil)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	return res
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("%s: line %d\n got: %s\nwant: %s", what, i, g, w)
		}
	}
}

// SQLite to PostgreSQL to a new SQLite file gives back the first database
// row for row, ids and identities included, and the copy works as a store.
func TestRoundTrip(t *testing.T) {
	a := newSQLite(t)
	fill(t, a, 0)
	want := dump(t, a)
	for _, tb := range store.Tables {
		if !slices.ContainsFunc(want, func(l string) bool { return strings.HasPrefix(l, tb.Name+" ") }) {
			t.Fatalf("the fixture has no row in %s", tb.Name)
		}
	}
	if !slices.Contains(want, "identity collections 4") || !slices.Contains(want, "identity app_passwords 2") {
		t.Fatalf("the fixture's identities are not above its largest ids:\n%s", strings.Join(want, "\n"))
	}

	pg := newPostgres(t)
	res := copyOK(t, a, pg, storecopy.Options{})
	objects := len(slices.DeleteFunc(slices.Clone(want), func(l string) bool { return !strings.HasPrefix(l, "objects ") }))
	if res.Unchanged || res.Replaced != nil || res.Rows() != int64(len(want)-identityTables()) || res.ETags != int64(objects) || res.Version == 0 {
		t.Errorf("result of the first copy: %+v", res)
	}
	// PostgreSQL orders NULLs and some text differently: the rows are the
	// same, maybe not in the same order.
	diff(t, "PostgreSQL's rows", sorted(dump(t, pg)), sorted(want))

	b := newSQLite(t)
	copyOK(t, pg, b, storecopy.Options{})
	diff(t, "the SQLite copy of the PostgreSQL copy", dump(t, b), want)

	// The copy is a store like the first: sync points hold, and a new
	// collection gets an id the deleted one never had.
	book, err := b.GetCollection(ctx, "ann@example.org", store.KindCard, "contacts")
	must(t, err)
	orig, err := a.GetCollection(ctx, "ann@example.org", store.KindCard, "contacts")
	must(t, err)
	if book.ID != orig.ID || book.SyncSeq != orig.SyncSeq {
		t.Errorf("copied book: id %d seq %d, first %d %d", book.ID, book.SyncSeq, orig.ID, orig.SyncSeq)
	}
	var names []string
	_, _, err = b.ChangesSince(ctx, book.ID, 6, 0, false, func(c *store.Change) error {
		names = append(names, fmt.Sprintf("%s deleted=%v", c.Name, c.Deleted))
		return nil
	})
	must(t, err)
	var wantNames []string
	_, _, err = a.ChangesSince(ctx, orig.ID, 6, 0, false, func(c *store.Change) error {
		wantNames = append(wantNames, fmt.Sprintf("%s deleted=%v", c.Name, c.Deleted))
		return nil
	})
	must(t, err)
	if !slices.Contains(wantNames, "y.vcf deleted=true") || !slices.Equal(names, wantNames) {
		t.Errorf("changes since 6 in the copy: %v, in the first: %v", names, wantNames)
	}
	c := &store.Collection{Owner: "bob", Kind: store.KindCard, Name: "new"}
	must(t, b.CreateCollection(ctx, c))
	if c.ID != 5 {
		t.Errorf("a collection created in the copy got id %d, want 5 (4 was handed out, then deleted)", c.ID)
	}
}

type target struct {
	name string
	open func(t testing.TB) store.Rows
}

var targets = []target{
	{"sqlite", func(t testing.TB) store.Rows { return newSQLite(t) }},
	{"postgres", func(t testing.TB) store.Rows { return newPostgres(t) }},
}

// other is a store that holds rows, not the source's.
func other(t testing.TB, to store.Rows) {
	t.Helper()
	s := newSQLite(t)
	must(t, s.CreateUser(ctx, &store.User{Login: "someone", PasswordHash: "h"}))
	c := &store.Collection{Owner: "someone", Kind: store.KindCard, Name: "book"}
	must(t, s.CreateCollection(ctx, c))
	put(t, s, c.ID, "z.vcf", "uid-z", card("uid-z", "Zoe"))
	copyOK(t, s, to, storecopy.Options{})
}

func TestNotEmptyRefused(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			src := newSQLite(t)
			fill(t, src, 0)
			to := tg.open(t)
			other(t, to)
			before := dump(t, to)
			_, err := storecopy.Copy(ctx, src, to, storecopy.Options{}, nil)
			var ne *storecopy.NotEmptyError
			if !errors.As(err, &ne) {
				t.Fatalf("copy to a target with other rows: %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "1 in users, 1 in collections, 1 in objects, 1 in changes") {
				t.Errorf("message does not say what the target holds: %s", msg)
			}
			diff(t, "the target after the refusal", dump(t, to), before)
		})
	}
}

func TestSecondRunChangesNothing(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			src := newSQLite(t)
			fill(t, src, 0)
			to := tg.open(t)
			copyOK(t, src, to, storecopy.Options{})
			before := dump(t, to)
			for _, opt := range []storecopy.Options{{}, {Replace: true}} {
				res := copyOK(t, src, to, opt)
				if !res.Unchanged || res.Replaced != nil {
					t.Errorf("second copy (%+v): %+v", opt, res)
				}
				diff(t, "the target after a second copy", dump(t, to), before)
			}
		})
	}
}

func TestReplace(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			src := newSQLite(t)
			fill(t, src, 0)
			to := tg.open(t)
			other(t, to)
			res := copyOK(t, src, to, storecopy.Options{Replace: true})
			if res.Unchanged || fmt.Sprint(res.Replaced) != "[{users 1} {collections 1} {objects 1} {changes 1}]" {
				t.Errorf("result: %+v", res)
			}
			diff(t, "the replaced target", sorted(dump(t, to)), sorted(dump(t, src)))
		})
	}
}

// Cancelled in the middle of the objects, the copy leaves the target as it
// was: still holding what --replace was to replace.
func TestCancelLeavesTarget(t *testing.T) {
	src := newSQLite(t)
	fill(t, src, 250)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			to := tg.open(t)
			other(t, to)
			before := dump(t, to)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var last storecopy.Event
			_, err := storecopy.Copy(cctx, src, to, storecopy.Options{Replace: true}, func(e storecopy.Event) {
				last = e
				if e.Table == "objects" && e.Done >= 200 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled copy: %v", err)
			}
			if last.Table != "objects" || last.Phase != storecopy.PhaseCopy {
				t.Errorf("the copy went on after the cancel, to %+v", last)
			}
			diff(t, "the target after the cancelled copy", dump(t, to), before)
		})
	}
}

// A source whose data no longer matches its ETags is refused, naming the
// object, and the target stays as it was, although --replace had emptied
// it in the transaction.
func TestSourceETagMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	src := openSQLite(t, path)
	fill(t, src, 0)
	db, err := sql.Open("sqlite3", path)
	must(t, err)
	_, err = db.Exec(`UPDATE objects SET data = CAST('changed' AS BLOB) WHERE name = 'c.vcf'`)
	db.Close()
	must(t, err)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			to := tg.open(t)
			other(t, to)
			before := dump(t, to)
			_, err = storecopy.Copy(ctx, src, to, storecopy.Options{Replace: true}, nil)
			if err == nil || !strings.Contains(err.Error(), `source: object "c.vcf" of collection 1 has ETag`) {
				t.Fatalf("copy of a source with a wrong ETag: %v", err)
			}
			diff(t, "the target after the failed copy", dump(t, to), before)
		})
	}
}

// corrupting writes what it is given with one byte of the data of the
// objects changed, as a faulty driver or a disk might.
type corrupting struct{ store.Rows }

func (c corrupting) WriteRows(ctx context.Context, fn func(w store.RowWriter) error) error {
	return c.Rows.WriteRows(ctx, func(w store.RowWriter) error { return fn(corruptWriter{w}) })
}

type corruptWriter struct{ store.RowWriter }

func (w corruptWriter) Insert(ctx context.Context, t *store.Table, rows store.RowSeq) (int64, error) {
	if t.Name != "objects" {
		return w.RowWriter.Insert(ctx, t, rows)
	}
	return w.RowWriter.Insert(ctx, t, func(yield func([]any, error) bool) {
		for row, err := range rows {
			if err == nil {
				row = slices.Clone(row)
				data := slices.Clone(row[len(row)-1].([]byte))
				data[0] ^= 1
				row[len(row)-1] = data
			}
			if !yield(row, err) {
				return
			}
		}
	})
}

// The copy reads the target back before it commits: a target that does
// not hold what was written is rolled back.
func TestVerifyRefusesCorruption(t *testing.T) {
	src := newSQLite(t)
	fill(t, src, 0)
	to := newSQLite(t)
	_, err := storecopy.Copy(ctx, src, corrupting{to}, storecopy.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "verify: target: object ") {
		t.Fatalf("copy to a corrupting target: %v", err)
	}
	for _, l := range dump(t, to) {
		if !strings.HasPrefix(l, "identity ") {
			t.Fatalf("the target is not empty: %s", l)
		}
	}
}

// versioned claims another schema version.
type versioned struct {
	store.Rows
	v int
}

func (v versioned) SchemaVersion(context.Context) (int, error) { return v.v, nil }

func TestVersionMismatch(t *testing.T) {
	src := newSQLite(t)
	fill(t, src, 0)
	to := newSQLite(t)
	v, err := to.SchemaVersion(ctx)
	must(t, err)
	_, err = storecopy.Copy(ctx, src, versioned{to, v + 1}, storecopy.Options{}, nil)
	var ve *storecopy.VersionError
	if !errors.As(err, &ve) || ve.From != v || ve.To != v+1 {
		t.Fatalf("copy to a newer schema: %v", err)
	}
	if got := dump(t, to); len(got) != identityTables() {
		t.Fatalf("the target was written: %v", got)
	}
}

// Text an older version stored as a client sent it (not UTF-8, or with
// NUL) is mended on the way to PostgreSQL, which stores no such text, and
// counted; a second run finds nothing to do. Such a key is refused,
// naming its row, and the target is left as it was.
func TestCleansText(t *testing.T) {
	a := newSQLite(t)
	must(t, a.CreateUser(ctx, &store.User{Login: "ann@example.org", PasswordHash: "h"}))
	now := time.Now()
	must(t, a.RecordSignIn(ctx, &store.SignIn{Login: "ann@example.org", Time: now, OK: true, Via: "dav",
		Credential: "password", Addr: "192.0.2.1", Network: "192.0.2.1", Client: "DAVx5 caf\xe9"}, 0, time.Hour))
	must(t, a.CreateSession(ctx, &store.Session{ID: "s1", Owner: "ann@example.org", CSRF: "c", Created: now,
		Expires: now.Add(time.Hour), LastSeen: now, Client: "a\x00b"}))
	pg := newPostgres(t)
	res := copyOK(t, a, pg, storecopy.Options{})
	if res.Cleaned != 2 {
		t.Errorf("cleaned %d values, want 2", res.Cleaned)
	}
	list, err := pg.ListSignIns(ctx, "ann@example.org", 0)
	must(t, err)
	if len(list) != 1 || list[0].Client != "DAVx5 caf\uFFFD" {
		t.Fatalf("sign-ins on PostgreSQL: %+v", list)
	}
	sess, err := pg.GetSession(ctx, "s1")
	must(t, err)
	if sess.Client != "ab" {
		t.Errorf("session client %q", sess.Client)
	}
	if again := copyOK(t, a, pg, storecopy.Options{}); !again.Unchanged {
		t.Errorf("second run: %+v", again)
	}

	must(t, a.CreateUser(ctx, &store.User{Login: "bad\xff", PasswordHash: "h"}))
	before := dump(t, pg)
	_, err = storecopy.Copy(ctx, a, pg, storecopy.Options{Replace: true}, nil)
	if err == nil || !strings.Contains(err.Error(), `users: the row login="bad\xff" has a login that is not UTF-8`) {
		t.Fatalf("copy of a login that is not UTF-8: %v", err)
	}
	diff(t, "the target after the refused copy", dump(t, pg), before)
}

// While a copy reads its source, a server still running on that database
// cannot write: its write waits, and fails when it cannot wait so long,
// rather than be acknowledged and missing from the copy.
func TestSourceHoldsWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	url := pgtest.URL(t)
	// Another process's SQLite writer, one that waits 100 ms for the lock
	// (rolodav's own wait 10 s, then fail the same way).
	raw, err := sql.Open("sqlite3", path+"?_busy_timeout=100&_txlock=immediate")
	must(t, err)
	defer raw.Close()
	pgOther := openPostgresURL(t, url)
	for _, c := range []struct {
		name  string
		src   store.Rows
		write func(ctx context.Context) error
	}{
		{"sqlite", openSQLite(t, path), func(ctx context.Context) error {
			tx, err := raw.BeginTx(ctx, nil)
			if err == nil {
				_, err = tx.ExecContext(ctx, `INSERT INTO runs (name, started) VALUES ('late', 1)`)
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			}
			return err
		}},
		{"postgres", openPostgresURL(t, url), func(ctx context.Context) error {
			return pgOther.CreateUser(ctx, &store.User{Login: "late@example.org", PasswordHash: "h"})
		}},
	} {
		err := c.src.ReadRows(ctx, func(store.RowReader) error {
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			if err := c.write(wctx); err == nil {
				t.Errorf("%s: a write went through during the copy's read", c.name)
			}
			return nil
		})
		must(t, err)
		must(t, c.write(ctx))
	}
}

func openPostgresURL(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
