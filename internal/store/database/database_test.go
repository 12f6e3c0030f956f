package database

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.sqlite")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ url, kind, target string }{
		{"sqlite:" + dir, SQLite, filepath.Join(dir, FileName)},
		{"sqlite:" + file, SQLite, file},
		{"sqlite:" + dir + "/new-data", SQLite, filepath.Join(dir, "new-data", FileName)},
		{"sqlite:" + dir + "/new.db", SQLite, dir + "/new.db"},
		{"postgres://u:p@h/db", Postgres, "postgres://u:p@h/db"},
		{"postgresql://h/db?sslmode=disable", Postgres, "postgresql://h/db?sslmode=disable"},
	} {
		kind, target, err := Parse(c.url)
		if err != nil || kind != c.kind || target != c.target {
			t.Errorf("Parse(%s) = %s, %s, %v; want %s, %s", c.url, kind, target, err, c.kind, c.target)
		}
	}
	for _, bad := range []string{"", "sqlite:", "mysql://h/db", "./rolodav-data", "postgres://u:secret@h:bad/db"} {
		if _, _, err := Parse(bad); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q): %v, want an error without the password", bad, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h/db":   "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":          "postgres://u@h/db",
		"sqlite:./rolodav-data":      "sqlite:./rolodav-data",
		"postgres://u:secret@h:x/db": "postgres://…@h:x/db",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%s) = %s, want %s", in, got, want)
		}
	}
}
