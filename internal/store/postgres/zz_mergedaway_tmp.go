package postgres

// TEMPORARY: a port of sqlite's merged-away check (internal/store/sqlite/
// merges.go), so that PutObject and MoveObject compile and are tested
// before merges.go lands; the lead deletes this file in favour of
// merges.go's at merge time.

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// maxMergeHops bounds how far MergedInto follows a survivor that was itself
// merged away later.
const maxMergeHops = 10

// mergedInto returns the survivor of name or uid in coll ("" when neither
// was merged away; "" matches nothing) and the merge that removed it,
// following later merges of the survivor; see sqlite's mergedInto.
func mergedInto(ctx context.Context, q querier, coll int64, name, uid string) (string, int64, error) {
	type record struct {
		survivor, survivorUID string
		merge                 int64
	}
	var newest *int64
	if err := q.QueryRow(ctx, anyMerged, coll, name, uid).Scan(&newest); err != nil || newest == nil {
		return "", 0, err
	}
	var found []record // at most one by name and one by UID
	rows, err := q.Query(ctx, newestOf, coll, name, uid)
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
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
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

// anyMerged tells whether a name or a UID has merged-away records.
const anyMerged = `SELECT MAX(merge_id) FROM (
		SELECT merge_id FROM merged_away WHERE collection = $1 AND name = $2
		UNION ALL SELECT merge_id FROM merged_away WHERE collection = $1 AND uid = $3) AS m`

// newestOf finds the newest merged-away record of a name and that of a UID.
const newestOf = `SELECT survivor, survivor_uid, merge_id FROM (
		SELECT survivor, survivor_uid, merge_id FROM merged_away
		WHERE collection = $1 AND name = $2 ORDER BY merge_id DESC LIMIT 1) AS by_name
	UNION ALL SELECT survivor, survivor_uid, merge_id FROM (
		SELECT survivor, survivor_uid, merge_id FROM merged_away
		WHERE collection = $1 AND uid = $3 ORDER BY merge_id DESC LIMIT 1) AS by_uid`

// newerByName finds the newest record of a name made after a merge.
const newerByName = `SELECT survivor, survivor_uid, merge_id FROM merged_away
	WHERE collection = $1 AND name = $2 AND merge_id > $3 ORDER BY merge_id DESC LIMIT 1`

// lastSurvivor follows survivor through the later merges that took it away
// in turn, and returns the last one if it is still there with the UID it
// had then; "" when it is gone.
func lastSurvivor(ctx context.Context, q querier, coll int64, survivor, survivorUID string, merge int64) (string, error) {
	for range maxMergeHops {
		var next, nextUID string
		var id int64
		err := q.QueryRow(ctx, newerByName, coll, survivor, merge).Scan(&next, &nextUID, &id)
		if errors.Is(err, pgx.ErrNoRows) {
			break
		}
		if err != nil {
			return "", err
		}
		survivor, survivorUID, merge = next, nextUID, id
	}
	var holds string
	err := q.QueryRow(ctx, `SELECT COALESCE(uid, '') FROM objects WHERE collection = $1 AND name = $2`,
		coll, survivor).Scan(&holds)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && holds != survivorUID {
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
func checkNotMergedAway(ctx context.Context, tx pgx.Tx, coll int64, name string, nameExists bool, uid string, newUID bool) error {
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
