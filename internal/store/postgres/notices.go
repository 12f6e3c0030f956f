package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// scanNotices reads every row of rows and closes them.
func scanNotices(rows pgx.Rows) ([]store.Notice, error) {
	defer rows.Close()
	var out []store.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
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

// QueueNotice implements store.Store. The user's row is locked before the
// rate limit is checked (lockUser): notices of one user queued at once,
// in any process, take turns, and each sees the ones queued before it.
func (s *Store) QueueNotice(ctx context.Context, n *store.Notice, per time.Duration) (bool, error) {
	switch {
	case n.Login == "" || n.Kind == "" || n.To == "" || n.Time.IsZero():
		return false, fmt.Errorf("postgres: queue notice: login, kind, recipient and time are required")
	case per < 0 || per > store.NoticeRetention:
		return false, fmt.Errorf("postgres: queue notice: rate-limit period %v is not within 0 and %v", per, store.NoticeRetention)
	}
	queued := false
	var id int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		queued = false
		if err := lockUser(ctx, tx, n.Login); err != nil {
			return err
		}
		if per > 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM notices WHERE login = $1 AND kind = $2 AND time > $3 LIMIT 1`,
				n.Login, n.Kind, micros(n.Time.Add(-per))).Scan(&one)
			if err == nil {
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO notices (login, kind, recipient, language, time, addr, client, detail, not_before)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			n.Login, n.Kind, n.To, n.Language, micros(n.Time), n.Addr, n.Client, n.Detail, optMicros(n.NotBefore)).Scan(&id)
		queued = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: queue %s notice for %s: %w", n.Kind, n.Login, err)
	}
	if queued {
		n.ID, n.Attempts, n.Sent, n.GaveUp, n.LastError = id, 0, time.Time{}, time.Time{}, ""
	}
	return queued, nil
}

// ClaimNotices implements store.Store. The notices to claim are locked
// with SKIP LOCKED: claimers at once, in any process, pass over each
// other's rows instead of waiting for them, and so claim disjoint notices.
// A row that another claim changed and committed meanwhile is read again
// when locked (READ COMMITTED), and left out if no longer due.
func (s *Store) ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("postgres: claim notices: limit %d and lease %v must be positive", limit, lease)
	}
	t := micros(now)
	var out []store.Notice
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, `DELETE FROM notices WHERE id IN
			(SELECT id FROM notices WHERE (sent > 0 OR gave_up > 0) AND time < $1 FOR UPDATE SKIP LOCKED)`,
			micros(now.Add(-store.NoticeRetention))); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		rows, err := tx.Query(ctx, `UPDATE notices SET lease_until = $1 WHERE id IN
			(SELECT id FROM notices WHERE sent = 0 AND gave_up = 0 AND not_before <= $2 AND lease_until <= $2
			 ORDER BY not_before, id LIMIT $3 FOR UPDATE SKIP LOCKED)
			RETURNING `+noticeCols, micros(now.Add(lease)), t, limit)
		if err != nil {
			return err
		}
		out, err = scanNotices(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim notices: %w", err)
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
		return fmt.Errorf("postgres: finish notice %d: no time", id)
	}
	col := "sent"
	if failure != "" {
		col = "gave_up"
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notices SET `+col+` = $1,
			last_error = CASE WHEN $2::text = '' THEN last_error ELSE $2 END,
			lease_until = 0 WHERE id = $3 AND sent = 0 AND gave_up = 0 AND lease_until = $4`,
			micros(at), failure, id, optMicros(lease))
		if err != nil {
			return err
		}
		return changedOrFinished(ctx, tx, tag, id)
	})
	if err != nil {
		return fmt.Errorf("postgres: finish notice %d: %w", id, err)
	}
	return nil
}

// RetryNotice implements store.Store.
func (s *Store) RetryNotice(ctx context.Context, id int64, lease, notBefore time.Time, lastErr string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notices SET attempts = attempts + 1, not_before = $1, last_error = $2,
			lease_until = 0 WHERE id = $3 AND sent = 0 AND gave_up = 0 AND lease_until = $4`,
			optMicros(notBefore), lastErr, id, optMicros(lease))
		if err != nil {
			return err
		}
		return changedOrFinished(ctx, tx, tag, id)
	})
	if err != nil {
		return fmt.Errorf("postgres: retry notice %d: %w", id, err)
	}
	return nil
}

// changedOrFinished is nil when tag counts a changed row or notice id was
// finished already; store.ErrPrecondition when it is pending under
// another claim; store.ErrNotFound when it does not exist.
func changedOrFinished(ctx context.Context, tx pgx.Tx, tag pgconn.CommandTag, id int64) error {
	if tag.RowsAffected() > 0 {
		return nil
	}
	var finished bool
	err := tx.QueryRow(ctx, `SELECT sent > 0 OR gave_up > 0 FROM notices WHERE id = $1`, id).Scan(&finished)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	q := `SELECT ` + noticeCols + ` FROM notices WHERE login = $1 ORDER BY time DESC, id DESC`
	args := []any{login}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list notices of %s: %w", login, err)
	}
	out, err := scanNotices(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list notices of %s: %w", login, err)
	}
	return out, nil
}
