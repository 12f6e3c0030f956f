package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// What the writes of objects (objects.go) and merges (merges.go) share.
// Each of them runs after lockCollection in the same transaction.

// objCols selects an object; the data column is replaced by NULL when the
// caller asked for metadata only, so the value is never read.
func objCols(withData bool) string {
	data := "NULL::bytea"
	if withData {
		data = "o.data"
	}
	return `o.collection, o.name, COALESCE(o.uid, ''), o.etag, o.size, o.modified, o.seq,
		o.component, o.first_start, o.last_end, ` + data
}

func scanObject(sc interface{ Scan(...any) error }) (*store.Object, int64, error) {
	var o store.Object
	var modified, seq, fs, le int64
	err := sc.Scan(&o.Collection, &o.Name, &o.UID, &o.ETag, &o.Size, &modified, &seq,
		&o.Component, &fs, &le, &o.Data)
	if err != nil {
		return nil, 0, err
	}
	o.Modified = fromMicros(modified)
	o.FirstStart, o.LastEnd = spanTime(fs), spanTime(le)
	return &o, seq, nil
}

// collExists returns store.ErrNotFound when the collection does not exist.
func collExists(ctx context.Context, q querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM collections WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("collection %d: %w", id, store.ErrNotFound)
	}
	return err
}

// bump advances the collection's sync_seq by one, adjusts its object count
// and bytes, records dUsage for its owner in l, queues the content updates
// of the collection's push registrations and returns the new seq;
// store.ErrNotFound when the collection does not exist. The caller holds
// the collection's lock, so seqs are handed out in commit order.
func bump(ctx context.Context, tx pgx.Tx, l *ledger, coll, t, dCount, dBytes, dUsage int64) (int64, error) {
	var seq, queued int64
	var owner string
	push, args, count := l.push.contentCTE(coll, "$4", "$1", []any{t, dCount, dBytes, coll})
	err := tx.QueryRow(ctx, `WITH c AS (UPDATE collections SET sync_seq = sync_seq + 1, modified = $1,
			obj_count = obj_count + $2, obj_bytes = obj_bytes + $3 WHERE id = $4 RETURNING sync_seq, owner)`+push+`
		SELECT c.sync_seq, c.owner, `+count+` FROM c`, args...).Scan(&seq, &owner, &queued)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("collection %d: %w", coll, store.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	l.add(owner, dUsage)
	l.push.queued += queued
	return seq, nil
}

// logChange records seq as the latest change of name, replacing the previous
// one: sync-collection only ever needs the latest state per name.
func logChange(ctx context.Context, tx pgx.Tx, coll int64, name string, seq int64, deleted bool, t int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO changes (collection, name, seq, deleted, changed)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection, name)
		DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed = excluded.changed`,
		coll, name, seq, deleted, t)
	return err
}

// current returns the ETag and size of name and whether it exists.
func current(ctx context.Context, tx pgx.Tx, coll int64, name string) (etag string, size int64, exists bool, err error) {
	err = tx.QueryRow(ctx, `SELECT etag, size FROM objects WHERE collection = $1 AND name = $2`,
		coll, name).Scan(&etag, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, false, nil
	}
	return etag, size, err == nil, err
}

// currentUID returns the UID, ETag and size of name and whether it exists.
func currentUID(ctx context.Context, tx pgx.Tx, coll int64, name string) (uid, etag string, size int64, exists bool, err error) {
	err = tx.QueryRow(ctx, `SELECT COALESCE(uid, ''), etag, size FROM objects WHERE collection = $1 AND name = $2`,
		coll, name).Scan(&uid, &etag, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", 0, false, nil
	}
	return uid, etag, size, err == nil, err
}

// checkCond applies the HTTP preconditions to the current state of a name.
func checkCond(cond store.Conditions, etag string, exists bool) error {
	if cond.IfNoneMatch && exists {
		return fmt.Errorf("exists: %w", store.ErrPrecondition)
	}
	if cond.IfMatch != "" && (!exists || (cond.IfMatch != "*" && cond.IfMatch != etag)) {
		return fmt.Errorf("etag does not match: %w", store.ErrPrecondition)
	}
	return nil
}

// uidHolder returns the name other than except that holds uid, or "".
func uidHolder(ctx context.Context, tx pgx.Tx, coll int64, uid, except string) (string, error) {
	if uid == "" {
		return "", nil // no UID, nothing to be unique
	}
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM objects WHERE collection = $1 AND uid = $2 AND name <> $3`,
		coll, uid, except).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}

func nullUID(uid string) any {
	if uid == "" {
		return nil
	}
	return uid
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// writeObject creates or replaces o.Name in coll after the caller checked
// conditions and UIDs: one seq of its own, a change row, counters, usage.
// oldSize and exists describe the current object. Returns the new ETag.
// The collection's row, the object, its change, its owner's usage and the
// push messages it queues (see pushes.contentCTE) are written by one
// statement: the collection stays locked for fewer round trips.
func writeObject(ctx context.Context, tx pgx.Tx, l *ledger, coll int64, o *store.Object, oldSize int64, exists bool, t int64) (string, error) {
	etag := store.ETag(o.Data)
	data := o.Data
	if data == nil {
		data = []byte{} // the column is NOT NULL; nil means empty here
	}
	size := int64(len(data))
	dUsage := store.ObjectUsage(o.Name, size)
	if exists {
		dUsage -= store.ObjectUsage(o.Name, oldSize)
	}
	var owner string
	var used, queued int64
	push, args, count := l.push.contentCTE(coll, "$1", "$6", []any{coll, o.Name, nullUID(o.UID), etag, size, t, o.Component,
		spanStart(o.FirstStart), spanEnd(o.LastEnd), data, b2i(!exists), size - oldSize, dUsage})
	err := tx.QueryRow(ctx, `WITH c AS (
			UPDATE collections SET sync_seq = sync_seq + 1, modified = $6,
				obj_count = obj_count + $11, obj_bytes = obj_bytes + $12
			WHERE id = $1 RETURNING sync_seq, owner),
		o AS (INSERT INTO objects
			(collection, name, uid, etag, size, modified, seq, component, first_start, last_end, data)
			SELECT $1, $2, $3, $4, $5, $6, c.sync_seq, $7, $8, $9, $10 FROM c
			ON CONFLICT (collection, name) DO UPDATE SET uid = excluded.uid, etag = excluded.etag,
				size = excluded.size, modified = excluded.modified, seq = excluded.seq,
				component = excluded.component, first_start = excluded.first_start,
				last_end = excluded.last_end, data = excluded.data
			RETURNING 1),
		ch AS (INSERT INTO changes (collection, name, seq, deleted, changed)
			SELECT $1, $2, c.sync_seq, FALSE, $6 FROM c
			ON CONFLICT (collection, name)
			DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed = excluded.changed
			RETURNING 1),
		u AS (UPDATE users SET used_bytes = users.used_bytes + $13 FROM c WHERE users.login = c.owner
			RETURNING users.used_bytes)`+push+`
		SELECT c.owner, u.used_bytes, `+count+` FROM c, u`, args...).Scan(&owner, &used, &queued)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("collection %d: %w", coll, store.ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	l.applied(owner, dUsage, used)
	l.push.queued += queued
	return etag, nil
}

// removeObject deletes name from coll after the caller checked: its own
// seq, a deletion change, counters, usage, push messages; one statement,
// as writeObject.
func removeObject(ctx context.Context, tx pgx.Tx, l *ledger, coll int64, name string, size, t int64) error {
	var owner string
	var used, queued int64
	d := -store.ObjectUsage(name, size)
	push, args, count := l.push.contentCTE(coll, "$1", "$3", []any{coll, name, t, size, d})
	err := tx.QueryRow(ctx, `WITH c AS (
			UPDATE collections SET sync_seq = sync_seq + 1, modified = $3,
				obj_count = obj_count - 1, obj_bytes = obj_bytes - $4
			WHERE id = $1 RETURNING sync_seq, owner),
		d AS (DELETE FROM objects WHERE collection = $1 AND name = $2 RETURNING 1),
		ch AS (INSERT INTO changes (collection, name, seq, deleted, changed)
			SELECT $1, $2, c.sync_seq, TRUE, $3 FROM c
			ON CONFLICT (collection, name)
			DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed = excluded.changed
			RETURNING 1),
		u AS (UPDATE users SET used_bytes = users.used_bytes + $5 FROM c WHERE users.login = c.owner
			RETURNING users.used_bytes)`+push+`
		SELECT c.owner, u.used_bytes, `+count+` FROM c, u`, args...).Scan(&owner, &used, &queued)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("collection %d: %w", coll, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	l.applied(owner, d, used)
	l.push.queued += queued
	return nil
}

// sameColl checks that an object passed along with a collection ID belongs
// to it (0 = unset, taken as coll).
func sameColl(o *store.Object, coll int64) error {
	if o == nil {
		return errors.New("nil object")
	}
	if o.Name == "" {
		return errors.New("empty name")
	}
	if o.Collection != 0 && o.Collection != coll {
		return fmt.Errorf("%s belongs to collection %d, not %d", o.Name, o.Collection, coll)
	}
	return nil
}
