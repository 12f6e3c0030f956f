package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// A database from before migration 0008: each merged-away record gets the
// UID of its survivor, so that the records whose survivor is still there
// hold and the others are free.
func TestMigrateMergedAwaySurvivor(t *testing.T) {
	path, db := oldDatabase(t, "0008")
	// Book 1: b into a, then a into n (a chain, n there); x into y, y
	// deleted since. Book 2: p into q, q given another card since.
	for _, q := range []string{
		`INSERT INTO users (login, password_hash, created) VALUES ('u', 'h', 1)`,
		`INSERT INTO collections (id, owner, kind, name, displayname, description, color, components, timezone, created, modified, obj_count, obj_bytes)
			VALUES (1, 'u', 'card', 'book', '', '', '', '', '', 1, 1, 1, 1), (2, 'u', 'card', 'other', '', '', '', '', '', 1, 1, 1, 1)`,
		`INSERT INTO objects (collection, name, uid, etag, size, modified, seq, first_start, last_end, data) VALUES
			(1, 'n.vcf', 'uid-n', 'e', 1, 1, 1, 0, 0, zeroblob(1)),
			(2, 'q.vcf', 'uid-stranger', 'e', 1, 1, 1, 0, 0, zeroblob(1))`,
		`INSERT INTO merges (id, collection, reference, removed, grps, undo, created, reference_etag) VALUES
			(1, 1, 'a.vcf', '["b.vcf"]', '[]', X'', 1, 'e'), (2, 1, 'n.vcf', '["a.vcf"]', '[]', X'', 1, 'e'),
			(3, 1, 'y.vcf', '["x.vcf"]', '[]', X'', 1, 'e'), (4, 2, 'q.vcf', '["p.vcf"]', '[]', X'', 1, 'e')`,
		`INSERT INTO merged_away (collection, name, uid, survivor, merge_id) VALUES
			(1, 'b.vcf', 'uid-b', 'a.vcf', 1), (1, 'a.vcf', 'uid-a', 'n.vcf', 2),
			(1, 'x.vcf', 'uid-x', 'y.vcf', 3), (2, 'p.vcf', 'uid-p', 'q.vcf', 4)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.rdb.Query(`SELECT name, survivor_uid FROM merged_away ORDER BY merge_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, uid string
		if err := rows.Scan(&name, &uid); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"→"+uid)
	}
	rows.Close()
	// The chain's middle survivor gets the UID it was merged away with;
	// the others the UID their survivor holds now, if any.
	if want := "b.vcf→uid-a a.vcf→uid-n x.vcf→ p.vcf→uid-stranger"; strings.Join(got, " ") != want {
		t.Errorf("survivor UIDs: %s, want %s", strings.Join(got, " "), want)
	}
	for _, tc := range []struct {
		coll      int64
		name, uid string
		want      string
	}{
		{1, "b.vcf", "uid-b", "n.vcf"},
		{1, "a.vcf", "", "n.vcf"},
		{1, "x.vcf", "uid-x", ""},
	} {
		if got, _, err := s.MergedInto(ctx, tc.coll, tc.name, tc.uid); err != nil || got != tc.want {
			t.Errorf("MergedInto(%s, %s) = %q, %v; want %q", tc.name, tc.uid, got, err, tc.want)
		}
	}
}

// The merged-away lookups that every creation makes read the newest record
// from an index, without sorting (which costs a temporary b-tree per write).
func TestMergedAwayLookupPlan(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	for q, args := range map[string][]any{anyMerged: {1, "x", 1, "x"}, newestOf: {1, "x", 1, "x"}, newerByName: {1, "x", 0}} {
		rows, err := s.rdb.Query(`EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "INDEX merged_away_") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("plan of %s:\n%s", q, p)
		}
		t.Log(p)
	}
}

// oldDatabase creates a database with the migrations before the one named
// before (e.g. "0008") applied, as an older rolodav left it.
func oldDatabase(t *testing.T, before string) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", path+"?"+dsnParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for v, f := range files {
		if f.Name() >= before {
			break
		}
		body, err := migrations.ReadFile("migrations/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if _, err := db.Exec(`INSERT INTO schema_version (version, applied) VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}
