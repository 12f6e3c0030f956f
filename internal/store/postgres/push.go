package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// WebDAV-Push: store.Secrets and store.Push, and the messages the writes
// queue (see queueSQL).
//
// Locks: a write of a collection queues under the collection's lock, and
// locks the registrations it queues for (KEY SHARE, the lock their queue
// row's foreign key takes anyway) before their queue rows, in id order; a
// registration deleted meanwhile is then passed over instead of failing
// the write. FinishPush and RetryPush lock the registration before its
// queue row, as a deletion of the registration does. RegisterPush locks
// the collection, then the user, as the writes do, then the registrations.

// pushKeyLock is the key of the advisory lock that orders the changes of
// the current VAPID key (exclusive: its creation, RotatePushKey) before
// or after the registrations bound to it (shared: RegisterPush), so that
// no registration is bound to a key retired under it without its
// rotation message.
const pushKeyLock = 0x726f6c6f64617602

// Secret implements store.Secrets. A secret stored first wins: an insert
// that meets another's (in progress or committed) waits for it and
// inserts nothing; the read after it, a statement of its own at READ
// COMMITTED, sees the winner's value.
func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	if name == "" {
		return "", errors.New("postgres: secret: empty name")
	}
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err == nil && fresh == "" {
		err = errors.New("generated an empty value")
	}
	if err != nil {
		return "", fmt.Errorf("postgres: secret %s: %w", name, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value, created) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, fresh, micros(now())); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("postgres: secret %s: %w", name, err)
	}
	return v, nil
}

const keyCols = `k.id, k.private, k.public, k.created, k.retired`

func scanKey(sc interface{ Scan(...any) error }, k *store.PushKey) error {
	var created, retired int64
	if err := sc.Scan(&k.ID, &k.Private, &k.Public, &created, &retired); err != nil {
		return err
	}
	k.Created, k.Retired = fromMicros(created), optTime(retired)
	return nil
}

// currentKey is the query of the current key: the one not retired (the
// newest, should there ever be two).
const currentKey = `SELECT ` + keyCols + ` FROM push_keys k WHERE k.retired = 0 ORDER BY k.id DESC LIMIT 1`

// PushKey implements store.Push: the current key, or one made under the
// exclusive key lock when a look under it still finds none.
func (s *Store) PushKey(ctx context.Context, gen func() (store.PushKey, error)) (store.PushKey, error) {
	var k store.PushKey
	err := scanKey(s.pool.QueryRow(ctx, currentKey), &k)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.PushKey{}, fmt.Errorf("postgres: push key: %w", err)
	}
	fresh, err := gen()
	if err == nil && (fresh.Private == "" || fresh.Public == "") {
		err = errors.New("generated key is incomplete")
	}
	if err != nil {
		return store.PushKey{}, fmt.Errorf("postgres: push key: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pushKeyLock)); err != nil {
			return err
		}
		err := scanKey(tx.QueryRow(ctx, currentKey), &k)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return scanKey(tx.QueryRow(ctx, `INSERT INTO push_keys AS k (private, public, created) VALUES ($1, $2, $3)
			RETURNING `+keyCols, fresh.Private, fresh.Public, micros(createdAt(fresh.Created))), &k)
	})
	if err != nil {
		return store.PushKey{}, fmt.Errorf("postgres: push key: %w", err)
	}
	return k, nil
}

// createdAt is t, or now when t is zero.
func createdAt(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// RotatePushKey implements store.Push under the exclusive key lock: no
// RegisterPush binds a registration to the key it retires, unseen by the
// choice of rotation messages, meanwhile.
func (s *Store) RotatePushKey(ctx context.Context, next store.PushKey, at time.Time) error {
	if next.Private == "" || next.Public == "" || at.IsZero() {
		return errors.New("postgres: rotate push key: the key's halves and the time are required")
	}
	t := micros(at)
	var queued int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pushKeyLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE push_keys SET retired = $1 WHERE retired = 0`, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO push_keys (private, public, created) VALUES ($1, $2, $3)`,
			next.Private, next.Public, t); err != nil {
			return err
		}
		// One message per resource, through its oldest registration not
		// expired and not gone, as in SQLite. The locking subquery passes
		// over registrations deleted meanwhile.
		return tx.QueryRow(ctx, `WITH q AS (INSERT INTO push_queue (registration, rotation, queued)
				SELECT DISTINCT ON (r.resource) r.id, TRUE, $1 FROM push_registrations r
				WHERE r.id IN (SELECT x.id FROM push_registrations x JOIN push_keys k ON k.id = x.key_id
					WHERE k.retired > 0 AND x.expires > $1 AND x.gone = 0 ORDER BY x.id FOR KEY SHARE OF x)
				ORDER BY r.resource, r.id
				ON CONFLICT (registration) DO UPDATE SET rotation = TRUE, version = push_queue.version + 1
				RETURNING 1)
			SELECT count(*) FROM q`, t).Scan(&queued)
	})
	if err != nil {
		return fmt.Errorf("postgres: rotate push key: %w", err)
	}
	wake(ctx, queued)
	return nil
}

// wake calls the Wake of ctx's push hints when queued counts a message.
func wake(ctx context.Context, queued int64) {
	if h := store.PushHintsFrom(ctx); queued > 0 && h.Wake != nil {
		h.Wake()
	}
}

const regCols = `r.id, r.token, r.login, r.collection, r.home, r.gone, r.resource, r.public_key, r.auth_secret,
	r.content, r.property, r.key_id, r.client, r.created, r.expires, r.last_sent`

func scanRegistration(sc interface{ Scan(...any) error }, r *store.PushRegistration, extra ...any) error {
	var coll *int64
	var home string
	var created, expires, lastSent int64
	err := sc.Scan(append([]any{&r.ID, &r.Token, &r.Login, &coll, &home, &r.Gone, &r.Resource, &r.PublicKey, &r.AuthSecret,
		&r.Content, &r.Property, &r.KeyID, &r.Client, &created, &expires, &lastSent}, extra...)...)
	if err != nil {
		return err
	}
	r.Collection = 0
	if coll != nil {
		r.Collection = *coll
	}
	r.Home = store.Kind(home)
	r.Created, r.Expires, r.LastSent = fromMicros(created), fromMicros(expires), optTime(lastSent)
	return nil
}

// RegisterPush implements store.Push. The target is checked in the
// transaction, and the foreign keys catch a target deleted before it
// commits. An insert that meets another's registration of the same
// resource and target (in progress or committed) waits for it and inserts
// nothing; the update after it, a statement of its own, then finds it.
// The user's expired registrations go first, as in SQLite.
func (s *Store) RegisterPush(ctx context.Context, r *store.PushRegistration) (bool, error) {
	if err := r.Check(); err != nil {
		return false, fmt.Errorf("postgres: register push of %s: %w", r.Login, err)
	}
	token, err := store.NewPushToken()
	if err != nil {
		return false, fmt.Errorf("postgres: register push of %s: %w", r.Login, err)
	}
	var coll *int64 // NULL for a home
	conflict := `(login, home, resource) WHERE collection IS NULL AND gone = 0`
	if r.Collection > 0 {
		coll = &r.Collection
		conflict = `(collection, resource) WHERE collection IS NOT NULL`
	}
	// $1-$4 name the registration, $5-$11 are what an update sets.
	args := []any{coll, r.Login, string(r.Home), r.Resource, r.PublicKey, r.AuthSecret, r.Content, r.Property,
		nil, r.Client, micros(r.Expires), token, micros(createdAt(r.Created))}
	var out store.PushRegistration
	var isNew bool
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(pushKeyLock)); err != nil {
			return err
		}
		var key int64
		err := tx.QueryRow(ctx, `SELECT id FROM push_keys WHERE retired = 0 ORDER BY id DESC LIMIT 1`).Scan(&key)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("no current VAPID key (see PushKey)")
		}
		if err != nil {
			return err
		}
		if err := pushTargetOf(ctx, tx, r); err != nil {
			return err
		}
		// The user's row, locked after the collection's as by every write,
		// makes the count and the insert one step: one RegisterPush of a
		// user at a time. NO KEY UPDATE, as the writes' update of the
		// usage, blocks no insert whose foreign key names the user.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE login = $1 FOR NO KEY UPDATE`, r.Login); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE login = $1 AND expires <= $2`,
			r.Login, micros(now())); err != nil {
			return err
		}
		// What is left is not expired. Counted but this registration,
		// should it exist: an update is no new registration.
		var n, onTarget int
		if err := tx.QueryRow(ctx, `SELECT count(*),
				count(*) FILTER (WHERE r.collection IS NOT DISTINCT FROM $2 AND r.home = $3)
			FROM push_registrations r WHERE r.login = $1
				AND NOT (r.collection IS NOT DISTINCT FROM $2 AND r.home = $3 AND r.resource = $4)`,
			r.Login, coll, string(r.Home), r.Resource).Scan(&n, &onTarget); err != nil {
			return err
		}
		if n >= store.MaxPushRegistrations || onTarget >= store.MaxPushRegistrationsPerTarget {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM push_registrations r WHERE r.collection IS NOT DISTINCT FROM $1
				AND r.login = $2 AND r.home = $3 AND r.resource = $4`, coll, r.Login, string(r.Home), r.Resource).Scan(&one)
			switch {
			case errors.Is(err, pgx.ErrNoRows) && n >= store.MaxPushRegistrations:
				return &store.TooManyRegistrationsError{Limit: store.MaxPushRegistrations}
			case errors.Is(err, pgx.ErrNoRows):
				return &store.TooManyRegistrationsError{Limit: store.MaxPushRegistrationsPerTarget, Target: true}
			case err != nil:
				return err
			}
		}
		args[8] = key
		// A registration deleted between the two statements frees its
		// place: the insert then succeeds when tried again.
		for range 3 {
			err = scanRegistration(tx.QueryRow(ctx, `INSERT INTO push_registrations AS r (collection, login, home,
					resource, public_key, auth_secret, content, property, key_id, client, expires, token, created)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT `+conflict+` DO NOTHING RETURNING `+regCols, args...), &out)
			if isNew = err == nil; !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			// (A collection's registrations are its owner's, on no home.)
			err = scanRegistration(tx.QueryRow(ctx, `UPDATE push_registrations r SET public_key = $5,
					auth_secret = $6, content = $7, property = $8, key_id = $9, client = $10, expires = $11
				WHERE r.collection IS NOT DISTINCT FROM $1 AND r.gone = 0 AND r.login = $2 AND r.home = $3
					AND r.resource = $4
				RETURNING `+regCols, args[:11]...), &out)
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		return errors.New("the registration keeps being deleted")
	})
	if foreignKeyViolation(err) {
		err = fmt.Errorf("target deleted meanwhile: %w", store.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("postgres: register push of %s: %w", r.Login, err)
	}
	r.ID, r.Token, r.KeyID, r.Created, r.LastSent = out.ID, out.Token, out.KeyID, out.Created, out.LastSent
	return isNew, nil
}

// pushTargetOf returns store.ErrNotFound unless r's target exists and
// belongs to r.Login. It locks the collection (KEY SHARE, the lock the
// registration's foreign key takes anyway) before RegisterPush locks the
// user: the order of every write, which locks the collection and then
// updates its owner's usage. (The other way round, the two deadlocked.)
func pushTargetOf(ctx context.Context, tx pgx.Tx, r *store.PushRegistration) error {
	if r.Collection == 0 {
		return userExists(ctx, tx, r.Login)
	}
	var owner string
	err := tx.QueryRow(ctx, `SELECT owner FROM collections WHERE id = $1 FOR KEY SHARE`, r.Collection).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && owner != r.Login {
		return fmt.Errorf("collection %d of %s: %w", r.Collection, r.Login, store.ErrNotFound)
	}
	return err
}

// GetPushRegistration implements store.Push.
func (s *Store) GetPushRegistration(ctx context.Context, login, token string) (*store.PushRegistration, error) {
	var r store.PushRegistration
	err := notFound(scanRegistration(s.pool.QueryRow(ctx, `SELECT `+regCols+` FROM push_registrations r
		WHERE r.token = $1 AND r.login = $2`, token, login), &r))
	if err != nil {
		// The token is a secret: kept out of error messages.
		return nil, fmt.Errorf("postgres: push registration of %s: %w", login, err)
	}
	return &r, nil
}

// DeletePushRegistration implements store.Push; the queued message goes
// by cascade.
func (s *Store) DeletePushRegistration(ctx context.Context, login, token string) error {
	tag, err := s.exec(ctx, `DELETE FROM push_registrations WHERE token = $1 AND login = $2`, token, login)
	err = notFound(err)
	if err == nil {
		err = affected(tag, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete push registration of %s: %w", login, err)
	}
	return nil
}

// ListPushRegistrations implements store.Push.
func (s *Store) ListPushRegistrations(ctx context.Context, login string) ([]store.PushRegistration, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+regCols+` FROM push_registrations r WHERE r.login = $1
		ORDER BY r.created DESC, r.id DESC`, login)
	if err != nil {
		return nil, fmt.Errorf("postgres: push registrations of %s: %w", login, err)
	}
	defer rows.Close()
	var out []store.PushRegistration
	for rows.Next() {
		var r store.PushRegistration
		if err := scanRegistration(rows, &r); err != nil {
			return nil, fmt.Errorf("postgres: push registrations of %s: %w", login, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: push registrations of %s: %w", login, err)
	}
	return out, nil
}

// ClaimPushes implements store.Push. The messages to claim are locked
// with SKIP LOCKED, as ClaimNotices locks notices: claimers at once, in
// any process, claim disjoint messages without waiting for each other.
func (s *Store) ClaimPushes(ctx context.Context, at time.Time, lease, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time, error) {
	if limit <= 0 || lease <= 0 || spacing < 0 {
		return nil, time.Time{}, fmt.Errorf("postgres: claim pushes: limit %d and lease %v must be positive, spacing %v not negative",
			limit, lease, spacing)
	}
	t, gap := micros(at), spacing.Microseconds()
	var out []store.PushDelivery
	var next *int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, `DELETE FROM push_queue WHERE registration IN
			(SELECT q.registration FROM push_queue q JOIN push_registrations r ON r.id = q.registration
			 WHERE r.expires <= $1 FOR UPDATE OF q SKIP LOCKED)`, t); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		rows, err := tx.Query(ctx, `UPDATE push_queue q SET lease_until = $1
			FROM push_registrations r JOIN push_keys k ON k.id = r.key_id LEFT JOIN collections c ON c.id = r.collection
			WHERE r.id = q.registration AND q.registration IN
				(SELECT x.registration FROM push_queue x JOIN push_registrations y ON y.id = x.registration
				 WHERE x.lease_until <= $2 AND x.not_before <= $2 AND y.expires > $2 AND y.last_sent <= $3
				 ORDER BY x.attempts > 0, x.queued, x.registration LIMIT $4 FOR UPDATE OF x SKIP LOCKED)
			RETURNING `+regCols+`, `+keyCols+`, COALESCE(c.sync_seq, 0),
				q.content, q.property, q.rotation, q.queued, q.attempts, q.version, q.lease_until`,
			micros(at.Add(lease)), t, t-gap, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d store.PushDelivery
			var queued, leased int64
			var key store.PushKey
			var keyCreated, keyRetired int64
			if err := scanRegistration(rows, &d.Registration, &key.ID, &key.Private, &key.Public, &keyCreated, &keyRetired,
				&d.SyncSeq, &d.Content, &d.Property, &d.Rotation, &queued, &d.Attempts, &d.Version, &leased); err != nil {
				return err
			}
			key.Created, key.Retired = fromMicros(keyCreated), optTime(keyRetired)
			d.Key, d.Queued, d.Lease = key, fromMicros(queued), fromMicros(leased)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		claimed := make([]int64, len(out))
		for i, d := range out {
			claimed[i] = d.Registration.ID
		}
		// When each message left becomes due: the latest of its retry
		// time, the end of another's lease, its registration's spacing and
		// now. One due only once its registration expired never is.
		return tx.QueryRow(ctx, `SELECT MIN(d.due) FROM (
				SELECT GREATEST(q.not_before, q.lease_until, r.last_sent + $2, $1) AS due, r.expires
				FROM push_queue q JOIN push_registrations r ON r.id = q.registration
				WHERE q.registration <> ALL($3)) d
			WHERE d.due < d.expires`, t, gap, claimed).Scan(&next)
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: claim pushes: %w", err)
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b store.PushDelivery) int {
		if c := cmp.Compare(min(a.Attempts, 1), min(b.Attempts, 1)); c != 0 {
			return c
		}
		if c := a.Queued.Compare(b.Queued); c != 0 {
			return c
		}
		return cmp.Compare(a.Registration.ID, b.Registration.ID)
	})
	var due time.Time
	if next != nil {
		due = fromMicros(*next)
	}
	return out, due, nil
}

// lockRegistration locks registration id against its deletion, as
// FinishPush and RetryPush do before its queued message, and returns its
// gone; store.ErrNotFound when it was deleted.
func lockRegistration(ctx context.Context, tx pgx.Tx, id int64) (gone int64, err error) {
	err = tx.QueryRow(ctx, `SELECT gone FROM push_registrations WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&gone)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("registration %d: %w", id, store.ErrNotFound)
	}
	return gone, err
}

// errClaimLost is the answer to a claim that no longer holds.
var errClaimLost = fmt.Errorf("the message was claimed again, or dropped, since: %w", store.ErrPrecondition)

// FinishPush implements store.Push. The lease is the claim's token, as in
// FinishNotice: a later claim sets a later lease_until. A registration of
// a deleted collection goes with its last message.
func (s *Store) FinishPush(ctx context.Context, d *store.PushDelivery, sentAt time.Time) error {
	id := d.Registration.ID
	if sentAt.IsZero() {
		return fmt.Errorf("postgres: finish push to registration %d: no time", id)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		gone, err := lockRegistration(ctx, tx, id)
		if err != nil {
			return err
		}
		if gone != 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE id = $1
				AND EXISTS (SELECT 1 FROM push_queue WHERE registration = $1 AND lease_until = $2)`, id, micros(d.Lease))
			if err == nil && tag.RowsAffected() == 0 {
				err = errClaimLost
			}
			return err
		}
		// Delivered as claimed: done. A change joined since: it stays
		// queued with every flag it had (what was delivered cannot be told
		// from what joined; an extra update costs a client a sync that
		// finds nothing), due a spacing after this delivery, its failed
		// attempts forgotten.
		tag, err := tx.Exec(ctx, `DELETE FROM push_queue WHERE registration = $1 AND lease_until = $2 AND version = $3`,
			id, micros(d.Lease), d.Version)
		if err == nil && tag.RowsAffected() == 0 {
			tag, err = tx.Exec(ctx, `UPDATE push_queue SET lease_until = 0, attempts = 0, not_before = 0, last_error = ''
				WHERE registration = $1 AND lease_until = $2`, id, micros(d.Lease))
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errClaimLost
		}
		_, err = tx.Exec(ctx, `UPDATE push_registrations SET last_sent = $1 WHERE id = $2`, micros(sentAt), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: finish push to registration %d: %w", id, err)
	}
	return nil
}

// RetryPush implements store.Push.
func (s *Store) RetryPush(ctx context.Context, d *store.PushDelivery, notBefore time.Time, lastErr string) error {
	id := d.Registration.ID
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := lockRegistration(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE push_queue SET attempts = attempts + 1, not_before = $1, last_error = $2,
			lease_until = 0 WHERE registration = $3 AND lease_until = $4`, optMicros(notBefore), lastErr, id, micros(d.Lease))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errClaimLost
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: retry push to registration %d: %w", id, err)
	}
	return nil
}

// DropPush implements store.Push; what is gone already is no error. A
// registration of a deleted collection goes with its message.
func (s *Store) DropPush(ctx context.Context, d *store.PushDelivery, registration bool) error {
	id := d.Registration.ID
	err := s.write(ctx, func(tx pgx.Tx) error {
		// The message goes by cascade.
		tag, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE id = $1 AND ($2 OR gone <> 0)`, id, registration)
		if err != nil || registration || tag.RowsAffected() > 0 {
			return err
		}
		// One statement: a message a change joined since the claim stays,
		// released when the claim still holds.
		_, err = tx.Exec(ctx, `WITH dropped AS (
				DELETE FROM push_queue WHERE registration = $1 AND version = $2 RETURNING 1)
			UPDATE push_queue SET lease_until = 0, attempts = 0, not_before = 0, last_error = ''
			WHERE registration = $1 AND lease_until = $3 AND version <> $2`, id, d.Version, micros(d.Lease))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: drop push to registration %d: %w", id, err)
	}
	return nil
}

// PrunePush implements store.Push, on the indexes of expires and key_id.
func (s *Store) PrunePush(ctx context.Context, at time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE expires <= $1`, micros(at))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM push_keys k WHERE k.retired > 0
			AND NOT EXISTS (SELECT 1 FROM push_registrations r WHERE r.key_id = k.id)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune push: %w", err)
	}
	return int(n), nil
}

// --- what the writes queue -----------------------------------------------

// pushes is what a write transaction queues (see store.Push): its
// context's hints, the collections whose content updates it queued
// already (once per transaction each: a merge writes many objects), and
// how many messages it queued. A new one is made for each run of the
// transaction.
type pushes struct {
	skipAll bool
	login   string
	skip    []string // never nil: ANY(NULL) would skip every registration
	done    map[int64]bool
	queued  int64
}

func newPushes(ctx context.Context) pushes {
	h := store.PushHintsFrom(ctx)
	p := pushes{skipAll: h.SkipAll, skip: []string{}, done: map[int64]bool{}}
	// What came from a request and PostgreSQL cannot hold as text names
	// no user or token: left out, it cannot fail the write.
	if !storable(h.Login) {
		return p
	}
	p.login = h.Login
	for _, tok := range h.Skip {
		if storable(tok) {
			p.skip = append(p.skip, tok)
		}
	}
	return p
}

// storable reports whether PostgreSQL can hold s as text: UTF-8 without
// NUL.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// queueSQL is a statement that queues a message for each registration r
// that match selects (a condition on r), flagged content and property
// (expressions on r), at t, unless it expired by t or the hints skip it
// (login and skip are the placeholders of pushes.login and pushes.skip).
// A message queued already is joined: the flags or-ed, version changed,
// its time that of its oldest change. It returns a row per message. When
// no registration matches, as for most writes, it costs a look into an
// index of an empty part of push_registrations.
func queueSQL(match, content, property, t, login, skip string) string {
	return `INSERT INTO push_queue (registration, content, property, queued)
		SELECT r.id, ` + content + `, ` + property + `, ` + t + ` FROM push_registrations r
		WHERE (` + match + `) AND r.expires > ` + t + ` AND NOT (r.login = ` + login + ` AND r.token = ANY(` + skip + `::text[]))
		ORDER BY r.id FOR KEY SHARE
		ON CONFLICT (registration) DO UPDATE SET content = push_queue.content OR excluded.content,
			property = push_queue.property OR excluded.property, version = push_queue.version + 1
		RETURNING 1`
}

// contentCTE returns what a statement that changes coll's objects adds to
// its WITH clause to queue the content updates of coll (collParam and t
// its placeholders of coll and of the write's time; args its arguments),
// the arguments then, and the expression of how many messages it queued:
// nothing and 0 when the transaction queued them already or the hints
// skip every registration. The caller adds that number to p.queued.
func (p *pushes) contentCTE(coll int64, collParam, t string, args []any) (cte string, _ []any, count string) {
	if p.skipAll || p.done[coll] {
		return "", args, "0"
	}
	p.done[coll] = true
	login, skip := "$"+strconv.Itoa(len(args)+1), "$"+strconv.Itoa(len(args)+2)
	return `, q AS (` + queueSQL(`r.collection = `+collParam+` AND r.content`, `TRUE`, `FALSE`, t, login, skip) + `)`,
		append(args, p.login, p.skip), `(SELECT count(*) FROM q)`
}

// queueHome queues the content updates of owner's home of kind, for a
// collection created or deleted there; with coll > 0 also the property
// updates of collection coll, whose properties changed.
func (p *pushes) queueHome(ctx context.Context, tx pgx.Tx, owner string, kind store.Kind, coll int64) error {
	if p.skipAll {
		return nil
	}
	var n int64
	err := tx.QueryRow(ctx, `WITH q AS (`+queueSQL(
		`r.collection IS NULL AND r.gone = 0 AND r.login = $1 AND r.home = $2 AND r.content OR r.collection = $3 AND r.property`,
		`r.collection IS NULL`, `r.collection IS NOT NULL`, `$4`, `$5`, `$6`)+`) SELECT count(*) FROM q`,
		owner, string(kind), coll, micros(now()), p.login, p.skip).Scan(&n)
	p.queued += n
	return err
}

// queueGone tells the registrations of collection coll, about to be
// deleted, that want content updates (not expired, not skipped) of the
// deletion, as SQLite's queueGone: a content update for each, and each
// turned from coll to gone, so that the deletion's cascade passes it
// over. The others go with the collection.
func (p *pushes) queueGone(ctx context.Context, tx pgx.Tx, coll int64) error {
	if p.skipAll {
		return nil
	}
	var n int64
	err := tx.QueryRow(ctx, `WITH g AS (
			UPDATE push_registrations r SET collection = NULL, gone = $1
			WHERE r.collection = $1 AND r.content AND r.expires > $2 AND NOT (r.login = $3 AND r.token = ANY($4::text[]))
			RETURNING r.id),
		q AS (INSERT INTO push_queue (registration, content, property, queued)
			SELECT g.id, TRUE, FALSE, $2 FROM g
			ON CONFLICT (registration) DO UPDATE SET content = TRUE, version = push_queue.version + 1
			RETURNING 1)
		SELECT count(*) FROM q`, coll, micros(now()), p.login, p.skip).Scan(&n)
	p.queued += n
	return err
}
