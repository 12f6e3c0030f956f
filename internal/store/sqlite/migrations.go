package sqlite

import (
	"context"
	"errors"

	"github.com/rolodav/rolodav/internal/store"
)

// Stubs until the driver's migration records are written.
var errTODO = errors.New("sqlite: migrations: not written yet")

func (s *Store) GetMigrationSource(ctx context.Context, owner, url string) (*store.MigrationSource, error) {
	return nil, errTODO
}
func (s *Store) PutMigrationSource(ctx context.Context, m *store.MigrationSource) error {
	return errTODO
}
func (s *Store) StartMigration(ctx context.Context, m *store.Migration) error  { return errTODO }
func (s *Store) UpdateMigration(ctx context.Context, m *store.Migration) error { return errTODO }
func (s *Store) GetMigration(ctx context.Context, owner string, id int64) (*store.Migration, error) {
	return nil, errTODO
}
func (s *Store) ListMigrations(ctx context.Context, owner string, limit int) ([]store.Migration, error) {
	return nil, errTODO
}
