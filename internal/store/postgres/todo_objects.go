package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

var errTODO = errors.New("postgres: not implemented yet")

func (s *Store) GetObject(ctx context.Context, coll int64, name string) (*store.Object, error) {
	return nil, errTODO
}

func (s *Store) GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]store.Object, error) {
	return nil, errTODO
}

func (s *Store) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	return errTODO
}

func (s *Store) ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time, withData bool, fn func(o *store.Object) error) error {
	return errTODO
}

func (s *Store) PutObject(ctx context.Context, o *store.Object, cond store.Conditions) (bool, string, error) {
	return false, "", errTODO
}

func (s *Store) DeleteObject(ctx context.Context, coll int64, name string, cond store.Conditions) error {
	return errTODO
}

func (s *Store) MoveObject(ctx context.Context, from int64, name string, to int64, newName string, overwrite bool, cond store.Conditions) (bool, error) {
	return false, errTODO
}

func (s *Store) ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool, fn func(c *store.Change) error) (int64, bool, error) {
	return 0, false, errTODO
}
