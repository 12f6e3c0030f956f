package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/rolodav/rolodav/internal/store"
)

// CreateUser adds u; it sets u.Created when zero.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.Login == "" {
		return fmt.Errorf("sqlite: create user: empty login")
	}
	if u.Created.IsZero() {
		u.Created = now()
	}
	res, err := s.wdb.ExecContext(ctx, `INSERT INTO users (login, password_hash, created, require_app_passwords,
		backend, language, mail_off, region, time_zone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING`,
		u.Login, u.PasswordHash, micros(u.Created), b2i(u.RequireAppPasswords),
		u.Backend, u.Language, strings.Join(u.MailOff, ","), u.Region, u.TimeZone)
	if err == nil {
		err = affected(res, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create user %s: %w", u.Login, err)
	}
	return nil
}

func (s *Store) GetUser(ctx context.Context, login string) (*store.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE login = ?`, login))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get user %s: %w", login, err)
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

// UpdateUserSettings implements store.Store.
func (s *Store) UpdateUserSettings(ctx context.Context, login string, fn func(u *store.User) error) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE login = ?`, login))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET language = ?, mail_off = ?, region = ?, time_zone = ? WHERE login = ?`,
			u.Language, strings.Join(u.MailOff, ","), u.Region, u.TimeZone, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update settings of %s: %w", login, err)
	}
	return nil
}

// ListUsers returns all users ordered by login.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash implements store.Store: the new hash and the end of the
// user's web sessions are one transaction.
func (s *Store) SetPasswordHash(ctx context.Context, login, hash string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE login = ?`, hash, login)
		if err == nil {
			err = affected(res, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE owner = ?`, login)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password %s: %w", login, err)
	}
	return nil
}

// SetRequireAppPasswords sets whether DAV accepts only app passwords for
// login; an unknown login is store.ErrNotFound.
func (s *Store) SetRequireAppPasswords(ctx context.Context, login string, on bool) error {
	res, err := s.wdb.ExecContext(ctx, `UPDATE users SET require_app_passwords = ? WHERE login = ?`, b2i(on), login)
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set require app passwords %s: %w", login, err)
	}
	return nil
}

// DeleteUser removes the user; foreign keys cascade to collections, their
// properties, objects and changes, and to the user's app passwords,
// sessions, sign-in activity and push registrations.
func (s *Store) DeleteUser(ctx context.Context, login string) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM users WHERE login = ?`, login)
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete user %s: %w", login, err)
	}
	return nil
}

// affected returns none when the statement touched no row.
func affected(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}
