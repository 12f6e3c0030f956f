// Package testdb opens the store that the tests of the packages above the
// store run on: a new SQLite file, or, when ROLODAV_TEST_DATABASE is
// "postgres", a new database on pgtest's throwaway PostgreSQL. CI runs the
// DAV and page tests both ways, so that every request they make is proven
// on both drivers, not only the store's own conformance suite.
package testdb

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return os.Getenv("ROLODAV_TEST_DATABASE") == "postgres" }

// Main runs the tests (m.Run) and stops the PostgreSQL cluster, if one was
// started; a package that uses Open calls it from its TestMain.
func Main(m *testing.M) int { return pgtest.Main(m) }

var (
	mu  sync.Mutex
	dbs = map[string]string{} // name → PostgreSQL URL
)

// Open opens the store called name (a path under one of t's temporary
// directories, say): opening the same name again, as a restarted server
// would, opens the same database.
func Open(t testing.TB, name string, o store.Options) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if Postgres() {
		mu.Lock()
		url, ok := dbs[name]
		if !ok {
			url = pgtest.URL(t)
			dbs[name] = url
		}
		mu.Unlock()
		st, err = postgres.Open(context.Background(), url, o)
	} else {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		st, err = sqlite.OpenWith(name, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}
