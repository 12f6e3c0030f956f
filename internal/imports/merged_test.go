package imports_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// mergeInto merges the card named away into the one named ref as the
// duplicates pages do, and returns the merge.
func mergeInto(t *testing.T, st store.Store, c *store.Collection, ref, away string) *store.Merge {
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
	m, err := st.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: r.Name, UID: r.UID, Data: merged},
		ReferenceETag: r.ETag,
		Removed:       []store.Removed{{Name: a.Name, UID: a.UID, ETag: a.ETag}},
		Undo:          u})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// After a merge, an import folds what comes under the merged-away name or
// UID into the survivor, and a card with the survivor's UID only adds to
// it: nothing the merge brought is lost, nothing merged away comes back.
func TestRunAfterMerge(t *testing.T) {
	ctx := context.Background()
	st, c := newCollection(t, store.KindCard)
	file := card("a1", "Ann", "+49 30 1") + card("a2", "Ann", "+49 30 2")
	run(t, st, c, file, imports.Options{})
	m := mergeInto(t, st, c, "a2.vcf", "a1.vcf")
	survivor, err := st.GetObject(ctx, c.ID, "a2.vcf")
	if err != nil {
		t.Fatal(err)
	}
	seq := func() int64 {
		t.Helper()
		g, err := st.GetCollection(ctx, c.Owner, c.Kind, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		return g.SyncSeq
	}
	before := seq()

	res := run(t, st, c, file, imports.Options{})
	if counts(res) != [4]int{0, 0, 2, 0} || res.Folded != 0 || res.Absorbed != 0 {
		t.Fatalf("the same file again: %+v", res)
	}
	if got, _ := st.GetObject(ctx, c.ID, "a2.vcf"); got.ETag != survivor.ETag || seq() != before {
		t.Fatalf("the same file again wrote something: survivor %q, seq %d, was %d", got.Data, seq(), before)
	}
	if names := listNames(t, st, c.ID); strings.Join(names, ",") != "a2.vcf" {
		t.Fatalf("cards: %v", names)
	}

	// The survivor's own UID with a new phone: added to it, not replacing it.
	res = run(t, st, c, card("a2", "Ann", "+49 30 3"), imports.Options{})
	if counts(res) != [4]int{0, 0, 0, 0} || res.Folded != 0 || res.Absorbed != 1 {
		t.Fatalf("the survivor edited: %+v", res)
	}
	// The merged-away card edited.
	res = run(t, st, c, card("a1", "Ann", "+49 30 4"), imports.Options{})
	if counts(res) != [4]int{0, 0, 0, 0} || res.Folded != 1 {
		t.Fatalf("the merged-away card edited: %+v", res)
	}
	got, err := st.GetObject(ctx, c.ID, "a2.vcf")
	if err != nil {
		t.Fatal(err)
	}
	for _, tel := range []string{"+49 30 1", "+49 30 2", "+49 30 3", "+49 30 4"} {
		if !strings.Contains(string(got.Data), tel) {
			t.Errorf("the survivor lacks %s:\n%s", tel, got.Data)
		}
	}
	if names := listNames(t, st, c.ID); strings.Join(names, ",") != "a2.vcf" {
		t.Fatalf("cards: %v", names)
	}
	// The merge's undo record took the card as it came last.
	mm, err := st.GetMerge(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var u dedup.Undo
	if err := json.Unmarshal(mm.Undo, &u); err != nil || len(u.Others) != 1 || string(u.Others[0].Data) != card("a1", "Ann", "+49 30 4") {
		t.Errorf("undo record: %v %+v", err, u)
	}
}

// A survivor deleted since the merge, or another card under its name, no
// longer holds the cards merged into it: importing the file again brings
// them back as new cards, and the card that took the name is updated as
// any other.
func TestRunAfterSurvivorGone(t *testing.T) {
	ctx := context.Background()
	file := card("a1", "Ann", "+49 30 1") + card("a2", "Ann", "+49 30 2")
	for _, tc := range []struct {
		what     string
		stranger bool
	}{{"deleted", false}, {"another card under its name", true}} {
		t.Run(tc.what, func(t *testing.T) {
			st, c := newCollection(t, store.KindCard)
			run(t, st, c, file, imports.Options{})
			mergeInto(t, st, c, "a2.vcf", "a1.vcf")
			if err := st.DeleteObject(ctx, c.ID, "a2.vcf", store.Conditions{}); err != nil {
				t.Fatal(err)
			}
			again, want := file, [4]int{2, 0, 0, 0}
			if tc.stranger {
				if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: "a2.vcf", UID: "zed",
					Data: []byte(card("zed", "Zed", "+49 40 1"))}, store.Conditions{}); err != nil {
					t.Fatal(err)
				}
				again, want = card("a1", "Ann", "+49 30 1")+card("zed", "Zed", "+49 40 2"), [4]int{1, 1, 0, 0}
			}
			res, err := imports.Run(ctx, st, c, strings.NewReader(again), imports.Options{})
			if err != nil || counts(res) != want || res.Folded != 0 || res.Absorbed != 0 {
				t.Fatalf("import after the survivor was %s: %v %+v", tc.what, err, res)
			}
			if got, err := st.GetObject(ctx, c.ID, "a1.vcf"); err != nil || string(got.Data) != card("a1", "Ann", "+49 30 1") {
				t.Errorf("a1.vcf: %v %v", got, err)
			}
			if tc.stranger {
				if got, _ := st.GetObject(ctx, c.ID, "a2.vcf"); string(got.Data) != card("zed", "Zed", "+49 40 2") {
					t.Errorf("the card under the survivor's name was not replaced:\n%s", got.Data)
				}
			}
		})
	}
}

// A merged-away UID comes back in a file while the name the import would
// give it is another card's: it is folded all the same, and that card is
// left alone.
func TestRunFoldsWhereTheNameIsTaken(t *testing.T) {
	ctx := context.Background()
	st, c := newCollection(t, store.KindCard)
	for name, data := range map[string]string{"a.vcf": card("a", "Ann", "+49 30 1"), "foo.vcf": card("x", "Ann", "+49 30 2")} {
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: uidOf(data), Data: []byte(data)}, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	mergeInto(t, st, c, "a.vcf", "foo.vcf")
	stranger := card("zed", "Zed", "+49 40 1")
	if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: "x.vcf", UID: "zed", Data: []byte(stranger)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	res, err := imports.Run(ctx, st, c, strings.NewReader(card("x", "Ann", "+49 30 5")), imports.Options{})
	if err != nil || counts(res) != [4]int{0, 0, 0, 0} || res.Folded != 1 {
		t.Fatalf("import: %v %+v", err, res)
	}
	if got, _ := st.GetObject(ctx, c.ID, "a.vcf"); !strings.Contains(string(got.Data), "+49 30 5") {
		t.Errorf("the survivor did not take the card:\n%s", got.Data)
	}
	if got, _ := st.GetObject(ctx, c.ID, "x.vcf"); string(got.Data) != stranger {
		t.Errorf("x.vcf changed:\n%s", got.Data)
	}
}

func uidOf(card string) string {
	_, rest, _ := strings.Cut(card, "UID:")
	uid, _, _ := strings.Cut(rest, "\r\n")
	return uid
}
