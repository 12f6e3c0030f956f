package sqlite

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// store.Tables declares exactly the tables and columns the migrations
// make, so that `rolodav store copy` moves all of them: a migration that
// adds a table or a column without declaring it fails here.
func TestTablesMatchSchema(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	rows, err := s.rdb.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'table'
		AND name NOT IN ('sqlite_sequence', 'schema_version') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[string]string{} // table: its CREATE statement
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		inDB[name] = sql
	}
	rows.Close()
	declared := map[string]bool{}
	for _, tb := range store.Tables {
		declared[tb.Name] = true
		if _, ok := inDB[tb.Name]; !ok {
			t.Errorf("store.Tables declares %s, which the database does not have", tb.Name)
		}
	}
	for name := range inDB {
		if !declared[name] {
			t.Errorf("the database has table %s, which store.Tables does not declare", name)
		}
	}
	for _, tb := range store.Tables {
		if sql, ok := inDB[tb.Name]; ok {
			checkTable(t, s, tb, strings.Contains(strings.ToUpper(sql), "AUTOINCREMENT"))
		}
	}
}

// checkTable compares tb with the table's columns as PRAGMA table_info
// gives them.
func checkTable(t *testing.T, s *Store, tb store.Table, autoincrement bool) {
	t.Helper()
	rows, err := s.rdb.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, tb.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]store.Type{}
	for _, c := range tb.Columns {
		want[c.Name] = c.Type
	}
	var key []string
	keyPos := map[string]int{}
	identity := ""
	seen := map[string]bool{}
	for rows.Next() {
		var name, decl string
		var notNull, pk int
		if err := rows.Scan(&name, &decl, &notNull, &pk); err != nil {
			t.Fatal(err)
		}
		seen[name] = true
		typ, ok := want[name]
		if !ok {
			t.Errorf("%s.%s (%s) is not declared in store.Tables", tb.Name, name, decl)
			continue
		}
		// SQLite lets a key column other than an INTEGER PRIMARY KEY
		// hold NULL unless it says NOT NULL; rolodav never writes one.
		nullable := notNull == 0 && pk == 0
		if !compatible(decl, typ) || nullable != typ.Nullable() {
			t.Errorf("%s.%s is %s (nullable %v), declared %s", tb.Name, name, decl, nullable, typ)
		}
		if pk > 0 {
			key = append(key, name)
			keyPos[name] = pk
			if autoincrement && strings.EqualFold(decl, "INTEGER") {
				identity = name
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("store.Tables declares %s.%s, which the database does not have", tb.Name, name)
		}
	}
	slices.SortFunc(key, func(a, b string) int { return keyPos[a] - keyPos[b] })
	if !slices.Equal(key, tb.Key) {
		t.Errorf("%s: primary key %v, declared %v", tb.Name, key, tb.Key)
	}
	if identity != tb.Identity {
		t.Errorf("%s: AUTOINCREMENT column %q, declared identity %q", tb.Name, identity, tb.Identity)
	}
}

// compatible reports whether SQLite's declared type decl holds values of
// typ. Booleans of the early migrations are INTEGER.
func compatible(decl string, typ store.Type) bool {
	switch strings.ToUpper(decl) {
	case "TEXT":
		return typ == store.Text || typ == store.NullText
	case "BLOB":
		return typ == store.Bytes
	case "BOOLEAN":
		return typ == store.Bool
	case "INTEGER", "BIGINT":
		return typ == store.Int || typ == store.NullInt || typ == store.Bool
	}
	return false
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
// handed out again.
func TestRowsIdentities(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
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
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "b"}
	if err := s.CreateCollection(ctx, c); err != nil || c.ID != 8 {
		t.Errorf("a collection created after id 7 was inserted: id %d, %v", c.ID, err)
	}
	p := &store.AppPassword{Owner: "u", Name: "n", Digest: "e"}
	if err := s.CreateAppPassword(ctx, p); err != nil || p.ID != 10 {
		t.Errorf("an app password created after ids up to 9 were raised: id %d, %v", p.ID, err)
	}
	var ids map[string]int64
	if err := s.ReadRows(ctx, func(r store.RowReader) (err error) { ids, err = r.Identities(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"collections": 8, "merges": 4, "app_passwords": 10, "signins": 0, "notices": 0, "push_keys": 0, "push_registrations": 0, "migrations": 0}; !maps.Equal(ids, want) {
		t.Errorf("identities %v, want %v", ids, want)
	}
	u, err := s.GetUser(ctx, "u")
	if err != nil || !u.RequireAppPasswords {
		t.Errorf("inserted user: %+v, %v", u, err)
	}
}
