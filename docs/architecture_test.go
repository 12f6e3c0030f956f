// Package docs_test keeps docs/architecture.md true to the tree: every
// package is in its layout table, and the table names no package that is
// gone.
package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestLayoutTableNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| ([^|]+)\\|")
	name := regexp.MustCompile("`([a-z0-9/_]+)`")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		for _, n := range name.FindAllStringSubmatch(m[1], -1) {
			table[n[1]] = true
		}
	}
	pkgs := map[string]bool{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if d.IsDir() && path != ".." && (strings.HasPrefix(base, ".") || base == "testdata" || base == "node_modules" || base == "docs") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go") {
			rel, err := filepath.Rel("..", filepath.Dir(path))
			if err != nil {
				return err
			}
			pkgs[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, gone []string
	for p := range pkgs {
		if !table[p] {
			missing = append(missing, p)
		}
	}
	for p := range table {
		if !pkgs[p] {
			gone = append(gone, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(gone)
	if len(missing) > 0 {
		t.Errorf("packages missing from the layout table of docs/architecture.md: %v", missing)
	}
	if len(gone) > 0 {
		t.Errorf("the layout table of docs/architecture.md names packages that do not exist: %v", gone)
	}
}
