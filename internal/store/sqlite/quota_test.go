package sqlite

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/storetest"
)

// A database from before migration 0006 gets each user's usage computed
// from the data it holds, non-ASCII names and values counted in bytes.
func TestMigrateUsage(t *testing.T) {
	path, db := oldDatabase(t, "0006")
	for _, q := range []string{
		`INSERT INTO users (login, password_hash, created) VALUES ('old', 'h', 1), ('empty', 'h', 1), ('other', 'h', 1)`,
		`INSERT INTO collections (id, owner, kind, name, displayname, description, color, components, timezone, created, modified, obj_count, obj_bytes)
			VALUES (1, 'old', 'card', 'book', 'Cárnet', 'déjà', '#FF0000', '', '', 1, 1, 2, 30),
			       (2, 'old', 'cal', 'cal', 'Calendar', '', '', 'VEVENT,VTODO', 'Europe/Paris', 1, 1, 1, 5),
			       (3, 'other', 'card', 'contacts', '', '', '', '', '', 1, 1, 1, 7)`,
		`INSERT INTO collection_props (collection, name, value) VALUES (1, '{urn:x}p', '<x:v>ü</x:v>'), (2, '{urn:x}q', '')`,
		`INSERT INTO objects (collection, name, uid, etag, size, modified, seq, first_start, last_end, data) VALUES
			(1, 'a.vcf', 'a', 'e', 10, 1, 1, 0, 0, zeroblob(10)),
			(1, '日本.vcf', NULL, 'e', 20, 1, 2, 0, 0, zeroblob(20)),
			(2, 'e.ics', 'e', 'e', 5, 1, 1, 0, 0, zeroblob(5)),
			(3, 'o.vcf', 'o', 'e', 7, 1, 1, 0, 0, zeroblob(7))`,
		`INSERT INTO merges (id, collection, reference, removed, grps, undo, created, undone, reference_etag) VALUES
			(1, 1, 'a.vcf', '["b.vcf","ü.vcf"]', '["日本.vcf"]', zeroblob(100), 1, NULL, 'e'),
			(2, 1, 'a.vcf', '["c.vcf"]', '[]', zeroblob(50), 1, 2, 'e'),
			(3, 3, 'o.vcf', '[]', '[]', zeroblob(1), 1, NULL, '')`,
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
	want := map[string]int64{
		"old": 10 + 5 + 256 + 20 + 10 + 256 + 5 + 5 + 256 + // a.vcf, 日本.vcf (10 bytes), e.ics
			4 + 7 + 6 + 7 + 8 + 13 + 512 + // book: name, Cárnet, déjà, colour, {urn:x}p, <x:v>ü</x:v>
			3 + 8 + 12 + 12 + 8 + 512 + // cal: name, display name, components, zone, {urn:x}q
			100 + 5 + 5 + 6 + 10 + 256 + // merge 1: undo, a.vcf, b.vcf, ü.vcf, 日本.vcf
			5 + 5 + 256, // merge 2, undone: a.vcf, c.vcf; its undo data is dropped
		"empty": 0,
		"other": 7 + 5 + 256 + 8 + 512 + 1 + 5 + 256,
	}
	for login, n := range want {
		u, err := s.Usage(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if u.Used != n {
			t.Errorf("usage of %s after migration: %d, want %d", login, u.Used, n)
		}
		if r := storetest.Recount(t, s, login); r != n {
			t.Errorf("recount of %s: %d, want %d (the migration and store.*Usage disagree?)", login, r, n)
		}
	}
	// Writes keep it from there.
	if err := s.DeleteObject(ctx, 1, "日本.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Usage(ctx, "old"); u.Used != want["old"]-286 {
		t.Fatalf("usage after a delete: %d, want %d", u.Used, want["old"]-286)
	}
}

// A quota lowered below what a user holds (the server restarted with a
// smaller --quota-per-user): the user can still delete, replace by equal or
// smaller, and merge; nothing that grows passes.
func TestQuotaLowered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := fixture(t, s)
	for _, n := range []string{"a", "b", "c"} {
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: n, UID: n, Data: bytes.Repeat([]byte(n), 4000)}, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = OpenWith(path, store.Options{QuotaPerUser: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.Usage(ctx, "u")
	if err != nil || u.Limit != 4096 || u.Used <= 3*4000 {
		t.Fatalf("usage over the lowered quota: %+v, %v", u, err)
	}
	put := func(name string, size int) error {
		_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: bytes.Repeat([]byte("x"), size)}, store.Conditions{})
		return err
	}
	if err := put("d", 1); !errors.Is(err, store.ErrQuotaExceeded) {
		t.Fatalf("a new object over quota: %v", err)
	}
	if err := put("a", 4001); !errors.Is(err, store.ErrQuotaExceeded) {
		t.Fatalf("a bigger replacement over quota: %v", err)
	}
	if err := put("a", 4000); err != nil {
		t.Fatalf("an equal replacement over quota: %v", err)
	}
	if err := put("a", 3000); err != nil {
		t.Fatalf("a smaller replacement over quota: %v", err)
	}
	if err := s.DeleteObject(ctx, c.ID, "b", store.Conditions{}); err != nil {
		t.Fatalf("a delete over quota: %v", err)
	}
	a, _ := s.GetObject(ctx, c.ID, "a")
	cc, _ := s.GetObject(ctx, c.ID, "c")
	_, err = s.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference: &store.Object{Collection: c.ID, Name: "a", UID: "a", Data: bytes.Repeat([]byte("m"), 3500)}, ReferenceETag: a.ETag,
		Removed: []store.Removed{{Name: "c", UID: "c", ETag: cc.ETag}}})
	if err != nil {
		t.Fatalf("a merge that frees space, over quota: %v", err)
	}
	if u, _ := s.Usage(ctx, "u"); u.Used != storetest.Recount(t, s, "u") || u.Used <= 4096 {
		t.Fatalf("usage after the shrinking writes: %d, recount %d", u.Used, storetest.Recount(t, s, "u"))
	}
}

func TestOpenNegativeQuota(t *testing.T) {
	if _, err := OpenWith(filepath.Join(t.TempDir(), "n.db"), store.Options{QuotaPerUser: -1}); err == nil {
		t.Fatal("negative quota accepted")
	}
}
