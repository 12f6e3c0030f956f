package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rolodav/rolodav/internal/store"
)

// SetPendingTOTP implements store.Store.
func (s *Store) SetPendingTOTP(ctx context.Context, login, secret string) error {
	if secret == "" {
		return fmt.Errorf("sqlite: set pending TOTP of %s: empty secret", login)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var on bool
		err := tx.QueryRowContext(ctx, `SELECT two_factor FROM users WHERE login = ?`, login).Scan(&on)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case on:
			return fmt.Errorf("two-factor is on: %w", store.ErrExists)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO totp_secrets (login, secret, pending, last_step, since)
			VALUES (?, ?, TRUE, 0, ?) ON CONFLICT (login) DO UPDATE SET secret = excluded.secret,
			pending = TRUE, last_step = 0, since = excluded.since`, login, secret, micros(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set pending TOTP of %s: %w", login, err)
	}
	return nil
}

// GetTOTP implements store.Store.
func (s *Store) GetTOTP(ctx context.Context, login string) (*store.TOTP, error) {
	var k store.TOTP
	var since int64
	err := s.rdb.QueryRowContext(ctx, `SELECT secret, pending, last_step, since FROM totp_secrets WHERE login = ?`,
		login).Scan(&k.Secret, &k.Pending, &k.LastStep, &since)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get TOTP of %s: %w", login, err)
	}
	k.Since = fromMicros(since)
	return &k, nil
}

// EnableTwoFactor implements store.Store.
func (s *Store) EnableTwoFactor(ctx context.Context, login, secret string, step int64, codeDigests []string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET pending = FALSE, last_step = ?, since = ?
			WHERE login = ? AND pending = TRUE AND secret = ?`, step, micros(now()), login, secret)
		if err == nil {
			err = affected(res, fmt.Errorf("no such pending secret: %w", store.ErrPrecondition))
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM emergency_codes WHERE login = ?`, login); err != nil {
			return err
		}
		for _, d := range codeDigests {
			if _, err := tx.ExecContext(ctx, `INSERT INTO emergency_codes (login, digest) VALUES (?, ?)`, login, d); err != nil {
				return fmt.Errorf("storing emergency code: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET two_factor = TRUE WHERE login = ?`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: enable two-factor of %s: %w", login, err)
	}
	return nil
}

// UseTOTPStep implements store.Store: the check and the write are one
// UPDATE, which the single write connection serialises with every other
// writer, in this process or another.
func (s *Store) UseTOTPStep(ctx context.Context, login string, step int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET last_step = ?
			WHERE login = ? AND pending = FALSE AND last_step < ?`, step, login, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM totp_secrets WHERE login = ? AND pending = FALSE`, login).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("two-factor is off: %w", store.ErrNotFound)
		case err != nil:
			return err
		}
		return fmt.Errorf("step %d used already: %w", step, store.ErrPrecondition)
	})
	if err != nil {
		return fmt.Errorf("sqlite: use TOTP step of %s: %w", login, err)
	}
	return nil
}

// UseEmergencyCode implements store.Store.
func (s *Store) UseEmergencyCode(ctx context.Context, login, digest string) (int, error) {
	var left int
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM emergency_codes WHERE login = ? AND digest = ?`, login, digest)
		if err == nil {
			err = affected(res, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM emergency_codes WHERE login = ?`, login).Scan(&left)
	})
	if err != nil {
		// The digest stays out of the message: it stands for a secret.
		return 0, fmt.Errorf("sqlite: use emergency code of %s: %w", login, err)
	}
	return left, nil
}

// EmergencyCodesLeft implements store.Store.
func (s *Store) EmergencyCodesLeft(ctx context.Context, login string) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM emergency_codes WHERE login = ?`, login).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: emergency codes of %s: %w", login, err)
	}
	return n, nil
}

// DisableTwoFactor implements store.Store.
func (s *Store) DisableTwoFactor(ctx context.Context, login string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET two_factor = FALSE WHERE login = ?`, login)
		if err == nil {
			err = affected(res, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE login = ?`, login); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM emergency_codes WHERE login = ?`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: disable two-factor of %s: %w", login, err)
	}
	return nil
}
