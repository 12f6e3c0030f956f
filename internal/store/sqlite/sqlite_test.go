package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/storetest"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o store.Options) store.Store {
		s, err := OpenWith(filepath.Join(t.TempDir(), "sub", "dir", "rolodav.db"), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two stores on one file, as two server processes open it.
func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "rolodav.db")
		a, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(path)
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		return a, b
	})
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sub", "dir", "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixture(t testing.TB, s *Store) *store.Collection {
	t.Helper()
	if err := s.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func putName(t testing.TB, s *Store, coll int64, name string) {
	t.Helper()
	_, _, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: name, Data: []byte("data " + name)}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
}

func names(t testing.TB, s *Store, coll, seq int64, limit int) ([]string, int64, bool) {
	t.Helper()
	var out []string
	next, trunc, err := s.ChangesSince(ctx, coll, seq, limit, false, func(c *store.Change) error {
		n := c.Name
		if c.Deleted {
			n += "-"
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		t.Fatalf("ChangesSince(%d, %d): %v", seq, limit, err)
	}
	return out, next, trunc
}

func TestPruneTombstones(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := fixture(t, s)
	putName(t, s, c.ID, "a")                                                   // 1
	putName(t, s, c.ID, "b")                                                   // 2
	putName(t, s, c.ID, "c")                                                   // 3
	if err := s.DeleteObject(ctx, c.ID, "b", store.Conditions{}); err != nil { // 4
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	if err := s.DeleteObject(ctx, c.ID, "c", store.Conditions{}); err != nil { // 5: newer than cut
		t.Fatal(err)
	}
	putName(t, s, c.ID, "d") // 6

	if n, err := s.PruneTombstones(ctx, cut); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want 1 (b)", n, err)
	}
	var tomb int
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM changes WHERE deleted`).Scan(&tomb); err != nil {
		t.Fatal(err)
	}
	if tomb != 1 {
		t.Fatalf("%d tombstones left, want 1 (c)", tomb)
	}
	// Tokens before the pruned deletion (seq 4) could miss it: refused.
	for _, seq := range []int64{1, 2, 3} {
		_, _, err := s.ChangesSince(ctx, c.ID, seq, 0, false, func(*store.Change) error { return nil })
		if !errors.Is(err, store.ErrInvalidSyncToken) {
			t.Fatalf("token %d after prune: %v, want ErrInvalidSyncToken", seq, err)
		}
	}
	// Fresh tokens work and still see the retained deletion.
	got, next, _ := names(t, s, c.ID, 4, 0)
	if fmt.Sprint(got) != "[c- d]" || next != 6 {
		t.Fatalf("since 4: %v next %d", got, next)
	}
	got, _, _ = names(t, s, c.ID, 0, 0)
	if fmt.Sprint(got) != "[a d]" {
		t.Fatalf("initial: %v", got)
	}
	// Pruning again changes nothing; the floor never goes down.
	if n, err := s.PruneTombstones(ctx, cut); err != nil || n != 0 {
		t.Fatalf("prune again: %d, %v", n, err)
	}
	var floor int64
	s.rdb.QueryRow(`SELECT sync_floor FROM collections WHERE id = ?`, c.ID).Scan(&floor)
	if floor != 4 {
		t.Fatalf("floor %d, want 4", floor)
	}
}

// A backlog larger than one transaction is pruned whole, and every
// collection's floor is its newest pruned deletion whichever batch held it.
func TestPruneTombstonesBatches(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := fixture(t, s)
	ids := []int64{c.ID}
	for _, name := range []string{"b2", "b3"} {
		o := &store.Collection{Owner: "u", Kind: store.KindCard, Name: name}
		if err := s.CreateCollection(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	n := pruneBatch + 7 // per collection: three collections take two batches and more
	for _, id := range ids {
		// Newest seq first in the table and oldest in time: the first
		// batch holds the floor, and the later ones must not lower it.
		if _, err := s.wdb.Exec(`WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < ?)
			INSERT INTO changes (collection, name, seq, deleted, changed) SELECT ?, 'gone' || x, ? - x, TRUE, x FROM i`, n, id, n+1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.wdb.Exec(`UPDATE collections SET sync_seq = ? WHERE id = ?`, n+1, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PruneTombstones(ctx, time.Now())
	if err != nil || got != 3*n {
		t.Fatalf("pruned %d, %v; want %d", got, err, 3*n)
	}
	for _, id := range ids {
		var floor int64
		if err := s.rdb.QueryRow(`SELECT sync_floor FROM collections WHERE id = ?`, id).Scan(&floor); err != nil || floor != int64(n) {
			t.Fatalf("collection %d: floor %d, %v; want %d", id, floor, err, n)
		}
	}
}

// After a prune, a paged initial sync must never hand out a continuation
// token below the floor, or the client would loop on invalid tokens.
func TestInitialSyncPagingAfterPrune(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := fixture(t, s)
	for i := range 10 {
		putName(t, s, c.ID, fmt.Sprintf("o%02d", i)) // 1..10
	}
	putName(t, s, c.ID, "gone")                                                   // 11
	if err := s.DeleteObject(ctx, c.ID, "gone", store.Conditions{}); err != nil { // 12
		t.Fatal(err)
	}
	for i := 10; i < 15; i++ {
		putName(t, s, c.ID, fmt.Sprintf("o%02d", i)) // 13..17
	}
	if _, err := s.PruneTombstones(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var all []string
	seq := int64(0)
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("initial sync does not end")
		}
		got, next, trunc := names(t, s, c.ID, seq, 3)
		all = append(all, got...)
		if pages == 0 && len(got) != 10 {
			t.Fatalf("first page %v: want it to reach the floor (10 names)", got)
		}
		if !trunc {
			break
		}
		seq = next
	}
	if len(all) != 15 {
		t.Fatalf("walked %d names: %v", len(all), all)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := fixture(t, s)
	putName(t, s, c.ID, "a")
	putName(t, s, c.ID, "b")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second reopen proves migrations are idempotent
		s, err = Open(path)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		var versions, max int
		if err := s.rdb.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&versions, &max); err != nil {
			t.Fatal(err)
		}
		files, _ := migrations.ReadDir("migrations")
		if versions != len(files) || max != len(files) {
			t.Fatalf("schema_version: %d rows, max %d; want %d", versions, max, len(files))
		}
		g, err := s.GetCollection(ctx, "u", store.KindCard, "book")
		if err != nil {
			t.Fatal(err)
		}
		if g.Count != 2 || g.SyncSeq != 2 || g.ID != c.ID {
			t.Fatalf("after reopen: %+v", g)
		}
		o, err := s.GetObject(ctx, c.ID, "b")
		if err != nil || string(o.Data) != "data b" {
			t.Fatalf("object after reopen: %v %v", o, err)
		}
		s.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("empty path accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "a?b")); err == nil {
		t.Fatal("path with '?' accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Open(filepath.Join(file, "db")); err == nil {
		t.Fatal("path under a file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, []byte("this is not a database, just some bytes that are long enough to look like a header"), 0o600)
	if _, err := Open(bad); err == nil {
		t.Fatal("garbage file accepted")
	}
}

// Every pooled connection, not only the first, must carry the pragmas.
func TestPragmasOnEveryConnection(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	check := func(db *sql.DB, n int, wantQueryOnly int) {
		var conns []*sql.Conn
		for range n {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			var mode string
			var syncMode, fk, busy, qo int
			c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
			c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode)
			c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
			c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy)
			c.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&qo)
			if mode != "wal" || syncMode != 2 || fk != 1 || busy != 10000 || qo != wantQueryOnly {
				t.Errorf("conn %d: journal=%s synchronous=%d foreign_keys=%d busy=%d query_only=%d",
					i, mode, syncMode, fk, busy, qo)
			}
			c.Close()
		}
	}
	check(s.rdb, 4, 1)
	check(s.wdb, 1, 0)
}

// Two Store values on one file stand for two processes (a server and a CLI
// command): their writers must wait for each other, never fail.
func TestTwoProcessesWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c := fixture(t, a)
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 25 {
				name := fmt.Sprintf("%d-%d", i, j)
				if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: []byte(name)}, store.Conditions{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	g, err := b.GetCollection(ctx, "u", store.KindCard, "book")
	if err != nil {
		t.Fatal(err)
	}
	if g.Count != 100 || g.SyncSeq != 100 {
		t.Fatalf("count %d seq %d, want 100 100", g.Count, g.SyncSeq)
	}
}

// TestKill writes from a child process, kills it with SIGKILL mid-stream and
// checks that every write the child acknowledged is in the file.
func TestKill(t *testing.T) {
	if path := os.Getenv("ROLODAV_SQLITE_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := fixture(t, s)
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$")
	cmd.Env = append(os.Environ(), "ROLODAV_SQLITE_KILL_CHILD="+path, "ROLODAV_SQLITE_KILL_COLL="+strconv.FormatInt(c.ID, 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			acked = n + 1
		}
		if acked >= 30 {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if acked < 30 {
		t.Fatalf("child acknowledged only %d writes", acked)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range acked {
		if _, err := s.GetObject(ctx, c.ID, fmt.Sprintf("k%05d", i)); err != nil {
			t.Fatalf("acknowledged write %d lost: %v", i, err)
		}
	}
	g, _ := s.GetCollection(ctx, "u", store.KindCard, "book")
	if g.Count < int64(acked) || g.SyncSeq != g.Count {
		t.Fatalf("count %d seq %d, acked %d", g.Count, g.SyncSeq, acked)
	}
}

func killChild(path string) {
	coll, _ := strconv.ParseInt(os.Getenv("ROLODAV_SQLITE_KILL_COLL"), 10, 64)
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Bounded, in case the parent dies before killing us.
	for i, end := 0, time.Now().Add(time.Minute); time.Now().Before(end); i++ {
		name := fmt.Sprintf("k%05d", i)
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: name, Data: []byte(name)}, store.Conditions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(i) // acknowledged: committed
	}
}

// The maintained obj_count/obj_bytes must equal the aggregates after any mix
// of writes, failed ones included.
func TestCountersMatchAggregates(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c1 := fixture(t, s)
	c2 := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "two"}
	if err := s.CreateCollection(ctx, c2); err != nil {
		t.Fatal(err)
	}
	colls := []int64{c1.ID, c2.ID}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 600 {
		coll := colls[rng.IntN(2)]
		name := fmt.Sprintf("n%d", rng.IntN(20))
		switch rng.IntN(4) {
		case 0, 1:
			uid := fmt.Sprintf("u%d", rng.IntN(25)) // sometimes conflicts
			s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: uid, Data: make([]byte, rng.IntN(300))},
				store.Conditions{IfNoneMatch: rng.IntN(3) == 0})
		case 2:
			s.DeleteObject(ctx, coll, name, store.Conditions{})
		case 3:
			s.MoveObject(ctx, coll, name, colls[rng.IntN(2)], fmt.Sprintf("n%d", rng.IntN(20)), rng.IntN(2) == 0, store.Conditions{})
		}
		if i%50 != 49 {
			continue
		}
		for _, id := range colls {
			var cnt, bytes, aggCnt, aggBytes int64
			err := s.rdb.QueryRow(`SELECT obj_count, obj_bytes,
				(SELECT COUNT(*) FROM objects WHERE collection = ?), (SELECT COALESCE(SUM(size), 0) FROM objects WHERE collection = ?)
				FROM collections WHERE id = ?`, id, id, id).Scan(&cnt, &bytes, &aggCnt, &aggBytes)
			if err != nil {
				t.Fatal(err)
			}
			if cnt != aggCnt || bytes != aggBytes {
				t.Fatalf("after %d ops, collection %d: counters %d/%d, aggregates %d/%d", i+1, id, cnt, bytes, aggCnt, aggBytes)
			}
		}
	}
}

// A database created before migration 0004 (accounts) must open: existing
// users get RequireAppPasswords false and can use the new tables at once.
func TestMigrateAccounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", path+"?"+dsnParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, f := range []string{"0001_init.sql", "0002_merges.sql", "0003_reference_etag.sql"} {
		body, err := migrations.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_version (version, applied) VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO users (login, password_hash, created) VALUES ('old', 'h', 1), ('other', 'h', 2)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO collections (owner, kind, name, created, modified) VALUES ('old', 'card', 'book', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var max int
	if err := s.rdb.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&max); err != nil || max < 4 {
		t.Fatalf("schema version %d, %v", max, err)
	}
	u, err := s.GetUser(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if u.RequireAppPasswords || u.PasswordHash != "h" || !u.Created.Equal(fromMicros(1)) {
		t.Fatalf("migrated user: %+v", u)
	}
	if err := s.SetRequireAppPasswords(ctx, "old", true); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, "old"); !u.RequireAppPasswords {
		t.Fatal("flag not set after migration")
	}
	p := &store.AppPassword{Owner: "old", Name: "phone", Digest: "d"}
	if err := s.CreateAppPassword(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "sid", Owner: "old", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e := &store.SignIn{Login: "old", OK: true, Via: "dav", Credential: "app:phone", Addr: "a", Client: "c"}
	if err := s.RecordSignIn(ctx, e, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || !e.NewAddress || !e.NewDevice {
		t.Fatalf("sign-in after migration: %+v", e)
	}
	// Foreign keys of the new tables cascade on a migrated database too.
	if err := s.DeleteUser(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"app_passwords", "sessions", "signins", "collections"} {
		var n int
		if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s after DeleteUser: %d rows, %v", table, n, err)
		}
	}
	if _, err := s.GetUser(ctx, "other"); err != nil {
		t.Fatal(err)
	}
}

// A migration missing below the highest recorded one (two changes landed
// in another order than they were applied) is applied at the next open.
func TestMigrateFillsGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE notices`, `DELETE FROM schema_version WHERE version = 10`} {
		if _, err := s.wdb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM schema_version WHERE version = 10`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration 10 recorded %d times (%v)", n, err)
	}
	if _, err := s.rdb.Exec(`SELECT COUNT(*) FROM notices`); err != nil {
		t.Fatalf("the missing migration was not applied: %v", err)
	}
}

// A database written by a newer rolodav is refused, not run on.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Exec(`INSERT INTO schema_version (version, applied) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil || !strings.Contains(err.Error(), "schema version 999") || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("opening a newer database: %v", err)
	}
}
