// Package storetest is the conformance suite every store driver must pass:
// a driver's test calls Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Run runs the suite. open must return a new empty store, opened with o,
// for each call; Run closes it at the end of the subtest.
func Run(t *testing.T, open func(t *testing.T, o store.Options) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Collections", testCollections},
		{"UpdateCollection", testUpdateCollection},
		{"DeleteCollection", testDeleteCollection},
		{"Objects", testObjects},
		{"GetObjectsLargeBatch", testGetObjectsLargeBatch},
		{"Conditions", testConditions},
		{"UIDConflict", testUIDConflict},
		{"Move", testMove},
		{"MoveSameCollection", testMoveSameCollection},
		{"SyncInitial", testSyncInitial},
		{"SyncIncremental", testSyncIncremental},
		{"SyncPaging", testSyncPaging},
		{"SyncInvalidToken", testSyncInvalidToken},
		{"SyncSeqPerWrite", testSyncSeqPerWrite},
		{"Range", testRange},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentConditionalCreate", testConcurrentConditionalCreate},
		{"Isolation", testIsolation},
		{"DeleteUserCascade", testDeleteUserCascade},
		{"MissingCollection", testMissingCollection},
		{"CallbackErrors", testCallbackErrors},
		{"ListObjectsReentrant", testListObjectsReentrant},
		{"CanceledContext", testCanceledContext},
		{"MergeApply", testMergeApply},
		{"MergeStale", testMergeStale},
		{"MergeUndo", testMergeUndo},
		{"MergeUndoConflict", testMergeUndoConflict},
		{"MergeUndoEdited", testMergeUndoEdited},
		{"MergeChain", testMergeChain},
		{"MergeBatch", testMergeBatch},
		{"FoldInto", testFoldInto},
		{"FoldIntoUnnamed", testFoldIntoUnnamed},
		{"MergedAwayWrites", testMergedAwayWrites},
		{"MergedAwaySurvivorGone", testMergedAwaySurvivorGone},
		{"HiddenGroups", testHiddenGroups},
		{"UnhideGroup", testUnhideGroup},
		{"MergeCascade", testMergeCascade},
		{"RequireAppPasswords", testRequireAppPasswords},
		{"UserSettings", testUserSettings},
		{"AppPasswords", testAppPasswords},
		{"Sessions", testSessions},
		{"EndOtherSessions", testEndOtherSessions},
		{"PasswordChangeEndsSessions", testPasswordChangeEndsSessions},
		{"SignIns", testSignIns},
		{"SignInLimitDefault", testSignInLimitDefault},
		{"SignInAppPassword", testSignInAppPassword},
		{"SignInPrune", testSignInPrune},
		{"SignInUnknownLogin", testSignInUnknownLogin},
		{"DeleteUserAccounts", testDeleteUserAccounts},
		{"SignInFailures", testSignInFailures},
		{"SignInFailureWindow", testSignInFailureWindow},
		{"SignInFailureLock", testSignInFailureLock},
		{"SignInFailurePrune", testSignInFailurePrune},
		{"SignInFailuresConcurrent", testSignInFailuresConcurrent},
		{"SignInFailureTakeBack", testSignInFailureTakeBack},
		{"SignInFailureTakeBackConcurrent", testSignInFailureTakeBackConcurrent},
		{"TwoFactorSetup", testTwoFactorSetup},
		{"TOTPSteps", testTOTPSteps},
		{"TOTPStepConcurrent", testTOTPStepConcurrent},
		{"EmergencyCodes", testEmergencyCodes},
		{"DisableTwoFactor", testDisableTwoFactor},
		{"TwoFactorCascade", testTwoFactorCascade},
		{"PartialSessions", testPartialSessions},
		{"Usage", testUsage},
		{"Notices", testNotices},
		{"NoticeClaims", testNoticeClaims},
		{"NoticeLease", testNoticeLease},
		{"NoticeFinish", testNoticeFinish},
		{"NoticePrune", testNoticePrune},
		{"NoticesConcurrent", testNoticesConcurrent},
		{"UsageMatchesData", testUsageMatchesData},
		{"PruneTombstones", testPruneTombstones},
		{"PruneSessions", testPruneSessions},
		{"ClaimRun", testClaimRun},
		{"ClaimRunConcurrent", testClaimRunConcurrent},
		{"PushSecrets", testPushSecrets},
		{"PushKeys", testPushKeys},
		{"PushRegister", testPushRegister},
		{"PushRegistrationCap", testPushRegistrationCap},
		{"PushCapExpired", testPushCapExpired},
		{"PushTargetCap", testPushTargetCap},
		{"PushOwnership", testPushOwnership},
		{"PushWrites", testPushWrites},
		{"PushJoin", testPushJoin},
		{"PushHints", testPushHints},
		{"PushExpired", testPushExpired},
		{"PushClaims", testPushClaims},
		{"PushClaimsConcurrent", testPushClaimsConcurrent},
		{"PushSpacing", testPushSpacing},
		{"PushRetry", testPushRetry},
		{"PushDrop", testPushDrop},
		{"PushRotate", testPushRotate},
		{"PushPrune", testPushPrune},
		{"PushCascade", testPushCascade},
		{"MigrationSources", testMigrationSources},
		{"MigrationSourceCascade", testMigrationSourceCascade},
		{"Migrations", testMigrations},
		{"MigrationOneAtATime", testMigrationOneAtATime},
		{"MigrationsKept", testMigrationsKept},
		{"ListMigrations", testListMigrations},
		{"MigrationsConcurrent", testMigrationsConcurrent},
	}
	// These open their store with a quota.
	quotaTests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Quota", testQuota},
		{"QuotaCollections", testQuotaCollections},
		{"QuotaMove", testQuotaMove},
		{"QuotaMerges", testQuotaMerges},
		{"QuotaMergeLoop", testQuotaMergeLoop},
		{"QuotaConcurrent", testQuotaConcurrent},
	}
	for i, tc := range append(tests, quotaTests...) {
		t.Run(tc.name, func(t *testing.T) {
			var o store.Options
			if i >= len(tests) {
				o.QuotaPerUser = quota
			}
			s := open(t, o)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// --- helpers -------------------------------------------------------------

// undoOf is the undo record merge id holds now (nil when there is no such
// merge), as a caller of UndoMerge reads it.
func undoOf(t *testing.T, s store.Store, coll, id int64) []byte {
	t.Helper()
	m, err := s.GetMerge(ctx, coll, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("GetMerge(%d): %v", id, err)
	}
	return m.Undo
}

func mkUser(t *testing.T, s store.Store, login string) {
	t.Helper()
	if err := s.CreateUser(ctx, &store.User{Login: login, PasswordHash: "hash-" + login}); err != nil {
		t.Fatalf("CreateUser(%s): %v", login, err)
	}
}

func mkColl(t *testing.T, s store.Store, owner string, kind store.Kind, name string) *store.Collection {
	t.Helper()
	c := &store.Collection{Owner: owner, Kind: kind, Name: name, DisplayName: strings.ToUpper(name)}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("CreateCollection(%s/%s/%s): %v", owner, kind, name, err)
	}
	if c.ID == 0 {
		t.Fatalf("CreateCollection(%s): ID not set", name)
	}
	return c
}

// book creates user login (if absent) and an address book for it.
func book(t *testing.T, s store.Store, login, name string) *store.Collection {
	t.Helper()
	if _, err := s.GetUser(ctx, login); errors.Is(err, store.ErrNotFound) {
		mkUser(t, s, login)
	}
	return mkColl(t, s, login, store.KindCard, name)
}

func vcard(uid, fn string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nEND:VCARD\r\n")
}

// put writes name with UID uid and the given full name, unconditionally.
func put(t *testing.T, s store.Store, coll int64, name, uid, fn string) string {
	t.Helper()
	_, etag, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: uid, Data: vcard(uid, fn)}, store.Conditions{})
	if err != nil {
		t.Fatalf("PutObject(%s): %v", name, err)
	}
	return etag
}

func getColl(t *testing.T, s store.Store, c *store.Collection) *store.Collection {
	t.Helper()
	got, err := s.GetCollection(ctx, c.Owner, c.Kind, c.Name)
	if err != nil {
		t.Fatalf("GetCollection(%s): %v", c.Name, err)
	}
	return got
}

func syncSeq(t *testing.T, s store.Store, c *store.Collection) int64 {
	t.Helper()
	return getColl(t, s, c).SyncSeq
}

func listNames(t *testing.T, s store.Store, coll int64) []string {
	t.Helper()
	var names []string
	err := s.ListObjects(ctx, coll, false, func(o *store.Object) error {
		names = append(names, o.Name)
		return nil
	})
	if err != nil {
		t.Fatalf("ListObjects(%d): %v", coll, err)
	}
	return names
}

// changes collects ChangesSince; it copies each change so drivers may reuse
// the value they pass to the callback.
func changes(t *testing.T, s store.Store, coll, seq int64, limit int, withData bool) ([]store.Change, int64, bool) {
	t.Helper()
	var out []store.Change
	next, trunc, err := s.ChangesSince(ctx, coll, seq, limit, withData, func(c *store.Change) error {
		cp := *c
		if c.Object != nil {
			o := *c.Object
			cp.Object = &o
		}
		out = append(out, cp)
		return nil
	})
	if err != nil {
		t.Fatalf("ChangesSince(%d, %d, %d): %v", coll, seq, limit, err)
	}
	return out, next, trunc
}

// summary renders changes as "name@seq" or "name@seq-" (deleted).
func summary(cs []store.Change) string {
	var parts []string
	for _, c := range cs {
		p := fmt.Sprintf("%s@%d", c.Name, c.Seq)
		if c.Deleted {
			p += "-"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

func recent(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if d := time.Since(tm); tm.IsZero() || d < -time.Minute || d > time.Minute {
		t.Fatalf("%s: time %v is not now", what, tm)
	}
}

// --- users ---------------------------------------------------------------

func testUsers(t *testing.T, s store.Store) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.CreateUser(ctx, &store.User{Login: "bob@example.com", PasswordHash: "h1", Created: created}); err != nil {
		t.Fatal(err)
	}
	mkUser(t, s, "alice@example.com")
	wantErr(t, "duplicate CreateUser", s.CreateUser(ctx, &store.User{Login: "bob@example.com", PasswordHash: "x"}), store.ErrExists)

	u, err := s.GetUser(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "login", u.Login, "bob@example.com")
	eq(t, "hash", u.PasswordHash, "h1") // the failed duplicate did not overwrite it
	if !u.Created.Equal(created) {
		t.Fatalf("created: got %v, want %v", u.Created, created)
	}
	a, err := s.GetUser(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	recent(t, "default Created", a.Created)

	_, err = s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser missing", err, store.ErrNotFound)

	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, u := range users {
		logins = append(logins, u.Login)
	}
	eq(t, "ListUsers", logins, []string{"alice@example.com", "bob@example.com"})
	eq(t, "ListUsers hash", users[1].PasswordHash, "h1")

	if err := s.SetPasswordHash(ctx, "bob@example.com", "h2"); err != nil {
		t.Fatal(err)
	}
	u, _ = s.GetUser(ctx, "bob@example.com")
	eq(t, "hash after set", u.PasswordHash, "h2")
	wantErr(t, "SetPasswordHash missing", s.SetPasswordHash(ctx, "nobody", "x"), store.ErrNotFound)

	if err := s.DeleteUser(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUser(ctx, "bob@example.com")
	wantErr(t, "GetUser deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "bob@example.com"), store.ErrNotFound)
	users, _ = s.ListUsers(ctx)
	eq(t, "users left", len(users), 1)
}

// --- collections ---------------------------------------------------------

func testCollections(t *testing.T, s store.Store) {
	mkUser(t, s, "u")
	c := &store.Collection{
		Owner: "u", Kind: store.KindCal, Name: "work", DisplayName: "Work", Description: "Job stuff",
		Color: "#FF0000FF", Order: 3, Components: []string{"VEVENT", "VTODO"},
		Timezone: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
		Props:    map[string]string{"{urn:x}a": "<x:b>1</x:b>", "{DAV:}foo": "bar"},
	}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID <= 0 {
		t.Fatalf("ID = %d", c.ID)
	}
	got := getColl(t, s, c)
	eq(t, "ID", got.ID, c.ID)
	eq(t, "Owner", got.Owner, "u")
	eq(t, "Kind", got.Kind, store.KindCal)
	eq(t, "Name", got.Name, "work")
	eq(t, "DisplayName", got.DisplayName, "Work")
	eq(t, "Description", got.Description, "Job stuff")
	eq(t, "Color", got.Color, "#FF0000FF")
	eq(t, "Order", got.Order, 3)
	eq(t, "Components", got.Components, []string{"VEVENT", "VTODO"})
	eq(t, "Timezone", got.Timezone, c.Timezone)
	eq(t, "Props", got.Props, c.Props)
	eq(t, "SyncSeq", got.SyncSeq, int64(0))
	eq(t, "Count", got.Count, int64(0))
	eq(t, "Bytes", got.Bytes, int64(0))
	recent(t, "Created", got.Created)
	recent(t, "Modified", got.Modified)

	dup := &store.Collection{Owner: "u", Kind: store.KindCal, Name: "work"}
	wantErr(t, "duplicate collection", s.CreateCollection(ctx, dup), store.ErrExists)
	// Same name, other kind: a separate collection.
	card := mkColl(t, s, "u", store.KindCard, "work")
	if card.ID == c.ID {
		t.Fatal("card and cal collections share an ID")
	}
	wantErr(t, "collection of missing owner",
		s.CreateCollection(ctx, &store.Collection{Owner: "ghost", Kind: store.KindCard, Name: "x"}), store.ErrNotFound)

	// A collection without props reads back with an empty, usable map.
	gc := getColl(t, s, card)
	if gc.Props == nil || len(gc.Props) != 0 {
		t.Fatalf("Props of a plain collection: %#v", gc.Props)
	}
	eq(t, "Components unset", len(gc.Components), 0)

	_, err := s.GetCollection(ctx, "u", store.KindCal, "nope")
	wantErr(t, "GetCollection missing", err, store.ErrNotFound)
	_, err = s.GetCollection(ctx, "other", store.KindCal, "work")
	wantErr(t, "GetCollection other owner", err, store.ErrNotFound)

	mkColl(t, s, "u", store.KindCal, "b")
	mkColl(t, s, "u", store.KindCal, "a")
	list, err := s.ListCollections(ctx, "u", store.KindCal)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
		eq(t, "listed kind", l.Kind, store.KindCal)
	}
	eq(t, "ListCollections order", names, []string{"a", "b", "work"})
	eq(t, "listed Props", list[2].Props, c.Props)
	eq(t, "listed Components", list[2].Components, []string{"VEVENT", "VTODO"})
	cards, _ := s.ListCollections(ctx, "u", store.KindCard)
	eq(t, "card collections", len(cards), 1)

	// Count, Bytes and SyncSeq follow the objects.
	e1 := put(t, s, card.ID, "1.vcf", "1", "One")
	_ = e1
	put(t, s, card.ID, "2.vcf", "2", "Two")
	gc = getColl(t, s, card)
	eq(t, "Count", gc.Count, int64(2))
	eq(t, "Bytes", gc.Bytes, int64(len(vcard("1", "One"))+len(vcard("2", "Two"))))
	eq(t, "SyncSeq", gc.SyncSeq, int64(2))
	cards, _ = s.ListCollections(ctx, "u", store.KindCard)
	eq(t, "listed Count", cards[0].Count, int64(2))
	eq(t, "listed Bytes", cards[0].Bytes, gc.Bytes)
	eq(t, "listed SyncSeq", cards[0].SyncSeq, int64(2))
}

func testUpdateCollection(t *testing.T, s store.Store) {
	mkUser(t, s, "u")
	c := &store.Collection{Owner: "u", Kind: store.KindCal, Name: "cal", DisplayName: "Old",
		Props: map[string]string{"{urn:x}keep": "k", "{urn:x}drop": "d"}}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	put(t, s, c.ID, "a.ics", "a", "A")
	before := getColl(t, s, c)

	err := s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error {
		eq(t, "loaded DisplayName", cc.DisplayName, "Old")
		eq(t, "loaded Props", cc.Props, map[string]string{"{urn:x}keep": "k", "{urn:x}drop": "d"})
		cc.DisplayName = "New"
		cc.Description = "desc"
		cc.Color = "#00FF00"
		cc.Order = 7
		cc.Components = []string{"VTODO"}
		cc.Timezone = "TZ"
		delete(cc.Props, "{urn:x}drop")
		cc.Props["{urn:x}add"] = "<a/>"
		// Immutable fields: ignored.
		cc.Name = "renamed"
		cc.Owner = "someone"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := getColl(t, s, c)
	eq(t, "DisplayName", got.DisplayName, "New")
	eq(t, "Description", got.Description, "desc")
	eq(t, "Color", got.Color, "#00FF00")
	eq(t, "Order", got.Order, 7)
	eq(t, "Components", got.Components, []string{"VTODO"})
	eq(t, "Timezone", got.Timezone, "TZ")
	eq(t, "Props", got.Props, map[string]string{"{urn:x}keep": "k", "{urn:x}add": "<a/>"})
	eq(t, "ID", got.ID, c.ID)
	eq(t, "Name", got.Name, "cal")
	eq(t, "Owner", got.Owner, "u")
	// Properties are not members: the sync seq stays.
	eq(t, "SyncSeq", got.SyncSeq, before.SyncSeq)
	eq(t, "Count", got.Count, int64(1))
	if got.Modified.Before(before.Modified) {
		t.Fatalf("Modified went back: %v < %v", got.Modified, before.Modified)
	}

	// An error from fn aborts everything.
	boom := errors.New("boom")
	err = s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error {
		cc.DisplayName = "Aborted"
		cc.Props["{urn:x}aborted"] = "1"
		return boom
	})
	wantErr(t, "UpdateCollection fn error", err, boom)
	got = getColl(t, s, c)
	eq(t, "DisplayName after abort", got.DisplayName, "New")
	eq(t, "Props after abort", got.Props, map[string]string{"{urn:x}keep": "k", "{urn:x}add": "<a/>"})

	// Clearing all props.
	if err := s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error { cc.Props = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	eq(t, "Props cleared", len(getColl(t, s, c).Props), 0)

	called := false
	err = s.UpdateCollection(ctx, c.ID+1000, func(*store.Collection) error { called = true; return nil })
	wantErr(t, "UpdateCollection missing", err, store.ErrNotFound)
	eq(t, "fn called for missing collection", called, false)
}

func testDeleteCollection(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	keep := mkColl(t, s, "u", store.KindCard, "keep")
	put(t, s, c.ID, "a.vcf", "a", "A")
	put(t, s, keep.ID, "a.vcf", "a", "A")
	if err := s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error {
		cc.Props["{urn:x}p"] = "v"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetCollection(ctx, "u", store.KindCard, "book")
	wantErr(t, "GetCollection deleted", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, c.ID, "a.vcf")
	wantErr(t, "GetObject in deleted collection", err, store.ErrNotFound)
	wantErr(t, "DeleteCollection again", s.DeleteCollection(ctx, c.ID), store.ErrNotFound)
	// The other collection is untouched.
	if _, err := s.GetObject(ctx, keep.ID, "a.vcf"); err != nil {
		t.Fatalf("object of another collection: %v", err)
	}
	// Re-creating the name gives a new, empty collection with a new ID, so
	// that old sync tokens "<id>:<seq>" cannot match it.
	again := mkColl(t, s, "u", store.KindCard, "book")
	if again.ID == c.ID {
		t.Fatal("collection ID reused")
	}
	g := getColl(t, s, again)
	eq(t, "Count of re-created", g.Count, int64(0))
	eq(t, "SyncSeq of re-created", g.SyncSeq, int64(0))
	eq(t, "Props of re-created", len(g.Props), 0)
}

// --- objects -------------------------------------------------------------

func testObjects(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	data := vcard("uid-b", "Bee")
	created, etag, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "b.vcf", UID: "uid-b", Data: data}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "created", created, true)
	if etag == "" || strings.ContainsAny(etag, `"`) {
		t.Fatalf("etag %q: want non-empty and unquoted", etag)
	}

	o, err := s.GetObject(ctx, c.ID, "b.vcf")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Collection", o.Collection, c.ID)
	eq(t, "Name", o.Name, "b.vcf")
	eq(t, "UID", o.UID, "uid-b")
	eq(t, "ETag", o.ETag, etag)
	eq(t, "Data", o.Data, data)
	eq(t, "Size", o.Size, int64(len(data)))
	recent(t, "Modified", o.Modified)
	eq(t, "FirstStart", o.FirstStart.IsZero(), true)
	eq(t, "LastEnd", o.LastEnd.IsZero(), true)

	// Same content elsewhere: same ETag; other content: other ETag.
	_, etagA, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ay")}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	if etagA == etag {
		t.Fatal("different data, same ETag")
	}
	other := mkColl(t, s, "u", store.KindCard, "other")
	_, etagOther, err := s.PutObject(ctx, &store.Object{Collection: other.ID, Name: "x.vcf", UID: "uid-b", Data: data}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ETag of equal data", etagOther, etag)

	// Replace.
	data2 := vcard("uid-b", "Bee Two")
	created, etag2, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "b.vcf", UID: "uid-b", Data: data2}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "created on replace", created, false)
	if etag2 == etag {
		t.Fatal("ETag unchanged after replace")
	}
	o, _ = s.GetObject(ctx, c.ID, "b.vcf")
	eq(t, "replaced Data", o.Data, data2)
	eq(t, "replaced ETag", o.ETag, etag2)
	eq(t, "replaced Size", o.Size, int64(len(data2)))

	put(t, s, c.ID, "c.vcf", "uid-c", "Cee")
	eq(t, "ListObjects order", listNames(t, s, c.ID), []string{"a.vcf", "b.vcf", "c.vcf"})

	// ListObjects with and without data.
	var withData, without []store.Object
	if err := s.ListObjects(ctx, c.ID, true, func(o *store.Object) error { withData = append(withData, *o); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.ListObjects(ctx, c.ID, false, func(o *store.Object) error { without = append(without, *o); return nil }); err != nil {
		t.Fatal(err)
	}
	eq(t, "listed Data", withData[1].Data, data2)
	eq(t, "listed ETag", withData[1].ETag, etag2)
	eq(t, "listed UID", withData[1].UID, "uid-b")
	for _, o := range without {
		if o.Data != nil {
			t.Fatalf("ListObjects without data returned data for %s", o.Name)
		}
		if o.ETag == "" || o.Size == 0 || o.UID == "" {
			t.Fatalf("metadata missing: %+v", o)
		}
	}
	eq(t, "metadata Size", without[1].Size, int64(len(data2)))

	// GetObjects: existing names only, with or without data.
	objs, err := s.GetObjects(ctx, c.ID, []string{"c.vcf", "nope.vcf", "a.vcf"}, true)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
	eq(t, "GetObjects count", len(objs), 2)
	eq(t, "GetObjects name", objs[0].Name, "a.vcf")
	eq(t, "GetObjects Data", objs[0].Data, vcard("uid-a", "Ay"))
	eq(t, "GetObjects ETag", objs[0].ETag, etagA)
	eq(t, "GetObjects Collection", objs[1].Collection, c.ID)
	objs, err = s.GetObjects(ctx, c.ID, []string{"b.vcf"}, false)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "GetObjects no data count", len(objs), 1)
	if objs[0].Data != nil || objs[0].ETag != etag2 {
		t.Fatalf("GetObjects without data: %+v", objs[0])
	}
	objs, err = s.GetObjects(ctx, c.ID, nil, true)
	if err != nil || len(objs) != 0 {
		t.Fatalf("GetObjects(nil) = %v, %v", objs, err)
	}

	// Delete.
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetObject(ctx, c.ID, "b.vcf")
	wantErr(t, "GetObject deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteObject again", s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}), store.ErrNotFound)
	eq(t, "after delete", listNames(t, s, c.ID), []string{"a.vcf", "c.vcf"})
	// The UID is free again.
	put(t, s, c.ID, "b2.vcf", "uid-b", "Bee again")

	// An object without UID and empty data is stored too.
	created, _, err = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "empty", Data: []byte{}}, store.Conditions{})
	if err != nil || !created {
		t.Fatalf("empty object: %v %v", created, err)
	}
	o, err = s.GetObject(ctx, c.ID, "empty")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "empty Size", o.Size, int64(0))
	eq(t, "empty UID", o.UID, "")
	eq(t, "empty Data len", len(o.Data), 0)
	_, _, err = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "empty2", Data: []byte("x")}, store.Conditions{})
	if err != nil {
		t.Fatalf("second object without UID: %v", err)
	}
}

func testGetObjectsLargeBatch(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	const n = 1203
	var names []string
	for i := range n {
		name := fmt.Sprintf("%04d.vcf", i)
		if i%2 == 0 {
			put(t, s, c.ID, name, name, "x")
		}
		names = append(names, name)
	}
	objs, err := s.GetObjects(ctx, c.ID, names, false)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "found", len(objs), (n+1)/2)
	seen := map[string]bool{}
	for _, o := range objs {
		if seen[o.Name] {
			t.Fatalf("%s returned twice", o.Name)
		}
		seen[o.Name] = true
		if o.UID != o.Name {
			t.Fatalf("%s: UID %q", o.Name, o.UID)
		}
	}
}

func testConditions(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	obj := func(fn string) *store.Object {
		return &store.Object{Collection: c.ID, Name: "a.vcf", UID: "a", Data: vcard("a", fn)}
	}
	// If-Match on a missing object fails.
	_, _, err := s.PutObject(ctx, obj("x"), store.Conditions{IfMatch: "abc"})
	wantErr(t, "If-Match on missing", err, store.ErrPrecondition)
	_, _, err = s.PutObject(ctx, obj("x"), store.Conditions{IfMatch: "*"})
	wantErr(t, "If-Match * on missing", err, store.ErrPrecondition)
	// If-None-Match on a missing object creates it.
	created, etag, err := s.PutObject(ctx, obj("v1"), store.Conditions{IfNoneMatch: true})
	if err != nil || !created {
		t.Fatalf("If-None-Match create: %v %v", created, err)
	}
	seq := syncSeq(t, s, c)

	// If-None-Match on an existing object fails and changes nothing.
	_, _, err = s.PutObject(ctx, obj("v2"), store.Conditions{IfNoneMatch: true})
	wantErr(t, "If-None-Match on existing", err, store.ErrPrecondition)
	// Wrong If-Match fails.
	_, _, err = s.PutObject(ctx, obj("v2"), store.Conditions{IfMatch: etag + "0"})
	wantErr(t, "wrong If-Match", err, store.ErrPrecondition)
	o, _ := s.GetObject(ctx, c.ID, "a.vcf")
	eq(t, "data after failed puts", o.Data, vcard("a", "v1"))
	eq(t, "SyncSeq after failed puts", syncSeq(t, s, c), seq)

	// Right If-Match replaces.
	created, etag2, err := s.PutObject(ctx, obj("v2"), store.Conditions{IfMatch: etag})
	if err != nil || created {
		t.Fatalf("If-Match replace: %v %v", created, err)
	}
	// The old ETag no longer matches.
	_, _, err = s.PutObject(ctx, obj("v3"), store.Conditions{IfMatch: etag})
	wantErr(t, "stale If-Match", err, store.ErrPrecondition)
	// If-Match * matches any existing object.
	created, etag2, err = s.PutObject(ctx, obj("v2b"), store.Conditions{IfMatch: "*"})
	if err != nil || created {
		t.Fatalf("If-Match * replace: %v %v", created, err)
	}
	created, etag2, err = s.PutObject(ctx, obj("v2"), store.Conditions{IfMatch: etag2})
	if err != nil || created {
		t.Fatalf("If-Match replace: %v %v", created, err)
	}

	// Delete: wrong If-Match fails and keeps the object.
	wantErr(t, "delete wrong If-Match", s.DeleteObject(ctx, c.ID, "a.vcf", store.Conditions{IfMatch: etag}), store.ErrPrecondition)
	if _, err := s.GetObject(ctx, c.ID, "a.vcf"); err != nil {
		t.Fatalf("object gone after failed delete: %v", err)
	}
	eq(t, "SyncSeq after failed delete", syncSeq(t, s, c), seq+3)
	if err := s.DeleteObject(ctx, c.ID, "a.vcf", store.Conditions{IfMatch: etag2}); err != nil {
		t.Fatalf("delete right If-Match: %v", err)
	}
	wantErr(t, "delete missing with If-Match", s.DeleteObject(ctx, c.ID, "a.vcf", store.Conditions{IfMatch: etag2}), store.ErrNotFound)
	put(t, s, c.ID, "a.vcf", "a", "v4")
	if err := s.DeleteObject(ctx, c.ID, "a.vcf", store.Conditions{IfMatch: "*"}); err != nil {
		t.Fatalf("delete If-Match *: %v", err)
	}
}

func testUIDConflict(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	other := mkColl(t, s, "u", store.KindCard, "other")
	put(t, s, c.ID, "a.vcf", "X", "A")
	seq := syncSeq(t, s, c)

	_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "b.vcf", UID: "X", Data: vcard("X", "B")}, store.Conditions{})
	var conflict *store.UIDConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("got %v, want *UIDConflictError", err)
	}
	eq(t, "conflict UID", conflict.UID, "X")
	eq(t, "conflict Name", conflict.Name, "a.vcf")
	_, err = s.GetObject(ctx, c.ID, "b.vcf")
	wantErr(t, "conflicting object stored", err, store.ErrNotFound)
	eq(t, "SyncSeq after conflict", syncSeq(t, s, c), seq)

	// Rewriting the holder is fine; so is the same UID in another collection.
	put(t, s, c.ID, "a.vcf", "X", "A2")
	put(t, s, other.ID, "b.vcf", "X", "B")
	// Once a.vcf changes its UID, X is free.
	put(t, s, c.ID, "a.vcf", "Y", "A3")
	put(t, s, c.ID, "b.vcf", "X", "B")
	_, _, err = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "c.vcf", UID: "Y", Data: vcard("Y", "C")}, store.Conditions{})
	if !errors.As(err, &conflict) || conflict.Name != "a.vcf" {
		t.Fatalf("got %v, want conflict with a.vcf", err)
	}
}

func testMove(t *testing.T, s store.Store) {
	src := book(t, s, "u", "src")
	dst := mkColl(t, s, "u", store.KindCard, "dst")
	etag := put(t, s, src.ID, "a.vcf", "A", "Ay")
	put(t, s, src.ID, "b.vcf", "B", "Bee")
	put(t, s, dst.ID, "t.vcf", "T", "Tee")
	put(t, s, dst.ID, "holder.vcf", "B", "holder of B")
	srcSeq, dstSeq := syncSeq(t, s, src), syncSeq(t, s, dst)

	// Wrong If-Match on the source.
	_, err := s.MoveObject(ctx, src.ID, "a.vcf", dst.ID, "a.vcf", false, store.Conditions{IfMatch: "nope"})
	wantErr(t, "move wrong If-Match", err, store.ErrPrecondition)
	// Missing source.
	_, err = s.MoveObject(ctx, src.ID, "zzz.vcf", dst.ID, "zzz.vcf", false, store.Conditions{})
	wantErr(t, "move missing", err, store.ErrNotFound)
	// Existing target without overwrite.
	_, err = s.MoveObject(ctx, src.ID, "a.vcf", dst.ID, "t.vcf", false, store.Conditions{})
	wantErr(t, "move onto existing without overwrite", err, store.ErrPrecondition)
	// UID held by another name in the target.
	_, err = s.MoveObject(ctx, src.ID, "b.vcf", dst.ID, "b.vcf", false, store.Conditions{})
	var conflict *store.UIDConflictError
	if !errors.As(err, &conflict) || conflict.UID != "B" || conflict.Name != "holder.vcf" {
		t.Fatalf("move UID conflict: got %v", err)
	}
	eq(t, "src SyncSeq after failed moves", syncSeq(t, s, src), srcSeq)
	eq(t, "dst SyncSeq after failed moves", syncSeq(t, s, dst), dstSeq)

	// A plain move (If-Match * first, then the move itself with the ETag).
	_, err = s.MoveObject(ctx, src.ID, "zzz.vcf", dst.ID, "zzz.vcf", false, store.Conditions{IfMatch: "*"})
	wantErr(t, "move missing If-Match *", err, store.ErrNotFound)
	created, err := s.MoveObject(ctx, src.ID, "a.vcf", dst.ID, "moved.vcf", false, store.Conditions{IfMatch: etag})
	if err != nil || !created {
		t.Fatalf("move: %v %v", created, err)
	}
	_, err = s.GetObject(ctx, src.ID, "a.vcf")
	wantErr(t, "source after move", err, store.ErrNotFound)
	o, err := s.GetObject(ctx, dst.ID, "moved.vcf")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "moved Data", o.Data, vcard("A", "Ay"))
	eq(t, "moved UID", o.UID, "A")
	eq(t, "moved ETag", o.ETag, etag)
	eq(t, "moved Collection", o.Collection, dst.ID)
	// Both collections record the move.
	cs, next, _ := changes(t, s, src.ID, srcSeq, 0, false)
	eq(t, "src changes", summary(cs), fmt.Sprintf("a.vcf@%d-", srcSeq+1))
	eq(t, "src next", next, srcSeq+1)
	cs, next, _ = changes(t, s, dst.ID, dstSeq, 0, false)
	eq(t, "dst changes", summary(cs), fmt.Sprintf("moved.vcf@%d", dstSeq+1))
	eq(t, "dst next", next, dstSeq+1)
	eq(t, "moved change ETag", cs[0].Object.ETag, etag)
	eq(t, "src Count", getColl(t, s, src).Count, int64(1))
	eq(t, "dst Count", getColl(t, s, dst).Count, int64(3))

	// Overwrite: moved.vcf (UID A) replaces b.vcf (UID B) in src.
	created, err = s.MoveObject(ctx, dst.ID, "moved.vcf", src.ID, "b.vcf", true, store.Conditions{})
	if err != nil || created {
		t.Fatalf("move with overwrite: %v %v", created, err)
	}
	o, _ = s.GetObject(ctx, src.ID, "b.vcf")
	eq(t, "overwritten Data", o.Data, vcard("A", "Ay"))
	eq(t, "overwritten UID", o.UID, "A")
	gs, gd := getColl(t, s, src), getColl(t, s, dst)
	eq(t, "src Count after overwrite", gs.Count, int64(1))
	eq(t, "dst Count after overwrite", gd.Count, int64(2))
	eq(t, "src Bytes after overwrite", gs.Bytes, int64(len(vcard("A", "Ay"))))
	eq(t, "dst Bytes after overwrite", gd.Bytes, int64(len(vcard("T", "Tee"))+len(vcard("B", "holder of B"))))

	// Moving into a missing collection.
	_, err = s.MoveObject(ctx, src.ID, "b.vcf", dst.ID+1000, "b.vcf", false, store.Conditions{})
	wantErr(t, "move to missing collection", err, store.ErrNotFound)
}

func testMoveSameCollection(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	etag := put(t, s, c.ID, "a.vcf", "A", "Ay")
	put(t, s, c.ID, "b.vcf", "B", "Bee")
	seq := syncSeq(t, s, c)

	// Renaming keeps the UID, which its own source holds: no conflict.
	created, err := s.MoveObject(ctx, c.ID, "a.vcf", c.ID, "renamed.vcf", false, store.Conditions{})
	if err != nil || !created {
		t.Fatalf("rename: %v %v", created, err)
	}
	eq(t, "names", listNames(t, s, c.ID), []string{"b.vcf", "renamed.vcf"})
	o, _ := s.GetObject(ctx, c.ID, "renamed.vcf")
	eq(t, "renamed ETag", o.ETag, etag)
	// Deletion and change each get their own seq.
	cs, next, _ := changes(t, s, c.ID, seq, 0, false)
	eq(t, "changes", summary(cs), fmt.Sprintf("a.vcf@%d- renamed.vcf@%d", seq+1, seq+2))
	eq(t, "next", next, seq+2)

	// Onto itself: refused.
	_, err = s.MoveObject(ctx, c.ID, "b.vcf", c.ID, "b.vcf", true, store.Conditions{})
	wantErr(t, "move onto itself", err, store.ErrPrecondition)

	// Overwrite within the collection.
	created, err = s.MoveObject(ctx, c.ID, "renamed.vcf", c.ID, "b.vcf", true, store.Conditions{IfMatch: "*"})
	if err != nil || created {
		t.Fatalf("overwrite within collection: %v %v", created, err)
	}
	eq(t, "names after overwrite", listNames(t, s, c.ID), []string{"b.vcf"})
	o, _ = s.GetObject(ctx, c.ID, "b.vcf")
	eq(t, "UID after overwrite", o.UID, "A")
	eq(t, "Count", getColl(t, s, c).Count, int64(1))
}

// --- sync ----------------------------------------------------------------

func testSyncInitial(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	cs, next, trunc := changes(t, s, c.ID, 0, 0, true)
	if len(cs) != 0 || next != 0 || trunc {
		t.Fatalf("empty collection: %v %d %v", summary(cs), next, trunc)
	}
	put(t, s, c.ID, "a.vcf", "a", "A")                                             // 1
	put(t, s, c.ID, "b.vcf", "b", "B")                                             // 2
	put(t, s, c.ID, "c.vcf", "c", "C")                                             // 3
	etagB := put(t, s, c.ID, "b.vcf", "b", "B2")                                   // 4
	if err := s.DeleteObject(ctx, c.ID, "c.vcf", store.Conditions{}); err != nil { // 5
		t.Fatal(err)
	}
	cs, next, trunc = changes(t, s, c.ID, 0, 0, true)
	eq(t, "initial", summary(cs), "a.vcf@1 b.vcf@4")
	eq(t, "next", next, int64(5))
	eq(t, "truncated", trunc, false)
	eq(t, "next is SyncSeq", next, syncSeq(t, s, c))
	eq(t, "Data", cs[1].Object.Data, vcard("b", "B2"))
	eq(t, "ETag", cs[1].Object.ETag, etagB)
	eq(t, "Name", cs[1].Object.Name, "b.vcf")
	eq(t, "UID", cs[1].Object.UID, "b")
	eq(t, "Collection", cs[1].Object.Collection, c.ID)

	cs, _, _ = changes(t, s, c.ID, 0, 0, false)
	for _, ch := range cs {
		if ch.Object == nil || ch.Object.Data != nil || ch.Object.ETag == "" || ch.Deleted {
			t.Fatalf("initial without data: %+v", ch)
		}
	}
}

func testSyncIncremental(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	put(t, s, c.ID, "a.vcf", "a", "A") // 1
	put(t, s, c.ID, "b.vcf", "b", "B") // 2
	tok := syncSeq(t, s, c)
	eq(t, "token", tok, int64(2))

	cs, next, _ := changes(t, s, c.ID, tok, 0, true)
	if len(cs) != 0 || next != tok {
		t.Fatalf("no changes: %s next %d", summary(cs), next)
	}

	put(t, s, c.ID, "c.vcf", "c", "C")                                             // 3
	put(t, s, c.ID, "a.vcf", "a", "A1")                                            // 4
	etagA := put(t, s, c.ID, "a.vcf", "a", "A2")                                   // 5: a appears once, latest
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil { // 6
		t.Fatal(err)
	}
	cs, next, trunc := changes(t, s, c.ID, tok, 0, true)
	eq(t, "changes", summary(cs), "c.vcf@3 a.vcf@5 b.vcf@6-")
	eq(t, "next", next, int64(6))
	eq(t, "truncated", trunc, false)
	eq(t, "a Data", cs[1].Object.Data, vcard("a", "A2"))
	eq(t, "a ETag", cs[1].Object.ETag, etagA)
	if cs[2].Object != nil {
		t.Fatalf("deleted change carries an object: %+v", cs[2].Object)
	}
	cs, _, _ = changes(t, s, c.ID, tok, 0, false)
	if cs[1].Object == nil || cs[1].Object.Data != nil || cs[1].Object.ETag != etagA {
		t.Fatalf("without data: %+v", cs[1].Object)
	}
	cs, _, _ = changes(t, s, c.ID, 5, 0, false)
	eq(t, "since 5", summary(cs), "b.vcf@6-")
	cs, _, _ = changes(t, s, c.ID, 6, 0, false)
	eq(t, "since 6", summary(cs), "")

	// A deleted name that comes back is reported as changed, once.
	put(t, s, c.ID, "b.vcf", "b", "B again") // 7
	cs, next, _ = changes(t, s, c.ID, tok, 0, false)
	eq(t, "recreated", summary(cs), "c.vcf@3 a.vcf@5 b.vcf@7")
	eq(t, "next", next, int64(7))
	// Initial sync does not report deletions.
	if err := s.DeleteObject(ctx, c.ID, "c.vcf", store.Conditions{}); err != nil { // 8
		t.Fatal(err)
	}
	cs, _, _ = changes(t, s, c.ID, 0, 0, false)
	eq(t, "initial after delete", summary(cs), "a.vcf@5 b.vcf@7")
}

// testSyncPaging walks the log in pages of several sizes and checks that the
// union of pages equals the unpaged answer.
func testSyncPaging(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	for i := range 30 {
		put(t, s, c.ID, fmt.Sprintf("%02d.vcf", i), fmt.Sprint(i), "v1")
	}
	for i := 0; i < 30; i += 3 {
		put(t, s, c.ID, fmt.Sprintf("%02d.vcf", i), fmt.Sprint(i), "v2")
	}
	for i := 1; i < 30; i += 4 {
		if err := s.DeleteObject(ctx, c.ID, fmt.Sprintf("%02d.vcf", i), store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	cur := syncSeq(t, s, c)
	for _, from := range []int64{0, 1, 17, 35, cur - 1, cur} {
		all, next, trunc := changes(t, s, c.ID, from, 0, false)
		if next != cur || trunc {
			t.Fatalf("since %d unpaged: next %d trunc %v", from, next, trunc)
		}
		for _, limit := range []int{1, 2, 7, len(all), len(all) + 1} {
			if limit == 0 {
				continue
			}
			var walked []store.Change
			tok := from
			for pages := 0; ; pages++ {
				if int64(pages) > cur+1 {
					t.Fatalf("since %d limit %d: no end", from, limit)
				}
				cs, next, trunc := changes(t, s, c.ID, tok, limit, true)
				if len(cs) > limit {
					t.Fatalf("since %d limit %d: page of %d", from, limit, len(cs))
				}
				walked = append(walked, cs...)
				if !trunc {
					eq(t, "final next", next, cur)
					break
				}
				if len(cs) == 0 || next != cs[len(cs)-1].Seq {
					t.Fatalf("since %d limit %d: truncated page %s with next %d", from, limit, summary(cs), next)
				}
				tok = next
			}
			// Paging may not add, lose or duplicate names. A paged initial
			// sync continues as an incremental one, so it may also report
			// deletions of names the client never saw: harmless, skip them.
			if from == 0 {
				var live []store.Change
				for _, ch := range walked {
					if !ch.Deleted {
						live = append(live, ch)
					} else if slices.ContainsFunc(all, func(a store.Change) bool { return a.Name == ch.Name }) {
						t.Fatalf("limit %d: %s reported deleted but exists", limit, ch.Name)
					}
				}
				walked = live
			}
			eq(t, fmt.Sprintf("since %d limit %d walk", from, limit), summary(walked), summary(all))
		}
	}
	// Exactly limit names left: not truncated.
	all, _, _ := changes(t, s, c.ID, 17, 0, false)
	cs, next, trunc := changes(t, s, c.ID, 17, len(all), false)
	if trunc || next != cur || len(cs) != len(all) {
		t.Fatalf("limit == remaining: %d names, next %d, trunc %v", len(cs), next, trunc)
	}
	// Seqs ascend.
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("seqs not ascending: %s", summary(all))
		}
	}
}

func testSyncInvalidToken(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	put(t, s, c.ID, "a.vcf", "a", "A")
	noop := func(*store.Change) error { return nil }
	_, _, err := s.ChangesSince(ctx, c.ID, 2, 0, false, noop)
	wantErr(t, "token from the future", err, store.ErrInvalidSyncToken)
	_, _, err = s.ChangesSince(ctx, c.ID, -1, 0, false, noop)
	wantErr(t, "negative token", err, store.ErrInvalidSyncToken)
	_, _, err = s.ChangesSince(ctx, c.ID+1000, 0, 0, false, noop)
	wantErr(t, "missing collection", err, store.ErrNotFound)
	// A token of a deleted and re-created collection is in the future of
	// the new one.
	put(t, s, c.ID, "b.vcf", "b", "B")
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c2 := mkColl(t, s, "u", store.KindCard, "book")
	_, _, err = s.ChangesSince(ctx, c2.ID, 2, 0, false, noop)
	wantErr(t, "token of deleted collection", err, store.ErrInvalidSyncToken)
}

// testSyncSeqPerWrite checks that every write advances the seq by exactly
// one and stamps objects and changes with it.
func testSyncSeqPerWrite(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	o := mkColl(t, s, "u", store.KindCard, "other")
	step := func(what string, want int64) {
		t.Helper()
		eq(t, what, syncSeq(t, s, c), want)
	}
	step("new", 0)
	put(t, s, c.ID, "a.vcf", "a", "A")
	step("create", 1)
	put(t, s, c.ID, "a.vcf", "a", "A") // same data: still a write
	step("rewrite", 2)
	put(t, s, c.ID, "b.vcf", "b", "B")
	step("second", 3)
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	step("delete", 4)
	if _, err := s.MoveObject(ctx, c.ID, "a.vcf", o.ID, "a.vcf", false, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	step("move out", 5)
	eq(t, "other after move in", syncSeq(t, s, o), int64(1))
	if _, err := s.MoveObject(ctx, o.ID, "a.vcf", c.ID, "a.vcf", false, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	step("move in", 6)
	eq(t, "other after move out", syncSeq(t, s, o), int64(2))
	g, _ := s.GetObject(ctx, c.ID, "a.vcf")
	if g == nil {
		t.Fatal("moved object missing")
	}
	cs, _, _ := changes(t, s, c.ID, 0, 0, false)
	eq(t, "object seq", summary(cs), "a.vcf@6")
	// Reads, failed writes and property updates do not advance it.
	_, _, _ = s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "a.vcf", UID: "a", Data: []byte("x")}, store.Conditions{IfNoneMatch: true})
	_ = s.DeleteObject(ctx, c.ID, "zzz", store.Conditions{})
	_ = s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error { cc.DisplayName = "x"; return nil })
	step("after no-ops", 6)
}

// --- time ranges ---------------------------------------------------------

func testRange(t *testing.T, s store.Store) {
	mkUser(t, s, "u")
	c := mkColl(t, s, "u", store.KindCal, "cal")
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	var zero time.Time
	objs := []struct {
		name, comp string
		start, end time.Time
	}{
		{"e1", "VEVENT", at(10, 0), at(11, 0)},
		{"e2", "VEVENT", at(12, 0), at(13, 0)},
		{"e3", "VEVENT", at(9, 0), zero},       // recurs forever
		{"e4", "VEVENT", zero, at(8, 0)},       // unbounded start
		{"e5", "VEVENT", at(11, 0), at(11, 0)}, // an instant
		{"t1", "VTODO", at(10, 0), at(10, 30)},
		{"t2", "VTODO", zero, zero}, // no dates at all
	}
	for _, o := range objs {
		_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: o.name, UID: o.name, Component: o.comp,
			FirstStart: o.start, LastEnd: o.end, Data: []byte("BEGIN:VCALENDAR\r\n" + o.name)}, store.Conditions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	o, _ := s.GetObject(ctx, c.ID, "e1")
	if !o.FirstStart.Equal(at(10, 0)) || !o.LastEnd.Equal(at(11, 0)) || o.Component != "VEVENT" {
		t.Fatalf("span round trip: %v %v %q", o.FirstStart, o.LastEnd, o.Component)
	}
	o, _ = s.GetObject(ctx, c.ID, "e3")
	if !o.FirstStart.Equal(at(9, 0)) || !o.LastEnd.IsZero() {
		t.Fatalf("open end round trip: %v %v", o.FirstStart, o.LastEnd)
	}
	o, _ = s.GetObject(ctx, c.ID, "t2")
	if !o.FirstStart.IsZero() || !o.LastEnd.IsZero() {
		t.Fatalf("unbounded round trip: %v %v", o.FirstStart, o.LastEnd)
	}

	cases := []struct {
		comp       string
		start, end time.Time
		want       []string
	}{
		{"VEVENT", at(10, 30), at(12, 0), []string{"e1", "e3", "e5"}},
		{"VEVENT", at(11, 0), at(12, 0), []string{"e3", "e5"}}, // e1 ends at 11:00
		{"VEVENT", zero, at(9, 0), []string{"e4"}},             // e3 starts at 9:00
		{"VEVENT", at(13, 0), zero, []string{"e3"}},            // e2 ends at 13:00
		{"VEVENT", zero, zero, []string{"e1", "e2", "e3", "e4", "e5"}},
		{"VEVENT", at(7, 0), at(7, 30), []string{"e4"}},
		{"VEVENT", day.AddDate(1, 0, 0), day.AddDate(1, 0, 1), []string{"e3"}},
		{"VTODO", at(10, 0), at(11, 0), []string{"t1", "t2"}},
		{"VTODO", at(10, 30), at(11, 0), []string{"t2"}},
		{"VJOURNAL", zero, zero, nil},
		{"", at(12, 30), at(12, 45), []string{"e2", "e3", "t2"}},
	}
	for _, tc := range cases {
		var got []string
		err := s.ListObjectsInRange(ctx, c.ID, tc.comp, tc.start, tc.end, true, func(o *store.Object) error {
			if len(o.Data) == 0 {
				return fmt.Errorf("%s: no data", o.Name)
			}
			got = append(got, o.Name)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got) // the order is unspecified
		eq(t, fmt.Sprintf("%s [%v, %v)", tc.comp, tc.start, tc.end), got, tc.want)
	}
	err := s.ListObjectsInRange(ctx, c.ID, "VEVENT", zero, zero, false, func(o *store.Object) error {
		if o.Data != nil {
			return fmt.Errorf("%s: data without withData", o.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// --- concurrency ---------------------------------------------------------

func testConcurrentWriters(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	const writers, each = 4, 50
	errs := make(chan error, writers*each+1)
	done := make(chan struct{})
	readerDone := make(chan struct{})
	// A reader runs alongside: reads must not fail while writers write.
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, _, err := s.ChangesSince(ctx, c.ID, 0, 0, false, func(*store.Change) error { return nil }); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%d-%03d.vcf", w, i)
				_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: vcard(name, name)},
					store.Conditions{IfNoneMatch: true})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(done)
	<-readerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	g := getColl(t, s, c)
	eq(t, "Count", g.Count, int64(writers*each))
	eq(t, "SyncSeq", g.SyncSeq, int64(writers*each))
	cs, next, _ := changes(t, s, c.ID, 0, 0, false)
	eq(t, "changes", len(cs), writers*each)
	eq(t, "next", next, int64(writers*each))
	var seqs []int64
	for _, ch := range cs {
		seqs = append(seqs, ch.Seq)
	}
	want := make([]int64, writers*each)
	for i := range want {
		want[i] = int64(i + 1)
	}
	eq(t, "seqs are 1..n, unique", seqs, want)
}

func testConcurrentConditionalCreate(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	const n = 4
	results := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "a.vcf", UID: "a", Data: vcard("a", fmt.Sprint(i))},
				store.Conditions{IfNoneMatch: true})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrPrecondition):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	eq(t, "winners of If-None-Match race", won, 1)
	eq(t, "SyncSeq", syncSeq(t, s, c), int64(1))
}

// --- ownership -----------------------------------------------------------

func testIsolation(t *testing.T, s store.Store) {
	a := book(t, s, "alice", "default")
	b := book(t, s, "bob", "default")
	mkColl(t, s, "alice", store.KindCard, "only-alice")
	mkColl(t, s, "bob", store.KindCal, "cal")
	if a.ID == b.ID {
		t.Fatal("same ID for two users' collections")
	}
	put(t, s, a.ID, "x.vcf", "x", "Alice's")
	put(t, s, b.ID, "x.vcf", "x", "Bob's")

	list, _ := s.ListCollections(ctx, "alice", store.KindCard)
	var names []string
	for _, c := range list {
		eq(t, "owner", c.Owner, "alice")
		names = append(names, c.Name)
	}
	eq(t, "alice's books", names, []string{"default", "only-alice"})
	list, _ = s.ListCollections(ctx, "bob", store.KindCard)
	eq(t, "bob's books", len(list), 1)
	eq(t, "bob's book", list[0].ID, b.ID)
	list, _ = s.ListCollections(ctx, "alice", store.KindCal)
	eq(t, "alice's calendars", len(list), 0)
	list, _ = s.ListCollections(ctx, "nobody", store.KindCard)
	eq(t, "nobody's books", len(list), 0)
	_, err := s.GetCollection(ctx, "bob", store.KindCard, "only-alice")
	wantErr(t, "bob gets alice's book", err, store.ErrNotFound)

	o, _ := s.GetObject(ctx, b.ID, "x.vcf")
	eq(t, "bob's object", o.Data, vcard("x", "Bob's"))
	o, _ = s.GetObject(ctx, a.ID, "x.vcf")
	eq(t, "alice's object", o.Data, vcard("x", "Alice's"))
	eq(t, "alice's names", listNames(t, s, a.ID), []string{"x.vcf"})
	eq(t, "alice's SyncSeq", syncSeq(t, s, a), int64(1))
}

func testDeleteUserCascade(t *testing.T, s store.Store) {
	c := book(t, s, "gone", "book")
	cal := mkColl(t, s, "gone", store.KindCal, "cal")
	keep := book(t, s, "stays", "book")
	put(t, s, c.ID, "a.vcf", "a", "A")
	put(t, s, cal.ID, "e.ics", "e", "E")
	put(t, s, keep.ID, "a.vcf", "a", "A")
	if err := s.DeleteObject(ctx, c.ID, "a.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	put(t, s, c.ID, "b.vcf", "b", "B")
	if err := s.UpdateCollection(ctx, c.ID, func(cc *store.Collection) error { cc.Props["{urn:x}p"] = "v"; return nil }); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteUser(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetCollection(ctx, "gone", store.KindCard, "book")
	wantErr(t, "collection of deleted user", err, store.ErrNotFound)
	list, _ := s.ListCollections(ctx, "gone", store.KindCal)
	eq(t, "calendars of deleted user", len(list), 0)
	_, err = s.GetObject(ctx, c.ID, "b.vcf")
	wantErr(t, "object of deleted user", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, cal.ID, "e.ics")
	wantErr(t, "event of deleted user", err, store.ErrNotFound)
	_, _, err = s.ChangesSince(ctx, c.ID, 0, 0, false, func(*store.Change) error { return nil })
	wantErr(t, "changes of deleted user", err, store.ErrNotFound)

	// The other user keeps everything.
	if _, err := s.GetObject(ctx, keep.ID, "a.vcf"); err != nil {
		t.Fatal(err)
	}
	// The login can be registered again and starts empty.
	c2 := book(t, s, "gone", "book")
	if c2.ID == c.ID {
		t.Fatal("collection ID reused")
	}
	g := getColl(t, s, c2)
	if g.Count != 0 || g.SyncSeq != 0 || len(g.Props) != 0 {
		t.Fatalf("re-created collection not empty: %+v", g)
	}
	cs, _, _ := changes(t, s, c2.ID, 0, 0, false)
	eq(t, "changes of re-created", len(cs), 0)
}

func testMissingCollection(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	missing := c.ID + 1000
	_, _, err := s.PutObject(ctx, &store.Object{Collection: missing, Name: "a", UID: "a", Data: []byte("a")}, store.Conditions{})
	wantErr(t, "PutObject", err, store.ErrNotFound)
	wantErr(t, "DeleteObject", s.DeleteObject(ctx, missing, "a", store.Conditions{}), store.ErrNotFound)
	_, err = s.GetObject(ctx, missing, "a")
	wantErr(t, "GetObject", err, store.ErrNotFound)
	_, err = s.GetObjects(ctx, missing, []string{"a"}, false)
	wantErr(t, "GetObjects", err, store.ErrNotFound)
	wantErr(t, "ListObjects", s.ListObjects(ctx, missing, false, func(*store.Object) error { return nil }), store.ErrNotFound)
	wantErr(t, "ListObjectsInRange", s.ListObjectsInRange(ctx, missing, "", time.Time{}, time.Time{}, false,
		func(*store.Object) error { return nil }), store.ErrNotFound)
	_, err = s.MoveObject(ctx, missing, "a", c.ID, "a", false, store.Conditions{})
	wantErr(t, "MoveObject", err, store.ErrNotFound)
	wantErr(t, "DeleteCollection", s.DeleteCollection(ctx, missing), store.ErrNotFound)
}

func testCallbackErrors(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	for _, n := range []string{"a", "b", "c"} {
		put(t, s, c.ID, n, n, n)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.ListObjects(ctx, c.ID, false, func(*store.Object) error { calls++; return stop })
	wantErr(t, "ListObjects", err, stop)
	eq(t, "ListObjects calls", calls, 1)
	calls = 0
	err = s.ListObjectsInRange(ctx, c.ID, "", time.Time{}, time.Time{}, false, func(*store.Object) error { calls++; return stop })
	wantErr(t, "ListObjectsInRange", err, stop)
	eq(t, "ListObjectsInRange calls", calls, 1)
	calls = 0
	_, _, err = s.ChangesSince(ctx, c.ID, 0, 0, false, func(*store.Change) error { calls++; return stop })
	wantErr(t, "ChangesSince", err, stop)
	eq(t, "ChangesSince calls", calls, 1)

	// A callback may write: a driver must not hold a lock that blocks it.
	var seen []string
	err = s.ListObjects(ctx, c.ID, false, func(o *store.Object) error {
		seen = append(seen, o.Name)
		_, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: o.Name + "-copy", UID: o.Name + "-copy", Data: []byte("x")}, store.Conditions{})
		return err
	})
	if err != nil {
		t.Fatalf("write from a ListObjects callback: %v", err)
	}
	if !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Fatalf("listed %v", seen)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.PutObject(cctx, &store.Object{Collection: c.ID, Name: "a", UID: "a", Data: []byte("a")}, store.Conditions{}); err == nil {
		t.Fatal("PutObject with canceled context succeeded")
	}
	if _, err := s.GetObject(cctx, c.ID, "a"); err == nil {
		t.Fatal("GetObject with canceled context succeeded")
	}
	if err := s.ListObjects(cctx, c.ID, false, func(*store.Object) error { return nil }); err == nil {
		t.Fatal("ListObjects with canceled context succeeded")
	}
	_, err := s.GetObject(ctx, c.ID, "a")
	wantErr(t, "object written with canceled context", err, store.ErrNotFound)
	eq(t, "SyncSeq", syncSeq(t, s, c), int64(0))
}

// --- merges --------------------------------------------------------------

// mergeFixture holds a book with three duplicates a, b, c (a is the
// reference) and a group card g listing b.
type mergeFixture struct {
	c          *store.Collection
	etags      map[string]string
	data       map[string][]byte
	merged     []byte
	groupAfter []byte
}

func groupCard(uid string, members ...string) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nUID:" + uid + "\r\nFN:Group\r\n")
	for _, m := range members {
		b.WriteString("MEMBER:urn:uuid:" + m + "\r\n")
	}
	b.WriteString("END:VCARD\r\n")
	return []byte(b.String())
}

func newMergeFixture(t *testing.T, s store.Store) *mergeFixture {
	t.Helper()
	return newMergeFixtureIn(t, s, book(t, s, "u", "book"))
}

func newMergeFixtureIn(t *testing.T, s store.Store, c *store.Collection) *mergeFixture {
	t.Helper()
	f := &mergeFixture{c: c, etags: map[string]string{}, data: map[string][]byte{}}
	for _, x := range []struct{ name, uid, fn string }{
		{"a.vcf", "uid-a", "Ann Smith"}, {"b.vcf", "uid-b", "Anne Smith"}, {"c.vcf", "uid-c", "A. Smith"},
		{"other.vcf", "uid-o", "Bob"},
	} {
		f.etags[x.name] = put(t, s, f.c.ID, x.name, x.uid, x.fn)
		f.data[x.name] = vcard(x.uid, x.fn)
	}
	f.data["g.vcf"] = groupCard("uid-g", "uid-b", "uid-o")
	_, etag, err := s.PutObject(ctx, &store.Object{Collection: f.c.ID, Name: "g.vcf", UID: "uid-g", Data: f.data["g.vcf"]}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	f.etags["g.vcf"] = etag
	f.merged = []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-a\r\nFN:Ann Smith\r\nNOTE:merged\r\nEND:VCARD\r\n")
	f.groupAfter = groupCard("uid-g", "uid-a", "uid-o")
	return f
}

func (f *mergeFixture) write() *store.MergeWrite {
	return &store.MergeWrite{
		Collection:    f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: f.merged},
		ReferenceETag: f.etags["a.vcf"],
		Groups: []store.Rewrite{{
			Object: &store.Object{Collection: f.c.ID, Name: "g.vcf", UID: "uid-g", Data: f.groupAfter},
			ETag:   f.etags["g.vcf"],
		}},
		Removed: []store.Removed{{Name: "b.vcf", UID: "uid-b", ETag: f.etags["b.vcf"]},
			{Name: "c.vcf", UID: "uid-c", ETag: f.etags["c.vcf"]}},
		Undo: []byte("opaque undo record"),
	}
}

// originals are the cards as they were before the merge, for UndoMerge.
func (f *mergeFixture) originals() []store.Object {
	var out []store.Object
	for _, x := range []struct{ name, uid string }{{"a.vcf", "uid-a"}, {"b.vcf", "uid-b"}, {"c.vcf", "uid-c"}, {"g.vcf", "uid-g"}} {
		out = append(out, store.Object{Collection: f.c.ID, Name: x.name, UID: x.uid, Data: f.data[x.name]})
	}
	return out
}

// snapshot is every object's data keyed by name, plus the collection's
// seq, count and bytes.
func snapshot(t *testing.T, s store.Store, c *store.Collection) string {
	t.Helper()
	var b strings.Builder
	err := s.ListObjects(ctx, c.ID, true, func(o *store.Object) error {
		fmt.Fprintf(&b, "%s uid=%s etag=%s %q\n", o.Name, o.UID, o.ETag, o.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g := getColl(t, s, c)
	fmt.Fprintf(&b, "seq=%d count=%d bytes=%d", g.SyncSeq, g.Count, g.Bytes)
	return b.String()
}

func getData(t *testing.T, s store.Store, coll int64, name string) []byte {
	t.Helper()
	o, err := s.GetObject(ctx, coll, name)
	if err != nil {
		t.Fatalf("GetObject(%s): %v", name, err)
	}
	return o.Data
}

func mergedInto(t *testing.T, s store.Store, coll int64, name, uid string) string {
	t.Helper()
	got, _ := mergedIntoBy(t, s, coll, name, uid)
	return got
}

// mergedIntoBy is MergedInto, failing the test on error. The merge ID must
// be 0 exactly when the survivor is "".
func mergedIntoBy(t *testing.T, s store.Store, coll int64, name, uid string) (string, int64) {
	t.Helper()
	got, id, err := s.MergedInto(ctx, coll, name, uid)
	if err != nil {
		t.Fatalf("MergedInto(%q, %q): %v", name, uid, err)
	}
	if (got == "") != (id == 0) {
		t.Fatalf("MergedInto(%q, %q) = %q, merge %d", name, uid, got, id)
	}
	return got, id
}

// changeMap renders changes as name → "changed" / "deleted".
func changeMap(cs []store.Change) map[string]string {
	m := map[string]string{}
	for _, c := range cs {
		if c.Deleted {
			m[c.Name] = "deleted"
		} else {
			m[c.Name] = "changed"
		}
	}
	return m
}

func testMergeApply(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	before := syncSeq(t, s, f.c)
	bytesBefore := getColl(t, s, f.c).Bytes
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatalf("ApplyMerge: %v", err)
	}
	if m.ID == 0 {
		t.Fatal("merge ID not set")
	}
	eq(t, "Merge.Collection", m.Collection, f.c.ID)
	eq(t, "Merge.Reference", m.Reference, "a.vcf")
	eq(t, "Merge.Removed", m.Removed, []string{"b.vcf", "c.vcf"})
	eq(t, "Merge.Undo", m.Undo, []byte("opaque undo record"))
	recent(t, "Merge.Created", m.Created)
	eq(t, "Merge.Undone", m.Undone.IsZero(), true)
	eq(t, "Merge.ReferenceETag", m.ReferenceETag, store.ETag(f.merged))

	ref, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "reference data", ref.Data, f.merged)
	eq(t, "reference UID", ref.UID, "uid-a")
	eq(t, "reference ETag", ref.ETag, store.ETag(f.merged))
	eq(t, "group data", getData(t, s, f.c.ID, "g.vcf"), f.groupAfter)
	for _, n := range []string{"b.vcf", "c.vcf"} {
		_, err := s.GetObject(ctx, f.c.ID, n)
		wantErr(t, "GetObject "+n+" after merge", err, store.ErrNotFound)
	}
	eq(t, "names after merge", listNames(t, s, f.c.ID), []string{"a.vcf", "g.vcf", "other.vcf"})
	g := getColl(t, s, f.c)
	eq(t, "Count after merge", g.Count, int64(3))
	wantBytes := bytesBefore - int64(len(f.data["a.vcf"])+len(f.data["b.vcf"])+len(f.data["c.vcf"])+len(f.data["g.vcf"])) +
		int64(len(f.merged)+len(f.groupAfter))
	eq(t, "Bytes after merge", g.Bytes, wantBytes)
	// One seq per touched name.
	eq(t, "SyncSeq after merge", g.SyncSeq, before+4)

	cs, next, _ := changes(t, s, f.c.ID, before, 0, true)
	eq(t, "next token", next, g.SyncSeq)
	eq(t, "changes after merge", changeMap(cs), map[string]string{
		"a.vcf": "changed", "g.vcf": "changed", "b.vcf": "deleted", "c.vcf": "deleted"})
	for _, c := range cs {
		if c.Name == "a.vcf" {
			eq(t, "synced reference data", c.Object.Data, f.merged)
		}
	}

	for _, q := range []struct{ name, uid, want string }{
		{"b.vcf", "", "a.vcf"}, {"c.vcf", "", "a.vcf"},
		{"x.vcf", "uid-b", "a.vcf"}, {"y.vcf", "uid-c", "a.vcf"},
		{"a.vcf", "uid-a", ""}, {"other.vcf", "uid-o", ""}, {"nope.vcf", "", ""},
	} {
		got, id := mergedIntoBy(t, s, f.c.ID, q.name, q.uid)
		eq(t, fmt.Sprintf("MergedInto(%q, %q)", q.name, q.uid), got, q.want)
		if q.want != "" {
			eq(t, fmt.Sprintf("MergedInto(%q, %q) merge", q.name, q.uid), id, m.ID)
		}
	}

	got, err := s.GetMerge(ctx, f.c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "GetMerge", got.Removed, m.Removed)
	eq(t, "GetMerge.Reference", got.Reference, "a.vcf")
	eq(t, "GetMerge.Undo", got.Undo, m.Undo)
	eq(t, "GetMerge.Groups", got.Groups, []string{"g.vcf"})
	eq(t, "GetMerge.Created", got.Created.Equal(m.Created), true)
	eq(t, "GetMerge.ReferenceETag", got.ReferenceETag, ref.ETag)
	_, err = s.GetMerge(ctx, f.c.ID, m.ID+100)
	wantErr(t, "GetMerge unknown", err, store.ErrNotFound)
	other := mkColl(t, s, "u", store.KindCard, "other")
	_, err = s.GetMerge(ctx, other.ID, m.ID)
	wantErr(t, "GetMerge in another collection", err, store.ErrNotFound)
	eq(t, "MergedInto in another collection", mergedInto(t, s, other.ID, "b.vcf", "uid-b"), "")

	// A second merge: ListMerges is newest first.
	oEtag := put(t, s, f.c.ID, "d.vcf", "uid-d", "Ann S")
	m2, err := s.ApplyMerge(ctx, &store.MergeWrite{
		Collection:    f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ann Smith 2")},
		ReferenceETag: ref.ETag,
		Removed:       []store.Removed{{Name: "d.vcf", UID: "uid-d", ETag: oEtag}},
	})
	if err != nil {
		t.Fatalf("second ApplyMerge: %v", err)
	}
	list, err := s.ListMerges(ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	eq(t, "ListMerges ids", ids, []int64{m2.ID, m.ID})
	list, err = s.ListMerges(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListMerges of another collection", len(list), 0)
}

func testMergeStale(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	want := snapshot(t, s, f.c)
	cases := map[string]func(w *store.MergeWrite){
		"reference":                       func(w *store.MergeWrite) { w.ReferenceETag = "0000" },
		"reference empty":                 func(w *store.MergeWrite) { w.ReferenceETag = "" },
		"group":                           func(w *store.MergeWrite) { w.Groups[0].ETag = "0000" },
		"first removed":                   func(w *store.MergeWrite) { w.Removed[0].ETag = "0000" },
		"last removed":                    func(w *store.MergeWrite) { w.Removed[1].ETag = "0000" },
		"removed missing":                 func(w *store.MergeWrite) { w.Removed[1].Name = "gone.vcf" },
		"reference missing":               func(w *store.MergeWrite) { w.Reference.Name = "gone.vcf" },
		"reference UID":                   func(w *store.MergeWrite) { w.Reference.UID = "uid-other" },
		"removed current etag of another": func(w *store.MergeWrite) { w.Removed[0].ETag = f.etags["c.vcf"] },
	}
	for name, mutate := range cases {
		w := f.write()
		mutate(w)
		_, err := s.ApplyMerge(ctx, w)
		wantErr(t, "ApplyMerge with stale "+name, err, store.ErrPrecondition)
		eq(t, "state after stale "+name, snapshot(t, s, f.c), want)
		eq(t, "MergedInto after stale "+name, mergedInto(t, s, f.c.ID, "b.vcf", "uid-b"), "")
		list, err := s.ListMerges(ctx, f.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "merges after stale "+name, len(list), 0)
	}
	// A card edited after planning makes its planned ETag stale.
	put(t, s, f.c.ID, "c.vcf", "uid-c", "A. Smith (edited)")
	want = snapshot(t, s, f.c)
	_, err := s.ApplyMerge(ctx, f.write())
	wantErr(t, "ApplyMerge after an edit", err, store.ErrPrecondition)
	eq(t, "state after edit", snapshot(t, s, f.c), want)
	// Missing collection.
	w := f.write()
	w.Collection = f.c.ID + 1000
	w.Reference.Collection = w.Collection
	w.Groups[0].Object.Collection = w.Collection
	_, err = s.ApplyMerge(ctx, w)
	wantErr(t, "ApplyMerge in missing collection", err, store.ErrNotFound)
}

func testMergeUndo(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	afterMerge := syncSeq(t, s, f.c)
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false); err != nil {
		t.Fatalf("UndoMerge: %v", err)
	}
	for _, n := range []string{"a.vcf", "b.vcf", "c.vcf", "g.vcf"} {
		o, err := s.GetObject(ctx, f.c.ID, n)
		if err != nil {
			t.Fatalf("GetObject(%s) after undo: %v", n, err)
		}
		eq(t, n+" data after undo", o.Data, f.data[n])
		eq(t, n+" ETag after undo", o.ETag, f.etags[n])
	}
	eq(t, "names after undo", listNames(t, s, f.c.ID), []string{"a.vcf", "b.vcf", "c.vcf", "g.vcf", "other.vcf"})
	g := getColl(t, s, f.c)
	eq(t, "Count after undo", g.Count, int64(5))
	var total int64
	for _, d := range f.data {
		total += int64(len(d))
	}
	eq(t, "Bytes after undo", g.Bytes, total)
	eq(t, "SyncSeq after undo", g.SyncSeq, afterMerge+4)
	cs, _, _ := changes(t, s, f.c.ID, afterMerge, 0, true)
	eq(t, "changes after undo", changeMap(cs), map[string]string{
		"a.vcf": "changed", "b.vcf": "changed", "c.vcf": "changed", "g.vcf": "changed"})
	for _, c := range cs {
		eq(t, "synced "+c.Name, c.Object.Data, f.data[c.Name])
	}
	eq(t, "MergedInto by name after undo", mergedInto(t, s, f.c.ID, "b.vcf", ""), "")
	eq(t, "MergedInto by UID after undo", mergedInto(t, s, f.c.ID, "x.vcf", "uid-c"), "")
	got, err := s.GetMerge(ctx, f.c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	recent(t, "Undone", got.Undone)
	eq(t, "Undo of an undone merge", len(got.Undo), 0)
	eq(t, "Removed of an undone merge", got.Removed, m.Removed)

	want := snapshot(t, s, f.c)
	wantErr(t, "second UndoMerge", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false), store.ErrPrecondition)
	// Also when the originals alone would not conflict.
	wantErr(t, "second UndoMerge of the reference only", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals()[:1], false), store.ErrPrecondition)
	eq(t, "state after second undo", snapshot(t, s, f.c), want)
	wantErr(t, "UndoMerge unknown", s.UndoMerge(ctx, f.c.ID, m.ID+100, undoOf(t, s, f.c.ID, m.ID+100), f.originals(), false), store.ErrNotFound)

	// Originals that name a card outside the merge are refused.
	m2, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatalf("merge again: %v", err)
	}
	want = snapshot(t, s, f.c)
	bad := append(f.originals(), store.Object{Collection: f.c.ID, Name: "other.vcf", UID: "uid-o", Data: vcard("uid-o", "X")})
	wantErr(t, "UndoMerge with a foreign original", s.UndoMerge(ctx, f.c.ID, m2.ID, undoOf(t, s, f.c.ID, m2.ID), bad, false), store.ErrPrecondition)
	eq(t, "state after refused undo", snapshot(t, s, f.c), want)
}

// testMergeUndoConflict: undo refuses to re-create a removed card whose
// name or UID is in use again. No write can bring one back (see
// testMergedAwayWrites), but undoing an earlier merge out of order can:
// here the undo of m0, into c.vcf, re-creates c.vcf after m1 removed it.
func testMergeUndoConflict(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		what     string
		recreate func(t *testing.T, s store.Store, coll int64)
	}{
		{"name", func(t *testing.T, s store.Store, coll int64) {}},
		{"uid", func(t *testing.T, s store.Store, coll int64) {
			if _, err := s.MoveObject(ctx, coll, "c.vcf", coll, "c-renamed.vcf", false, store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			f := newMergeFixtureIn(t, s, book(t, s, "u", "book-"+tc.what))
			ez := put(t, s, f.c.ID, "z.vcf", "uid-z", "Z")
			m0, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: f.c.ID,
				Reference:     &store.Object{Collection: f.c.ID, Name: "c.vcf", UID: "uid-c", Data: f.data["c.vcf"]},
				ReferenceETag: f.etags["c.vcf"],
				Removed:       []store.Removed{{Name: "z.vcf", UID: "uid-z", ETag: ez}}})
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.ApplyMerge(ctx, f.write())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.UndoMerge(ctx, f.c.ID, m0.ID, undoOf(t, s, f.c.ID, m0.ID), []store.Object{
				{Collection: f.c.ID, Name: "c.vcf", UID: "uid-c", Data: f.data["c.vcf"]},
				{Collection: f.c.ID, Name: "z.vcf", UID: "uid-z", Data: vcard("uid-z", "Z")},
			}, true); err != nil {
				t.Fatalf("UndoMerge of the earlier merge: %v", err)
			}
			tc.recreate(t, s, f.c.ID)
			want := snapshot(t, s, f.c)
			wantErr(t, "UndoMerge", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false), store.ErrPrecondition)
			eq(t, "state after refused undo", snapshot(t, s, f.c), want)
			eq(t, "MergedInto after refused undo", mergedInto(t, s, f.c.ID, "b.vcf", ""), "a.vcf")
			got, err := s.GetMerge(ctx, f.c.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "Undone after refused undo", got.Undone.IsZero(), true)
		})
	}
}

func testMergeChain(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	ea := put(t, s, c.ID, "a.vcf", "uid-a", "A")
	eb := put(t, s, c.ID, "b.vcf", "uid-b", "B")
	m1, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: "b.vcf", UID: "uid-b", Data: vcard("uid-b", "AB")},
		ReferenceETag: eb,
		Removed:       []store.Removed{{Name: "a.vcf", UID: "uid-a", ETag: ea}}})
	if err != nil {
		t.Fatal(err)
	}
	eb = store.ETag(vcard("uid-b", "AB"))
	ec := put(t, s, c.ID, "c.vcf", "uid-c", "C")
	m2, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: "c.vcf", UID: "uid-c", Data: vcard("uid-c", "ABC")},
		ReferenceETag: ec,
		Removed:       []store.Removed{{Name: "b.vcf", UID: "uid-b", ETag: eb}}})
	if err != nil {
		t.Fatal(err)
	}
	// The survivor is the end of the chain, the merge its first hop.
	for _, q := range []struct {
		name, uid string
		merge     int64
	}{{"a.vcf", "", m1.ID}, {"", "uid-a", m1.ID}, {"b.vcf", "", m2.ID}, {"", "uid-b", m2.ID}} {
		got, id := mergedIntoBy(t, s, c.ID, q.name, q.uid)
		eq(t, fmt.Sprintf("MergedInto(%q, %q) (chain)", q.name, q.uid), got, "c.vcf")
		eq(t, fmt.Sprintf("MergedInto(%q, %q) (chain) merge", q.name, q.uid), id, q.merge)
	}
	eq(t, "MergedInto empty UID", mergedInto(t, s, c.ID, "zzz.vcf", ""), "")
}

func testFoldInto(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	// A second merge into the same reference: the fold updates its
	// ReferenceETag too, but not its undo record.
	ed := put(t, s, f.c.ID, "d.vcf", "uid-d", "Ann S")
	m2, err := s.ApplyMerge(ctx, &store.MergeWrite{
		Collection:    f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: f.merged},
		ReferenceETag: ref.ETag,
		Removed:       []store.Removed{{Name: "d.vcf", UID: "uid-d", ETag: ed}},
		Undo:          []byte("undo of m2"),
	})
	if err != nil {
		t.Fatalf("second ApplyMerge: %v", err)
	}
	// A merge that exists, but in another collection.
	om, err := s.ApplyMerge(ctx, newMergeFixtureIn(t, s, mkColl(t, s, "u", store.KindCard, "other")).write())
	if err != nil {
		t.Fatal(err)
	}
	before := syncSeq(t, s, f.c)
	count := getColl(t, s, f.c).Count
	folded := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-a\r\nFN:Ann Smith\r\nTEL:+33 1 23 45 67 89\r\nEND:VCARD\r\n")
	survivor := &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: folded}
	newUndo := []byte("undo record holding the re-uploaded b")

	mergeState := func() string {
		t.Helper()
		list, err := s.ListMerges(ctx, f.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, x := range list {
			fmt.Fprintf(&b, "%d etag=%s undo=%q undone=%v\n", x.ID, x.ReferenceETag, x.Undo, !x.Undone.IsZero())
		}
		return b.String()
	}

	// Refused folds change nothing, merges included.
	want, wantMerges := snapshot(t, s, f.c), mergeState()
	undo := f.write().Undo
	for _, tc := range []struct {
		what  string
		cond  store.Conditions
		merge int64
		prev  []byte
	}{
		{"stale If-Match", store.Conditions{IfMatch: "0000"}, m.ID, undo},
		{"unknown merge", store.Conditions{IfMatch: ref.ETag}, m2.ID + 100, undo},
		{"merge of another collection", store.Conditions{IfMatch: ref.ETag}, om.ID, undo},
		// Another fold replaced the undo record since it was read.
		{"stale undo record", store.Conditions{IfMatch: ref.ETag}, m.ID, []byte("undo record as another fold left it")},
	} {
		_, err = s.FoldInto(ctx, survivor, tc.cond, "b.vcf", tc.merge, tc.prev, newUndo)
		wantErr(t, "FoldInto with "+tc.what, err, store.ErrPrecondition)
		eq(t, "state after fold with "+tc.what, snapshot(t, s, f.c), want)
		eq(t, "merges after fold with "+tc.what, mergeState(), wantMerges)
	}

	etag, err := s.FoldInto(ctx, survivor, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, undo, newUndo)
	if err != nil {
		t.Fatalf("FoldInto: %v", err)
	}
	eq(t, "FoldInto ETag", etag, store.ETag(folded))
	o, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "survivor data", o.Data, folded)
	eq(t, "survivor ETag", o.ETag, etag)
	_, err = s.GetObject(ctx, f.c.ID, "b.vcf")
	wantErr(t, "folded name", err, store.ErrNotFound)
	g := getColl(t, s, f.c)
	eq(t, "Count after fold", g.Count, count)
	eq(t, "SyncSeq after fold", g.SyncSeq, before+2)
	cs, _, _ := changes(t, s, f.c.ID, before, 0, false)
	eq(t, "changes after fold", changeMap(cs), map[string]string{"a.vcf": "changed", "b.vcf": "deleted"})
	eq(t, "changes are in seq order", len(cs), 2)
	if cs[0].Seq == cs[1].Seq {
		t.Fatalf("fold changes share seq %d", cs[0].Seq)
	}
	got, err := s.GetMerge(ctx, f.c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "undo after fold", got.Undo, newUndo)
	eq(t, "ReferenceETag after fold", got.ReferenceETag, etag)
	got2, err := s.GetMerge(ctx, f.c.ID, m2.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "other merge's undo after fold", got2.Undo, []byte("undo of m2"))
	eq(t, "other merge's ReferenceETag after fold", got2.ReferenceETag, etag)

	// A folded name that exists as an object cannot be reported deleted.
	want, wantMerges = snapshot(t, s, f.c), mergeState()
	_, err = s.FoldInto(ctx, &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: f.merged},
		store.Conditions{IfMatch: etag}, "other.vcf", m.ID, newUndo, []byte("x"))
	wantErr(t, "FoldInto an existing name", err, store.ErrPrecondition)
	eq(t, "state after refused fold", snapshot(t, s, f.c), want)
	eq(t, "merges after refused fold", mergeState(), wantMerges)

	// An undo decoded from the record the fold replaced would lose the
	// upload: it is refused, whether forced or not, and changes nothing.
	for _, force := range []bool{false, true} {
		want, wantMerges = snapshot(t, s, f.c), mergeState()
		wantErr(t, fmt.Sprintf("UndoMerge with the record before the fold (force %v)", force),
			s.UndoMerge(ctx, f.c.ID, m.ID, m.Undo, f.originals(), force), store.ErrPrecondition)
		eq(t, "state after refused undo", snapshot(t, s, f.c), want)
		eq(t, "merges after refused undo", mergeState(), wantMerges)
	}

	// The fold is no edit that undo must protect.
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, newUndo, f.originals(), false); err != nil {
		t.Fatalf("UndoMerge after fold: %v", err)
	}
	eq(t, "reference after undo", getData(t, s, f.c.ID, "a.vcf"), f.data["a.vcf"])

	// An undone merge cannot take a fold.
	want, wantMerges = snapshot(t, s, f.c), mergeState()
	_, err = s.FoldInto(ctx, &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: folded},
		store.Conditions{IfMatch: f.etags["a.vcf"]}, "zzz.vcf", m.ID, nil, []byte("x"))
	wantErr(t, "FoldInto an undone merge", err, store.ErrPrecondition)
	eq(t, "state after fold into undone", snapshot(t, s, f.c), want)
	eq(t, "merges after fold into undone", mergeState(), wantMerges)
}

// testFoldIntoUnnamed: a fold with no folded name (an import's: it made
// nothing under a name) records the survivor's change and no deletion,
// and counts the change of the undo record all the same.
func testFoldIntoUnnamed(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	before := syncSeq(t, s, f.c)
	folded := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-a\r\nFN:Ann Smith\r\nTEL:+33 1 23 45 67 89\r\nEND:VCARD\r\n")
	undo := []byte("a longer undo record, holding the imported card")
	if _, err := s.FoldInto(ctx, &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: folded},
		store.Conditions{IfMatch: store.ETag(f.merged)}, "", m.ID, f.write().Undo, undo); err != nil {
		t.Fatalf("FoldInto without a folded name: %v", err)
	}
	eq(t, "SyncSeq after an unnamed fold", syncSeq(t, s, f.c), before+1)
	cs, _, _ := changes(t, s, f.c.ID, before, 0, false)
	eq(t, "changes after an unnamed fold", changeMap(cs), map[string]string{"a.vcf": "changed"})
	got, err := s.GetMerge(ctx, f.c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "undo after an unnamed fold", got.Undo, undo)
	u, err := s.Usage(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "usage after an unnamed fold", u.Used, Recount(t, s, "u"))
}

// testMergeUndoEdited: undo refuses to drop an edit of the reference made
// after the merge, unless forced.
func testMergeUndoEdited(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		what     string
		edit     func(t *testing.T, s store.Store, coll int64)
		survivor string // what b.vcf lives on in meanwhile
	}{
		{"edited", func(t *testing.T, s store.Store, coll int64) { put(t, s, coll, "a.vcf", "uid-a", "Ann Smith (edited)") }, "a.vcf"},
		{"deleted", func(t *testing.T, s store.Store, coll int64) {
			if err := s.DeleteObject(ctx, coll, "a.vcf", store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		t.Run(tc.what, func(t *testing.T) {
			f := newMergeFixtureIn(t, s, book(t, s, "u", "book-"+tc.what))
			m, err := s.ApplyMerge(ctx, f.write())
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(t, s, f.c.ID)
			want := snapshot(t, s, f.c)
			wantErr(t, "UndoMerge", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false), store.ErrPrecondition)
			eq(t, "state after refused undo", snapshot(t, s, f.c), want)
			eq(t, "MergedInto after refused undo", mergedInto(t, s, f.c.ID, "b.vcf", ""), tc.survivor)
			got, err := s.GetMerge(ctx, f.c.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "Undone after refused undo", got.Undone.IsZero(), true)

			if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), true); err != nil {
				t.Fatalf("forced UndoMerge: %v", err)
			}
			for _, n := range []string{"a.vcf", "b.vcf", "c.vcf", "g.vcf"} {
				eq(t, n+" after forced undo", getData(t, s, f.c.ID, n), f.data[n])
			}
			eq(t, "MergedInto after forced undo", mergedInto(t, s, f.c.ID, "b.vcf", ""), "")
			got, err = s.GetMerge(ctx, f.c.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			recent(t, "Undone after forced undo", got.Undone)
		})
	}
}

func testHiddenGroups(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	other := mkColl(t, s, "u", store.KindCard, "other")
	got, err := s.HiddenGroups(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "HiddenGroups empty", len(got), 0)
	for _, uids := range [][]string{{"z", "b", "m"}, {"m", "z", "b"}, {"x", "y"}, {"b", "m", "z", "b"}} {
		if err := s.HideGroup(ctx, c.ID, uids); err != nil {
			t.Fatalf("HideGroup(%v): %v", uids, err)
		}
	}
	got, err = s.HiddenGroups(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return strings.Join(got[i], ",") < strings.Join(got[j], ",") })
	eq(t, "HiddenGroups", got, [][]string{{"b", "m", "z"}, {"x", "y"}})
	got, err = s.HiddenGroups(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "HiddenGroups of another collection", len(got), 0)
	wantErr(t, "HideGroup in missing collection", s.HideGroup(ctx, c.ID+1000, []string{"a", "b"}), store.ErrNotFound)
	_, err = s.HiddenGroups(ctx, c.ID+1000)
	wantErr(t, "HiddenGroups of missing collection", err, store.ErrNotFound)
}

// testMergeBatch: the batch of a merge ("merge all") comes back from
// ApplyMerge, GetMerge and ListMerges, also once undone; a merge on its
// own has none.
func testMergeBatch(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	w := f.write()
	w.Batch = "batch-1"
	m, err := s.ApplyMerge(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ApplyMerge batch", m.Batch, "batch-1")
	ref, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	dEtag := put(t, s, f.c.ID, "d.vcf", "uid-d", "Ann S")
	alone, err := s.ApplyMerge(ctx, &store.MergeWrite{
		Collection:    f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ann Smith 2")},
		ReferenceETag: ref.ETag,
		Removed:       []store.Removed{{Name: "d.vcf", UID: "uid-d", ETag: dEtag}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ApplyMerge without batch", alone.Batch, "")
	got, err := s.GetMerge(ctx, f.c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "GetMerge batch", got.Batch, "batch-1")
	batches := func() map[int64]string {
		t.Helper()
		list, err := s.ListMerges(ctx, f.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		for _, x := range list {
			out[x.ID] = x.Batch
		}
		return out
	}
	eq(t, "ListMerges batches", batches(), map[int64]string{m.ID: "batch-1", alone.ID: ""})
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, m.Undo, f.originals(), true); err != nil {
		t.Fatal(err)
	}
	eq(t, "ListMerges batches after undo", batches(), map[int64]string{m.ID: "batch-1", alone.ID: ""})
}

// testUnhideGroup: unhiding takes the set in any order, forgets only
// that set of that collection, and an unknown set is ErrNotFound.
func testUnhideGroup(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	other := mkColl(t, s, "u", store.KindCard, "other")
	hidden := func(coll int64) [][]string {
		t.Helper()
		got, err := s.HiddenGroups(ctx, coll)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, h := range []struct {
		coll int64
		uids []string
	}{{c.ID, []string{"z", "b", "m"}}, {c.ID, []string{"x", "y"}}, {other.ID, []string{"b", "m", "z"}}} {
		if err := s.HideGroup(ctx, h.coll, h.uids); err != nil {
			t.Fatalf("HideGroup(%v): %v", h.uids, err)
		}
	}
	if err := s.UnhideGroup(ctx, c.ID, []string{"m", "z", "b"}); err != nil {
		t.Fatalf("UnhideGroup: %v", err)
	}
	eq(t, "HiddenGroups after unhide", hidden(c.ID), [][]string{{"x", "y"}})
	eq(t, "HiddenGroups of the other collection", hidden(other.ID), [][]string{{"b", "m", "z"}})
	wantErr(t, "UnhideGroup again", s.UnhideGroup(ctx, c.ID, []string{"b", "m", "z"}), store.ErrNotFound)
	wantErr(t, "UnhideGroup of a subset", s.UnhideGroup(ctx, c.ID, []string{"x"}), store.ErrNotFound)
	wantErr(t, "UnhideGroup of a superset", s.UnhideGroup(ctx, c.ID, []string{"x", "y", "z"}), store.ErrNotFound)
	wantErr(t, "UnhideGroup in a missing collection", s.UnhideGroup(ctx, c.ID+1000, []string{"x", "y"}), store.ErrNotFound)
	eq(t, "HiddenGroups after failed unhides", hidden(c.ID), [][]string{{"x", "y"}})
	// Hidden again after an unhide, it is listed again.
	if err := s.HideGroup(ctx, c.ID, []string{"b", "z", "m"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "HiddenGroups after hiding again", hidden(c.ID), [][]string{{"b", "m", "z"}, {"x", "y"}})
}

func testMergeCascade(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.HideGroup(ctx, f.c.ID, []string{"uid-a", "uid-o"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, f.c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetMerge(ctx, f.c.ID, m.ID)
	wantErr(t, "GetMerge after collection delete", err, store.ErrNotFound)
	_, err = s.ListMerges(ctx, f.c.ID)
	wantErr(t, "ListMerges after collection delete", err, store.ErrNotFound)
	_, _, err = s.MergedInto(ctx, f.c.ID, "b.vcf", "uid-b")
	wantErr(t, "MergedInto after collection delete", err, store.ErrNotFound)
	// The name re-created is a new, empty collection: nothing carries over.
	again := mkColl(t, s, "u", store.KindCard, "book")
	eq(t, "MergedInto in re-created collection", mergedInto(t, s, again.ID, "b.vcf", "uid-b"), "")
	list, err := s.ListMerges(ctx, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListMerges of re-created", len(list), 0)
	hidden, err := s.HiddenGroups(ctx, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "HiddenGroups of re-created", len(hidden), 0)
	// Deleting the user removes the rest.
	if _, err := s.ApplyMerge(ctx, newMergeFixtureIn(t, s, again).write()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ListMerges(ctx, again.ID)
	wantErr(t, "ListMerges after user delete", err, store.ErrNotFound)
}

// wantMergedAway checks that err is a *store.MergedAwayError naming
// survivor and merge, and no other refusal.
func wantMergedAway(t *testing.T, what string, err error, survivor string, merge int64) {
	t.Helper()
	var ma *store.MergedAwayError
	if !errors.As(err, &ma) {
		t.Fatalf("%s: got error %v, want a *store.MergedAwayError", what, err)
	}
	if ma.Survivor != survivor || ma.Merge != merge {
		t.Fatalf("%s: merged into %q by merge %d, want %q by %d", what, ma.Survivor, ma.Merge, survivor, merge)
	}
	if errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("%s: %v is also ErrPrecondition", what, err)
	}
}

// testMergedAwayWrites: no write brings back a merged-away name or UID;
// the store refuses it in the write itself, naming the survivor, and
// writes nothing. An undo frees them.
func testMergedAwayWrites(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	other := mkColl(t, s, "u", store.KindCard, "other")
	put(t, s, other.ID, "c.vcf", "uid-c", "C elsewhere")
	put(t, s, other.ID, "x.vcf", "uid-x", "X")
	want, wantOther := snapshot(t, s, f.c), snapshot(t, s, other)
	card := func(name, uid string) *store.Object {
		return &store.Object{Collection: f.c.ID, Name: name, UID: uid, Data: vcard(uid, "Back again")}
	}
	for _, tc := range []struct {
		what string
		o    *store.Object
		cond store.Conditions
	}{
		{"merged-away name", card("b.vcf", "uid-new"), store.Conditions{}},
		{"merged-away name, its UID", card("b.vcf", "uid-b"), store.Conditions{}},
		{"merged-away name, If-None-Match", card("c.vcf", "uid-c"), store.Conditions{IfNoneMatch: true}},
		{"merged-away name, stale If-Match", card("b.vcf", "uid-b"), store.Conditions{IfMatch: f.etags["b.vcf"]}},
		{"merged-away UID", card("new.vcf", "uid-b"), store.Conditions{IfNoneMatch: true}},
		{"merged-away UID given to an existing card", card("other.vcf", "uid-c"), store.Conditions{}},
	} {
		_, _, err := s.PutObject(ctx, tc.o, tc.cond)
		wantMergedAway(t, "PutObject of a "+tc.what, err, "a.vcf", m.ID)
		eq(t, "state after PutObject of a "+tc.what, snapshot(t, s, f.c), want)
	}
	_, err = s.MoveObject(ctx, f.c.ID, "other.vcf", f.c.ID, "b.vcf", false, store.Conditions{})
	wantMergedAway(t, "MoveObject onto a merged-away name", err, "a.vcf", m.ID)
	_, err = s.MoveObject(ctx, other.ID, "c.vcf", f.c.ID, "c2.vcf", false, store.Conditions{})
	wantMergedAway(t, "MoveObject of a merged-away UID into the book", err, "a.vcf", m.ID)
	eq(t, "state after refused moves", snapshot(t, s, f.c), want)
	eq(t, "other book after refused moves", snapshot(t, s, other), wantOther)

	// What was not merged away is written as usual: the survivor, the
	// other cards, new ones, and the same names in another book.
	put(t, s, f.c.ID, "a.vcf", "uid-a", "Ann Smith (edited)")
	put(t, s, f.c.ID, "other.vcf", "uid-o", "Bob (edited)")
	put(t, s, f.c.ID, "new.vcf", "uid-new", "New")
	put(t, s, other.ID, "b.vcf", "uid-b", "B elsewhere")
	if _, err := s.MoveObject(ctx, other.ID, "x.vcf", f.c.ID, "x.vcf", false, store.Conditions{}); err != nil {
		t.Fatalf("MoveObject of a card never merged: %v", err)
	}

	// A survivor merged away in turn: the refusal names the end of the chain.
	ea := store.ETag(vcard("uid-a", "Ann Smith (edited)"))
	en := store.ETag(vcard("uid-new", "New"))
	m2, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "new.vcf", UID: "uid-new", Data: vcard("uid-new", "Ann, all of her")},
		ReferenceETag: en,
		Removed:       []store.Removed{{Name: "a.vcf", UID: "uid-a", ETag: ea}}})
	if err != nil {
		t.Fatal(err)
	}
	want = snapshot(t, s, f.c)
	_, _, err = s.PutObject(ctx, card("b.vcf", "uid-b"), store.Conditions{})
	wantMergedAway(t, "PutObject of a name merged into a card merged away since", err, "new.vcf", m.ID)
	_, _, err = s.PutObject(ctx, card("a.vcf", "uid-a"), store.Conditions{})
	wantMergedAway(t, "PutObject of the first survivor", err, "new.vcf", m2.ID)
	eq(t, "state after refused chain", snapshot(t, s, f.c), want)

	// Undone, the merges free their names and UIDs.
	if err := s.UndoMerge(ctx, f.c.ID, m2.ID, undoOf(t, s, f.c.ID, m2.ID), []store.Object{
		{Collection: f.c.ID, Name: "new.vcf", UID: "uid-new", Data: vcard("uid-new", "New")},
		{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ann Smith (edited)")},
	}, false); err != nil {
		t.Fatalf("UndoMerge of the second merge: %v", err)
	}
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), true); err != nil {
		t.Fatalf("UndoMerge: %v", err)
	}
	for _, n := range []string{"b.vcf", "c.vcf"} {
		if err := s.DeleteObject(ctx, f.c.ID, n, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, f.c.ID, "b.vcf", "uid-b2", "B again")
	put(t, s, f.c.ID, "c-new.vcf", "uid-c", "C again")
}

// testMergedAwaySurvivorGone: a merged-away name or UID lives on in its
// survivor only while that card is there, under its name with its UID.
// Deleted, renamed or turned into another card, it no longer holds them
// (else they would be refused for ever, or folded into a stranger); a
// chain of merges counts its last survivor. A card back under the name
// with the UID holds them again.
func testMergedAwaySurvivorGone(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		what string
		gone func(t *testing.T, s store.Store, coll int64)
	}{
		{"deleted", func(t *testing.T, s store.Store, coll int64) {
			if err := s.DeleteObject(ctx, coll, "a.vcf", store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"renamed", func(t *testing.T, s store.Store, coll int64) {
			if _, err := s.MoveObject(ctx, coll, "a.vcf", coll, "a-renamed.vcf", false, store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"another card under its name", func(t *testing.T, s store.Store, coll int64) {
			if err := s.DeleteObject(ctx, coll, "a.vcf", store.Conditions{}); err != nil {
				t.Fatal(err)
			}
			put(t, s, coll, "a.vcf", "uid-stranger", "Stranger")
		}},
		{"its UID changed", func(t *testing.T, s store.Store, coll int64) {
			put(t, s, coll, "a.vcf", "uid-a2", "Ann with another UID")
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			f := newMergeFixtureIn(t, s, book(t, s, "u", "book-"+strings.ReplaceAll(tc.what, " ", "-")))
			m, err := s.ApplyMerge(ctx, f.write())
			if err != nil {
				t.Fatal(err)
			}
			tc.gone(t, s, f.c.ID)
			for _, q := range [][2]string{{"b.vcf", ""}, {"", "uid-b"}, {"c.vcf", "uid-c"}} {
				eq(t, fmt.Sprintf("MergedInto(%q, %q) with the survivor %s", q[0], q[1], tc.what), mergedInto(t, s, f.c.ID, q[0], q[1]), "")
			}
			put(t, s, f.c.ID, "b.vcf", "uid-b", "B back")
			put(t, s, f.c.ID, "elsewhere.vcf", "uid-c", "C back")
			if _, err := s.MoveObject(ctx, f.c.ID, "elsewhere.vcf", f.c.ID, "c.vcf", false, store.Conditions{}); err != nil {
				t.Fatalf("MoveObject onto c.vcf with the survivor %s: %v", tc.what, err)
			}
			// The merge is still in effect: its undo needs force, and then
			// finds its cards' names taken.
			want := snapshot(t, s, f.c)
			wantErr(t, "UndoMerge", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), true), store.ErrPrecondition)
			eq(t, "state after refused undo", snapshot(t, s, f.c), want)
		})
	}

	// The survivor back under its name with its UID takes its merged-away
	// names and UIDs back.
	f := newMergeFixtureIn(t, s, book(t, s, "u", "book-back"))
	m, err := s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, f.c.ID, "a.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	put(t, s, f.c.ID, "a.vcf", "uid-a", "Ann again")
	_, _, err = s.PutObject(ctx, &store.Object{Collection: f.c.ID, Name: "b.vcf", UID: "uid-b", Data: vcard("uid-b", "B")}, store.Conditions{})
	wantMergedAway(t, "PutObject of a merged-away card with its survivor back", err, "a.vcf", m.ID)

	// A chain: b into a, a into n, n deleted: both b and a are free.
	ea := store.ETag(vcard("uid-a", "Ann again"))
	en := put(t, s, f.c.ID, "n.vcf", "uid-n", "N")
	if _, err := s.ApplyMerge(ctx, &store.MergeWrite{Collection: f.c.ID,
		Reference:     &store.Object{Collection: f.c.ID, Name: "n.vcf", UID: "uid-n", Data: vcard("uid-n", "All of Ann")},
		ReferenceETag: en,
		Removed:       []store.Removed{{Name: "a.vcf", UID: "uid-a", ETag: ea}}}); err != nil {
		t.Fatal(err)
	}
	eq(t, "MergedInto of the chain's first card", mergedInto(t, s, f.c.ID, "b.vcf", "uid-b"), "n.vcf")
	if err := s.DeleteObject(ctx, f.c.ID, "n.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	for _, q := range [][2]string{{"b.vcf", "uid-b"}, {"a.vcf", "uid-a"}} {
		eq(t, fmt.Sprintf("MergedInto(%q, %q) with the chain's survivor deleted", q[0], q[1]), mergedInto(t, s, f.c.ID, q[0], q[1]), "")
	}
	put(t, s, f.c.ID, "b.vcf", "uid-b", "B back")
	put(t, s, f.c.ID, "a.vcf", "uid-a", "A back")
}
