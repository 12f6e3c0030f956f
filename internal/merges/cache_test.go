package merges_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// coll reads the collection again, with its current sync sequence number,
// as a page does on each request.
func coll(t *testing.T, st store.Store, c *store.Collection) *store.Collection {
	t.Helper()
	now, err := st.GetCollection(context.Background(), c.Owner, c.Kind, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func cached(t *testing.T, cache *merges.Cache, st store.Store, c *store.Collection, region string) *merges.Book {
	t.Helper()
	b, err := cache.Load(context.Background(), st, coll(t, st, c), region)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantSearches checks how many Loads of the cache ran the matcher.
func wantSearches(t *testing.T, cache *merges.Cache, want int) {
	t.Helper()
	if _, n := cache.Stats(); n != want {
		t.Fatalf("the matcher ran %d times, want %d", n, want)
	}
}

func groupIDs(b *merges.Book) []string {
	var ids []string
	for _, g := range b.Groups() {
		ids = append(ids, g.ID)
	}
	return ids
}

// The matcher runs again only when the book changed, or for another
// region; a hide is left out at once though it writes no card.
func TestCacheLoadsAgainOnlyAfterAChange(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	cache := merges.NewCache(4, 1<<20)
	first := cached(t, cache, st, c, "")
	again := cached(t, cache, st, c, "")
	wantSearches(t, cache, 1)
	if !slices.Equal(groupIDs(first), groupIDs(again)) || len(first.Groups()) != 3 || again.Cards() != first.Cards() {
		t.Fatalf("groups from the cache %v, found %v", groupIDs(again), groupIDs(first))
	}
	// Hiding in one Book changes neither the other nor the cache, but the
	// next Load leaves the group out.
	ann := groupOf(t, first, "ann-1")
	if err := first.Hide(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	if len(again.Groups()) != 3 {
		t.Errorf("a hide in one Book changed another: %v", groupIDs(again))
	}
	third := cached(t, cache, st, c, "")
	wantSearches(t, cache, 1)
	if slices.Contains(groupIDs(third), ann.ID) || len(third.Groups()) != 2 {
		t.Errorf("after the hide the cache proposes %v", groupIDs(third))
	}
	cached(t, cache, st, c, "DE")
	wantSearches(t, cache, 2)

	// A phone edits a card: the book is read and compared again.
	put(t, st, c, "carl", person("carl", "Carl", "Weiss", "+33612345678", "edited"))
	b := cached(t, cache, st, c, "")
	wantSearches(t, cache, 3)
	if !strings.Contains(string(b.Card("carl").Data), "edited") {
		t.Error("the Book has the card as it was before the edit")
	}
}

// A merge made in a Book of the cache moves the entry past it: the list
// shown after the merge comes without running the matcher, without the
// merged group, with the cards as the merge left them.
func TestCacheFollowsItsOwnMerges(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	cache := merges.NewCache(4, 1<<20)
	b := cached(t, cache, st, c, "")
	ann := groupOf(t, b, "ann-1")
	if _, err := b.Merge(ctx, merges.Request{Group: ann.ID, Version: b.Version(ann), Reference: "ann-2"}, now); err != nil {
		t.Fatal(err)
	}
	after := cached(t, cache, st, c, "")
	wantSearches(t, cache, 1)
	if slices.Contains(groupIDs(after), ann.ID) || len(after.Groups()) != 2 {
		t.Errorf("after the merge the cache proposes %v", groupIDs(after))
	}
	if after.Card("ann-1") != nil || !strings.Contains(string(after.Card("ann-2").Data), "second") {
		t.Error("the cached cards are not those after the merge")
	}
	if m := after.Card("team"); m == nil || !strings.Contains(string(m.Data), "urn:uuid:ann-2") {
		t.Error("the cached group card is not the one the merge rewrote")
	}
	// Merge all, in one go: the entry follows again.
	out, err := after.MergeAuto(ctx, merges.NewBatch(), now, false)
	if err != nil || len(out) != 2 {
		t.Fatalf("merge all: %v %+v", err, out)
	}
	last := cached(t, cache, st, c, "")
	wantSearches(t, cache, 1)
	if len(last.Groups()) != 0 || last.Cards() != 6 {
		t.Errorf("after merging all the cache has %d cards and groups %v", last.Cards(), groupIDs(last))
	}
}

// A write by another client between the Load and the merge: the entry is
// not moved, and the next Load reads the book again.
func TestCacheDropsWhatOthersWrote(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, threeGroupsOneTeam())
	cache := merges.NewCache(4, 1<<20)
	b := cached(t, cache, st, c, "")
	put(t, st, c, "carl", person("carl", "Carl", "Weiss", "+33612345678", "edited"))
	bob := groupOf(t, b, "bob-1")
	if _, err := b.Merge(ctx, merges.Request{Group: bob.ID, Version: b.Version(bob)}, now); err != nil {
		t.Fatal(err)
	}
	after := cached(t, cache, st, c, "")
	wantSearches(t, cache, 2)
	if !strings.Contains(string(after.Card("carl").Data), "edited") || slices.Contains(groupIDs(after), bob.ID) {
		t.Error("the book was not read again after another client's write")
	}
}

// The cache keeps at most its number of books, the least recently used
// going first, and no book larger than its bytes.
func TestCacheBounds(t *testing.T) {
	st, c := newBook(t, threeGroupsOneTeam())
	other := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "work"}
	if err := st.CreateCollection(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	put(t, st, other, "x-1", person("x-1", "Xavier", "Yu", "+4915100000001", ""))
	put(t, st, other, "x-2", person("x-2", "Xavier", "Yu", "+4915100000001", "two"))

	cache := merges.NewCache(1, 1<<20)
	cached(t, cache, st, c, "")
	cached(t, cache, st, other, "")
	cached(t, cache, st, c, "")
	wantSearches(t, cache, 3)
	cached(t, cache, st, c, "")
	wantSearches(t, cache, 3)

	tiny := merges.NewCache(4, 100)
	cached(t, tiny, st, c, "")
	cached(t, tiny, st, c, "")
	wantSearches(t, tiny, 2)
}
