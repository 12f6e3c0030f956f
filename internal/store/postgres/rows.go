package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rolodav/rolodav/internal/store"
)

var _ store.Rows = (*Store)(nil)

// ReadRows implements store.Rows in one REPEATABLE READ snapshot, held
// until fn returns (unlike the streaming reads of Store, which page).
//
// The tables are locked in SHARE mode first (before the snapshot is
// taken: LOCK takes none), so that other processes' writers wait until
// the snapshot ends. A writer may hold one of the tables and wait for
// another the copy holds: the copy waits a moment for each lock, lets go
// of all of them when one does not come, and tries again; fn has not run
// then. The snapshot may stay idle while the target is written and
// checked, so the pool's idle-in-transaction limit is lifted for it.
func (s *Store) ReadRows(ctx context.Context, fn func(r store.RowReader) error) error {
	names := make([]string, len(store.Tables))
	for i, t := range store.Tables {
		names[i] = sqlIdent(t.Name)
	}
	for attempt := 1; ; attempt++ {
		locked := false
		err := s.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL idle_in_transaction_session_timeout = 0`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '200ms'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN SHARE MODE`); err != nil {
				return fmt.Errorf("postgres: lock the tables: %w", err)
			}
			locked = true
			return fn(&rowTx{tx: tx})
		})
		var pe *pgconn.PgError
		if locked || !errors.As(err, &pe) || (pe.Code != "55P03" && pe.Code != "40P01") || attempt == lockAttempts {
			return err
		}
		select {
		case <-time.After(time.Duration(min(attempt, 10)) * 50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// lockAttempts bounds how often ReadRows tries to lock the tables: a
// minute or so of a busy server's writers.
const lockAttempts = 100

// WriteRows implements store.Rows. It is not retried as write is: fn
// consumes rows it cannot read again. Identities are raised last, just
// before the commit; PostgreSQL does not roll a sequence back, so a
// transaction that fails at its commit leaves them raised, which only
// skips ids.
func (s *Store) WriteRows(ctx context.Context, fn func(w store.RowWriter) error) error {
	return s.tx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		// The copy may read its source for a while between two writes.
		if _, err := tx.Exec(ctx, `SET LOCAL idle_in_transaction_session_timeout = 0`); err != nil {
			return err
		}
		w := &rowTx{tx: tx, raise: map[string]int64{}}
		if err := fn(w); err != nil {
			return err
		}
		return w.setIdentities(ctx)
	})
}

// rowTx is store.RowReader and store.RowWriter in one transaction.
type rowTx struct {
	tx    pgx.Tx
	raise map[string]int64 // by RaiseIdentities: ids not to hand out
}

func (r *rowTx) Count(ctx context.Context, t *store.Table) (int64, error) {
	var n int64
	if err := r.tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+sqlIdent(t.Name)).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", t.Name, err)
	}
	return n, nil
}

func (r *rowTx) Scan(ctx context.Context, t *store.Table) store.RowSeq {
	return func(yield func([]any, error) bool) {
		q := `SELECT ` + sqlIdents(t.ColumnNames()) + ` FROM ` + sqlIdent(t.Name) + ` ORDER BY ` + sqlIdents(t.Order())
		rows, err := r.tx.Query(ctx, q)
		if err != nil {
			yield(nil, fmt.Errorf("postgres: read %s: %w", t.Name, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			raw, err := rows.Values()
			if err != nil {
				yield(nil, fmt.Errorf("postgres: read %s: %w", t.Name, err))
				return
			}
			row, err := t.Row(raw)
			if err != nil {
				yield(nil, fmt.Errorf("postgres: %w", err))
				return
			}
			if !yield(row, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("postgres: read %s: %w", t.Name, err))
		}
	}
}

// identity returns the highest id handed out in t: the sequence's last
// value (none before its first use) or the largest id, whichever is more
// (rows inserted with their ids do not move the sequence).
func (r *rowTx) identity(ctx context.Context, t *store.Table) (int64, error) {
	var id int64
	err := r.tx.QueryRow(ctx, `SELECT GREATEST(
			COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass), 0),
			COALESCE((SELECT MAX(`+sqlIdent(t.Identity)+`) FROM `+sqlIdent(t.Name)+`), 0))`,
		t.Name, t.Identity).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgres: identity of %s: %w", t.Name, err)
	}
	return id, nil
}

func (r *rowTx) Identities(ctx context.Context) (map[string]int64, error) {
	ids := map[string]int64{}
	for i := range store.Tables {
		t := &store.Tables[i]
		if t.Identity == "" {
			continue
		}
		id, err := r.identity(ctx, t)
		if err != nil {
			return nil, err
		}
		ids[t.Name] = id
	}
	return ids, nil
}

// Empty deletes rather than truncates: TRUNCATE would wait for every
// other transaction that read a table, a copy's own read included when
// both ends are one database.
func (r *rowTx) Empty(ctx context.Context) error {
	for i := len(store.Tables) - 1; i >= 0; i-- {
		if _, err := r.tx.Exec(ctx, `DELETE FROM `+sqlIdent(store.Tables[i].Name)); err != nil {
			return fmt.Errorf("postgres: empty %s: %w", store.Tables[i].Name, err)
		}
	}
	return nil
}

// Insert implements store.RowWriter with COPY.
func (r *rowTx) Insert(ctx context.Context, t *store.Table, rows store.RowSeq) (int64, error) {
	next, stop := iter.Pull2(iter.Seq2[[]any, error](rows))
	defer stop()
	src := &pulled{next: next}
	n, err := r.tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.ColumnNames(), src)
	if src.err != nil {
		return n, src.err // the source's error, rather than COPY's report of it
	}
	if err != nil {
		return n, fmt.Errorf("postgres: insert into %s: %w", t.Name, err)
	}
	return n, nil
}

// pulled is a pulled iterator of rows as pgx.CopyFromSource.
type pulled struct {
	next func() ([]any, error, bool)
	row  []any
	err  error
}

func (p *pulled) Next() bool {
	if p.err != nil {
		return false
	}
	row, err, ok := p.next()
	if !ok {
		return false
	}
	if err != nil {
		p.err = err
		return false
	}
	p.row = row
	return true
}

func (p *pulled) Values() ([]any, error) { return p.row, nil }

func (p *pulled) Err() error { return p.err }

func (r *rowTx) RaiseIdentities(ctx context.Context, ids map[string]int64) error {
	for name, id := range ids {
		r.raise[name] = max(r.raise[name], id)
	}
	return nil
}

// setIdentities moves every identity's sequence past the ids inserted and
// those RaiseIdentities named.
func (r *rowTx) setIdentities(ctx context.Context) error {
	for i := range store.Tables {
		t := &store.Tables[i]
		if t.Identity == "" {
			continue
		}
		id, err := r.identity(ctx, t)
		if err != nil {
			return err
		}
		if id = max(id, r.raise[t.Name]); id == 0 {
			continue // nothing handed out: the sequence starts at 1
		}
		if _, err := r.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3)`, t.Name, t.Identity, id); err != nil {
			return fmt.Errorf("postgres: identity of %s: %w", t.Name, err)
		}
	}
	return nil
}

// sqlIdent quotes an identifier of store.Tables ("time" is a keyword).
func sqlIdent(name string) string { return `"` + name + `"` }

func sqlIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = sqlIdent(n)
	}
	return strings.Join(q, ", ")
}
