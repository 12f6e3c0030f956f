package merges_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

var ctx = context.Background()

const (
	a1 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a1\r\nFN:Ann Müller\r\nTEL;TYPE=CELL:+49 151 2345678\r\nEMAIL:ann@example.org\r\nEND:VCARD\r\n"
	a2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a2\r\nFN:Ann Müller\r\nTEL:+49 151 2345678\r\nTEL;TYPE=WORK:+49 30 999\r\nEND:VCARD\r\n"
)

// mergedBook is a book where a1.vcf was merged into a2.vcf.
func mergedBook(t *testing.T) (store.Store, *store.Collection, *store.Merge) {
	t.Helper()
	st, c := newBook(t, nil)
	etags := map[string]string{}
	for uid, data := range map[string]string{"a1": a1, "a2": a2} {
		_, etag, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: uid + ".vcf", UID: uid, Data: []byte(data)}, store.Conditions{})
		if err != nil {
			t.Fatal(err)
		}
		etags[uid] = etag
	}
	merged, undo, err := dedup.Merge(dedup.Card{UID: "a2", Data: []byte(a2)}, []dedup.Card{{UID: "a1", Data: []byte(a1)}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := json.Marshal(undo)
	m, err := st.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: "a2.vcf", UID: "a2", Data: merged},
		ReferenceETag: etags["a2"],
		Removed:       []store.Removed{{Name: "a1.vcf", UID: "a1", ETag: etags["a1"]}},
		Undo:          u})
	if err != nil {
		t.Fatal(err)
	}
	return st, c, m
}

// put writes a card as a client would and folds the store's refusal.
func putFolded(t *testing.T, st store.Store, c *store.Collection, name, data string, origin merges.Origin) *merges.Folded {
	t.Helper()
	o := &store.Object{Collection: c.ID, Name: name, UID: "a1", Data: []byte(data)}
	_, _, err := st.PutObject(ctx, o, store.Conditions{IfNoneMatch: true})
	var away *store.MergedAwayError
	if !errors.As(err, &away) {
		t.Fatalf("PutObject(%s): %v, want a *store.MergedAwayError", name, err)
	}
	f, err := merges.Fold(ctx, st, c, away, o, origin, time.Now())
	if err != nil {
		t.Fatalf("Fold(%s): %v", name, err)
	}
	if f.Survivor != "a2.vcf" {
		t.Fatalf("folded into %q", f.Survivor)
	}
	return f
}

// state is the survivor, the sync token and the merge's undo record of
// the other card.
func state(t *testing.T, st store.Store, c *store.Collection, m *store.Merge) (*store.Object, int64, string) {
	t.Helper()
	s, err := st.GetObject(ctx, c.ID, "a2.vcf")
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.GetCollection(ctx, c.Owner, c.Kind, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetMerge(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var u dedup.Undo
	if err := json.Unmarshal(got.Undo, &u); err != nil {
		t.Fatal(err)
	}
	return s, g.SyncSeq, string(u.Others[0].Data)
}

// A card that adds nothing leaves the survivor as it was: an import writes
// nothing at all, an upload only the deletion its client must sync.
func TestFoldNothingNew(t *testing.T) {
	st, c, m := mergedBook(t)
	s0, seq0, _ := state(t, st, c, m)
	if f := putFolded(t, st, c, "a1.vcf", a1, merges.Imported); f.Changed {
		t.Error("the same card changed the survivor")
	}
	if s, seq, _ := state(t, st, c, m); s.ETag != s0.ETag || seq != seq0 {
		t.Fatalf("an import of the same card wrote: seq %d, was %d; survivor:\n%s", seq, seq0, s.Data)
	}

	// Less than the card had: the survivor keeps all, the undo record
	// takes the card as it came.
	less := strings.Replace(a1, "EMAIL:ann@example.org\r\n", "", 1)
	if f := putFolded(t, st, c, "a1.vcf", less, merges.Imported); f.Changed {
		t.Error("a card with less changed the survivor")
	}
	s, _, undo := state(t, st, c, m)
	if s.ETag != s0.ETag || undo != less {
		t.Fatalf("survivor ETag %s (was %s), undo record %q", s.ETag, s0.ETag, undo)
	}

	_, seq1, _ := state(t, st, c, m)
	if f := putFolded(t, st, c, "a1.vcf", less, merges.Uploaded); f.Changed {
		t.Error("an upload of nothing new changed the survivor")
	}
	s, _, _ = state(t, st, c, m)
	if s.ETag != s0.ETag || string(s.Data) != string(s0.Data) {
		t.Fatalf("an upload of nothing new rewrote the survivor:\n%s", s.Data)
	}
	deleted := false
	if _, _, err := st.ChangesSince(ctx, c.ID, seq1, 0, false, func(ch *store.Change) error {
		deleted = deleted || ch.Name == "a1.vcf" && ch.Deleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !deleted {
		t.Error("the uploader's next sync does not drop a1.vcf")
	}
}

// A card that adds something changes the survivor, whoever sent it, and
// the merge's undo needs no force after it.
func TestFoldAddsToSurvivor(t *testing.T) {
	for _, origin := range []merges.Origin{merges.Uploaded, merges.Imported} {
		st, c, m := mergedBook(t)
		s0, _, _ := state(t, st, c, m)
		edited := strings.Replace(a1, "END:VCARD", "TEL;TYPE=HOME:+49 30 1111\r\nEND:VCARD", 1)
		if f := putFolded(t, st, c, "other-name.vcf", edited, origin); !f.Changed || f.Merge != m.ID {
			t.Errorf("origin %d: %+v", origin, f)
		}
		s, _, undo := state(t, st, c, m)
		if s.ETag == s0.ETag || !strings.Contains(string(s.Data), "+49 30 1111") || undo != edited {
			t.Fatalf("origin %d: survivor\n%s\nundo record %q", origin, s.Data, undo)
		}
		if got, err := st.GetMerge(ctx, c.ID, m.ID); err != nil || got.ReferenceETag != s.ETag {
			t.Errorf("origin %d: the merge protects %v, not the folded survivor %s: an undo would need force", origin, got, s.ETag)
		}
	}
}

// interleaved is a store whose first FoldInto lets another write run
// first, as a concurrent request would between Fold's reads and its write.
type interleaved struct {
	store.Store
	before func()
}

func (s *interleaved) FoldInto(ctx context.Context, survivor *store.Object, cond store.Conditions, foldedName string, merge int64, prevUndo, undo []byte) (string, error) {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.FoldInto(ctx, survivor, cond, foldedName, merge, prevUndo, undo)
}

// Two folds at once of different cards of one merge, neither changing
// the survivor: the undo record keeps both cards as they came.
func TestFoldConcurrentKeepsBothInUndo(t *testing.T) {
	a3 := strings.NewReplacer("UID:a1", "UID:a3", "ann@example.org", "ann@example.net").Replace(a1)
	st, c, m := mergedBookOf(t, a1, a3)
	less := func(card string) string { return strings.Replace(card, "TEL;TYPE=CELL:+49 151 2345678\r\n", "", 1) }
	fold := func(st store.Store, name, data string) {
		t.Helper()
		o := &store.Object{Collection: c.ID, Name: name, UID: uidOf(data), Data: []byte(data)}
		_, _, err := st.PutObject(ctx, o, store.Conditions{})
		var away *store.MergedAwayError
		if !errors.As(err, &away) {
			t.Fatalf("PutObject(%s): %v", name, err)
		}
		if _, err := merges.Fold(ctx, st, c, away, o, merges.Uploaded, time.Now()); err != nil {
			t.Fatalf("Fold(%s): %v", name, err)
		}
	}
	s0, err := st.GetObject(ctx, c.ID, "a2.vcf")
	if err != nil {
		t.Fatal(err)
	}
	racy := &interleaved{Store: st, before: func() { fold(st, "a3.vcf", less(a3)) }}
	fold(racy, "a1.vcf", less(a1))

	if s, _ := st.GetObject(ctx, c.ID, "a2.vcf"); s.ETag != s0.ETag {
		t.Fatalf("the folds changed the survivor:\n%s", s.Data)
	}
	got, err := st.GetMerge(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var u dedup.Undo
	if err := json.Unmarshal(got.Undo, &u); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{less(a1), less(a3)} {
		if string(u.Others[i].Data) != want {
			t.Errorf("undo record of %s:\n%s\nwant\n%s", u.Others[i].UID, u.Others[i].Data, want)
		}
	}
}

// mergedBookOf is a book where a1.vcf and the other given cards (named by
// their UIDs) were merged into a2.vcf, in that order.
func mergedBookOf(t *testing.T, others ...string) (store.Store, *store.Collection, *store.Merge) {
	t.Helper()
	st, c := newBook(t, nil)
	w := &store.MergeWrite{Collection: c.ID}
	var away []dedup.Card
	for _, data := range append([]string{a2}, others...) {
		o := &store.Object{Collection: c.ID, Name: uidOf(data) + ".vcf", UID: uidOf(data), Data: []byte(data)}
		_, etag, err := st.PutObject(ctx, o, store.Conditions{})
		if err != nil {
			t.Fatal(err)
		}
		if o.UID == "a2" {
			w.ReferenceETag = etag
			continue
		}
		away = append(away, dedup.Card{UID: o.UID, Data: o.Data})
		w.Removed = append(w.Removed, store.Removed{Name: o.Name, UID: o.UID, ETag: etag})
	}
	merged, undo, err := dedup.Merge(dedup.Card{UID: "a2", Data: []byte(a2)}, away, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Reference = &store.Object{Collection: c.ID, Name: "a2.vcf", UID: "a2", Data: merged}
	if w.Undo, err = json.Marshal(undo); err != nil {
		t.Fatal(err)
	}
	m, err := st.ApplyMerge(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	return st, c, m
}

// foldFirst is a store whose first UndoMerge lets a fold run first, as a
// client's re-upload between Undo's reads and its write would.
type foldFirst struct {
	store.Store
	before func()
}

func (s *foldFirst) UndoMerge(ctx context.Context, coll, id int64, undo []byte, originals []store.Object, force bool) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.UndoMerge(ctx, coll, id, undo, originals, force)
}

// An undo prepared before a fold is not applied with the record the fold
// replaced: Undo starts again, and the card comes back as the client last
// uploaded it.
func TestUndoAfterAConcurrentFold(t *testing.T) {
	st, c, m := mergedBook(t)
	edited := strings.Replace(a1, "END:VCARD", "TEL;TYPE=HOME:+49 30 1111\r\nEND:VCARD", 1)
	wrapped := &foldFirst{Store: st, before: func() { putFolded(t, st, c, "a1.vcf", edited, merges.Uploaded) }}
	if err := merges.Undo(ctx, wrapped, c, m.ID, false); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	if wrapped.before != nil {
		t.Fatal("the fold did not run")
	}
	got, err := st.GetObject(ctx, c.ID, "a1.vcf")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != edited {
		t.Fatalf("a1.vcf after undo:\n%s\nwant the upload:\n%s", got.Data, edited)
	}
	if s, err := st.GetObject(ctx, c.ID, "a2.vcf"); err != nil || string(s.Data) != a2 {
		t.Fatalf("a2.vcf after undo: %v\n%s", err, s.Data)
	}
}
