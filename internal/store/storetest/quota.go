package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// quota is QuotaPerUser of the stores the Quota* tests open.
const quota = 4096

func usage(t *testing.T, s store.Store, login string) store.Usage {
	t.Helper()
	u, err := s.Usage(ctx, login)
	if err != nil {
		t.Fatalf("Usage(%s): %v", login, err)
	}
	return u
}

func used(t *testing.T, s store.Store, login string) int64 {
	t.Helper()
	return usage(t, s, login).Used
}

// Recount is login's usage computed from what the store holds, by the
// rules of store.ObjectUsage, store.CollectionUsage and store.MergeUsage:
// what a driver's stored usage must equal.
func Recount(t *testing.T, s store.Store, login string) int64 {
	t.Helper()
	cs, err := s.ListCollections(ctx, login, "")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i := range cs {
		n += store.CollectionUsage(&cs[i])
		err := s.ListObjects(ctx, cs[i].ID, false, func(o *store.Object) error {
			n += store.ObjectUsage(o.Name, o.Size)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.ListMerges(ctx, cs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		for j := range ms {
			n += store.MergeUsage(&ms[j])
		}
	}
	return n
}

// stored is what login's objects and merge records hold: data, undo data
// and names, without the overheads.
func stored(t *testing.T, s store.Store, login string) int64 {
	t.Helper()
	cs, err := s.ListCollections(ctx, login, "")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i := range cs {
		err := s.ListObjects(ctx, cs[i].ID, false, func(o *store.Object) error {
			n += o.Size + int64(len(o.Name))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.ListMerges(ctx, cs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		for j := range ms {
			n += store.MergeUsage(&ms[j]) - store.MergeOverhead
		}
	}
	return n
}

// consistent fails unless the usage the store keeps is what it holds.
func consistent(t *testing.T, s store.Store, what string, logins ...string) {
	t.Helper()
	for _, l := range logins {
		if got, want := used(t, s, l), Recount(t, s, l); got != want {
			t.Fatalf("%s: usage of %s is %d, its data counts %d", what, l, got, want)
		}
	}
}

// putSized writes name with data of exactly size bytes; the store does not
// parse data, so the bytes need not be a card.
func putSized(s store.Store, coll int64, name string, size int, fill byte, cond store.Conditions) error {
	_, _, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: name,
		Data: bytes.Repeat([]byte{fill}, size)}, cond)
	return err
}

// fillTo puts name with the size that brings login's usage to exactly
// target.
func fillTo(t *testing.T, s store.Store, login string, coll int64, name string, target int64) {
	t.Helper()
	size := target - used(t, s, login) - store.ObjectUsage(name, 0)
	if size < 0 {
		t.Fatalf("fillTo(%s, %d): %d bytes too many already", name, target, -size)
	}
	if err := putSized(s, coll, name, int(size), 'p', store.Conditions{}); err != nil {
		t.Fatalf("fillTo(%s, %d): %v", name, target, err)
	}
	eq(t, "usage after filling with "+name, used(t, s, login), target)
}

func wantQuota(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, store.ErrQuotaExceeded)
	if errors.Is(err, store.ErrPrecondition) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: %v is also another sentinel", what, err)
	}
}

func testUsage(t *testing.T, s store.Store) {
	_, err := s.Usage(ctx, "nobody")
	wantErr(t, "Usage of an unknown login", err, store.ErrNotFound)
	mkUser(t, s, "u")
	mkUser(t, s, "v")
	eq(t, "usage of a new user", usage(t, s, "u"), store.Usage{})

	c := mkColl(t, s, "u", store.KindCard, "book") // display name "BOOK"
	want := int64(len("book") + len("BOOK") + store.CollectionOverhead)
	eq(t, "usage after CreateCollection", used(t, s, "u"), want)

	card := vcard("uid-a", "Ann")
	put(t, s, c.ID, "a.vcf", "uid-a", "Ann")
	want += int64(len(card)+len("a.vcf")) + store.ObjectOverhead
	eq(t, "usage after a new object", used(t, s, "u"), want)

	// Names count in bytes, not characters.
	name := "é€.vcf"
	put(t, s, c.ID, name, "uid-e", "Ann")
	want += int64(len(card)+len(name)) + store.ObjectOverhead
	eq(t, "usage after a new object with a non-ASCII name", used(t, s, "u"), want)

	put(t, s, c.ID, "a.vcf", "uid-a", "Ann Smith")
	want += int64(len("Ann Smith") - len("Ann"))
	eq(t, "usage after a bigger replacement", used(t, s, "u"), want)

	err = s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error {
		c.Description = "desc"
		c.Props = map[string]string{"{urn:x}p": "<x:v>1</x:v>"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want += int64(len("desc") + len("{urn:x}p") + len("<x:v>1</x:v>"))
	eq(t, "usage after UpdateCollection", used(t, s, "u"), want)
	eq(t, "usage of another user", used(t, s, "v"), int64(0))
	consistent(t, s, "after writes", "u", "v")

	if err := s.DeleteObject(ctx, c.ID, name, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	want -= int64(len(card)+len(name)) + store.ObjectOverhead
	eq(t, "usage after DeleteObject", used(t, s, "u"), want)

	cal := &store.Collection{Owner: "u", Kind: store.KindCal, Name: "cal", Components: []string{"VEVENT", "VTODO"},
		Timezone: "Europe/Paris", Color: "#FF0000"}
	if err := s.CreateCollection(ctx, cal); err != nil {
		t.Fatal(err)
	}
	want += int64(len("cal")+len("VEVENT,VTODO")+len("Europe/Paris")+len("#FF0000")) + store.CollectionOverhead
	eq(t, "usage after a calendar", used(t, s, "u"), want)
	consistent(t, s, "after the calendar", "u")

	// Deleting a collection gives back what it and its objects counted.
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, cal.ID); err != nil {
		t.Fatal(err)
	}
	eq(t, "usage after deleting every collection", usage(t, s, "u"), store.Usage{})
}

// Usage stays what the data counts through any mix of writes, refused ones
// included.
func testUsageMatchesData(t *testing.T, s store.Store) {
	mkUser(t, s, "u")
	mkUser(t, s, "v")
	colls := []*store.Collection{mkColl(t, s, "u", store.KindCard, "one"), mkColl(t, s, "u", store.KindCard, "two"),
		mkColl(t, s, "v", store.KindCard, "three")}
	names := []string{"a.vcf", "bb.vcf", "ccc.vcf", "é.vcf", "日本.vcf"}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		c := colls[rng.IntN(len(colls))]
		name := names[rng.IntN(len(names))]
		switch rng.IntN(6) {
		case 0, 1:
			uid := fmt.Sprintf("u%d", rng.IntN(7)) // sometimes conflicts
			s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: uid, Data: make([]byte, rng.IntN(400))},
				store.Conditions{IfNoneMatch: rng.IntN(3) == 0})
		case 2:
			s.DeleteObject(ctx, c.ID, name, store.Conditions{})
		case 3:
			to := colls[rng.IntN(2)] // u's collections; v's would be another owner
			if c.Owner == "u" {
				s.MoveObject(ctx, c.ID, name, to.ID, names[rng.IntN(len(names))], rng.IntN(2) == 0, store.Conditions{})
			}
		case 4:
			s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error {
				c.DisplayName = string(make([]byte, rng.IntN(50)))
				if rng.IntN(2) == 0 {
					c.Props = map[string]string{}
				}
				c.Props[fmt.Sprintf("{urn:x}p%d", rng.IntN(3))] = string(make([]byte, rng.IntN(200)))
				if rng.IntN(5) == 0 {
					return errors.New("abort")
				}
				return nil
			})
		case 5:
			tmp := &store.Collection{Owner: c.Owner, Kind: store.KindCal, Name: "tmp", Description: "temporary"}
			if err := s.CreateCollection(ctx, tmp); err == nil {
				put(t, s, tmp.ID, "t.ics", "t", "x")
				if rng.IntN(2) == 0 {
					if err := s.DeleteCollection(ctx, tmp.ID); err != nil {
						t.Fatal(err)
					}
				}
			} else if got, err := s.GetCollection(ctx, c.Owner, store.KindCal, "tmp"); err == nil {
				if err := s.DeleteCollection(ctx, got.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		consistent(t, s, fmt.Sprintf("after %d writes", i+1), "u", "v")
	}

	// Merges, undo and folds; a merge record counts its undo data, names
	// and overhead.
	f := newMergeFixtureIn(t, s, mkColl(t, s, "u", store.KindCard, "dups"))
	before := used(t, s, "u")
	w := f.write()
	m, err := s.ApplyMerge(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	cards := int64(len(f.merged)-len(f.data["a.vcf"])) + int64(len(f.groupAfter)-len(f.data["g.vcf"])) -
		store.ObjectUsage("b.vcf", int64(len(f.data["b.vcf"]))) - store.ObjectUsage("c.vcf", int64(len(f.data["c.vcf"])))
	record := int64(len(w.Undo)+len("a.vcf")+len("b.vcf")+len("c.vcf")+len("g.vcf")) + store.MergeOverhead
	eq(t, "usage after ApplyMerge", used(t, s, "u"), before+cards+record)
	consistent(t, s, "after ApplyMerge", "u")
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false); err != nil {
		t.Fatal(err)
	}
	eq(t, "usage after UndoMerge", used(t, s, "u"), before+record-int64(len(w.Undo)))
	consistent(t, s, "after UndoMerge", "u")
	f = newMergeFixtureIn(t, s, mkColl(t, s, "u", store.KindCard, "dups2"))
	m, err = s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FoldInto(ctx, &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: f.merged},
		store.Conditions{}, "b.vcf", m.ID, f.write().Undo, bytes.Repeat([]byte("u"), 500)); err != nil {
		t.Fatal(err)
	}
	consistent(t, s, "after a FoldInto that grows the undo record", "u")
	ref, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	survivor := &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ann Smith with a longer name")}
	if _, err := s.FoldInto(ctx, survivor, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, bytes.Repeat([]byte("u"), 500), []byte("undo")); err != nil {
		t.Fatal(err)
	}
	consistent(t, s, "after FoldInto", "u")
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), true); err != nil {
		t.Fatal(err)
	}
	consistent(t, s, "after a forced UndoMerge", "u", "v")

	// Deleting a collection gives back its merge records, in effect or
	// undone.
	f = newMergeFixtureIn(t, s, mkColl(t, s, "u", store.KindCard, "dups3"))
	if _, err := s.ApplyMerge(ctx, f.write()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dups", "dups2", "dups3"} {
		c, err := s.GetCollection(ctx, "u", store.KindCard, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCollection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		consistent(t, s, "after deleting "+name, "u", "v")
	}
}

// A write that raises usage above the quota is refused and changes
// nothing; at the limit, writes that keep or lower usage still succeed.
func testQuota(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	other := book(t, s, "v", "book")
	eq(t, "Usage.Limit", usage(t, s, "u").Limit, int64(quota))

	// Up to the limit exactly: allowed.
	fillTo(t, s, "u", c.ID, "a.vcf", quota-300)
	fillTo(t, s, "u", c.ID, "b.vcf", quota)

	// One byte more: refused, and nothing changed.
	before, beforeUsage := snapshot(t, s, c), used(t, s, "u")
	wantQuota(t, "a new object at the limit", putSized(s, c.ID, "c.vcf", 0, 'c', store.Conditions{}))
	a, err := s.GetObject(ctx, c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	wantQuota(t, "a replacement one byte bigger", putSized(s, c.ID, "a.vcf", int(a.Size)+1, 'a', store.Conditions{}))
	eq(t, "objects after refused writes", snapshot(t, s, c), before)
	eq(t, "usage after refused writes", used(t, s, "u"), beforeUsage)

	// Another user has a quota of their own.
	if err := putSized(s, other.ID, "big.vcf", quota/2, 'v', store.Conditions{}); err != nil {
		t.Fatalf("another user's write: %v", err)
	}

	// Equal and smaller replacements, and deletions, pass at the limit.
	if err := putSized(s, c.ID, "a.vcf", int(a.Size), 'A', store.Conditions{IfMatch: a.ETag}); err != nil {
		t.Fatalf("a replacement of equal size at the limit: %v", err)
	}
	eq(t, "data of the equal replacement", getData(t, s, c.ID, "a.vcf")[0], byte('A'))
	if err := putSized(s, c.ID, "a.vcf", int(a.Size)-10, 'a', store.Conditions{}); err != nil {
		t.Fatalf("a smaller replacement at the limit: %v", err)
	}
	eq(t, "usage after the smaller replacement", used(t, s, "u"), int64(quota-10))
	if err := putSized(s, c.ID, "a.vcf", int(a.Size), 'a', store.Conditions{}); err != nil {
		t.Fatalf("growing back to the limit: %v", err)
	}
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil {
		t.Fatalf("DeleteObject at the limit: %v", err)
	}
	eq(t, "usage after DeleteObject", used(t, s, "u"), int64(quota-300))
	if err := putSized(s, c.ID, "c.vcf", 0, 'c', store.Conditions{}); err != nil {
		t.Fatalf("a new object once there is room: %v", err)
	}
	consistent(t, s, "end", "u", "v")
}

func testQuotaCollections(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	fillTo(t, s, "u", c.ID, "a.vcf", quota-100)
	want := getColl(t, s, c)

	setProp := func(v string) error {
		return s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error {
			c.Props["{urn:x}p"] = v
			return nil
		})
	}
	wantQuota(t, "a dead property beyond the quota", setProp(string(bytes.Repeat([]byte("x"), 100))))
	eq(t, "collection after the refused update", getColl(t, s, c), want)
	eq(t, "usage after the refused update", used(t, s, "u"), int64(quota-100))
	if err := setProp(string(bytes.Repeat([]byte("x"), 100-len("{urn:x}p")))); err != nil {
		t.Fatalf("a dead property that fills the quota: %v", err)
	}
	eq(t, "usage after filling with a property", used(t, s, "u"), int64(quota))

	wantQuota(t, "CreateCollection at the limit", s.CreateCollection(ctx, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "more"}))
	_, err := s.GetCollection(ctx, "u", store.KindCard, "more")
	wantErr(t, "the refused collection", err, store.ErrNotFound)

	// Renaming to a shorter display name and removing properties shrink.
	err = s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error {
		c.DisplayName = "B"
		delete(c.Props, "{urn:x}p")
		return nil
	})
	if err != nil {
		t.Fatalf("a shrinking update at the limit: %v", err)
	}
	consistent(t, s, "after the shrinking update", "u")
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	eq(t, "usage with no collection", used(t, s, "u"), int64(0))
}

func testQuotaMove(t *testing.T, s store.Store) {
	one := book(t, s, "u", "one")
	two := mkColl(t, s, "u", store.KindCard, "two")
	if err := putSized(s, one.ID, "x.vcf", 10, 'x', store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	if err := putSized(s, two.ID, "big.vcf", 100, 'b', store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	fillTo(t, s, "u", one.ID, "pad.vcf", quota)

	if _, err := s.MoveObject(ctx, one.ID, "x.vcf", two.ID, "y.vcf", false, store.Conditions{}); err != nil {
		t.Fatalf("a move that keeps usage, at the limit: %v", err)
	}
	before1, before2 := snapshot(t, s, one), snapshot(t, s, two)
	_, err := s.MoveObject(ctx, two.ID, "y.vcf", one.ID, "a-longer-name.vcf", false, store.Conditions{})
	wantQuota(t, "a move to a longer name at the limit", err)
	eq(t, "source after the refused move", snapshot(t, s, two), before2)
	eq(t, "target after the refused move", snapshot(t, s, one), before1)
	if _, err := s.MoveObject(ctx, two.ID, "y.vcf", two.ID, "big.vcf", true, store.Conditions{}); err != nil {
		t.Fatalf("a move over a bigger object, at the limit: %v", err)
	}
	eq(t, "usage after overwriting the bigger object", used(t, s, "u"),
		quota-store.ObjectUsage("big.vcf", 100)-store.ObjectUsage("y.vcf", 10)+store.ObjectUsage("big.vcf", 10))
	consistent(t, s, "end", "u")
}

// A merge stores its undo record: it needs room for it, less what the
// cards it removes give back. Undoing a merge gives the undo data back. A
// fold obeys the quota like the PUT it stands for, undo record included.
func testQuotaMerges(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	w := f.write()
	w.Undo = bytes.Repeat([]byte("u"), 1500) // more than the removed cards free
	base := used(t, s, "u")
	if _, err := s.ApplyMerge(ctx, w); err != nil {
		t.Fatal(err)
	}
	raise := used(t, s, "u") - base // what this merge costs, record included
	if raise <= 0 {
		t.Fatalf("the merge raised usage by %d", raise)
	}
	// Start again, one byte short of room for it.
	if err := s.DeleteCollection(ctx, f.c.ID); err != nil {
		t.Fatal(err)
	}
	f = newMergeFixture(t, s)
	w = f.write()
	w.Undo = bytes.Repeat([]byte("u"), 1500)
	fillTo(t, s, "u", f.c.ID, "pad.vcf", quota-raise+1)
	before := snapshot(t, s, f.c)
	_, err := s.ApplyMerge(ctx, w)
	wantQuota(t, "a merge whose undo record does not fit", err)
	eq(t, "objects after the refused merge", snapshot(t, s, f.c), before)
	eq(t, "usage after the refused merge", used(t, s, "u"), int64(quota-raise+1))
	if ms, err := s.ListMerges(ctx, f.c.ID); err != nil || len(ms) != 0 {
		t.Fatalf("merges after the refused merge: %v, %v", ms, err)
	}
	eq(t, "MergedInto after the refused merge", mergedInto(t, s, f.c.ID, "b.vcf", ""), "")
	if err := s.DeleteObject(ctx, f.c.ID, "pad.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	fillTo(t, s, "u", f.c.ID, "pad.vcf", quota-raise)
	m, err := s.ApplyMerge(ctx, w)
	if err != nil {
		t.Fatalf("a merge that fills the quota: %v", err)
	}
	eq(t, "usage after the merge", used(t, s, "u"), int64(quota))
	consistent(t, s, "after the merge", "u")

	// At the limit, the undo passes: it gives back more than it restores.
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false); err != nil {
		t.Fatalf("UndoMerge that gives back its undo data, at the limit: %v", err)
	}
	eq(t, "usage after the undo", used(t, s, "u"), quota-raise+store.MergeUsage(&store.Merge{
		Reference: "a.vcf", Removed: []string{"b.vcf", "c.vcf"}, Groups: []string{"g.vcf"}}))
	consistent(t, s, "after the undo", "u")

	// A merge with a small undo record frees space, and passes at the
	// limit; undoing it needs room for the originals.
	f.refresh(t, s)
	fillTo(t, s, "u", f.c.ID, "pad2.vcf", quota)
	m, err = s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatalf("a merge that frees space, at the limit: %v", err)
	}
	if freed := quota - used(t, s, "u"); freed <= 0 {
		t.Fatalf("the merge freed %d bytes", freed)
	}
	fillTo(t, s, "u", f.c.ID, "pad3.vcf", quota)
	before = snapshot(t, s, f.c)
	wantQuota(t, "UndoMerge beyond the quota", s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false))
	eq(t, "objects after the refused undo", snapshot(t, s, f.c), before)
	if got, err := s.GetMerge(ctx, f.c.ID, m.ID); err != nil || !got.Undone.IsZero() || len(got.Undo) == 0 {
		t.Fatalf("merge after the refused undo: %+v, %v", got, err)
	}
	eq(t, "MergedInto after the refused undo", mergedInto(t, s, f.c.ID, "b.vcf", ""), "a.vcf")
	// Undone, the merge stays listed and its record counts without its
	// undo data: the round trip needs room for that.
	for _, n := range []string{"pad2.vcf", "pad3.vcf"} {
		if err := s.DeleteObject(ctx, f.c.ID, n, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	before2 := used(t, s, "u")
	if err := s.UndoMerge(ctx, f.c.ID, m.ID, undoOf(t, s, f.c.ID, m.ID), f.originals(), false); err != nil {
		t.Fatalf("UndoMerge once there is room: %v", err)
	}
	eq(t, "usage after the second undo", used(t, s, "u"),
		before2-int64(len(f.merged)-len(f.data["a.vcf"]))-int64(len(f.groupAfter)-len(f.data["g.vcf"]))+
			store.ObjectUsage("b.vcf", int64(len(f.data["b.vcf"])))+store.ObjectUsage("c.vcf", int64(len(f.data["c.vcf"])))-
			int64(len(f.write().Undo)))
	consistent(t, s, "after the second undo", "u")

	// A fold that grows the survivor or the undo record: refused at the
	// limit; one that grows neither passes, one that shrinks the record
	// gives back.
	f.refresh(t, s)
	m, err = s.ApplyMerge(ctx, f.write())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.GetObject(ctx, f.c.ID, "a.vcf")
	if err != nil {
		t.Fatal(err)
	}
	fillTo(t, s, "u", f.c.ID, "pad3.vcf", quota)
	before = snapshot(t, s, f.c)
	undo := f.write().Undo
	bigger := &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: append(bytes.Clone(ref.Data), 'x')}
	_, err = s.FoldInto(ctx, bigger, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, undo, undo)
	wantQuota(t, "a FoldInto that grows the survivor, at the limit", err)
	same := &store.Object{Collection: f.c.ID, Name: "a.vcf", UID: "uid-a", Data: bytes.ToUpper(ref.Data)}
	_, err = s.FoldInto(ctx, same, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, undo, append(bytes.Clone(undo), 'x'))
	wantQuota(t, "a FoldInto that grows the undo record, at the limit", err)
	eq(t, "objects after the refused folds", snapshot(t, s, f.c), before)
	if got, err := s.GetMerge(ctx, f.c.ID, m.ID); err != nil || !bytes.Equal(got.Undo, undo) {
		t.Fatalf("merge after the refused folds: %+v, %v", got, err)
	}
	etag, err := s.FoldInto(ctx, same, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, undo, bytes.ToUpper(undo))
	if err != nil {
		t.Fatalf("a FoldInto of equal sizes at the limit: %v", err)
	}
	eq(t, "usage after the equal fold", used(t, s, "u"), int64(quota))
	if _, err := s.FoldInto(ctx, same, store.Conditions{IfMatch: etag}, "b.vcf", m.ID, bytes.ToUpper(undo), undo[:1]); err != nil {
		t.Fatalf("a FoldInto that shrinks the undo record: %v", err)
	}
	eq(t, "usage after the shrinking fold", used(t, s, "u"), int64(quota-len(undo)+1))
	consistent(t, s, "end", "u")
}

// refresh reads the ETags of the fixture's cards again, after an undo
// brought them back.
func (f *mergeFixture) refresh(t *testing.T, s store.Store) {
	t.Helper()
	for _, n := range []string{"a.vcf", "b.vcf", "c.vcf", "g.vcf"} {
		o, err := s.GetObject(ctx, f.c.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		f.etags[n] = o.ETag
	}
}

// "Import a duplicate, merge it, import again" stops at the quota: each
// merge keeps the originals in its undo record, and that counts.
func testQuotaMergeLoop(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	if err := putSized(s, c.ID, "a.vcf", 200, 'x', store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatalf("still importing and merging after %d rounds: usage %d, %d bytes stored", i, used(t, s, "u"), stored(t, s, "u"))
		}
		name := fmt.Sprintf("dup%d.vcf", i)
		err := putSized(s, c.ID, name, 200, 'x', store.Conditions{})
		if errors.Is(err, store.ErrQuotaExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ref, err := s.GetObject(ctx, c.ID, "a.vcf")
		if err != nil {
			t.Fatal(err)
		}
		dup, err := s.GetObject(ctx, c.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
			Reference: &store.Object{Collection: c.ID, Name: "a.vcf", UID: "a.vcf", Data: ref.Data}, ReferenceETag: ref.ETag,
			Removed: []store.Removed{{Name: name, UID: name, ETag: dup.ETag}},
			Undo:    append(bytes.Clone(ref.Data), dup.Data...)})
		if errors.Is(err, store.ErrQuotaExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := stored(t, s, "u"); n > quota {
			t.Fatalf("after %d rounds, %d bytes stored, beyond the quota of %d", i+1, n, quota)
		}
	}
	if u := used(t, s, "u"); u > quota {
		t.Fatalf("usage %d above the quota", u)
	}
	consistent(t, s, "end", "u")
}

// Writers racing for the last bytes: exactly as many as fit succeed.
func testQuotaConcurrent(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	const each = 300 // usage of one object
	room := quota - used(t, s, "u")
	fit := int(room / each)
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				name := fmt.Sprintf("w%d-%d.vcf", w, i) // all names of one length
				err := putSized(s, c.ID, name, int(each-store.ObjectUsage(name, 0)), 'w', store.Conditions{})
				mu.Lock()
				if err == nil {
					ok++
				} else if !errors.Is(err, store.ErrQuotaExceeded) {
					t.Errorf("PutObject(%s): %v", name, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if 8*4 <= fit {
		t.Fatalf("test needs more writers than fit (%d)", fit)
	}
	eq(t, "writes that succeeded", ok, fit)
	eq(t, "objects stored", len(listNames(t, s, c.ID)), fit)
	if u := used(t, s, "u"); u > quota {
		t.Fatalf("usage %d above the quota", u)
	}
	consistent(t, s, "end", "u")
}
