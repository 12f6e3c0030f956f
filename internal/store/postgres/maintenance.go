package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// pruneBatch is how many tombstones one transaction of PruneTombstones
// deletes at most, so that the writers of a collection whose lock it holds
// wait that long at most, not the seconds a large backlog takes in one.
const pruneBatch = 2000

// PruneTombstones implements store.Store, in transactions of at most
// pruneBatch deletions. Each raises the sync_floor of the collections it
// deletes from to the newest seq it deleted there, before it commits:
// ChangesSince refuses tokens below the floor, so no token ever misses a
// deletion.
//
// Each transaction picks its tombstones, then locks their collections in
// ascending order of id with lockCollection, as a writer of a collection
// begins, and only then deletes them, those still old deletions: a writer
// that wrote the name again meanwhile has replaced its tombstone. A
// writer's seq, its change row and the floor thus never interleave, and
// the collection locks are taken before any row of changes, as by every
// writer, so that none of them waits for the other in a circle.
func (s *Store) PruneTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	t := micros(olderThan)
	total := 0
	for {
		n, picked := 0, 0
		err := s.write(ctx, func(tx pgx.Tx) error {
			n, picked = 0, 0
			colls, names, err := oldTombstones(ctx, tx, t)
			if err != nil {
				return err
			}
			picked = len(colls)
			if picked == 0 {
				return nil
			}
			// One statement locks them all, in the order of their ids as
			// every writer of two collections does; one deleted meanwhile
			// is simply not there, and its changes went with it.
			if _, err := tx.Exec(ctx, `SELECT id FROM collections WHERE id = ANY($1) ORDER BY id FOR UPDATE`, colls); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `DELETE FROM changes c
				USING unnest($1::bigint[], $2::text[]) AS x(collection, name)
				WHERE c.collection = x.collection AND c.name = x.name AND c.deleted AND c.changed < $3
				RETURNING c.collection, c.seq`, colls, names, t)
			if err != nil {
				return err
			}
			floors := map[int64]int64{}
			for rows.Next() {
				var coll, seq int64
				if err := rows.Scan(&coll, &seq); err != nil {
					rows.Close()
					return err
				}
				floors[coll] = max(floors[coll], seq)
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			ids, seqs := make([]int64, 0, len(floors)), make([]int64, 0, len(floors))
			for coll, seq := range floors {
				ids, seqs = append(ids, coll), append(seqs, seq)
			}
			_, err = tx.Exec(ctx, `UPDATE collections c SET sync_floor = GREATEST(c.sync_floor, f.seq)
				FROM unnest($1::bigint[], $2::bigint[]) AS f(id, seq) WHERE c.id = f.id`, ids, seqs)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("postgres: prune tombstones: %w", err)
		}
		total += n
		if picked < pruneBatch {
			return total, nil
		}
	}
}

// oldTombstones returns up to pruneBatch deletions recorded before t, as
// the collection and the name of each.
func oldTombstones(ctx context.Context, tx pgx.Tx, t int64) (colls []int64, names []string, err error) {
	rows, err := tx.Query(ctx, `SELECT collection, name FROM changes WHERE deleted AND changed < $1 LIMIT $2`,
		t, pruneBatch)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var coll int64
		var name string
		if err := rows.Scan(&coll, &name); err != nil {
			return nil, nil, err
		}
		colls, names = append(colls, coll), append(names, name)
	}
	return colls, names, rows.Err()
}

// PruneSessions implements store.Store, on the index of expires.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimRun implements store.Store in one statement. Of claims at once, in
// any process, one inserts the row or updates it; the others wait for its
// row (a conflicting insert waits for the inserter, an update for the
// updater), then read the start it recorded and find the run not due.
func (s *Store) ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if name == "" || every <= 0 {
		return false, fmt.Errorf("postgres: claim run %q: a name and a positive period (not %v) are needed", name, every)
	}
	t := micros(now)
	tag, err := s.exec(ctx, `INSERT INTO runs (name, started) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET started = excluded.started
		WHERE runs.started <= $3 OR runs.started > $4`,
		name, t, t-every.Microseconds(), t+every.Microseconds())
	if err != nil {
		return false, fmt.Errorf("postgres: claim run %q: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}
