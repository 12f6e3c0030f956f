package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PruneTombstones implements store.Store. It raises each affected
// collection's sync_floor to the newest forgotten seq in the same
// transaction: ChangesSince refuses tokens below the floor.
func (s *Store) PruneTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	t := micros(olderThan)
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET sync_floor = MAX(sync_floor,
				(SELECT MAX(seq) FROM changes WHERE collection = collections.id AND deleted = TRUE AND changed < ?))
			WHERE id IN (SELECT collection FROM changes WHERE deleted = TRUE AND changed < ?)`, t, t); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE deleted = TRUE AND changed < ?`, t)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune tombstones: %w", err)
	}
	return int(n), nil
}

// PruneSessions implements store.Store, on the index of expires.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, micros(now))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune sessions: %w", err)
	}
	return int(n), nil
}

// ClaimRun implements store.Store. The upsert is one statement on the
// write connection, whose BEGIN IMMEDIATE serialises it with every other
// writer, in this process or another.
func (s *Store) ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if name == "" || every <= 0 {
		return false, fmt.Errorf("sqlite: claim run %q: a name and a positive period (not %v) are needed", name, every)
	}
	t := micros(now)
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (name, started) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET started = excluded.started
			WHERE runs.started <= ? OR runs.started > ?`,
			name, t, t-every.Microseconds(), t+every.Microseconds())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: claim run %q: %w", name, err)
	}
	return n == 1, nil
}
