package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// pruneBatch is how many tombstones one transaction of PruneTombstones
// deletes: each takes a few milliseconds, so that the writers of every
// process sharing the file wait that long at most, not the seconds a
// backlog of a hundred thousand takes in one (BenchmarkPruneTombstones).
const pruneBatch = 2000

// PruneTombstones implements store.Store, in transactions of pruneBatch
// deletions. Each raises the sync_floor of the collections it deletes from
// to the newest seq it deleted there, before it commits: ChangesSince
// refuses tokens below the floor, so no token ever misses a deletion.
func (s *Store) PruneTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	t := micros(olderThan)
	total := 0
	for {
		n := 0
		err := s.write(ctx, func(tx *sql.Tx) error {
			n = 0
			rows, err := tx.QueryContext(ctx, `DELETE FROM changes WHERE rowid IN
				(SELECT rowid FROM changes WHERE deleted = TRUE AND changed < ? LIMIT ?)
				RETURNING collection, seq`, t, pruneBatch)
			if err != nil {
				return err
			}
			defer rows.Close()
			floors := map[int64]int64{}
			for rows.Next() {
				var coll, seq int64
				if err := rows.Scan(&coll, &seq); err != nil {
					return err
				}
				floors[coll] = max(floors[coll], seq)
				n++
			}
			if err := rows.Err(); err != nil {
				return err
			}
			rows.Close()
			for coll, seq := range floors {
				if _, err := tx.ExecContext(ctx, `UPDATE collections SET sync_floor = MAX(sync_floor, ?) WHERE id = ?`,
					seq, coll); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune tombstones: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
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
