package merges_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// Merge all makes one batch; UndoBatch undoes all of it, newest first,
// and the book is as before.
func TestUndoBatch(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	before := map[string]string{}
	for _, n := range []string{"ann-1", "ann-2", "bob-1", "bob-2", "dan-1", "dan-2", "carl", "team", "club"} {
		before[n] = string(get(t, st, c, n).Data)
	}
	// A merge of its own, before the batch, stays.
	b := load(t, st, c)
	dan := groupOf(t, b, "dan-1")
	single, err := b.Merge(ctx, merges.Request{Group: dan.ID}, now)
	if err != nil {
		t.Fatal(err)
	}
	batch := merges.NewBatch()
	out, err := b.MergeAuto(ctx, batch, now, false)
	if err != nil || len(out) != 2 {
		t.Fatalf("merge all: %v %+v", err, out)
	}
	ms, err := st.ListMerges(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var inBatch []int64
	batches := map[int64]string{}
	for _, m := range ms {
		batches[m.ID] = m.Batch
		if m.Batch == batch {
			inBatch = append(inBatch, m.ID)
		}
	}
	if len(inBatch) != 2 {
		t.Fatalf("%d merges carry the batch %s, want 2: batch by merge %v", len(inBatch), batch, batches)
	}
	undone, err := merges.UndoBatch(ctx, st, c, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(undone, inBatch) {
		t.Errorf("undid %v, want %v (newest first)", undone, inBatch)
	}
	for _, n := range []string{"ann-1", "ann-2", "bob-1", "bob-2"} {
		if o := get(t, st, c, n); o == nil || string(o.Data) != before[n] {
			t.Errorf("%s is not back as it was", n)
		}
	}
	if get(t, st, c, "dan-1") != nil {
		t.Error("the merge outside the batch was undone")
	}
	if m, _ := st.GetMerge(ctx, c.ID, single.Merge.ID); !m.Undone.IsZero() {
		t.Error("the merge outside the batch is marked undone")
	}
	if _, err := merges.UndoBatch(ctx, st, c, batch); !errors.Is(err, merges.ErrAlreadyUndone) {
		t.Errorf("undoing the batch again: %v", err)
	}
	for _, bad := range []string{"", merges.NewBatch()} {
		if _, err := merges.UndoBatch(ctx, st, c, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("undoing batch %q: %v", bad, err)
		}
	}
}

// A batch whose oldest merge's card was edited since: the newer merges
// are undone, then UndoBatch stops and says which it undid.
func TestUndoBatchStopsAtTheFirstRefusal(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	batch := merges.NewBatch()
	out, err := load(t, st, c).MergeAuto(ctx, batch, now, false)
	if err != nil || len(out) != 3 {
		t.Fatalf("merge all: %v %+v", err, out)
	}
	first := out[0].Survivor
	put(t, st, c, strings.TrimSuffix(first.Name, ".vcf"), strings.Replace(string(first.Data), "END:VCARD", "NOTE:edited\r\nEND:VCARD", 1))
	undone, err := merges.UndoBatch(ctx, st, c, batch)
	var be *merges.BatchUndoError
	if !errors.As(err, &be) || !errors.Is(err, merges.ErrReferenceChanged) {
		t.Fatalf("UndoBatch: %v", err)
	}
	want := []int64{out[2].Merge.ID, out[1].Merge.ID}
	if be.Merge != out[0].Merge.ID || !slices.Equal(be.Undone, want) || !slices.Equal(undone, want) {
		t.Errorf("stopped at %d having undone %v (returned %v); want %d after %v", be.Merge, be.Undone, undone, out[0].Merge.ID, want)
	}
	if m, _ := st.GetMerge(ctx, c.ID, out[0].Merge.ID); !m.Undone.IsZero() {
		t.Error("the refused merge is marked undone")
	}
}

// CardNames gives the names of the merged cards from the undo record,
// and nothing once the merge is undone.
func TestCardNames(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	b := load(t, st, c)
	ann := groupOf(t, b, "ann-1")
	o, err := b.Merge(ctx, merges.Request{Group: ann.ID, Reference: "ann-2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMerge(ctx, c.ID, o.Merge.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := merges.CardNames(m); !slices.Equal(got, []string{"Ann Miller", "Ann Miller"}) {
		t.Errorf("names %q", got)
	}
	if err := merges.Undo(ctx, st, c, m.ID, false); err != nil {
		t.Fatal(err)
	}
	if m, _ = st.GetMerge(ctx, c.ID, m.ID); merges.CardNames(m) != nil {
		t.Errorf("names of an undone merge: %q", merges.CardNames(m))
	}
}
