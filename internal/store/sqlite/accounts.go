package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// userExists returns store.ErrNotFound when login is not a user.
func userExists(ctx context.Context, q querier, login string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE login = ?`, login).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %s: %w", login, store.ErrNotFound)
	}
	return err
}

// --- app passwords -------------------------------------------------------

const appPasswordCols = `id, owner, name, digest, created, last_used, last_addr, last_client`

func scanAppPassword(sc interface{ Scan(...any) error }) (*store.AppPassword, error) {
	var p store.AppPassword
	var created, lastUsed int64
	if err := sc.Scan(&p.ID, &p.Owner, &p.Name, &p.Digest, &created, &lastUsed, &p.LastAddr, &p.LastClient); err != nil {
		return nil, err
	}
	p.Created = fromMicros(created)
	if lastUsed != 0 {
		p.LastUsed = fromMicros(lastUsed)
	}
	return &p, nil
}

// CreateAppPassword inserts p and sets p.ID and p.Created when zero. An
// unknown owner is store.ErrNotFound; a digest (or ID) already in use, by
// any user, is store.ErrExists. LastUsed, LastAddr and LastClient are
// stored as given (normally zero).
func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error {
	if p.Digest == "" {
		return fmt.Errorf("sqlite: create app password: empty digest")
	}
	if p.Created.IsZero() {
		p.Created = now()
	}
	var id any // NULL: SQLite assigns the next id
	if p.ID != 0 {
		id = p.ID
	}
	var lastUsed int64
	if !p.LastUsed.IsZero() {
		lastUsed = micros(p.LastUsed)
	}
	var newID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, p.Owner); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO app_passwords
			(id, owner, name, digest, created, last_used, last_addr, last_client)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
			id, p.Owner, p.Name, p.Digest, micros(p.Created), lastUsed, p.LastAddr, p.LastClient).Scan(&newID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create app password %s/%s: %w", p.Owner, p.Name, err)
	}
	p.ID = newID
	return nil
}

// ListAppPasswords returns owner's app passwords, newest first.
func (s *Store) ListAppPasswords(ctx context.Context, owner string) ([]store.AppPassword, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+appPasswordCols+` FROM app_passwords
		WHERE owner = ? ORDER BY created DESC, id DESC`, owner)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list app passwords %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.AppPassword
	for rows.Next() {
		p, err := scanAppPassword(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list app passwords %s: %w", owner, err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list app passwords %s: %w", owner, err)
	}
	return out, nil
}

// FindAppPassword returns owner's app password with this digest; another
// user's is store.ErrNotFound.
func (s *Store) FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error) {
	p, err := scanAppPassword(s.rdb.QueryRowContext(ctx, `SELECT `+appPasswordCols+` FROM app_passwords
		WHERE owner = ? AND digest = ?`, owner, digest))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find app password of %s: %w", owner, err)
	}
	return p, nil
}

// DeleteAppPassword deletes owner's app password id; an unknown id, or
// another user's, is store.ErrNotFound.
func (s *Store) DeleteAppPassword(ctx context.Context, owner string, id int64) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM app_passwords WHERE owner = ? AND id = ?`, owner, id)
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete app password %s/%d: %w", owner, id, err)
	}
	return nil
}

// --- sessions ------------------------------------------------------------

// CreateSession inserts x, setting x.Created and x.LastSeen to now when
// zero, and drops the owner's expired sessions in the same transaction. An
// unknown owner is store.ErrNotFound, an ID in use store.ErrExists.
func (s *Store) CreateSession(ctx context.Context, x *store.Session) error {
	if x.ID == "" {
		return fmt.Errorf("sqlite: create session: empty id")
	}
	t := now()
	if x.Created.IsZero() {
		x.Created = t
	}
	if x.LastSeen.IsZero() {
		x.LastSeen = x.Created
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, x.Owner); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE owner = ? AND expires <= ?`,
			x.Owner, micros(t)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions
			(id, owner, csrf, created, expires, last_seen, addr, client, partial)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			x.ID, x.Owner, x.CSRF, micros(x.Created), micros(x.Expires), micros(x.LastSeen), x.Addr, x.Client, x.Partial)
		if err != nil {
			return err
		}
		return affected(res, store.ErrExists)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session of %s: %w", x.Owner, err)
	}
	return nil
}

// GetSession returns the session; an unknown or expired one (Expires not
// after now) is store.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	x := store.Session{ID: id}
	var created, expires, lastSeen int64
	err := s.rdb.QueryRowContext(ctx, `SELECT owner, csrf, created, expires, last_seen, addr, client, partial
		FROM sessions WHERE id = ? AND expires > ?`, id, micros(now())).
		Scan(&x.Owner, &x.CSRF, &created, &expires, &lastSeen, &x.Addr, &x.Client, &x.Partial)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		// The id is a secret's digest: kept out of error messages.
		return nil, fmt.Errorf("sqlite: get session: %w", err)
	}
	x.Created, x.Expires, x.LastSeen = fromMicros(created), fromMicros(expires), fromMicros(lastSeen)
	return &x, nil
}

// TouchSession sets the session's last use and expiry. An unknown or
// already expired session is store.ErrNotFound: touching cannot revive it.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	res, err := s.wdb.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, expires = ?
		WHERE id = ? AND expires > ?`, micros(lastSeen), micros(expires), id, micros(now()))
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes the session; an unknown one is not an error, so
// that signing out twice succeeds.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// EndOtherSessions implements store.Store.
func (s *Store) EndOtherSessions(ctx context.Context, owner, keep string) (int, error) {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM sessions WHERE owner = ? AND id <> ?`, owner, keep)
	if err != nil {
		return 0, fmt.Errorf("sqlite: end sessions of %s: %w", owner, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: end sessions of %s: %w", owner, err)
	}
	return int(n), nil
}

// --- sign-in activity ----------------------------------------------------

// RecordSignIn stores e in one transaction:
//   - e.Time is set to now when zero;
//   - for a success, e.NewAddress (e.NewDevice) is set when no success of
//     e.Login recorded before this one, and not yet pruned, has the same
//     Addr (Client); an empty Addr or Client is compared like any value.
//     For a failure both are false. Failures never count as seen;
//   - e.ID is set;
//   - when appPassword is not 0 and belongs to e.Login, its LastUsed,
//     LastAddr and LastClient become e.Time, e.Addr and e.Client;
//   - e.Login's entries older than e.Time-keep are deleted (keep <= 0
//     keeps all).
//
// An unknown login (a failed attempt on a name that is no user) records
// nothing and returns nil, leaving e.ID 0: there is no owner to show it to,
// and the caller must not fail on it.
func (s *Store) RecordSignIn(ctx context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error {
	if e.Time.IsZero() {
		e.Time = now()
	}
	var id int64
	var newAddr, newDev, first bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := userExists(ctx, tx, e.Login)
		if errors.Is(err, store.ErrNotFound) {
			id = 0
			return nil
		}
		if err != nil {
			return err
		}
		newAddr, newDev, first = false, false, false
		if e.OK {
			if newAddr, err = unseen(ctx, tx, e.Login, "addr", e.Addr); err != nil {
				return err
			}
			if newDev, err = unseen(ctx, tx, e.Login, "client", e.Client); err != nil {
				return err
			}
			if newAddr && newDev {
				if first, err = unseen(ctx, tx, e.Login, "ok", true); err != nil {
					return err
				}
			}
		}
		t := micros(e.Time)
		err = tx.QueryRowContext(ctx, `INSERT INTO signins
			(login, time, ok, via, credential, addr, network, client, new_address, new_device)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.Login, t, e.OK, e.Via, e.Credential, e.Addr, e.Network, e.Client, newAddr, newDev).Scan(&id)
		if err != nil {
			return err
		}
		if appPassword != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE app_passwords
				SET last_used = ?, last_addr = ?, last_client = ? WHERE id = ? AND owner = ?`,
				t, e.Addr, e.Client, appPassword, e.Login); err != nil {
				return err
			}
		}
		if keep > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signins WHERE login = ? AND time < ?`,
				e.Login, micros(e.Time.Add(-keep))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: record sign-in of %s: %w", e.Login, err)
	}
	e.ID, e.NewAddress, e.NewDevice, e.First = id, newAddr, newDev, first
	return nil
}

// unseen reports whether no success of login has col (addr or client) equal
// to v.
func unseen(ctx context.Context, tx *sql.Tx, login, col string, v any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM signins
		WHERE login = ? AND ok = TRUE AND `+col+` = ? LIMIT 1`, login, v).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return false, err
}

// SignedInFrom reports whether a success of login with its account
// password from network is recorded.
func (s *Store) SignedInFrom(ctx context.Context, login, network string) (bool, error) {
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM signins
		WHERE login = ? AND ok = TRUE AND credential = 'password' AND network = ? LIMIT 1`, login, network).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlite: sign-ins of %s from %s: %w", login, network, err)
	}
	return true, nil
}

// ListSignIns returns login's sign-ins, newest first, at most limit
// (100 when limit <= 0).
func (s *Store) ListSignIns(ctx context.Context, login string, limit int) ([]store.SignIn, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, login, time, ok, via, credential, addr, network, client,
		new_address, new_device FROM signins WHERE login = ? ORDER BY time DESC, id DESC LIMIT ?`, login, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sign-ins %s: %w", login, err)
	}
	defer rows.Close()
	var out []store.SignIn
	for rows.Next() {
		var e store.SignIn
		var t int64
		if err := rows.Scan(&e.ID, &e.Login, &t, &e.OK, &e.Via, &e.Credential, &e.Addr, &e.Network, &e.Client,
			&e.NewAddress, &e.NewDevice); err != nil {
			return nil, fmt.Errorf("sqlite: list sign-ins %s: %w", login, err)
		}
		e.Time = fromMicros(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list sign-ins %s: %w", login, err)
	}
	return out, nil
}
