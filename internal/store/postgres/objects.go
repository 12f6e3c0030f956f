package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rolodav/rolodav/internal/store"
)

// GetObject returns name, data included; a missing collection is
// store.ErrNotFound like a missing name.
func (s *Store) GetObject(ctx context.Context, coll int64, name string) (*store.Object, error) {
	o, _, err := scanObject(s.pool.QueryRow(ctx, `SELECT `+objCols(true)+` FROM objects o
		WHERE o.collection = $1 AND o.name = $2`, coll, name))
	err = notFound(err)
	if err != nil {
		return nil, fmt.Errorf("postgres: get %d/%s: %w", coll, name, err)
	}
	return o, nil
}

// GetObjects returns the named objects that exist; a missing collection is
// store.ErrNotFound. One statement reads them all (one snapshot); only
// when it finds none is the collection looked up: ids are never reused, so
// a collection there now was there then.
func (s *Store) GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]store.Object, error) {
	var out []store.Object
	err := func() error {
		if len(names) > 0 {
			rows, err := s.pool.Query(ctx, `SELECT `+objCols(withData)+` FROM objects o
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
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(out) > 0 {
			return nil
		}
		return collExists(ctx, s.pool, coll)
	}()
	if err != nil {
		return nil, fmt.Errorf("postgres: get objects of %d: %w", coll, err)
	}
	return out, nil
}

// Streaming reads (ListObjects, ListObjectsInRange, ChangesSince) fetch
// their rows in pages, each one statement, so one snapshot, on a
// connection held only while the page is read; the caller's function runs
// between pages and holds none, so it may call the store again (see the
// package doc). Each page starts after the last key of the one before
// (keyset paging), so a name is streamed at most once even while writers
// run.
const (
	pageRows  = 256     // rows of a page, at most
	pageBytes = 4 << 20 // data of a page when it is read, at most (at least one row)
)

// A pageQuery is a kind of page: cols selected from from (tables and
// WHERE conditions; $1 is the collection, its own arguments are $4 on),
// ordered by key, unique; bytes is the size of a row's data.
type pageQuery struct{ cols, from, key, bytes string }

// sql returns the statement of a page: at most $3 rows whose key is after
// $2. args are its arguments, to which it adds its own. Without data the
// rows are small. With data, the page ends before the row whose data
// would take it past pageBytes (the first row always fits), as the sizes
// of the candidate rows tell, and each row ends with total, the number of
// candidates, from which lastPage tells whether more may follow. The
// data of the candidates left out is never read: the rows are read again
// up to the last key that fits, in the same statement, so in the same
// snapshot. (The LIMIT on the rows read again changes nothing but the
// plan: not knowing how many there are, the planner could otherwise join
// them by scanning the whole collection.)
func (q pageQuery) sql(withData bool, args []any) (string, []any) {
	after := q.from + ` AND ` + q.key + ` > $2`
	if !withData {
		return `SELECT ` + q.cols + ` FROM ` + after + ` ORDER BY ` + q.key + ` LIMIT $3`, args
	}
	limit := fmt.Sprintf("$%d", len(args)+1)
	return `WITH k AS (SELECT ` + q.key + ` AS k, ` + q.bytes + ` AS b FROM ` + after + ` ORDER BY ` + q.key + ` LIMIT $3),
		c AS (SELECT COUNT(*) AS total, CASE WHEN COALESCE(SUM(b), 0) < ` + limit + ` THEN MAX(k) ELSE (
			SELECT MAX(k) FROM (SELECT k, SUM(b) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) - b AS before FROM k) w
			WHERE before < ` + limit + `) END AS upto FROM k)
		SELECT ` + q.cols + `, c.total FROM c CROSS JOIN ` + after + ` AND ` + q.key + ` <= c.upto
		ORDER BY ` + q.key + ` LIMIT $3`, append(args, int64(pageBytes))
}

// pageRow scans a row of a page: the row's columns, and with data the
// total, which goes to *total (-1 without data: every candidate is sent).
type pageRow struct {
	rows     pgx.Rows
	withData bool
	total    *int64
}

func (r pageRow) Scan(dest ...any) error {
	if !r.withData {
		*r.total = -1
		return r.rows.Scan(dest...)
	}
	return r.rows.Scan(append(dest, r.total)...)
}

// lastPage reports whether a page of got rows, out of total candidates
// (-1: as many as got) and want asked for, is the last: it had fewer
// candidates than asked for, and the bound on bytes left none out.
func lastPage(got int, total int64, want int) bool {
	if total < 0 {
		total = int64(got)
	}
	return total < int64(want) && int64(got) == total
}

// page runs q, a page's statement with args ($1 being the collection),
// passing each row to each, and then check, a statement of the
// collection's row with $1 alone, scanning it into dest; both in one round
// trip, check second, so that it sees what happened to the collection up
// to the page and after. No row for check is store.ErrNotFound: the
// collection is gone (or never was).
func (s *Store) page(ctx context.Context, q string, args []any, each func(rows pgx.Rows) error, check string, dest ...any) error {
	b := &pgx.Batch{}
	b.Queue(q, args...)
	b.Queue(check, args[0])
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := each(rows); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("collection %d: %w", args[0], store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return br.Close()
}

// streamObjects streams coll's objects that filter (conditions on o, with
// its arguments fargs numbered from $4) selects, ordered by name, page by
// page. A collection that is missing, or deleted during the listing, is
// store.ErrNotFound.
func (s *Store) streamObjects(ctx context.Context, coll int64, filter string, fargs []any, withData bool,
	fn func(o *store.Object) error) error {
	pq := pageQuery{cols: objCols(withData), from: `objects o WHERE o.collection = $1` + filter,
		key: `o.name`, bytes: `o.size`}
	after := "" // every name is longer
	for {
		var list []*store.Object
		var total int64
		var one int
		q, args := pq.sql(withData, append([]any{coll, after, pageRows}, fargs...))
		err := s.page(ctx, q, args, func(rows pgx.Rows) error {
			o, _, err := scanObject(pageRow{rows, withData, &total})
			list = append(list, o)
			return err
		}, `SELECT 1 FROM collections WHERE id = $1`, &one)
		if err != nil {
			return err
		}
		for _, o := range list {
			if err := fn(o); err != nil {
				return err
			}
		}
		if lastPage(len(list), total, pageRows) {
			return nil
		}
		after = list[len(list)-1].Name
	}
}

// ListObjects streams the objects ordered by name, a page at a time (see
// pageRows). Each name is streamed once, as it was when its page was read.
func (s *Store) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	if err := s.streamObjects(ctx, coll, "", nil, withData, fn); err != nil {
		return fmt.Errorf("postgres: list %d: %w", coll, err)
	}
	return nil
}

// ListObjectsInRange streams the objects of component ("" = any) whose span
// [FirstStart, LastEnd) overlaps [start, end), ordered by name (the order
// pages need; the contract promises none). A span of zero length matches
// when it lies at start too (RFC 4791 9.9: an instant event at the range
// start overlaps it). The caller does the exact check.
func (s *Store) ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time,
	withData bool, fn func(o *store.Object) error) error {
	var filter string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", 3+len(args))
	}
	if component != "" {
		filter += ` AND o.component = ` + arg(component)
	}
	if !end.IsZero() {
		filter += ` AND o.first_start < ` + arg(micros(end))
	}
	if !start.IsZero() {
		st := arg(micros(start))
		filter += ` AND (o.last_end > ` + st + ` OR (o.last_end = ` + st + ` AND o.first_start = ` + st + `))`
	}
	if err := s.streamObjects(ctx, coll, filter, args, withData, fn); err != nil {
		return fmt.Errorf("postgres: list %d in range: %w", coll, err)
	}
	return nil
}

// PutObject creates or replaces o.Name. Modified is set to the write time;
// Size and ETag are computed from Data. o is not modified.
func (s *Store) PutObject(ctx context.Context, o *store.Object, cond store.Conditions) (bool, string, error) {
	if o.Name == "" {
		return false, "", fmt.Errorf("postgres: put: empty name")
	}
	var created bool
	var etag string
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
		st, err := putState(ctx, tx, o)
		if err != nil {
			return err
		}
		// Before the conditions: they were about a card that is gone.
		if st.mergedAway {
			if err := checkNotMergedAway(ctx, tx, o.Collection, o.Name, st.exists, o.UID, !st.exists || st.uid != o.UID); err != nil {
				return err
			}
		}
		if err := checkCond(cond, st.etag, st.exists); err != nil {
			return err
		}
		if st.holder != "" {
			return &store.UIDConflictError{UID: o.UID, Name: st.holder}
		}
		created = !st.exists
		etag, err = writeObject(ctx, tx, l, o.Collection, o, st.size, st.exists, micros(now()))
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("postgres: put %d/%s: %w", o.Collection, o.Name, err)
	}
	return created, etag, nil
}

// putTarget is what PutObject decides on: the object it replaces, the
// other holder of its UID, and whether a merged-away record might refuse
// it.
type putTarget struct {
	exists     bool
	uid, etag  string
	size       int64
	holder     string // another name with o.UID; "" when none
	mergedAway bool   // checkNotMergedAway must decide
}

// putState locks o's collection and reads what PutObject decides on, in
// one round trip: the statements of a batch run one after the other, so
// the reads, each with a snapshot of its own at READ COMMITTED, run after
// the lock is held and see every earlier writer's commit. A missing
// collection is store.ErrNotFound, whatever the conditions.
func putState(ctx context.Context, tx pgx.Tx, o *store.Object) (putTarget, error) {
	var st putTarget
	b := &pgx.Batch{}
	b.Queue(`SELECT owner FROM collections WHERE id = $1 FOR UPDATE`, o.Collection)
	b.Queue(`SELECT COALESCE(uid, ''), etag, size FROM objects WHERE collection = $1 AND name = $2`, o.Collection, o.Name)
	b.Queue(`SELECT name FROM objects WHERE collection = $1 AND uid = $2 AND name <> $3 LIMIT 1`, o.Collection, o.UID, o.Name)
	// Whether the name or the UID has a merged-away record at all: rare,
	// and then checkNotMergedAway follows the survivors.
	b.Queue(`SELECT EXISTS (SELECT 1 FROM merged_away WHERE collection = $1 AND name = $2),
		EXISTS (SELECT 1 FROM merged_away WHERE collection = $1 AND uid = $3)`, o.Collection, o.Name, o.UID)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	var owner string
	if err := br.QueryRow().Scan(&owner); errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("collection %d: %w", o.Collection, store.ErrNotFound)
	} else if err != nil {
		return st, err
	}
	err := br.QueryRow().Scan(&st.uid, &st.etag, &st.size)
	switch {
	case err == nil:
		st.exists = true
	case !errors.Is(err, pgx.ErrNoRows):
		return st, err
	}
	if err := br.QueryRow().Scan(&st.holder); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, err
	}
	if o.UID == "" {
		st.holder = ""
	}
	var byName, byUID bool
	if err := br.QueryRow().Scan(&byName, &byUID); err != nil {
		return st, err
	}
	st.mergedAway = (byName && !st.exists) || (byUID && o.UID != "" && (!st.exists || st.uid != o.UID))
	return st, br.Close()
}

// DeleteObject removes name: store.ErrNotFound when it does not exist
// (whatever the conditions), store.ErrPrecondition when they fail.
func (s *Store) DeleteObject(ctx context.Context, coll int64, name string, cond store.Conditions) error {
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
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

// MoveObject moves from/name to to/newName keeping data, UID and ETag. cond
// applies to the source. Moving an object onto itself is
// store.ErrPrecondition (WebDAV answers 403). The source collection records
// a deletion and the target a change, each with its own seq, also when both
// are the same collection, so that sync paging never splits a seq. Both
// collections are locked first, the lower id first, so that two moves in
// opposite directions take turns instead of deadlocking.
func (s *Store) MoveObject(ctx context.Context, from int64, name string, to int64, newName string,
	overwrite bool, cond store.Conditions) (bool, error) {
	var created bool
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
		if from == to && name == newName {
			return fmt.Errorf("source and target are the same: %w", store.ErrPrecondition)
		}
		if _, err := lockCollection(ctx, tx, min(from, to)); err != nil {
			return err
		}
		if from != to {
			if _, err := lockCollection(ctx, tx, max(from, to)); err != nil {
				return err
			}
		}
		var uid, etag string
		var size int64
		err := tx.QueryRow(ctx, `SELECT COALESCE(uid, ''), etag, size FROM objects WHERE collection = $1 AND name = $2`,
			from, name).Scan(&uid, &etag, &size)
		if errors.Is(err, pgx.ErrNoRows) {
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

// ChangesSince implements sync-collection; see store.Store.
//
// It reads the collection's seq first and streams, page by page, only the
// changes up to it: writers commit their seqs in order under the
// collection's lock, so every change at or below it is committed, and a
// name changed again meanwhile moves above it and is left to the next
// sync, which starts there. next is therefore exact although the pages
// are read in several snapshots.
//
// One exception to limit: after PruneTombstones, the first page of an
// initial sync runs on until it reaches the collection's sync floor (see
// below). A prune that runs during an incremental sync and forgets
// deletions not streamed yet makes it ErrInvalidSyncToken, as the token is
// from then on.
func (s *Store) ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool,
	fn func(c *store.Change) error) (int64, bool, error) {
	next, truncated, err := s.changesSince(ctx, coll, seq, limit, withData, fn)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: changes of %d since %d: %w", coll, seq, err)
	}
	return next, truncated, nil
}

func (s *Store) changesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool,
	fn func(c *store.Change) error) (int64, bool, error) {
	var cur, floor int64
	err := s.pool.QueryRow(ctx, `SELECT sync_seq, sync_floor FROM collections WHERE id = $1`, coll).Scan(&cur, &floor)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, store.ErrNotFound
	}
	if err != nil {
		return 0, false, err
	}
	if seq < 0 || seq > cur || (seq > 0 && seq < floor) {
		return 0, false, store.ErrInvalidSyncToken
	}
	pq, scan := changesPage(seq == 0, withData)
	n, last := 0, seq
	for last < cur {
		// A page of limit-n+1 rows at most while limit is not reached:
		// one more tells whether we truncate.
		want := pageRows
		if limit > 0 && n < limit {
			want = min(want, limit-n+1)
		}
		var list []*store.Change
		var total, floorNow int64
		q, args := pq.sql(withData, []any{coll, last, want, cur})
		err := s.page(ctx, q, args, func(rows pgx.Rows) error {
			c, err := scan(pageRow{rows, withData, &total})
			list = append(list, c)
			return err
		}, `SELECT sync_floor FROM collections WHERE id = $1`, &floorNow)
		if err != nil {
			return 0, false, err
		}
		// The floor was read after the page: if it rose above what was
		// streamed before the page, a prune may have forgotten a deletion
		// the page should have had.
		if seq > 0 && floorNow > last {
			return 0, false, store.ErrInvalidSyncToken
		}
		floor = floorNow
		for _, c := range list {
			// A page may only end where its continuation token is valid
			// (>= floor). Only an initial sync can start below the floor:
			// its first page then runs past limit until the rest lies
			// above the floor, or the client would restart on a refused
			// token forever.
			if limit > 0 && n >= limit && (last >= floor || c.Seq > floor) {
				// Nothing left has a seq in (last, floor]: floor is as
				// good a token as last, and a valid one.
				return max(last, floor), true, nil
			}
			n, last = n+1, c.Seq
			if err := fn(c); err != nil {
				return 0, false, err
			}
		}
		if lastPage(len(list), total, want) {
			break
		}
	}
	return cur, false, nil
}

// changesPage returns the kind of page of ChangesSince and the function
// that scans its rows: for an initial sync the objects themselves
// (deletions are irrelevant), else the change log joined to the objects.
// $4 is the collection's seq when the sync started.
func changesPage(initial, withData bool) (pageQuery, func(sc interface{ Scan(...any) error }) (*store.Change, error)) {
	if initial {
		pq := pageQuery{cols: objCols(withData), from: `objects o WHERE o.collection = $1 AND o.seq <= $4`,
			key: `o.seq`, bytes: `o.size`}
		return pq, func(sc interface{ Scan(...any) error }) (*store.Change, error) {
			o, seq, err := scanObject(sc)
			if err != nil {
				return nil, err
			}
			return &store.Change{Seq: seq, Name: o.Name, Object: o}, nil
		}
	}
	pq := pageQuery{cols: `ch.deleted, ` + objCols(withData) + `, ch.name, ch.seq`,
		from: `changes ch LEFT JOIN objects o ON o.collection = ch.collection AND o.name = ch.name
			WHERE ch.collection = $1 AND ch.seq <= $4`,
		key: `ch.seq`, bytes: `COALESCE(o.size, 0)`}
	return pq, scanChange
}

// scanChange reads a row of the change log joined to the objects. For
// deleted names the object columns are NULL (left join), so they are
// scanned nullable (pgtype's values, which need no allocation).
func scanChange(sc interface{ Scan(...any) error }) (*store.Change, error) {
	var (
		c                            store.Change
		coll, size, mod, seq, fs, le pgtype.Int8
		name, uid, etag, comp        pgtype.Text
		data                         []byte
	)
	if err := sc.Scan(&c.Deleted, &coll, &name, &uid, &etag, &size, &mod, &seq, &comp, &fs, &le, &data,
		&c.Name, &c.Seq); err != nil {
		return nil, err
	}
	if c.Deleted {
		return &c, nil
	}
	if !name.Valid {
		return nil, fmt.Errorf("change %s: object missing", c.Name) // cannot happen: one statement
	}
	c.Object = &store.Object{
		Collection: coll.Int64, Name: name.String, UID: uid.String, ETag: etag.String, Data: data,
		Size: size.Int64, Modified: fromMicros(mod.Int64), Component: comp.String,
		FirstStart: spanTime(fs.Int64), LastEnd: spanTime(le.Int64),
	}
	return &c, nil
}
