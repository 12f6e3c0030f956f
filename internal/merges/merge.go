package merges

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

// KeepReference is the Keep of a Choice that keeps the reference's value.
const KeepReference = -1

// Choice picks the value a merge keeps of a single-valued property on
// which the cards conflict (a dedup.Conflict of the group's plan).
type Choice struct {
	Field string // the conflict's property name, "BDAY"
	Keep  int    // KeepReference, or the index of the value in the conflict's Others
}

// Request is one merge a person asked for.
type Request struct {
	Group string // group ID
	// Version is Book.Version of the group when it was shown: the merge is
	// refused with ErrGroupChanged when a card changed since. "" merges the
	// cards as loaded (the CLI shows and merges in one go).
	Version   string
	Reference string   // UID of the card to keep; "" = DefaultReference
	Choices   []Choice // at most one per conflict; the others keep the default
}

// Outcome is what became of a group.
type Outcome struct {
	Group    dedup.Group
	Plan     *dedup.Plan   // what merging into the reference does, without choices
	Merge    *store.Merge  // the merge made; nil when not merged
	Survivor *store.Object // the merged card as stored; nil when not merged
	// Skipped says why MergeAuto did not merge the group: ErrGroupChanged,
	// ErrNoGroup or ErrCannotMerge, wrapped with details.
	Skipped error
}

// Version is a token of the state of a group's cards. The group ID stays
// the same when a card is edited, so a page that shows the group sends it
// back with the merge (Request.Version) to catch that.
func (b *Book) Version(g dedup.Group) string {
	h := sha256.New()
	for _, uid := range g.UIDs {
		if o := b.cards[uid]; o != nil {
			h.Write([]byte(o.ETag + "\x00"))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Merge merges a group as a person asked, in one transaction, rewriting
// the group cards that listed a merged-away card. The book then holds the
// cards as they are after the merge, so that a next merge in it starts
// from them.
func (b *Book) Merge(ctx context.Context, req Request, now time.Time) (*Outcome, error) {
	g, err := b.Group(req.Group)
	if err != nil {
		return nil, err
	}
	if req.Version != "" && req.Version != b.Version(g) {
		return nil, fmt.Errorf("%w: group %s", ErrGroupChanged, g.ID)
	}
	o, err := b.merge(ctx, g, req.Reference, req.Choices, "", now)
	if err == nil {
		b.settle(ctx)
	}
	return o, err
}

// MergeAuto merges every group of the auto band into its default
// reference, or with dryRun only plans them. Every merge it makes carries
// batch (NewBatch), so that UndoBatch undoes them together. A group that
// cannot be merged (its cards changed underneath, or dedup cannot merge
// them) is reported with Skipped and the others are merged all the same;
// any other error stops it, returning the outcomes so far.
func (b *Book) MergeAuto(ctx context.Context, batch string, now time.Time, dryRun bool) ([]Outcome, error) {
	var auto []dedup.Group
	for _, g := range b.groups {
		if g.Band == dedup.BandAuto {
			auto = append(auto, g)
		}
	}
	out := make([]Outcome, 0, len(auto))
	if !dryRun {
		// Once, for all the merges: what the cache keeps follows them.
		defer b.settle(ctx)
	}
	for _, g := range auto {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if dryRun {
			plan, err := b.Plan(g.ID, "")
			out = append(out, Outcome{Group: g, Plan: plan, Skipped: err})
			continue
		}
		o, err := b.merge(ctx, g, "", nil, batch, now)
		switch {
		case err == nil:
			out = append(out, *o)
		case errors.Is(err, ErrGroupChanged) || errors.Is(err, ErrNoGroup) || errors.Is(err, ErrCannotMerge):
			out = append(out, Outcome{Group: g, Skipped: err})
		default:
			return out, fmt.Errorf("merging group %s: %w", g.ID, err)
		}
	}
	return out, nil
}

func (b *Book) merge(ctx context.Context, g dedup.Group, ref string, cs []Choice, batch string, now time.Time) (*Outcome, error) {
	if ref == "" {
		ref = b.DefaultReference(g)
	}
	_, r, others, err := b.split(g.ID, ref)
	if err != nil {
		return nil, err
	}
	plan, err := dedup.PlanMerge(r, others)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotMerge, err)
	}
	chosen, err := choices(plan, cs)
	if err != nil {
		return nil, err
	}
	merged, undo, err := dedup.Merge(r, others, chosen, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotMerge, err)
	}
	refObj := b.cards[r.UID]
	w := &store.MergeWrite{
		Collection:    b.coll.ID,
		Reference:     &store.Object{Collection: b.coll.ID, Name: refObj.Name, UID: r.UID, Data: merged},
		ReferenceETag: refObj.ETag,
		Batch:         batch,
	}
	touched := []*store.Object{refObj}
	away := make([]string, len(others))
	for i, o := range others {
		c := b.cards[o.UID]
		away[i] = o.UID
		w.Removed = append(w.Removed, store.Removed{Name: c.Name, UID: c.UID, ETag: c.ETag})
		touched = append(touched, c)
	}
	rec := undoRecord{Undo: *undo}
	for _, u := range b.memberCards() {
		c := b.cards[u]
		if slices.Contains(g.UIDs, u) {
			continue
		}
		out, changed, err := dedup.RewriteMembers(c.Data, away, r.UID)
		if err != nil || !changed {
			continue // a card we cannot read is left as it is
		}
		w.Groups = append(w.Groups, store.Rewrite{Object: &store.Object{Collection: b.coll.ID, Name: c.Name, UID: c.UID, Data: out}, ETag: c.ETag})
		rec.Groups = append(rec.Groups, groupMembers{Name: c.Name, Members: membersOf(c.Data, g.UIDs)})
		touched = append(touched, c)
	}
	if w.Undo, err = json.Marshal(&rec); err != nil {
		return nil, err
	}
	m, err := b.st.ApplyMerge(ctx, w)
	if errors.Is(err, store.ErrPrecondition) {
		// Another client wrote meanwhile: take its cards, so that the next
		// merge in this book does not fail on them too. The groups found
		// are then no longer those of the cards held: the cache must not
		// keep them (settle does nothing at seq 0).
		b.seq = 0
		if rerr := b.refresh(ctx, touched); rerr != nil {
			return nil, fmt.Errorf("group %s changed while merging; reading its cards again: %w", g.ID, rerr)
		}
		return nil, fmt.Errorf("%w: %w", ErrGroupChanged, err)
	}
	if err != nil {
		return nil, err
	}
	if err := b.refresh(ctx, touched); err != nil {
		return nil, fmt.Errorf("merge %d done; reading the cards again: %w", m.ID, err)
	}
	b.dropGroup(g.ID, true)
	return &Outcome{Group: g, Plan: plan, Merge: m, Survivor: b.cards[r.UID]}, nil
}

// choices checks a person's choices against the conflicts of the plan and
// returns them as dedup.Merge takes them. A full name (FN) chosen from
// another card brings that card's name parts (N) too, so N is not chosen
// besides FN (unless both keep the reference's).
func choices(plan *dedup.Plan, cs []Choice) (map[string]int, error) {
	conflicts := make(map[string]*dedup.Conflict, len(plan.Conflicts))
	for i := range plan.Conflicts {
		conflicts[plan.Conflicts[i].Name] = &plan.Conflicts[i]
	}
	out := make(map[string]int, len(cs))
	for _, c := range cs {
		cf := conflicts[c.Field]
		if cf == nil {
			return nil, fmt.Errorf("%w: no conflict on %q", ErrBadChoice, c.Field)
		}
		if _, twice := out[c.Field]; twice {
			return nil, fmt.Errorf("%w: two choices for %s", ErrBadChoice, c.Field)
		}
		lo := KeepReference
		if cf.Reference == "" {
			lo = 0 // the reference has no value to keep
		}
		if c.Keep < lo || c.Keep >= len(cf.Others) {
			return nil, fmt.Errorf("%w: value %d of %s", ErrBadChoice, c.Keep, c.Field)
		}
		out[c.Field] = c.Keep
	}
	// A name is one choice (see dedup.Merge): its parts come from the card
	// whose full name is kept, so choosing both can only contradict it.
	fn, name := out["FN"]
	n, parts := out["N"]
	if name && parts && (fn != KeepReference || n != KeepReference) {
		return nil, fmt.Errorf("%w: the name parts follow the chosen name, they are not chosen apart", ErrBadChoice)
	}
	return out, nil
}

// refresh reads the cards again after a write: those gone are dropped,
// the others get their new data and ETag.
func (b *Book) refresh(ctx context.Context, cards []*store.Object) error {
	names := make([]string, len(cards))
	for i, c := range cards {
		names[i] = c.Name
		delete(b.cards, c.UID)
		delete(b.members, c.UID)
	}
	now, err := b.st.GetObjects(ctx, b.coll.ID, names, true)
	if err != nil {
		return err
	}
	for i := range now {
		b.add(&now[i])
	}
	return nil
}

// dropGroup removes a group that was merged or hidden from the proposals;
// a merged one (merged) also from the groups found.
func (b *Book) dropGroup(id string, merged bool) {
	same := func(g dedup.Group) bool { return g.ID == id }
	b.groups = slices.DeleteFunc(b.groups, same)
	if merged {
		b.found = slices.DeleteFunc(b.found, same)
	}
}
