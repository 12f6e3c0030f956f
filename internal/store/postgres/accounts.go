package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// userExists returns store.ErrNotFound when login is not a user.
func userExists(ctx context.Context, q querier, login string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM users WHERE login = $1`, login).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("user %s: %w", login, store.ErrNotFound)
	}
	return err
}

// lockUser locks login's row until the transaction ends and returns
// store.ErrNotFound when there is no such user. The methods that decide on
// what a user has (the first sign-in, the rate limit of notices, the state
// of two-factor) call it first, so that their transactions take turns
// within the user, in every process; a deletion of the user waits too.
// NO KEY UPDATE is enough for that, and unlike UPDATE it lets the user's
// other rows be inserted meanwhile (their foreign keys take KEY SHARE).
func lockUser(ctx context.Context, tx pgx.Tx, login string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE login = $1 FOR NO KEY UPDATE`, login).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
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
// unknown owner (or one deleted meanwhile) is store.ErrNotFound; a digest
// (or ID) already in use, by any user, is store.ErrExists. LastUsed,
// LastAddr and LastClient are stored as given (normally zero).
func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error {
	if p.Digest == "" {
		return fmt.Errorf("postgres: create app password: empty digest")
	}
	if p.Created.IsZero() {
		p.Created = now()
	}
	var lastUsed int64
	if !p.LastUsed.IsZero() {
		lastUsed = micros(p.LastUsed)
	}
	var newID int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		// First, as in SQLite: an unknown owner is ErrNotFound even when
		// the digest is taken too.
		if err := userExists(ctx, tx, p.Owner); err != nil {
			return err
		}
		q := `INSERT INTO app_passwords (owner, name, digest, created, last_used, last_addr, last_client)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`
		args := []any{p.Owner, p.Name, p.Digest, micros(p.Created), lastUsed, p.LastAddr, p.LastClient}
		if p.ID != 0 {
			q = `INSERT INTO app_passwords (owner, name, digest, created, last_used, last_addr, last_client, id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`
			args = append(args, p.ID)
		}
		err := tx.QueryRow(ctx, q, args...).Scan(&newID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrExists
		case foreignKeyViolation(err):
			return fmt.Errorf("user %s: %w", p.Owner, store.ErrNotFound)
		case err != nil || p.ID == 0:
			return err
		}
		// An ID given (a copy of another store's row) must not be handed
		// out again: the identity moves past it, as SQLite's
		// AUTOINCREMENT does.
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('app_passwords', 'id'), GREATEST($1, last_value))
			FROM app_passwords_id_seq`, p.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create app password %s/%s: %w", p.Owner, p.Name, err)
	}
	p.ID = newID
	return nil
}

// ListAppPasswords returns owner's app passwords, newest first.
func (s *Store) ListAppPasswords(ctx context.Context, owner string) ([]store.AppPassword, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+appPasswordCols+` FROM app_passwords
		WHERE owner = $1 ORDER BY created DESC, id DESC`, owner)
	if err != nil {
		return nil, fmt.Errorf("postgres: list app passwords %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.AppPassword
	for rows.Next() {
		p, err := scanAppPassword(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list app passwords %s: %w", owner, err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list app passwords %s: %w", owner, err)
	}
	return out, nil
}

// FindAppPassword returns owner's app password with this digest; another
// user's is store.ErrNotFound.
func (s *Store) FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error) {
	p, err := scanAppPassword(s.pool.QueryRow(ctx, `SELECT `+appPasswordCols+` FROM app_passwords
		WHERE owner = $1 AND digest = $2`, owner, digest))
	err = notFound(err)
	if err != nil {
		return nil, fmt.Errorf("postgres: find app password of %s: %w", owner, err)
	}
	return p, nil
}

// DeleteAppPassword deletes owner's app password id; an unknown id, or
// another user's, is store.ErrNotFound.
func (s *Store) DeleteAppPassword(ctx context.Context, owner string, id int64) error {
	tag, err := s.exec(ctx, `DELETE FROM app_passwords WHERE owner = $1 AND id = $2`, owner, id)
	if err == nil {
		err = affected(tag, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete app password %s/%d: %w", owner, id, err)
	}
	return nil
}

// --- sessions ------------------------------------------------------------

// CreateSession inserts x, setting x.Created and x.LastSeen to now when
// zero, and drops the owner's expired sessions in the same transaction. An
// unknown owner (or one deleted meanwhile) is store.ErrNotFound, an ID in
// use store.ErrExists.
func (s *Store) CreateSession(ctx context.Context, x *store.Session) error {
	if x.ID == "" {
		return fmt.Errorf("postgres: create session: empty id")
	}
	t := now()
	if x.Created.IsZero() {
		x.Created = t
	}
	if x.LastSeen.IsZero() {
		x.LastSeen = x.Created
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := userExists(ctx, tx, x.Owner); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE owner = $1 AND expires <= $2`,
			x.Owner, micros(t)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO sessions
			(id, owner, csrf, created, expires, last_seen, addr, client, partial)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			x.ID, x.Owner, x.CSRF, micros(x.Created), micros(x.Expires), micros(x.LastSeen), x.Addr, x.Client, x.Partial)
		if foreignKeyViolation(err) {
			return fmt.Errorf("user %s: %w", x.Owner, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return affected(tag, store.ErrExists)
	})
	if err != nil {
		return fmt.Errorf("postgres: create session of %s: %w", x.Owner, err)
	}
	return nil
}

// GetSession returns the session; an unknown or expired one (Expires not
// after now) is store.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	x := store.Session{ID: id}
	var created, expires, lastSeen int64
	err := s.pool.QueryRow(ctx, `SELECT owner, csrf, created, expires, last_seen, addr, client, partial
		FROM sessions WHERE id = $1 AND expires > $2`, id, micros(now())).
		Scan(&x.Owner, &x.CSRF, &created, &expires, &lastSeen, &x.Addr, &x.Client, &x.Partial)
	err = notFound(err)
	if err != nil {
		// The id is a secret's digest: kept out of error messages.
		return nil, fmt.Errorf("postgres: get session: %w", err)
	}
	x.Created, x.Expires, x.LastSeen = fromMicros(created), fromMicros(expires), fromMicros(lastSeen)
	return &x, nil
}

// TouchSession sets the session's last use and expiry. An unknown or
// already expired session is store.ErrNotFound: touching cannot revive it.
// One statement: a session deleted meanwhile by another process is not
// written back.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	tag, err := s.exec(ctx, `UPDATE sessions SET last_seen = $1, expires = $2
		WHERE id = $3 AND expires > $4`, micros(lastSeen), micros(expires), id, micros(now()))
	if err == nil {
		err = affected(tag, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes the session; an unknown one is not an error, so
// that signing out twice succeeds.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// EndOtherSessions implements store.Store.
func (s *Store) EndOtherSessions(ctx context.Context, owner, keep string) (int, error) {
	tag, err := s.exec(ctx, `DELETE FROM sessions WHERE owner = $1 AND id <> $2`, owner, keep)
	if err != nil {
		return 0, fmt.Errorf("postgres: end sessions of %s: %w", owner, err)
	}
	return int(tag.RowsAffected()), nil
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
// The user's row is locked first (lockUser): two successes from one new
// address at once, through two processes, are one new address and one
// first sign-in, not two.
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		id, newAddr, newDev, first = 0, false, false, false
		err := lockUser(ctx, tx, e.Login)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
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
		err = tx.QueryRow(ctx, `INSERT INTO signins
			(login, time, ok, via, credential, addr, network, client, new_address, new_device)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			e.Login, t, e.OK, e.Via, e.Credential, e.Addr, e.Network, e.Client, newAddr, newDev).Scan(&id)
		if err != nil {
			return err
		}
		if appPassword != 0 {
			if _, err := tx.Exec(ctx, `UPDATE app_passwords
				SET last_used = $1, last_addr = $2, last_client = $3 WHERE id = $4 AND owner = $5`,
				t, e.Addr, e.Client, appPassword, e.Login); err != nil {
				return err
			}
		}
		if keep > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM signins WHERE login = $1 AND time < $2`,
				e.Login, micros(e.Time.Add(-keep))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: record sign-in of %s: %w", e.Login, err)
	}
	e.ID, e.NewAddress, e.NewDevice, e.First = id, newAddr, newDev, first
	return nil
}

// unseen reports whether no success of login has col (addr, client or ok)
// equal to v.
func unseen(ctx context.Context, tx pgx.Tx, login, col string, v any) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM signins
		WHERE login = $1 AND ok = TRUE AND `+col+` = $2 LIMIT 1`, login, v).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	return false, err
}

// SignedInFrom reports whether a success of login with its account
// password from network is recorded.
func (s *Store) SignedInFrom(ctx context.Context, login, network string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM signins
		WHERE login = $1 AND ok = TRUE AND credential = 'password' AND network = $2 LIMIT 1`, login, network).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("postgres: sign-ins of %s from %s: %w", login, network, err)
	}
	return true, nil
}

// ListSignIns returns login's sign-ins, newest first, at most limit
// (100 when limit <= 0).
func (s *Store) ListSignIns(ctx context.Context, login string, limit int) ([]store.SignIn, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, login, time, ok, via, credential, addr, network, client,
		new_address, new_device FROM signins WHERE login = $1 ORDER BY time DESC, id DESC LIMIT $2`, login, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sign-ins %s: %w", login, err)
	}
	defer rows.Close()
	var out []store.SignIn
	for rows.Next() {
		var e store.SignIn
		var t int64
		if err := rows.Scan(&e.ID, &e.Login, &t, &e.OK, &e.Via, &e.Credential, &e.Addr, &e.Network, &e.Client,
			&e.NewAddress, &e.NewDevice); err != nil {
			return nil, fmt.Errorf("postgres: list sign-ins %s: %w", login, err)
		}
		e.Time = fromMicros(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list sign-ins %s: %w", login, err)
	}
	return out, nil
}
