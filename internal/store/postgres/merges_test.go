package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/storetest"
)

// Merges between two Stores on one database, as two server processes have
// them: a merge through one races the writes through the other that change
// the cards it planned around. Each race runs in one of three ways: both
// calls released at once (free), or both held at the collection's row lock
// by a third connection and released in a known order, which makes the
// second one decide on what the first committed.

// shared is a user's address book seen through two Stores on one database.
type shared struct {
	url  string
	a, b *Store
	coll int64
	db   *pgx.Conn // the test's own connection: gates and checks
}

func openShared(t *testing.T) *shared {
	t.Helper()
	ctx := context.Background()
	sh := &shared{url: pgtest.URL(t)}
	for _, s := range []**Store{&sh.a, &sh.b} {
		st, err := Open(ctx, sh.url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		*s = st
	}
	db, err := pgx.Connect(ctx, sh.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.WithoutCancel(ctx)) })
	sh.db = db
	if err := sh.a.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := sh.b.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	sh.coll = c.ID
	return sh
}

func card(uid, fn string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nEND:VCARD\r\n")
}

func (sh *shared) put(t *testing.T, s *Store, name, uid string, data []byte) string {
	t.Helper()
	_, etag, err := s.PutObject(context.Background(), &store.Object{Collection: sh.coll, Name: name, UID: uid, Data: data}, store.Conditions{})
	if err != nil {
		t.Fatalf("PutObject(%s): %v", name, err)
	}
	return etag
}

// data returns name's data through s, nil when it does not exist.
func (sh *shared) data(t *testing.T, s *Store, name string) []byte {
	t.Helper()
	o, err := s.GetObject(context.Background(), sh.coll, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("GetObject(%s): %v", name, err)
	}
	return o.Data
}

// order says how a race's two calls are released.
type order int

const (
	free        order = iota // at once, no gate
	firstFirst               // the first call takes the collection's lock first
	secondFirst              // the second one does
)

func (o order) String() string { return [...]string{"free", "first-first", "second-first"}[o] }

// race runs first and second at once through the gate that o says.
func (sh *shared) race(t *testing.T, o order, first, second func() error) (err1, err2 error) {
	t.Helper()
	ctx := context.Background()
	errs := [2]chan error{make(chan error, 1), make(chan error, 1)}
	fns := [2]func() error{first, second}
	if o == free {
		start := make(chan struct{})
		for i := range fns {
			go func() { <-start; errs[i] <- fns[i]() }()
		}
		close(start)
		return <-errs[0], <-errs[1]
	}
	// Hold the collection's row lock: both calls queue for it, in the
	// order they are started, and get it in that order once it is free.
	gate, err := sh.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Rollback(ctx)
	if _, err := gate.Exec(ctx, `SELECT 1 FROM collections WHERE id = $1 FOR UPDATE`, sh.coll); err != nil {
		t.Fatal(err)
	}
	seq := []int{0, 1}
	if o == secondFirst {
		seq = []int{1, 0}
	}
	for n, i := range seq {
		go func() { errs[i] <- fns[i]() }()
		sh.waitBlocked(t, n+1, errs[i])
	}
	if err := gate.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	return <-errs[0], <-errs[1]
}

// waitBlocked waits until n sessions of the database wait for a lock. A
// call that returns instead did not take the collection's lock first.
func (sh *shared) waitBlocked(t *testing.T, n int, done chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		err := sh.db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_type = 'client backend'
			AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("a call returned (%v) while the collection was locked", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock after 20 s, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A merge through A races a conditional write through B to one of its
// cards (the reference, a group card or a card merged away): exactly one
// of them happens, wholly.
func TestMergeRacesConditionalWrite(t *testing.T) {
	ctx := context.Background()
	sh := openShared(t)
	sh.put(t, sh.a, "first.vcf", "uid-first", card("uid-first", "First"))
	since := mustColl(t, sh).SyncSeq
	targets := []string{"reference", "group", "removed"}
	wins := map[string]int{}
	const rounds = 45 // every order with every target, five times
	for i := range rounds {
		o, target := order(i%3), targets[i/3%3]
		r, x, g := fmt.Sprintf("r%d.vcf", i), fmt.Sprintf("x%d.vcf", i), fmt.Sprintf("g%d.vcf", i)
		ru, xu, gu := fmt.Sprintf("uid-r%d", i), fmt.Sprintf("uid-x%d", i), fmt.Sprintf("uid-g%d", i)
		etags := map[string]string{
			r: sh.put(t, sh.a, r, ru, card(ru, "Ann")),
			x: sh.put(t, sh.b, x, xu, card(xu, "Anne")),
			g: sh.put(t, sh.a, g, gu, []byte("group of "+xu)),
		}
		before := map[string][]byte{r: card(ru, "Ann"), x: card(xu, "Anne"), g: []byte("group of " + xu)}
		merged, groupAfter := card(ru, "Ann (merged)"), []byte("group of "+ru)
		w := &store.MergeWrite{
			Collection:    sh.coll,
			Reference:     &store.Object{Collection: sh.coll, Name: r, UID: ru, Data: merged},
			ReferenceETag: etags[r],
			Groups:        []store.Rewrite{{Object: &store.Object{Name: g, UID: gu, Data: groupAfter}, ETag: etags[g]}},
			Removed:       []store.Removed{{Name: x, UID: xu, ETag: etags[x]}},
			Undo:          []byte(fmt.Sprintf("undo %d", i)),
		}
		name, uid := r, ru
		switch target {
		case "group":
			name, uid = g, gu
		case "removed":
			name, uid = x, xu
		}
		edit := []byte("edited through B " + name)
		var m *store.Merge
		mergeErr, putErr := sh.race(t, o, func() error {
			var err error
			m, err = sh.a.ApplyMerge(ctx, w)
			return err
		}, func() error {
			_, _, err := sh.b.PutObject(ctx, &store.Object{Collection: sh.coll, Name: name, UID: uid, Data: edit},
				store.Conditions{IfMatch: etags[name]})
			return err
		})
		what := fmt.Sprintf("round %d (%s, B writes the %s)", i, o, target)
		var away *store.MergedAwayError
		switch {
		case mergeErr == nil && putErr == nil:
			t.Fatalf("%s: both the merge and B's write succeeded", what)
		case mergeErr == nil:
			wins["merge "+o.String()]++
			if o == secondFirst {
				t.Fatalf("%s: the merge won, though B's write had the lock first", what)
			}
			if target == "removed" {
				if !errors.As(putErr, &away) || away.Survivor != r || away.Merge != m.ID {
					t.Fatalf("%s: B's write: %v, want merged into %s by merge %d", what, putErr, r, m.ID)
				}
			} else if !errors.Is(putErr, store.ErrPrecondition) {
				t.Fatalf("%s: B's write: %v, want a failed precondition", what, putErr)
			}
			for n, want := range map[string][]byte{r: merged, g: groupAfter, x: nil} {
				if got := sh.data(t, sh.b, n); !bytes.Equal(got, want) {
					t.Fatalf("%s: %s holds %q, want %q", what, n, got, want)
				}
			}
			if got, id, err := sh.b.MergedInto(ctx, sh.coll, x, xu); err != nil || got != r || id != m.ID {
				t.Fatalf("%s: MergedInto(%s) = %q, %d, %v; want %s, %d", what, x, got, id, err, r, m.ID)
			}
		case putErr == nil:
			wins["write "+o.String()]++
			if o == firstFirst {
				t.Fatalf("%s: B's write won, though the merge had the lock first", what)
			}
			if !errors.Is(mergeErr, store.ErrPrecondition) {
				t.Fatalf("%s: merge: %v, want a failed precondition", what, mergeErr)
			}
			before[name] = edit
			for n, want := range before {
				if got := sh.data(t, sh.a, n); !bytes.Equal(got, want) {
					t.Fatalf("%s: %s holds %q, want %q", what, n, got, want)
				}
			}
			if got, _, err := sh.a.MergedInto(ctx, sh.coll, x, xu); err != nil || got != "" {
				t.Fatalf("%s: MergedInto(%s) = %q, %v; want nothing", what, x, got, err)
			}
		default:
			t.Fatalf("%s: both failed: merge: %v; B's write: %v", what, mergeErr, putErr)
		}
	}
	t.Logf("wins: %v", wins)
	ms, err := sh.a.ListMerges(ctx, sh.coll)
	if err != nil {
		t.Fatal(err)
	}
	if n := wins["merge free"] + wins["merge first-first"]; len(ms) != n {
		t.Fatalf("%d merges recorded, %d succeeded", len(ms), n)
	}
	sh.checkConsistent(t, since)
}

// UndoMerge through A races FoldInto through B into the same merge, each
// caller having read the merge before: every order ends as if one ran
// after the other, and never with part of either.
func TestUndoRacesFold(t *testing.T) {
	ctx := context.Background()
	sh := openShared(t)
	sh.put(t, sh.a, "first.vcf", "uid-first", card("uid-first", "First"))
	since := mustColl(t, sh).SyncSeq
	wins := map[string]int{}
	const rounds = 30
	for i := range rounds {
		o := order(i % 3)
		r, x := fmt.Sprintf("r%d.vcf", i), fmt.Sprintf("x%d.vcf", i)
		ru, xu := fmt.Sprintf("uid-r%d", i), fmt.Sprintf("uid-x%d", i)
		rData, xData := card(ru, "Ann"), card(xu, "Anne")
		rETag := sh.put(t, sh.a, r, ru, rData)
		xETag := sh.put(t, sh.b, x, xu, xData)
		undo0 := []byte(fmt.Sprintf("undo %d", i))
		m, err := sh.a.ApplyMerge(ctx, &store.MergeWrite{
			Collection:    sh.coll,
			Reference:     &store.Object{Name: r, UID: ru, Data: card(ru, "Ann (merged)")},
			ReferenceETag: rETag,
			Removed:       []store.Removed{{Name: x, UID: xu, ETag: xETag}},
			Undo:          undo0,
		})
		if err != nil {
			t.Fatal(err)
		}
		// A client that missed the merge uploads x again: B folds it
		// into r, while A undoes the merge.
		folded := card(ru, "Ann (merged, and folded)")
		undo1 := []byte(fmt.Sprintf("undo %d with the upload", i))
		var foldETag string
		originals := []store.Object{{Name: r, UID: ru, Data: rData}, {Name: x, UID: xu, Data: xData}}
		undoErr, foldErr := sh.race(t, o, func() error {
			return sh.a.UndoMerge(ctx, sh.coll, m.ID, undo0, originals, false)
		}, func() error {
			var err error
			foldETag, err = sh.b.FoldInto(ctx, &store.Object{Collection: sh.coll, Name: r, UID: ru, Data: folded},
				store.Conditions{IfMatch: m.ReferenceETag}, x, m.ID, undo0, undo1)
			return err
		})
		what := fmt.Sprintf("round %d (%s)", i, o)
		if foldErr == nil {
			// The fold went first: it replaced the undo record, so the
			// undo decoded from the older one is refused rather than
			// losing the upload; its caller reads the record again.
			wins["fold, then undo refused, "+o.String()]++
			if o == firstFirst {
				t.Fatalf("%s: the fold succeeded after the undo", what)
			}
			if !errors.Is(undoErr, store.ErrPrecondition) {
				t.Fatalf("%s: undo with the record the fold replaced: %v, want a failed precondition", what, undoErr)
			}
			got, err := sh.b.GetMerge(ctx, sh.coll, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Undone.IsZero() || !bytes.Equal(got.Undo, undo1) || got.ReferenceETag != foldETag {
				t.Fatalf("%s: merge after the fold: undone %v, undo %q, ReferenceETag %s (fold's %s)",
					what, got.Undone, got.Undo, got.ReferenceETag, foldETag)
			}
			if err := sh.a.UndoMerge(ctx, sh.coll, m.ID, undo1, originals, false); err != nil {
				t.Fatalf("%s: undo with the fold's record: %v", what, err)
			}
		} else {
			wins["undo only, "+o.String()]++
			if undoErr != nil {
				t.Fatalf("%s: undo: %v", what, undoErr)
			}
			if o == secondFirst {
				t.Fatalf("%s: the fold failed though it went first: %v", what, foldErr)
			}
			if !errors.Is(foldErr, store.ErrPrecondition) {
				t.Fatalf("%s: fold: %v, want a failed precondition", what, foldErr)
			}
		}
		got, err := sh.b.GetMerge(ctx, sh.coll, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Undone.IsZero() || len(got.Undo) != 0 {
			t.Fatalf("%s: merge after undo: undone %v, undo %q", what, got.Undone, got.Undo)
		}
		for n, want := range map[string][]byte{r: rData, x: xData} {
			if got := sh.data(t, sh.a, n); !bytes.Equal(got, want) {
				t.Fatalf("%s: %s holds %q, want %q", what, n, got, want)
			}
		}
		if got, _, err := sh.b.MergedInto(ctx, sh.coll, x, xu); err != nil || got != "" {
			t.Fatalf("%s: MergedInto(%s) = %q, %v; want nothing", what, x, got, err)
		}
	}
	t.Logf("outcomes: %v", wins)
	sh.checkConsistent(t, since)
}

func mustColl(t *testing.T, sh *shared) *store.Collection {
	t.Helper()
	c, err := sh.a.GetCollection(context.Background(), "u", store.KindCard, "book")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkConsistent checks what the tables hold against each other: the
// collection's counters and seq against its objects and changes, each
// object's change, the merged-away records against the merges in effect,
// the owner's usage against the data (storetest.Recount), and a client's
// sync from since against the objects there.
func (sh *shared) checkConsistent(t *testing.T, since int64) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []struct{ what, sql string }{
		{"counters", `SELECT c.obj_count, c.obj_bytes, COUNT(o.name), COALESCE(SUM(o.size), 0)
			FROM collections c LEFT JOIN objects o ON o.collection = c.id
			GROUP BY c.id HAVING c.obj_count <> COUNT(o.name) OR c.obj_bytes <> COALESCE(SUM(o.size), 0)`},
		{"an object without its change", `SELECT o.name, o.seq, ch.seq, ch.deleted FROM objects o
			LEFT JOIN changes ch ON ch.collection = o.collection AND ch.name = o.name
			WHERE ch.seq IS DISTINCT FROM o.seq OR ch.deleted`},
		{"a change of a missing object", `SELECT ch.name, ch.seq FROM changes ch
			LEFT JOIN objects o ON o.collection = ch.collection AND o.name = ch.name
			WHERE NOT ch.deleted AND o.name IS NULL`},
		{"a deletion of an object there", `SELECT ch.name, ch.seq FROM changes ch
			JOIN objects o ON o.collection = ch.collection AND o.name = ch.name WHERE ch.deleted`},
		{"two changes with one seq", `SELECT collection, seq, COUNT(*) FROM changes
			GROUP BY collection, seq HAVING COUNT(*) > 1`},
		{"a change beyond the collection's seq", `SELECT ch.name, ch.seq, c.sync_seq FROM changes ch
			JOIN collections c ON c.id = ch.collection WHERE ch.seq > c.sync_seq`},
		{"a merged-away record of an undone merge", `SELECT ma.name, m.id FROM merged_away ma
			JOIN merges m ON m.id = ma.merge_id WHERE m.undone IS NOT NULL`},
		{"an undone merge with undo data", `SELECT id FROM merges WHERE undone IS NOT NULL AND octet_length(undo) > 0`},
		{"a merge in effect without its records", `SELECT m.id FROM merges m WHERE m.undone IS NULL AND
			(SELECT COUNT(*) FROM merged_away ma WHERE ma.merge_id = m.id) <> json_array_length(m.removed::json)`},
		{"a card merged away that is there", `SELECT ma.name FROM merged_away ma
			JOIN objects o ON o.collection = ma.collection AND o.name = ma.name`},
	} {
		rows, err := sh.db.Query(ctx, q.sql)
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		var bad []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			bad = append(bad, fmt.Sprint(vals...))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("%s: %s", q.what, strings.Join(bad, "; "))
		}
	}
	for _, s := range []*Store{sh.a, sh.b} {
		if got, want := s.mustUsage(t), storetest.Recount(t, s, "u"); got != want {
			t.Errorf("usage of u is %d, its data counts %d", got, want)
		}
	}
	// A client that synced at since catches up with the objects there.
	etags := map[string]string{}
	err := sh.b.ListObjects(ctx, sh.coll, false, func(o *store.Object) error {
		etags[o.Name] = o.ETag
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last := since
	seen := map[string]bool{}
	_, _, err = sh.a.ChangesSince(ctx, sh.coll, since, 0, false, func(c *store.Change) error {
		if c.Seq <= last || seen[c.Name] {
			return fmt.Errorf("%s at %d after %d (seen: %v)", c.Name, c.Seq, last, seen[c.Name])
		}
		last, seen[c.Name] = c.Seq, true
		switch etag, there := etags[c.Name]; {
		case c.Deleted && there:
			return fmt.Errorf("%s reported deleted, but is there", c.Name)
		case !c.Deleted && (!there || c.Object.ETag != etag):
			return fmt.Errorf("%s reported with ETag %s, but has %q (there: %v)", c.Name, c.Object.ETag, etag, there)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	for name := range etags {
		if !seen[name] && name != "first.vcf" {
			t.Errorf("%s is there, but the sync did not report it", name)
		}
	}
}

func (s *Store) mustUsage(t *testing.T) int64 {
	t.Helper()
	u, err := s.Usage(context.Background(), "u")
	if err != nil {
		t.Fatal(err)
	}
	return u.Used
}

// The merged-away lookups that every creation makes read the newest record
// from an index, without sorting the records of a name or UID.
func TestMergedAwayLookupPlan(t *testing.T) {
	ctx := context.Background()
	sh := openShared(t)
	// Enough records that the planner does not just read the table.
	if _, err := sh.db.Exec(ctx, `INSERT INTO merges (id, collection, reference, removed, grps, undo, created)
		SELECT i, $1, 'r' || i, '[]', '[]', '', 0 FROM generate_series(1, 2000) AS i`, sh.coll); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.db.Exec(ctx, `INSERT INTO merged_away (collection, name, uid, survivor, merge_id)
		SELECT $1, 'n' || (i % 200), 'u' || (i % 300), 'r' || i, i FROM generate_series(1, 2000) AS i`, sh.coll); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.db.Exec(ctx, `ANALYZE merged_away`); err != nil {
		t.Fatal(err)
	}
	for q, args := range map[string][]any{newestOf: {sh.coll, "n1", "u1"}, newerByName: {sh.coll, "n1", 0}} {
		rows, err := sh.db.Query(ctx, `EXPLAIN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		if !strings.Contains(p, "Index Scan Backward using merged_away_") || strings.Contains(p, "Sort") {
			t.Errorf("plan of %s:\n%s", q, p)
		}
		t.Log(p)
	}
}

// BenchmarkMergedInto is the lookup that every creation makes, among 5000
// merges: a name and UID never merged away, and a merged-away one (as
// store/sqlite's benchmark of the same name).
func BenchmarkMergedInto(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	// The rows 5000 merges of one card into another leave, written
	// directly: a setup, not what is measured.
	for _, q := range []string{
		`INSERT INTO objects (collection, name, uid, etag, size, modified, seq, first_start, last_end, data)
			SELECT $1, to_char(2 * i, 'FM000000') || '.vcf', to_char(2 * i, 'FM000000') || '.vcf', 'e', 0, 0, i + 1, 0, 0, ''
			FROM generate_series(0, 4999) AS i`,
		`INSERT INTO merges (id, collection, reference, removed, grps, undo, created)
			SELECT i + 1, $1, to_char(2 * i, 'FM000000') || '.vcf', '[]', '[]', '', 0 FROM generate_series(0, 4999) AS i`,
		`INSERT INTO merged_away (collection, name, uid, survivor, survivor_uid, merge_id)
			SELECT $1, to_char(2 * i + 1, 'FM000000') || '.vcf', to_char(2 * i + 1, 'FM000000') || '.vcf',
				to_char(2 * i, 'FM000000') || '.vcf', to_char(2 * i, 'FM000000') || '.vcf', i + 1
			FROM generate_series(0, 4999) AS i`,
		`ANALYZE`,
	} {
		args := []any{c.ID}
		if q == `ANALYZE` {
			args = nil
		}
		if _, err := s.pool.Exec(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct{ what, name, survivor string }{
		{"absent", "new.vcf", ""},
		{"merged", "004001.vcf", "004000.vcf"},
	} {
		b.Run(bc.what, func(b *testing.B) {
			for b.Loop() {
				got, _, err := s.MergedInto(ctx, c.ID, bc.name, bc.name)
				if err != nil || got != bc.survivor {
					b.Fatalf("MergedInto(%s) = %q, %v", bc.name, got, err)
				}
			}
		})
	}
}

// BenchmarkMergeUndo applies a merge of three cards (reference, one group
// card rewritten, one card merged away) and undoes it: ns/op per pair.
func BenchmarkMergeUndo(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	originals := []store.Object{
		{Name: "r.vcf", UID: "uid-r", Data: card("uid-r", "Ann")},
		{Name: "x.vcf", UID: "uid-x", Data: card("uid-x", "Anne")},
		{Name: "g.vcf", UID: "uid-g", Data: []byte("group of uid-x")},
	}
	for i := range originals {
		originals[i].Collection = c.ID
		if _, _, err := s.PutObject(ctx, &originals[i], store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	w := &store.MergeWrite{
		Collection:    c.ID,
		Reference:     &store.Object{Name: "r.vcf", UID: "uid-r", Data: card("uid-r", "Ann (merged)")},
		ReferenceETag: store.ETag(originals[0].Data),
		Groups: []store.Rewrite{{Object: &store.Object{Name: "g.vcf", UID: "uid-g", Data: []byte("group of uid-r")},
			ETag: store.ETag(originals[2].Data)}},
		Removed: []store.Removed{{Name: "x.vcf", UID: "uid-x", ETag: store.ETag(originals[1].Data)}},
		Undo:    bytes.Repeat([]byte("u"), 600),
	}
	for b.Loop() {
		m, err := s.ApplyMerge(ctx, w)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.UndoMerge(ctx, c.ID, m.ID, w.Undo, originals, false); err != nil {
			b.Fatal(err)
		}
	}
}
