package postgres

import (
	"context"
	"errors"
	"maps"
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

func table(name string) *store.Table {
	for i := range store.Tables {
		if store.Tables[i].Name == name {
			return &store.Tables[i]
		}
	}
	panic("no table " + name)
}

// row is a row of table name with vals, and zero values elsewhere.
func row(name string, vals map[string]any) []any {
	t := table(name)
	out := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		v, ok := vals[c.Name]
		if !ok {
			v = map[store.Type]any{store.Int: int64(0), store.Text: "", store.Bytes: []byte{},
				store.Bool: false}[c.Type]
		}
		out[i] = v
	}
	return out
}

func rowsOf(rows ...[]any) store.RowSeq {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Ids inserted as they are, and those RaiseIdentities names, are not
// handed out again; a failed WriteRows leaves nothing.
func TestRowsIdentities(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	insert := func(w store.RowWriter, name string, rows ...[]any) {
		t.Helper()
		if n, err := w.Insert(ctx, table(name), rowsOf(rows...)); err != nil || n != int64(len(rows)) {
			t.Fatalf("insert into %s: %d, %v", name, n, err)
		}
	}
	err := s.WriteRows(ctx, func(w store.RowWriter) error {
		insert(w, "users", row("users", map[string]any{"login": "u", "require_app_passwords": true}))
		insert(w, "collections", row("collections", map[string]any{"id": int64(7), "owner": "u", "kind": "card", "name": "a"}))
		insert(w, "app_passwords", row("app_passwords", map[string]any{"id": int64(3), "owner": "u", "digest": "d"}))
		return w.RaiseIdentities(ctx, map[string]int64{"app_passwords": 9, "merges": 4})
	})
	if err != nil {
		t.Fatal(err)
	}
	var coll, app int64
	err = s.pool.QueryRow(ctx, `INSERT INTO collections (owner, kind, name, created, modified)
		VALUES ('u', 'card', 'b', 0, 0) RETURNING id`).Scan(&coll)
	if err != nil || coll != 8 {
		t.Errorf("a collection created after id 7 was inserted: id %d, %v", coll, err)
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO app_passwords (owner, name, digest, created)
		VALUES ('u', 'n', 'e', 0) RETURNING id`).Scan(&app)
	if err != nil || app != 10 {
		t.Errorf("an app password created after ids up to 9 were raised: id %d, %v", app, err)
	}
	var ids map[string]int64
	if err := s.ReadRows(ctx, func(r store.RowReader) (err error) { ids, err = r.Identities(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"collections": 8, "merges": 4, "app_passwords": 10, "signins": 0, "notices": 0, "push_keys": 0, "push_registrations": 0, "migrations": 0}; !maps.Equal(ids, want) {
		t.Errorf("identities %v, want %v", ids, want)
	}

	boom := errors.New("boom")
	err = s.WriteRows(ctx, func(w store.RowWriter) error {
		if err := w.Empty(ctx); err != nil {
			return err
		}
		insert(w, "users", row("users", map[string]any{"login": "v"}))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteRows: %v", err)
	}
	var users []string
	err = s.ReadRows(ctx, func(r store.RowReader) error {
		for row, err := range r.Scan(ctx, table("users")) {
			if err != nil {
				return err
			}
			users = append(users, row[0].(string))
		}
		return nil
	})
	if err != nil || !slices.Equal(users, []string{"u"}) {
		t.Errorf("users after a failed WriteRows: %v, %v", users, err)
	}
}
