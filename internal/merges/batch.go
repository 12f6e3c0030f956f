package merges

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// NewBatch returns a fresh token for the merges of one "merge all"
// (MergeAuto), so that UndoBatch undoes them together. It is unguessable:
// pages carry it in their URLs.
func NewBatch() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// BatchUndoError stops UndoBatch at the first merge of the batch that
// could not be undone; the merges undone before it stay undone.
type BatchUndoError struct {
	Undone []int64 // merges undone, newest first
	Merge  int64   // the merge that could not be undone
	Err    error   // why (Undo's error)
}

func (e *BatchUndoError) Error() string {
	return fmt.Sprintf("undid %d merges of the batch, then merge %d could not be undone: %v", len(e.Undone), e.Merge, e.Err)
}

func (e *BatchUndoError) Unwrap() error { return e.Err }

// UndoBatch undoes the merges of a batch that are still in effect, newest
// first (a later merge of the batch may have taken an earlier one's
// surviving card), each as Undo without force. It stops at the first merge
// it cannot undo with a *BatchUndoError that says which were undone. A
// batch with no merge in the collection is store.ErrNotFound; one whose
// merges are all undone already is ErrAlreadyUndone.
func UndoBatch(ctx context.Context, st Store, coll *store.Collection, batch string) (undone []int64, err error) {
	if batch == "" {
		return nil, store.ErrNotFound
	}
	list, err := st.ListMerges(ctx, coll.ID)
	if err != nil {
		return nil, err
	}
	// A merge outside the batch that took a kept card of the batch away
	// refuses that merge's undo whatever happens before: refuse the
	// batch before undoing any of it, rather than leave it half undone.
	for _, m := range list {
		if m.Batch != batch || !m.Undone.IsZero() {
			continue
		}
		for _, l := range list {
			if l.ID > m.ID && l.Batch != batch && l.Undone.IsZero() && slices.Contains(l.Removed, m.Reference) {
				return nil, &BatchUndoError{Merge: m.ID, Err: &MergedSinceError{Merge: l.ID}}
			}
		}
	}
	found := false
	for i := range list { // newest first
		m := &list[i]
		if m.Batch != batch {
			continue
		}
		found = true
		if !m.Undone.IsZero() {
			continue
		}
		// The list read once serves every undo's check for later merges:
		// a merge made by someone else meanwhile that took a kept card
		// away is refused all the same, by the store (the kept card is
		// not as the merge left it).
		if err := undoWith(ctx, st, coll, m.ID, false, list); err != nil {
			return undone, &BatchUndoError{Undone: undone, Merge: m.ID, Err: err}
		}
		m.Undone = time.Now()
		undone = append(undone, m.ID)
	}
	switch {
	case !found:
		return nil, store.ErrNotFound
	case len(undone) == 0:
		return nil, ErrAlreadyUndone
	}
	return undone, nil
}

// CardNames are the names of the cards a merge combined, as they were
// before it, the kept card's first ("" for a card without one). It reads
// them from the merge's undo record, so it is nil once the merge is undone
// (the record is emptied then) or when the record cannot be read.
func CardNames(m *store.Merge) []string {
	if len(m.Undo) == 0 {
		return nil
	}
	var u undoRecord
	if err := json.Unmarshal(m.Undo, &u); err != nil {
		return nil
	}
	names := []string{CardName(&store.Object{Data: u.Reference.Data})}
	for _, o := range u.Others {
		names = append(names, CardName(&store.Object{Data: o.Data}))
	}
	return names
}
