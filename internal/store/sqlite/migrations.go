package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Moving from another provider: the records of store.Migrations.

// GetMigrationSource implements store.Migrations.
func (s *Store) GetMigrationSource(ctx context.Context, owner, url string) (*store.MigrationSource, error) {
	src := store.MigrationSource{Owner: owner, URL: url}
	var updated int64
	err := s.rdb.QueryRowContext(ctx, `SELECT collection, sync_token, updated FROM migration_sources
		WHERE owner = ? AND url = ?`, owner, url).Scan(&src.Collection, &src.SyncToken, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration source %s of %s: %w", url, owner, err)
	}
	src.Updated = fromMicros(updated)
	return &src, nil
}

// PutMigrationSource implements store.Migrations. The owner of the
// collection is checked in the write transaction, which no deletion of
// the collection can come between.
func (s *Store) PutMigrationSource(ctx context.Context, src *store.MigrationSource) error {
	if src.Owner == "" || src.URL == "" {
		return fmt.Errorf("sqlite: put migration source: owner and URL are required")
	}
	updated := src.Updated
	if updated.IsZero() {
		updated = now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		owner, err := collOwner(ctx, tx, src.Collection)
		if err != nil {
			return err
		}
		if owner != src.Owner {
			return fmt.Errorf("collection %d: %w", src.Collection, store.ErrNotFound) // not theirs: as if absent
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO migration_sources (owner, url, collection, sync_token, updated)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner, url) DO UPDATE SET collection = excluded.collection,
				sync_token = excluded.sync_token, updated = excluded.updated`,
			src.Owner, src.URL, src.Collection, src.SyncToken, micros(updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put migration source %s of %s: %w", src.URL, src.Owner, err)
	}
	src.Updated = updated
	return nil
}

const migrationCols = `id, owner, source, source_user, started, heartbeat, finished, state, report, error`

func scanMigration(sc interface{ Scan(...any) error }) (store.Migration, error) {
	var m store.Migration
	var started, heartbeat, finished int64
	err := sc.Scan(&m.ID, &m.Owner, &m.Source, &m.SourceUser, &started, &heartbeat, &finished, &m.State, &m.Report, &m.Error)
	if err != nil {
		return m, err
	}
	m.Started, m.Heartbeat, m.Finished = fromMicros(started), fromMicros(heartbeat), optTime(finished)
	return m, nil
}

// StartMigration implements store.Migrations. The write transaction
// (BEGIN IMMEDIATE) serialises it with every other writer, in any
// process: the check of the running migration and the insert are one
// step.
func (s *Store) StartMigration(ctx context.Context, m *store.Migration) error {
	if m.Owner == "" || m.Source == "" || m.Started.IsZero() {
		return fmt.Errorf("sqlite: start migration: owner, source and start are required")
	}
	report, err := m.StoredReport()
	if err != nil {
		return fmt.Errorf("sqlite: start migration of %s: %w", m.Owner, err)
	}
	started := micros(m.Started)
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, m.Owner); err != nil {
			return err
		}
		// A runner silent for longer than MigrationStale died: its
		// migration ended at its last heartbeat.
		if _, err := tx.ExecContext(ctx, `UPDATE migrations SET state = ?, finished = heartbeat
			WHERE owner = ? AND state = ? AND heartbeat < ?`,
			store.MigrationInterrupted, m.Owner, store.MigrationRunning, micros(m.Started.Add(-store.MigrationStale))); err != nil {
			return err
		}
		var running int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM migrations WHERE owner = ? AND state = ? LIMIT 1`,
			m.Owner, store.MigrationRunning).Scan(&running)
		if err == nil {
			return fmt.Errorf("migration %d is running: %w", running, store.ErrExists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO migrations (owner, source, source_user, started, heartbeat, state, report)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.Owner, m.Source, m.SourceUser, started, started, store.MigrationRunning, report).Scan(&id); err != nil {
			return err
		}
		return pruneMigrations(ctx, tx, m.Owner, id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: start migration of %s: %w", m.Owner, err)
	}
	m.ID, m.Heartbeat, m.Finished, m.State, m.Error = id, m.Started, time.Time{}, store.MigrationRunning, ""
	return nil
}

// pruneMigrations deletes owner's migrations but the one just started
// (id) and the store.MigrationsKept-1 newest others: the one just started
// is the newest unless a clock went back, and its runner is about to
// write to it either way.
func pruneMigrations(ctx context.Context, tx *sql.Tx, owner string, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM migrations WHERE owner = ? AND id <> ? AND id NOT IN
		(SELECT id FROM migrations WHERE owner = ? AND id <> ? ORDER BY started DESC, id DESC LIMIT ?)`,
		owner, id, owner, id, store.MigrationsKept-1)
	return err
}

// UpdateMigration implements store.Migrations.
func (s *Store) UpdateMigration(ctx context.Context, m *store.Migration) error {
	if !m.KnownState() {
		return fmt.Errorf("sqlite: update migration %d of %s: unknown state %q", m.ID, m.Owner, m.State)
	}
	report, err := m.StoredReport()
	if err == nil {
		var res sql.Result
		res, err = s.wdb.ExecContext(ctx, `UPDATE migrations SET heartbeat = ?, finished = ?, state = ?, report = ?, error = ?
			WHERE id = ? AND owner = ? AND state = ?`,
			micros(m.Heartbeat), optMicros(m.Finished), m.State, report, m.Error, m.ID, m.Owner, store.MigrationRunning)
		if err == nil {
			err = affected(res, store.ErrNotFound)
		}
		if errors.Is(err, store.ErrNotFound) {
			var one int
			if s.rdb.QueryRowContext(ctx, `SELECT 1 FROM migrations WHERE id = ? AND owner = ?`, m.ID, m.Owner).Scan(&one) == nil {
				err = store.ErrPrecondition
			}
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: update migration %d of %s: %w", m.ID, m.Owner, err)
	}
	return nil
}

// GetMigration implements store.Migrations.
func (s *Store) GetMigration(ctx context.Context, owner string, id int64) (*store.Migration, error) {
	m, err := scanMigration(s.rdb.QueryRowContext(ctx, `SELECT `+migrationCols+` FROM migrations
		WHERE id = ? AND owner = ?`, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration %d of %s: %w", id, owner, err)
	}
	return &m, nil
}

// ListMigrations implements store.Migrations.
func (s *Store) ListMigrations(ctx context.Context, owner string, limit int) ([]store.Migration, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: migrations of %s: negative limit %d", owner, limit)
	}
	if limit == 0 {
		limit = -1 // SQLite's "no limit"
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+migrationCols+` FROM migrations WHERE owner = ?
		ORDER BY started DESC, id DESC LIMIT ?`, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations of %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.Migration
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: migrations of %s: %w", owner, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: migrations of %s: %w", owner, err)
	}
	return out, nil
}
