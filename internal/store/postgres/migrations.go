package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// Moving from another provider: the records of store.Migrations.

// GetMigrationSource implements store.Migrations.
func (s *Store) GetMigrationSource(ctx context.Context, owner, url string) (*store.MigrationSource, error) {
	src := store.MigrationSource{Owner: owner, URL: url}
	var updated int64
	err := notFound(s.pool.QueryRow(ctx, `SELECT collection, sync_token, updated FROM migration_sources
		WHERE owner = $1 AND url = $2`, owner, url).Scan(&src.Collection, &src.SyncToken, &updated))
	if err != nil {
		return nil, fmt.Errorf("postgres: migration source %s of %s: %w", url, owner, err)
	}
	src.Updated = fromMicros(updated)
	return &src, nil
}

// PutMigrationSource implements store.Migrations. It locks the collection
// (KEY SHARE, the lock the record's foreign key takes anyway) before it
// checks its owner: a deletion of the collection, or of its owner, waits
// for the record or comes first, and then the collection is not found.
func (s *Store) PutMigrationSource(ctx context.Context, src *store.MigrationSource) error {
	if src.Owner == "" || src.URL == "" {
		return fmt.Errorf("postgres: put migration source: owner and URL are required")
	}
	updated := src.Updated
	if updated.IsZero() {
		updated = now()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var owner string
		err := tx.QueryRow(ctx, `SELECT owner FROM collections WHERE id = $1 FOR KEY SHARE`, src.Collection).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && owner != src.Owner {
			return fmt.Errorf("collection %d of %s: %w", src.Collection, src.Owner, store.ErrNotFound) // not theirs: as if absent
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO migration_sources (owner, url, collection, sync_token, updated)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, url) DO UPDATE SET collection = excluded.collection,
				sync_token = excluded.sync_token, updated = excluded.updated`,
			src.Owner, src.URL, src.Collection, src.SyncToken, micros(updated))
		return err
	})
	if foreignKeyViolation(err) {
		err = fmt.Errorf("collection %d deleted meanwhile: %w", src.Collection, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: put migration source %s of %s: %w", src.URL, src.Owner, err)
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

// StartMigration implements store.Migrations. The user's row is locked
// first (lockUser): starts of one user's migrations, in any process, take
// turns, and each sees the migration the one before it started.
func (s *Store) StartMigration(ctx context.Context, m *store.Migration) error {
	if m.Owner == "" || m.Source == "" || m.Started.IsZero() {
		return fmt.Errorf("postgres: start migration: owner, source and start are required")
	}
	report, err := m.StoredReport()
	if err != nil {
		return fmt.Errorf("postgres: start migration of %s: %w", m.Owner, err)
	}
	started := micros(m.Started)
	var id int64
	err = s.write(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, m.Owner); err != nil {
			return err
		}
		// A runner silent for longer than MigrationStale died: its
		// migration ended at its last heartbeat.
		if _, err := tx.Exec(ctx, `UPDATE migrations SET state = $1, finished = heartbeat
			WHERE owner = $2 AND state = $3 AND heartbeat < $4`,
			store.MigrationInterrupted, m.Owner, store.MigrationRunning, micros(m.Started.Add(-store.MigrationStale))); err != nil {
			return err
		}
		var running int64
		err := tx.QueryRow(ctx, `SELECT id FROM migrations WHERE owner = $1 AND state = $2 LIMIT 1`,
			m.Owner, store.MigrationRunning).Scan(&running)
		if err == nil {
			return fmt.Errorf("migration %d is running: %w", running, store.ErrExists)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO migrations (owner, source, source_user, started, heartbeat, state, report)
			VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id`,
			m.Owner, m.Source, m.SourceUser, started, store.MigrationRunning, report).Scan(&id); err != nil {
			return err
		}
		// All but the one just started and the MigrationsKept-1 newest
		// others go: the one just started is the newest unless a clock
		// went back, and its runner is about to write to it either way.
		_, err = tx.Exec(ctx, `DELETE FROM migrations WHERE owner = $1 AND id <> $2 AND id NOT IN
			(SELECT id FROM migrations WHERE owner = $1 AND id <> $2 ORDER BY started DESC, id DESC LIMIT $3)`,
			m.Owner, id, store.MigrationsKept-1)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: start migration of %s: %w", m.Owner, err)
	}
	m.ID, m.Heartbeat, m.Finished, m.State, m.Error = id, m.Started, time.Time{}, store.MigrationRunning, ""
	return nil
}

// UpdateMigration implements store.Migrations.
func (s *Store) UpdateMigration(ctx context.Context, m *store.Migration) error {
	if !m.KnownState() {
		return fmt.Errorf("postgres: update migration %d of %s: unknown state %q", m.ID, m.Owner, m.State)
	}
	report, err := m.StoredReport()
	if err == nil {
		tag, execErr := s.exec(ctx, `UPDATE migrations SET heartbeat = $1, finished = $2, state = $3, report = $4, error = $5
			WHERE id = $6 AND owner = $7 AND state = $8`,
			micros(m.Heartbeat), optMicros(m.Finished), m.State, report, m.Error, m.ID, m.Owner, store.MigrationRunning)
		err = notFound(execErr)
		if err == nil {
			err = affected(tag, store.ErrNotFound)
		}
		if errors.Is(err, store.ErrNotFound) {
			var one int
			if s.pool.QueryRow(ctx, `SELECT 1 FROM migrations WHERE id = $1 AND owner = $2`, m.ID, m.Owner).Scan(&one) == nil {
				err = store.ErrPrecondition
			}
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: update migration %d of %s: %w", m.ID, m.Owner, err)
	}
	return nil
}

// GetMigration implements store.Migrations.
func (s *Store) GetMigration(ctx context.Context, owner string, id int64) (*store.Migration, error) {
	m, err := scanMigration(s.pool.QueryRow(ctx, `SELECT `+migrationCols+` FROM migrations
		WHERE id = $1 AND owner = $2`, id, owner))
	if err = notFound(err); err != nil {
		return nil, fmt.Errorf("postgres: migration %d of %s: %w", id, owner, err)
	}
	return &m, nil
}

// ListMigrations implements store.Migrations.
func (s *Store) ListMigrations(ctx context.Context, owner string, limit int) ([]store.Migration, error) {
	if limit < 0 {
		return nil, fmt.Errorf("postgres: migrations of %s: negative limit %d", owner, limit)
	}
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+migrationCols+` FROM migrations WHERE owner = $1
		ORDER BY started DESC, id DESC LIMIT $2`, owner, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations of %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.Migration
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: migrations of %s: %w", owner, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: migrations of %s: %w", owner, err)
	}
	return out, nil
}
