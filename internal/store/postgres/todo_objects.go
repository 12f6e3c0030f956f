package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

var errTODO = errors.New("postgres: not implemented yet")

func (s *Store) ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time, withData bool, fn func(o *store.Object) error) error {
	return errTODO
}
