package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
)

// collCols are the columns scanCollection reads.
const collCols = `c.id, c.owner, c.kind, c.name, c.displayname, c.description, c.color, c.ord,
	c.components, c.timezone, c.created, c.modified, c.sync_seq, c.obj_count, c.obj_bytes`

// scanCollection scans collCols, then extra columns into extra.
func scanCollection(sc interface{ Scan(...any) error }, extra ...any) (*store.Collection, error) {
	var c store.Collection
	var kind, comps string
	var created, modified, ord int64
	err := sc.Scan(append([]any{&c.ID, &c.Owner, &kind, &c.Name, &c.DisplayName, &c.Description, &c.Color, &ord,
		&comps, &c.Timezone, &created, &modified, &c.SyncSeq, &c.Count, &c.Bytes}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.Order = int(ord)
	c.Kind = store.Kind(kind)
	if comps != "" {
		c.Components = strings.Split(comps, ",")
	}
	c.Created, c.Modified = fromMicros(created), fromMicros(modified)
	c.Props = map[string]string{}
	return &c, nil
}

// CreateCollection inserts c with its props and sets c.ID (and c.Created,
// c.Modified when zero), and queues a content update for its home's push
// registrations. The owner must exist.
func (s *Store) CreateCollection(ctx context.Context, c *store.Collection) error {
	if c.Kind != store.KindCard && c.Kind != store.KindCal {
		return fmt.Errorf("postgres: create collection %s: invalid kind %q", c.Name, c.Kind)
	}
	if c.Name == "" {
		return fmt.Errorf("postgres: create collection: empty name")
	}
	t := now()
	if c.Created.IsZero() {
		c.Created = t
	}
	if c.Modified.IsZero() {
		c.Modified = t
	}
	var id int64
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
		err := tx.QueryRow(ctx, `INSERT INTO collections
			(owner, kind, name, displayname, description, color, ord, components, timezone, created, modified)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (owner, kind, name) DO NOTHING RETURNING id`,
			c.Owner, string(c.Kind), c.Name, c.DisplayName, c.Description, c.Color, c.Order,
			strings.Join(c.Components, ","), c.Timezone, micros(c.Created), micros(c.Modified)).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrExists
		case foreignKeyViolation(err):
			return fmt.Errorf("owner %s: %w", c.Owner, store.ErrNotFound)
		case err != nil:
			return err
		}
		l.add(c.Owner, store.CollectionUsage(c))
		if err := insertProps(ctx, tx, id, c.Props); err != nil {
			return err
		}
		return l.push.queueHome(ctx, tx, c.Owner, c.Kind, 0)
	})
	if err != nil {
		return fmt.Errorf("postgres: create collection %s/%s/%s: %w", c.Owner, c.Kind, c.Name, err)
	}
	c.ID = id
	return nil
}

func insertProps(ctx context.Context, tx pgx.Tx, id int64, props map[string]string) error {
	for k, v := range props {
		if _, err := tx.Exec(ctx, `INSERT INTO collection_props (collection, name, value) VALUES ($1, $2, $3)`,
			id, k, v); err != nil {
			return err
		}
	}
	return nil
}

// querier is what a transaction and the pool have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// loadProps fills the Props of cs (all of whom must have a non-nil map) with
// one query selected by where/args over collection_props p joined to c.
func loadProps(ctx context.Context, q querier, cs []*store.Collection, where string, args ...any) error {
	byID := make(map[int64]*store.Collection, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	rows, err := q.Query(ctx, `SELECT p.collection, p.name, p.value
		FROM collection_props p JOIN collections c ON c.id = p.collection WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		if c := byID[id]; c != nil {
			c.Props[k] = v
		}
	}
	return rows.Err()
}

func getCollectionByID(ctx context.Context, q querier, id int64) (*store.Collection, error) {
	c, err := scanCollection(q.QueryRow(ctx, `SELECT `+collCols+` FROM collections c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := loadProps(ctx, q, []*store.Collection{c}, `c.id = $1`, id); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCollection reads the collection with its properties in one statement
// (one snapshot, one round trip: every DAV request starts with it).
func (s *Store) GetCollection(ctx context.Context, owner string, kind store.Kind, name string) (*store.Collection, error) {
	var props map[string]string
	c, err := scanCollection(s.pool.QueryRow(ctx, `SELECT `+collCols+`,
		(SELECT json_object_agg(p.name, p.value) FROM collection_props p WHERE p.collection = c.id)
		FROM collections c WHERE c.owner = $1 AND c.kind = $2 AND c.name = $3`, owner, string(kind), name), &props)
	err = notFound(err)
	if err != nil {
		return nil, fmt.Errorf("postgres: get collection %s/%s/%s: %w", owner, kind, name, err)
	}
	if props != nil {
		c.Props = props
	}
	return c, nil
}

// ListCollections returns owner's collections of kind ("" = every kind)
// ordered by name (then kind).
func (s *Store) ListCollections(ctx context.Context, owner string, kind store.Kind) ([]store.Collection, error) {
	where, args := `c.owner = $1`, []any{owner}
	if kind != "" {
		where, args = where+` AND c.kind = $2`, append(args, string(kind))
	}
	var ptrs []*store.Collection
	err := s.read(ctx, func(tx pgx.Tx) error {
		ptrs = nil
		rows, err := tx.Query(ctx, `SELECT `+collCols+` FROM collections c WHERE `+where+
			` ORDER BY c.name, c.kind`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCollection(rows)
			if err != nil {
				return err
			}
			ptrs = append(ptrs, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return loadProps(ctx, tx, ptrs, where, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list collections %s/%s: %w", owner, kind, err)
	}
	out := make([]store.Collection, len(ptrs))
	for i, c := range ptrs {
		out[i] = *c
	}
	return out, nil
}

// UpdateCollection lets fn change the mutable fields and saves them, props
// replaced as a whole, in one write transaction holding the collection's
// row lock. It does not advance SyncSeq: sync-collection reports members,
// not properties. When fn changed a field, it queues the property updates
// of the collection's push registrations and the content updates of its
// home's.
func (s *Store) UpdateCollection(ctx context.Context, id int64, fn func(c *store.Collection) error) error {
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
		if _, err := lockCollection(ctx, tx, id); err != nil {
			return err
		}
		c, err := getCollectionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		owner, name, kind := c.Owner, c.Name, c.Kind
		before := store.CollectionUsage(c)
		was := mutable(c)
		if err := fn(c); err != nil {
			return err
		}
		c.Name = name // not mutable: what is saved keeps it
		l.add(owner, store.CollectionUsage(c)-before)
		if _, err := tx.Exec(ctx, `UPDATE collections SET displayname = $1, description = $2, color = $3,
			ord = $4, components = $5, timezone = $6, modified = $7 WHERE id = $8`,
			c.DisplayName, c.Description, c.Color, c.Order, strings.Join(c.Components, ","), c.Timezone,
			micros(now()), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM collection_props WHERE collection = $1`, id); err != nil {
			return err
		}
		if err := insertProps(ctx, tx, id, c.Props); err != nil {
			return err
		}
		if was.equal(mutable(c)) {
			return nil // no change to notify of
		}
		return l.push.queueHome(ctx, tx, owner, kind, id)
	})
	if err != nil {
		return fmt.Errorf("postgres: update collection %d: %w", id, err)
	}
	return nil
}

// collProps are the mutable fields of a collection (see UpdateCollection),
// copied: what a push property update is about.
type collProps struct {
	displayName, description, color, timezone string
	order                                     int
	components                                []string
	props                                     map[string]string
}

func mutable(c *store.Collection) collProps {
	return collProps{c.DisplayName, c.Description, c.Color, c.Timezone, c.Order,
		slices.Clone(c.Components), maps.Clone(c.Props)}
}

// equal compares as saved: nil and empty are the same.
func (p collProps) equal(q collProps) bool {
	return p.displayName == q.displayName && p.description == q.description && p.color == q.color &&
		p.timezone == q.timezone && p.order == q.order && slices.Equal(p.components, q.components) &&
		maps.Equal(p.props, q.props)
}

// DeleteCollection removes the collection; its props, objects, changes,
// merge records and the push registrations not told of the deletion
// (queueGone) go by cascade, and its home's push registrations get a
// content update. Its owner's usage drops by the collection's, its
// objects' and its merge records'.
func (s *Store) DeleteCollection(ctx context.Context, id int64) error {
	err := s.writeCounted(ctx, func(tx pgx.Tx, l *ledger) error {
		if _, err := lockCollection(ctx, tx, id); err != nil {
			return err
		}
		c, err := getCollectionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		var names int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(octet_length(name)), 0)
			FROM objects WHERE collection = $1`, id).Scan(&names); err != nil {
			return err
		}
		merges, err := mergesUsage(ctx, tx, id)
		if err != nil {
			return err
		}
		l.add(c.Owner, -(store.CollectionUsage(c) + c.Bytes + names + c.Count*store.ObjectOverhead + merges))
		if err := l.push.queueGone(ctx, tx, id); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `DELETE FROM collections WHERE id = $1`, id); err != nil {
			return err
		}
		return l.push.queueHome(ctx, tx, c.Owner, c.Kind, 0)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete collection %d: %w", id, err)
	}
	return nil
}

// mergesUsage is what the merge records of coll count (store.MergeUsage
// summed), read without their undo data.
func mergesUsage(ctx context.Context, tx pgx.Tx, coll int64) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT reference, removed, grps, octet_length(undo)
		FROM merges WHERE collection = $1`, coll)
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
