// Package docs_test keeps docs/architecture.md true to the tree: every
// package is in its layout table, the table names no package that is gone,
// and a package imports only packages below its row.
package docs_test

import (
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/rolodav/rolodav/"

// layoutRows returns the packages of each row of the layout table, in
// order.
func layoutRows(t *testing.T) [][]string {
	t.Helper()
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([^|]+)\|`)
	name := regexp.MustCompile("`([a-z0-9/_]+)`")
	var rows [][]string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		var pkgs []string
		for _, n := range name.FindAllStringSubmatch(m[1], -1) {
			pkgs = append(pkgs, n[1])
		}
		if len(pkgs) > 0 {
			rows = append(rows, pkgs)
		}
	}
	return rows
}

// packages returns the module's packages (directories with non-test Go
// files) with the module's packages each imports.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		base := d.Name()
		if path != ".." && (strings.HasPrefix(base, ".") || base == "testdata" || base == "node_modules") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		if len(p.GoFiles) == 0 && len(p.CgoFiles) == 0 {
			return nil // only tests, like this one
		}
		rel, err := filepath.Rel("..", path)
		if err != nil {
			return err
		}
		var own []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				own = append(own, strings.TrimPrefix(imp, module))
			}
		}
		out[filepath.ToSlash(rel)] = own
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayoutTableNamesEveryPackage(t *testing.T) {
	row := map[string]int{}
	for i, pkgs := range layoutRows(t) {
		for _, p := range pkgs {
			row[p] = i
		}
	}
	pkgs := packages(t)
	for p := range pkgs {
		if _, ok := row[p]; !ok {
			t.Errorf("package %s is missing from the layout table of docs/architecture.md", p)
		}
	}
	for p := range row {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("the layout table of docs/architecture.md names %s, which is not a package", p)
		}
	}
}

// The table runs from the edges down to the store, as the document says:
// an import of a package in the same row or above it runs the wrong way.
func TestImportsRunDownTheTable(t *testing.T) {
	row := map[string]int{}
	for i, pkgs := range layoutRows(t) {
		for _, p := range pkgs {
			row[p] = i
		}
	}
	pkgs := packages(t)
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		for _, imp := range pkgs[p] {
			from, ok1 := row[p]
			to, ok2 := row[imp]
			if ok1 && ok2 && to <= from {
				t.Errorf("%s imports %s, which is not below it in the layout table of docs/architecture.md", p, imp)
			}
		}
	}
}
