package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// pruneFailures is how many expired counters AddSignInFailure deletes at
// most: more than the one row it may add, so the table cannot outgrow its
// live rows by much, and few enough to keep the write short.
const pruneFailures = 8

// SignInFailures implements store.Store: one indexed read, on the primary
// key.
func (s *Store) SignInFailures(ctx context.Context, keys []string, now time.Time) ([]store.FailureCount, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT subject, failures, start, locked_until FROM signin_failures
		WHERE subject = ANY($1) AND expires > $2`, keys, micros(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: sign-in failures: %w", err)
	}
	defer rows.Close()
	var out []store.FailureCount
	for rows.Next() {
		var c store.FailureCount
		var start, locked int64
		if err := rows.Scan(&c.Key, &c.Failures, &start, &locked); err != nil {
			return nil, fmt.Errorf("postgres: sign-in failures: %w", err)
		}
		c.Start, c.LockedUntil = fromMicros(start), lockTime(locked)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: sign-in failures: %w", err)
	}
	return out, nil
}

// countFailure counts a failure of subject $1 at $2 (window $3, lock at
// $4 failures, for $5, all in microseconds) in one statement. The
// VALUES are the record that starts afresh: when there is none, or when
// the one there has expired. A live one is counted on in place. The
// upsert holds the row's lock from its read to its write, so that
// failures counted at once, in any process, are all counted: a second
// one waits and then reads the first one's result (READ COMMITTED
// re-reads a row updated meanwhile). Every SET expression reads the row
// as it was. The casts give the parameters their type where each first
// appears.
const countFailure = `INSERT INTO signin_failures AS f (subject, failures, start, locked_until, expires)
	VALUES ($1, 1, $2::bigint,
		CASE WHEN $4::bigint = 1 THEN $2 + $5::bigint ELSE 0 END,
		CASE WHEN $4 = 1 THEN $2 + $5 ELSE $2 + $3::bigint END)
	ON CONFLICT (subject) DO UPDATE SET
		failures = CASE WHEN f.expires <= $2 THEN excluded.failures ELSE f.failures + 1 END,
		start = CASE WHEN f.expires <= $2 THEN excluded.start ELSE f.start END,
		locked_until = CASE WHEN f.expires <= $2 THEN excluded.locked_until
			WHEN f.locked_until = 0 AND $4 > 0 AND f.failures + 1 >= $4 THEN $2 + $5
			ELSE f.locked_until END,
		expires = CASE WHEN f.expires <= $2 THEN excluded.expires
			WHEN f.locked_until <> 0 THEN f.locked_until
			WHEN $4 > 0 AND f.failures + 1 >= $4 THEN $2 + $5
			ELSE f.start + $3 END
	RETURNING failures, start, locked_until`

// AddSignInFailure implements store.Store: one upsert (countFailure), then
// the pruning of a few expired records of other keys, skipping those that
// another transaction holds, so that no two callers wait for each other
// there.
func (s *Store) AddSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration, lockAt int, lockFor time.Duration) (store.FailureCount, error) {
	if window <= 0 || lockAt > 0 && lockFor <= 0 {
		return store.FailureCount{}, fmt.Errorf("postgres: add sign-in failure %s: window %v and lock duration %v must be positive", key, window, lockFor)
	}
	t := micros(now)
	c := store.FailureCount{Key: key}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var start, locked int64
		if err := tx.QueryRow(ctx, countFailure, key, t, window.Microseconds(), int64(lockAt), lockFor.Microseconds()).
			Scan(&c.Failures, &start, &locked); err != nil {
			return err
		}
		c.Start, c.LockedUntil = fromMicros(start), lockTime(locked)
		// The expiry is checked again on the row deleted: one counted on
		// meanwhile is live again and stays.
		if _, err := tx.Exec(ctx, `DELETE FROM signin_failures WHERE expires <= $1 AND subject IN
			(SELECT subject FROM signin_failures WHERE expires <= $1 AND subject <> $2
			 LIMIT $3 FOR UPDATE SKIP LOCKED)`, t, key, pruneFailures); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.FailureCount{}, fmt.Errorf("postgres: add sign-in failure %s: %w", key, err)
	}
	return c, nil
}

// ClearSignInFailures implements store.Store.
func (s *Store) ClearSignInFailures(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, `DELETE FROM signin_failures WHERE subject = ANY($1)`, keys); err != nil {
		return fmt.Errorf("postgres: clear sign-in failures: %w", err)
	}
	return nil
}

// TakeBackSignInFailure implements store.Store: one UPDATE (takeBack),
// atomic on its own: READ COMMITTED evaluates it again on a row that a
// concurrent AddSignInFailure changed meanwhile.
func (s *Store) TakeBackSignInFailure(ctx context.Context, key string, start time.Time, window time.Duration, lockAt int) error {
	if _, err := s.pool.Exec(ctx, takeBack, int64(lockAt), window.Microseconds(), key, micros(start)); err != nil {
		return fmt.Errorf("postgres: take back sign-in failure %s: %w", key, err)
	}
	return nil
}

// takeBack takes one failure back from the record of subject $3 that
// started at $4 (lock at $1 failures; window $2 microseconds). Every SET
// expression reads the row as it was. A record left with none expires
// at 0, which reads as absent and is pruned like any expired one.
const takeBack = `UPDATE signin_failures SET
		failures = failures - 1,
		locked_until = CASE WHEN failures - 1 < $1::bigint THEN 0 ELSE locked_until END,
		expires = CASE WHEN failures <= 1 THEN 0
			WHEN locked_until <> 0 AND failures - 1 < $1 THEN start + $2::bigint
			ELSE expires END
	WHERE subject = $3 AND start = $4::bigint AND failures > 0`

// lockTime is a stored locked_until: 0 means not locked.
func lockTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}
