package merges_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
)

// A merge made after the batch took the kept card of the batch's oldest
// merge: UndoBatch can know before undoing anything that it cannot undo
// them all, and must then leave the batch whole, not undo the newer ones
// and stop half way.
func TestUndoBatchRefusedUpFrontForALaterMerge(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	batch := merges.NewBatch()
	out, err := load(t, st, c).MergeAuto(ctx, batch, now, false)
	if err != nil || len(out) != 3 {
		t.Fatalf("merge all: %v %+v", err, out)
	}
	kept := out[0].Survivor
	// A phone brings a fuller copy of that person; it is merged, keeping
	// the new card: the batch's kept card is merged away.
	put(t, st, c, "again", strings.Replace(strings.Replace(string(kept.Data), "UID:"+kept.UID, "UID:again", 1), "END:VCARD", "NOTE:much fuller than the kept card ever was\r\nEND:VCARD", 1))
	b := load(t, st, c)
	g := groupOf(t, b, "again")
	if _, err := b.Merge(ctx, merges.Request{Group: g.ID, Reference: "again"}, now); err != nil {
		t.Fatal(err)
	}
	undone, err := merges.UndoBatch(ctx, st, c, batch)
	if !errors.As(err, new(*merges.MergedSinceError)) {
		t.Fatalf("UndoBatch: %v", err)
	}
	if len(undone) != 0 {
		t.Errorf("UndoBatch undid %v of the batch, then stopped: the batch is half undone", undone)
	}
}
