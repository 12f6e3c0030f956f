// Package merges is the use-case API of duplicate contacts: one call per
// thing a person does with them. Load finds a book's groups (dedup), or
// Cache.Load keeps them for the next time; then Book.Merge merges one group
// into a chosen reference with chosen values, Book.MergeAuto merges every
// group of the auto band as one batch, Book.Hide hides one, Undo undoes a
// merge and UndoBatch a batch, and Fold folds a re-uploaded merged-away
// card into its survivor. The CLI, the web pages and the DAV layer only read their
// input and show the outcome, so the rules live here; dedup decides, the
// store commits.
package merges

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

// Why a group is not merged. MergeAuto reports them per group and goes on.
var (
	// ErrNoGroup is a group ID that is not (or no longer) proposed.
	ErrNoGroup = errors.New("no such group of duplicates (list them again: cards may have changed)")
	// ErrGroupChanged is a group whose cards changed since they were
	// shown (Request.Version), or while merging (another client wrote).
	ErrGroupChanged = errors.New("a card of the group changed since it was shown")
	// ErrCannotMerge is a group whose cards dedup cannot merge.
	ErrCannotMerge = errors.New("the cards cannot be merged")
)

// Refusals of the input of a merge: the reference or a choice is not one
// the group offers.
var (
	ErrNotInGroup = errors.New("the card to keep is not in the group")
	ErrBadChoice  = errors.New("a choice is not one this merge offers")
)

// Store is what duplicate handling needs of the store: the cards, and the
// merges with their undo records and hidden groups.
type Store interface {
	store.Objects
	store.Merges
}

// Book is one address book loaded for duplicate handling.
type Book struct {
	st      Store
	coll    *store.Collection
	region  string
	cards   map[string]*store.Object // by UID; shared with the cache: never changed in place
	members map[string]bool          // UIDs of the cards that may list members (group cards)
	// found are the groups the matcher found, hidden ones too, less those
	// merged since; groups are those proposed, without the hidden ones.
	found, groups []dedup.Group
	// cache, when the book was loaded through one, is kept up to date
	// with the merges made in the book; seq is the collection's sync
	// sequence number the cards are known to be at (0: not known).
	cache *Cache
	seq   int64
}

// Load reads the book and finds its groups of duplicates, leaving out the
// groups a person hid (a hidden group stays hidden while no new card joins it).
func Load(ctx context.Context, st Store, coll *store.Collection, region string) (*Book, error) {
	b, err := find(ctx, st, coll, region)
	if err != nil {
		return nil, err
	}
	if err := b.propose(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// find reads the book and runs the matcher: the expensive part of Load.
func find(ctx context.Context, st Store, coll *store.Collection, region string) (*Book, error) {
	b := &Book{st: st, coll: coll, region: region, cards: map[string]*store.Object{}, members: map[string]bool{}}
	var in []dedup.Card
	err := st.ListObjects(ctx, coll.ID, true, func(o *store.Object) error {
		c := *o
		b.add(&c)
		in = append(in, dedup.Card{UID: o.UID, Data: o.Data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if b.found, err = dedup.Find(in, dedup.Options{Region: region}); err != nil {
		return nil, err
	}
	return b, nil
}

// propose sets the proposed groups: those found, less the hidden ones.
func (b *Book) propose(ctx context.Context) error {
	hidden, err := b.st.HiddenGroups(ctx, b.coll.ID)
	if err != nil {
		return err
	}
	b.groups = make([]dedup.Group, 0, len(b.found))
	for _, g := range b.found {
		if !coveredBy(g.UIDs, hidden) {
			b.groups = append(b.groups, g)
		}
	}
	return nil
}

// add puts a card in the book.
func (b *Book) add(o *store.Object) {
	b.cards[o.UID] = o
	if mayListMembers(o.Data) {
		b.members[o.UID] = true
	}
}

// mayListMembers tells the cards a merge may have to rewrite, cheaply: a
// card that lists members has "member" in a property name, in any case.
func mayListMembers(data []byte) bool {
	const w = "member"
	for i := 0; i+len(w) <= len(data); i++ {
		if data[i]|0x20 == 'm' && bytes.EqualFold(data[i:i+len(w)], []byte(w)) {
			return true
		}
	}
	return false
}

// memberCards are the UIDs of the cards that may list members, in order,
// so that rewrites come in a stable order.
func (b *Book) memberCards() []string {
	uids := make([]string, 0, len(b.members))
	for u := range b.members {
		uids = append(uids, u)
	}
	sort.Strings(uids)
	return uids
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

// Groups are the proposed groups, strongest first. A merge or a hide in
// the book takes its group out of this slice, in place.
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
	best, size := g.UIDs[0], -1
	for _, u := range g.UIDs {
		if c := b.cards[u]; c != nil && len(c.Data) > size {
			best, size = u, len(c.Data)
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
		return g, dedup.Card{}, nil, fmt.Errorf("%w: card %q, group %s", ErrNotInGroup, ref, g.ID)
	}
	var others []dedup.Card
	for _, u := range g.UIDs {
		if b.cards[u] == nil {
			// Gone since a failed merge refreshed the snapshot.
			return g, dedup.Card{}, nil, fmt.Errorf("%w: card %s was deleted", ErrGroupChanged, u)
		}
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
	p, err := dedup.PlanMerge(r, others)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotMerge, err)
	}
	return p, nil
}

// Hide marks a group as not duplicates: it is not proposed again while no
// other card joins it.
func (b *Book) Hide(ctx context.Context, groupID string) error {
	g, err := b.Group(groupID)
	if err != nil {
		return err
	}
	if err := b.st.HideGroup(ctx, b.coll.ID, g.UIDs); err != nil {
		return err
	}
	b.dropGroup(g.ID, false)
	return nil
}
