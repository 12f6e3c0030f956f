// Package merges applies duplicate-contact decisions to an address book:
// it finds the groups (dedup), merges one into a chosen reference, hides
// one, undoes a merge, and folds a re-uploaded merged-away card into its
// survivor. The CLI, the web pages and the DAV layer all call it, so the
// rules live in one place; dedup decides, the store commits.
package merges

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/rolodav/rolodav/contacts"
	"github.com/rolodav/rolodav/dedup"
	"github.com/rolodav/rolodav/store"
)

// ErrNoGroup is returned for a group ID that is not (or no longer) proposed.
var ErrNoGroup = errors.New("no such group of duplicates (list them again: cards may have changed)")

// Book is one address book loaded for duplicate handling.
type Book struct {
	st     store.Store
	coll   *store.Collection
	cards  map[string]*store.Object // by UID
	groups []dedup.Group
}

// Load reads the book and finds its groups of duplicates, leaving out the
// groups a person hid (a hidden group stays hidden while no new card joins it).
func Load(ctx context.Context, st store.Store, coll *store.Collection, region string) (*Book, error) {
	b := &Book{st: st, coll: coll, cards: map[string]*store.Object{}}
	var in []dedup.Card
	err := st.ListObjects(ctx, coll.ID, true, func(o *store.Object) error {
		c := *o
		b.cards[o.UID] = &c
		in = append(in, dedup.Card{UID: o.UID, Data: o.Data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	groups, err := dedup.Find(in, dedup.Options{Region: region})
	if err != nil {
		return nil, err
	}
	hidden, err := st.HiddenGroups(ctx, coll.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if !coveredBy(g.UIDs, hidden) {
			b.groups = append(b.groups, g)
		}
	}
	return b, nil
}

func coveredBy(uids []string, hidden [][]string) bool {
	for _, h := range hidden {
		all := true
		for _, u := range uids {
			if !slices.Contains(h, u) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// Cards is the number of cards in the book.
func (b *Book) Cards() int { return len(b.cards) }

// Groups are the proposed groups, strongest first.
func (b *Book) Groups() []dedup.Group { return b.groups }

// Card returns a card of the book by UID.
func (b *Book) Card(uid string) *store.Object { return b.cards[uid] }

// CardName is the name a card shows (its FN), "" when it has none or does
// not parse.
func CardName(o *store.Object) string {
	if o == nil {
		return ""
	}
	info, _ := contacts.Validate(o.Data)
	return info.FN
}

// Group returns the proposed group with this ID, or ErrNoGroup.
func (b *Book) Group(id string) (dedup.Group, error) {
	for _, g := range b.groups {
		if g.ID == id {
			return g, nil
		}
	}
	return dedup.Group{}, ErrNoGroup
}

// DefaultReference is the card a merge keeps when nobody chose: the one
// holding the most information, so that the fewest values move.
func (b *Book) DefaultReference(g dedup.Group) string {
	best := g.UIDs[0]
	for _, u := range g.UIDs[1:] {
		if len(b.cards[u].Data) > len(b.cards[best].Data) {
			best = u
		}
	}
	return best
}

// split finds a group and returns it with its reference and the others as
// dedup cards.
func (b *Book) split(groupID, ref string) (dedup.Group, dedup.Card, []dedup.Card, error) {
	g, err := b.Group(groupID)
	if err != nil {
		return g, dedup.Card{}, nil, err
	}
	if ref == "" {
		ref = b.DefaultReference(g)
	}
	if !slices.Contains(g.UIDs, ref) {
		return g, dedup.Card{}, nil, fmt.Errorf("card %q is not in group %s", ref, g.ID)
	}
	var others []dedup.Card
	for _, u := range g.UIDs {
		if u != ref {
			others = append(others, dedup.Card{UID: u, Data: b.cards[u].Data})
		}
	}
	return g, dedup.Card{UID: ref, Data: b.cards[ref].Data}, others, nil
}

// Plan says what merging the group into ref would do ("" = default reference).
func (b *Book) Plan(groupID, ref string) (*dedup.Plan, error) {
	_, r, others, err := b.split(groupID, ref)
	if err != nil {
		return nil, err
	}
	return dedup.PlanMerge(r, others)
}

// Merge merges a group into ref ("" = default reference) in one
// transaction, rewriting group cards that listed a merged-away card.
func (b *Book) Merge(ctx context.Context, groupID, ref string, choices map[string]int, now time.Time) (*store.Merge, error) {
	g, r, others, err := b.split(groupID, ref)
	if err != nil {
		return nil, err
	}
	merged, undo, err := dedup.Merge(r, others, choices, now)
	if err != nil {
		return nil, err
	}
	undoData, err := json.Marshal(undo)
	if err != nil {
		return nil, err
	}
	refObj := b.cards[r.UID]
	w := &store.MergeWrite{
		Collection:    b.coll.ID,
		Reference:     &store.Object{Collection: b.coll.ID, Name: refObj.Name, UID: r.UID, Data: merged},
		ReferenceETag: refObj.ETag,
		Undo:          undoData,
	}
	away := make([]string, len(others))
	for i, o := range others {
		c := b.cards[o.UID]
		away[i] = o.UID
		w.Removed = append(w.Removed, store.Removed{Name: c.Name, UID: c.UID, ETag: c.ETag})
	}
	uids := make([]string, 0, len(b.cards))
	for u := range b.cards {
		uids = append(uids, u)
	}
	sort.Strings(uids) // a stable order of rewrites
	for _, u := range uids {
		c := b.cards[u]
		if slices.Contains(g.UIDs, u) {
			continue
		}
		out, changed, err := dedup.RewriteMembers(c.Data, away, r.UID)
		if err != nil || !changed {
			continue // a card we cannot read is left as it is
		}
		w.Groups = append(w.Groups, store.Rewrite{Object: &store.Object{Collection: b.coll.ID, Name: c.Name, UID: c.UID, Data: out}, ETag: c.ETag})
	}
	return b.st.ApplyMerge(ctx, w)
}

// Hide marks a group as not duplicates.
func (b *Book) Hide(ctx context.Context, groupID string) error {
	g, err := b.Group(groupID)
	if err != nil {
		return err
	}
	return b.st.HideGroup(ctx, b.coll.ID, g.UIDs)
}

// Refusals of Undo, said so that a person knows what to do.
var (
	ErrAlreadyUndone    = errors.New("this merge was undone already")
	ErrReferenceChanged = errors.New("the surviving card was edited after the merge; undo would drop that edit (force it to undo anyway)")
)

// Undo restores the cards a merge combined, under their names and UIDs.
// Unless force, it refuses when the surviving card changed since.
func Undo(ctx context.Context, st store.Store, coll *store.Collection, id int64, force bool) error {
	m, err := st.GetMerge(ctx, coll.ID, id)
	if err != nil {
		return err
	}
	if !m.Undone.IsZero() {
		return ErrAlreadyUndone
	}
	if !force {
		ref, err := st.GetObject(ctx, coll.ID, m.Reference)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if ref == nil || ref.ETag != m.ReferenceETag {
			return ErrReferenceChanged
		}
	}
	var u dedup.Undo
	if err := json.Unmarshal(m.Undo, &u); err != nil {
		return fmt.Errorf("merge %d: unreadable undo record: %w", id, err)
	}
	if len(u.Others) != len(m.Removed) {
		return fmt.Errorf("merge %d: undo record does not match the merge", id)
	}
	originals := []store.Object{{Collection: coll.ID, Name: m.Reference, UID: u.Reference.UID, Data: u.Reference.Data}}
	for i, o := range u.Others {
		originals = append(originals, store.Object{Collection: coll.ID, Name: m.Removed[i], UID: o.UID, Data: o.Data})
	}
	return st.UndoMerge(ctx, coll.ID, id, originals, force)
}
