package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o store.Options) store.Store {
		s, err := Open(context.Background(), pgtest.URL(t), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two stores on one database, as two server processes open it.
func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		url := pgtest.URL(t)
		a, err := Open(context.Background(), url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(context.Background(), url, store.Options{})
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		return a, b
	})
}
