package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Security mails: the outbox of store.NoticeQueue.

const noticeCols = `id, login, kind, recipient, language, time, addr, client, detail,
	attempts, not_before, lease_until, sent, gave_up, last_error`

func scanNotice(sc interface{ Scan(...any) error }) (store.Notice, error) {
	var n store.Notice
	var at, notBefore, lease, sent, gaveUp int64
	err := sc.Scan(&n.ID, &n.Login, &n.Kind, &n.To, &n.Language, &at, &n.Addr, &n.Client, &n.Detail,
		&n.Attempts, &notBefore, &lease, &sent, &gaveUp, &n.LastError)
	if err != nil {
		return n, err
	}
	n.Time, n.NotBefore, n.Lease = fromMicros(at), optTime(notBefore), optTime(lease)
	n.Sent, n.GaveUp = optTime(sent), optTime(gaveUp)
	return n, nil
}

// optMicros stores a time that may be zero ("none") as 0; optTime reads
// it back.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func optTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// QueueNotice implements store.Store. The write transaction (BEGIN
// IMMEDIATE) serialises it with every other writer, in any process, so
// the check and the insert are one step.
func (s *Store) QueueNotice(ctx context.Context, n *store.Notice, per time.Duration) (bool, error) {
	switch {
	case n.Login == "" || n.Kind == "" || n.To == "" || n.Time.IsZero():
		return false, fmt.Errorf("sqlite: queue notice: login, kind, recipient and time are required")
	case per < 0 || per > store.NoticeRetention:
		return false, fmt.Errorf("sqlite: queue notice: rate-limit period %v is not within 0 and %v", per, store.NoticeRetention)
	}
	queued := false
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, n.Login); err != nil {
			return err
		}
		if per > 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM notices WHERE login = ? AND kind = ? AND time > ? LIMIT 1`,
				n.Login, n.Kind, micros(n.Time.Add(-per))).Scan(&one)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO notices (login, kind, recipient, language, time, addr, client, detail, not_before)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.Login, n.Kind, n.To, n.Language, micros(n.Time), n.Addr, n.Client, n.Detail, optMicros(n.NotBefore)).Scan(&id)
		queued = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: queue %s notice for %s: %w", n.Kind, n.Login, err)
	}
	if queued {
		n.ID, n.Attempts, n.Sent, n.GaveUp, n.LastError = id, 0, time.Time{}, time.Time{}, ""
	}
	return queued, nil
}

// ClaimNotices implements store.Store.
func (s *Store) ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim notices: limit %d and lease %v must be positive", limit, lease)
	}
	t := micros(now)
	var out []store.Notice
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if _, err := tx.ExecContext(ctx, `DELETE FROM notices WHERE (sent > 0 OR gave_up > 0) AND time < ?`,
			micros(now.Add(-store.NoticeRetention))); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `UPDATE notices SET lease_until = ? WHERE id IN
			(SELECT id FROM notices WHERE sent = 0 AND gave_up = 0 AND not_before <= ? AND lease_until <= ?
			 ORDER BY not_before, id LIMIT ?)
			RETURNING `+noticeCols, micros(now.Add(lease)), t, t, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim notices: %w", err)
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b store.Notice) int {
		if c := a.NotBefore.Compare(b.NotBefore); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// FinishNotice implements store.Store. The lease is the claim's token: a
// later claim sets a later lease_until (it comes once this one ran out).
func (s *Store) FinishNotice(ctx context.Context, id int64, lease, at time.Time, failure string) error {
	if at.IsZero() {
		return fmt.Errorf("sqlite: finish notice %d: no time", id)
	}
	col := "sent"
	if failure != "" {
		col = "gave_up"
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET `+col+` = ?, last_error = CASE WHEN ? = '' THEN last_error ELSE ? END,
			lease_until = 0 WHERE id = ? AND sent = 0 AND gave_up = 0 AND lease_until = ?`, micros(at), failure, failure, id, optMicros(lease))
		if err != nil {
			return err
		}
		return changedOrFinished(ctx, tx, res, id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish notice %d: %w", id, err)
	}
	return nil
}

// RetryNotice implements store.Store.
func (s *Store) RetryNotice(ctx context.Context, id int64, lease, notBefore time.Time, lastErr string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET attempts = attempts + 1, not_before = ?, last_error = ?,
			lease_until = 0 WHERE id = ? AND sent = 0 AND gave_up = 0 AND lease_until = ?`, optMicros(notBefore), lastErr, id, optMicros(lease))
		if err != nil {
			return err
		}
		return changedOrFinished(ctx, tx, res, id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry notice %d: %w", id, err)
	}
	return nil
}

// changedOrFinished is nil when res changed a row or notice id was
// finished already; store.ErrPrecondition when it is pending under
// another claim; store.ErrNotFound when it does not exist.
func changedOrFinished(ctx context.Context, tx *sql.Tx, res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var finished bool
	err = tx.QueryRowContext(ctx, `SELECT sent > 0 OR gave_up > 0 FROM notices WHERE id = ?`, id).Scan(&finished)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	case !finished:
		return fmt.Errorf("notice %d is claimed by another sender: %w", id, store.ErrPrecondition)
	}
	return nil
}

// ListNotices implements store.Store.
func (s *Store) ListNotices(ctx context.Context, login string, limit int) ([]store.Notice, error) {
	q := `SELECT ` + noticeCols + ` FROM notices WHERE login = ? ORDER BY time DESC, id DESC`
	args := []any{login}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []store.Notice
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list notices of %s: %w", login, err)
	}
	return out, nil
}
