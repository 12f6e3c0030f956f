package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Stubs of store.Secrets and store.Push until they are written (issue 15).

var errTODO = errors.New("sqlite: not implemented yet")

func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	return "", errTODO
}

func (s *Store) PushKey(ctx context.Context, gen func() (store.PushKey, error)) (store.PushKey, error) {
	return store.PushKey{}, errTODO
}

func (s *Store) RotatePushKey(ctx context.Context, next store.PushKey, now time.Time) error {
	return errTODO
}

func (s *Store) RegisterPush(ctx context.Context, r *store.PushRegistration) (bool, error) {
	return false, errTODO
}

func (s *Store) GetPushRegistration(ctx context.Context, login, token string) (*store.PushRegistration, error) {
	return nil, errTODO
}

func (s *Store) DeletePushRegistration(ctx context.Context, login, token string) error {
	return errTODO
}

func (s *Store) ListPushRegistrations(ctx context.Context, login string) ([]store.PushRegistration, error) {
	return nil, errTODO
}

func (s *Store) ClaimPushes(ctx context.Context, now time.Time, lease, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time, error) {
	return nil, time.Time{}, errTODO
}

func (s *Store) FinishPush(ctx context.Context, d *store.PushDelivery, sentAt time.Time) error {
	return errTODO
}

func (s *Store) RetryPush(ctx context.Context, d *store.PushDelivery, notBefore time.Time, lastErr string) error {
	return errTODO
}

func (s *Store) DropPush(ctx context.Context, d *store.PushDelivery, registration bool) error {
	return errTODO
}

func (s *Store) PrunePush(ctx context.Context, now time.Time) (int, error) {
	return 0, errTODO
}
