package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// objCols selects an object; the data column is replaced by NULL when the
// caller asked for metadata only, so the blob is never read.
func objCols(withData bool) string {
	data := "NULL"
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
	err := q.QueryRowContext(ctx, `SELECT 1 FROM collections WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("collection %d: %w", id, store.ErrNotFound)
	}
	return err
}

// collOwner returns the owner of collection id; store.ErrNotFound when
// there is no such collection.
func collOwner(ctx context.Context, q querier, id int64) (string, error) {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT owner FROM collections WHERE id = ?`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("collection %d: %w", id, store.ErrNotFound)
	}
	return owner, err
}

func (s *Store) GetObject(ctx context.Context, coll int64, name string) (*store.Object, error) {
	o, _, err := scanObject(s.rdb.QueryRowContext(ctx, `SELECT `+objCols(true)+` FROM objects o
		WHERE o.collection = ? AND o.name = ?`, coll, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %d/%s: %w", coll, name, err)
	}
	return o, nil
}

// getObjectsChunk bounds the IN list well below SQLite's variable limit.
const getObjectsChunk = 500

// GetObjects returns the named objects that exist; a missing collection is
// store.ErrNotFound.
func (s *Store) GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]store.Object, error) {
	var out []store.Object
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		for len(names) > 0 {
			chunk := names[:min(len(names), getObjectsChunk)]
			names = names[len(chunk):]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, coll)
			for _, n := range chunk {
				args = append(args, n)
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+objCols(withData)+` FROM objects o
				WHERE o.collection = ? AND o.name IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
			if err != nil {
				return err
			}
			err = eachObject(rows, func(o *store.Object, _ int64) error {
				out = append(out, *o)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: get objects of %d: %w", coll, err)
	}
	return out, nil
}

// eachObject scans rows into objects, calls fn for each and closes rows.
func eachObject(rows *sql.Rows, fn func(o *store.Object, seq int64) error) error {
	defer rows.Close()
	for rows.Next() {
		o, seq, err := scanObject(rows)
		if err != nil {
			return err
		}
		if err := fn(o, seq); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListObjects streams the objects ordered by name, one row at a time.
func (s *Store) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+objCols(withData)+` FROM objects o
			WHERE o.collection = ? ORDER BY o.name`, coll)
		if err != nil {
			return err
		}
		return eachObject(rows, func(o *store.Object, _ int64) error { return fn(o) })
	})
	if err != nil {
		return fmt.Errorf("sqlite: list %d: %w", coll, err)
	}
	return nil
}

// ListObjectsInRange streams the objects of component ("" = any) whose span
// [FirstStart, LastEnd) overlaps [start, end), in no particular order
// (sorting would buffer the result instead of streaming it). A span of
// zero length matches when it lies at start too (RFC 4791 9.9: an instant
// event at the range start overlaps it). The caller does the exact check.
func (s *Store) ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time,
	withData bool, fn func(o *store.Object) error) error {
	q := `SELECT ` + objCols(withData) + ` FROM objects o WHERE o.collection = ?`
	args := []any{coll}
	if component != "" {
		q, args = q+` AND o.component = ?`, append(args, component)
	}
	if !end.IsZero() {
		q, args = q+` AND o.first_start < ?`, append(args, micros(end))
	}
	if !start.IsZero() {
		st := micros(start)
		q, args = q+` AND (o.last_end > ? OR (o.last_end = ? AND o.first_start = ?))`, append(args, st, st, st)
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		return eachObject(rows, func(o *store.Object, _ int64) error { return fn(o) })
	})
	if err != nil {
		return fmt.Errorf("sqlite: list %d in range: %w", coll, err)
	}
	return nil
}

// bump advances the collection's sync_seq by one, adjusts its object count
// and bytes, records dUsage for its owner and the change of the
// collection's content (for push) in l and returns the new seq;
// store.ErrNotFound when the collection does not exist.
func bump(ctx context.Context, tx *sql.Tx, l *ledger, coll, t, dCount, dBytes, dUsage int64) (int64, error) {
	var seq int64
	var owner string
	err := tx.QueryRowContext(ctx, `UPDATE collections SET sync_seq = sync_seq + 1, modified = ?,
		obj_count = obj_count + ?, obj_bytes = obj_bytes + ? WHERE id = ? RETURNING sync_seq, owner`,
		t, dCount, dBytes, coll).Scan(&seq, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("collection %d: %w", coll, store.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	l.usage[owner] += dUsage
	l.changed(coll)
	return seq, nil
}

// logChange records seq as the latest change of name, replacing the previous
// one: sync-collection only ever needs the latest state per name.
func logChange(ctx context.Context, tx *sql.Tx, coll int64, name string, seq int64, deleted bool, t int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (collection, name, seq, deleted, changed)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection, name)
		DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed = excluded.changed`,
		coll, name, seq, deleted, t)
	return err
}

// current returns the ETag and size of name and whether it exists.
func current(ctx context.Context, tx *sql.Tx, coll int64, name string) (etag string, size int64, exists bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT etag, size FROM objects WHERE collection = ? AND name = ?`,
		coll, name).Scan(&etag, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	return etag, size, err == nil, err
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
func uidHolder(ctx context.Context, tx *sql.Tx, coll int64, uid, except string) (string, error) {
	if uid == "" {
		return "", nil // no UID, nothing to be unique
	}
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM objects WHERE collection = ? AND uid = ? AND name <> ?`,
		coll, uid, except).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
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

// PutObject creates or replaces o.Name. Modified is set to the write time;
// Size and ETag are computed from Data. o is not modified.
func (s *Store) PutObject(ctx context.Context, o *store.Object, cond store.Conditions) (bool, string, error) {
	if o.Name == "" {
		return false, "", fmt.Errorf("sqlite: put: empty name")
	}
	var created bool
	var etag string
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		curUID, cur, oldSize, exists, err := currentUID(ctx, tx, o.Collection, o.Name)
		if err != nil {
			return err
		}
		if !exists { // a missing collection is ErrNotFound, whatever the conditions
			if err := collExists(ctx, tx, o.Collection); err != nil {
				return err
			}
		}
		// Before the conditions: they were about a card that is gone.
		if err := checkNotMergedAway(ctx, tx, o.Collection, o.Name, exists, o.UID, !exists || curUID != o.UID); err != nil {
			return err
		}
		if err := checkCond(cond, cur, exists); err != nil {
			return err
		}
		holder, err := uidHolder(ctx, tx, o.Collection, o.UID, o.Name)
		if err != nil {
			return err
		}
		if holder != "" {
			return &store.UIDConflictError{UID: o.UID, Name: holder}
		}
		created = !exists
		etag, err = writeObject(ctx, tx, l, o.Collection, o, oldSize, exists, micros(now()))
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("sqlite: put %d/%s: %w", o.Collection, o.Name, err)
	}
	return created, etag, nil
}

// DeleteObject removes name: store.ErrNotFound when it does not exist
// (whatever the conditions), store.ErrPrecondition when they fail.
func (s *Store) DeleteObject(ctx context.Context, coll int64, name string, cond store.Conditions) error {
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		cur, size, exists, err := current(ctx, tx, coll, name)
		if err != nil {
			return err
		}
		if !exists {
			if err := collExists(ctx, tx, coll); err != nil {
				return err
			}
			return store.ErrNotFound
		}
		if err := checkCond(cond, cur, exists); err != nil {
			return err
		}
		return removeObject(ctx, tx, l, coll, name, size, micros(now()))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete %d/%s: %w", coll, name, err)
	}
	return nil
}

// MoveObject moves from/name to to/newName keeping data, UID and ETag. cond
// applies to the source. Moving an object onto itself is
// store.ErrPrecondition (WebDAV answers 403). The source collection records
// a deletion and the target a change, each with its own seq, also when both
// are the same collection, so that sync paging never splits a seq.
func (s *Store) MoveObject(ctx context.Context, from int64, name string, to int64, newName string,
	overwrite bool, cond store.Conditions) (bool, error) {
	var created bool
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		if from == to && name == newName {
			return fmt.Errorf("source and target are the same: %w", store.ErrPrecondition)
		}
		if err := collExists(ctx, tx, to); err != nil {
			return err
		}
		var uid, etag string
		var size int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(uid, ''), etag, size FROM objects WHERE collection = ? AND name = ?`,
			from, name).Scan(&uid, &etag, &size)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := checkCond(cond, etag, true); err != nil {
			return err
		}
		_, oldSize, exists, err := current(ctx, tx, to, newName)
		if err != nil {
			return err
		}
		if exists && !overwrite {
			return fmt.Errorf("target exists: %w", store.ErrPrecondition)
		}
		if err := checkNotMergedAway(ctx, tx, to, newName, exists, uid, from != to); err != nil {
			return err
		}
		holder, err := uidHolder(ctx, tx, to, uid, newName)
		if err != nil {
			return err
		}
		if holder != "" && !(from == to && holder == name) {
			return &store.UIDConflictError{UID: uid, Name: holder}
		}
		created = !exists
		t := micros(now())
		srcSeq, err := bump(ctx, tx, l, from, t, -1, -size, -store.ObjectUsage(name, size))
		if err != nil {
			return err
		}
		dUsage := store.ObjectUsage(newName, size)
		if exists {
			dUsage -= store.ObjectUsage(newName, oldSize)
		}
		dstSeq, err := bump(ctx, tx, l, to, t, b2i(created), size-oldSize, dUsage)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection = ? AND name = ?`, to, newName); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objects SET collection = ?, name = ?, seq = ?, modified = ?
			WHERE collection = ? AND name = ?`, to, newName, dstSeq, t, from, name); err != nil {
			return err
		}
		if err := logChange(ctx, tx, from, name, srcSeq, true, t); err != nil {
			return err
		}
		return logChange(ctx, tx, to, newName, dstSeq, false, t)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: move %d/%s to %d/%s: %w", from, name, to, newName, err)
	}
	return created, nil
}

// ChangesSince implements sync-collection; see store.Store. It reads the
// collection's seq and the changes in one snapshot. One exception to limit:
// after PruneTombstones, the first page of an initial sync runs on until
// it reaches the collection's sync floor (see below).
func (s *Store) ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool,
	fn func(c *store.Change) error) (int64, bool, error) {
	var next int64
	var truncated bool
	err := s.read(ctx, func(tx *sql.Tx) error {
		var cur, floor int64
		err := tx.QueryRowContext(ctx, `SELECT sync_seq, sync_floor FROM collections WHERE id = ?`, coll).Scan(&cur, &floor)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if seq < 0 || seq > cur || (seq > 0 && seq < floor) {
			return store.ErrInvalidSyncToken
		}
		next = cur
		var q string
		args := []any{coll, seq}
		if seq == 0 {
			// Initial sync: the objects themselves; deletions are irrelevant.
			q = `SELECT 0, ` + objCols(withData) + ` FROM objects o
				WHERE o.collection = ? AND o.seq > ? ORDER BY o.seq`
		} else {
			q = `SELECT ch.deleted, ` + objCols(withData) + `, ch.name, ch.seq FROM changes ch
				LEFT JOIN objects o ON o.collection = ch.collection AND o.name = ch.name
				WHERE ch.collection = ? AND ch.seq > ? ORDER BY ch.seq`
		}
		// A page may only end where its continuation token is valid
		// (>= floor). Only an initial sync can start below the floor: its
		// first page then runs past limit until the rest lies above the
		// floor, or the client would restart on a refused token forever.
		if limit > 0 && (seq > 0 || floor == 0) {
			q, args = q+` LIMIT ?`, append(args, limit+1) // one more tells whether we truncated
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		n, last := 0, seq
		for rows.Next() {
			c, err := scanChange(rows, seq == 0)
			if err != nil {
				return err
			}
			if limit > 0 && n >= limit && (last >= floor || c.Seq > floor) {
				// Nothing left has a seq in (last, floor]: floor is as
				// good a token as last, and a valid one.
				truncated, next = true, max(last, floor)
				break
			}
			n, last = n+1, c.Seq
			if err := fn(c); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: changes of %d since %d: %w", coll, seq, err)
	}
	return next, truncated, nil
}

// scanChange reads a row of either ChangesSince query. For deleted names the
// object columns are NULL (left join), so they are scanned nullable.
func scanChange(rows *sql.Rows, initial bool) (*store.Change, error) {
	var (
		deleted               bool
		coll, size, mod, seq  sql.NullInt64
		fs, le                sql.NullInt64
		name, uid, etag, comp sql.NullString
		data                  []byte
		chName                string
		chSeq                 int64
	)
	dest := []any{&deleted, &coll, &name, &uid, &etag, &size, &mod, &seq, &comp, &fs, &le, &data}
	if !initial {
		dest = append(dest, &chName, &chSeq)
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	if initial {
		chName, chSeq = name.String, seq.Int64
	}
	c := &store.Change{Seq: chSeq, Name: chName, Deleted: deleted}
	if !deleted {
		if !name.Valid {
			return nil, fmt.Errorf("change %s: object missing", chName) // cannot happen: same transaction
		}
		c.Object = &store.Object{
			Collection: coll.Int64, Name: name.String, UID: uid.String, ETag: etag.String, Data: data,
			Size: size.Int64, Modified: fromMicros(mod.Int64), Component: comp.String,
			FirstStart: spanTime(fs.Int64), LastEnd: spanTime(le.Int64),
		}
	}
	return c, nil
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
func writeObject(ctx context.Context, tx *sql.Tx, l *ledger, coll int64, o *store.Object, oldSize int64, exists bool, t int64) (string, error) {
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
	seq, err := bump(ctx, tx, l, coll, t, b2i(!exists), size-oldSize, dUsage)
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO objects
		(collection, name, uid, etag, size, modified, seq, component, first_start, last_end, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (collection, name) DO UPDATE SET uid = excluded.uid, etag = excluded.etag,
			size = excluded.size, modified = excluded.modified, seq = excluded.seq,
			component = excluded.component, first_start = excluded.first_start,
			last_end = excluded.last_end, data = excluded.data`,
		coll, o.Name, nullUID(o.UID), etag, len(data), t, seq, o.Component,
		spanStart(o.FirstStart), spanEnd(o.LastEnd), data); err != nil {
		return "", err
	}
	if err := logChange(ctx, tx, coll, o.Name, seq, false, t); err != nil {
		return "", err
	}
	return etag, nil
}

// removeObject deletes name from coll after the caller checked: its own
// seq, a deletion change, counters, usage.
func removeObject(ctx context.Context, tx *sql.Tx, l *ledger, coll int64, name string, size, t int64) error {
	seq, err := bump(ctx, tx, l, coll, t, -1, -size, -store.ObjectUsage(name, size))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection = ? AND name = ?`, coll, name); err != nil {
		return err
	}
	return logChange(ctx, tx, coll, name, seq, true, t)
}
