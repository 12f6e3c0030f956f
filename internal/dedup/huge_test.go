package dedup_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/dedup/gen"
)

// hugeCard is a card of one person with n phones, n e-mail addresses and n
// postal addresses, and a name of n words.
func hugeCard(uid string, n int) dedup.Card {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Hugo")
	for i := range n {
		fmt.Fprintf(&b, " W%d", i)
	}
	b.WriteString("\r\n")
	for i := range n {
		fmt.Fprintf(&b, "TEL:+49 30 %07d\r\nEMAIL:hugo%d@example.org\r\nADR:;;%d Main Street;Berlin;;%05d;Germany\r\n", i, i, i, i)
	}
	b.WriteString("END:VCARD\r\n")
	return dedup.Card{UID: uid, Data: []byte(b.String())}
}

// longNameCard has a name of one word of n letters.
func longNameCard(uid, last string, n int) dedup.Card {
	return dedup.Card{UID: uid, Data: []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Ann " +
		strings.Repeat("x", n) + last + "\r\nTEL:+49 40 5555555\r\nEND:VCARD\r\n")}
}

// TestFindHugeCards: cards with 100 000 values of each kind, or a name
// word of 200 000 letters, cost Find little more than a person's card, and
// are still found as duplicates. Before the values used in matching were
// capped, two such cards took minutes. The budget is far above what Find
// takes now (well under a second), so that it holds on a loaded machine.
func TestFindHugeCards(t *testing.T) {
	const budget = 10 * time.Second * slowdown
	const memBudget = 400 << 20
	bk := gen.Generate(gen.Options{Cards: 1000, Seed: 3})
	cards := append(slices.Clone(bk.Cards),
		hugeCard("huge-a", 100000), hugeCard("huge-b", 100000),
		longNameCard("long-a", "", 200000), longNameCard("long-b", "y", 200000))
	normal, err := dedup.Find(bk.Cards, dedup.Options{Region: bk.Region})
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	groups, err := dedup.Find(cards, dedup.Options{Region: bk.Region})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Find: %v, %d MB allocated", took, alloc>>20)
	if took > budget {
		t.Errorf("Find took %v (budget %v)", took, budget)
	}
	if alloc > memBudget {
		t.Errorf("Find allocated %d MB (budget %d MB)", alloc>>20, memBudget>>20)
	}

	var found []string
	for _, g := range groups {
		if u := g.UIDs[0]; strings.HasPrefix(u, "huge-") || strings.HasPrefix(u, "long-") {
			found = append(found, strings.Join(g.UIDs, " "))
		}
	}
	slices.Sort(found)
	if want := []string{"huge-a huge-b", "long-a long-b"}; !slices.Equal(found, want) {
		t.Errorf("groups of the big cards: %q, want %q", found, want)
	}
	// The other cards are grouped as without them.
	if len(groups) != len(normal)+2 {
		t.Errorf("%d groups, want %d", len(groups), len(normal)+2)
	}
}

// phonesCard is a card of Hugo Huge with n phones from first on.
func phonesCard(uid string, first, n int) dedup.Card {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Hugo Huge\r\nN:Huge;Hugo;;;\r\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "item%d.TEL:+49 30 %07d\r\nitem%d.X-ABLabel:line %d\r\n", i, i, i, i)
	}
	b.WriteString("END:VCARD\r\n")
	return dedup.Card{UID: uid, Data: []byte(b.String())}
}

// TestMergeHugeCards: merging two cards of 100 000 phones each, all but
// one different, costs time and memory in proportion to their size, and
// keeps every phone.
func TestMergeHugeCards(t *testing.T) {
	const n = 100000
	const budget = 10 * time.Second * slowdown
	const allocBudget = 1 << 30
	ref, other := phonesCard("a", 0, n), phonesCard("b", n-1, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	plan, err := dedup.PlanMerge(ref, []dedup.Card{other})
	if err != nil {
		t.Fatal(err)
	}
	merged, _, err := dedup.Merge(ref, []dedup.Card{other}, nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("plan and merge: %v, %d MB allocated", took, alloc>>20)
	if took > budget {
		t.Errorf("plan and merge took %v (budget %v)", took, budget)
	}
	if alloc > allocBudget {
		t.Errorf("plan and merge allocated %d MB (budget %d MB)", alloc>>20, allocBudget>>20)
	}
	if got := strings.Count(string(merged), ".TEL:"); got != 2*n-1 {
		t.Errorf("the merged card has %d phones, want %d", got, 2*n-1)
	}
	if got := strings.Count(string(merged), ".X-ABLabel:"); got != 2*n-1 {
		t.Errorf("the merged card has %d labels, want %d", got, 2*n-1)
	}
	if len(plan.Added) != 2*(n-1) {
		t.Errorf("the plan adds %d values, want %d", len(plan.Added), 2*(n-1))
	}
}

// TestFindHostileBooks: books built to make every compared pair expensive
// (one name, many long addresses or e-mail addresses, long organisations)
// cost Find seconds at most. Before values and addresses were bounded, 60
// cards of 8 addresses of 8 long words took over two minutes.
func TestFindHostileBooks(t *testing.T) {
	const budget = 10 * time.Second * slowdown
	word := func(i, j int) string {
		var b strings.Builder
		for k := 0; k < 60; k++ {
			b.WriteByte(byte('a' + (i*31+j*7+k*k)%26))
		}
		return b.String()
	}
	books := map[string]func(i int) string{
		"8 addresses of 8 long words": func(i int) string {
			var b strings.Builder
			for a := 0; a < 8; a++ {
				fmt.Fprintf(&b, "ADR:;;%d", a)
				for w := 0; w < 8; w++ {
					b.WriteString(" " + word(i+a, w))
				}
				b.WriteString(";Town;;1000;\r\n")
			}
			return b.String()
		},
		"8 long e-mail addresses": func(i int) string {
			var b strings.Builder
			for e := 0; e < 8; e++ {
				fmt.Fprintf(&b, "EMAIL:%s%s@example.org\r\n", strings.Repeat(word(i, e), 100), "x")
			}
			return b.String()
		},
		"a long organisation and title": func(i int) string {
			return "ORG:" + strings.Repeat(word(i, 0), 800) + "\r\nTITLE:" + strings.Repeat(word(i, 1), 800) + "\r\n"
		},
	}
	for name, extra := range books {
		var cards []dedup.Card
		for i := 0; i < 200; i++ {
			uid := fmt.Sprint("h", i)
			cards = append(cards, dedup.Card{UID: uid, Data: []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid +
				"\r\nFN:John Smith\r\nN:Smith;John;;;\r\n" + extra(i) + "END:VCARD\r\n")})
		}
		start := time.Now()
		if _, err := dedup.Find(cards, dedup.Options{}); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("%s: %v", name, took)
		if took > budget {
			t.Errorf("%s: Find took %v (budget %v)", name, took, budget)
		}
	}
}
