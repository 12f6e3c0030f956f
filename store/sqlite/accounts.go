package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/rolodav/rolodav/store"
)

// Placeholders until migration 0004 lands (being written).
var errTODO = errors.New("sqlite: accounts not implemented yet")

func (s *Store) SetRequireAppPasswords(ctx context.Context, login string, on bool) error {
	return errTODO
}
func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error { return errTODO }
func (s *Store) ListAppPasswords(ctx context.Context, owner string) ([]store.AppPassword, error) {
	return nil, errTODO
}
func (s *Store) FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error) {
	return nil, store.ErrNotFound
}
func (s *Store) DeleteAppPassword(ctx context.Context, owner string, id int64) error { return errTODO }
func (s *Store) CreateSession(ctx context.Context, x *store.Session) error             { return errTODO }
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	return nil, store.ErrNotFound
}
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	return errTODO
}
func (s *Store) DeleteSession(ctx context.Context, id string) error { return errTODO }
func (s *Store) RecordSignIn(ctx context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error {
	return nil
}
func (s *Store) ListSignIns(ctx context.Context, login string, limit int) ([]store.SignIn, error) {
	return nil, nil
}
