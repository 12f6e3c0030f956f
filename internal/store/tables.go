package store

import (
	"fmt"
	"iter"
	"strconv"
)

// Type is the type of a column as rows carry it from one driver to the
// other (see Rows): each driver maps its own column types onto these.
type Type int

// Types of column, with the Go type of their values.
const (
	Int      Type = iota + 1 // int64
	Text                     // string
	Bytes                    // []byte, never nil
	Bool                     // bool
	NullInt                  // int64 or nil
	NullText                 // string or nil
)

func (t Type) String() string {
	switch t {
	case Int:
		return "Int"
	case Text:
		return "Text"
	case Bytes:
		return "Bytes"
	case Bool:
		return "Bool"
	case NullInt:
		return "NullInt"
	case NullText:
		return "NullText"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Nullable reports whether a column of type t may hold NULL (nil).
func (t Type) Nullable() bool { return t == NullInt || t == NullText }

// Column is one column of a table.
type Column struct {
	Name string
	Type Type
}

// Table declares one table of the schema.
type Table struct {
	Name    string
	Columns []Column
	// Key is the primary key; nil for a table without one (merged_away).
	Key []string
	// Identity is the column whose values the database hands out and
	// never reuses (SQLite's AUTOINCREMENT, PostgreSQL's identity), or "".
	Identity string
}

// ColumnNames returns the names of t's columns, in order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Order returns the columns t's rows are read in the order of: its key,
// or every column when it has none.
func (t *Table) Order() []string {
	if t.Key != nil {
		return t.Key
	}
	return t.ColumnNames()
}

// Tables declares every table of the schema (but schema_version, which
// each driver keeps for its own migrations), tables referenced by others
// first: inserting in this order satisfies every foreign key. Both drivers'
// schemas have exactly these tables and columns (tests check it against the
// migrated databases), so that a store moves from one driver to the other
// row for row (Rows). A migration that adds a table or a column adds it
// here.
var Tables = []Table{
	{Name: "users", Key: []string{"login"}, Columns: []Column{
		{"login", Text}, {"password_hash", Text}, {"created", Int}, {"require_app_passwords", Bool},
		{"used_bytes", Int}, {"language", Text}, {"mail_off", Text}, {"backend", Text}, {"two_factor", Bool},
		{"region", Text}, {"time_zone", Text},
	}},
	{Name: "collections", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"owner", Text}, {"kind", Text}, {"name", Text}, {"displayname", Text},
		{"description", Text}, {"color", Text}, {"ord", Int}, {"components", Text}, {"timezone", Text},
		{"created", Int}, {"modified", Int}, {"sync_seq", Int}, {"sync_floor", Int},
		{"obj_count", Int}, {"obj_bytes", Int},
	}},
	{Name: "collection_props", Key: []string{"collection", "name"}, Columns: []Column{
		{"collection", Int}, {"name", Text}, {"value", Text},
	}},
	{Name: "objects", Key: []string{"collection", "name"}, Columns: []Column{
		{"collection", Int}, {"name", Text}, {"uid", NullText}, {"etag", Text}, {"size", Int},
		{"modified", Int}, {"seq", Int}, {"component", Text}, {"first_start", Int}, {"last_end", Int},
		{"data", Bytes},
	}},
	{Name: "changes", Key: []string{"collection", "name"}, Columns: []Column{
		{"collection", Int}, {"name", Text}, {"seq", Int}, {"deleted", Bool}, {"changed", Int},
	}},
	{Name: "merges", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"collection", Int}, {"reference", Text}, {"removed", Text}, {"grps", Text},
		{"undo", Bytes}, {"created", Int}, {"undone", NullInt}, {"reference_etag", Text},
		{"batch", Text},
	}},
	{Name: "merged_away", Columns: []Column{
		{"collection", Int}, {"name", Text}, {"uid", NullText}, {"survivor", Text}, {"merge_id", Int},
		{"survivor_uid", Text},
	}},
	{Name: "hidden_groups", Key: []string{"collection", "uids"}, Columns: []Column{
		{"collection", Int}, {"uids", Text},
	}},
	{Name: "app_passwords", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"owner", Text}, {"name", Text}, {"digest", Text}, {"created", Int},
		{"last_used", Int}, {"last_addr", Text}, {"last_client", Text},
	}},
	{Name: "sessions", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"owner", Text}, {"csrf", Text}, {"created", Int}, {"expires", Int},
		{"last_seen", Int}, {"addr", Text}, {"client", Text}, {"partial", Bool},
	}},
	{Name: "signins", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"login", Text}, {"time", Int}, {"ok", Bool}, {"via", Text}, {"credential", Text},
		{"addr", Text}, {"client", Text}, {"new_address", Bool}, {"new_device", Bool}, {"network", Text},
	}},
	{Name: "signin_failures", Key: []string{"subject"}, Columns: []Column{
		{"subject", Text}, {"failures", Int}, {"start", Int}, {"locked_until", Int}, {"expires", Int},
	}},
	{Name: "notices", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"login", Text}, {"kind", Text}, {"recipient", Text}, {"language", Text},
		{"time", Int}, {"addr", Text}, {"client", Text}, {"detail", Text}, {"attempts", Int},
		{"not_before", Int}, {"lease_until", Int}, {"sent", Int}, {"gave_up", Int}, {"last_error", Text},
	}},
	{Name: "totp_secrets", Key: []string{"login"}, Columns: []Column{
		{"login", Text}, {"secret", Text}, {"pending", Bool}, {"last_step", Int}, {"since", Int},
	}},
	{Name: "emergency_codes", Key: []string{"login", "digest"}, Columns: []Column{
		{"login", Text}, {"digest", Text},
	}},
	{Name: "runs", Key: []string{"name"}, Columns: []Column{
		{"name", Text}, {"started", Int},
	}},
	{Name: "secrets", Key: []string{"name"}, Columns: []Column{
		{"name", Text}, {"value", Text}, {"created", Int},
	}},
	{Name: "push_keys", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"private", Text}, {"public", Text}, {"created", Int}, {"retired", Int},
	}},
	{Name: "push_registrations", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"token", Text}, {"login", Text}, {"collection", NullInt}, {"home", Text},
		{"gone", Int}, {"resource", Text}, {"public_key", Text}, {"auth_secret", Text}, {"content", Bool},
		{"property", Bool}, {"key_id", Int}, {"client", Text}, {"created", Int}, {"expires", Int},
		{"last_sent", Int},
	}},
	{Name: "push_queue", Key: []string{"registration"}, Columns: []Column{
		{"registration", Int}, {"content", Bool}, {"property", Bool}, {"rotation", Bool},
		{"queued", Int}, {"version", Int}, {"attempts", Int}, {"not_before", Int},
		{"lease_until", Int}, {"last_error", Text},
	}},
	{Name: "migration_sources", Key: []string{"owner", "url"}, Columns: []Column{
		{"owner", Text}, {"url", Text}, {"collection", Int}, {"sync_token", Text}, {"updated", Int},
	}},
	{Name: "migrations", Key: []string{"id"}, Identity: "id", Columns: []Column{
		{"id", Int}, {"owner", Text}, {"source", Text}, {"source_user", Text}, {"started", Int},
		{"heartbeat", Int}, {"finished", Int}, {"state", Text}, {"report", Bytes}, {"error", Text},
	}},
}

// Value converts v, a value a driver read from a column of type t, to the
// Go type of t (see Type): drivers store booleans as integers, text as
// bytes, and so on.
func (t Type) Value(v any) (any, error) {
	if v == nil {
		if t.Nullable() {
			return nil, nil
		}
		return nil, fmt.Errorf("NULL in a %s column", t)
	}
	switch t {
	case Int, NullInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		}
	case Text, NullText:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case Bytes:
		switch x := v.(type) {
		case []byte:
			if x == nil {
				return []byte{}, nil
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
	case Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case int32:
			return x != 0, nil
		}
	}
	return nil, fmt.Errorf("a %T in a %s column", v, t)
}

// RowSeq yields the rows of a table (see Rows), or an error that ends
// them.
type RowSeq = iter.Seq2[[]any, error]

// Row converts raw, a row of t as a driver read it, to the Go types of
// t's columns (see Type.Value), in place.
func (t *Table) Row(raw []any) ([]any, error) {
	if len(raw) != len(t.Columns) {
		return nil, fmt.Errorf("%s: %d values for %d columns", t.Name, len(raw), len(t.Columns))
	}
	for i, c := range t.Columns {
		v, err := c.Type.Value(raw[i])
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
		}
		raw[i] = v
	}
	return raw, nil
}
