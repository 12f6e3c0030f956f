package merges_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newBook opens a real SQLite store in a temporary directory with one
// address book of ann's, holding cards (name without ".vcf" → data).
func newBook(t *testing.T, cards map[string]string) (store.Store, *store.Collection) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "contacts"}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for name, data := range cards {
		put(t, st, c, name, data)
	}
	return st, c
}

func put(t *testing.T, st store.Store, c *store.Collection, name, data string) {
	t.Helper()
	uid := uidOf(data)
	if _, _, err := st.PutObject(context.Background(), &store.Object{Collection: c.ID, Name: name + ".vcf", UID: uid, Data: []byte(data)}, store.Conditions{}); err != nil {
		t.Fatalf("putting %s: %v", name, err)
	}
}

func uidOf(card string) string {
	for _, l := range strings.Split(card, "\r\n") {
		if u, ok := strings.CutPrefix(l, "UID:"); ok {
			return u
		}
	}
	return ""
}

// person is a card that any matcher takes for its twin: the same name,
// phone, e-mail and birthday, told apart only by UID (and note).
func person(uid, given, family, tel, note string) string {
	s := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:" + given + " " + family + "\r\nN:" + family + ";" + given + ";;;\r\n" +
		"TEL;VALUE=uri:tel:" + tel + "\r\nEMAIL:" + strings.ToLower(given+"."+family) + "@example.org\r\nBDAY:19800401\r\n"
	if note != "" {
		s += "NOTE:" + note + "\r\n"
	}
	return s + "END:VCARD\r\n"
}

// groupCard is a vCard 4 group card listing members by urn:uuid.
func groupCard(uid string, members ...string) string {
	s := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nKIND:group\r\nFN:Team " + uid + "\r\n"
	for _, m := range members {
		s += "MEMBER:urn:uuid:" + m + "\r\n"
	}
	return s + "END:VCARD\r\n"
}

// appleGroup is an Apple-style group card (vCard 3).
func appleGroup(uid string, members ...string) string {
	s := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nFN:Club " + uid + "\r\n"
	for _, m := range members {
		s += "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:" + m + "\r\n"
	}
	return s + "END:VCARD\r\n"
}

func get(t *testing.T, st store.Store, c *store.Collection, name string) *store.Object {
	t.Helper()
	o, err := st.GetObject(context.Background(), c.ID, name+".vcf")
	if err != nil {
		return nil
	}
	return o
}

// members lists the member UIDs of a group card, in order.
func members(t *testing.T, st store.Store, c *store.Collection, name string) []string {
	t.Helper()
	o := get(t, st, c, name)
	if o == nil {
		t.Fatalf("group card %s is gone", name)
	}
	var out []string
	for _, l := range strings.Split(string(o.Data), "\r\n") {
		if _, v, ok := strings.Cut(l, "MEMBER:"); ok {
			out = append(out, strings.TrimPrefix(v, "urn:uuid:"))
		}
	}
	return out
}

// threeGroupsOneTeam are three pairs of duplicates (Ann, Bob, Dan), each
// listed in the group card "team" by one card and in the Apple group card
// "club" by the other, and Carl alone. The second card of each pair holds
// more, so it is the default reference.
func threeGroupsOneTeam() map[string]string {
	return map[string]string{
		"ann-1": person("ann-1", "Ann", "Miller", "+4915112345678", ""),
		"ann-2": person("ann-2", "Ann", "Miller", "+4915112345678", "second"),
		"bob-1": person("bob-1", "Bob", "Stone", "+12125550100", ""),
		"bob-2": person("bob-2", "Bob", "Stone", "+12125550100", "second"),
		"dan-1": person("dan-1", "Dan", "Okafor", "+442079460000", ""),
		"dan-2": person("dan-2", "Dan", "Okafor", "+442079460000", "second"),
		"carl":  person("carl", "Carl", "Weiss", "+33612345678", ""),
		"team":  groupCard("team", "ann-1", "carl", "bob-1", "dan-1"),
		"club":  appleGroup("club", "bob-2", "ann-2", "dan-1", "ann-1"),
	}
}

func load(t *testing.T, st store.Store, c *store.Collection) *merges.Book {
	t.Helper()
	b, err := merges.Load(context.Background(), st, c, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// groupOf returns the ID of the proposed group holding uid.
func groupOf(t *testing.T, b *merges.Book, uid string) dedup.Group {
	t.Helper()
	for _, g := range b.Groups() {
		if slices.Contains(g.UIDs, uid) {
			return g
		}
	}
	t.Fatalf("%s is in no group: %+v", uid, b.Groups())
	return dedup.Group{}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The defect of issue 11: the first merge rewrote the group card, and the
// second failed on its stale ETag ("group team.vcf changed").
func TestMergeAutoGroupsSharingGroupCards(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	b := load(t, st, c)
	out, err := b.MergeAuto(ctx, "", now, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("%d auto groups merged, want 3: %+v", len(out), out)
	}
	for _, o := range out {
		if o.Skipped != nil || o.Merge == nil || o.Survivor == nil {
			t.Errorf("group %v: skipped %v", o.Group.UIDs, o.Skipped)
		}
	}
	for _, gone := range []string{"ann-1", "bob-1", "dan-1"} {
		if get(t, st, c, gone) != nil {
			t.Errorf("%s was not merged away", gone)
		}
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"ann-2", "carl", "bob-2", "dan-2"}) {
		t.Errorf("team lists %v", m)
	}
	if m := members(t, st, c, "club"); !slices.Equal(m, []string{"bob-2", "ann-2", "dan-2"}) {
		t.Errorf("club lists %v", m)
	}
	if len(b.Groups()) != 0 || b.Cards() != 6 {
		t.Errorf("after merging everything the book has %d cards and groups %+v", b.Cards(), b.Groups())
	}
}

// Two merges asked one after the other in the same Book: the second sees
// the group card the first rewrote.
func TestMergeTwiceInOneBook(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	b := load(t, st, c)
	ann, bob := groupOf(t, b, "ann-1"), groupOf(t, b, "bob-1")
	annVersion, bobVersion := b.Version(ann), b.Version(bob)
	if _, err := b.Merge(ctx, merges.Request{Group: ann.ID, Version: annVersion, Reference: "ann-2"}, now); err != nil {
		t.Fatal(err)
	}
	// The group card is not a card of Bob's group: his version holds.
	if b.Version(bob) != bobVersion {
		t.Error("merging Ann's cards changed the version of Bob's group")
	}
	o, err := b.Merge(ctx, merges.Request{Group: bob.ID, Version: bobVersion}, now)
	if err != nil {
		t.Fatalf("second merge: %v", err)
	}
	if o.Survivor.UID != "bob-2" || !strings.Contains(string(o.Survivor.Data), "UID:bob-2") || o.Merge.Reference != "bob-2.vcf" {
		t.Errorf("survivor %+v", o.Survivor)
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"ann-2", "carl", "bob-2", "dan-1"}) {
		t.Errorf("team lists %v", m)
	}
	if _, err := b.Merge(ctx, merges.Request{Group: ann.ID}, now); !errors.Is(err, merges.ErrNoGroup) {
		t.Errorf("merging a merged group again: %v", err)
	}
}

// A group whose card another client changed after Load is skipped with its
// reason; the groups before and after it are merged.
func TestMergeAutoSkipsGroupChangedUnderneath(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	b := load(t, st, c)
	var order []string
	for _, g := range b.Groups() {
		order = append(order, g.UIDs[0])
	}
	if len(order) != 3 {
		t.Fatalf("groups %+v", b.Groups())
	}
	// The middle group's first card is edited by a phone.
	mid := groupOf(t, b, order[1])
	o := b.Card(mid.UIDs[0])
	if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: o.Name, UID: o.UID,
		Data: []byte(strings.Replace(string(o.Data), "END:VCARD", "NOTE:edited on the phone\r\nEND:VCARD", 1))}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	out, err := b.MergeAuto(ctx, "", now, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("%d outcomes", len(out))
	}
	for i, o := range out {
		if i == 1 {
			if !errors.Is(o.Skipped, merges.ErrGroupChanged) || o.Merge != nil {
				t.Errorf("the changed group: %+v", o)
			}
			continue
		}
		if o.Skipped != nil || o.Merge == nil {
			t.Errorf("group %d: %v", i, o.Skipped)
		}
	}
	if get(t, st, c, strings.TrimSuffix(b.Card(mid.UIDs[0]).Name, ".vcf")) == nil {
		t.Error("a card of the skipped group is gone")
	}
	// The book holds the edit now: a second run merges the group.
	out, err = b.MergeAuto(ctx, "", now, false)
	if err != nil || len(out) != 1 || out[0].Merge == nil {
		t.Errorf("second run: %v %+v", err, out)
	}
}

// mergeAll merges Ann's, Bob's and Dan's groups one by one, each into its
// second card, and returns the merge IDs by person.
func mergeAll(t *testing.T, st store.Store, c *store.Collection) map[string]int64 {
	t.Helper()
	b := load(t, st, c)
	ids := map[string]int64{}
	for _, who := range []string{"ann", "bob", "dan"} {
		g := groupOf(t, b, who+"-1")
		o, err := b.Merge(context.Background(), merges.Request{Group: g.ID, Version: b.Version(g), Reference: who + "-2"}, now)
		if err != nil {
			t.Fatalf("merging %s: %v", who, err)
		}
		ids[who] = o.Merge.ID
	}
	return ids
}

// memberSet is what a group card should list when the people in merged
// are merged: their first card stands for both.
func memberSet(orig []string, merged map[string]bool) []string {
	var out []string
	for _, m := range orig {
		who, _, _ := strings.Cut(m, "-")
		if merged[who] {
			m = who + "-2"
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// A chain of three merges that each rewrite both group cards, undone in
// every order: each undo brings its cards back byte for byte and its
// members back into the group cards, keeping what the other merges did.
func TestUndoThreeMergesInAnyOrder(t *testing.T) {
	ctx := context.Background()
	orig := threeGroupsOneTeam()
	teamOrig := []string{"ann-1", "carl", "bob-1", "dan-1"}
	clubOrig := []string{"bob-2", "ann-2", "dan-1", "ann-1"}
	for _, order := range [][]string{
		{"ann", "bob", "dan"}, {"ann", "dan", "bob"}, {"bob", "ann", "dan"},
		{"bob", "dan", "ann"}, {"dan", "ann", "bob"}, {"dan", "bob", "ann"},
	} {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			st, c := newBook(t, orig)
			ids := mergeAll(t, st, c)
			merged := map[string]bool{"ann": true, "bob": true, "dan": true}
			for _, who := range order {
				if err := merges.Undo(ctx, st, c, ids[who], false); err != nil {
					t.Fatalf("undo %s: %v", who, err)
				}
				merged[who] = false
				for _, n := range []string{who + "-1", who + "-2"} {
					if o := get(t, st, c, n); o == nil || string(o.Data) != orig[n] {
						t.Errorf("after undo %s, %s is not the original: %v", who, n, o)
					}
				}
				if m := members(t, st, c, "team"); !sameSet(m, memberSet(teamOrig, merged)) {
					t.Errorf("after undo %s, team lists %v, want %v", who, m, memberSet(teamOrig, merged))
				}
				if m := members(t, st, c, "club"); !sameSet(m, memberSet(clubOrig, merged)) {
					t.Errorf("after undo %s, club lists %v, want %v", who, m, memberSet(clubOrig, merged))
				}
			}
			// Everything undone: the book is as it was, the group card
			// whose members each stood on a line of their own included.
			for name, data := range orig {
				if name == "club" {
					continue
				}
				if o := get(t, st, c, name); o == nil || string(o.Data) != data {
					t.Errorf("%s is not the original after all undos:\n%v", name, o)
				}
			}
			if err := merges.Undo(ctx, st, c, ids[order[0]], false); !errors.Is(err, merges.ErrAlreadyUndone) {
				t.Errorf("a second undo: %v", err)
			}
		})
	}
}

// A merge into a card that a later merge took away cannot be undone
// before the later one, forced or not; in the right order both undo.
func TestUndoThroughALaterMerge(t *testing.T) {
	ctx := context.Background()
	orig := map[string]string{
		"ann-1": person("ann-1", "Ann", "Miller", "+4915112345678", ""),
		"ann-2": person("ann-2", "Ann", "Miller", "+4915112345678", "second"),
		"carl":  person("carl", "Carl", "Weiss", "+33612345678", ""),
		"team":  groupCard("team", "carl", "ann-1"),
	}
	st, c := newBook(t, orig)
	b := load(t, st, c)
	first, err := b.Merge(ctx, merges.Request{Group: groupOf(t, b, "ann-1").ID, Reference: "ann-2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	afterFirst := string(get(t, st, c, "ann-2").Data)
	put(t, st, c, "ann-3", person("ann-3", "Ann", "Miller", "+4915112345678", "third, the newest"))
	b = load(t, st, c)
	second, err := b.Merge(ctx, merges.Request{Group: groupOf(t, b, "ann-3").ID, Reference: "ann-3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"carl", "ann-3"}) {
		t.Fatalf("team after two merges: %v", m)
	}
	for _, force := range []bool{false, true} {
		var later *merges.MergedSinceError
		if err := merges.Undo(ctx, st, c, first.Merge.ID, force); !errors.As(err, &later) || later.Merge != second.Merge.ID {
			t.Errorf("undo of the first merge (force %v) before the second: %v", force, err)
		}
	}
	if get(t, st, c, "ann-1") != nil {
		t.Fatal("a refused undo brought a card back")
	}
	if err := merges.Undo(ctx, st, c, second.Merge.ID, false); err != nil {
		t.Fatal(err)
	}
	if o := get(t, st, c, "ann-2"); o == nil || string(o.Data) != afterFirst {
		t.Errorf("undo of the second merge: ann-2 is not as the first merge left it: %v", o)
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"carl", "ann-2"}) {
		t.Errorf("team after undoing the second merge: %v", m)
	}
	if err := merges.Undo(ctx, st, c, first.Merge.ID, false); err != nil {
		t.Fatal(err)
	}
	for name, data := range orig {
		if o := get(t, st, c, name); o == nil || string(o.Data) != data {
			t.Errorf("%s is not the original after both undos: %v", name, o)
		}
	}
}

// An edit of the survivor after the merge makes undo refuse, as undo
// would drop it; forced, it undoes and gives the group card its members back.
func TestUndoAfterAnEditOfTheSurvivor(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	ids := mergeAll(t, st, c)
	ann := get(t, st, c, "ann-2")
	put(t, st, c, "ann-2", strings.Replace(string(ann.Data), "END:VCARD", "TITLE:typed after the merge\r\nEND:VCARD", 1))
	if err := merges.Undo(ctx, st, c, ids["ann"], false); !errors.Is(err, merges.ErrReferenceChanged) {
		t.Fatalf("undo after an edit: %v", err)
	}
	if get(t, st, c, "ann-1") != nil || !strings.Contains(string(get(t, st, c, "ann-2").Data), "typed after") {
		t.Fatal("a refused undo changed the book")
	}
	if err := merges.Undo(ctx, st, c, ids["ann"], true); err != nil {
		t.Fatal(err)
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"ann-1", "carl", "bob-2", "dan-2"}) {
		t.Errorf("team after a forced undo: %v", m)
	}
}

// A group card edited after the merge keeps its edit through the undo: only
// the line standing for the merged cards changes.
func TestUndoKeepsLaterEditsOfAGroupCard(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	ids := mergeAll(t, st, c)
	put(t, st, c, "team", groupCard("team", "bob-2", "ann-2", "newcomer"))
	put(t, st, c, "club", appleGroup("club", "bob-2", "dan-2")) // Ann taken out
	if err := merges.Undo(ctx, st, c, ids["ann"], false); err != nil {
		t.Fatal(err)
	}
	if m := members(t, st, c, "team"); !slices.Equal(m, []string{"bob-2", "ann-1", "newcomer"}) {
		t.Errorf("team: %v", m)
	}
	if m := members(t, st, c, "club"); !slices.Equal(m, []string{"bob-2", "dan-2"}) {
		t.Errorf("club, which no longer listed Ann, got %v", m)
	}
}

// The input of a merge is checked before anything is written.
func TestMergeRequestRefusals(t *testing.T) {
	ctx := context.Background()
	orig := map[string]string{
		"jo-1": strings.Replace(person("jo-1", "Jo", "Park", "+12125550101", ""), "END:", "ORG:Acme\r\nEND:", 1),
		"jo-2": strings.Replace(person("jo-2", "Jo", "Park", "+12125550101", "second"), "END:", "ORG:Globex\r\nEND:", 1),
		"carl": person("carl", "Carl", "Weiss", "+33612345678", ""),
	}
	st, c := newBook(t, orig)
	b := load(t, st, c)
	g := groupOf(t, b, "jo-1")
	v := b.Version(g)
	for _, tc := range []struct {
		name string
		req  merges.Request
		want error
	}{
		{"stale version", merges.Request{Group: g.ID, Version: "0123", Reference: "jo-2"}, merges.ErrGroupChanged},
		{"unknown group", merges.Request{Group: "feed", Version: v}, merges.ErrNoGroup},
		{"reference not in group", merges.Request{Group: g.ID, Version: v, Reference: "carl"}, merges.ErrNotInGroup},
		{"no such conflict", merges.Request{Group: g.ID, Version: v, Reference: "jo-2", Choices: []merges.Choice{{Field: "TITLE", Keep: 0}}}, merges.ErrBadChoice},
		{"out of range", merges.Request{Group: g.ID, Version: v, Reference: "jo-2", Choices: []merges.Choice{{Field: "ORG", Keep: 1}}}, merges.ErrBadChoice},
		{"below keep", merges.Request{Group: g.ID, Version: v, Reference: "jo-2", Choices: []merges.Choice{{Field: "ORG", Keep: -2}}}, merges.ErrBadChoice},
		{"twice", merges.Request{Group: g.ID, Version: v, Reference: "jo-2", Choices: []merges.Choice{{Field: "ORG", Keep: 0}, {Field: "ORG", Keep: -1}}}, merges.ErrBadChoice},
	} {
		if _, err := b.Merge(ctx, tc.req, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for name, data := range orig {
		if o := get(t, st, c, name); o == nil || string(o.Data) != data {
			t.Fatalf("a refused merge changed %s", name)
		}
	}
	o, err := b.Merge(ctx, merges.Request{Group: g.ID, Version: v, Reference: "jo-2", Choices: []merges.Choice{{Field: "ORG", Keep: 0}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(o.Survivor.Data); !strings.Contains(s, "ORG:Acme") || strings.Contains(s, "Globex") || !strings.Contains(s, "UID:jo-2") {
		t.Errorf("the chosen ORG was not kept:\n%s", s)
	}
}

// A survivor deleted since its merge holds nothing merged any more, but
// the merge stays undoable: unforced, undo refuses (it would bring back
// the cards the deletion took away); forced, it restores them unless a
// card is back under one of their names. Through a later merge whose
// survivor was deleted, the later merge is still undone first.
func TestUndoAfterTheSurvivorWasDeleted(t *testing.T) {
	ctx := context.Background()
	ann1, ann2 := person("ann-1", "Ann", "Miller", "+4915112345678", ""), person("ann-2", "Ann", "Miller", "+4915112345678", "second")
	st, c := newBook(t, map[string]string{"ann-1": ann1, "ann-2": ann2})
	b := load(t, st, c)
	first, err := b.Merge(ctx, merges.Request{Group: groupOf(t, b, "ann-1").ID, Reference: "ann-2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, c, "ann-3", person("ann-3", "Ann", "Miller", "+4915112345678", "third"))
	b = load(t, st, c)
	second, err := b.Merge(ctx, merges.Request{Group: groupOf(t, b, "ann-3").ID, Reference: "ann-3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteObject(ctx, c.ID, "ann-3.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	var later *merges.MergedSinceError
	if err := merges.Undo(ctx, st, c, first.Merge.ID, true); !errors.As(err, &later) || later.Merge != second.Merge.ID {
		t.Fatalf("undo of the first merge before the second: %v", err)
	}
	if err := merges.Undo(ctx, st, c, second.Merge.ID, false); !errors.Is(err, merges.ErrReferenceChanged) {
		t.Fatalf("unforced undo with the survivor deleted: %v", err)
	}
	if get(t, st, c, "ann-2") != nil || get(t, st, c, "ann-3") != nil {
		t.Fatal("a refused undo brought a card back")
	}
	if err := merges.Undo(ctx, st, c, second.Merge.ID, true); err != nil {
		t.Fatal(err)
	}
	// ann-1 comes back on its own while the first merge's survivor is
	// deleted: then that merge cannot be undone.
	if err := st.DeleteObject(ctx, c.ID, "ann-2.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	put(t, st, c, "ann-1", ann1)
	if err := merges.Undo(ctx, st, c, first.Merge.ID, true); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("undo with a merged card back: %v", err)
	}
	if get(t, st, c, "ann-2") != nil {
		t.Fatal("a refused undo brought ann-2 back")
	}
}

// failing is a store whose merges find their cards changed and whose
// reads of cards then fail.
type failing struct {
	store.Store
	read error
}

func (s *failing) ApplyMerge(context.Context, *store.MergeWrite) (*store.Merge, error) {
	return nil, store.ErrPrecondition
}

func (s *failing) GetObjects(context.Context, int64, []string, bool) ([]store.Object, error) {
	return nil, s.read
}

// A merge that finds its cards changed and then cannot read them again
// says which group it was merging.
func TestMergeRefreshFailureNamesTheGroup(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	broken := &failing{Store: st, read: errors.New("disk unreadable")}
	b, err := merges.Load(ctx, broken, c, "")
	if err != nil {
		t.Fatal(err)
	}
	g := groupOf(t, b, "ann-1")
	_, err = b.Merge(ctx, merges.Request{Group: g.ID}, now)
	if !errors.Is(err, broken.read) || !strings.Contains(err.Error(), g.ID) {
		t.Fatalf("merge of group %s: %v", g.ID, err)
	}
}
