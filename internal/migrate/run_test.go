package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/testdb"
)

const destLogin = "bob@example.org"

// destStore is the store a migration writes into, with the user destLogin
// and their default collections.
func destStore(t *testing.T) store.Store {
	t.Helper()
	st := testdb.Open(t, filepath.Join(t.TempDir(), "dest.db"), store.Options{})
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: destLogin, PasswordHash: "x", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, destLogin); err != nil {
		t.Fatal(err)
	}
	return st
}

func runOpts(s *ourServer) Options {
	return Options{SourceOptions: SourceOptions{URL: s.URL, User: srcLogin, Password: srcPW, AllowPrivate: true}}
}

func migrateAll(t *testing.T, st store.Store, opt Options) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), st, destLogin, opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum
}

// result returns the result of the source collection named name.
func result(t *testing.T, sum *Summary, kind store.Kind, name string) *CollectionResult {
	t.Helper()
	for i := range sum.Collections {
		if c := &sum.Collections[i]; c.Source.Kind == kind && c.Source.Name == name {
			return c
		}
	}
	t.Fatalf("no result for %s %s in %+v", kind, name, sum.Collections)
	return nil
}

func counts4(r *CollectionResult) [4]int { return [4]int{r.Added, r.Updated, r.Skipped, r.Rejected} }

// objectData returns the data of the object name in destLogin's collection.
func objectData(t *testing.T, st store.Store, kind store.Kind, coll, name string) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := st.GetCollection(ctx, destLogin, kind, coll)
	if err != nil {
		t.Fatalf("collection %s: %v", coll, err)
	}
	o, err := st.GetObject(ctx, c.ID, name)
	if err != nil {
		t.Fatalf("%s/%s: %v", coll, name, err)
	}
	return o.Data
}

// A first run plans every source collection (defaults onto defaults, the
// others made with their properties) and brings every object byte for
// byte; a second adds nothing and fetches only changes; a third brings
// what changed at the source, and keeps what it deleted.
func TestRunBringsEverythingOnceAndThenOnlyChanges(t *testing.T) {
	s := seeded(t, nil)
	st := destStore(t)
	ctx := context.Background()

	sum := migrateAll(t, st, runOpts(s))
	wantPlan := map[string][2]string{ // source → destination, why
		"card/contacts": {"contacts", WhyDefault}, "card/friends": {"friends", WhyNew},
		"cal/calendar": {"calendar", WhyDefault}, "cal/tasks": {"tasks", WhyDefault},
		"cal/work": {"work", WhyNew}, "cal/todo": {"todo", WhyNew},
	}
	if len(sum.Collections) != len(wantPlan) {
		t.Fatalf("%d collections planned: %+v", len(sum.Collections), sum.Collections)
	}
	for _, c := range sum.Collections {
		w := wantPlan[string(c.Source.Kind)+"/"+c.Source.Name]
		if c.Dest.Name != w[0] || c.Why != w[1] || c.Dest.ID == 0 {
			t.Errorf("%s went to %q (%s, id %d), want %q (%s)", c.Source.Name, c.Dest.Name, c.Why, c.Dest.ID, w[0], w[1])
		}
	}
	friends, err := st.GetCollection(ctx, destLogin, store.KindCard, "friends")
	if err != nil || friends.DisplayName != "Friends & Family" || friends.Description != "people <I> know" || friends.Color != "#FF000080" {
		t.Errorf("friends made as %+v (%v)", friends, err)
	}
	todoColl, err := st.GetCollection(ctx, destLogin, store.KindCal, "todo")
	if err != nil || len(todoColl.Components) != 1 || todoColl.Components[0] != "VTODO" {
		t.Errorf("todo made as %+v (%v)", todoColl, err)
	}
	if r := result(t, sum, store.KindCard, "contacts"); counts4(r) != [4]int{2, 0, 0, 0} || r.Incremental {
		t.Errorf("contacts, first run: %+v", r.Result)
	}
	for _, o := range []struct {
		kind       store.Kind
		coll, name string
		data       string
	}{
		{store.KindCard, "contacts", "ann.vcf", card("ann", "Ann <Smith> & Co")},
		{store.KindCard, "friends", "c d.vcf", card("c d", "Cee Dee")},
		{store.KindCal, "work", "e1.ics", event("e1", "Meeting ]]> & more")},
		{store.KindCal, "todo", "t1.ics", todo("t1", "Buy milk")},
	} {
		if got := objectData(t, st, o.kind, o.coll, resourceNameOf(t, st, o.kind, o.coll, o.name)); !bytes.Equal(got, []byte(o.data)) {
			t.Errorf("%s/%s: %q, want %q", o.coll, o.name, got, o.data)
		}
	}

	seqs := func() map[string]int64 {
		out := map[string]int64{}
		for _, k := range []store.Kind{store.KindCard, store.KindCal} {
			cs, err := st.ListCollections(ctx, destLogin, k)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				out[c.Name] = c.SyncSeq
			}
		}
		return out
	}
	before := seqs()
	sum = migrateAll(t, st, runOpts(s))
	for _, c := range sum.Collections {
		if c.Objects != 0 || !c.Incremental || c.Why != WhyPrevious {
			t.Errorf("second run, %s: %d objects read, incremental %v, %s", c.Source.Name, c.Objects, c.Incremental, c.Why)
		}
	}
	if after := seqs(); !equalMaps(before, after) {
		t.Errorf("the second run changed collections: %v → %v", before, after)
	}

	s.put(s.path(store.KindCard, "contacts", "ann.vcf"), card("ann", "Ann Changed"))
	s.put(s.path(store.KindCard, "contacts", "new.vcf"), card("new", "Newcomer"))
	if code, _, _ := s.do("DELETE", s.path(store.KindCard, "contacts", "bob.vcf"), ""); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	sum = migrateAll(t, st, runOpts(s))
	r := result(t, sum, store.KindCard, "contacts")
	if counts4(r) != [4]int{1, 1, 0, 0} || r.DeletedAtSource != 1 || !r.Incremental {
		t.Errorf("third run, contacts: %+v, deleted %d, incremental %v", r.Result, r.DeletedAtSource, r.Incremental)
	}
	if got := objectData(t, st, store.KindCard, "contacts", "ann.vcf"); !bytes.Equal(got, []byte(card("ann", "Ann Changed"))) {
		t.Errorf("changed card: %q", got)
	}
	objectData(t, st, store.KindCard, "contacts", "bob.vcf") // kept here
}

// resourceNameOf finds the name the card or event with the source name's
// UID got here (names are made from UIDs, escaped where needed).
func resourceNameOf(t *testing.T, st store.Store, kind store.Kind, coll, srcName string) string {
	t.Helper()
	uid := strings.TrimSuffix(strings.TrimSuffix(srcName, ".vcf"), ".ics")
	c, err := st.GetCollection(context.Background(), destLogin, kind, coll)
	if err != nil {
		t.Fatal(err)
	}
	name := ""
	err = st.ListObjects(context.Background(), c.ID, false, func(o *store.Object) error {
		if o.UID == uid {
			name = o.Name
		}
		return nil
	})
	if err != nil || name == "" {
		t.Fatalf("no object with UID %q in %s (%v)", uid, coll, err)
	}
	return name
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// --map sends a source collection where it says, --only limits the kinds,
// --dry-run writes nothing, and a map naming no source collection is an
// error that names the ones there are.
func TestRunMapOnlyDryRun(t *testing.T) {
	s := seeded(t, nil)
	st := destStore(t)
	ctx := context.Background()

	opt := runOpts(s)
	opt.DryRun = true
	sum := migrateAll(t, st, opt)
	if r := result(t, sum, store.KindCard, "contacts"); r.DryRunCount != 2 || r.Added != 0 {
		t.Errorf("dry run, contacts: %+v", r)
	}
	if _, err := st.GetCollection(ctx, destLogin, store.KindCard, "friends"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the dry run made friends: %v", err)
	}
	if _, err := st.GetMigrationSource(ctx, destLogin, s.URL+s.path(store.KindCard, "contacts")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the dry run remembered a source: %v", err)
	}

	// The map wins: the source's default address book, whose destination
	// the map took, goes to a new one.
	opt = runOpts(s)
	opt.Map = map[string]string{"Friends & Family": "contacts"}
	sum = migrateAll(t, st, opt)
	if r := result(t, sum, store.KindCard, "friends"); r.Dest.Name != "contacts" || r.Why != WhyMap {
		t.Errorf("friends went to %s (%s)", r.Dest.Name, r.Why)
	}
	if r := result(t, sum, store.KindCard, "contacts"); r.Dest.Name != "contacts-2" || r.Why != WhyNew {
		t.Errorf("the source's contacts went to %s (%s)", r.Dest.Name, r.Why)
	}
	if c, _ := st.GetCollection(ctx, destLogin, store.KindCard, "contacts"); c.Count != 1 {
		t.Errorf("contacts holds %d cards after --map friends=contacts, want 1 (Cee Dee)", c.Count)
	}

	st2 := destStore(t)
	opt = runOpts(s)
	opt.Only = OnlyCalendars
	sum = migrateAll(t, st2, opt)
	for _, r := range sum.Collections {
		if r.Source.Kind != store.KindCal {
			t.Errorf("--only calendars brought %s", r.Source.Name)
		}
	}
	opt.Map = map[string]string{"nope": "x"}
	if _, err := Run(ctx, st2, destLogin, opt); err == nil || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "work") {
		t.Errorf("map of an unknown source collection: %v", err)
	}
}

// A card merged away here stays away when the source changes it: it is
// folded into its survivor.
func TestRunKeepsMergesAfterSourceChanges(t *testing.T) {
	s := seeded(t, nil)
	st := destStore(t)
	ctx := context.Background()
	migrateAll(t, st, runOpts(s))
	c, err := st.GetCollection(ctx, destLogin, store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	mergeHere(t, st, c, "ann.vcf", "bob.vcf")
	s.put(s.path(store.KindCard, "contacts", "bob.vcf"), "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob\r\nFN:Bob\r\nN:Bob;;;;\r\nEMAIL:bob@example.net\r\nEND:VCARD\r\n")
	sum := migrateAll(t, st, runOpts(s))
	r := result(t, sum, store.KindCard, "contacts")
	if r.Folded != 1 || r.Added != 0 {
		t.Errorf("after the merge: %+v", r.Result)
	}
	if _, err := st.GetObject(ctx, c.ID, "bob.vcf"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob came back: %v", err)
	}
	if got := objectData(t, st, store.KindCard, "contacts", "ann.vcf"); !bytes.Contains(got, []byte("bob@example.net")) {
		t.Errorf("the survivor did not take the source's change:\n%s", got)
	}
}

// The source's default calendar goes to the user's calendar even when it
// also takes tasks (Nextcloud's "personal" does); its tasks go to the
// user's task list, not rejected.
func TestRunRoutesTasksOfTheDefaultCalendar(t *testing.T) {
	s := seeded(t, nil)
	if code, _, b := s.do("DELETE", s.path(store.KindCal, "calendar"), ""); code != 204 {
		t.Fatalf("DELETE calendar: %d %s", code, b)
	}
	s.collection(store.Collection{Kind: store.KindCal, Name: "personal", DisplayName: "Personal",
		Components: []string{"VEVENT", "VTODO"}})
	s.put(s.path(store.KindCal, "personal", "p1.ics"), event("p1", "Dentist"))
	s.put(s.path(store.KindCal, "personal", "p2.ics"), todo("p2", "Call back"))
	st := destStore(t)
	sum := migrateAll(t, st, runOpts(s))
	r := result(t, sum, store.KindCal, "personal")
	if r.Dest.Name != "calendar" || r.Why != WhyDefault || counts4(r) != [4]int{2, 0, 0, 0} || r.Routed["tasks"] != 1 {
		t.Fatalf("personal: to %s (%s), %+v, routed %v", r.Dest.Name, r.Why, r.Result, r.Routed)
	}
	if got := objectData(t, st, store.KindCal, "tasks", "p2.ics"); !bytes.Equal(got, []byte(todo("p2", "Call back"))) {
		t.Errorf("routed task: %q", got)
	}
	objectData(t, st, store.KindCal, "calendar", "p1.ics")
	if mainComponent([]byte(todo("x", "y"))) != "VTODO" || mainComponent([]byte("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nBEGIN:STANDARD\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nbegin:vevent\r\nEND:VEVENT\r\nEND:VCALENDAR")) != "VEVENT" {
		t.Error("mainComponent")
	}
}

// mergeHere merges the card named away into the one named ref in
// collection c of the destination, as the duplicates pages do.
func mergeHere(t *testing.T, st store.Store, c *store.Collection, ref, away string) {
	t.Helper()
	ctx := context.Background()
	r, err := st.GetObject(ctx, c.ID, ref)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.GetObject(ctx, c.ID, away)
	if err != nil {
		t.Fatal(err)
	}
	merged, undo, err := dedup.Merge(dedup.Card{UID: r.UID, Data: r.Data}, []dedup.Card{{UID: a.UID, Data: a.Data}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := json.Marshal(undo)
	if _, err := st.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: r.Name, UID: r.UID, Data: merged},
		ReferenceETag: r.ETag, Removed: []store.Removed{{Name: a.Name, UID: a.UID, ETag: a.ETag}},
		Undo: u}); err != nil {
		t.Fatal(err)
	}
}
