package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/rolodav/rolodav/internal/store"
)

var _ store.Rows = (*Store)(nil)

// SchemaVersion returns the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// ReadRows implements store.Rows: a read transaction is one snapshot of
// the WAL.
//
// It runs on the writer's connection, whose transactions begin IMMEDIATE:
// holding SQLite's write lock, so that other processes' writers wait
// (their busy timeout) and then fail rather than write what the snapshot
// misses.
func (s *Store) ReadRows(ctx context.Context, fn func(r store.RowReader) error) error {
	return s.write(ctx, func(tx *sql.Tx) error { return fn(rowTx{tx}) })
}

// WriteRows implements store.Rows on the writer's connection. SQLite keeps
// AUTOINCREMENT's counter (sqlite_sequence) at or above every id inserted,
// explicit ones included.
func (s *Store) WriteRows(ctx context.Context, fn func(w store.RowWriter) error) error {
	return s.write(ctx, func(tx *sql.Tx) error { return fn(rowTx{tx}) })
}

// rowTx is store.RowReader and store.RowWriter in one transaction.
type rowTx struct{ tx *sql.Tx }

func (r rowTx) Count(ctx context.Context, t *store.Table) (int64, error) {
	var n int64
	if err := r.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+sqlIdent(t.Name)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", t.Name, err)
	}
	return n, nil
}

func (r rowTx) Scan(ctx context.Context, t *store.Table) store.RowSeq {
	return func(yield func([]any, error) bool) {
		q := `SELECT ` + sqlIdents(t.ColumnNames()) + ` FROM ` + sqlIdent(t.Name) + ` ORDER BY ` + sqlIdents(t.Order())
		rows, err := r.tx.QueryContext(ctx, q)
		if err != nil {
			yield(nil, fmt.Errorf("sqlite: read %s: %w", t.Name, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			raw := make([]any, len(t.Columns))
			ptrs := make([]any, len(raw))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				yield(nil, fmt.Errorf("sqlite: read %s: %w", t.Name, err))
				return
			}
			row, err := t.Row(raw)
			if err != nil {
				yield(nil, fmt.Errorf("sqlite: %w", err))
				return
			}
			if !yield(row, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("sqlite: read %s: %w", t.Name, err))
		}
	}
}

func (r rowTx) Identities(ctx context.Context) (map[string]int64, error) {
	ids := map[string]int64{}
	for _, t := range store.Tables {
		if t.Identity == "" {
			continue
		}
		// sqlite_sequence has a row once the table handed out an id.
		var seq int64
		err := r.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?`, t.Name).Scan(&seq)
		if err != nil {
			return nil, fmt.Errorf("sqlite: identity of %s: %w", t.Name, err)
		}
		ids[t.Name] = seq
	}
	return ids, nil
}

func (r rowTx) Empty(ctx context.Context) error {
	for i := len(store.Tables) - 1; i >= 0; i-- {
		if _, err := r.tx.ExecContext(ctx, `DELETE FROM `+sqlIdent(store.Tables[i].Name)); err != nil {
			return fmt.Errorf("sqlite: empty %s: %w", store.Tables[i].Name, err)
		}
	}
	return nil
}

func (r rowTx) Insert(ctx context.Context, t *store.Table, rows store.RowSeq) (int64, error) {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.Columns)), ", ")
	stmt, err := r.tx.PrepareContext(ctx, `INSERT INTO `+sqlIdent(t.Name)+` (`+sqlIdents(t.ColumnNames())+`) VALUES (`+marks+`)`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: insert into %s: %w", t.Name, err)
	}
	defer stmt.Close()
	var n int64
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		if len(row) != len(t.Columns) {
			return n, fmt.Errorf("sqlite: insert into %s: %d values for %d columns", t.Name, len(row), len(t.Columns))
		}
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return n, fmt.Errorf("sqlite: insert into %s: %w", t.Name, err)
		}
		n++
	}
	return n, nil
}

func (r rowTx) RaiseIdentities(ctx context.Context, ids map[string]int64) error {
	for _, t := range store.Tables {
		id := ids[t.Name]
		if t.Identity == "" || id <= 0 {
			continue
		}
		res, err := r.tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?`, id, t.Name)
		if err != nil {
			return fmt.Errorf("sqlite: identity of %s: %w", t.Name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: identity of %s: %w", t.Name, err)
		}
		if n > 0 {
			continue
		}
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, t.Name, id); err != nil {
			return fmt.Errorf("sqlite: identity of %s: %w", t.Name, err)
		}
	}
	return nil
}

// sqlIdent quotes an identifier of store.Tables ("time" and "start" are
// keywords somewhere).
func sqlIdent(name string) string { return `"` + name + `"` }

func sqlIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = sqlIdent(n)
	}
	return strings.Join(q, ", ")
}
