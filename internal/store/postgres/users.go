package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rolodav/rolodav/internal/store"
)

// CreateUser adds u; it sets u.Created when zero.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.Login == "" {
		return fmt.Errorf("postgres: create user: empty login")
	}
	if u.Created.IsZero() {
		u.Created = now()
	}
	tag, err := s.exec(ctx, `INSERT INTO users (login, password_hash, created, require_app_passwords,
		backend, language, mail_off, region, time_zone)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (login) DO NOTHING`,
		u.Login, u.PasswordHash, micros(u.Created), u.RequireAppPasswords,
		u.Backend, u.Language, strings.Join(u.MailOff, ","), u.Region, u.TimeZone)
	if err == nil {
		err = affected(tag, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: create user %s: %w", u.Login, err)
	}
	return nil
}

func (s *Store) GetUser(ctx context.Context, login string) (*store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE login = $1`, login))
	err = notFound(err)
	if err != nil {
		return nil, fmt.Errorf("postgres: get user %s: %w", login, err)
	}
	return u, nil
}

const userColumns = `login, password_hash, created, require_app_passwords, backend, two_factor, language, mail_off, region, time_zone`

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	var created int64
	var mailOff string
	if err := row.Scan(&u.Login, &u.PasswordHash, &created, &u.RequireAppPasswords, &u.Backend, &u.TwoFactor,
		&u.Language, &mailOff, &u.Region, &u.TimeZone); err != nil {
		return nil, err
	}
	u.Created = fromMicros(created)
	if mailOff != "" {
		u.MailOff = strings.Split(mailOff, ",")
	}
	return &u, nil
}

// UpdateUserSettings implements store.Store. The user's row is locked
// while fn runs, so that two updates at once do not lose one.
func (s *Store) UpdateUserSettings(ctx context.Context, login string, fn func(u *store.User) error) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE login = $1 FOR UPDATE`, login))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET language = $1, mail_off = $2, region = $3, time_zone = $4 WHERE login = $5`,
			u.Language, strings.Join(u.MailOff, ","), u.Region, u.TimeZone, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: update settings of %s: %w", login, err)
	}
	return nil
}

// ListUsers returns all users ordered by login.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash implements store.Store: the new hash and the end of the
// user's web sessions are one transaction.
func (s *Store) SetPasswordHash(ctx context.Context, login, hash string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE login = $2`, hash, login)
		if err == nil {
			err = affected(tag, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE owner = $1`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set password %s: %w", login, err)
	}
	return nil
}

// SetRequireAppPasswords sets whether DAV accepts only app passwords for
// login; an unknown login is store.ErrNotFound.
func (s *Store) SetRequireAppPasswords(ctx context.Context, login string, on bool) error {
	tag, err := s.exec(ctx, `UPDATE users SET require_app_passwords = $1 WHERE login = $2`, on, login)
	if err == nil {
		err = affected(tag, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: set require app passwords %s: %w", login, err)
	}
	return nil
}

// DeleteUser removes the user; foreign keys cascade to everything the user
// owns.
func (s *Store) DeleteUser(ctx context.Context, login string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		// The collections first, in the order of their ids, as every
		// writer of a collection locks them before the user's row.
		if _, err := tx.Exec(ctx, `SELECT id FROM collections WHERE owner = $1 ORDER BY id FOR UPDATE`, login); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE login = $1`, login)
		if err == nil {
			err = affected(tag, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete user %s: %w", login, err)
	}
	return nil
}

// affected returns none when the statement touched no row.
func affected(tag pgconn.CommandTag, none error) error {
	if tag.RowsAffected() == 0 {
		return none
	}
	return nil
}

// foreignKeyViolation reports whether err is a row referring to one that
// is gone (a user deleted by another transaction, say).
func foreignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
