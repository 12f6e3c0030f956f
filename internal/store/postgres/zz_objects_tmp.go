package postgres

// TEMPORARY: a quick port of store/sqlite's object methods, so that the
// merge tests can run before objects.go lands. Deleted at merge time in
// favour of objects.go; reads buffer their whole result and call the
// callback after the transaction, without paging.

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

func (s *Store) GetObject(ctx context.Context, coll int64, name string) (*store.Object, error) {
	o, _, err := scanObject(s.pool.QueryRow(ctx, `SELECT `+objCols(true)+` FROM objects o
		WHERE o.collection = $1 AND o.name = $2`, coll, name))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %d/%s: %w", coll, name, err)
	}
	return o, nil
}

func (s *Store) GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]store.Object, error) {
	var out []store.Object
	err := s.read(ctx, func(tx pgx.Tx) error {
		out = nil
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+objCols(withData)+` FROM objects o
			WHERE o.collection = $1 AND o.name = ANY($2)`, coll, names)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, _, err := scanObject(rows)
			if err != nil {
				return err
			}
			out = append(out, *o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: get objects of %d: %w", coll, err)
	}
	return out, nil
}

func (s *Store) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	var all []*store.Object
	err := s.read(ctx, func(tx pgx.Tx) error {
		all = nil
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+objCols(withData)+` FROM objects o
			WHERE o.collection = $1 ORDER BY o.name`, coll)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, _, err := scanObject(rows)
			if err != nil {
				return err
			}
			all = append(all, o)
		}
		return rows.Err()
	})
	if err == nil {
		for _, o := range all {
			if err = fn(o); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: list %d: %w", coll, err)
	}
	return nil
}

func (s *Store) PutObject(ctx context.Context, o *store.Object, cond store.Conditions) (bool, string, error) {
	if o.Name == "" {
		return false, "", fmt.Errorf("postgres: put: empty name")
	}
	var created bool
	var etag string
	err := s.writeCounted(ctx, func(tx pgx.Tx, l ledger) error {
		if _, err := lockCollection(ctx, tx, o.Collection); err != nil {
			return err
		}
		curUID, cur, oldSize, exists, err := currentUID(ctx, tx, o.Collection, o.Name)
		if err != nil {
			return err
		}
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
		return false, "", fmt.Errorf("postgres: put %d/%s: %w", o.Collection, o.Name, err)
	}
	return created, etag, nil
}

func (s *Store) DeleteObject(ctx context.Context, coll int64, name string, cond store.Conditions) error {
	err := s.writeCounted(ctx, func(tx pgx.Tx, l ledger) error {
		if _, err := lockCollection(ctx, tx, coll); err != nil {
			return err
		}
		cur, size, exists, err := current(ctx, tx, coll, name)
		if err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		if err := checkCond(cond, cur, exists); err != nil {
			return err
		}
		return removeObject(ctx, tx, l, coll, name, size, micros(now()))
	})
	if err != nil {
		return fmt.Errorf("postgres: delete %d/%s: %w", coll, name, err)
	}
	return nil
}

func (s *Store) MoveObject(ctx context.Context, from int64, name string, to int64, newName string,
	overwrite bool, cond store.Conditions) (bool, error) {
	var created bool
	err := s.writeCounted(ctx, func(tx pgx.Tx, l ledger) error {
		if from == to && name == newName {
			return fmt.Errorf("source and target are the same: %w", store.ErrPrecondition)
		}
		first, second := min(from, to), max(from, to)
		if _, err := lockCollection(ctx, tx, first); err != nil {
			return err
		}
		if second != first {
			if _, err := lockCollection(ctx, tx, second); err != nil {
				return err
			}
		}
		uid, etag, size, exists, err := currentUID(ctx, tx, from, name)
		if err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
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
		if _, err := tx.Exec(ctx, `DELETE FROM objects WHERE collection = $1 AND name = $2`, to, newName); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE objects SET collection = $1, name = $2, seq = $3, modified = $4
			WHERE collection = $5 AND name = $6`, to, newName, dstSeq, t, from, name); err != nil {
			return err
		}
		if err := logChange(ctx, tx, from, name, srcSeq, true, t); err != nil {
			return err
		}
		return logChange(ctx, tx, to, newName, dstSeq, false, t)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: move %d/%s to %d/%s: %w", from, name, to, newName, err)
	}
	return created, nil
}

func (s *Store) ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool,
	fn func(c *store.Change) error) (int64, bool, error) {
	var next int64
	var truncated bool
	var out []*store.Change
	err := s.read(ctx, func(tx pgx.Tx) error {
		out, truncated = nil, false
		var cur, floor int64
		err := tx.QueryRow(ctx, `SELECT sync_seq, sync_floor FROM collections WHERE id = $1`, coll).Scan(&cur, &floor)
		if errors.Is(err, pgx.ErrNoRows) {
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
		if seq == 0 {
			q = `SELECT false, ` + objCols(withData) + `, o.name, o.seq FROM objects o
				WHERE o.collection = $1 AND o.seq > $2 ORDER BY o.seq`
		} else {
			q = `SELECT ch.deleted, ` + objCols(withData) + `, ch.name, ch.seq FROM changes ch
				LEFT JOIN objects o ON o.collection = ch.collection AND o.name = ch.name
				WHERE ch.collection = $1 AND ch.seq > $2 ORDER BY ch.seq`
		}
		rows, err := tx.Query(ctx, q, coll, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		n, last := 0, seq
		for rows.Next() {
			var (
				deleted              bool
				oc, size, mod, oseq  *int64
				fs, le               *int64
				name, uid, etag, cmp *string
				data                 []byte
				chName               string
				chSeq                int64
			)
			if err := rows.Scan(&deleted, &oc, &name, &uid, &etag, &size, &mod, &oseq, &cmp, &fs, &le, &data,
				&chName, &chSeq); err != nil {
				return err
			}
			if limit > 0 && n >= limit && (last >= floor || chSeq > floor) {
				truncated, next = true, max(last, floor)
				break
			}
			n, last = n+1, chSeq
			c := &store.Change{Seq: chSeq, Name: chName, Deleted: deleted}
			if !deleted {
				if name == nil {
					return fmt.Errorf("change %s: object missing", chName)
				}
				c.Object = &store.Object{Collection: *oc, Name: *name, UID: *uid, ETag: *etag, Data: data,
					Size: *size, Modified: fromMicros(*mod), Component: *cmp,
					FirstStart: spanTime(*fs), LastEnd: spanTime(*le)}
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err == nil {
		for _, c := range out {
			if err = fn(c); err != nil {
				break
			}
		}
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: changes of %d since %d: %w", coll, seq, err)
	}
	return next, truncated, nil
}
