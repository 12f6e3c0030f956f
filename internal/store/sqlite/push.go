package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// WebDAV-Push: store.Secrets and store.Push. The messages themselves are
// queued by writeCounted at the end of every write transaction that
// changes what registrations watch (queuePushes).

// Secret implements store.Secrets. gen runs outside the write transaction
// (it may be slow); the insert then keeps whatever another process stored
// first.
func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	if name == "" {
		return "", errors.New("sqlite: secret: empty name")
	}
	var value string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err == nil && fresh == "" {
		err = errors.New("generated an empty value")
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: secret %s: %w", name, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, fresh, micros(now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: secret %s: %w", name, err)
	}
	return value, nil
}

const keyCols = `id, private, public, created, retired`

func scanKey(sc interface{ Scan(...any) error }) (store.PushKey, error) {
	var k store.PushKey
	var created, retired int64
	if err := sc.Scan(&k.ID, &k.Private, &k.Public, &created, &retired); err != nil {
		return store.PushKey{}, err
	}
	k.Created, k.Retired = fromMicros(created), optTime(retired)
	return k, nil
}

// currentKey reads the key that is not retired; sql.ErrNoRows when there
// is none.
func currentKey(ctx context.Context, q querier) (store.PushKey, error) {
	return scanKey(q.QueryRowContext(ctx, `SELECT `+keyCols+` FROM push_keys WHERE retired = 0`))
}

// PushKey implements store.Push, as Secret does.
func (s *Store) PushKey(ctx context.Context, gen func() (store.PushKey, error)) (store.PushKey, error) {
	k, err := currentKey(ctx, s.rdb)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.PushKey{}, fmt.Errorf("sqlite: push key: %w", err)
	}
	fresh, err := gen()
	if err == nil && (fresh.Private == "" || fresh.Public == "") {
		err = errors.New("generated a key without its private or public half")
	}
	if err != nil {
		return store.PushKey{}, fmt.Errorf("sqlite: push key: %w", err)
	}
	if fresh.Created.IsZero() {
		fresh.Created = now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		k, err = currentKey(ctx, tx)
		if !errors.Is(err, sql.ErrNoRows) {
			return err // stored by another process meanwhile, or a failure
		}
		k, err = scanKey(tx.QueryRowContext(ctx, `INSERT INTO push_keys (private, public, created) VALUES (?, ?, ?)
			RETURNING `+keyCols, fresh.Private, fresh.Public, micros(fresh.Created)))
		return err
	})
	if err != nil {
		return store.PushKey{}, fmt.Errorf("sqlite: push key: %w", err)
	}
	return k, nil
}

// RotatePushKey implements store.Push. Each distinct push resource bound
// to a retired key gets its rotation message through one of its
// registrations, the oldest not expired and not gone (which would take
// the message with it when its own is dropped).
func (s *Store) RotatePushKey(ctx context.Context, next store.PushKey, now time.Time) error {
	if next.Private == "" || next.Public == "" || now.IsZero() {
		return errors.New("sqlite: rotate push key: the key's halves and the time are required")
	}
	t := micros(now)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE push_keys SET retired = ? WHERE retired = 0`, t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_keys (private, public, created) VALUES (?, ?, ?)`,
			next.Private, next.Public, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO push_queue (registration, rotation, queued)
			SELECT MIN(r.id), TRUE, ? FROM push_registrations r JOIN push_keys k ON k.id = r.key_id
			WHERE k.retired <> 0 AND r.expires > ? AND r.gone = 0 GROUP BY r.resource
			ON CONFLICT (registration) DO UPDATE SET rotation = TRUE, version = push_queue.version + 1`, t, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate push key: %w", err)
	}
	return nil
}

const regCols = `r.id, r.token, r.login, COALESCE(r.collection, 0), r.home, r.gone, r.resource, r.public_key,
	r.auth_secret, r.content, r.property, r.key_id, r.client, r.created, r.expires, r.last_sent`

func scanRegistration(sc interface{ Scan(...any) error }, more ...any) (store.PushRegistration, error) {
	var r store.PushRegistration
	var home string
	var created, expires, lastSent int64
	dest := append([]any{&r.ID, &r.Token, &r.Login, &r.Collection, &home, &r.Gone, &r.Resource, &r.PublicKey,
		&r.AuthSecret, &r.Content, &r.Property, &r.KeyID, &r.Client, &created, &expires, &lastSent}, more...)
	if err := sc.Scan(dest...); err != nil {
		return store.PushRegistration{}, err
	}
	r.Home = store.Kind(home)
	r.Created, r.Expires, r.LastSent = fromMicros(created), fromMicros(expires), optTime(lastSent)
	return r, nil
}

// RegisterPush implements store.Push. Created and LastSent of a new
// registration are set by the store (Created to now unless given); an
// update keeps the stored ones and sets r's to them. The user's expired
// registrations go first: no cap counts them, so kept they would pile up,
// and one registered again would be an update, back uncounted.
func (s *Store) RegisterPush(ctx context.Context, r *store.PushRegistration) (bool, error) {
	if err := r.Check(); err != nil {
		return false, fmt.Errorf("sqlite: register push for %s: %w", r.Login, err)
	}
	token, err := store.NewPushToken()
	if err != nil {
		return false, fmt.Errorf("sqlite: register push for %s: %w", r.Login, err)
	}
	created := r.Created
	if created.IsZero() {
		created = now()
	}
	var coll any // NULL for a home
	if r.Collection > 0 {
		coll = r.Collection
	}
	var id, keyID, createdAt, lastSent int64
	isNew := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM push_keys WHERE retired = 0`).Scan(&keyID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errors.New("no current VAPID key (PushKey makes it)")
			}
			return err
		}
		if r.Collection > 0 {
			owner, err := collOwner(ctx, tx, r.Collection)
			if err != nil {
				return err
			}
			if owner != r.Login {
				return fmt.Errorf("collection %d: %w", r.Collection, store.ErrNotFound) // not theirs: as if absent
			}
		} else if err := userExists(ctx, tx, r.Login); err != nil {
			return err
		}
		t := micros(now())
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE login = ? AND expires <= ?`,
			r.Login, t); err != nil {
			return err
		}
		var existing *sql.Row
		if r.Collection > 0 {
			existing = tx.QueryRowContext(ctx, `SELECT id, token, created, last_sent FROM push_registrations
				WHERE collection = ? AND resource = ?`, r.Collection, r.Resource)
		} else {
			existing = tx.QueryRowContext(ctx, `SELECT id, token, created, last_sent FROM push_registrations
				WHERE collection IS NULL AND gone = 0 AND login = ? AND home = ? AND resource = ?`,
				r.Login, string(r.Home), r.Resource)
		}
		err := existing.Scan(&id, &token, &createdAt, &lastSent)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE push_registrations SET public_key = ?, auth_secret = ?,
				content = ?, property = ?, key_id = ?, client = ?, expires = ? WHERE id = ?`,
				r.PublicKey, r.AuthSecret, r.Content, r.Property, keyID, r.Client, micros(r.Expires), id)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// What is left is not expired.
		var n, onTarget int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM push_registrations WHERE login = ?`,
			r.Login).Scan(&n); err != nil {
			return err
		}
		if n >= store.MaxPushRegistrations {
			return &store.TooManyRegistrationsError{Limit: store.MaxPushRegistrations}
		}
		if r.Collection > 0 {
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM push_registrations WHERE collection = ?`,
				r.Collection).Scan(&onTarget)
		} else {
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM push_registrations
				WHERE collection IS NULL AND gone = 0 AND login = ? AND home = ?`, r.Login, string(r.Home)).Scan(&onTarget)
		}
		if err != nil {
			return err
		}
		if onTarget >= store.MaxPushRegistrationsPerTarget {
			return &store.TooManyRegistrationsError{Limit: store.MaxPushRegistrationsPerTarget, Target: true}
		}
		isNew, createdAt, lastSent = true, micros(created), 0
		return tx.QueryRowContext(ctx, `INSERT INTO push_registrations (token, login, collection, home,
			resource, public_key, auth_secret, content, property, key_id, client, created, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			token, r.Login, coll, string(r.Home), r.Resource, r.PublicKey, r.AuthSecret, r.Content, r.Property,
			keyID, r.Client, createdAt, micros(r.Expires)).Scan(&id)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: register push for %s: %w", r.Login, err)
	}
	r.ID, r.Token, r.KeyID, r.Created, r.LastSent = id, token, keyID, fromMicros(createdAt), optTime(lastSent)
	return isNew, nil
}

// GetPushRegistration implements store.Push.
func (s *Store) GetPushRegistration(ctx context.Context, login, token string) (*store.PushRegistration, error) {
	r, err := scanRegistration(s.rdb.QueryRowContext(ctx, `SELECT `+regCols+` FROM push_registrations r
		WHERE r.token = ? AND r.login = ?`, token, login))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: push registration of %s: %w", login, err)
	}
	return &r, nil
}

// DeletePushRegistration implements store.Push; its queued message goes
// by cascade.
func (s *Store) DeletePushRegistration(ctx context.Context, login, token string) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM push_registrations WHERE token = ? AND login = ?`, token, login)
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete push registration of %s: %w", login, err)
	}
	return nil
}

// ListPushRegistrations implements store.Push.
func (s *Store) ListPushRegistrations(ctx context.Context, login string) ([]store.PushRegistration, error) {
	var out []store.PushRegistration
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+regCols+` FROM push_registrations r
			WHERE r.login = ? ORDER BY r.created DESC, r.id DESC`, login)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRegistration(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: push registrations of %s: %w", login, err)
	}
	return out, nil
}

// The statements that queue messages, prepared once on the write
// connection (see prepareQueue): compiling them is most of the cost of a
// write that queues nothing. The tokens Push-Dont-Notify skips are a JSON
// array, so that the text stays the same whatever their number.
const (
	// queueColl queues what a change of collection ? owes its registrations
	// with content (the first ?, a change of its objects) or property (the
	// second, a change of its properties).
	queueColl = `INSERT INTO push_queue (registration, content, property, queued)
		SELECT r.id, ?, ?, ? FROM push_registrations r
		WHERE r.collection = ? AND ((? AND r.content) OR (? AND r.property)) AND r.expires > ?` +
		skipTokens + onQueued
	// queueHome queues a content update for the registrations of the home
	// of kind ? of login ?.
	queueHome = `INSERT INTO push_queue (registration, content, property, queued)
		SELECT r.id, TRUE, FALSE, ? FROM push_registrations r
		WHERE r.collection IS NULL AND r.gone = 0 AND r.login = ? AND r.home = ? AND r.content AND r.expires > ?` +
		skipTokens + onQueued
	skipTokens = ` AND NOT (r.login = ? AND r.token IN (SELECT value FROM json_each(?)))`
	onQueued   = ` ON CONFLICT (registration) DO UPDATE SET content = push_queue.content OR excluded.content,
		property = push_queue.property OR excluded.property, version = push_queue.version + 1`
)

// queueStmts are queueColl and queueHome prepared on the write connection.
type queueStmts struct {
	coll, home *sql.Stmt
}

func prepareQueue(db *sql.DB) (queueStmts, error) {
	var q queueStmts
	var err error
	if q.coll, err = db.Prepare(queueColl); err != nil {
		return q, err
	}
	if q.home, err = db.Prepare(queueHome); err != nil {
		q.coll.Close()
	}
	return q, err
}

func (q queueStmts) Close() error {
	return errors.Join(q.coll.Close(), q.home.Close())
}

// queuePushes queues, in the write transaction tx, what the changes l
// recorded owe the registrations (see store.Push), minus what h skips,
// and reports whether it queued or joined any message. A write without
// registrations costs an index lookup per collection or home it changed.
func (s *Store) queuePushes(ctx context.Context, tx *sql.Tx, l *ledger, h store.PushHints) (bool, error) {
	if h.SkipAll || len(l.content)+len(l.property)+len(l.homes) == 0 {
		return false, nil
	}
	t := micros(now())
	skipLogin, skip, err := skipArgs(h)
	if err != nil {
		return false, err
	}
	queued := false
	exec := func(st *sql.Stmt, args ...any) error {
		res, err := tx.StmtContext(ctx, st).ExecContext(ctx, append(args, skipLogin, skip)...)
		if err != nil {
			return fmt.Errorf("queueing push messages: %w", err)
		}
		n, err := res.RowsAffected()
		queued = queued || n > 0
		return err
	}
	for _, coll := range l.content {
		if err := exec(s.queue.coll, true, false, t, coll, true, false, t); err != nil {
			return false, err
		}
	}
	for _, coll := range l.property {
		if err := exec(s.queue.coll, false, true, t, coll, false, true, t); err != nil {
			return false, err
		}
	}
	for _, home := range l.homes {
		if err := exec(s.queue.home, t, home.login, string(home.kind), t); err != nil {
			return false, err
		}
	}
	return queued, nil
}

// skipArgs are the arguments of skipTokens for h.
func skipArgs(h store.PushHints) (login, tokens string, err error) {
	if h.Login == "" || len(h.Skip) == 0 {
		return "", "[]", nil
	}
	b, err := json.Marshal(h.Skip)
	return h.Login, string(b), err
}

// queueGone tells the registrations of collection coll, about to be
// deleted, that want content updates (not expired, not skipped by h) of
// the deletion: it queues a content update for each, and turns each from
// coll to gone (store.PushRegistration.Gone), so that the deletion's
// cascade passes it over. The others go with the collection. It reports
// whether it queued or joined any message.
func (s *Store) queueGone(ctx context.Context, tx *sql.Tx, coll int64, h store.PushHints) (bool, error) {
	if h.SkipAll {
		return false, nil
	}
	t := micros(now())
	login, skip, err := skipArgs(h)
	if err != nil {
		return false, err
	}
	// The same registrations: the statements' conditions match.
	res, err := tx.StmtContext(ctx, s.queue.coll).ExecContext(ctx, true, false, t, coll, true, false, t, login, skip)
	if err != nil {
		return false, fmt.Errorf("queueing push messages: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE push_registrations AS r SET collection = NULL, gone = ?
		WHERE r.collection = ? AND r.content AND r.expires > ?`+skipTokens, coll, coll, t, login, skip)
	return true, err
}

// ClaimPushes implements store.Push.
func (s *Store) ClaimPushes(ctx context.Context, now time.Time, lease, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time, error) {
	if limit <= 0 || lease <= 0 || spacing < 0 {
		return nil, time.Time{}, fmt.Errorf("sqlite: claim pushes: limit %d and lease %v must be positive, spacing %v not negative",
			limit, lease, spacing)
	}
	t, leaseEnd, sp := micros(now), micros(now.Add(lease)), spacing.Microseconds()
	var out []store.PushDelivery
	var next sql.NullInt64
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_queue WHERE registration IN
			(SELECT id FROM push_registrations WHERE expires <= ?)`, t); err != nil {
			return fmt.Errorf("dropping messages of expired registrations: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+regCols+`, `+prefixed("k.", keyCols)+`,
			COALESCE(c.sync_seq, 0), q.content, q.property, q.rotation, q.queued, q.attempts, q.version
			FROM push_queue q JOIN push_registrations r ON r.id = q.registration
			JOIN push_keys k ON k.id = r.key_id LEFT JOIN collections c ON c.id = r.collection
			WHERE q.lease_until <= ? AND q.not_before <= ? AND r.last_sent <= ?
			ORDER BY q.attempts > 0, q.queued, q.registration LIMIT ?`, t, t, t-sp, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d store.PushDelivery
			var kCreated, kRetired, queued int64
			d.Registration, err = scanRegistration(rows, &d.Key.ID, &d.Key.Private, &d.Key.Public, &kCreated, &kRetired,
				&d.SyncSeq, &d.Content, &d.Property, &d.Rotation, &queued, &d.Attempts, &d.Version)
			if err != nil {
				return err
			}
			d.Key.Created, d.Key.Retired = fromMicros(kCreated), optTime(kRetired)
			d.Queued, d.Lease = fromMicros(queued), fromMicros(leaseEnd)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		claimed := make([]any, 0, len(out)+1)
		claimed = append(claimed, leaseEnd)
		for _, d := range out {
			claimed = append(claimed, d.Registration.ID)
		}
		notClaimed := ""
		if len(out) > 0 {
			in := `(?` + strings.Repeat(", ?", len(out)-1) + `)`
			if _, err := tx.ExecContext(ctx, `UPDATE push_queue SET lease_until = ? WHERE registration IN `+in,
				claimed...); err != nil {
				return err
			}
			notClaimed = ` WHERE q.registration NOT IN ` + in
		}
		// A message is due at the latest of its retry time, its lease's end
		// and its registration's spacing, or now; one due only once its
		// registration expired never is.
		return tx.QueryRowContext(ctx, `SELECT MIN(due) FROM (
			SELECT MAX(q.not_before, q.lease_until, r.last_sent + ?, ?) AS due, r.expires AS expires
			FROM push_queue q JOIN push_registrations r ON r.id = q.registration`+notClaimed+`) AS d
			WHERE due < expires`, append([]any{sp, t}, claimed[1:]...)...).Scan(&next)
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sqlite: claim pushes: %w", err)
	}
	var at time.Time
	if next.Valid {
		at = fromMicros(next.Int64)
	}
	return out, at, nil
}

// prefixed qualifies each of the comma-separated columns cols with p.
func prefixed(p, cols string) string {
	names := strings.Split(cols, ",")
	for i, n := range names {
		names[i] = p + strings.TrimSpace(n)
	}
	return strings.Join(names, ", ")
}

// claimed checks, in tx, that d's claim holds: its registration exists
// (store.ErrNotFound otherwise) and its message is queued under the lease
// d has (store.ErrPrecondition otherwise: finished, retried, dropped or
// claimed again since). It returns the message's version and the
// registration's gone.
func claimed(ctx context.Context, tx *sql.Tx, d *store.PushDelivery) (version, gone int64, err error) {
	var v, lease sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT q.version, q.lease_until, r.gone FROM push_registrations r
		LEFT JOIN push_queue q ON q.registration = r.id WHERE r.id = ?`, d.Registration.ID).Scan(&v, &lease, &gone)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("registration %d: %w", d.Registration.ID, store.ErrNotFound)
	}
	if err != nil {
		return 0, 0, err
	}
	if !v.Valid || d.Lease.IsZero() || lease.Int64 != micros(d.Lease) {
		return 0, 0, fmt.Errorf("the message to registration %d is no longer claimed with this lease: %w",
			d.Registration.ID, store.ErrPrecondition)
	}
	return v.Int64, gone, nil
}

// FinishPush implements store.Push. A message a change joined since the
// claim stays queued with every flag it had (what was delivered is owed
// again too: the store cannot tell it apart from what joined, and an
// extra update costs a client a sync that finds nothing), its lease
// ended and its failed attempts forgotten: this delivery succeeded. A
// registration of a deleted collection goes with its last message.
func (s *Store) FinishPush(ctx context.Context, d *store.PushDelivery, sentAt time.Time) error {
	if sentAt.IsZero() {
		return fmt.Errorf("sqlite: finish push to registration %d: no time", d.Registration.ID)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		version, gone, err := claimed(ctx, tx, d)
		if err != nil {
			return err
		}
		if gone != 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE id = ?`, d.Registration.ID)
			return err
		}
		if version == d.Version {
			_, err = tx.ExecContext(ctx, `DELETE FROM push_queue WHERE registration = ?`, d.Registration.ID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE push_queue SET lease_until = 0, attempts = 0, not_before = 0,
				last_error = '' WHERE registration = ?`, d.Registration.ID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE push_registrations SET last_sent = ? WHERE id = ?`,
			micros(sentAt), d.Registration.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish push to registration %d: %w", d.Registration.ID, err)
	}
	return nil
}

// RetryPush implements store.Push.
func (s *Store) RetryPush(ctx context.Context, d *store.PushDelivery, notBefore time.Time, lastErr string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, _, err := claimed(ctx, tx, d); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE push_queue SET attempts = attempts + 1, not_before = ?,
			last_error = ?, lease_until = 0 WHERE registration = ?`, optMicros(notBefore), lastErr, d.Registration.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry push to registration %d: %w", d.Registration.ID, err)
	}
	return nil
}

// DropPush implements store.Push. What is gone already is no error. A
// registration of a deleted collection goes with its message.
func (s *Store) DropPush(ctx context.Context, d *store.PushDelivery, registration bool) error {
	id := d.Registration.ID
	err := s.write(ctx, func(tx *sql.Tx) error {
		// The message goes by cascade.
		res, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE id = ? AND (? OR gone <> 0)`, id, registration)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 || registration {
			return err
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM push_queue WHERE registration = ? AND version = ?`, id, d.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE push_queue SET lease_until = 0, attempts = 0, not_before = 0, last_error = ''
			WHERE registration = ? AND lease_until = ?`, id, micros(d.Lease))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: drop push to registration %d: %w", id, err)
	}
	return nil
}

// PrunePush implements store.Push.
func (s *Store) PrunePush(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE expires <= ?`, micros(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM push_keys WHERE retired <> 0
			AND NOT EXISTS (SELECT 1 FROM push_registrations r WHERE r.key_id = push_keys.id)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune push: %w", err)
	}
	return int(n), nil
}
