package merges_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// writeDuringMerge is the store with another client's write (hook) just
// before the first merge is applied.
type writeDuringMerge struct {
	store.Store
	hook func()
}

func (s *writeDuringMerge) ApplyMerge(ctx context.Context, w *store.MergeWrite) (*store.Merge, error) {
	if h := s.hook; h != nil {
		s.hook = nil
		h()
	}
	return s.Store.ApplyMerge(ctx, w)
}

// A phone deletes a card of a likely group while "merge all" runs: that
// group is skipped (its merge is refused), and the cache must not then
// keep the groups found before the deletion as the book's groups at the
// new sequence number: the next Load would propose a group whose card is
// gone, which no merge can ever take.
func TestCacheMergeAutoWithAConcurrentDelete(t *testing.T) {
	ctx := context.Background()
	real, c := newBook(t, threeGroupsOneTeam())
	st := &writeDuringMerge{Store: real}
	cache := merges.NewCache(4, 1<<20)
	b, err := cache.Load(ctx, st, coll(t, real, c), "")
	if err != nil {
		t.Fatal(err)
	}
	auto := b.Groups()
	last := auto[len(auto)-1] // merged last: the delete comes before its merge
	gone := last.UIDs[0]
	st.hook = func() {
		if err := real.DeleteObject(ctx, c.ID, gone+".vcf", store.Conditions{}); err != nil {
			t.Error(err)
		}
	}
	outs, err := b.MergeAuto(ctx, merges.NewBatch(), now, false)
	if err != nil {
		t.Fatal(err)
	}
	if o := outs[len(outs)-1]; o.Skipped == nil {
		t.Fatalf("the group with the deleted card was merged: %+v", o)
	}
	after, err := cache.Load(ctx, st, coll(t, real, c), "")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := merges.Load(ctx, real, coll(t, real, c), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range after.Groups() {
		for _, u := range g.UIDs {
			if after.Card(u) == nil {
				t.Errorf("the cache proposes group %s whose card %s was deleted (a fresh Load proposes %d groups)", g.ID, u, len(fresh.Groups()))
			}
		}
	}
	if got, want := groupIDs(after), groupIDs(fresh); !slices.Equal(got, want) {
		t.Errorf("groups from the cache %v, from the book as it is %v", got, want)
	}
}
