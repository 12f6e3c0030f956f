package dedup_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rolodav/rolodav/dedup"
	"github.com/rolodav/rolodav/dedup/gen"
)

func TestDebugModel(t *testing.T) {
	switch v := os.Getenv("DEBUG_MODEL"); v {
	case "":
		t.Skip()
	case "gen":
		n, _ := strconv.Atoi(os.Getenv("DEBUG_CARDS"))
		g := gen.Generate(gen.Options{Cards: max(n, 10000), Seed: 7})
		fmt.Println(dedup.Debug(g.Cards, g.Region, g.Person))
	default:
		l := loadLabelled(t, v)
		fmt.Println(dedup.Debug(l.book.Cards, l.region, l.book.Person))
	}
}

func TestDebugBlocking(t *testing.T) {
	v := os.Getenv("DEBUG_BLOCK")
	if v == "" {
		t.Skip()
	}
	l := loadLabelled(t, v)
	blocked := dedup.Blocked(l.book.Cards, dedup.Options{Region: l.region})
	by := map[int][]int{}
	for i, p := range l.book.Person {
		by[p] = append(by[p], i)
	}
	n := 0
	for _, m := range by {
		for x := 0; x < len(m) && n < 15; x++ {
			for y := x + 1; y < len(m) && n < 15; y++ {
				if !blocked(m[x], m[y]) {
					n++
					fmt.Printf("%s\n%s\n", l.book.Cards[m[x]].Data, l.book.Cards[m[y]].Data)
				}
			}
		}
	}
}

func TestDebugStats(t *testing.T) {
	if os.Getenv("DEBUG_STATS") == "" {
		t.Skip()
	}
	g := gen.Generate(gen.Options{Cards: 100000, Seed: 7})
	dedup.BlockStats(g.Cards, g.Region)
}

func TestDebugMissed(t *testing.T) {
	v := os.Getenv("DEBUG_MISSED")
	if v == "" {
		t.Skip()
	}
	l := loadLabelled(t, v)
	fmt.Println(dedup.DebugMissed(l.book.Cards, l.region, l.book.Person))
}

func TestDebugGroups(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DEBUG_GROUPS"))
	if n == 0 {
		t.Skip()
	}
	g := gen.Generate(gen.Options{Cards: n, Seed: 7})
	groups, _ := dedup.Find(g.Cards, dedup.Options{Region: g.Region})
	fmt.Println(measure(g, groups))
	if os.Getenv("DEBUG_MISSED_GEN") != "" {
		fmt.Println(dedup.DebugMissed(g.Cards, g.Region, g.Person))
	}
}
