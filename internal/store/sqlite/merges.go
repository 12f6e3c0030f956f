package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/rolodav/rolodav/internal/store"
)

// maxMergeHops bounds how far MergedInto follows a survivor that was itself
// merged away later.
const maxMergeHops = 10

// currentUID returns the UID, ETag and size of name and whether it exists.
func currentUID(ctx context.Context, tx *sql.Tx, coll int64, name string) (uid, etag string, size int64, exists bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(uid, ''), etag, size FROM objects WHERE collection = ? AND name = ?`,
		coll, name).Scan(&uid, &etag, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", 0, false, nil
	}
	return uid, etag, size, err == nil, err
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

// ApplyMerge implements store.Store: every check comes first, then the
// reference, the groups and the removed cards are written in that order,
// each with a seq of its own, and the merge is recorded.
func (s *Store) ApplyMerge(ctx context.Context, w *store.MergeWrite) (*store.Merge, error) {
	if w == nil || w.Reference == nil {
		return nil, fmt.Errorf("sqlite: apply merge: no reference")
	}
	coll := w.Collection
	m := &store.Merge{Collection: coll, Reference: w.Reference.Name, Undo: slices.Clone(w.Undo), Batch: w.Batch}
	if m.Undo == nil {
		m.Undo = []byte{}
	}
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		owner, err := collOwner(ctx, tx, coll)
		if err != nil {
			return err
		}
		// Each name at most once.
		seen := map[string]bool{}
		claim := func(name string) error {
			if name == "" {
				return errors.New("empty name")
			}
			if seen[name] {
				return fmt.Errorf("%s appears twice in the merge", name)
			}
			seen[name] = true
			return nil
		}
		if err := sameColl(w.Reference, coll); err != nil {
			return err
		}
		if err := claim(w.Reference.Name); err != nil {
			return err
		}
		for _, g := range w.Groups {
			if err := sameColl(g.Object, coll); err != nil {
				return err
			}
			if err := claim(g.Object.Name); err != nil {
				return err
			}
		}
		for _, r := range w.Removed {
			if err := claim(r.Name); err != nil {
				return err
			}
		}

		// Preconditions: every card still as planned.
		refUID, refETag, refSize, exists, err := currentUID(ctx, tx, coll, w.Reference.Name)
		if err != nil {
			return err
		}
		if !exists || refETag != w.ReferenceETag {
			return fmt.Errorf("reference %s changed: %w", w.Reference.Name, store.ErrPrecondition)
		}
		if refUID != w.Reference.UID {
			return fmt.Errorf("reference %s has UID %q, not %q: %w", w.Reference.Name, refUID, w.Reference.UID, store.ErrPrecondition)
		}
		groupSizes := make([]int64, len(w.Groups))
		for i, g := range w.Groups {
			_, etag, size, exists, err := currentUID(ctx, tx, coll, g.Object.Name)
			if err != nil {
				return err
			}
			if !exists || etag != g.ETag {
				return fmt.Errorf("group %s changed: %w", g.Object.Name, store.ErrPrecondition)
			}
			holder, err := uidHolder(ctx, tx, coll, g.Object.UID, g.Object.Name)
			if err != nil {
				return err
			}
			if holder != "" {
				return &store.UIDConflictError{UID: g.Object.UID, Name: holder}
			}
			groupSizes[i] = size
		}
		removedUIDs := make([]string, len(w.Removed))
		removedSizes := make([]int64, len(w.Removed))
		for i, r := range w.Removed {
			uid, etag, size, exists, err := currentUID(ctx, tx, coll, r.Name)
			if err != nil {
				return err
			}
			if !exists || etag != r.ETag {
				return fmt.Errorf("removed %s changed: %w", r.Name, store.ErrPrecondition)
			}
			if r.UID != "" && r.UID != uid {
				return fmt.Errorf("removed %s has UID %q, not %q: %w", r.Name, uid, r.UID, store.ErrPrecondition)
			}
			removedUIDs[i], removedSizes[i] = uid, size
			m.Removed = append(m.Removed, r.Name)
		}

		// Writes.
		created := now()
		t := micros(created)
		if m.ReferenceETag, err = writeObject(ctx, tx, l, coll, w.Reference, refSize, true, t); err != nil {
			return err
		}
		for i, g := range w.Groups {
			if _, err := writeObject(ctx, tx, l, coll, g.Object, groupSizes[i], true, t); err != nil {
				return err
			}
			m.Groups = append(m.Groups, g.Object.Name)
		}
		for i, r := range w.Removed {
			if err := removeObject(ctx, tx, l, coll, r.Name, removedSizes[i], t); err != nil {
				return err
			}
		}
		removedJSON, err := jsonNames(m.Removed)
		if err != nil {
			return err
		}
		groupsJSON, err := jsonNames(m.Groups)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO merges (collection, reference, removed, grps, undo, created, reference_etag, batch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			coll, m.Reference, removedJSON, groupsJSON, m.Undo, t, m.ReferenceETag, m.Batch).Scan(&m.ID); err != nil {
			return err
		}
		l.usage[owner] += store.MergeUsage(m)
		for i, r := range w.Removed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO merged_away (collection, name, uid, survivor, survivor_uid, merge_id)
				VALUES (?, ?, ?, ?, ?, ?)`, coll, r.Name, nullUID(removedUIDs[i]), m.Reference, refUID, m.ID); err != nil {
				return err
			}
		}
		m.Created = created
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: apply merge into %d/%s: %w", coll, w.Reference.Name, err)
	}
	return m, nil
}

// mergesUsage is what the merge records of coll count (store.MergeUsage
// summed), read without their undo data.
func mergesUsage(ctx context.Context, tx *sql.Tx, coll int64) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT reference, removed, grps, LENGTH(CAST(undo AS BLOB))
		FROM merges WHERE collection = ?`, coll)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var m store.Merge
		var removed, groups string
		var undo int64
		if err := rows.Scan(&m.Reference, &removed, &groups, &undo); err != nil {
			return 0, err
		}
		if err := json.Unmarshal([]byte(removed), &m.Removed); err != nil {
			return 0, fmt.Errorf("merge of %s: removed: %w", m.Reference, err)
		}
		if err := json.Unmarshal([]byte(groups), &m.Groups); err != nil {
			return 0, fmt.Errorf("merge of %s: groups: %w", m.Reference, err)
		}
		n += store.MergeUsage(&m) + undo
	}
	return n, rows.Err()
}

func jsonNames(names []string) (string, error) {
	if names == nil {
		names = []string{}
	}
	b, err := json.Marshal(names)
	return string(b), err
}

const mergeCols = `id, collection, reference, removed, grps, undo, created, undone, reference_etag, batch`

// scanMerge reads a merges row.
func scanMerge(sc interface{ Scan(...any) error }) (*store.Merge, error) {
	var m store.Merge
	var removed, groups string
	var created int64
	var undone sql.NullInt64
	if err := sc.Scan(&m.ID, &m.Collection, &m.Reference, &removed, &groups, &m.Undo, &created, &undone, &m.ReferenceETag, &m.Batch); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(removed), &m.Removed); err != nil {
		return nil, fmt.Errorf("merge %d: removed: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(groups), &m.Groups); err != nil {
		return nil, fmt.Errorf("merge %d: groups: %w", m.ID, err)
	}
	if m.Undo == nil {
		m.Undo = []byte{}
	}
	m.Created = fromMicros(created)
	if undone.Valid {
		m.Undone = fromMicros(undone.Int64)
	}
	return &m, nil
}

// ListMerges returns the collection's merges, newest first.
func (s *Store) ListMerges(ctx context.Context, coll int64) ([]store.Merge, error) {
	var out []store.Merge
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+mergeCols+` FROM merges WHERE collection = ? ORDER BY id DESC`, coll)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMerge(rows)
			if err != nil {
				return err
			}
			out = append(out, *m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list merges of %d: %w", coll, err)
	}
	return out, nil
}

func getMerge(ctx context.Context, q querier, coll, id int64) (*store.Merge, error) {
	m, err := scanMerge(q.QueryRowContext(ctx, `SELECT `+mergeCols+` FROM merges WHERE collection = ? AND id = ?`, coll, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return m, err
}

// GetMerge returns merge id of coll; store.ErrNotFound when there is none.
func (s *Store) GetMerge(ctx context.Context, coll, id int64) (*store.Merge, error) {
	m, err := getMerge(ctx, s.rdb, coll, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get merge %d/%d: %w", coll, id, err)
	}
	return m, nil
}

// UndoMerge implements store.Store. Each original must be the reference, a
// rewritten group card (both replaced, or re-created if gone) or a removed
// card (re-created; store.ErrPrecondition when its name or UID is taken).
// The reference and groups are written first, then the removed cards, each
// with a seq of its own. The merge's undo record must still be undo, and
// unless force the reference must still exist with the merge's
// ReferenceETag (store.ErrPrecondition otherwise).
func (s *Store) UndoMerge(ctx context.Context, coll, id int64, undo []byte, originals []store.Object, force bool) error {
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		owner, err := collOwner(ctx, tx, coll)
		if err != nil {
			return err
		}
		m, err := getMerge(ctx, tx, coll, id)
		if err != nil {
			return err
		}
		if !m.Undone.IsZero() {
			return fmt.Errorf("merge %d undone already: %w", id, store.ErrPrecondition)
		}
		if !bytes.Equal(m.Undo, undo) {
			return fmt.Errorf("the undo record of merge %d changed (a fold): %w", id, store.ErrPrecondition)
		}
		if !force {
			_, etag, _, exists, err := currentUID(ctx, tx, coll, m.Reference)
			if err != nil {
				return err
			}
			if !exists || etag != m.ReferenceETag {
				return fmt.Errorf("reference %s changed since merge %d: %w", m.Reference, id, store.ErrPrecondition)
			}
		}
		replaced := map[string]bool{m.Reference: true}
		for _, g := range m.Groups {
			replaced[g] = true
		}
		removed := map[string]bool{}
		for _, r := range m.Removed {
			removed[r] = true
		}
		// Replaced names first: a removed card's UID may only be free
		// once they are back (it cannot be held by them in a valid undo,
		// but the order keeps the checks simple to reason about).
		order := make([]*store.Object, 0, len(originals))
		seen := map[string]bool{}
		for i := range originals {
			o := &originals[i]
			if err := sameColl(o, coll); err != nil {
				return err
			}
			if seen[o.Name] {
				return fmt.Errorf("%s given twice", o.Name)
			}
			seen[o.Name] = true
			if !replaced[o.Name] && !removed[o.Name] {
				return fmt.Errorf("%s is not part of merge %d: %w", o.Name, id, store.ErrPrecondition)
			}
			if replaced[o.Name] {
				order = append(order, o)
			}
		}
		for i := range originals {
			if removed[originals[i].Name] {
				order = append(order, &originals[i])
			}
		}
		t := micros(now())
		for _, o := range order {
			_, _, size, exists, err := currentUID(ctx, tx, coll, o.Name)
			if err != nil {
				return err
			}
			if exists && removed[o.Name] {
				return fmt.Errorf("%s is in use again: %w", o.Name, store.ErrPrecondition)
			}
			holder, err := uidHolder(ctx, tx, coll, o.UID, o.Name)
			if err != nil {
				return err
			}
			if holder != "" {
				return fmt.Errorf("UID %q of %s is held by %s: %w", o.UID, o.Name, holder, store.ErrPrecondition)
			}
			if _, err := writeObject(ctx, tx, l, coll, o, size, exists, t); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM merged_away WHERE merge_id = ?`, id); err != nil {
			return err
		}
		// The undo data has served: an undone merge cannot be undone again.
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undone = ?, undo = ? WHERE id = ?`, t, []byte{}, id); err != nil {
			return err
		}
		l.usage[owner] -= int64(len(m.Undo))
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: undo merge %d/%d: %w", coll, id, err)
	}
	return nil
}

// MergedInto implements store.Store (see mergedInto).
func (s *Store) MergedInto(ctx context.Context, coll int64, name, uid string) (string, int64, error) {
	var survivor string
	var first int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		var err error
		survivor, first, err = mergedInto(ctx, tx, coll, name, uid)
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: merged into %d/%s: %w", coll, name, err)
	}
	return survivor, first, nil
}

// mergedInto returns the survivor of name or uid in coll ("" when neither
// was merged away; "" matches nothing) and the merge that removed it. A
// survivor that a later merge took away in turn is followed to its own
// survivor, at most maxMergeHops times; the merge returned is the first
// hop's, the one that removed name or uid. A name or UID whose last
// survivor is gone (deleted, renamed, or holding another UID) was merged
// into nothing that is left: it is free. When both name and uid were
// merged away into survivors still there, the newer merge wins.
func mergedInto(ctx context.Context, q querier, coll int64, name, uid string) (string, int64, error) {
	type record struct {
		survivor, survivorUID string
		merge                 int64
	}
	var newest sql.NullInt64
	if err := q.QueryRowContext(ctx, anyMerged, coll, name, coll, uid).Scan(&newest); err != nil || !newest.Valid {
		return "", 0, err
	}
	var found []record // at most one by name and one by UID
	rows, err := q.QueryContext(ctx, newestOf, coll, name, coll, uid)
	if err != nil {
		return "", 0, err
	}
	for rows.Next() {
		var r record
		if err = rows.Scan(&r.survivor, &r.survivorUID, &r.merge); err != nil {
			break
		}
		found = append(found, r)
	}
	if err == nil {
		err = rows.Err()
	}
	rows.Close()
	if err != nil {
		return "", 0, err
	}
	var survivor string
	var merge int64
	for _, r := range found {
		if r.merge <= merge {
			continue // an older merge, or the same one found by the UID
		}
		s, err := lastSurvivor(ctx, q, coll, r.survivor, r.survivorUID, r.merge)
		if err != nil {
			return "", 0, err
		}
		if s != "" {
			survivor, merge = s, r.merge
		}
	}
	return survivor, merge, nil
}

// anyMerged tells whether a name or a UID has merged-away records: what
// every creation asks, and most find none. It is the simplest statement
// that says so (SQLite compiles each statement anew, and that is most of
// the cost of a lookup).
const anyMerged = `SELECT MAX(merge_id) FROM (
		SELECT merge_id FROM merged_away WHERE collection = ? AND name = ?
		UNION ALL SELECT merge_id FROM merged_away WHERE collection = ? AND uid = ?) AS m`

// newestOf finds the newest merged-away record of a name and that of a
// UID, each read backwards from its index, (collection, name, merge_id) or
// (collection, uid, merge_id), without a sort.
const newestOf = `SELECT survivor, survivor_uid, merge_id FROM (
		SELECT survivor, survivor_uid, merge_id FROM merged_away
		WHERE collection = ? AND name = ? ORDER BY merge_id DESC LIMIT 1) AS by_name
	UNION ALL SELECT survivor, survivor_uid, merge_id FROM (
		SELECT survivor, survivor_uid, merge_id FROM merged_away
		WHERE collection = ? AND uid = ? ORDER BY merge_id DESC LIMIT 1) AS by_uid`

// newerByName finds the newest record of a name made after a merge.
const newerByName = `SELECT survivor, survivor_uid, merge_id FROM merged_away
	WHERE collection = ? AND name = ? AND merge_id > ? ORDER BY merge_id DESC LIMIT 1`

// lastSurvivor follows survivor, which took a card in with merge and had
// then survivorUID, through the later merges that took it away in turn,
// and returns the last one if it is still there with the UID it had then;
// "" when it is gone.
func lastSurvivor(ctx context.Context, q querier, coll int64, survivor, survivorUID string, merge int64) (string, error) {
	for range maxMergeHops {
		var next, nextUID string
		var id int64
		err := q.QueryRowContext(ctx, newerByName, coll, survivor, merge).Scan(&next, &nextUID, &id)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return "", err
		}
		survivor, survivorUID, merge = next, nextUID, id
	}
	var holds string
	err := q.QueryRowContext(ctx, `SELECT COALESCE(uid, '') FROM objects WHERE collection = ? AND name = ?`,
		coll, survivor).Scan(&holds)
	if errors.Is(err, sql.ErrNoRows) || err == nil && holds != survivorUID {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return survivor, nil
}

// checkNotMergedAway refuses a write into coll that would create name
// (when !nameExists) or bring in uid (when newUID) although a merge took
// it away: a *store.MergedAwayError naming the survivor.
func checkNotMergedAway(ctx context.Context, tx *sql.Tx, coll int64, name string, nameExists bool, uid string, newUID bool) error {
	qName, qUID := name, uid
	if nameExists {
		qName = ""
	}
	if !newUID {
		qUID = ""
	}
	if qName == "" && qUID == "" {
		return nil
	}
	survivor, merge, err := mergedInto(ctx, tx, coll, qName, qUID)
	if err != nil || survivor == "" {
		return err
	}
	return &store.MergedAwayError{Name: name, UID: uid, Survivor: survivor, Merge: merge}
}

// FoldInto implements store.Store: PutObject of survivor under cond, then,
// unless foldedName is "", a deletion change (with a seq of its own) for
// foldedName, which must not exist as an object (store.ErrPrecondition
// otherwise). Merge merge, which must be in effect in the survivor's
// collection and still have prevUndo as its undo record
// (store.ErrPrecondition otherwise), gets undo as its undo record, and
// every merge in effect into the survivor gets its new ETag as
// ReferenceETag.
func (s *Store) FoldInto(ctx context.Context, survivor *store.Object, cond store.Conditions, foldedName string, merge int64, prevUndo, undo []byte) (string, error) {
	if survivor == nil || survivor.Name == "" {
		return "", fmt.Errorf("sqlite: fold: no survivor")
	}
	if foldedName == survivor.Name {
		return "", fmt.Errorf("sqlite: fold into %d/%s: bad folded name %q", survivor.Collection, survivor.Name, foldedName)
	}
	coll := survivor.Collection
	var etag string
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		cur, oldSize, exists, err := current(ctx, tx, coll, survivor.Name)
		if err != nil {
			return err
		}
		if !exists {
			if err := collExists(ctx, tx, coll); err != nil {
				return err
			}
		}
		if err := checkCond(cond, cur, exists); err != nil {
			return err
		}
		holder, err := uidHolder(ctx, tx, coll, survivor.UID, survivor.Name)
		if err != nil {
			return err
		}
		if holder != "" {
			return &store.UIDConflictError{UID: survivor.UID, Name: holder}
		}
		if foldedName != "" {
			_, _, foldedExists, err := current(ctx, tx, coll, foldedName)
			if err != nil {
				return err
			}
			if foldedExists {
				return fmt.Errorf("%s exists: %w", foldedName, store.ErrPrecondition)
			}
		}
		var inEffect bool
		var curUndo []byte
		err = tx.QueryRowContext(ctx, `SELECT undone IS NULL, undo FROM merges WHERE collection = ? AND id = ?`,
			coll, merge).Scan(&inEffect, &curUndo)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no merge %d: %w", merge, store.ErrPrecondition)
		}
		if err != nil {
			return err
		}
		if !inEffect {
			return fmt.Errorf("merge %d undone: %w", merge, store.ErrPrecondition)
		}
		if !bytes.Equal(curUndo, prevUndo) {
			return fmt.Errorf("undo record of merge %d changed: %w", merge, store.ErrPrecondition)
		}
		oldUndo := int64(len(curUndo))
		t := micros(now())
		if etag, err = writeObject(ctx, tx, l, coll, survivor, oldSize, exists, t); err != nil {
			return err
		}
		if undo == nil {
			undo = []byte{} // the column is NOT NULL
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undo = ? WHERE id = ?`, undo, merge); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET reference_etag = ?
			WHERE collection = ? AND reference = ? AND undone IS NULL`, etag, coll, survivor.Name); err != nil {
			return err
		}
		if foldedName == "" {
			owner, err := collOwner(ctx, tx, coll)
			if err != nil {
				return err
			}
			l.usage[owner] += int64(len(undo)) - oldUndo
			return nil
		}
		seq, err := bump(ctx, tx, l, coll, t, 0, 0, int64(len(undo))-oldUndo)
		if err != nil {
			return err
		}
		return logChange(ctx, tx, coll, foldedName, seq, true, t)
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: fold %s into %d/%s: %w", foldedName, coll, survivor.Name, err)
	}
	return etag, nil
}

// normUIDs sorts and deduplicates uids.
func normUIDs(uids []string) []string {
	out := slices.Clone(uids)
	slices.Sort(out)
	return slices.Compact(out)
}

// HideGroup records the sorted set of uids; hiding the same set again is a
// no-op. A set needs two distinct non-empty UIDs.
func (s *Store) HideGroup(ctx context.Context, coll int64, uids []string) error {
	set := normUIDs(uids)
	if len(set) < 2 || set[0] == "" {
		return fmt.Errorf("sqlite: hide group in %d: need at least two non-empty UIDs, got %q", coll, uids)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("sqlite: hide group in %d: %w", coll, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO hidden_groups (collection, uids) VALUES (?, ?)
			ON CONFLICT (collection, uids) DO NOTHING`, coll, string(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: hide group in %d: %w", coll, err)
	}
	return nil
}

// HiddenGroups returns the hidden UID sets of coll, each sorted, in a
// stable order.
func (s *Store) HiddenGroups(ctx context.Context, coll int64) ([][]string, error) {
	var out [][]string
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := collExists(ctx, tx, coll); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT uids FROM hidden_groups WHERE collection = ? ORDER BY uids`, coll)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			var set []string
			if err := json.Unmarshal([]byte(s), &set); err != nil {
				return err
			}
			out = append(out, set)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: hidden groups of %d: %w", coll, err)
	}
	return out, nil
}

// UnhideGroup forgets the hidden set of uids (in any order, as HideGroup
// keeps it sorted); store.ErrNotFound when coll has no such set.
func (s *Store) UnhideGroup(ctx context.Context, coll int64, uids []string) error {
	b, err := json.Marshal(normUIDs(uids))
	if err != nil {
		return fmt.Errorf("sqlite: unhide group in %d: %w", coll, err)
	}
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM hidden_groups WHERE collection = ? AND uids = ?`, coll, string(b))
	if err == nil {
		err = affected(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: unhide group in %d: %w", coll, err)
	}
	return nil
}
