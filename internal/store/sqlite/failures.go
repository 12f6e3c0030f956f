package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, micros(now))
	var out []store.FailureCount
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT subject, failures, start, locked_until FROM signin_failures
			WHERE subject IN (?`+strings.Repeat(",?", len(keys)-1)+`) AND expires > ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.FailureCount
			var start, locked int64
			if err := rows.Scan(&c.Key, &c.Failures, &start, &locked); err != nil {
				return err
			}
			c.Start, c.LockedUntil = fromMicros(start), lockTime(locked)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: sign-in failures: %w", err)
	}
	return out, nil
}

// AddSignInFailure implements store.Store. The write connection's
// transaction (BEGIN IMMEDIATE) serialises it with every other writer,
// in this process or another, so the read-modify-write is atomic.
func (s *Store) AddSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration, lockAt int, lockFor time.Duration) (store.FailureCount, error) {
	if window <= 0 || lockAt > 0 && lockFor <= 0 {
		return store.FailureCount{}, fmt.Errorf("sqlite: add sign-in failure %s: window %v and lock duration %v must be positive", key, window, lockFor)
	}
	t := micros(now)
	c := store.FailureCount{Key: key}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE subject IN
			(SELECT subject FROM signin_failures WHERE expires <= ? LIMIT ?)`, t, pruneFailures); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		// An expired record of key was either pruned just now or is
		// restarted below like an absent one.
		var start, locked, expires int64
		err := tx.QueryRowContext(ctx, `SELECT failures, start, locked_until, expires FROM signin_failures WHERE subject = ?`,
			key).Scan(&c.Failures, &start, &locked, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && expires <= t:
			c.Failures, start, locked = 0, t, 0
		case err != nil:
			return err
		}
		c.Failures++
		if lockAt > 0 && c.Failures >= lockAt && locked == 0 {
			locked = micros(now.Add(lockFor))
		}
		expires = locked
		if locked == 0 {
			expires = start + window.Microseconds()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO signin_failures (subject, failures, start, locked_until, expires)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures,
			start = excluded.start, locked_until = excluded.locked_until, expires = excluded.expires`,
			key, c.Failures, start, locked, expires)
		c.Start, c.LockedUntil = fromMicros(start), lockTime(locked)
		return err
	})
	if err != nil {
		return store.FailureCount{}, fmt.Errorf("sqlite: add sign-in failure %s: %w", key, err)
	}
	return c, nil
}

// ClearSignInFailures implements store.Store.
func (s *Store) ClearSignInFailures(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE subject IN (?`+strings.Repeat(",?", len(keys)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: clear sign-in failures: %w", err)
	}
	return nil
}

// TakeBackSignInFailure implements store.Store: one UPDATE (takeBack).
func (s *Store) TakeBackSignInFailure(ctx context.Context, key string, start time.Time, window time.Duration, lockAt int) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, takeBack, int64(lockAt), window.Microseconds(), key, micros(start))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: take back sign-in failure %s: %w", key, err)
	}
	return nil
}

// takeBack takes one failure back from the record of subject ?3 that
// started at ?4 (lock at ?1 failures; window ?2 microseconds). Every SET
// expression reads the row as it was. A record left with none expires
// at 0, which reads as absent and is pruned like any expired one.
const takeBack = `UPDATE signin_failures SET
		failures = failures - 1,
		locked_until = CASE WHEN failures - 1 < ?1 THEN 0 ELSE locked_until END,
		expires = CASE WHEN failures <= 1 THEN 0
			WHEN locked_until <> 0 AND failures - 1 < ?1 THEN start + ?2
			ELSE expires END
	WHERE subject = ?3 AND start = ?4 AND failures > 0`

// lockTime is a stored locked_until: 0 means not locked.
func lockTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}
