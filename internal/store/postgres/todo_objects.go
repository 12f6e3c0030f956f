package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

var errTODO = errors.New("postgres: not implemented yet")

func (s *Store) GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]store.Object, error) {
	return nil, errTODO
}

func (s *Store) ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *store.Object) error) error {
	return errTODO
}

func (s *Store) ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time, withData bool, fn func(o *store.Object) error) error {
	return errTODO
}

func (s *Store) MoveObject(ctx context.Context, from int64, name string, to int64, newName string, overwrite bool, cond store.Conditions) (bool, error) {
	return false, errTODO
}
