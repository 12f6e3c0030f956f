package merges

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

// Origin is where a card to fold came from. It decides what a fold
// records besides the survivor, and what one that adds nothing writes.
type Origin int

const (
	// Uploaded: a DAV client put the card under its name and now believes
	// it is there. The fold always records that name's deletion, so that
	// the client's next sync drops it.
	Uploaded Origin = iota
	// Imported: the card was read from a file and nothing was made under
	// a name: a fold records no deletion, and one that changes nothing
	// writes nothing.
	Imported
)

// Folded is what a fold did.
type Folded struct {
	Survivor string // name of the card the folded one lives on in
	Merge    int64  // the merge that removed its name or UID
	// Changed says whether the survivor took something from the card;
	// when not, the survivor's data and ETag are as they were.
	Changed bool
}

// Fold handles card o that the store refused with away because its name
// or UID was merged away (see store.MergedAwayError): every write path
// (DAV, `rolodav import`, the import page) folds it here, the same way.
// The card is merged into the survivor instead of bringing the duplicate
// back, and the merge's undo record takes the card, so that an undo
// restores it as it last came. A survivor that would gain nothing keeps
// its bytes (no new REV, no new ETag). The write's own conditions do not
// apply: they were about a card that is gone. The survivor and the undo
// record are replaced only if both are still as read here; when another
// write changed either meanwhile, Fold reads them again and tries once
// more (store.ErrPrecondition when that fails too).
//
// An upload under the name of a card that is there, the survivor's or
// another's, is no card that came back: it would give that card a UID
// merged into the survivor. It is refused with a *store.UIDConflictError
// naming the survivor, which holds that UID now.
func Fold(ctx context.Context, st Store, coll *store.Collection, away *store.MergedAwayError, o *store.Object, origin Origin, now time.Time) (*Folded, error) {
	folded := "" // an import made nothing under a name
	if origin == Uploaded {
		folded = o.Name
		_, err := st.GetObject(ctx, coll.ID, o.Name)
		if err == nil {
			return nil, &store.UIDConflictError{UID: o.UID, Name: away.Survivor}
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	f, err := foldOnce(ctx, st, coll, away, o, origin, folded, now)
	if errors.Is(err, store.ErrPrecondition) {
		f, err = foldOnce(ctx, st, coll, away, o, origin, folded, now)
	}
	return f, err
}

// foldOnce is Fold's one try: foldedName is the name whose deletion the
// fold records ("" for none).
func foldOnce(ctx context.Context, st Store, coll *store.Collection, away *store.MergedAwayError, o *store.Object, origin Origin, foldedName string, now time.Time) (*Folded, error) {
	s, err := st.GetObject(ctx, coll.ID, away.Survivor)
	if err != nil {
		return nil, err
	}
	m, err := st.GetMerge(ctx, coll.ID, away.Merge)
	if err != nil {
		return nil, err
	}
	if !m.Undone.IsZero() {
		return nil, fmt.Errorf("merge %d was undone meanwhile: %w", m.ID, store.ErrPrecondition)
	}
	var u undoRecord // keeps the group members the merge rewrote, for its undo
	if err := json.Unmarshal(m.Undo, &u); err != nil {
		return nil, fmt.Errorf("merge %d: unreadable undo record: %w", m.ID, err)
	}
	undoChanged := false
	for i := range u.Others {
		if i < len(m.Removed) && m.Removed[i] == o.Name || o.UID != "" && u.Others[i].UID == o.UID {
			undoChanged = !bytes.Equal(u.Others[i].Data, o.Data)
			u.Others[i].Data = o.Data
			break
		}
	}
	side := o.UID
	if side == "" || side == s.UID {
		side = o.Name // dedup needs distinct UIDs for the two sides
	}
	merged, changed, err := mergeInto(s, dedup.Card{UID: side, Data: o.Data}, now)
	if err != nil {
		return nil, err
	}
	f := &Folded{Survivor: s.Name, Merge: m.ID, Changed: changed}
	if !changed && !undoChanged && origin == Imported {
		return f, nil
	}
	undo, err := json.Marshal(&u)
	if err != nil {
		return nil, err
	}
	_, err = st.FoldInto(ctx, &store.Object{Collection: coll.ID, Name: s.Name, UID: s.UID, Data: merged},
		store.Conditions{IfMatch: s.ETag}, foldedName, m.ID, m.Undo, undo)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Survivors returns coll's cards that merges still in effect merged others
// into, by name, each with the UID it had as the merge's reference: a card
// under that name with another UID is another card (the survivor was
// deleted since, say), which holds nothing merged.
func Survivors(ctx context.Context, st store.Merges, coll *store.Collection) (map[string]string, error) {
	list, err := st.ListMerges(ctx, coll.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range list {
		if !m.Undone.IsZero() {
			continue
		}
		var u struct{ Reference struct{ UID string } } // of an undoRecord
		if err := json.Unmarshal(m.Undo, &u); err != nil {
			return nil, fmt.Errorf("merge %d: unreadable undo record: %w", m.ID, err)
		}
		out[m.Reference] = u.Reference.UID
	}
	return out, nil
}

// Absorb takes card data, which came in under the UID of survivor s (a
// card that merges still in effect merged others into; see Survivors)
// from a file imported again, say, into s as Fold does, rather than
// replacing s with it: a copy from before the merge must not undo what
// the merge brought. It writes nothing when s already holds all of data;
// else it replaces s if s still has its ETag (store.ErrPrecondition
// otherwise), and says whether it wrote. Like any edit of s, it makes an
// undo of those merges need force.
func Absorb(ctx context.Context, st store.Objects, s *store.Object, data []byte, now time.Time) (changed bool, err error) {
	merged, changed, err := mergeInto(s, dedup.Card{UID: s.UID + " (imported)", Data: data}, now)
	if err != nil || !changed {
		return false, err
	}
	_, _, err = st.PutObject(ctx, &store.Object{Collection: s.Collection, Name: s.Name, UID: s.UID, Data: merged},
		store.Conditions{IfMatch: s.ETag})
	return err == nil, err
}

// mergeInto merges card c into survivor s and says whether that changes
// anything but REV, which dedup.Merge always sets: when not, it returns
// s's own bytes.
func mergeInto(s *store.Object, c dedup.Card, now time.Time) ([]byte, bool, error) {
	merged, _, err := dedup.Merge(dedup.Card{UID: s.UID, Data: s.Data}, []dedup.Card{c}, nil, now)
	if err != nil {
		return nil, false, err
	}
	if sameContent(merged, s.Data) {
		return s.Data, false, nil
	}
	return merged, true, nil
}

// sameContent reports whether two cards hold the same properties, in the
// same order, REV aside; line folding and line ends do not count.
func sameContent(a, b []byte) bool {
	_, pa, err := contacts.ParseProps(a)
	if err != nil {
		return false
	}
	_, pb, err := contacts.ParseProps(b)
	if err != nil {
		return false
	}
	notREV := func(ps []contacts.Prop) []contacts.Prop {
		return slices.DeleteFunc(ps, func(p contacts.Prop) bool { return p.Name == "REV" })
	}
	return slices.EqualFunc(notREV(pa), notREV(pb), func(x, y contacts.Prop) bool {
		return x.Group == y.Group && x.Name == y.Name && x.Value == y.Value &&
			slices.EqualFunc(x.Params, y.Params, func(p, q contacts.Param) bool {
				return p.Name == q.Name && (p.Values == nil) == (q.Values == nil) && slices.Equal(p.Values, q.Values)
			})
	})
}
