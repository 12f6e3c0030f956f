package dedup_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rolodav/rolodav/dedup"
	"github.com/rolodav/rolodav/dedup/gen"
)

func TestDebugModel(t *testing.T) {
	switch v := os.Getenv("DEBUG_MODEL"); v {
	case "":
		t.Skip()
	case "gen":
		g := gen.Generate(gen.Options{Cards: 10000, Seed: 1})
		fmt.Println(dedup.Debug(g.Cards, g.Region, g.Person))
	default:
		l := loadLabelled(t, filepath.Join(dataDir(), v+".vcf"))
		fmt.Println(dedup.Debug(l.book.Cards, l.region, l.book.Person))
	}
}
