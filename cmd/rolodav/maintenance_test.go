package main_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// agedData makes a data directory where lou's book had keep.vcf and
// gone.vcf, then gone.vcf was deleted in 2001, and lou has an expired
// session. It returns the sync tokens from before and after the deletion.
func agedData(t *testing.T) (data, before, after string) {
	t.Helper()
	data = t.TempDir()
	if _, errOut, code := cli(t, "lou password\n", "user", "add", "lou", "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	dbPath := filepath.Join(data, "rolodav.db")
	st, err := sqlite.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	book, err := st.GetCollection(ctx, "lou", store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"keep", "gone"} {
		o := &store.Object{Collection: book.ID, Name: uid + ".vcf", UID: uid, Data: []byte(vcard(uid))}
		if _, _, err := st.PutObject(ctx, o, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	book, err = st.GetCollection(ctx, "lou", store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	// The token format of package dav: a phone synced here, then gone.vcf
	// was deleted.
	token := func(seq int64) string { return fmt.Sprintf("https://rolodav.org/ns/sync/%d:%d", book.ID, seq) }
	before, after = token(book.SyncSeq), token(book.SyncSeq+1)
	if err := st.DeleteObject(ctx, book.ID, "gone.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, &store.Session{ID: "stale", Owner: "lou", CSRF: "x",
		Expires: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	if _, err := db.Exec(`UPDATE changes SET changed = ? WHERE deleted`, old); err != nil {
		t.Fatal(err)
	}
	return data, before, after
}

// waitLog waits for s in the server's log. The first run starts with the
// server but does not hold up listening.
func waitLog(t *testing.T, d *daemon, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.log(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged:\n%s", s, d.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func syncReport(t *testing.T, d *daemon, token string) (int, string) {
	t.Helper()
	code, _, body := d.req(t, "REPORT", "/dav/addressbooks/lou/contacts/", "lou", "lou password",
		fmt.Sprintf(syncBody, token), "Content-Type: application/xml")
	return code, body
}

// A deletion older than the retention is pruned when serve starts, and a
// phone holding a sync token from before it is told to sync again from
// scratch (DAV:valid-sync-token); a later token still works. An expired
// session of a user who never signs in again is dropped too.
func TestServePrunesAtStart(t *testing.T) {
	data, before, after := agedData(t)
	d := start(t, data)
	waitLog(t, d, "tombstones=1 sessions=1")

	if code, body := syncReport(t, d, before); code != 400 || !strings.Contains(body, "valid-sync-token") {
		t.Fatalf("token from before the pruned deletion: %d %s", code, body)
	}
	if code, body := syncReport(t, d, after); code != 207 || !strings.Contains(body, after) {
		t.Fatalf("token after the pruned deletion: %d %s", code, body)
	}
	// Syncing from scratch gets the card that is left.
	if code, body := syncReport(t, d, ""); code != 207 || !strings.Contains(body, "keep.vcf") || strings.Contains(body, "gone.vcf") {
		t.Fatalf("initial sync: %d %s", code, body)
	}
}

// --tombstone-retention never keeps deletions; sessions are pruned all
// the same.
func TestServeTombstoneRetentionNever(t *testing.T) {
	data, before, _ := agedData(t)
	d := start(t, data, "--tombstone-retention", "never")
	waitLog(t, d, "tombstones=0 sessions=1")
	if code, body := syncReport(t, d, before); code != 207 || !strings.Contains(body, "gone.vcf") {
		t.Fatalf("token from before the kept deletion: %d %s", code, body)
	}
}

func TestServeTombstoneRetentionRefused(t *testing.T) {
	_, errOut, code := cli(t, "", "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--tombstone-retention", "-3d")
	if code != 2 || !strings.Contains(errOut, "tombstone-retention") || !strings.Contains(errOut, "90d") {
		t.Fatalf("negative retention: %d %q", code, errOut)
	}
}
