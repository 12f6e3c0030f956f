package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rolodav/rolodav/internal/store"
)

// collCols are the columns scanCollection reads.
const collCols = `c.id, c.owner, c.kind, c.name, c.displayname, c.description, c.color, c.ord,
	c.components, c.timezone, c.created, c.modified, c.sync_seq, c.obj_count, c.obj_bytes`

func scanCollection(sc interface{ Scan(...any) error }) (*store.Collection, error) {
	var c store.Collection
	var kind, comps string
	var created, modified int64
	err := sc.Scan(&c.ID, &c.Owner, &kind, &c.Name, &c.DisplayName, &c.Description, &c.Color, &c.Order,
		&comps, &c.Timezone, &created, &modified, &c.SyncSeq, &c.Count, &c.Bytes)
	if err != nil {
		return nil, err
	}
	c.Kind = store.Kind(kind)
	if comps != "" {
		c.Components = strings.Split(comps, ",")
	}
	c.Created, c.Modified = fromMicros(created), fromMicros(modified)
	c.Props = map[string]string{}
	return &c, nil
}

// CreateCollection inserts c with its props and sets c.ID (and c.Created,
// c.Modified when zero). The owner must exist.
func (s *Store) CreateCollection(ctx context.Context, c *store.Collection) error {
	if c.Kind != store.KindCard && c.Kind != store.KindCal {
		return fmt.Errorf("sqlite: create collection %s: invalid kind %q", c.Name, c.Kind)
	}
	if c.Name == "" {
		return fmt.Errorf("sqlite: create collection: empty name")
	}
	t := now()
	if c.Created.IsZero() {
		c.Created = t
	}
	if c.Modified.IsZero() {
		c.Modified = t
	}
	var id int64
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE login = ?`, c.Owner).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("owner %s: %w", c.Owner, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO collections
			(owner, kind, name, displayname, description, color, ord, components, timezone, created, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (owner, kind, name) DO NOTHING RETURNING id`,
			c.Owner, string(c.Kind), c.Name, c.DisplayName, c.Description, c.Color, c.Order,
			strings.Join(c.Components, ","), c.Timezone, micros(c.Created), micros(c.Modified)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrExists
		}
		if err != nil {
			return err
		}
		l.usage[c.Owner] += store.CollectionUsage(c)
		l.homeChanged(c.Owner, c.Kind)
		return insertProps(ctx, tx, id, c.Props)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create collection %s/%s/%s: %w", c.Owner, c.Kind, c.Name, err)
	}
	c.ID = id
	return nil
}

func insertProps(ctx context.Context, tx *sql.Tx, id int64, props map[string]string) error {
	for k, v := range props {
		if _, err := tx.ExecContext(ctx, `INSERT INTO collection_props (collection, name, value) VALUES (?, ?, ?)`,
			id, k, v); err != nil {
			return err
		}
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadProps fills the Props of cs (all of whom must have a non-nil map) with
// one query selected by where/args over collection_props p joined to c.
func loadProps(ctx context.Context, q querier, cs []*store.Collection, where string, args ...any) error {
	byID := make(map[int64]*store.Collection, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	rows, err := q.QueryContext(ctx, `SELECT p.collection, p.name, p.value
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
	c, err := scanCollection(q.QueryRowContext(ctx, `SELECT `+collCols+` FROM collections c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := loadProps(ctx, q, []*store.Collection{c}, `c.id = ?`, id); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Store) GetCollection(ctx context.Context, owner string, kind store.Kind, name string) (*store.Collection, error) {
	var c *store.Collection
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCollection(tx.QueryRowContext(ctx, `SELECT `+collCols+` FROM collections c
			WHERE c.owner = ? AND c.kind = ? AND c.name = ?`, owner, string(kind), name))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return loadProps(ctx, tx, []*store.Collection{c}, `c.id = ?`, c.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: get collection %s/%s/%s: %w", owner, kind, name, err)
	}
	return c, nil
}

// ListCollections returns owner's collections of kind ("" = every kind)
// ordered by name (then kind).
func (s *Store) ListCollections(ctx context.Context, owner string, kind store.Kind) ([]store.Collection, error) {
	where, args := `c.owner = ?`, []any{owner}
	if kind != "" {
		where, args = where+` AND c.kind = ?`, append(args, string(kind))
	}
	var ptrs []*store.Collection
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+collCols+` FROM collections c WHERE `+where+
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
		return nil, fmt.Errorf("sqlite: list collections %s/%s: %w", owner, kind, err)
	}
	out := make([]store.Collection, len(ptrs))
	for i, c := range ptrs {
		out[i] = *c
	}
	return out, nil
}

// UpdateCollection lets fn change the mutable fields and saves them, props
// replaced as a whole, in one write transaction. It does not advance
// SyncSeq: sync-collection reports members, not properties. Push messages
// are queued only when fn changed a field: an update that changes nothing
// is no change of properties. fn runs while the store's only write
// connection is held: it must not write to the store.
func (s *Store) UpdateCollection(ctx context.Context, id int64, fn func(c *store.Collection) error) error {
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		c, err := getCollectionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		owner, kind, name := c.Owner, c.Kind, c.Name
		before := store.CollectionUsage(c)
		was := mutable(c)
		if err := fn(c); err != nil {
			return err
		}
		c.Name = name // not mutable: what is saved keeps it
		l.usage[owner] += store.CollectionUsage(c) - before
		if !was.equal(mutable(c)) {
			l.propertiesChanged(id, owner, kind)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET displayname = ?, description = ?, color = ?,
			ord = ?, components = ?, timezone = ?, modified = ? WHERE id = ?`,
			c.DisplayName, c.Description, c.Color, c.Order, strings.Join(c.Components, ","), c.Timezone,
			micros(now()), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM collection_props WHERE collection = ?`, id); err != nil {
			return err
		}
		return insertProps(ctx, tx, id, c.Props)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update collection %d: %w", id, err)
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
// (queueGone; with their messages) go by cascade. Its owner's usage drops
// by the collection's, its objects' (store.ObjectUsage summed: sizes,
// names, overheads) and its merge records' (store.MergeUsage summed). Its
// owner's home gets a push message.
func (s *Store) DeleteCollection(ctx context.Context, id int64) error {
	err := s.writeCounted(ctx, func(tx *sql.Tx, l *ledger) error {
		c, err := getCollectionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		var names int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(LENGTH(CAST(name AS BLOB))), 0)
			FROM objects WHERE collection = ?`, id).Scan(&names); err != nil {
			return err
		}
		merges, err := mergesUsage(ctx, tx, id)
		if err != nil {
			return err
		}
		l.usage[c.Owner] -= store.CollectionUsage(c) + c.Bytes + names + c.Count*store.ObjectOverhead + merges
		l.homeChanged(c.Owner, c.Kind)
		if l.told, err = s.queueGone(ctx, tx, id, store.PushHintsFrom(ctx)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete collection %d: %w", id, err)
	}
	return nil
}
