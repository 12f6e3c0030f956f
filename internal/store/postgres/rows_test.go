package postgres

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// store.Tables declares exactly the tables and columns the migrations
// make, so that `rolodav store copy` moves all of them: a migration that
// adds a table or a column without declaring it fails here.
func TestTablesMatchSchema(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'YES', is_identity = 'YES'
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct {
		typ                string
		nullable, identity bool
	}
	inDB := map[string]map[string]column{}
	for rows.Next() {
		var table, name string
		var c column
		if err := rows.Scan(&table, &name, &c.typ, &c.nullable, &c.identity); err != nil {
			t.Fatal(err)
		}
		if inDB[table] == nil {
			inDB[table] = map[string]column{}
		}
		inDB[table][name] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	types := map[store.Type]string{store.Int: "bigint", store.NullInt: "bigint", store.Text: "text",
		store.NullText: "text", store.Bytes: "bytea", store.Bool: "boolean"}
	declared := map[string]bool{}
	for _, tb := range store.Tables {
		declared[tb.Name] = true
		cols, ok := inDB[tb.Name]
		if !ok {
			t.Errorf("store.Tables declares %s, which the database does not have", tb.Name)
			continue
		}
		identity := ""
		for _, c := range tb.Columns {
			got, ok := cols[c.Name]
			if !ok {
				t.Errorf("store.Tables declares %s.%s, which the database does not have", tb.Name, c.Name)
				continue
			}
			if got.typ != types[c.Type] || got.nullable != c.Type.Nullable() {
				t.Errorf("%s.%s is %s (nullable %v), declared %s", tb.Name, c.Name, got.typ, got.nullable, c.Type)
			}
			if got.identity {
				identity = c.Name
			}
		}
		for name, c := range cols {
			if !slices.Contains(tb.ColumnNames(), name) {
				t.Errorf("%s.%s (%s) is not declared in store.Tables", tb.Name, name, c.typ)
			}
		}
		if identity != tb.Identity {
			t.Errorf("%s: identity column %q, declared %q", tb.Name, identity, tb.Identity)
		}
		if key := primaryKey(t, s, tb.Name); !slices.Equal(key, tb.Key) {
			t.Errorf("%s: primary key %v, declared %v", tb.Name, key, tb.Key)
		}
	}
	for name := range inDB {
		if !declared[name] {
			t.Errorf("the database has table %s, which store.Tables does not declare", name)
		}
	}
}

func primaryKey(t *testing.T, s *Store, table string) []string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT k.column_name
		FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema
			AND k.constraint_name = c.constraint_name
		WHERE c.table_schema = current_schema() AND c.table_name = $1 AND c.constraint_type = 'PRIMARY KEY'
		ORDER BY k.ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var key []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		key = append(key, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return key
}

// Both drivers reach the same schema version, so that a store copied from
// one to the other has the tables the other expects.
func TestSchemaVersionAsSQLite(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want, err := lite.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openTest(t).SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got == 0 {
		t.Errorf("PostgreSQL's schema version is %d, SQLite's %d", got, want)
	}
}
