package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// The writes that set or end two-factor lock the user's row first
// (lockUser, or the UPDATE of users in DisableTwoFactor): they take turns
// within a user, and always lock users, then totp_secrets, then
// emergency_codes, so that User.TwoFactor and the secret agree whatever
// runs at once in other processes.

// SetPendingTOTP implements store.Store.
func (s *Store) SetPendingTOTP(ctx context.Context, login, secret string) error {
	if secret == "" {
		return fmt.Errorf("postgres: set pending TOTP of %s: empty secret", login)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var on bool
		err := tx.QueryRow(ctx, `SELECT two_factor FROM users WHERE login = $1 FOR NO KEY UPDATE`, login).Scan(&on)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case on:
			return fmt.Errorf("two-factor is on: %w", store.ErrExists)
		}
		_, err = tx.Exec(ctx, `INSERT INTO totp_secrets (login, secret, pending, last_step, since)
			VALUES ($1, $2, TRUE, 0, $3) ON CONFLICT (login) DO UPDATE SET secret = excluded.secret,
			pending = TRUE, last_step = 0, since = excluded.since`, login, secret, micros(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set pending TOTP of %s: %w", login, err)
	}
	return nil
}

// GetTOTP implements store.Store.
func (s *Store) GetTOTP(ctx context.Context, login string) (*store.TOTP, error) {
	var k store.TOTP
	var since int64
	err := s.pool.QueryRow(ctx, `SELECT secret, pending, last_step, since FROM totp_secrets WHERE login = $1`,
		login).Scan(&k.Secret, &k.Pending, &k.LastStep, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get TOTP of %s: %w", login, err)
	}
	k.Since = fromMicros(since)
	return &k, nil
}

// EnableTwoFactor implements store.Store.
func (s *Store) EnableTwoFactor(ctx context.Context, login, secret string, step int64, codeDigests []string) error {
	noPending := fmt.Errorf("no such pending secret: %w", store.ErrPrecondition)
	err := s.write(ctx, func(tx pgx.Tx) error {
		err := lockUser(ctx, tx, login)
		if errors.Is(err, store.ErrNotFound) {
			return noPending
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE totp_secrets SET pending = FALSE, last_step = $1, since = $2
			WHERE login = $3 AND pending = TRUE AND secret = $4`, step, micros(now()), login, secret)
		if err == nil {
			err = affected(tag, noPending)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM emergency_codes WHERE login = $1`, login); err != nil {
			return err
		}
		if len(codeDigests) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO emergency_codes (login, digest) SELECT $1, unnest($2::text[])`,
				login, codeDigests); err != nil {
				return fmt.Errorf("storing emergency codes: %w", err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE users SET two_factor = TRUE WHERE login = $1`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: enable two-factor of %s: %w", login, err)
	}
	return nil
}

// UseTOTPStep implements store.Store: the check and the write are one
// UPDATE. One at once in another process holds the row until it ends;
// this one then reads the step it wrote (READ COMMITTED re-reads a row
// updated meanwhile) and refuses a step that is no longer newer.
func (s *Store) UseTOTPStep(ctx context.Context, login string, step int64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE totp_secrets SET last_step = $1
			WHERE login = $2 AND pending = FALSE AND last_step < $1`, step, login)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM totp_secrets WHERE login = $1 AND pending = FALSE`, login).Scan(&one)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("two-factor is off: %w", store.ErrNotFound)
		case err != nil:
			return err
		}
		return fmt.Errorf("step %d used already: %w", step, store.ErrPrecondition)
	})
	if err != nil {
		return fmt.Errorf("postgres: use TOTP step of %s: %w", login, err)
	}
	return nil
}

// UseEmergencyCode implements store.Store. Of two deletions of one code at
// once, the second waits for the first and then finds no row: the code is
// accepted once.
func (s *Store) UseEmergencyCode(ctx context.Context, login, digest string) (int, error) {
	var left int
	err := s.write(ctx, func(tx pgx.Tx) error {
		var gone string
		err := tx.QueryRow(ctx, `DELETE FROM emergency_codes WHERE login = $1 AND digest = $2 RETURNING digest`,
			login, digest).Scan(&gone)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM emergency_codes WHERE login = $1`, login).Scan(&left)
	})
	if err != nil {
		// The digest stays out of the message: it stands for a secret.
		return 0, fmt.Errorf("postgres: use emergency code of %s: %w", login, err)
	}
	return left, nil
}

// EmergencyCodesLeft implements store.Store.
func (s *Store) EmergencyCodesLeft(ctx context.Context, login string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM emergency_codes WHERE login = $1`, login).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: emergency codes of %s: %w", login, err)
	}
	return n, nil
}

// DisableTwoFactor implements store.Store.
func (s *Store) DisableTwoFactor(ctx context.Context, login string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET two_factor = FALSE WHERE login = $1`, login)
		if err == nil {
			err = affected(tag, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM totp_secrets WHERE login = $1`, login); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM emergency_codes WHERE login = $1`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: disable two-factor of %s: %w", login, err)
	}
	return nil
}
